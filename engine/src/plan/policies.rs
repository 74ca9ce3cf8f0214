//! The row-level-security policies and grants that enforce an entity's access
//! rules ([`crate::access`]) inside the database. Every generated table gets
//! ENABLE and FORCE ROW LEVEL SECURITY, one policy per command and role group,
//! `TO` the tenant's roles, each starting with the tenant check, so a JWT for
//! another tenant sees and writes nothing even if a grant were wrong. Grants are
//! only SELECT, INSERT, UPDATE and DELETE, and only as the rules allow.

use super::{RelKind, Step};
use crate::access::{Access, Command, Owner, Predicate, Rule};
use crate::names::{fixed, Ident, TenantNames};
use crate::types::Entity;

/// Row-level security and grants for an entity's table and view.
pub fn access_steps(e: &Entity) -> Vec<Step> {
    steps(&e.tenant, &e.name, e.access, &Owner::Row)
}

/// The steps that turn an entity's (or junction's) rules into row-level
/// security and grants, on its table and its view. `owner` says where an
/// `owner` rule finds the row's owner.
pub fn steps(tenant: &Ident, table: &Ident, access: Access, owner: &Owner) -> Vec<Step> {
    let t = TenantNames::new(tenant);
    let mut steps = vec![Step::EnableRls {
        schema: t.storage_schema.clone(),
        table: table.clone(),
    }];
    let tenant_check = Predicate::Tenant(tenant.clone());
    let mut grants: Vec<(Command, Vec<Ident>)> = Vec::new();
    for (command, rule) in access.commands() {
        let groups: Vec<(&str, Vec<Ident>, Predicate)> = match rule {
            Rule::None => vec![],
            Rule::Public => vec![("", t.roles().into_iter().cloned().collect(), tenant_check.clone())],
            Rule::Tenant => vec![(
                "",
                vec![t.user_role.clone(), t.admin_role.clone()],
                tenant_check.clone(),
            )],
            Rule::Admin => vec![("", vec![t.admin_role.clone()], tenant_check.clone())],
            Rule::Owner => vec![
                (
                    "_owner",
                    vec![t.user_role.clone()],
                    owner_predicate(tenant, table, owner),
                ),
                ("_admin", vec![t.admin_role.clone()], tenant_check.clone()),
            ],
        };
        let mut roles = Vec::new();
        for (suffix, group_roles, predicate) in groups {
            let using = matches!(command, Command::Select | Command::Update | Command::Delete)
                .then(|| predicate.clone());
            let check = matches!(command, Command::Insert | Command::Update).then_some(predicate);
            steps.push(Step::CreatePolicy {
                schema: t.storage_schema.clone(),
                table: table.clone(),
                name: fixed_policy_name(command, suffix),
                command,
                roles: group_roles.clone(),
                using,
                check,
            });
            roles.extend(group_roles);
        }
        if !roles.is_empty() {
            grants.push((command, roles));
        }
    }
    // The view runs with the caller's rights (security_invoker), so the caller
    // needs the privilege on both the view and the table.
    for (command, roles) in grants {
        for (kind, schema) in [
            (RelKind::Table, &t.storage_schema),
            (RelKind::View, &t.api_schema),
        ] {
            steps.push(Step::Grant {
                command,
                kind,
                schema: schema.clone(),
                name: table.clone(),
                roles: roles.clone(),
            });
        }
    }
    steps
}

/// The condition of a user's `owner` rule on `table`.
fn owner_predicate(tenant: &Ident, table: &Ident, owner: &Owner) -> Predicate {
    match owner {
        Owner::Row => Predicate::TenantAndOwner(tenant.clone()),
        Owner::Parent { parent, column } => Predicate::TenantAndParentOwner {
            tenant: tenant.clone(),
            table: table.clone(),
            parent: parent.clone(),
            column: column.clone(),
        },
    }
}

/// The grants of an entity's view alone, for when the view is made again.
/// Grants do not depend on where the owner is found.
pub fn view_grants(tenant: &Ident, table: &Ident, access: Access) -> Vec<Step> {
    steps(tenant, table, access, &Owner::Row)
        .into_iter()
        .filter(|s| {
            matches!(
                s,
                Step::Grant {
                    kind: RelKind::View,
                    ..
                }
            )
        })
        .collect()
}

fn fixed_policy_name(command: Command, suffix: &str) -> Ident {
    // Policy names are per table, so fixed names cannot collide.
    match (command.word(), suffix) {
        ("select", "") => fixed("cot_select"),
        ("select", "_owner") => fixed("cot_select_owner"),
        ("select", _) => fixed("cot_select_admin"),
        ("insert", "") => fixed("cot_insert"),
        ("insert", "_owner") => fixed("cot_insert_owner"),
        ("insert", _) => fixed("cot_insert_admin"),
        ("update", "") => fixed("cot_update"),
        ("update", "_owner") => fixed("cot_update_owner"),
        ("update", _) => fixed("cot_update_admin"),
        ("delete", "") => fixed("cot_delete"),
        ("delete", "_owner") => fixed("cot_delete_owner"),
        (_, _) => fixed("cot_delete_admin"),
    }
}
