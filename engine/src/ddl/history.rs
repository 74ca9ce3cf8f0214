//! The change log of a tenant (docs/changes.md): its table, the statement
//! that writes it, and the statement-level triggers that run it.
//!
//! Every history trigger calls `cot.log_changes(entity, column)`, a Rust
//! trigger function (src/change_writer.rs), which runs [`log_statement`] on
//! the statement's transition tables with a plan it keeps per tenant for the
//! session. It replaced a PL/pgSQL SECURITY DEFINER function per tenant, whose
//! `search_path` switch and interpreter cost about a third of what history
//! added to a single-row insert (bench/history.sh).

use super::*;
use crate::access::Command;
use crate::names::{fixed, TenantNames};
use crate::plan::history::{BLOCK, CHANGE_LOG, LOG_FUNCTION};

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
/// One row per statement (per [`BLOCK`] rows of it): the changed records' ids,
/// and their old and new values, in arrays of the same order; the row's
/// changes have the ids `id`, `id + 1`, ... (docs/changes.md). Writing one
/// row where a statement changed many is what makes the log cheap for bulk
/// writes: a row per change cost a second heap tuple and two index entries
/// per change, as much as the write being logged (bench/history.sh). History
/// by record goes through the GIN index on `record_ids`. The arrays are
/// compressed with lz4, which costs a fraction of pglz's time. No CHECK on
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
         CREATE INDEX IF NOT EXISTS \"_changes_record_idx\" ON {log} USING gin (\"record_ids\")"
    )
}

/// The first id of a new log row: ids come in blocks of [`BLOCK`]
/// (`cot.change_seq` counts by it).
const NEXT_ID: &str = "pg_catalog.nextval('cot.change_seq'::pg_catalog.regclass)";

/// One change for [`insert_one`], every part an SQL expression.
pub(super) struct Entry<'a> {
    pub entity: &'a str,
    pub op: &'a str,
    pub record_id: &'a str,
    pub old: &'a str,
    pub new: &'a str,
    pub actor: &'a str,
    pub transition: &'a str,
}

/// The `INSERT` of one change into the tenant's log `log` (a quoted, qualified
/// name): what a workflow's trigger records for a transition. The log's other
/// writer, [`log_statement`], writes the same columns from a statement's
/// transition tables. The actor must be computed (`cot.change_begin`) before:
/// the entry's id must come after the transaction's lock.
pub(super) fn insert_one(log: &str, e: &Entry<'_>) -> String {
    format!(
        "INSERT INTO {log} (\"id\", \"entity\", \"op\", \"record_ids\", \"old\", \"new\", \"actor\", \"transition\") \
         VALUES ({NEXT_ID}, {}, {}, ARRAY[{}], ARRAY[{}], ARRAY[{}], {}, {})",
        e.entity, e.op, e.record_id, e.old, e.new, e.actor, e.transition
    )
}

/// The statement that logs what one statement changed in a table of tenant
/// `t`, from its transition tables (`cot_new`, `cot_old`): `$1` the name the
/// changes are logged under, `$2` the column holding the record's id, `$3`
/// the actor. One log row per [`BLOCK`] rows of the statement, its first id
/// from the sequence. Every name is
/// qualified: it is prepared under the writing session's `search_path`.
/// Aliases are upper case: a column (always lower case) cannot hide them.
///
/// With `one`, the statement changed exactly one row: a plan without the
/// aggregate and the slices, which cost more to start than to run for one
/// row (most API writes).
pub fn log_statement(t: &TenantNames, command: Command, one: bool) -> String {
    let log = quote_qualified(&t.storage_schema, &fixed(CHANGE_LOG));
    // One pass gathers the arrays; a statement of more than BLOCK rows is
    // cut into slices of them, one log row each (a row_number() window over
    // the rows instead kept them all in a tuplestore, which spilled to disk:
    // 5x the time of the rest on 10,000 rows). A statement that changed no
    // row logs nothing.
    let group = |rows: &str, arrays: &[&str], op: &str| {
        if one {
            let items: Vec<String> = arrays.iter().map(|c| format!("ARRAY[\"C\".\"{c}\"]")).collect();
            return format!(
                "SELECT {NEXT_ID}, $1, '{op}', {}, $3 FROM ({rows} OFFSET 0) AS \"C\"",
                items.join(", ")
            );
        }
        let aggs: Vec<String> = arrays
            .iter()
            .map(|c| format!("pg_catalog.array_agg(\"C\".\"{c}\") AS \"{c}\""))
            .collect();
        let slices: Vec<String> = arrays
            .iter()
            .map(|c| {
                format!(
                    "CASE WHEN \"A\".\"N\" OPERATOR(pg_catalog.<=) {BLOCK} THEN \"A\".\"{c}\" \
                     ELSE \"A\".\"{c}\"[\"S\" OPERATOR(pg_catalog.*) {BLOCK} OPERATOR(pg_catalog.+) 1 : \
                     (\"S\" OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.*) {BLOCK}] END"
                )
            })
            .collect();
        format!(
            "SELECT {NEXT_ID}, $1, '{op}', {}, $3 \
             FROM (SELECT {}, pg_catalog.count(*) AS \"N\" FROM ({rows}) AS \"C\") AS \"A\" \
             CROSS JOIN LATERAL pg_catalog.generate_series(0, (\"A\".\"N\" OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog./) {BLOCK}) AS \"S\" \
             WHERE \"A\".\"N\" OPERATOR(pg_catalog.>) 0",
            slices.join(", "),
            aggs.join(", ")
        )
    };
    let key = |j: &str| format!("({j} OPERATOR(pg_catalog.->>) $2)::pg_catalog.uuid");
    let rows = |table: &str| {
        format!(
            "SELECT {} AS \"K\", \"R\".\"J\" FROM (SELECT pg_catalog.to_jsonb(\"T\") AS \"J\" FROM \"{table}\" AS \"T\") AS \"R\"",
            key("\"R\".\"J\"")
        )
    };
    match command {
        Command::Insert => format!(
            "INSERT INTO {log} (\"id\", \"entity\", \"op\", \"record_ids\", \"new\", \"actor\") {}",
            group(&rows("cot_new"), &["K", "J"], "insert")
        ),
        Command::Delete => format!(
            "INSERT INTO {log} (\"id\", \"entity\", \"op\", \"record_ids\", \"old\", \"actor\") {}",
            group(&rows("cot_old"), &["K", "J"], "delete")
        ),
        _ => {
            // Each new row with its old one (by the record's id), and the
            // fields whose values differ.
            let diff = format!(
                "SELECT {} AS \"K\", \"D\".\"OLD\", \"D\".\"NEW\" \
                 FROM (SELECT pg_catalog.to_jsonb(\"R\") AS \"J\" FROM \"cot_new\" AS \"R\") AS \"N\" \
                 JOIN (SELECT pg_catalog.to_jsonb(\"R\") AS \"J\" FROM \"cot_old\" AS \"R\") AS \"O\" \
                 ON (\"O\".\"J\" OPERATOR(pg_catalog.->) $2) OPERATOR(pg_catalog.=) (\"N\".\"J\" OPERATOR(pg_catalog.->) $2) \
                 CROSS JOIN LATERAL (SELECT pg_catalog.jsonb_object_agg(\"OV\".\"key\", \"OV\".\"value\") AS \"OLD\", \
                 pg_catalog.jsonb_object_agg(\"OV\".\"key\", \"NV\".\"value\") AS \"NEW\" \
                 FROM pg_catalog.jsonb_each(\"O\".\"J\") AS \"OV\" JOIN pg_catalog.jsonb_each(\"N\".\"J\") AS \"NV\" \
                 ON \"NV\".\"key\" OPERATOR(pg_catalog.=) \"OV\".\"key\" \
                 WHERE NOT (\"NV\".\"value\" OPERATOR(pg_catalog.=) \"OV\".\"value\")) AS \"D\"",
                key("\"N\".\"J\"")
            );
            format!(
                "INSERT INTO {log} (\"id\", \"entity\", \"op\", \"record_ids\", \"old\", \"new\", \"actor\") {}",
                group(&diff, &["K", "OLD", "NEW"], "update")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_statement_names_the_tenants_log_and_every_function_by_schema() {
        let t = TenantNames::new(&fixed("acme"));
        for command in [Command::Insert, Command::Update, Command::Delete] {
            let sql = log_statement(&t, command, false);
            assert!(
                sql.starts_with(r#"INSERT INTO "tenant_acme"."_changes""#),
                "{sql}"
            );
            for f in ["to_jsonb", "array_agg", "row_number", "nextval"] {
                assert!(!sql.contains(&format!(" {f}(")), "{f} unqualified: {sql}");
            }
        }
        assert!(create(&fixed("tenant_acme")).contains("USING gin (\"record_ids\")"));
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
