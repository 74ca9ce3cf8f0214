//! Roles, schemas, and the grants and `/rpc/` functions a tenant gets.

use super::*;

/// The SQL of a tenant step; [`super::render`] sends each step to its module.
pub(super) fn render(step: &Step) -> String {
    match step {
        Step::CreateRole { role, owner: true } => format!(
            "CREATE ROLE {} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS",
            quote_ident(role)
        ),
        Step::CreateRole { role, owner: false } => format!(
            "CREATE ROLE {} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
            quote_ident(role)
        ),
        Step::CreateSchema { schema } => {
            format!("CREATE SCHEMA {} AUTHORIZATION {}", quote_ident(schema), quote_ident(&owner_role()))
        }
        Step::GrantSchemaUsage { schema, roles } => format!(
            "GRANT USAGE ON SCHEMA {} TO {}",
            quote_ident(schema),
            roles.iter().map(quote_ident).collect::<Vec<_>>().join(", ")
        ),
        Step::GrantRoles { roles, to } => format!("GRANT {} TO {}", list(roles), quote_ident(to)),
        Step::GrantPreConfig { to } => {
            format!("GRANT EXECUTE ON FUNCTION cot.pre_config() TO {}", quote_ident(to))
        }
        Step::SetLoginGenericPlans { role, on: true } => {
            format!("ALTER ROLE {} SET plan_cache_mode = force_generic_plan", quote_ident(role))
        }
        Step::SetLoginGenericPlans { role, on: false } => {
            format!("ALTER ROLE {} RESET plan_cache_mode", quote_ident(role))
        }
        Step::GrantDefinitionFunctions { to } => format!(
            "GRANT EXECUTE ON FUNCTION {} TO {}",
            crate::rpc::COT_FUNCTIONS.join(", "),
            quote_ident(to)
        ),
        Step::GrantDocumentFunctions { roles } => format!(
            "GRANT EXECUTE ON FUNCTION cot.record_schema(text, text), cot.openapi(text, jsonb), cot.typescript(text) TO {}",
            list(roles)
        ),
        Step::CreateRpcFunction { schema, tenant, function } => format!(
            "CREATE FUNCTION {}({}) RETURNS {} LANGUAGE sql {}SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS {}",
            quote_qualified(schema, &crate::names::fixed(function.name())),
            function.params(),
            function.returns(),
            if function.stable() { "STABLE " } else { "" },
            quote_literal(&function.body().replace("$tenant", &quote_literal(tenant.as_str())))
        ),
        Step::SetRpcFunctionOwner { schema, function } => {
            format!("ALTER FUNCTION {} OWNER TO {}", rpc_signature(schema, *function), quote_ident(&owner_role()))
        }
        Step::RevokeRpcFunction { schema, function } => {
            format!("REVOKE ALL ON FUNCTION {} FROM PUBLIC", rpc_signature(schema, *function))
        }
        Step::GrantRpcFunction { schema, function, to } => format!(
            "GRANT EXECUTE ON FUNCTION {} TO {}",
            rpc_signature(schema, *function),
            quote_ident(to)
        ),
        Step::DropRpcFunction { schema, function } => {
            format!("DROP FUNCTION {}", rpc_signature(schema, *function))
        }
        Step::DropOwned { roles } => format!("DROP OWNED BY {}", list(roles)),
        Step::DropSchema { schema, cascade } => {
            format!("DROP SCHEMA {}{}", quote_ident(schema), if *cascade { " CASCADE" } else { "" })
        }
        Step::DropRole { role } => format!("DROP ROLE {}", quote_ident(role)),
        other => unreachable!("not a tenant step: {other:?}"),
    }
}

pub(super) fn rpc_signature(schema: &Ident, f: crate::rpc::Rpc) -> String {
    format!(
        "{}({})",
        quote_qualified(schema, &crate::names::fixed(f.name())),
        f.arg_types()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tokens_only_login_role_gets_generic_plans_and_gives_them_back() {
        let role = Ident::from_catalog("authenticator_b").unwrap();
        assert_eq!(
            render(&Step::SetLoginGenericPlans {
                role: role.clone(),
                on: true
            }),
            r#"ALTER ROLE "authenticator_b" SET plan_cache_mode = force_generic_plan"#
        );
        assert_eq!(
            render(&Step::SetLoginGenericPlans { role, on: false }),
            r#"ALTER ROLE "authenticator_b" RESET plan_cache_mode"#
        );
    }
}
