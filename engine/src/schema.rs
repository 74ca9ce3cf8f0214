//! The JSON Schema (draft 2020-12) of an entity definition: what
//! `cot.definition_schema()` returns, and the first of the two validation steps.
//! It fixes the shape (keys, JSON types, ranges); the semantic step in
//! [`crate::validate`] checks what a schema cannot say well (which options fit
//! which type, defaults against bounds, duplicates).

use crate::error::{ErrorKind, Violation};
use crate::scalar::{ARRAY_ITEM_TYPE_NAMES, SCALAR_TYPE_NAMES};
use crate::suggest::{self, Place};
use serde_json::{json, Value};
use std::sync::OnceLock;

/// Most fields an entity may have (Postgres allows 1,600 columns; a row this wide
/// is already a design problem).
pub const MAX_FIELDS: usize = 500;
/// Most compound indexes.
pub const MAX_INDEXES: usize = 64;
/// Postgres's INDEX_MAX_KEYS.
pub const MAX_INDEX_COLUMNS: usize = 32;
/// Longest accepted regex pattern.
pub const MAX_PATTERN_CHARS: usize = 1000;
/// Most enum values.
pub const MAX_ENUM_VALUES: usize = 1000;
/// Longest enum value.
pub const MAX_ENUM_VALUE_CHARS: usize = 255;
/// Longest label.
pub const MAX_LABEL_CHARS: usize = 200;
/// Longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// Largest max_length (the largest `varchar(n)` Postgres allows).
pub const MAX_TEXT_LENGTH: u64 = 10_485_760;
/// Largest numeric precision Postgres allows.
pub const MAX_PRECISION: u64 = 1000;

const NAME_PATTERN: &str = "^[a-z][a-z0-9_]*$";

/// The definition schema as a JSON document.
pub fn definition_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(build)
}

fn build() -> Value {
    let name = |what: &str, max: usize, refused: &str| {
        json!({
            "type": "string", "pattern": NAME_PATTERN, "minLength": 1, "maxLength": max,
            "description": format!("{what}: a lower-case letter, then a-z, 0-9 or _; at most {max} bytes; {refused}")
        })
    };
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:cot:entity-definition",
        "title": "Cot entity definition",
        "description": "An entity: a table in the tenant's storage schema and a view in its API schema.",
        "type": "object",
        "additionalProperties": false,
        "required": ["tenant", "name"],
        "properties": {
            "tenant": name("the tenant slug", crate::names::MAX_SLUG_BYTES, "not a PostgreSQL reserved word"),
            "name": name("the entity's name, also its table and view name", 63, "not rpc, not starting with pg_"),
            "id": {"type": "string", "format": "uuid", "description": "stable id; generated when absent"},
            "version": {"type": "integer", "minimum": 1, "description": "read only: returned by Cot, ignored on input"},
            "referenced_by": {"type": "array", "description": "read only: returned by cot.entity() (the relations of other entities pointing here), ignored on input"},
            "label": {"type": "string", "minLength": 1, "maxLength": MAX_LABEL_CHARS, "description": "display name; derived from the name when absent"},
            "description": {"type": "string", "maxLength": MAX_DESCRIPTION_CHARS, "description": "becomes COMMENT ON TABLE and VIEW, which PostgREST shows in its OpenAPI"},
            "fields": {"type": "array", "maxItems": MAX_FIELDS, "items": {"$ref": "#/$defs/field"}},
            "history": {"type": "boolean", "description": "record every change in the tenant's change log (cot.changes, cot.history); off by default"},
            "access": {
                "type": "object", "additionalProperties": false,
                "description": "who may read, create, update and delete rows over the API; each rule defaults to admin",
                "properties": {
                    "read": {"$ref": "#/$defs/rule"}, "create": {"$ref": "#/$defs/rule"},
                    "update": {"$ref": "#/$defs/rule"}, "delete": {"$ref": "#/$defs/rule"}
                }
            },
            "indexes": {"type": "array", "maxItems": MAX_INDEXES, "items": {"$ref": "#/$defs/index"}}
        },
        "$defs": {
            "rule": {
                "enum": ["public", "tenant", "owner", "admin", "none"],
                "description": "public: everyone, anonymous too; tenant: the tenant's users; owner: users on their own rows (owner_id = the sub claim), admins on all; admin: the tenant's admins; none: nobody over the API"
            },
            "field": {
                "type": "object",
                "additionalProperties": false,
                "required": ["name", "type"],
                "properties": {
                    "name": name("the field's name, also its column name", 63, "not a system column (id, created_at, updated_at, owner_id) nor a PostgREST query parameter (select, order, limit, offset, on_conflict, columns, and, or, not)"),
                    "id": {"type": "string", "format": "uuid", "description": "stable id; generated when absent"},
                    "type": {"enum": SCALAR_TYPE_NAMES.iter().chain(["array", "relation", "state"].iter()).collect::<Vec<_>>()},
                    "items": {"enum": ARRAY_ITEM_TYPE_NAMES, "description": "array fields: the item type"},
                    "label": {"type": "string", "minLength": 1, "maxLength": MAX_LABEL_CHARS},
                    "description": {"type": "string", "maxLength": MAX_DESCRIPTION_CHARS, "description": "becomes COMMENT ON COLUMN"},
                    "required": {"type": "boolean", "description": "NOT NULL"},
                    "unique": {"type": "boolean", "description": "UNIQUE constraint"},
                    "index": {"type": "boolean", "description": "an index on this field (GIN for arrays and json)"},
                    "default": {"description": "a value of the field's type, or \"now\" (timestamp, time), \"today\" (date), \"uuid\" (uuid)"},
                    "min": {"type": ["number", "string"], "description": "lower bound, inclusive: a number, or an ISO date/time/timestamp string"},
                    "max": {"type": ["number", "string"], "description": "upper bound, inclusive"},
                    "min_length": {"type": "integer", "minimum": 0, "maximum": MAX_TEXT_LENGTH},
                    "max_length": {"type": "integer", "minimum": 1, "maximum": MAX_TEXT_LENGTH},
                    "pattern": {"type": "string", "minLength": 1, "maxLength": MAX_PATTERN_CHARS, "description": "a PostgreSQL regular expression the value must match"},
                    "precision": {"type": "integer", "minimum": 1, "maximum": MAX_PRECISION},
                    "scale": {"type": "integer", "minimum": 0, "maximum": MAX_PRECISION},
                    "kind": {"enum": ["many_to_one", "one_to_one", "one_to_many", "many_to_many"], "description": "relation fields: the kind of relation"},
                    "target": {"type": "string", "description": "relation fields: the target entity, in the same tenant (this entity's own name for a self relation)"},
                    "on_delete": {"enum": ["restrict", "cascade", "set_null"], "description": "many_to_one and one_to_one: what deleting a target row does to rows pointing at it (default restrict)"},
                    "inverse": {"type": "string", "description": "one_to_many: the target's many_to_one field that points back to this entity"},
                    "column": {"type": "string", "description": "read only: the foreign-key column of a many_to_one or one_to_one relation"},
                    "junction": {"type": "string", "description": "read only: the junction table of a many_to_many relation"},
                    "values": {
                        "type": "array", "minItems": 1, "maxItems": MAX_ENUM_VALUES, "uniqueItems": true,
                        "items": {"type": "string", "minLength": 1, "maxLength": MAX_ENUM_VALUE_CHARS},
                        "description": "enum fields: the allowed values"
                    },
                    "states": {
                        "type": "array", "minItems": 1, "maxItems": crate::workflow::MAX_STATES, "uniqueItems": true,
                        "items": {"type": "string", "minLength": 1, "maxLength": MAX_ENUM_VALUE_CHARS},
                        "description": "state fields: the states a record can be in (docs/workflows.md)"
                    },
                    "initial": {"type": "string", "description": "state fields: the state of a new record when none is given"},
                    "starts": {
                        "type": "array", "minItems": 1, "uniqueItems": true, "items": {"type": "string"},
                        "description": "state fields: the states an insert may start in; [initial] by default"
                    },
                    "transitions": {
                        "type": "array", "maxItems": crate::workflow::MAX_TRANSITIONS, "items": {"$ref": "#/$defs/transition"},
                        "description": "state fields: the only moves between states, who may make each, and the guard each needs"
                    }
                }
            },
            "transition": {
                "type": "object",
                "additionalProperties": false,
                "required": ["name", "from", "to"],
                "properties": {
                    "name": {"type": "string", "pattern": NAME_PATTERN, "minLength": 1, "maxLength": 63, "description": "the transition's name (cot.transition, webhook event <entity>.transition.<name>)"},
                    "label": {"type": "string", "minLength": 1, "maxLength": MAX_LABEL_CHARS},
                    "description": {"type": "string", "maxLength": MAX_DESCRIPTION_CHARS},
                    "from": {
                        "oneOf": [
                            {"type": "string"},
                            {"type": "array", "minItems": 1, "uniqueItems": true, "items": {"type": "string"}}
                        ],
                        "description": "the state, or states, it leaves from"
                    },
                    "to": {"type": "string", "description": "the state it leads to"},
                    "who": {
                        "oneOf": [
                            {"type": "string"},
                            {"type": "array", "minItems": 1, "uniqueItems": true, "items": {"type": "string"}}
                        ],
                        "description": "who may take it: public (whoever may update the record; the default), tenant, owner, admin, or role names; any of them"
                    },
                    "guard": {"type": "object", "description": "a condition the record must meet after the transition, in the where vocabulary of cot.query (docs/query.md)"}
                }
            },
            "index": {
                "type": "object",
                "additionalProperties": false,
                "required": ["fields"],
                "properties": {
                    "fields": {
                        "type": "array", "minItems": 1, "maxItems": MAX_INDEX_COLUMNS,
                        "items": {"type": "string"},
                        "description": "field names (system columns id, created_at, updated_at too), in index order"
                    },
                    "unique": {"type": "boolean", "description": "a UNIQUE constraint over these fields together"}
                }
            }
        }
    })
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    // Compiled once per backend: compiling costs far more than validating.
    VALIDATOR.get_or_init(|| {
        jsonschema::options()
            .should_validate_formats(true)
            .build(definition_schema())
            .expect("the definition schema compiles")
    })
}

/// Is this location one whose name rules [`crate::names`] reports better?
fn is_name_location(path: &str) -> bool {
    path == "/tenant"
        || path == "/name"
        || (path.starts_with("/fields/") && path.ends_with("/name") && path.matches('/').count() == 3)
}

/// Checks `def` against the schema. Errors on name locations about the name's
/// text (pattern and length) are left out: the name rules report those with
/// their own SQLSTATEs. An unknown key or a value not in its list gets a HINT
/// with the nearest valid one ([`crate::suggest`]) and the valid choices.
pub fn check(def: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    for error in validator().iter_errors(def) {
        let pointer = error.instance_path().to_string();
        let keyword = error.kind().keyword().to_string();
        if is_name_location(&pointer) && matches!(keyword.as_str(), "pattern" | "maxLength" | "minLength") {
            continue;
        }
        match error.kind() {
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                // One violation per unknown key, located at the key itself.
                for key in unexpected {
                    out.push(Violation::new(
                        ErrorKind::InvalidParameter,
                        format!("{pointer}/{}", escape_pointer(key)),
                        format!("unknown key {}", crate::names::shown(key)),
                        unknown_key_hint(&pointer, key),
                    ));
                }
                continue;
            }
            jsonschema::error::ValidationErrorKind::Enum { options } => {
                let hint = not_in_list_hint(&pointer, error.instance().as_str().unwrap_or(""), options);
                out.push(Violation::new(
                    ErrorKind::InvalidParameter,
                    pointer,
                    shorten(&error.to_string()),
                    hint,
                ));
            }
            _ => out.push(Violation::new(
                ErrorKind::InvalidParameter,
                pointer,
                shorten(&error.to_string()),
                "see cot.definition_schema() for the allowed shape",
            )),
        }
        if out.len() >= 200 {
            break;
        }
    }
    out
}

/// The keys the object at `pointer` may have (read-only keys Cot returns
/// and ignores on input left out), which aliases apply, and what the object
/// is called in the hint.
fn keys_at(pointer: &str) -> (Vec<&'static str>, Place, &'static str) {
    let schema = definition_schema();
    let parts: Vec<&str> = pointer.split('/').skip(1).collect();
    let (properties, place, whose) = match parts.as_slice() {
        [] => (&schema["properties"], Place::EntityKey, "a definition"),
        ["fields", _] => (
            &schema["$defs"]["field"]["properties"],
            Place::FieldKey,
            "a field",
        ),
        ["indexes", _] => (
            &schema["$defs"]["index"]["properties"],
            Place::IndexKey,
            "an index",
        ),
        ["access"] => (
            &schema["properties"]["access"]["properties"],
            Place::AccessKey,
            "access",
        ),
        _ => (&Value::Null, Place::Other, "this object"),
    };
    const READ_ONLY: [&str; 4] = ["version", "referenced_by", "column", "junction"];
    let mut keys: Vec<&'static str> = properties
        .as_object()
        .map(|m| {
            m.keys()
                .map(String::as_str)
                .filter(|k| !READ_ONLY.contains(k))
                .collect()
        })
        .unwrap_or_default();
    // Sorted, so the hint is the same whatever order the map keeps.
    keys.sort_unstable();
    (keys, place, whose)
}

fn unknown_key_hint(pointer: &str, key: &str) -> String {
    let (keys, place, whose) = keys_at(pointer);
    if keys.is_empty() {
        return "remove the key; cot.definition_schema() lists every key a definition may have".to_string();
    }
    suggest::key_hint(key, &keys, place, whose)
}

/// The HINT for a string that is not one of `options` at `pointer`: a
/// field's type or item type, a relation's kind or on_delete, an access rule.
fn not_in_list_hint(pointer: &str, written: &str, options: &Value) -> String {
    let choices: Vec<&str> = options
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let last = pointer.rsplit('/').next().unwrap_or("");
    let (place, what) = if pointer.starts_with("/access/") {
        (Place::Rule, "rules")
    } else {
        match last {
            "type" => (Place::Type, "types"),
            "items" => (Place::Type, "item types"),
            "kind" => (Place::RelationKind, "kinds"),
            "on_delete" => (Place::OnDelete, "choices"),
            _ => (Place::Other, "choices"),
        }
    };
    suggest::value_hint(written, &choices, place, what)
}

/// RFC 6901: `~` and `/` in a key are written `~0` and `~1`.
fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Schema messages quote the offending value, which may be megabytes long.
fn shorten(message: &str) -> String {
    const MAX: usize = 300;
    if message.chars().count() <= MAX {
        message.to_string()
    } else {
        let cut: String = message.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_valid_2020_12() {
        assert!(jsonschema::meta::is_valid(definition_schema()));
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_located() {
        let v = check(&json!({"tenant": "acme", "name": "orders", "colour": 1,
            "fields": [{"name": "a", "type": "text", "max_length": "long"}, {"name": "b", "type": "money"}]}));
        let pointers: Vec<&str> = v.iter().map(|v| v.pointer.as_str()).collect();
        assert!(pointers.contains(&"/colour"), "{v:?}");
        assert!(pointers.contains(&"/fields/0/max_length"), "{v:?}");
        assert!(pointers.contains(&"/fields/1/type"), "{v:?}");
        assert!(v.iter().all(|v| v.kind == ErrorKind::InvalidParameter));
    }

    #[test]
    fn name_text_is_left_to_the_name_rules() {
        let v =
            check(&json!({"tenant": "Acme", "name": "bad name", "fields": [{"name": "X", "type": "text"}]}));
        assert!(v.is_empty(), "{v:?}");
        let v = check(&json!({"tenant": 5, "name": "x"}));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].pointer, "/tenant");
    }

    /// The HINT of the one violation `check` finds in a definition with this
    /// field, and its pointer.
    fn field_hint(field: Value) -> (String, String) {
        let v = check(&json!({"tenant": "acme", "name": "things", "fields": [field]}));
        assert_eq!(v.len(), 1, "{v:?}");
        (v[0].pointer.clone(), v[0].hint.clone())
    }

    #[test]
    fn unknown_types_and_keys_suggest_the_one_meant() {
        let cases: &[(Value, &str, &str)] = &[
            (
                json!({"name": "a", "type": "string"}),
                "/fields/0/type",
                "did you mean \"text\"?",
            ),
            (
                json!({"name": "a", "type": "int"}),
                "/fields/0/type",
                "did you mean \"integer\"?",
            ),
            (
                json!({"name": "a", "type": "intger"}),
                "/fields/0/type",
                "did you mean \"integer\"?",
            ),
            (
                json!({"name": "a", "type": "datetime"}),
                "/fields/0/type",
                "did you mean \"timestamp\"?",
            ),
            (
                json!({"name": "a", "type": "bool"}),
                "/fields/0/type",
                "did you mean \"boolean\"?",
            ),
            (
                json!({"name": "a", "type": "number"}),
                "/fields/0/type",
                "did you mean \"float\" (or \"decimal\"",
            ),
            (
                json!({"name": "a", "type": "double"}),
                "/fields/0/type",
                "did you mean \"float\" (or \"decimal\"",
            ),
            (
                json!({"name": "a", "type": "varchar"}),
                "/fields/0/type",
                "did you mean \"text\"",
            ),
            (
                json!({"name": "a", "type": "varchar(10)"}),
                "/fields/0/type",
                "did you mean \"text\"",
            ),
            (
                json!({"name": "a", "type": "money"}),
                "/fields/0/type",
                "did you mean \"decimal\"",
            ),
            (
                json!({"name": "a", "type": "blob"}),
                "/fields/0/type",
                "use one of the types: text, integer,",
            ),
            (
                json!({"name": "a", "type": 5}),
                "/fields/0/type",
                "use one of the types:",
            ),
            (
                json!({"name": "a", "type": "array", "items": "string"}),
                "/fields/0/items",
                "did you mean \"text\"? The item types are:",
            ),
            (
                json!({"name": "a", "type": "enum", "options": ["x"]}),
                "/fields/0/options",
                "did you mean \"values\"",
            ),
            (
                json!({"name": "a", "type": "enum", "enum": ["x"]}),
                "/fields/0/enum",
                "did you mean \"values\"",
            ),
            (
                json!({"name": "a", "type": "text", "nullable": true}),
                "/fields/0/nullable",
                "did you mean \"required\" (fields accept null",
            ),
            (
                json!({"name": "a", "type": "text", "not_null": true}),
                "/fields/0/not_null",
                "did you mean \"required\"?",
            ),
            (
                json!({"name": "a", "type": "text", "maxLength": 3}),
                "/fields/0/maxLength",
                "did you mean \"max_length\"?",
            ),
            (
                json!({"name": "a", "type": "text", "colour": 3}),
                "/fields/0/colour",
                "remove the key; the keys of a field are: default,",
            ),
            (
                json!({"name": "a", "type": "relation", "kind": "belongs_to", "target": "b"}),
                "/fields/0/kind",
                "did you mean \"many_to_one\"?",
            ),
            (
                json!({"name": "a", "type": "relation", "kind": "many_to_one", "target": "b", "on_delete": "set null"}),
                "/fields/0/on_delete",
                "did you mean \"set_null\"?",
            ),
        ];
        for (field, pointer, hint) in cases {
            let (p, h) = field_hint(field.clone());
            assert_eq!(p, *pointer, "{field}");
            assert!(h.starts_with(hint), "{field}: {h}");
        }
    }

    #[test]
    fn hints_list_the_choices_but_not_read_only_keys() {
        let (_, h) = field_hint(json!({"name": "a", "type": "text", "colour": 3}));
        assert!(
            h.contains("max_length") && h.contains("values") && h.contains("type"),
            "{h}"
        );
        assert!(!h.contains("junction") && !h.contains("column,"), "{h}");
        let v = check(
            &json!({"tenant": "acme", "name": "x", "columns": [], "access": {"insert": "tenant", "read": "everyone"}}),
        );
        let hint = |p: &str| {
            v.iter()
                .find(|v| v.pointer == p)
                .map(|v| v.hint.clone())
                .unwrap_or_default()
        };
        assert!(
            hint("/columns")
                .starts_with("did you mean \"fields\"? The keys of a definition are: access, description,"),
            "{v:?}"
        );
        assert!(!hint("/columns").contains("version"), "{v:?}");
        assert!(
            hint("/access/insert")
                .starts_with("did you mean \"create\"? The keys of access are: create, delete, read, update"),
            "{v:?}"
        );
        assert!(
            hint("/access/read").starts_with("did you mean \"public\"? The rules are:"),
            "{v:?}"
        );
        let v = check(&json!({"tenant": "acme", "name": "x", "indexes": [{"columns": ["a"]}]}));
        assert!(
            v.iter()
                .any(|v| v.pointer == "/indexes/0/columns" && v.hint.starts_with("did you mean \"fields\"")),
            "{v:?}"
        );
    }

    #[test]
    fn missing_required_keys() {
        let v = check(&json!({"fields": []}));
        assert!(!v.is_empty());
        assert!(check(&json!("not an object")).len() == 1);
    }
}
