//! The change log of a tenant (docs/changes.md): its table, the function that
//! writes it, and the statement-level triggers that call the function.
//!
//! The function is rendered per tenant (`tenant_<slug>._log_changes()`) so
//! that its `INSERT`s name the tenant's log statically: PL/pgSQL keeps their
//! plans for the session, where one shared function would have to build each
//! statement with `EXECUTE` and plan it on every write (0.52× of a plain
//! single-row insert against 0.71× static, bench/history.sh). The entity's
//! name and the column holding the record's id come from the trigger's
//! arguments, so one function serves every table of the tenant.

use super::*;
use crate::access::Command;
use crate::names::fixed;
use crate::plan::history::{CHANGE_LOG, LOG_FUNCTION};

/// The SQL of a change-log step; [`super::render`] sends each here.
pub(super) fn render(step: &Step) -> String {
    match step {
        Step::CreateChangeLog { schema } => create(schema),
        Step::DropChangeLog { schema } => format!(
            // CASCADE: a tenant being dropped with CASCADE still has its
            // tables' triggers on the function; without CASCADE the schema
            // drop after this one refuses what is left anyway.
            "DROP TABLE IF EXISTS {}; DROP FUNCTION IF EXISTS {}() CASCADE",
            quote_qualified(schema, &fixed(CHANGE_LOG)),
            quote_qualified(schema, &fixed(LOG_FUNCTION))
        ),
        Step::CreateHistoryTrigger {
            schema,
            table,
            entity,
            record_column,
            command,
        } => {
            let transition = match command {
                Command::Insert => "NEW TABLE AS \"cot_new\"",
                Command::Update => "OLD TABLE AS \"cot_old\" NEW TABLE AS \"cot_new\"",
                _ => "OLD TABLE AS \"cot_old\"",
            };
            format!(
                "CREATE TRIGGER {} AFTER {} ON {} REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {}({}, {})",
                quote_ident(&crate::plan::history::trigger_name(*command)),
                command.sql(),
                quote_qualified(schema, table),
                quote_qualified(schema, &fixed(LOG_FUNCTION)),
                quote_literal(entity.as_str()),
                quote_literal(record_column.as_str())
            )
        }
        _ => unreachable!("not a change-log step: {step:?}"),
    }
}

/// The log table and its index by record, and the tenant's log function, made
/// if missing (the function is replaced, so a tenant made by an older Cot gets
/// the current one).
fn create(schema: &Ident) -> String {
    let log = quote_qualified(schema, &fixed(CHANGE_LOG));
    let function = quote_qualified(schema, &fixed(LOG_FUNCTION));
    // The tenant's slug, which consumers are woken with: the storage schema is
    // `tenant_<slug>`.
    let slug = schema.as_str().strip_prefix("tenant_").unwrap_or(schema.as_str());
    format!(
        "CREATE TABLE IF NOT EXISTS {log} (\"id\" bigint PRIMARY KEY DEFAULT nextval('cot.change_seq'), \
         \"xid\" xid8 NOT NULL DEFAULT pg_current_xact_id(), \"at\" timestamptz NOT NULL DEFAULT statement_timestamp(), \
         \"entity\" text NOT NULL, \"record_id\" uuid, \
         \"op\" text NOT NULL CHECK (\"op\" IN ('insert', 'update', 'delete', 'transition')), \
         \"old\" jsonb, \"new\" jsonb, \"actor\" jsonb NOT NULL, \"transition\" jsonb); \
         CREATE INDEX IF NOT EXISTS \"_changes_record_idx\" ON {log} (\"entity\", \"record_id\", \"id\"); \
         CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER \
         SET search_path = pg_catalog, pg_temp AS {}; \
         REVOKE ALL ON FUNCTION {function}() FROM PUBLIC",
        quote_literal(&body(&log, slug))
    )
}

/// The log function's body. TG_ARGV: the name changes are logged under, and
/// the column holding the record's id. Aliases are upper case: a column
/// (always lower case) cannot hide them. SECURITY DEFINER (owned by the
/// extension's owner, as Cot's DDL is): no tenant role may write the log.
fn body(log: &str, slug: &str) -> String {
    format!(
        "DECLARE actor jsonb := cot.change_begin({slug}); \
         BEGIN \
         IF TG_OP = 'INSERT' THEN \
         INSERT INTO {log} (\"entity\", \"record_id\", \"op\", \"new\", \"actor\") \
         SELECT TG_ARGV[0], (\"N\".\"J\" ->> TG_ARGV[1])::uuid, 'insert', \"N\".\"J\", actor \
         FROM (SELECT to_jsonb(\"R\") AS \"J\" FROM \"cot_new\" AS \"R\") AS \"N\"; \
         ELSIF TG_OP = 'DELETE' THEN \
         INSERT INTO {log} (\"entity\", \"record_id\", \"op\", \"old\", \"actor\") \
         SELECT TG_ARGV[0], (\"O\".\"J\" ->> TG_ARGV[1])::uuid, 'delete', \"O\".\"J\", actor \
         FROM (SELECT to_jsonb(\"R\") AS \"J\" FROM \"cot_old\" AS \"R\") AS \"O\"; \
         ELSE \
         INSERT INTO {log} (\"entity\", \"record_id\", \"op\", \"old\", \"new\", \"actor\") \
         SELECT TG_ARGV[0], (\"N\".\"J\" ->> TG_ARGV[1])::uuid, 'update', \"D\".\"OLD\", \"D\".\"NEW\", actor \
         FROM (SELECT to_jsonb(\"R\") AS \"J\" FROM \"cot_new\" AS \"R\") AS \"N\" \
         JOIN (SELECT to_jsonb(\"R\") AS \"J\" FROM \"cot_old\" AS \"R\") AS \"O\" \
         ON \"O\".\"J\" -> TG_ARGV[1] = \"N\".\"J\" -> TG_ARGV[1] \
         CROSS JOIN LATERAL (SELECT jsonb_object_agg(\"OV\".\"key\", \"OV\".\"value\") AS \"OLD\", \
         jsonb_object_agg(\"OV\".\"key\", \"NV\".\"value\") AS \"NEW\" \
         FROM jsonb_each(\"O\".\"J\") AS \"OV\" JOIN jsonb_each(\"N\".\"J\") AS \"NV\" ON \"NV\".\"key\" = \"OV\".\"key\" \
         WHERE \"NV\".\"value\" IS DISTINCT FROM \"OV\".\"value\") AS \"D\"; \
         END IF; \
         RETURN NULL; \
         END",
        slug = quote_literal(slug)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_function_names_the_tenants_log_and_slug() {
        let sql = create(&fixed("tenant_acme"));
        assert!(sql.contains(r#"CREATE OR REPLACE FUNCTION "tenant_acme"."_log_changes"()"#));
        assert!(sql.contains(r#"INSERT INTO "tenant_acme"."_changes""#));
        assert!(sql.contains("cot.change_begin(''acme'')"));
        assert!(!sql.contains("EXECUTE"), "no dynamic SQL: {sql}");
    }

    #[test]
    fn a_trigger_calls_the_tenants_function_with_entity_and_column() {
        let sql = render(&Step::CreateHistoryTrigger {
            schema: fixed("tenant_acme"),
            table: fixed("notes_tags"),
            entity: fixed("notes_tags"),
            record_column: fixed("notes_id"),
            command: Command::Delete,
        });
        assert_eq!(
            sql,
            r#"CREATE TRIGGER "cot_history_delete" AFTER DELETE ON "tenant_acme"."notes_tags" REFERENCING OLD TABLE AS "cot_old" FOR EACH STATEMENT EXECUTE FUNCTION "tenant_acme"."_log_changes"('notes_tags', 'notes_id')"#
        );
    }
}
