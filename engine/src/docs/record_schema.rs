//! The JSON Schema (draft 2020-12) of one record as PostgREST returns it from
//! an entity's view, and of the bodies that insert and update one.
//!
//! How PostgREST 12 writes values (it builds the body with PostgreSQL's own
//! JSON functions): `integer`, `bigint`, `numeric` and `double precision` are
//! JSON numbers (so a bigint beyond 2^53 or a long numeric loses digits in a
//! JavaScript `JSON.parse`; PostgREST issues #498 and #2586; `select=col::text`
//! reads them as strings); `date` is `YYYY-MM-DD`, `timestamptz` RFC 3339 with
//! a `T` and an offset, `time` `HH:MM:SS[.ffffff]` without an offset; arrays
//! are JSON arrays, `jsonb` the JSON value itself, NULL is `null`.
//!
//! Choices:
//! - `required` lists the NOT NULL columns (system columns included), as
//!   PostgREST's own OpenAPI does; a nullable column is `["<type>", "null"]`.
//!   A `select=*` row always carries every key.
//! - `time` gets a `pattern`, not `format: time`: JSON Schema's `time` is RFC
//!   3339's full-time, which requires an offset that PostgreSQL's `time` has not.
//! - Bounds on dates, timestamps and times are stated in `description`:
//!   JSON Schema compares numbers only.
//! - `format` (email, uri, date, date-time, uuid) is an annotation unless a
//!   validator is told to assert it; the `pattern` Cot checks is given too.
//!   A format-asserting validator may be stricter than the database (e-mail
//!   local parts with non-ASCII letters, IRIs).
//! - User patterns are PostgreSQL regular expressions: see [`super::pattern`].

use super::model::{entity_view, Column, Role, View};
use super::pattern;
use crate::literal::{DefaultValue, Literal};
use crate::plan::Labels;
use crate::scalar::{Scalar, EMAIL_PATTERN, URL_PATTERN};
use crate::types::{Entity, FieldType};
use serde_json::{json, Map, Value};

/// The JSON Schema dialect of every generated schema.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Which document a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// A row as read from the view (`GET`, and writes with `return=representation`).
    Row,
    /// An insert body (`POST`): columns with a default or NULL allowed may be
    /// left out, `default` shows what the database fills in.
    Insert,
    /// An update body (`PATCH`): every column optional.
    Update,
}

/// `time` as PostgreSQL writes it (24:00:00 is a valid time there).
const TIME_PATTERN: &str = r"^(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?|24:00:00)$";
/// `time` as Cot documents input: seconds optional.
const TIME_INPUT_PATTERN: &str =
    r"^(([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?|24:00(:00)?)$";

/// The record schema of an entity's view: the row schema, with the insert and
/// update body schemas under `$defs` (`#/$defs/insert`, `#/$defs/update`).
pub fn record_schema(entity: &Entity, labels: &Labels) -> Value {
    let view = entity_view(entity, labels);
    let mut root = Map::new();
    root.insert("$schema".into(), json!(DIALECT));
    root.extend(view_schema(&view, Variant::Row));
    root.insert(
        "$defs".into(),
        json!({
            "insert": view_schema(&view, Variant::Insert),
            "update": view_schema(&view, Variant::Update),
        }),
    );
    Value::Object(root)
}

/// The schema of one variant of a view's records (no `$schema`: the OpenAPI
/// document embeds these).
pub fn view_schema(view: &View<'_>, variant: Variant) -> Map<String, Value> {
    let mut m = Map::new();
    let title = match variant {
        Variant::Row => view.title.clone(),
        Variant::Insert => format!("{} (insert)", view.title),
        Variant::Update => format!("{} (update)", view.title),
    };
    m.insert("title".into(), json!(title));
    m.insert("description".into(), json!(view.description));
    m.insert("type".into(), json!("object"));
    let mut properties = Map::new();
    let mut required = Vec::new();
    for c in &view.columns {
        properties.insert(c.name.clone(), Value::Object(column_schema(c, variant)));
        let needed = match variant {
            Variant::Row => !c.nullable,
            Variant::Insert => !c.nullable && !c.has_default && !c.read_only,
            Variant::Update => false,
        };
        if needed {
            required.push(json!(c.name));
        }
    }
    m.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        m.insert("required".into(), Value::Array(required));
    }
    // PostgREST refuses a body naming a column the view does not have, and a
    // select=* row has exactly the view's columns.
    m.insert("additionalProperties".into(), json!(false));
    m
}

/// The schema of one column.
pub fn column_schema(c: &Column<'_>, variant: Variant) -> Map<String, Value> {
    let field = match c.role {
        Role::Field(f) | Role::RelationColumn(f, _) => Some(f),
        _ => None,
    };
    let mut notes = c.notes.clone();
    let mut m = match &c.ty {
        FieldType::Scalar(s) => scalar_schema(s, variant, &mut notes),
        FieldType::Array(s) => {
            let mut item_notes = Vec::new();
            let items = scalar_schema(s, variant, &mut item_notes);
            notes.extend(item_notes.into_iter().map(|n| format!("Each item: {n}")));
            notes.push("No NULL items; one dimension.".into());
            let mut m = Map::new();
            m.insert("type".into(), json!("array"));
            m.insert("items".into(), Value::Object(items));
            m
        }
    };
    if let Some(f) = field {
        if let Some(v) = f.min_length {
            m.insert("minLength".into(), json!(v));
        }
        if let Some(v) = f.max_length {
            m.insert("maxLength".into(), json!(v));
        }
        if let Some(p) = &f.pattern {
            match pattern::to_ecma(p) {
                Ok(ecma) => {
                    if &ecma != p {
                        m.insert(
                            "$comment".into(),
                            json!(format!("pattern translated from the PostgreSQL regular expression {p}")),
                        );
                    }
                    // Only text fields take a pattern, and text has no format pattern to clash with.
                    m.insert("pattern".into(), json!(ecma));
                }
                Err(why) => notes.push(format!(
                    "Must match the PostgreSQL regular expression {p} (checked by the database; no JSON Schema pattern is given because {why})."
                )),
            }
        }
        bounds(&mut m, f.min.as_ref(), f.max.as_ref(), &mut notes);
        if let Some(t) = &f.custom {
            // A custom type's own format replaces its base's (email, uri).
            m.insert("format".into(), json!(t.format));
            if !t.examples.is_empty() {
                m.insert("examples".into(), json!(t.examples));
            }
        }
        if variant == Variant::Insert {
            match &f.default {
                Some(DefaultValue::Literal(l)) => match default_json(l) {
                    Some(v) => {
                        m.insert("default".into(), v);
                    }
                    None => notes.push(format!("Default: {}.", l.to_json())),
                },
                Some(DefaultValue::Now) if matches!(f.ty, FieldType::Scalar(Scalar::Time)) => {
                    notes.push("Default: the time of day of the insert.".into())
                }
                Some(DefaultValue::Now) => notes.push("Default: the time of the insert.".into()),
                Some(DefaultValue::Today) => notes.push("Default: the date of the insert.".into()),
                Some(DefaultValue::NewUuid) => notes.push("Default: a new uuid (v7).".into()),
                None => {}
            }
        }
    }
    if c.nullable {
        allow_null(&mut m);
    }
    let mut out = Map::new();
    out.insert("title".into(), json!(c.title));
    let description: Vec<String> = c.description.iter().cloned().chain(notes).collect();
    if !description.is_empty() {
        out.insert("description".into(), json!(description.join(" ")));
    }
    if c.read_only {
        out.insert("readOnly".into(), json!(true));
    }
    out.extend(m);
    out
}

/// The schema of a scalar's values, with the facts no keyword can hold added
/// to `notes`.
fn scalar_schema(s: &Scalar, variant: Variant, notes: &mut Vec<String>) -> Map<String, Value> {
    let mut m = Map::new();
    let ty = |m: &mut Map<String, Value>, t: &str| {
        m.insert("type".into(), json!(t));
    };
    match s {
        Scalar::Text => ty(&mut m, "string"),
        Scalar::Enum(values) => {
            ty(&mut m, "string");
            m.insert("enum".into(), json!(values));
        }
        Scalar::Email => {
            ty(&mut m, "string");
            m.insert("format".into(), json!("email"));
            m.insert("pattern".into(), json!(EMAIL_PATTERN));
            notes.push("An e-mail address: something, @, a domain with a dot, no spaces.".into());
        }
        Scalar::Url => {
            ty(&mut m, "string");
            m.insert("format".into(), json!("uri"));
            m.insert("pattern".into(), json!(URL_PATTERN));
            notes.push("An http or https URL.".into());
        }
        Scalar::Integer => {
            ty(&mut m, "integer");
            m.insert("minimum".into(), json!(i32::MIN));
            m.insert("maximum".into(), json!(i32::MAX));
        }
        Scalar::BigInt => {
            ty(&mut m, "integer");
            m.insert("minimum".into(), json!(i64::MIN));
            m.insert("maximum".into(), json!(i64::MAX));
            notes.push(
                "A JSON number: beyond 2^53 JavaScript's JSON.parse rounds it; select=<column>::text reads it exactly."
                    .into(),
            );
        }
        Scalar::Decimal { precision, scale } => {
            ty(&mut m, "number");
            match (precision, scale) {
                (Some(p), s) => {
                    let s = s.unwrap_or(0);
                    notes.push(format!(
                        "numeric({p},{s}): at most {p} digits, {s} after the point (more are rounded)."
                    ));
                    // Below 10^(p-s) in magnitude; stated only where a double holds the bound exactly.
                    if p.saturating_sub(s) <= 15 {
                        let limit = 10f64.powi(p.saturating_sub(s) as i32);
                        m.insert("exclusiveMinimum".into(), float(-limit).unwrap_or(Value::Null));
                        m.insert("exclusiveMaximum".into(), float(limit).unwrap_or(Value::Null));
                    }
                }
                (None, _) => notes.push("numeric: any precision.".into()),
            }
            notes.push(
                "A JSON number: beyond about 15 significant digits JavaScript's JSON.parse rounds it; select=<column>::text reads it exactly."
                    .into(),
            );
        }
        Scalar::Float => ty(&mut m, "number"),
        Scalar::Boolean => ty(&mut m, "boolean"),
        Scalar::Date => {
            ty(&mut m, "string");
            m.insert("format".into(), json!("date"));
        }
        Scalar::Timestamp => {
            ty(&mut m, "string");
            m.insert("format".into(), json!("date-time"));
        }
        Scalar::Time => {
            ty(&mut m, "string");
            let p = if variant == Variant::Row {
                TIME_PATTERN
            } else {
                TIME_INPUT_PATTERN
            };
            m.insert("pattern".into(), json!(p));
            notes.push("A time of day without a time zone.".into());
        }
        Scalar::Uuid => {
            ty(&mut m, "string");
            m.insert("format".into(), json!("uuid"));
        }
        // Any JSON value, null included.
        Scalar::Json => notes.push("Any JSON value.".into()),
    }
    m
}

/// `min` and `max`: keywords for numbers (tightening the type's own range),
/// sentences for dates and times.
fn bounds(m: &mut Map<String, Value>, min: Option<&Literal>, max: Option<&Literal>, notes: &mut Vec<String>) {
    for (bound, keyword, word) in [(min, "minimum", "at least"), (max, "maximum", "at most")] {
        let Some(l) = bound else { continue };
        match number(l) {
            Some(n) => {
                m.insert(keyword.into(), n);
            }
            None => {
                let text = match l.to_json() {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                notes.push(format!("{} {text}.", capitalized(word)));
            }
        }
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A numeric literal as a JSON number, when a double holds it exactly as
/// written (otherwise the bound would be off by a rounding).
fn number(l: &Literal) -> Option<Value> {
    match l {
        Literal::Int(i) => Some(json!(i)),
        Literal::Float(f) => float(*f),
        Literal::Decimal(text) => {
            let f: f64 = text.parse().ok()?;
            (f.to_string() == *text).then(|| float(f)).flatten()
        }
        _ => None,
    }
}

/// A double as JSON, whole numbers without a fraction (`0`, not `0.0`), as
/// PostgreSQL writes them.
fn float(f: f64) -> Option<Value> {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Some(json!(f as i64))
    } else {
        serde_json::Number::from_f64(f).map(Value::Number)
    }
}

/// A default as the JSON value a client would send for it.
fn default_json(l: &Literal) -> Option<Value> {
    match l {
        Literal::Decimal(_) => number(l),
        // Cot accepts a space between date and time; date-time wants a T.
        Literal::Timestamp { text, .. } => {
            let mut t = text.clone();
            if t.len() > 10 && t.as_bytes()[10] == b' ' {
                t.replace_range(10..11, "T");
            }
            Some(json!(t))
        }
        Literal::Array(items) => items
            .iter()
            .map(default_json)
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        other => Some(other.to_json()),
    }
}

/// Lets a schema accept null as well.
fn allow_null(m: &mut Map<String, Value>) {
    if let Some(t) = m.get("type").cloned() {
        m.insert("type".into(), json!([t, "null"]));
    }
    if let Some(Value::Array(values)) = m.get_mut("enum") {
        values.push(Value::Null);
    }
}
