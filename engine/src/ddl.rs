//! The one place that writes DDL text. Every name goes through
//! [`quote_ident`], every value through [`quote_literal`] (directly or via
//! [`Literal::to_sql`]); the rest is fixed SQL. The rendered statements assume
//! the `search_path` Cot pins for its functions (`pg_catalog, pg_temp`), and
//! name Cot's own helpers with their schema.

use crate::conversion::surely_castable;
use crate::literal::{DefaultValue, Literal};
use crate::names::{owner_role, Ident};
use crate::plan::{
    Check, Column, ColumnAction, ColumnDefault, CommentTarget, ConstraintKind, RelKind, Step, Table,
};
use crate::sql::{quote_ident, quote_literal, quote_qualified};

/// The SQL of one step.
pub fn render(step: &Step) -> String {
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
        Step::CreateView { schema, name, table_schema, table, columns } => format!(
            "CREATE VIEW {} WITH (security_invoker = true) AS SELECT {} FROM {}",
            quote_qualified(schema, name),
            list(columns),
            quote_qualified(table_schema, table)
        ),
        Step::SetOwner { kind, schema, name } => format!(
            "ALTER {} {} OWNER TO {}",
            rel_word(*kind),
            quote_qualified(schema, name),
            quote_ident(&owner_role())
        ),
        Step::Comment { target, text } => {
            let what = match target {
                CommentTarget::Schema(s) => format!("SCHEMA {}", quote_ident(s)),
                CommentTarget::Relation(k, s, n) => format!("{} {}", rel_word(*k), quote_qualified(s, n)),
                CommentTarget::Column(_, s, n, c) => format!("COLUMN {}.{}", quote_qualified(s, n), quote_ident(c)),
            };
            format!("COMMENT ON {what} IS {}", quote_literal(text))
        }
        Step::AddConstraint { schema, table, constraint } => format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            quote_qualified(schema, table),
            quote_ident(&constraint.name),
            constraint_body(&constraint.kind)
        ),
        Step::EnableRls { schema, table } => format!(
            "ALTER TABLE {} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY",
            quote_qualified(schema, table)
        ),
        Step::CreatePolicy { schema, table, name, command, roles, using, check } => {
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
        Step::Grant { command, kind: _, schema, name, roles } => format!(
            // GRANT ... ON TABLE covers views too.
            "GRANT {} ON TABLE {} TO {}",
            command.sql(),
            quote_qualified(schema, name),
            list(roles)
        ),
        Step::CreateOwnerTrigger { schema, table } => format!(
            "CREATE TRIGGER \"cot_owner_column\" BEFORE INSERT OR UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION cot.owner_column()",
            quote_qualified(schema, table)
        ),
        Step::CreateRelationFunction(f) => format!(
            "CREATE FUNCTION {} RETURNS SETOF {} ROWS 1 LANGUAGE sql STABLE AS {}",
            function_signature(f),
            quote_qualified(&f.schema, &f.target),
            quote_literal(&format!(
                "SELECT t.* FROM {} AS t WHERE t.\"id\" OPERATOR(pg_catalog.=) $1.{}",
                quote_qualified(&f.schema, &f.target),
                quote_ident(&f.column)
            ))
        ),
        Step::SetRelationFunctionOwner(f) => {
            format!("ALTER FUNCTION {} OWNER TO {}", function_signature(f), quote_ident(&owner_role()))
        }
        Step::DropRelationFunction(f) => format!("DROP FUNCTION {}", function_signature(f)),
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
        Step::RenameRelation { kind, schema, from, to } => format!(
            "ALTER {} {} RENAME TO {}",
            rel_word(*kind),
            quote_qualified(schema, from),
            quote_ident(to)
        ),
        Step::DropPolicy { schema, table, name } => {
            format!("DROP POLICY {} ON {}", quote_ident(name), quote_qualified(schema, table))
        }
        Step::Revoke { command, kind: _, schema, name, roles } => format!(
            "REVOKE {} ON TABLE {} FROM {}",
            command.sql(),
            quote_qualified(schema, name),
            list(roles)
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
        Step::DropRelation { kind, schema, name } => {
            format!("DROP {} {}", rel_word(*kind), quote_qualified(schema, name))
        }
        Step::DropSchema { schema, cascade } => {
            format!("DROP SCHEMA {}{}", quote_ident(schema), if *cascade { " CASCADE" } else { "" })
        }
        Step::DropRole { role } => format!("DROP ROLE {}", quote_ident(role)),
    }
}

fn function_signature(f: &crate::plan::RelationFunction) -> String {
    format!(
        "{}({})",
        quote_qualified(&f.schema, &f.name),
        quote_qualified(&f.schema, &f.source)
    )
}

fn rpc_signature(schema: &Ident, f: crate::rpc::Rpc) -> String {
    format!(
        "{}({})",
        quote_qualified(schema, &crate::names::fixed(f.name())),
        f.arg_types()
    )
}

fn rel_word(kind: RelKind) -> &'static str {
    match kind {
        RelKind::Table => "TABLE",
        RelKind::View => "VIEW",
    }
}

fn list(cols: &[Ident]) -> String {
    cols.iter().map(quote_ident).collect::<Vec<_>>().join(", ")
}

fn create_table(t: &Table) -> String {
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

/// A policy condition. The claim is read once per statement: `(SELECT ...)`
/// makes it an InitPlan instead of a call per row (360 ms against 0.5 ms on 1M
/// rows, SECURITY.md).
fn predicate(p: &crate::access::Predicate) -> String {
    use crate::access::Predicate;
    use crate::names::OWNER_COLUMN;
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
    }
}

fn constraint_body(kind: &ConstraintKind) -> String {
    match kind {
        ConstraintKind::PrimaryKey(cols) => format!("PRIMARY KEY ({})", list(cols)),
        ConstraintKind::Unique(cols) => format!("UNIQUE ({})", list(cols)),
        ConstraintKind::Check(col, check) => format!("CHECK ({})", check_expr(col, check)),
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

fn column(c: &Column) -> String {
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

fn default_sql(d: &ColumnDefault) -> String {
    match d {
        ColumnDefault::NewId => "cot.uuid_generate_v7()".to_string(),
        ColumnDefault::Now => "now()".to_string(),
        ColumnDefault::User(DefaultValue::Literal(l), scalar, _) => crate::sql::literal(l, scalar),
        ColumnDefault::User(DefaultValue::Now, scalar, _) => match scalar {
            crate::types::Scalar::Time => "LOCALTIME".to_string(),
            _ => "now()".to_string(),
        },
        ColumnDefault::User(DefaultValue::Today, _, _) => "CURRENT_DATE".to_string(),
        ColumnDefault::User(DefaultValue::NewUuid, _, _) => "cot.uuid_generate_v7()".to_string(),
    }
}

fn text_array(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| quote_literal(v)).collect();
    format!("ARRAY[{}]::text[]", items.join(", "))
}

fn check_expr(col: &Ident, check: &Check) -> String {
    let c = quote_ident(col);
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

fn bound(l: &Literal, s: &crate::types::Scalar) -> String {
    crate::sql::literal(l, s)
}

/// Whether the value of column `c` (quoted) converts to `sql_type`: text
/// matching the type's sure pattern does, any other value is tried by
/// `cot.castable` (see [`surely_castable`]).
fn castable(c: &str, sql_type: &str) -> String {
    let tried = format!("cot.castable({c}, {})", quote_literal(sql_type));
    match surely_castable(sql_type) {
        Some(pattern) => format!(
            "CASE WHEN {c}::text ~ {} THEN true ELSE {tried} END",
            quote_literal(&pattern)
        ),
        None => tried,
    }
}

/// The query that answers a probe of a schema change: one row, one bigint.
/// It runs before the change, against the table as it is.
pub fn render_probe(c: &crate::evolve::Count) -> String {
    use crate::conversion::Loss;
    use crate::evolve::Probe;
    let from = quote_qualified(&c.schema, &c.table);
    let count = |cond: String| format!("SELECT count(*)::bigint FROM {from} WHERE {cond}");
    match &c.probe {
        Probe::Rows => format!("SELECT count(*)::bigint FROM {from}"),
        Probe::AnyRow => format!("SELECT count(*)::bigint FROM (SELECT FROM {from} LIMIT 1) AS one"),
        Probe::Values(col) => count(format!("{} IS NOT NULL", quote_ident(col))),
        Probe::Nulls(col) => count(format!("{} IS NULL", quote_ident(col))),
        Probe::FailsCheck(col, check) => count(format!("NOT ({})", check_expr(col, check))),
        Probe::Duplicates(cols) => format!(
            "SELECT COALESCE(sum(n), 0)::bigint FROM (SELECT count(*) AS n FROM {from} WHERE {} GROUP BY {} HAVING count(*) > 1) AS d",
            cols.iter()
                .map(|c| format!("{} IS NOT NULL", quote_ident(c)))
                .collect::<Vec<_>>()
                .join(" AND "),
            list(cols)
        ),
        Probe::NotCastable(col, sql_type) => count(format!(
            "{c} IS NOT NULL AND NOT {}",
            castable(&quote_ident(col), sql_type),
            c = quote_ident(col)
        )),
        Probe::Loses(col, loss, array) => {
            let v = if *array { "v".to_string() } else { quote_ident(col) };
            let lost = match loss {
                Loss::Fraction => format!("{v}::numeric <> trunc({v}::numeric)"),
                Loss::Scale(s) => format!("{v}::numeric <> round({v}::numeric, {s})"),
                Loss::TimeOfDay => format!("{v} <> date_trunc('day', {v})"),
                Loss::Precision => format!("{v}::numeric <> {v}::double precision::numeric"),
            };
            if *array {
                count(format!("EXISTS (SELECT 1 FROM unnest({}) AS v WHERE {lost})", quote_ident(col)))
            } else {
                count(lost)
            }
        }
    }
}

/// A `CREATE INDEX` step as the statement that builds it later, outside a
/// transaction, without blocking writes (`CREATE INDEX CONCURRENTLY`).
pub fn render_concurrently(step: &Step) -> String {
    let sql = render(step);
    match step {
        Step::CreateIndex { .. } => sql.replacen("CREATE INDEX", "CREATE INDEX CONCURRENTLY", 1),
        _ => sql,
    }
}

/// Every step of a plan as SQL, in order.
pub fn render_all(steps: &[Step]) -> Vec<String> {
    steps.iter().map(render).collect()
}
