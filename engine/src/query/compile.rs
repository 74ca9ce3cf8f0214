//! The one place that writes query text. Names come from definitions and go
//! through [`quote_ident`]; every value the caller gave is a parameter
//! (`$n`, text or text[], cast to the column's type in SQL), so a value can
//! never change the statement's shape.

use super::bounds::check_statement;
use super::parse::signature;
use super::{Column, Embed, Filter, Join, Op, Order, Query, Selection, DEFAULT_EMBED_LIMIT};
use crate::error::CotError;
use crate::names::{Ident, TenantNames};
use crate::scalar::Scalar;
use crate::sql::{quote_ident, quote_literal, quote_qualified};
use crate::types::FieldType;
use serde_json::Value;

/// A parameter: values the caller gave, as text, bound with the type of
/// what they are compared with, so that the statement compares like with
/// like and never converts per row (a text parameter cast in SQL was read
/// again for every row a filter looked at).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// One value, bound as the type named `ty` (a `cast_type` name, with
    /// `[]` for an array column), whose input function reads `text`.
    Value {
        /// The type.
        ty: String,
        /// The value, as that type's input function reads it.
        text: String,
        /// Where it is in the query document (a JSON pointer), for the error
        /// when the type cannot read it.
        at: String,
    },
    /// A list of values, bound as an array of the type named `ty`.
    List {
        /// The element type.
        ty: String,
        /// The values.
        items: Vec<String>,
        /// Where the list is in the query document; `/i` follows for an item.
        at: String,
    },
}

/// A compiled query: one statement that reads a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// The page statement. Each row: the record as jsonb (`r`), then the
    /// key columns `k1..kn` as stored (the order columns, then the id), then,
    /// when `count`, the number of matching records. It reads `limit + 1`
    /// rows, the last only to know whether a next page exists.
    pub sql: String,
    /// Its parameters, `$1` first.
    pub params: Vec<Param>,
    /// The types of the key columns, in order: the cursor after a page holds
    /// its last record's key.
    pub keys: Vec<Scalar>,
    /// Records per page.
    pub limit: u64,
    /// Each row ends with the count; a page with no records is then one row
    /// whose `r` is NULL.
    pub count: bool,
    /// No filter, here or in related records: one generic plan serves every
    /// call as well as a plan made for the call's values would (those are
    /// only a cursor's, which the sort's index bounds). With a filter, PostgreSQL chooses, as for any
    /// prepared statement: a generic plan assumes average selectivities, and
    /// for a rare value of a skewed field it could scan the whole table.
    pub generic_plan: bool,
    /// The order signature cursors carry.
    pub signature: String,
}

/// The parameters of a statement; with `.1` set, values are written inline
/// as quoted literals instead (a workflow guard compiled into a trigger,
/// which has no parameters).
#[derive(Default)]
struct Params(Vec<Param>, bool);

impl Params {
    /// The placeholder of a new value parameter, with its type written out
    /// (the cast changes nothing: the parameter has that type).
    fn value(&mut self, ty: String, text: String, at: &str) -> String {
        if self.1 {
            return format!("{}::{ty}", quote_literal(&text));
        }
        let placeholder = format!("${}::{ty}", self.0.len() + 1);
        self.0.push(Param::Value {
            ty,
            text,
            at: at.to_string(),
        });
        placeholder
    }
    /// The same for a list, bound as an array of `ty`.
    fn list(&mut self, ty: &str, items: Vec<String>, at: &str) -> String {
        if self.1 {
            let items: Vec<String> = items.iter().map(|i| quote_literal(i)).collect();
            return format!("ARRAY[{}]::{ty}[]", items.join(", "));
        }
        self.0.push(Param::List {
            ty: ty.to_string(),
            items,
            at: at.to_string(),
        });
        format!("${}::{ty}[]", self.0.len())
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn cast(ty: &FieldType) -> String {
    match ty {
        FieldType::Scalar(s) => s.cast_type().to_string(),
        FieldType::Array(s) => format!("{}[]", s.cast_type()),
    }
}

fn col(alias: &str, c: &Ident) -> String {
    format!("{alias}.{}", quote_ident(c))
}

fn condition(f: &Filter, alias: &str, p: &mut Params) -> String {
    match f {
        Filter::And(parts) if parts.is_empty() => "true".into(),
        Filter::Or(parts) if parts.is_empty() => "false".into(),
        Filter::And(parts) => format!(
            "({})",
            parts
                .iter()
                .map(|x| condition(x, alias, p))
                .collect::<Vec<_>>()
                .join(" AND ")
        ),
        Filter::Or(parts) => format!(
            "({})",
            parts
                .iter()
                .map(|x| condition(x, alias, p))
                .collect::<Vec<_>>()
                .join(" OR ")
        ),
        Filter::Not(x) => format!("NOT {}", condition(x, alias, p)),
        Filter::Compare {
            column,
            op,
            value,
            at,
        } => compare(column, *op, value, at, alias, p),
    }
}

fn compare(c: &Column, op: Op, v: &Value, at: &str, alias: &str, p: &mut Params) -> String {
    let lhs = col(alias, &c.name);
    let json = matches!(c.ty, FieldType::Scalar(Scalar::Json));
    let one = |p: &mut Params| {
        if json {
            p.value("jsonb".into(), v.to_string(), at)
        } else {
            p.value(cast(&c.ty), value_text(v), at)
        }
    };
    let item = match &c.ty {
        FieldType::Scalar(s) | FieldType::Array(s) => s.cast_type(),
    };
    let many = |p: &mut Params| {
        let items = v
            .as_array()
            .map(|a| a.iter().map(value_text).collect())
            .unwrap_or_default();
        p.list(item, items, at)
    };
    let text = |p: &mut Params| p.value("text".into(), value_text(v), at);
    match op {
        Op::Eq => format!("{lhs} = {}", one(p)),
        Op::Neq => format!("{lhs} <> {}", one(p)),
        Op::Lt => format!("{lhs} < {}", one(p)),
        Op::Lte => format!("{lhs} <= {}", one(p)),
        Op::Gt => format!("{lhs} > {}", one(p)),
        Op::Gte => format!("{lhs} >= {}", one(p)),
        Op::In => format!("{lhs} = ANY ({})", many(p)),
        Op::Like => format!("{lhs} LIKE {}", text(p)),
        Op::Ilike => format!("{lhs} ILIKE {}", text(p)),
        Op::IsNull if v.as_bool() == Some(true) => format!("{lhs} IS NULL"),
        Op::IsNull => format!("{lhs} IS NOT NULL"),
        Op::Contains if json => format!("{lhs} @> {}", one(p)),
        Op::Contains => format!("{lhs} @> {}", many(p)),
        Op::Overlaps => format!("{lhs} && {}", many(p)),
        Op::Match => format!(
            "to_tsvector('simple', {lhs}) @@ websearch_to_tsquery('simple', {})",
            text(p)
        ),
    }
}

/// A condition with its values written inline as quoted, typed literals,
/// over the row named `alias` (`NEW` in a trigger): a workflow guard. The
/// values were checked against the columns' types when the definition was.
pub fn inline_condition(f: &Filter, alias: &str) -> String {
    condition(f, alias, &mut Params(Vec::new(), true))
}

/// `jsonb_build_object` takes at most 100 arguments: wide records are built
/// from pieces of 50 pairs joined with `||`.
fn object(sel: &[Selection], alias: &str, depth: usize, t: &TenantNames, p: &mut Params) -> String {
    let pairs: Vec<String> = sel
        .iter()
        .map(|s| match s {
            Selection::Column(c) => format!("{}, {}", quote_literal(c.name.as_str()), col(alias, &c.name)),
            Selection::Embed(e) => format!(
                "{}, {}",
                quote_literal(e.name.as_str()),
                embed(e, alias, depth + 1, t, p)
            ),
        })
        .collect();
    pairs
        .chunks(50)
        .map(|chunk| format!("jsonb_build_object({})", chunk.join(", ")))
        .collect::<Vec<_>>()
        .join(" || ")
}

fn id_column() -> Column {
    Column {
        name: crate::names::fixed("id"),
        ty: FieldType::Scalar(Scalar::Uuid),
        not_null: true,
    }
}

/// One key of an order: a column, its direction, and for an enum sorted by
/// its declared order, the values (the key is then the value's place in
/// them, an integer).
#[derive(Clone, Copy)]
struct Key<'a> {
    column: &'a Column,
    desc: bool,
    values: Option<&'a [String]>,
}

impl Key<'_> {
    /// The key's value in a row of `alias`: the column, or
    /// `array_position(ARRAY[the values], column)`. The values are the
    /// definition's, not the caller's: written as literals, they are part of
    /// the statement's shape, like the column names.
    fn expr(&self, alias: &str) -> String {
        let c = col(alias, &self.column.name);
        match self.values {
            None => c,
            Some(values) => {
                let items: Vec<String> = values.iter().map(|v| quote_literal(v)).collect();
                format!("array_position(ARRAY[{}]::text[], {c})", items.join(", "))
            }
        }
    }

    /// The type of the key's value.
    fn ty(&self) -> FieldType {
        match self.values {
            None => self.column.ty.clone(),
            Some(_) => FieldType::Scalar(Scalar::Integer),
        }
    }
}

/// The keys of an order: its columns, then the id, each with its direction.
fn order_keys<'a>(order: &'a [Order], id: &'a Column, id_desc: bool) -> Vec<Key<'a>> {
    order
        .iter()
        .map(|o| Key {
            column: &o.column,
            desc: o.desc,
            values: o.by_values.as_deref(),
        })
        .chain([Key {
            column: id,
            desc: id_desc,
            values: None,
        }])
        .collect()
}

/// `ORDER BY` text for `keys`, each written by `of` (its place, its column).
/// Directions sort as Postgres does by default (NULLs count as larger than any
/// value), so a plain btree index serves either; the id is never NULL.
fn order_by(keys: &[Key<'_>], of: impl Fn(usize, &Key<'_>) -> String) -> String {
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            let direction = match (k.desc, k.column.name.as_str() == "id") {
                (true, false) => "DESC NULLS FIRST",
                (false, false) => "ASC NULLS LAST",
                (true, true) => "DESC",
                (false, true) => "ASC",
            };
            format!("{} {direction}", of(i, k))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn embed(e: &Embed, outer: &str, depth: usize, t: &TenantNames, p: &mut Params) -> String {
    let alias = format!("v{depth}");
    let target = quote_qualified(&t.api_schema, &e.target);
    let obj = object(&e.select, &alias, depth, t, p);
    let id = |a: &str| col(a, &crate::names::fixed("id"));
    let (from, link) = match &e.join {
        Join::One { column } => (
            format!("{target} AS {alias}"),
            format!("{} = {}", id(&alias), col(outer, column)),
        ),
        Join::Many { column } => (
            format!("{target} AS {alias}"),
            format!("{} = {}", col(&alias, column), id(outer)),
        ),
        Join::Junction {
            table,
            source,
            target: target_col,
        } => {
            let j = format!("j{depth}");
            (
                format!(
                    "{target} AS {alias} JOIN {} AS {j} ON {} = {}",
                    quote_qualified(&t.api_schema, table),
                    col(&j, target_col),
                    id(&alias)
                ),
                format!("{} = {}", col(&j, source), id(outer)),
            )
        }
    };
    let filter = e
        .filter
        .as_ref()
        .map(|f| format!(" AND {}", condition(f, &alias, p)))
        .unwrap_or_default();
    if matches!(e.join, Join::One { .. }) {
        return format!("(SELECT {obj} FROM {from} WHERE {link}{filter})");
    }
    let id_col = id_column();
    let keys = order_keys(&e.order, &id_col, e.id_desc);
    // An array always has a limit (the parser gives one by default).
    let limit = e.limit.unwrap_or(DEFAULT_EMBED_LIMIT);
    // The first `limit` in order, then aggregated in that order again (an
    // aggregate does not promise to keep its input's order).
    let sub = format!("e{depth}");
    let sub_keys: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{} AS k{}", k.expr(&alias), i + 1))
        .collect();
    format!(
        "(SELECT COALESCE(jsonb_agg({sub}.r ORDER BY {}), '[]'::jsonb) FROM (SELECT {obj} AS r, {} FROM {from} WHERE {link}{filter} \
         ORDER BY {} LIMIT {limit}) AS {sub})",
        order_by(&keys, |i, _| format!("{sub}.k{}", i + 1)),
        sub_keys.join(", "),
        order_by(&keys, |_, k| k.expr(&alias)),
    )
}

/// Rows after the cursor's key, in the query's order (ascending keys sort
/// NULLs last, descending first, as Postgres does by default, so a plain
/// btree index serves either direction).
fn keyset(q: &Query, after: &[Value], alias: &str, p: &mut Params) -> String {
    let id = id_column();
    let keys = order_keys(&q.order, &id, q.id_desc);
    // One direction, no NULLs possible: a row comparison, which an index on
    // the leading column serves directly.
    let same_direction = keys.iter().all(|k| k.desc == keys[0].desc);
    if same_direction && keys.iter().all(|k| k.column.not_null) && after.iter().all(|v| !v.is_null()) {
        let cols: Vec<String> = keys.iter().map(|k| k.expr(alias)).collect();
        let vals: Vec<String> = keys
            .iter()
            .zip(after)
            .map(|(k, v)| p.value(cast(&k.ty()), value_text(v), "/cursor"))
            .collect();
        let op = if keys[0].desc { "<" } else { ">" };
        return format!("({}) {op} ({})", cols.join(", "), vals.join(", "));
    }
    let mut disjuncts = Vec::new();
    for i in 0..keys.len() {
        let k = keys[i];
        let x = &after[i];
        let lhs = k.expr(alias);
        let ty = cast(&k.ty());
        let later = match (k.desc, x.is_null()) {
            (false, true) => continue,
            (false, false) if k.column.not_null => {
                format!("{lhs} > {}", p.value(ty, value_text(x), "/cursor"))
            }
            (false, false) => format!(
                "({lhs} > {} OR {lhs} IS NULL)",
                p.value(ty, value_text(x), "/cursor")
            ),
            (true, true) => format!("{lhs} IS NOT NULL"),
            (true, false) => format!("{lhs} < {}", p.value(ty, value_text(x), "/cursor")),
        };
        let mut parts: Vec<String> = keys[..i]
            .iter()
            .zip(after)
            .map(|(k, x)| {
                let lhs = k.expr(alias);
                if x.is_null() {
                    format!("{lhs} IS NULL")
                } else {
                    format!("{lhs} = {}", p.value(cast(&k.ty()), value_text(x), "/cursor"))
                }
            })
            .collect();
        parts.push(later);
        disjuncts.push(format!("({})", parts.join(" AND ")));
    }
    if disjuncts.is_empty() {
        "false".into()
    } else {
        format!("({})", disjuncts.join(" OR "))
    }
}

/// Compiles `q` over `entity`'s API view in tenant `t`.
///
/// The page size and the offset are written as numbers, not parameters: they
/// are integers the parser bounded, and a kept plan must know them.
/// With `LIMIT $n` the planner costed the page as if it read a tenth of the
/// table, and past `jit_above_cost` Postgres compiled the statement with LLVM
/// on every call (10 ms for a 20-record page that runs in 0.4 ms).
///
/// A statement larger than [`super::MAX_STATEMENT_BYTES`] or with more than
/// [`super::MAX_PARAMS`] parameters is refused (`54000`), before anything
/// prepares it.
pub fn compile(q: &Query, t: &TenantNames, entity: &Ident) -> Result<Compiled, CotError> {
    let alias = "v0";
    let view = quote_qualified(&t.api_schema, entity);
    let mut p = Params::default();
    let record = object(&q.select, alias, 0, t, &mut p);
    let mut conds = Vec::new();
    if let Some(f) = &q.filter {
        conds.push(condition(f, alias, &mut p));
    }
    if let Some(after) = &q.after {
        conds.push(keyset(q, after, alias, &mut p));
    }
    let id = id_column();
    let keys = order_keys(&q.order, &id, q.id_desc);
    // The page is picked in a subquery and its records built outside it:
    // built in the same SELECT as the sort, each record's JSON (embeds too)
    // was made for every row the sort read, not for the page alone (1.9 s
    // against 0.15 s to sort 1M rows by a column without an index). The
    // sort keys' names are upper case, which no field's name can be.
    let inner_keys: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{} AS \"K{}\"", k.expr(alias), i + 1))
        .collect();
    let outer_keys: Vec<String> = (1..=keys.len())
        .map(|i| format!("{alias}.\"K{i}\" AS k{i}"))
        .collect();
    let page = format!(
        "SELECT {record} AS r, {} FROM (SELECT {alias}.*, {} FROM {view} AS {alias}{} ORDER BY {} LIMIT {}{}) AS {alias} ORDER BY {}",
        outer_keys.join(", "),
        inner_keys.join(", "),
        if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        },
        order_by(&keys, |_, k| k.expr(alias)),
        q.limit + 1,
        if q.offset > 0 {
            format!(" OFFSET {}", q.offset)
        } else {
            String::new()
        },
        order_by(&keys, |i, _| format!("{alias}.\"K{}\"", i + 1))
    );
    let sql = if q.count {
        // The count in the same statement, so under the same snapshot as the
        // page; joined laterally so that an empty page still gives its row.
        let cond = q.filter.as_ref().map(|f| condition(f, "c0", &mut p));
        format!(
            "SELECT p.*, c.n FROM (SELECT count(*) AS n FROM {view} AS c0{}) AS c \
             LEFT JOIN LATERAL ({page}) AS p ON true ORDER BY {}",
            cond.map(|c| format!(" WHERE {c}")).unwrap_or_default(),
            order_by(&keys, |i, _| format!("p.k{}", i + 1))
        )
    } else {
        page
    };
    let generic_plan = p.0.iter().all(|x| match x {
        Param::Value { at, .. } | Param::List { at, .. } => at == "/cursor",
    });
    check_statement(&sql, &p.0)?;
    Ok(Compiled {
        sql,
        params: p.0,
        keys: keys
            .iter()
            .map(|k| match k.ty() {
                FieldType::Scalar(s) => s,
                // The parser refuses to sort on arrays.
                FieldType::Array(s) => s,
            })
            .collect(),
        limit: q.limit,
        count: q.count,
        generic_plan,
        signature: signature(&q.order, q.id_desc),
    })
}
