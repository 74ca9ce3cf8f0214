//! The change log of a tenant (docs/changes.md): its table, and the
//! statement-level triggers that write it.
//!
//! Every history trigger calls `cot.log_changes(entity, column)`, a Rust
//! trigger function (src/change_writer.rs), which reads the statement's
//! transition tables and appends the log's rows without the executor
//! (src/change_append.rs); a workflow's trigger calls `cot.log_transition`
//! ([`super::workflow`]), which appends the same way. Both replaced SQL
//! `INSERT`s rendered here: starting their executor was most of a one-row
//! entry's cost (bench/history.sh).

use super::*;
use crate::access::Command;
use crate::names::fixed;
use crate::plan::history::{CHANGE_LOG, LOG_FUNCTION};

/// The trigger function every history trigger calls (src/change_writer.rs).
pub const TRIGGER_FUNCTION: &str = "cot.log_changes";

/// The SQL of a change-log step; [`super::render`] sends each here.
pub(super) fn render(step: &Step) -> String {
    match step {
        Step::CreateChangeLog { schema } => create(schema),
        Step::DropChangeLog { schema } => format!(
            // The function a tenant made by an earlier build of 0.2.0 had.
            // CASCADE: a tenant being dropped with CASCADE still has its
            // tables' triggers on it; without CASCADE the schema drop after
            // this one refuses what is left anyway.
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
                "CREATE TRIGGER {} AFTER {} ON {} REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER_FUNCTION}({}, {})",
                quote_ident(&crate::plan::history::trigger_name(*command)),
                command.sql(),
                quote_qualified(schema, table),
                quote_literal(entity.as_str()),
                quote_literal(record_column.as_str())
            )
        }
        _ => unreachable!("not a change-log step: {step:?}"),
    }
}

/// The log table and its index by record, made if missing.
///
/// One row per statement (per [`crate::plan::history::BLOCK`] rows of it): the changed records' ids,
/// and their old and new values, in arrays of the same order; the row's
/// changes have the ids `id`, `id + 1`, ... (docs/changes.md). Writing one
/// row where a statement changed many is what makes the log cheap for bulk
/// writes: a row per change cost a second heap tuple and two index entries
/// per change, as much as the write being logged (bench/history.sh). History
/// by record goes through the GIN index on `record_ids`. The arrays are
/// compressed with lz4, which costs a fraction of pglz's time. The GIN index
/// has no pending list (`fastupdate = off`): with one, the writer that
/// filled it to its limit moved it into the index, about a fifth of a
/// 10,000-row insert's time, and `cot.history` read it row by row until then. No CHECK on
/// `op`: its two writers are Cot's, and a CHECK's expression is read from
/// the catalog again by every statement that writes the table.
fn create(schema: &Ident) -> String {
    let log = quote_qualified(schema, &fixed(CHANGE_LOG));
    format!(
        "CREATE TABLE IF NOT EXISTS {log} (\"id\" bigint PRIMARY KEY, \
         \"xid\" xid8 NOT NULL DEFAULT pg_current_xact_id(), \"at\" timestamptz NOT NULL DEFAULT statement_timestamp(), \
         \"entity\" text NOT NULL, \
         \"op\" text NOT NULL, \
         \"record_ids\" uuid[] COMPRESSION lz4 NOT NULL, \"old\" jsonb[] COMPRESSION lz4, \"new\" jsonb[] COMPRESSION lz4, \
         \"actor\" jsonb NOT NULL, \"transition\" jsonb); \
         CREATE INDEX IF NOT EXISTS \"_changes_record_idx\" ON {log} USING gin (\"record_ids\") \
         WITH (fastupdate = off)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_has_its_record_index_without_a_pending_list() {
        let sql = create(&fixed("tenant_acme"));
        assert!(
            sql.contains(r#"USING gin ("record_ids") WITH (fastupdate = off)"#),
            "{sql}"
        );
        assert!(
            sql.starts_with(r#"CREATE TABLE IF NOT EXISTS "tenant_acme"."_changes""#),
            "{sql}"
        );
    }

    #[test]
    fn a_trigger_calls_the_log_function_with_entity_and_column() {
        let sql = render(&Step::CreateHistoryTrigger {
            schema: fixed("tenant_acme"),
            table: fixed("notes_tags"),
            entity: fixed("notes_tags"),
            record_column: fixed("notes_id"),
            command: Command::Delete,
        });
        assert_eq!(
            sql,
            r#"CREATE TRIGGER "cot_history_delete" AFTER DELETE ON "tenant_acme"."notes_tags" REFERENCING OLD TABLE AS "cot_old" FOR EACH STATEMENT EXECUTE FUNCTION cot.log_changes('notes_tags', 'notes_id')"#
        );
    }
}
