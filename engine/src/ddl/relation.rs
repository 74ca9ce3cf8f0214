//! Views, their owners and comments, and the computed-relationship functions PostgREST embeds through.

use super::*;
use crate::plan::RelationFunction;

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
        Step::CreateRelationFunction(f) => create_function(f, &new_name(f)),
        Step::SetRelationFunctionOwner(f) => {
            let new = signature(f, &new_name(f));
            format!(
                "ALTER FUNCTION {new} OWNER TO {}; ALTER FUNCTION {new} RENAME TO {}",
                quote_ident(&owner_role()),
                quote_ident(&f.name)
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

/// A relation function made again in place (`regenerate`): created or
/// replaced under its own name, and its owner set there. `CREATE OR REPLACE`
/// keeps the owner of a function that exists.
pub(super) fn render_replacing(step: &Step) -> Option<String> {
    match step {
        Step::CreateRelationFunction(f) => {
            Some(create_function(f, &f.name).replacen("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
        }
        Step::SetRelationFunctionOwner(f) => Some(format!(
            "ALTER FUNCTION {} OWNER TO {}",
            function_signature(f),
            quote_ident(&owner_role())
        )),
        _ => None,
    }
}

/// A new relation function is created under a name of its own, given its
/// owner there, then renamed to the relation's name
/// ([`Step::SetRelationFunctionOwner`]). PostgreSQL finds a function named in
/// `ALTER FUNCTION` by a search of every function of that name in every
/// schema (thousands of `parent` functions in a large database, read again
/// after each change to `pg_proc`), while `CREATE FUNCTION` and `RENAME TO`
/// look up the exact (name, arguments, schema). The name starts with `_`, which no
/// field name has, so it names no other function.
fn new_name(f: &RelationFunction) -> Ident {
    crate::names::derived(&["_cot_new", f.name.as_str()])
}

fn create_function(f: &RelationFunction, name: &Ident) -> String {
    format!(
        "CREATE FUNCTION {} RETURNS SETOF {} ROWS 1 LANGUAGE sql STABLE AS {}",
        signature(f, name),
        quote_qualified(&f.schema, &f.target),
        quote_literal(&format!(
            "SELECT t.* FROM {} AS t WHERE t.\"id\" OPERATOR(pg_catalog.=) $1.{}",
            quote_qualified(&f.schema, &f.target),
            quote_ident(&f.column)
        ))
    )
}

fn signature(f: &RelationFunction, name: &Ident) -> String {
    format!(
        "{}({})",
        quote_qualified(&f.schema, name),
        quote_qualified(&f.schema, &f.source)
    )
}

pub(super) fn function_signature(f: &RelationFunction) -> String {
    signature(f, &f.name)
}
