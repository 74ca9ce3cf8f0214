//! Row-level security, policies and grants. A policy's predicate is written here and, beside it, the text PostgreSQL prints back for it, which `cot.check` compares with the catalog.

use super::printed::printed_ident;
use super::*;
use crate::access::Predicate;
use crate::names::OWNER_COLUMN;

/// The SQL of a policy step; [`super::render`] sends each step to its module.
pub(super) fn render(step: &Step) -> String {
    match step {
        Step::EnableRls { schema, table } => format!(
            "ALTER TABLE {} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY",
            quote_qualified(schema, table)
        ),
        Step::CreatePolicy {
            schema,
            table,
            name,
            command,
            roles,
            using,
            check,
        } => {
            let mut sql = format!(
                "CREATE POLICY {} ON {} AS PERMISSIVE FOR {} TO {}",
                quote_ident(name),
                quote_qualified(schema, table),
                command.sql(),
                list(roles)
            );
            if let Some(p) = using {
                sql.push_str(&format!(" USING ({})", predicate(p)));
            }
            if let Some(p) = check {
                sql.push_str(&format!(" WITH CHECK ({})", predicate(p)));
            }
            sql
        }
        Step::Grant {
            command,
            kind: _,
            schema,
            name,
            roles,
        } => format!(
            // GRANT ... ON TABLE covers views too.
            "GRANT {} ON TABLE {} TO {}",
            command.sql(),
            quote_qualified(schema, name),
            list(roles)
        ),
        Step::DropPolicy { schema, table, name } => {
            format!(
                "DROP POLICY {} ON {}",
                quote_ident(name),
                quote_qualified(schema, table)
            )
        }
        Step::Revoke {
            command,
            kind: _,
            schema,
            name,
            roles,
        } => format!(
            "REVOKE {} ON TABLE {} FROM {}",
            command.sql(),
            quote_qualified(schema, name),
            list(roles)
        ),
        Step::RevokeAll { schema, name, roles } => format!(
            "REVOKE ALL ON TABLE {} FROM PUBLIC, {}",
            quote_qualified(schema, name),
            list(roles)
        ),
        other => unreachable!("not a policy step: {other:?}"),
    }
}

/// A policy condition. The claim is read once per statement: `(SELECT ...)`
/// makes it an InitPlan instead of a call per row (360 ms against 0.5 ms on 1M
/// rows, measured on PostgreSQL 15).
pub(super) fn predicate(p: &Predicate) -> String {
    // The whole comparison sits in the InitPlan: `(SELECT claim) = 'slug'` is
    // estimated to keep 0.5% of the rows (the default for an unknown equality),
    // which made the planner trade an index scan for a bitmap scan and a sort
    // (3.5 ms against 0.15 ms on 50,000 rows, bench/rls_reads.sh); a boolean
    // InitPlan is estimated at 50%. Every row of a tenant table is the tenant's,
    // so the truth is all or nothing.
    let tenant = |slug: &Ident| format!("(SELECT cot.claim_tenant() = {})", quote_literal(slug.as_str()));
    match p {
        Predicate::Tenant(slug) => tenant(slug),
        Predicate::TenantAndOwner(slug) => format!(
            "{} AND {} = (SELECT cot.claim_sub())",
            tenant(slug),
            quote_ident(&crate::names::fixed(OWNER_COLUMN))
        ),
        // The parent is named by its own table name, never by an alias: names
        // are lower case, so no junction can be called like a quoted alias,
        // and a junction never has its parent's name.
        Predicate::TenantAndParentOwner {
            tenant: slug,
            table,
            parent,
            column,
        } => {
            let (p, t) = (quote_ident(parent), quote_ident(table));
            format!(
                "{} AND EXISTS (SELECT FROM {} WHERE {p}.\"id\" = {t}.{} AND {p}.{} = (SELECT cot.claim_sub()))",
                tenant(slug),
                quote_qualified(&crate::names::TenantNames::new(slug).storage_schema, parent),
                quote_ident(column),
                quote_ident(&crate::names::fixed(OWNER_COLUMN))
            )
        }
    }
}

/// A predicate as PostgreSQL 15 prints it back (`pg_get_expr`), from the
/// text [`predicate`] writes: a policy whose expression was edited by hand no
/// longer prints so. 95_drift.sql checks that Cot's own policies do.
pub fn printed_predicate(p: &Predicate) -> String {
    let tenant = |slug: &Ident| format!("( SELECT (cot.claim_tenant() = '{slug}'::text))");
    match p {
        Predicate::Tenant(slug) => tenant(slug),
        Predicate::TenantAndOwner(slug) => format!(
            "({} AND ({} = ( SELECT cot.claim_sub() AS claim_sub)))",
            tenant(slug),
            crate::names::OWNER_COLUMN
        ),
        Predicate::TenantAndParentOwner {
            tenant: slug,
            table,
            parent,
            column,
        } => {
            let (p, t) = (printed_ident(parent.as_str()), printed_ident(table.as_str()));
            format!(
                "({} AND (EXISTS ( SELECT\n   FROM {}.{p}\n  WHERE (({p}.id = {t}.{}) AND ({p}.{} = ( SELECT cot.claim_sub() AS claim_sub))))))",
                tenant(slug),
                printed_ident(crate::names::TenantNames::new(slug).storage_schema.as_str()),
                printed_ident(column.as_str()),
                crate::names::OWNER_COLUMN
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::fixed;

    /// The two forms of each predicate, side by side: a change to what Cot
    /// writes must change what it expects PostgreSQL to print, or `cot.check`
    /// reports every policy as drifted (95_drift.sql checks the printed form
    /// against a real server).
    #[test]
    fn each_predicate_and_its_printed_form() {
        let slug = fixed("acme");
        let pairs = [
            (
                Predicate::Tenant(slug.clone()),
                "(SELECT cot.claim_tenant() = 'acme')",
                "( SELECT (cot.claim_tenant() = 'acme'::text))",
            ),
            (
                Predicate::TenantAndOwner(slug),
                "(SELECT cot.claim_tenant() = 'acme') AND \"owner_id\" = (SELECT cot.claim_sub())",
                "(( SELECT (cot.claim_tenant() = 'acme'::text)) AND (owner_id = ( SELECT cot.claim_sub() AS claim_sub)))",
            ),
        ];
        let junction = Predicate::TenantAndParentOwner {
            tenant: fixed("acme"),
            table: fixed("user_tags"),
            parent: fixed("user"),
            column: fixed("user_id"),
        };
        let junction_written = "(SELECT cot.claim_tenant() = 'acme') AND EXISTS (SELECT FROM \"tenant_acme\".\"user\" \
            WHERE \"user\".\"id\" = \"user_tags\".\"user_id\" AND \"user\".\"owner_id\" = (SELECT cot.claim_sub()))";
        // As PostgreSQL 15 printed it for this policy (a keyword is quoted).
        let junction_printed = "(( SELECT (cot.claim_tenant() = 'acme'::text)) AND (EXISTS ( SELECT\n   \
            FROM tenant_acme.\"user\"\n  WHERE ((\"user\".id = user_tags.user_id) AND \
            (\"user\".owner_id = ( SELECT cot.claim_sub() AS claim_sub))))))";
        let pairs = pairs
            .into_iter()
            .chain([(junction, junction_written, junction_printed)]);
        for (p, written, printed) in pairs {
            assert_eq!(predicate(&p), written);
            assert_eq!(printed_predicate(&p), printed);
        }
    }
}
