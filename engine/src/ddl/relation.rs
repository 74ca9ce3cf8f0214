//! Views, their owners and comments, and the computed-relationship functions PostgREST embeds through.

use super::*;

/// The SQL of a relation step; [`super::render`] sends each step to its module.
pub(super) fn render(step: &Step) -> String {
    match step {
        Step::CreateView {
            schema,
            name,
            table_schema,
            table,
            columns,
        } => format!(
            "CREATE VIEW {} WITH (security_invoker = true) AS SELECT {} FROM {}",
            quote_qualified(schema, name),
            list(columns),
            quote_qualified(table_schema, table)
        ),
        Step::SetViewDefault {
            schema,
            view,
            column,
            default,
        } => format!(
            "ALTER VIEW {} ALTER COLUMN {} {}",
            quote_qualified(schema, view),
            quote_ident(column),
            match default {
                Some(d) => format!("SET DEFAULT {}", super::table::default_sql(d)),
                None => "DROP DEFAULT".to_string(),
            }
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
                CommentTarget::Column(_, s, n, c) => {
                    format!("COLUMN {}.{}", quote_qualified(s, n), quote_ident(c))
                }
            };
            format!("COMMENT ON {what} IS {}", quote_literal(text))
        }
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
            format!(
                "ALTER FUNCTION {} OWNER TO {}",
                function_signature(f),
                quote_ident(&owner_role())
            )
        }
        Step::DropRelationFunction(f) => format!("DROP FUNCTION {}", function_signature(f)),
        Step::RenameRelation {
            kind,
            schema,
            from,
            to,
        } => format!(
            "ALTER {} {} RENAME TO {}",
            rel_word(*kind),
            quote_qualified(schema, from),
            quote_ident(to)
        ),
        Step::DropRelation { kind, schema, name } => {
            format!("DROP {} {}", rel_word(*kind), quote_qualified(schema, name))
        }
        other => unreachable!("not a relation step: {other:?}"),
    }
}

pub(super) fn function_signature(f: &crate::plan::RelationFunction) -> String {
    format!(
        "{}({})",
        quote_qualified(&f.schema, &f.name),
        quote_qualified(&f.schema, &f.source)
    )
}
