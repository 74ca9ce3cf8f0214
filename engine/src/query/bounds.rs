//! The bounds on the work one query may ask for.
//!
//! Anyone who may read an entity, the anonymous role of a `public` entity
//! included, writes the query document, and a small document could ask for
//! unbounded work: a to-many embed nested three deep returned 14 MB for ~100
//! bytes of query, and one embed repeated 600 times took minutes to plan.
//! Every shape a caller controls is bounded here, before anything is
//! prepared or planned, and refused with `54000` (program limit exceeded),
//! the JSON pointer of the offending part in DETAIL and how to fit in HINT.
//! (The document itself is at most 64 KiB, and embeds nest at most
//! [`super::MAX_DEPTH`] levels; page and embed limits are at most
//! [`super::MAX_LIMIT`].) docs/query.md, "Limits", gives the reason for each
//! number.

use super::{Embed, Join, Param, Query, Selection};
use crate::error::{CotError, ErrorKind};
use crate::names::shown;

/// Records a to-many embed (an array) holds when it gives no `limit`.
pub const DEFAULT_EMBED_LIMIT: u64 = 100;
/// Embeds in one `select`: the related records one record holds.
pub const MAX_EMBEDS_PER_SELECT: usize = 8;
/// Embeds in the whole query, at every level.
pub const MAX_EMBEDS: usize = 20;
/// Records one answer may hold: the page's, and for every embed the
/// product of the limits along its path (a single related record counts 1).
pub const MAX_ROWS: u64 = 100_000;
/// Bytes of the compiled statement: twice what all the fields of the widest
/// entity a definition may have (500 fields, names of 63 bytes) take.
pub const MAX_STATEMENT_BYTES: usize = 128 * 1024;
/// Parameters (values of the document) of the compiled statement.
pub const MAX_PARAMS: usize = 256;

fn too_much(message: String, pointer: &str, hint: &str) -> CotError {
    CotError::new(ErrorKind::ProgramLimit, message)
        .detail(format!("at {}", if pointer.is_empty() { "/" } else { pointer }))
        .hint(hint)
}

fn embeds(select: &[Selection]) -> impl Iterator<Item = &Embed> {
    select.iter().filter_map(|s| match s {
        Selection::Embed(e) => Some(e.as_ref()),
        Selection::Column(_) => None,
    })
}

/// The records one embed holds per record above it.
fn per_record(e: &Embed) -> u64 {
    match e.join {
        Join::One { .. } => 1,
        Join::Many { .. } | Join::Junction { .. } => e.limit.unwrap_or(DEFAULT_EMBED_LIMIT),
    }
}

/// The shape of a parsed query: embeds per select and in all, each relation
/// once per select, and the records the answer can hold.
pub(super) fn check_shape(q: &Query) -> Result<(), CotError> {
    let mut seen = 0;
    check_embeds(&q.select, &mut seen)?;
    check_rows(q)
}

/// In document order, so that the error points at the first embed too many.
fn check_embeds(select: &[Selection], seen: &mut usize) -> Result<(), CotError> {
    let mut here: Vec<&str> = Vec::new();
    for e in embeds(select) {
        if here.contains(&e.name.as_str()) {
            return Err(too_much(
                format!(
                    "relation {} is embedded twice in one select",
                    shown(e.name.as_str())
                ),
                &e.at,
                "embed each relation once per select; one embed takes its own select, where, order and limit",
            ));
        }
        here.push(e.name.as_str());
        if here.len() > MAX_EMBEDS_PER_SELECT {
            return Err(too_much(
                format!("a select holds at most {MAX_EMBEDS_PER_SELECT} embedded relations"),
                &e.at,
                "query the other related records separately",
            ));
        }
        *seen += 1;
        if *seen > MAX_EMBEDS {
            return Err(too_much(
                format!("a query holds at most {MAX_EMBEDS} embedded relations in all"),
                &e.at,
                "query some of the related records separately",
            ));
        }
        check_embeds(&e.select, seen)?;
    }
    Ok(())
}

/// Records under `select` for `per` records holding it.
fn rows_under(select: &[Selection], per: u64) -> u64 {
    embeds(select).fold(0u64, |sum, e| {
        let n = per.saturating_mul(per_record(e));
        sum.saturating_add(n).saturating_add(rows_under(&e.select, n))
    })
}

/// The first embed, in document order, at which the running count of
/// records passes [`MAX_ROWS`].
fn crossing<'a>(select: &'a [Selection], per: u64, running: &mut u64) -> Option<&'a Embed> {
    for e in embeds(select) {
        let n = per.saturating_mul(per_record(e));
        *running = running.saturating_add(n);
        if *running > MAX_ROWS {
            return Some(e);
        }
        if let Some(found) = crossing(&e.select, n, running) {
            return Some(found);
        }
    }
    None
}

fn check_rows(q: &Query) -> Result<(), CotError> {
    let all = q.limit.saturating_add(rows_under(&q.select, q.limit));
    if all <= MAX_ROWS {
        return Ok(());
    }
    let mut running = q.limit;
    let at = crossing(&q.select, q.limit, &mut running).map_or("/limit", |e| e.at.as_str());
    Err(too_much(
        format!("the query can return up to {all} records (the page and its related records), more than the {MAX_ROWS} accepted"),
        at,
        &format!(
            "each record of the page holds its related records: give embedded arrays a smaller limit \
             (without one they hold up to {DEFAULT_EMBED_LIMIT}), or ask for a smaller page"
        ),
    ))
}

/// The compiled statement: its size and its number of parameters.
pub(super) fn check_statement(sql: &str, params: &[Param]) -> Result<(), CotError> {
    if params.len() > MAX_PARAMS {
        let at = match &params[MAX_PARAMS] {
            Param::Value { at, .. } | Param::List { at, .. } => at.as_str(),
        };
        return Err(too_much(
            format!(
                "the query has {} values, more than the {MAX_PARAMS} accepted",
                params.len()
            ),
            at,
            "compare a field with a list of values in one \"in\", or split the query",
        ));
    }
    if sql.len() > MAX_STATEMENT_BYTES {
        return Err(too_much(
            format!(
                "the query compiles to a statement of {} bytes, more than the {MAX_STATEMENT_BYTES} accepted",
                sql.len()
            ),
            "",
            "select fewer fields and related records, or write a shorter where",
        ));
    }
    Ok(())
}
