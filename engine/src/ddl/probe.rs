//! The queries that count, before a schema change runs, the rows it would
//! fail, convert with loss or drop.

use super::table::check_condition;
use super::*;
use crate::conversion::surely_castable;
use crate::evolve::Cast;

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
        Probe::FailsCheck(col, cast, check) => {
            count(format!("NOT ({})", check_condition(&operand(col, cast), check)))
        }
        Probe::Duplicates(cols) => {
            let values: Vec<String> = cols.iter().map(|(c, cast)| operand(c, cast)).collect();
            format!(
                "SELECT COALESCE(sum(n), 0)::bigint FROM (SELECT count(*) AS n FROM {from} WHERE {} GROUP BY {} HAVING count(*) > 1) AS d",
                values
                    .iter()
                    .map(|v| format!("{v} IS NOT NULL"))
                    .collect::<Vec<_>>()
                    .join(" AND "),
                values.join(", ")
            )
        }
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
                count(format!(
                    "EXISTS (SELECT 1 FROM unnest({}) AS v WHERE {lost})",
                    quote_ident(col)
                ))
            } else {
                count(lost)
            }
        }
    }
}

/// Column `col`'s value, as it is or converted by a type change; a value that
/// may not convert is NULL when it does not (as `cot.castable` finds).
fn operand(col: &Ident, cast: &Option<Cast>) -> String {
    let c = quote_ident(col);
    match cast {
        None => c,
        Some(Cast {
            sql_type,
            fallible: false,
        }) => format!("({c})::{sql_type}"),
        Some(Cast {
            sql_type,
            fallible: true,
        }) => format!("(CASE WHEN {} THEN {c}::{sql_type} END)", castable(&c, sql_type)),
    }
}

/// Whether the value of column `c` (quoted) converts to `sql_type`: text
/// matching the type's sure pattern does, any other value is tried by
/// `cot.castable` (see [`surely_castable`]).
pub(super) fn castable(c: &str, sql_type: &str) -> String {
    let tried = format!("cot.castable({c}, {})", quote_literal(sql_type));
    match surely_castable(sql_type) {
        Some(pattern) => format!(
            "CASE WHEN {c}::text ~ {} THEN true ELSE {tried} END",
            quote_literal(&pattern)
        ),
        None => tried,
    }
}
