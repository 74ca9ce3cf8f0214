//! The normalized form of a valid definition, and the labels derived from
//! names when none is given.

use crate::definition::{EntityDef, FieldDef};
use crate::names::Ident;
use crate::scalar::Scalar;
use crate::types::{Entity, Field, FieldType, Relation};
use serde_json::{json, Map, Value};

/// The label of a field or entity that has none: `order_items` → `Order items`.
///
/// Only the first letter is raised and each `_` becomes one space, so labels
/// read as sentences. Labels are stored in the normalized definition and become
/// the comments PostgREST shows, so a name must keep giving the same text. That
/// is why this is not `heck`: its title case gives `Order Items`, folds `a__b`
/// to `A B` and drops a trailing `_`.
pub fn label_from_name(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// The definition as Cot stores and returns it: ids, labels and every flag made
/// explicit, so a stored definition reads the same whatever defaults change
/// later, and fed back in it validates to itself.
pub(super) fn normalize(d: &EntityDef, e: &Entity) -> Value {
    let mut root = Map::new();
    root.insert("id".into(), json!(e.id));
    root.insert("tenant".into(), json!(e.tenant.as_str()));
    root.insert("name".into(), json!(e.name.as_str()));
    root.insert(
        "label".into(),
        json!(d.label.clone().unwrap_or_else(|| label_from_name(&d.name))),
    );
    if let Some(desc) = &d.description {
        root.insert("description".into(), json!(desc));
    }
    // Definition order; a relation's column is listed under the relation.
    let mut plain = e
        .fields
        .iter()
        .filter(|f| !e.relations.iter().any(|r| r.id == f.id));
    let mut relations = e.relations.iter();
    let fields: Vec<Value> = d
        .fields
        .iter()
        .map(|fd| {
            let label = json!(fd.label.clone().unwrap_or_else(|| label_from_name(&fd.name)));
            if fd.field_type == "relation" {
                normalize_relation(relations.next().expect("one relation per relation field"), label)
            } else {
                let f = plain.next().expect("one field per field definition");
                match &e.workflow {
                    Some(w) if w.field_id == f.id => normalize_state(f, w, label),
                    _ => normalize_field(fd, f, label),
                }
            }
        })
        .collect();
    root.insert("fields".into(), Value::Array(fields));
    let indexes: Vec<Value> = e
        .indexes
        .iter()
        .map(|i| json!({"fields": i.columns.iter().map(Ident::as_str).collect::<Vec<_>>(), "unique": i.unique}))
        .collect();
    root.insert("indexes".into(), Value::Array(indexes));
    root.insert("access".into(), e.access.to_json());
    // Only when on: definitions from before history keep their exact form.
    if e.history {
        root.insert("history".into(), Value::Bool(true));
    }
    Value::Object(root)
}

/// A plain field. `min_length` comes from the definition, `max_length` from the
/// field, where an email's cap has been applied.
fn normalize_field(fd: &FieldDef, f: &Field, label: Value) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(f.id));
    m.insert("name".into(), json!(f.name.as_str()));
    m.insert("type".into(), json!(f.ty.name()));
    if let FieldType::Array(s) = &f.ty {
        m.insert("items".into(), json!(s.name()));
    }
    m.insert("label".into(), label);
    if let Some(desc) = &f.description {
        m.insert("description".into(), json!(desc));
    }
    m.insert("required".into(), json!(f.required));
    m.insert("unique".into(), json!(f.unique));
    m.insert("index".into(), json!(f.index));
    if let Some(d) = &f.default {
        m.insert("default".into(), d.to_json());
    }
    if let Some(v) = &f.min {
        m.insert("min".into(), v.to_json());
    }
    if let Some(v) = &f.max {
        m.insert("max".into(), v.to_json());
    }
    if let Some(v) = fd.min_length {
        m.insert("min_length".into(), json!(v));
    }
    if let Some(v) = f.max_length {
        m.insert("max_length".into(), json!(v));
    }
    if let Some(v) = &f.pattern {
        m.insert("pattern".into(), json!(v));
    }
    if let Scalar::Decimal { precision, scale } = f.ty.scalar() {
        if let Some(p) = precision {
            m.insert("precision".into(), json!(p));
        }
        if let Some(s) = scale {
            m.insert("scale".into(), json!(s));
        }
    }
    if let Scalar::Enum(values) = f.ty.scalar() {
        m.insert("values".into(), json!(values));
    }
    Value::Object(m)
}

/// A state field: its column's options, then its workflow.
fn normalize_state(f: &Field, w: &crate::workflow::Workflow, label: Value) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(f.id));
    m.insert("name".into(), json!(f.name.as_str()));
    m.insert("type".into(), json!("state"));
    m.insert("label".into(), label);
    if let Some(desc) = &f.description {
        m.insert("description".into(), json!(desc));
    }
    m.insert("required".into(), json!(true));
    m.insert("unique".into(), json!(f.unique));
    m.insert("index".into(), json!(f.index));
    if let Value::Object(keys) = w.to_json() {
        m.extend(keys);
    }
    Value::Object(m)
}

/// A relation field; the options of its column (required, on_delete) only
/// when it has one.
fn normalize_relation(r: &Relation, label: Value) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(r.id));
    m.insert("name".into(), json!(r.name.as_str()));
    m.insert("type".into(), json!("relation"));
    m.insert("kind".into(), json!(r.kind.name()));
    m.insert("target".into(), json!(r.target.as_str()));
    m.insert("label".into(), label);
    if let Some(desc) = &r.description {
        m.insert("description".into(), json!(desc));
    }
    if let Some(c) = &r.column {
        m.insert("required".into(), json!(r.required));
        m.insert("on_delete".into(), json!(r.on_delete.name()));
        m.insert("column".into(), json!(c.as_str()));
    }
    if let Some(i) = &r.inverse {
        m.insert("inverse".into(), json!(i.as_str()));
    }
    if let Some(j) = &r.junction {
        m.insert("junction".into(), json!(j.table.as_str()));
    }
    Value::Object(m)
}
