//! Custom field types (plugins): a registered name standing for a base type
//! plus constraints in Cot's own vocabulary (pattern, bounds, lengths, a list
//! of values, a decimal's precision and scale), never SQL text.
//!
//! A definition uses one like a built-in type (`{"name": "phone", "type":
//! "phone"}`). Before a definition is validated, [`expand`] rewrites each such
//! field into its base type with the type's options, so validation, planning,
//! the DDL renderer, drift detection and evolution all see an ordinary field
//! whose CHECK constraints hold every writer (psql, COPY, PostgREST) to the
//! type. The field remembers its type ([`CustomType`]) for the stored
//! definition and the generated documentation.
//!
//! The registry ([`FieldTypes`]) is platform-wide; the server loads it from
//! `cot.field_types` and hands it to the engine through
//! [`crate::validate::Environment::field_types`]. Registering a type is
//! checked by [`crate::validate::field_type`].

use crate::error::{ErrorKind, Violation};
use crate::scalar::SCALAR_TYPE_NAMES;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Most types the registry holds: the registry is loaded whole for every
/// definition call, so it stays small.
pub const MAX_FIELD_TYPES: usize = 200;

/// Most examples a type may give (they go into every record schema using it).
pub const MAX_EXAMPLES: usize = 5;

/// The scalars a custom type may not build on: `json` (no check applies to
/// it) and `enum` (a type with `checks.enum` is one).
const NOT_BASES: [&str; 2] = ["json", "enum"];

/// The base types a custom type may build on: every scalar but [`NOT_BASES`],
/// in the order of [`crate::scalar::SCALAR_TYPE_NAMES`].
pub fn base_type_names() -> Vec<&'static str> {
    crate::scalar::SCALAR_TYPE_NAMES
        .iter()
        .copied()
        .filter(|name| !NOT_BASES.contains(name))
        .collect()
}

/// Whether `name` is one of Cot's own type names, which no custom type may take.
pub fn is_builtin(name: &str) -> bool {
    SCALAR_TYPE_NAMES.contains(&name) || matches!(name, "array" | "relation" | "state")
}

/// A registered type, as `cot.register_field_type` takes it and
/// `cot.field_types()` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldTypeDef {
    /// The type name definitions use (`phone`).
    pub name: String,
    /// The built-in type it builds on (one of [`base_type_names`]).
    pub base: String,
    /// What a value of the type is, in words; shown in the generated docs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What the generated JSON Schema says of it beyond the checks.
    #[serde(default, skip_serializing_if = "JsonSchemaHints::is_empty")]
    pub json_schema: JsonSchemaHints,
    /// The constraints every value must meet.
    #[serde(default)]
    pub checks: Checks,
}

/// The JSON Schema annotations of a custom type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSchemaHints {
    /// The `format` keyword (`phone`, `iso4217`); the type's name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Valid values, each checked against the type when it is registered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Value>,
}

impl JsonSchemaHints {
    fn is_empty(&self) -> bool {
        self.format.is_none() && self.examples.is_empty()
    }
}

/// A custom type's constraints, in the words of field options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checks {
    /// A PostgreSQL regular expression (text base only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Lower bound (ordered bases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Value>,
    /// Upper bound (ordered bases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Value>,
    /// Shortest text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// Longest text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// The allowed values (text base only): the field becomes an enum.
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    /// Total digits (decimal base).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<u32>,
    /// Digits after the point (decimal base).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
}

impl Checks {
    /// The field options these checks set, by their definition key, in a
    /// fixed order (the order violations are reported in).
    pub fn options(&self) -> Vec<(&'static str, Value)> {
        let mut out = Vec::new();
        let mut put = |key: &'static str, v: Option<Value>| {
            if let Some(v) = v {
                out.push((key, v));
            }
        };
        put("values", self.values.clone().map(Value::from));
        put("precision", self.precision.map(Value::from));
        put("scale", self.scale.map(Value::from));
        put("min", self.min.clone());
        put("max", self.max.clone());
        put("min_length", self.min_length.map(Value::from));
        put("max_length", self.max_length.map(Value::from));
        put("pattern", self.pattern.clone().map(Value::from));
        out
    }

    /// The definition key a check is written under in a field (`enum` is `values`).
    pub fn field_key(check: &str) -> &str {
        if check == "enum" {
            "values"
        } else {
            check
        }
    }
}

impl FieldTypeDef {
    /// The type a field of this type is made with: `enum` when it lists
    /// values, its base otherwise.
    pub fn field_type(&self) -> &str {
        if self.checks.values.is_some() {
            "enum"
        } else {
            &self.base
        }
    }

    /// What a field of this type remembers of it.
    pub fn custom(&self) -> CustomType {
        CustomType {
            name: self.name.clone(),
            format: self
                .json_schema
                .format
                .clone()
                .unwrap_or_else(|| self.name.clone()),
            description: self.description.clone(),
            examples: self.json_schema.examples.clone(),
        }
    }

    /// The definition as stored and returned.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a type definition serializes")
    }
}

/// What a field made with a custom type knows of it: its name (written back
/// as the field's type) and what the generated docs show.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomType {
    /// The type name.
    pub name: String,
    /// The JSON Schema `format`.
    pub format: String,
    /// What a value is, in words.
    pub description: Option<String>,
    /// Valid values.
    pub examples: Vec<Value>,
}

/// The registered types, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldTypes {
    types: BTreeMap<String, FieldTypeDef>,
}

impl FieldTypes {
    /// A registry of these types (a later one of the same name wins).
    pub fn new(types: impl IntoIterator<Item = FieldTypeDef>) -> Self {
        FieldTypes {
            types: types.into_iter().map(|t| (t.name.clone(), t)).collect(),
        }
    }

    /// The registry from stored definitions; one that no longer reads (the
    /// meta-table edited by hand) is left out rather than failing every call.
    pub fn from_stored(defs: impl IntoIterator<Item = Value>) -> Self {
        FieldTypes::new(defs.into_iter().filter_map(|d| serde_json::from_value(d).ok()))
    }

    /// The type named `name`.
    pub fn get(&self, name: &str) -> Option<&FieldTypeDef> {
        self.types.get(name)
    }

    /// Every type, by name.
    pub fn iter(&self) -> impl Iterator<Item = &FieldTypeDef> {
        self.types.values()
    }

    /// Whether no type is registered.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }
}

/// A definition with its custom-typed fields made plain.
#[derive(Debug, Clone)]
pub struct Expanded {
    /// The definition as validation reads it.
    pub definition: Value,
    /// The custom-typed fields: their index in `fields` and their type.
    pub custom: Vec<(usize, CustomType)>,
    /// Options a field sets that its type already sets.
    pub violations: Vec<Violation>,
}

/// Rewrites every field whose type is a registered custom type into its base
/// type with the type's options. A field may not set an option its type sets
/// (a `phone` field with its own `pattern` would be some other type): each
/// such option is a violation at its pointer. Fields of unknown types are left
/// for the schema check to report.
pub fn expand(def: &Value, types: &FieldTypes) -> Expanded {
    let mut out = Expanded {
        definition: def.clone(),
        custom: Vec::new(),
        violations: Vec::new(),
    };
    if types.is_empty() {
        return out;
    }
    let Some(Value::Array(fields)) = out.definition.get_mut("fields") else {
        return out;
    };
    for (i, field) in fields.iter_mut().enumerate() {
        let Some(obj) = field.as_object_mut() else {
            continue;
        };
        let Some(t) = obj
            .get("type")
            .and_then(Value::as_str)
            .filter(|n| !is_builtin(n))
            .and_then(|n| types.get(n))
        else {
            continue;
        };
        for (key, value) in t.checks.options() {
            if obj.contains_key(key) {
                out.violations.push(Violation::new(
                    ErrorKind::InvalidParameter,
                    format!("/fields/{i}/{key}"),
                    format!("option {key} is set by type {}", t.name),
                    format!("remove it; for a {key} of your own use type {} instead", t.base),
                ));
            } else {
                obj.insert(key.into(), value);
            }
        }
        obj.insert("type".into(), Value::from(t.field_type()));
        out.custom.push((i, t.custom()));
    }
    out
}

/// The stored form of a definition expanded by [`expand`]: each custom-typed
/// field gets its type name back and loses the options the type set.
pub fn collapse(normalized: &mut Value, custom: &[(usize, CustomType)], types: &FieldTypes) {
    let Some(Value::Array(fields)) = normalized.get_mut("fields") else {
        return;
    };
    for (i, c) in custom {
        let (Some(Value::Object(obj)), Some(t)) = (fields.get_mut(*i), types.get(&c.name)) else {
            continue;
        };
        for (key, _) in t.checks.options() {
            obj.remove(key);
        }
        obj.insert("type".into(), Value::from(c.name.clone()));
    }
}

/// A one-field definition's field of the type's base with the type's checks
/// as options (and `example` as its default): what
/// [`crate::validate::field_type`] validates a type through.
pub fn probe_field(t: &FieldTypeDef, example: Option<&Value>) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), Value::from("value"));
    m.insert("type".into(), Value::from(t.field_type()));
    for (key, value) in t.checks.options() {
        m.insert(key.into(), value);
    }
    if let Some(e) = example {
        m.insert("default".into(), e.clone());
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests;
