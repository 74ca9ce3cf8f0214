//! The steps that create and drop a tenant: roles, schemas, grants of Cot's
//! functions, the `/rpc/` wrappers.

use super::{CommentTarget, Step};
use crate::names::{owner_role, Ident, TenantNames};

/// The steps that create a tenant. `create_owner` when the owner role does not
/// exist yet in this cluster.
/// `authenticators` are the login roles registered with
/// `cot.add_authenticator`: each becomes a member of the new tenant's roles.
pub fn create_tenant(
    t: &TenantNames,
    display_name: &str,
    create_owner: bool,
    authenticators: &[Ident],
) -> Vec<Step> {
    let mut steps = Vec::new();
    if create_owner {
        steps.push(Step::CreateRole {
            role: owner_role(),
            owner: true,
        });
    }
    for role in t.roles() {
        steps.push(Step::CreateRole {
            role: role.clone(),
            owner: false,
        });
    }
    steps.push(Step::CreateSchema {
        schema: t.storage_schema.clone(),
    });
    steps.push(Step::CreateSchema {
        schema: t.api_schema.clone(),
    });
    steps.push(Step::GrantSchemaUsage {
        schema: t.api_schema.clone(),
        roles: t.roles().into_iter().cloned().collect(),
    });
    steps.push(Step::GrantDefinitionFunctions {
        to: t.admin_role.clone(),
    });
    steps.push(Step::GrantDocumentFunctions {
        roles: vec![t.admin_role.clone(), t.user_role.clone()],
    });
    steps.extend(rpc_steps(t));
    for login in authenticators {
        steps.push(Step::GrantRoles {
            roles: t.roles().into_iter().cloned().collect(),
            to: login.clone(),
        });
    }
    steps.push(Step::Comment {
        target: CommentTarget::Schema(t.api_schema.clone()),
        text: format!("{display_name}: REST API (Cot tenant {})", t.slug),
    });
    steps.push(Step::Comment {
        target: CommentTarget::Schema(t.storage_schema.clone()),
        text: format!(
            "{display_name}: tables (Cot tenant {}); not exposed over HTTP",
            t.slug
        ),
    });
    steps
}

/// The tenant's `/rpc/` functions: created, owned by the owner role,
/// executable by the tenant's admin role alone, or (`query`) by its three.
fn rpc_steps(t: &TenantNames) -> Vec<Step> {
    let schema = &t.api_schema;
    crate::rpc::ALL
        .iter()
        .flat_map(|&function| {
            let to: Vec<Ident> = if function.for_every_role() {
                t.roles().into_iter().cloned().collect()
            } else {
                vec![t.admin_role.clone()]
            };
            [
                Step::CreateRpcFunction {
                    schema: schema.clone(),
                    tenant: t.slug.clone(),
                    function,
                },
                Step::SetRpcFunctionOwner {
                    schema: schema.clone(),
                    function,
                },
                Step::RevokeRpcFunction {
                    schema: schema.clone(),
                    function,
                },
            ]
            .into_iter()
            .chain(to.into_iter().map(move |to| Step::GrantRpcFunction {
                schema: schema.clone(),
                function,
                to,
            }))
        })
        .collect()
}

/// The steps that drop a tenant: its `/rpc/` functions (so an empty API schema
/// drops without CASCADE), its schemas, then its roles.
pub fn drop_tenant(t: &TenantNames, cascade: bool) -> Vec<Step> {
    let mut steps: Vec<Step> = crate::rpc::ALL
        .iter()
        .map(|&function| Step::DropRpcFunction {
            schema: t.api_schema.clone(),
            function,
        })
        .collect();
    steps.extend([
        Step::DropSchema {
            schema: t.api_schema.clone(),
            cascade,
        },
        // The change log is the tenant's, not an entity's: it goes with it.
        Step::DropChangeLog {
            schema: t.storage_schema.clone(),
        },
        Step::DropSchema {
            schema: t.storage_schema.clone(),
            cascade,
        },
    ]);
    steps.push(Step::DropOwned {
        roles: t.roles().into_iter().cloned().collect(),
    });
    for role in t.roles().into_iter().rev() {
        steps.push(Step::DropRole { role: role.clone() });
    }
    steps
}
