//! Reading a JSON query against an entity's definition.
//!
//! ```json
//! {"select": ["title", "total", {"customer": ["name"]}, {"tags": "*"}],
//!  "where": {"status": {"eq": "paid"}, "or": [{"total": {"gt": 100}}, {"title": {"ilike": "%rush%"}}]},
//!  "order": ["-created_at", "title"], "limit": 50, "cursor": "...", "count": true}
//! ```
//! Keys of a `where` object are ANDed; `and`, `or` and `not` nest; a field
//! maps to `{operator: value}` (several operators are ANDed) or to a bare
//! value, which means `eq`.

use super::bounds::check_shape;
use super::cursor::decode_cursor;
use super::{
    columns, Column, Embed, Filter, Join, Model, Op, Order, Query, Selection, DEFAULT_EMBED_LIMIT,
    DEFAULT_LIMIT, MAX_DEPTH, MAX_LIMIT,
};
use crate::error::{CotError, ErrorKind};
use crate::names::shown;
use crate::scalar::Scalar;
use crate::types::{Entity, FieldType, RelationKind};
use serde_json::Value;

fn bad(pointer: &str, message: String, hint: &str) -> CotError {
    CotError::new(ErrorKind::InvalidParameter, message)
        .detail(format!("at {}", if pointer.is_empty() { "/" } else { pointer }))
        .hint(hint)
}

fn unknown_field(e: &Entity, name: &str, pointer: &str) -> CotError {
    let known: Vec<String> = columns(e).iter().map(|c| c.name.to_string()).collect();
    CotError::new(
        ErrorKind::UndefinedColumn,
        format!("entity \"{}\" has no field {}", e.name, shown(name)),
    )
    .detail(format!("at {pointer}"))
    .hint(format!("its fields: {}", known.join(", ")))
}

fn column(e: &Entity, name: &str, pointer: &str) -> Result<Column, CotError> {
    columns(e)
        .into_iter()
        .find(|c| c.name.as_str() == name)
        .ok_or_else(|| unknown_field(e, name, pointer))
}

/// Reads `query` for `entity` of the model.
pub fn parse(model: &Model<'_>, entity: &Entity, query: &Value) -> Result<Query, CotError> {
    let Value::Object(map) = query else {
        return Err(bad(
            "",
            "a query is a JSON object".into(),
            "e.g. {\"where\": {\"status\": \"paid\"}}",
        ));
    };
    for key in map.keys() {
        if !["select", "where", "order", "limit", "offset", "cursor", "count"].contains(&key.as_str()) {
            return Err(bad(
                &format!("/{key}"),
                format!("unknown query key {}", shown(key)),
                "the keys are: select, where, order, limit, offset, cursor, count",
            ));
        }
    }
    let select = match map.get("select") {
        None => all_columns(entity),
        Some(s) => selection(model, entity, s, "/select", 1)?,
    };
    let filter = match map.get("where") {
        None => None,
        Some(w) => Some(filter(entity, w, "/where")?),
    };
    let (order, id_desc) = match map.get("order") {
        None => (Vec::new(), false),
        Some(o) => order(entity, o, "/order")?,
    };
    let number = |key: &str, default: u64, max: u64| -> Result<u64, CotError> {
        match map.get(key) {
            None => Ok(default),
            Some(v) => v.as_u64().filter(|n| *n <= max).ok_or_else(|| {
                bad(
                    &format!("/{key}"),
                    format!("{key} must be a whole number from 0 to {max}"),
                    "e.g. {\"limit\": 50, \"offset\": 100}",
                )
            }),
        }
    };
    let limit = number("limit", DEFAULT_LIMIT, MAX_LIMIT)?;
    let offset = number("offset", 0, i64::MAX as u64)?;
    let after = match map.get("cursor") {
        None | Some(Value::Null) => None,
        Some(Value::String(c)) => {
            if offset > 0 {
                return Err(bad(
                    "/cursor",
                    "a query takes a cursor or an offset, not both".into(),
                    "next pages come from next_cursor alone",
                ));
            }
            Some(decode_cursor(c, &signature(&order, id_desc), order.len() + 1)?)
        }
        Some(_) => {
            return Err(bad(
                "/cursor",
                "cursor must be a string".into(),
                "pass next_cursor as it came",
            ))
        }
    };
    let count = match map.get("count") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(Value::String(s)) if s == "exact" => true,
        Some(_) => {
            return Err(bad(
                "/count",
                "count must be true, false or \"exact\"".into(),
                "e.g. {\"count\": true}",
            ))
        }
    };
    let query = Query {
        select,
        filter,
        order,
        id_desc,
        limit,
        offset,
        after,
        count,
    };
    check_shape(&query)?;
    Ok(query)
}

/// The order as text, kept in cursors: a cursor only continues the ordering
/// it was made for.
pub(super) fn signature(order: &[Order], id_desc: bool) -> String {
    order
        .iter()
        .map(|o| {
            format!(
                "{}{}{}",
                if o.desc { "-" } else { "" },
                o.column.name,
                if o.by_values.is_some() { "@values" } else { "" }
            )
        })
        .chain([if id_desc {
            "-id".to_string()
        } else {
            "id".to_string()
        }])
        .collect::<Vec<_>>()
        .join(",")
}

fn all_columns(e: &Entity) -> Vec<Selection> {
    columns(e).into_iter().map(Selection::Column).collect()
}

fn selection(
    model: &Model<'_>,
    e: &Entity,
    v: &Value,
    pointer: &str,
    depth: usize,
) -> Result<Vec<Selection>, CotError> {
    let items = match v {
        Value::String(s) if s == "*" => return Ok(all_columns(e)),
        Value::Array(items) if !items.is_empty() => items,
        _ => {
            return Err(bad(
                pointer,
                "select is \"*\" or a non-empty array of field names and {relation: select} objects".into(),
                "e.g. [\"title\", {\"customer\": [\"name\"]}]",
            ))
        }
    };
    let mut out = Vec::new();
    // A field named again (or `"*"` twice) adds nothing to the record (a
    // jsonb object holds each key once), only to the statement: kept once.
    let mut named = std::collections::HashSet::new();
    let mut add = |out: &mut Vec<Selection>, c: Column| {
        if named.insert(c.name.clone()) {
            out.push(Selection::Column(c));
        }
    };
    for (i, item) in items.iter().enumerate() {
        let at = format!("{pointer}/{i}");
        match item {
            Value::String(s) if s == "*" => columns(e).into_iter().for_each(|c| add(&mut out, c)),
            Value::String(name) => add(&mut out, column(e, name, &at)?),
            Value::Object(m) if m.len() == 1 => {
                let (name, sub) = m.iter().next().expect("one entry");
                out.push(Selection::Embed(Box::new(embed(
                    model,
                    e,
                    name,
                    sub,
                    &format!("{at}/{name}"),
                    depth,
                )?)));
            }
            _ => {
                return Err(bad(
                    &at,
                    "each select item is a field name, \"*\", or {relation: select}".into(),
                    "e.g. {\"customer\": [\"name\"]}",
                ))
            }
        }
    }
    Ok(out)
}

fn embed(
    model: &Model<'_>,
    e: &Entity,
    name: &str,
    sub: &Value,
    pointer: &str,
    depth: usize,
) -> Result<Embed, CotError> {
    if depth > MAX_DEPTH {
        return Err(CotError::new(
            ErrorKind::ProgramLimit,
            format!("related records nest at most {MAX_DEPTH} levels deep"),
        )
        .detail(format!("at {pointer}"))
        .hint("query the deeper records separately"));
    }
    let Some(r) = e.relations.iter().find(|r| r.name.as_str() == name) else {
        let known: Vec<&str> = e.relations.iter().map(|r| r.name.as_str()).collect();
        return Err(CotError::new(
            ErrorKind::UndefinedColumn,
            format!("entity \"{}\" has no relation {}", e.name, shown(name)),
        )
        .detail(format!("at {pointer}"))
        .hint(if known.is_empty() {
            "it has no relation fields".to_string()
        } else {
            format!("its relations: {}", known.join(", "))
        }));
    };
    // The model holds only the entities the caller may read.
    let Some(target) = model.entity(r.target.as_str()) else {
        return Err(CotError::new(
            ErrorKind::InsufficientPrivilege,
            format!(
                "relation \"{name}\" points at entity \"{}\", which this role may not read",
                r.target
            ),
        )
        .detail(format!("at {pointer}")));
    };
    let join = match r.kind {
        RelationKind::ManyToOne | RelationKind::OneToOne => Join::One {
            column: r.column.clone().expect("has a column"),
        },
        RelationKind::OneToMany => {
            let inverse = r.inverse.as_ref().expect("one_to_many has an inverse");
            let back = target
                .relations
                .iter()
                .find(|t| &t.name == inverse)
                .and_then(|t| t.column.clone())
                .ok_or_else(|| {
                    CotError::new(
                        ErrorKind::UndefinedObject,
                        format!(
                            "relation \"{name}\" names inverse \"{inverse}\", which \"{}\" lacks",
                            r.target
                        ),
                    )
                })?;
            Join::Many { column: back }
        }
        RelationKind::ManyToMany => {
            let j = r.junction.as_ref().expect("many_to_many has a junction");
            Join::Junction {
                table: j.table.clone(),
                source: j.source_column.clone(),
                target: j.target_column.clone(),
            }
        }
    };
    // `{relation: select}`, or `{relation: {select, where, order, limit}}`.
    let star = Value::String("*".into());
    let (select, options) = match sub {
        Value::Object(m) => {
            if let Some(key) = m
                .keys()
                .find(|k| !["select", "where", "order", "limit"].contains(&k.as_str()))
            {
                return Err(bad(
                    &format!("{pointer}/{key}"),
                    format!("unknown key {} in related records", shown(key)),
                    "related records take select, where, order and limit, e.g. {\"orders\": {\"select\": [\"title\"], \"order\": [\"-created_at\"], \"limit\": 5}}",
                ));
            }
            (m.get("select").unwrap_or(&star), Some(m))
        }
        other => (other, None),
    };
    let at = |key: &str| {
        if options.is_some() {
            format!("{pointer}/{key}")
        } else {
            pointer.to_string()
        }
    };
    let option = |key: &str| options.and_then(|m| m.get(key));
    let array = !matches!(join, Join::One { .. });
    for key in ["order", "limit"] {
        if option(key).is_some() && !array {
            return Err(bad(
                &at(key),
                format!("{key} applies to related records that come as an array; \"{name}\" is one record"),
                "order and limit fit one_to_many and many_to_many relations",
            ));
        }
    }
    let filter = option("where")
        .map(|w| filter(target, w, &at("where")))
        .transpose()?;
    let (order, id_desc) = match option("order") {
        Some(o) => order(target, o, &at("order"))?,
        None => (Vec::new(), false),
    };
    let limit = match option("limit") {
        // An array holds at most DEFAULT_EMBED_LIMIT records unless told.
        None => array.then_some(DEFAULT_EMBED_LIMIT),
        Some(v) => Some(v.as_u64().filter(|n| *n <= MAX_LIMIT).ok_or_else(|| {
            bad(
                &at("limit"),
                format!("limit must be a whole number from 0 to {MAX_LIMIT}"),
                "e.g. {\"limit\": 5}",
            )
        })?),
    };
    Ok(Embed {
        name: r.name.clone(),
        join,
        target: target.name.clone(),
        select: selection(model, target, select, &at("select"), depth + 1)?,
        filter,
        order,
        id_desc,
        limit,
        at: pointer.to_string(),
    })
}

/// A `where` condition alone, against the columns of `e` (a workflow guard).
pub fn parse_filter(e: &Entity, v: &Value, pointer: &str) -> Result<Filter, CotError> {
    filter(e, v, pointer)
}

fn filter(e: &Entity, v: &Value, pointer: &str) -> Result<Filter, CotError> {
    let Value::Object(map) = v else {
        return Err(bad(
            pointer,
            "a condition is an object".into(),
            "e.g. {\"status\": {\"eq\": \"paid\"}} or {\"or\": [...]}",
        ));
    };
    let mut all = Vec::new();
    for (key, value) in map {
        let at = format!("{pointer}/{key}");
        match key.as_str() {
            "and" | "or" => {
                let Value::Array(items) = value else {
                    return Err(bad(
                        &at,
                        format!("{key} takes an array of conditions"),
                        "e.g. {\"or\": [{...}, {...}]}",
                    ));
                };
                let parts = items
                    .iter()
                    .enumerate()
                    .map(|(i, c)| filter(e, c, &format!("{at}/{i}")))
                    .collect::<Result<Vec<_>, _>>()?;
                all.push(if key == "and" {
                    Filter::And(parts)
                } else {
                    Filter::Or(parts)
                });
            }
            "not" => all.push(Filter::Not(Box::new(filter(e, value, &at)?))),
            name => {
                let column = column(e, name, &at)?;
                match value {
                    Value::Object(ops) if !ops.is_empty() => {
                        for (op, operand) in ops {
                            let op_at = format!("{at}/{op}");
                            let op = Op::ALL.into_iter().find(|o| o.name() == op).ok_or_else(|| {
                                bad(
                                    &op_at,
                                    format!("unknown operator {}", shown(op)),
                                    "operators: eq, neq, lt, lte, gt, gte, in, like, ilike, is_null, contains, overlaps, match",
                                )
                            })?;
                            check_operand(&column, op, operand, &op_at)?;
                            all.push(Filter::Compare {
                                column: column.clone(),
                                op,
                                value: operand.clone(),
                                at: op_at,
                            });
                        }
                    }
                    Value::Object(_) => {
                        return Err(bad(&at, "an empty condition".into(), "e.g. {\"eq\": 1}"))
                    }
                    other => {
                        check_operand(&column, Op::Eq, other, &at)?;
                        all.push(Filter::Compare {
                            column,
                            op: Op::Eq,
                            value: other.clone(),
                            at,
                        });
                    }
                }
            }
        }
    }
    Ok(if all.len() == 1 {
        all.remove(0)
    } else {
        Filter::And(all)
    })
}

/// Operators meet the column's type, and values their operator, here: the
/// database would say so too, but later and less clearly.
fn check_operand(c: &Column, op: Op, v: &Value, at: &str) -> Result<(), CotError> {
    let array = matches!(c.ty, FieldType::Array(_));
    let json = matches!(c.ty, FieldType::Scalar(Scalar::Json));
    let textual = matches!(&c.ty, FieldType::Scalar(s) if matches!(s, Scalar::Text | Scalar::Enum(_) | Scalar::Email | Scalar::Url));
    let ordered = matches!(&c.ty, FieldType::Scalar(s) if s.is_ordered() || matches!(s, Scalar::Text | Scalar::Enum(_) | Scalar::Email | Scalar::Url | Scalar::Uuid));
    let scalar_value = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    let fits = match op {
        Op::IsNull => v.is_boolean(),
        Op::Eq | Op::Neq if json => !v.is_null(),
        Op::Eq | Op::Neq => !array && scalar_value(v),
        Op::Lt | Op::Lte | Op::Gt | Op::Gte => ordered && scalar_value(v),
        Op::In => {
            !array
                && !json
                && v.as_array()
                    .is_some_and(|a| !a.is_empty() && a.iter().all(scalar_value))
        }
        Op::Like | Op::Ilike | Op::Match => textual && v.is_string(),
        Op::Contains if json => !v.is_null(),
        Op::Contains | Op::Overlaps => array && v.as_array().is_some_and(|a| a.iter().all(scalar_value)),
    };
    if fits {
        return Ok(());
    }
    Err(bad(
        at,
        format!(
            "{} does not apply to field \"{}\" ({}) with this value",
            op.name(),
            c.name,
            match &c.ty {
                FieldType::Scalar(s) => s.name().to_string(),
                FieldType::Array(s) => format!("array of {}", s.name()),
            }
        ),
        "eq/neq/lt/lte/gt/gte take one value; in an array of values; like/ilike/match a text pattern on text fields; \
         is_null true or false; contains/overlaps an array, on array fields",
    ))
}

/// The order columns, and whether the id (always the last key, so the order
/// is total) runs descending. Items after `id` add nothing and are dropped.
fn order(e: &Entity, v: &Value, pointer: &str) -> Result<(Vec<Order>, bool), CotError> {
    let items: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut out: Vec<Order> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let at = format!("{pointer}/{i}");
        let (name, desc, by_values) = match item {
            Value::String(s) => match s.strip_prefix('-') {
                Some(n) => (n.to_string(), true, false),
                None => (s.clone(), false, false),
            },
            Value::Object(m) => {
                let name = m
                    .get("field")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let desc = match m.get("dir").and_then(Value::as_str) {
                    None | Some("asc") => false,
                    Some("desc") => true,
                    Some(_) => {
                        return Err(bad(
                            &at,
                            "dir is \"asc\" or \"desc\"".into(),
                            "e.g. {\"field\": \"total\", \"dir\": \"desc\"}",
                        ))
                    }
                };
                let by_values = match m.get("by").map(|b| b.as_str()) {
                    None | Some(Some("value")) => false,
                    Some(Some("values")) => true,
                    Some(_) => {
                        return Err(bad(
                            &at,
                            "by is \"value\" (the default: text sorts alphabetically) or \"values\" (an enum in its declared order)".into(),
                            "e.g. {\"field\": \"priority\", \"by\": \"values\", \"dir\": \"desc\"}",
                        ))
                    }
                };
                (name, desc, by_values)
            }
            _ => {
                return Err(bad(
                    &at,
                    "an order item is \"field\", \"-field\" or {field, dir, by}".into(),
                    "e.g. [\"-created_at\"]",
                ))
            }
        };
        let column = column(e, &name, &at)?;
        let by_values = match (&column.ty, by_values) {
            (_, false) => None,
            (FieldType::Scalar(Scalar::Enum(values)), true) => Some(values.clone()),
            (_, true) => {
                return Err(bad(
                    &at,
                    format!("field \"{name}\" is not an enum: it has no declared order"),
                    "\"by\": \"values\" sorts an enum field in the order of its values",
                ))
            }
        };
        if matches!(column.ty, FieldType::Array(_) | FieldType::Scalar(Scalar::Json)) {
            return Err(bad(
                &at,
                format!("field \"{name}\" cannot be sorted on"),
                "sort on scalar fields",
            ));
        }
        if column.name.as_str() == "id" {
            return Ok((out, desc));
        }
        if out.iter().any(|o| o.column.name == column.name) {
            continue;
        }
        out.push(Order {
            column,
            desc,
            by_values,
        });
    }
    // The id follows the last column's direction: with one direction, the
    // keyset condition is a row comparison an index serves (a descending
    // order with the id ascending took 9.2 ms at depth 100,000 against 0.39 ms).
    let id_desc = out.last().is_some_and(|o| o.desc);
    Ok((out, id_desc))
}
