//! Tables, columns, constraints, indexes and triggers, and changes to them.

use super::probe::castable;
use super::*;
use crate::access::Command;

/// The SQL of a table step; [`super::render`] sends each step to its module.
pub(super) fn render(step: &Step) -> String {
    match step {
        Step::CreateTable(t) => create_table(t),
        Step::CreateIndex { schema, table, name, columns, gin } => format!(
            "CREATE INDEX {} ON {}{} ({})",
            quote_ident(name),
            quote_qualified(schema, table),
            if *gin { " USING gin" } else { "" },
            list(columns)
        ),
        Step::CreateSystemTrigger { schema, table, junction } => format!(
            "CREATE TRIGGER \"cot_system_columns\" BEFORE INSERT OR UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION cot.{}()",
            quote_qualified(schema, table),
            if *junction { "junction_columns" } else { "system_columns" }
        ),
        Step::AddConstraint { schema, table, constraint } => format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            quote_qualified(schema, table),
            quote_ident(&constraint.name),
            constraint_body(&constraint.kind)
        ),
        Step::CreateChangeLog { schema } => {
            let log = quote_qualified(schema, &crate::names::fixed(crate::plan::history::CHANGE_LOG));
            // Two statements in one step: the index belongs to the table, and
            // both exist or neither does.
            format!(
                "CREATE TABLE IF NOT EXISTS {log} (\"id\" bigint PRIMARY KEY DEFAULT nextval('cot.change_seq'), \
                 \"xid\" xid8 NOT NULL DEFAULT pg_current_xact_id(), \"at\" timestamptz NOT NULL DEFAULT statement_timestamp(), \
                 \"entity\" text NOT NULL, \"record_id\" uuid, \
                 \"op\" text NOT NULL CHECK (\"op\" IN ('insert', 'update', 'delete', 'transition')), \
                 \"old\" jsonb, \"new\" jsonb, \"actor\" jsonb NOT NULL, \"transition\" jsonb); \
                 CREATE INDEX IF NOT EXISTS \"_changes_record_idx\" ON {log} (\"entity\", \"record_id\", \"id\")"
            )
        }
        Step::DropChangeLog { schema } => format!(
            "DROP TABLE IF EXISTS {}",
            quote_qualified(schema, &crate::names::fixed(crate::plan::history::CHANGE_LOG))
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
                "CREATE TRIGGER {} AFTER {} ON {} REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION cot.log_changes({}, {})",
                quote_ident(&crate::plan::history::trigger_name(*command)),
                command.sql(),
                quote_qualified(schema, table),
                quote_literal(entity.as_str()),
                quote_literal(record_column.as_str())
            )
        }
        Step::CreateOwnerTrigger { schema, table } => format!(
            "CREATE TRIGGER \"cot_owner_column\" BEFORE INSERT OR UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION cot.owner_column()",
            quote_qualified(schema, table)
        ),
        Step::DropColumn { schema, table, column } => format!(
            "ALTER TABLE {} DROP COLUMN {}",
            quote_qualified(schema, table),
            quote_ident(column)
        ),
        Step::AddColumn { schema, table, column: c } => {
            format!("ALTER TABLE {} ADD COLUMN {}", quote_qualified(schema, table), column(c))
        }
        Step::AlterColumn { schema, table, column: c, action } => {
            let t = quote_qualified(schema, table);
            let c = quote_ident(c);
            match action {
                ColumnAction::Rename(to) => format!("ALTER TABLE {t} RENAME COLUMN {c} TO {}", quote_ident(to)),
                ColumnAction::Type { sql_type, null_failures: false } => {
                    format!("ALTER TABLE {t} ALTER COLUMN {c} TYPE {sql_type} USING {c}::{sql_type}")
                }
                ColumnAction::Type { sql_type, null_failures: true } => format!(
                    "ALTER TABLE {t} ALTER COLUMN {c} TYPE {sql_type} USING CASE WHEN {} THEN {c}::{sql_type} END",
                    castable(&c, sql_type)
                ),
                ColumnAction::SetNotNull => format!("ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL"),
                ColumnAction::DropNotNull => format!("ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL"),
                ColumnAction::SetDefault(d) => format!("ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {}", default_sql(d)),
                ColumnAction::DropDefault => format!("ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT"),
            }
        }
        Step::AddConstraintNotValid { schema, table, constraint } => format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {} NOT VALID",
            quote_qualified(schema, table),
            quote_ident(&constraint.name),
            constraint_body(&constraint.kind)
        ),
        Step::ValidateConstraint { schema, table, name } => format!(
            "ALTER TABLE {} VALIDATE CONSTRAINT {}",
            quote_qualified(schema, table),
            quote_ident(name)
        ),
        Step::DropConstraint { schema, table, name } => format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            quote_qualified(schema, table),
            quote_ident(name)
        ),
        Step::RenameConstraint { schema, table, from, to } => format!(
            "ALTER TABLE {} RENAME CONSTRAINT {} TO {}",
            quote_qualified(schema, table),
            quote_ident(from),
            quote_ident(to)
        ),
        Step::DropIndex { schema, name } => format!("DROP INDEX {}", quote_qualified(schema, name)),
        Step::RenameIndex { schema, from, to } => {
            format!("ALTER INDEX {} RENAME TO {}", quote_qualified(schema, from), quote_ident(to))
        }
        Step::DropTriggerIfExists { schema, table, name } => format!(
            "DROP TRIGGER IF EXISTS {} ON {}",
            quote_ident(name),
            quote_qualified(schema, table)
        ),
        Step::DropOwnerTrigger { schema, table } => {
            format!("DROP TRIGGER \"cot_owner_column\" ON {}", quote_qualified(schema, table))
        }
        Step::RenameValue { schema, table, column: c, array: false, from, to } => format!(
            "UPDATE {} SET {c} = {} WHERE {c} = {}",
            quote_qualified(schema, table),
            quote_literal(to),
            quote_literal(from),
            c = quote_ident(c)
        ),
        Step::RenameValue { schema, table, column: c, array: true, from, to } => format!(
            "UPDATE {} SET {c} = array_replace({c}, {}, {}) WHERE {} = ANY ({c})",
            quote_qualified(schema, table),
            quote_literal(from),
            quote_literal(to),
            quote_literal(from),
            c = quote_ident(c)
        ),
        other => unreachable!("not a table step: {other:?}"),
    }
}

pub(super) fn create_table(t: &Table) -> String {
    let mut lines: Vec<String> = t.columns.iter().map(column).collect();
    for c in &t.constraints {
        lines.push(format!(
            "CONSTRAINT {} {}",
            quote_ident(&c.name),
            constraint_body(&c.kind)
        ));
    }
    format!(
        "CREATE TABLE {} (\n  {}\n)",
        quote_qualified(&t.schema, &t.name),
        lines.join(",\n  ")
    )
}

pub(super) fn constraint_body(kind: &ConstraintKind) -> String {
    match kind {
        ConstraintKind::PrimaryKey(cols) => format!("PRIMARY KEY ({})", list(cols)),
        ConstraintKind::Unique(cols) => format!("UNIQUE ({})", list(cols)),
        // The rule's condition, and what to say when a row breaks it: a row
        // that passes costs a CASE; only a failing one calls the function
        // that raises. Written out rather than through an SQL function that
        // PostgreSQL would inline: inlining parses the function's body again
        // for every statement, which halved one-row inserts (bench/checks.sh).
        ConstraintKind::Check(col, check, field) => format!(
            "CHECK (CASE WHEN ({}) IS NOT FALSE THEN true ELSE cot.rule_broken(tableoid, {}::uuid, {}) END)",
            check_expr(col, check),
            quote_literal(&field.to_string()),
            quote_literal(&check.rule_text())
        ),
        ConstraintKind::ForeignKey {
            column,
            schema,
            table,
            on_delete,
        } => format!(
            "FOREIGN KEY ({}) REFERENCES {} (\"id\") ON DELETE {}",
            quote_ident(column),
            quote_qualified(schema, table),
            on_delete.sql()
        ),
    }
}

pub(super) fn column(c: &Column) -> String {
    let mut s = format!("{} {}", quote_ident(&c.name), c.sql_type);
    if c.not_null {
        s.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        s.push_str(" DEFAULT ");
        s.push_str(&default_sql(d));
    }
    s
}

pub(super) fn default_sql(d: &ColumnDefault) -> String {
    match d {
        ColumnDefault::NewId => "cot.uuid_generate_v7()".to_string(),
        ColumnDefault::Now => "now()".to_string(),
        ColumnDefault::User(DefaultValue::Literal(l), scalar, _) => crate::sql::literal(l, scalar),
        ColumnDefault::User(DefaultValue::Now, scalar, _) => match scalar {
            crate::scalar::Scalar::Time => "LOCALTIME".to_string(),
            _ => "now()".to_string(),
        },
        ColumnDefault::User(DefaultValue::Today, _, _) => "CURRENT_DATE".to_string(),
        ColumnDefault::User(DefaultValue::NewUuid, _, _) => "cot.uuid_generate_v7()".to_string(),
    }
}

pub(super) fn text_array(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| quote_literal(v)).collect();
    format!("ARRAY[{}]::text[]", items.join(", "))
}

pub(super) fn check_expr(col: &Ident, check: &Check) -> String {
    check_condition(&quote_ident(col), check)
}

/// The condition of `check` on the value `c` (a quoted column, or an
/// expression in parentheses).
pub(super) fn check_condition(c: &str, check: &Check) -> String {
    match check {
        Check::MinLength(n) => format!("char_length({c}) >= {n}"),
        Check::MaxLength(n) => format!("char_length({c}) <= {n}"),
        Check::Pattern(p) => format!("{c} ~ {}", quote_literal(p)),
        Check::Min(l, s) => format!("{c} >= {}", bound(l, s)),
        Check::Max(l, s) => format!("{c} <= {}", bound(l, s)),
        Check::OneOf(values) => format!("{c} = ANY ({})", text_array(values)),
        // CASE fixes the order: array_position raises on a multi-dimensional array,
        // so the dimension test must come first for a clean check violation.
        Check::ArrayShape => format!(
            "CASE WHEN array_ndims({c}) IS NULL THEN true WHEN array_ndims({c}) <> 1 THEN false ELSE array_position({c}, NULL) IS NULL END"
        ),
        Check::ArrayOneOf(values) => format!("{c} <@ {}", text_array(values)),
        Check::ArrayPattern(p) => format!("cot.array_items_match({c}, {})", quote_literal(p)),
    }
}

pub(super) fn bound(l: &Literal, s: &crate::scalar::Scalar) -> String {
    crate::sql::literal(l, s)
}
