//! The one place that writes query text. Names come from definitions and go
//! through [`quote_ident`]; every value the caller gave is a parameter
//! (`$n`, text or text[], cast to the column's type in SQL), so a value can
//! never change the statement's shape.

use super::parse::signature;
use super::{Column, Embed, Filter, Join, Op, Query, Selection};
use crate::names::{Ident, TenantNames};
use crate::sql::{quote_ident, quote_literal, quote_qualified};
use crate::types::{FieldType, Scalar};
use serde_json::Value;

/// A parameter's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// Bound as `text`.
    Text(String),
    /// Bound as `text[]`.
    TextArray(Vec<String>),
}

/// A compiled query.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// Returns one row, one jsonb: `{data, next_cursor, count}`.
    pub sql: String,
    /// Its parameters, `$1` first.
    pub params: Vec<Param>,
    /// No related records: a generic plan serves every call as well as a
    /// custom one (with embeds, measured: a generic plan ran 25 times slower).
    pub generic_plan: bool,
    /// The order signature cursors carry.
    pub signature: String,
}

#[derive(Default)]
struct Params(Vec<Param>);

impl Params {
    fn text(&mut self, s: String) -> String {
        self.0.push(Param::Text(s));
        format!("${}", self.0.len())
    }
    fn array(&mut self, items: Vec<String>) -> String {
        self.0.push(Param::TextArray(items));
        format!("${}", self.0.len())
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
        Filter::Compare { column, op, value } => compare(column, *op, value, alias, p),
    }
}

fn compare(c: &Column, op: Op, v: &Value, alias: &str, p: &mut Params) -> String {
    let lhs = col(alias, &c.name);
    let json = matches!(c.ty, FieldType::Scalar(Scalar::Json));
    let one = |p: &mut Params| {
        if json {
            format!("{}::jsonb", p.text(v.to_string()))
        } else {
            format!("{}::{}", p.text(value_text(v)), cast(&c.ty))
        }
    };
    let many = |p: &mut Params, ty: &str| {
        let items = v
            .as_array()
            .map(|a| a.iter().map(value_text).collect())
            .unwrap_or_default();
        format!("{}::text[]::{ty}", p.array(items))
    };
    let item_array = match &c.ty {
        FieldType::Scalar(s) | FieldType::Array(s) => format!("{}[]", s.cast_type()),
    };
    match op {
        Op::Eq => format!("{lhs} = {}", one(p)),
        Op::Neq => format!("{lhs} <> {}", one(p)),
        Op::Lt => format!("{lhs} < {}", one(p)),
        Op::Lte => format!("{lhs} <= {}", one(p)),
        Op::Gt => format!("{lhs} > {}", one(p)),
        Op::Gte => format!("{lhs} >= {}", one(p)),
        Op::In => format!("{lhs} = ANY ({})", many(p, &item_array)),
        Op::Like => format!("{lhs} LIKE {}", p.text(value_text(v))),
        Op::Ilike => format!("{lhs} ILIKE {}", p.text(value_text(v))),
        Op::IsNull if v.as_bool() == Some(true) => format!("{lhs} IS NULL"),
        Op::IsNull => format!("{lhs} IS NOT NULL"),
        Op::Contains if json => format!("{lhs} @> {}", one(p)),
        Op::Contains => format!("{lhs} @> {}", many(p, &item_array)),
        Op::Overlaps => format!("{lhs} && {}", many(p, &item_array)),
        Op::Match => format!(
            "to_tsvector('simple', {lhs}) @@ websearch_to_tsquery('simple', {})",
            p.text(value_text(v))
        ),
    }
}

/// `jsonb_build_object` takes at most 100 arguments: wide records are built
/// from pieces of 50 pairs joined with `||`.
fn object(sel: &[Selection], alias: &str, depth: usize, t: &TenantNames) -> String {
    let pairs: Vec<String> = sel
        .iter()
        .map(|s| match s {
            Selection::Column(c) => format!("{}, {}", quote_literal(c.name.as_str()), col(alias, &c.name)),
            Selection::Embed(e) => format!(
                "{}, {}",
                quote_literal(e.name.as_str()),
                embed(e, alias, depth + 1, t)
            ),
        })
        .collect();
    pairs
        .chunks(50)
        .map(|chunk| format!("jsonb_build_object({})", chunk.join(", ")))
        .collect::<Vec<_>>()
        .join(" || ")
}

fn embed(e: &Embed, outer: &str, depth: usize, t: &TenantNames) -> String {
    let alias = format!("v{depth}");
    let target = quote_qualified(&t.api_schema, &e.target);
    let obj = object(&e.select, &alias, depth, t);
    let id = |a: &str| col(a, &crate::names::fixed("id"));
    match &e.join {
        Join::One { column } => format!(
            "(SELECT {obj} FROM {target} AS {alias} WHERE {} = {})",
            id(&alias),
            col(outer, column)
        ),
        Join::Many { column } => format!(
            "(SELECT COALESCE(jsonb_agg({obj} ORDER BY {}), '[]'::jsonb) FROM {target} AS {alias} WHERE {} = {})",
            id(&alias),
            col(&alias, column),
            id(outer)
        ),
        Join::Junction { table, source, target: target_col } => {
            let j = format!("j{depth}");
            format!(
                "(SELECT COALESCE(jsonb_agg({obj} ORDER BY {}), '[]'::jsonb) FROM {target} AS {alias} \
                 JOIN {} AS {j} ON {} = {} WHERE {} = {})",
                id(&alias),
                quote_qualified(&t.api_schema, table),
                col(&j, target_col),
                id(&alias),
                col(&j, source),
                id(outer)
            )
        }
    }
}

/// Rows after the cursor's key, in the query's order (ascending keys sort
/// NULLs last, descending first, as Postgres does by default, so a plain
/// btree index serves either direction).
fn keyset(q: &Query, after: &[Value], alias: &str, p: &mut Params) -> String {
    let id = Column {
        name: crate::names::fixed("id"),
        ty: FieldType::Scalar(Scalar::Uuid),
        not_null: true,
    };
    let keys: Vec<(&Column, bool)> = q
        .order
        .iter()
        .map(|o| (&o.column, o.desc))
        .chain([(&id, q.id_desc)])
        .collect();
    // One direction, no NULLs possible: a row comparison, which an index on
    // the leading column serves directly.
    let same_direction = keys.iter().all(|k| k.1 == keys[0].1);
    if same_direction && keys.iter().all(|k| k.0.not_null) && after.iter().all(|v| !v.is_null()) {
        let cols: Vec<String> = keys.iter().map(|k| col(alias, &k.0.name)).collect();
        let vals: Vec<String> = keys
            .iter()
            .zip(after)
            .map(|(k, v)| format!("{}::{}", p.text(value_text(v)), cast(&k.0.ty)))
            .collect();
        let op = if keys[0].1 { "<" } else { ">" };
        return format!("({}) {op} ({})", cols.join(", "), vals.join(", "));
    }
    let mut disjuncts = Vec::new();
    for i in 0..keys.len() {
        let (c, desc) = keys[i];
        let x = &after[i];
        let lhs = col(alias, &c.name);
        let later = match (desc, x.is_null()) {
            (false, true) => continue,
            (false, false) if c.not_null => format!("{lhs} > {}::{}", p.text(value_text(x)), cast(&c.ty)),
            (false, false) => format!(
                "({lhs} > {}::{} OR {lhs} IS NULL)",
                p.text(value_text(x)),
                cast(&c.ty)
            ),
            (true, true) => format!("{lhs} IS NOT NULL"),
            (true, false) => format!("{lhs} < {}::{}", p.text(value_text(x)), cast(&c.ty)),
        };
        let mut parts: Vec<String> = keys[..i]
            .iter()
            .zip(after)
            .map(|((c, _), x)| {
                let lhs = col(alias, &c.name);
                if x.is_null() {
                    format!("{lhs} IS NULL")
                } else {
                    format!("{lhs} = {}::{}", p.text(value_text(x)), cast(&c.ty))
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
pub fn compile(q: &Query, t: &TenantNames, entity: &Ident) -> Compiled {
    let alias = "v0";
    let view = quote_qualified(&t.api_schema, entity);
    let mut p = Params::default();
    let record = object(&q.select, alias, 0, t);
    let mut conds = Vec::new();
    if let Some(f) = &q.filter {
        conds.push(condition(f, alias, &mut p));
    }
    if let Some(after) = &q.after {
        conds.push(keyset(q, after, alias, &mut p));
    }
    let id = crate::names::fixed("id");
    // Keys travel in cursors as text: through jsonb, so numbers keep every
    // digit and instants are ISO 8601 whatever the session's DateStyle.
    let as_text = |c: String| format!("to_jsonb({c}) #>> '{{}}'");
    let mut key: Vec<String> = q
        .order
        .iter()
        .map(|o| as_text(col(alias, &o.column.name)))
        .collect();
    key.push(as_text(col(alias, &id)));
    let mut order: Vec<String> = q
        .order
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                col(alias, &o.column.name),
                if o.desc {
                    "DESC NULLS FIRST"
                } else {
                    "ASC NULLS LAST"
                }
            )
        })
        .collect();
    order.push(format!(
        "{} {}",
        col(alias, &id),
        if q.id_desc { "DESC" } else { "ASC" }
    ));
    let page = p.text(q.limit.to_string());
    let offset = p.text(q.offset.to_string());
    let signature = signature(&q.order, q.id_desc);
    let sig = p.text(signature.clone());
    let count = if q.count {
        let cond = q.filter.as_ref().map(|f| condition(f, "c0", &mut p));
        format!(
            "(SELECT count(*) FROM {view} AS c0{})",
            cond.map(|c| format!(" WHERE {c}")).unwrap_or_default()
        )
    } else {
        "NULL::bigint".into()
    };
    // One statement makes the whole answer, so the page is never converted
    // out of jsonb and back: the rows of the page (one more, to know whether
    // a next page exists), numbered in the page's order; the records; the
    // cursor after the last one (base64url of {"o": order, "k": key}); the count.
    let sql = format!(
        "SELECT jsonb_build_object(\
         'data', COALESCE(jsonb_agg(p.r ORDER BY p.n) FILTER (WHERE p.n <= {page}::bigint), '[]'::jsonb), \
         'next_cursor', CASE WHEN {page}::bigint > 0 AND count(*) > {page}::bigint THEN \
           translate(encode(convert_to(jsonb_build_object('o', {sig}::text, 'k', \
             (array_agg(p.k ORDER BY p.n) FILTER (WHERE p.n = {page}::bigint))[1])::text, 'UTF8'), 'base64'), \
             E'+/=\\n', '-_') END, \
         'count', {count}) \
         FROM (SELECT {record} AS r, jsonb_build_array({}) AS k, row_number() OVER (ORDER BY {order}) - {offset}::bigint AS n \
               FROM {view} AS {alias}{} ORDER BY {order} LIMIT {page}::bigint + 1 OFFSET {offset}::bigint) AS p",
        key.join(", "),
        if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        },
        order = order.join(", ")
    );
    Compiled {
        sql,
        params: p.0,
        generic_plan: !q.select.iter().any(|s| matches!(s, Selection::Embed(_))),
        signature,
    }
}
