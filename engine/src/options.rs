//! The options objects of Cot's SQL functions (`cot.alter_entity`,
//! `cot.plan_entity`, `cot.apply_schema`, `cot.drop_entity`,
//! `cot.create_api_key`), read into serde structs that refuse unknown keys,
//! and the one key Cot reads of `cot.create_tenant`'s free-form settings.
//!
//! serde decides what is accepted; the error a caller sees names the first
//! key (in key order) that serde refuses, with the SQLSTATE, message and hint
//! each function has always given (the pgTAP tests assert them).

use crate::error::{CotError, ErrorKind};
use crate::evolve;
use crate::names::shown;
use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Largest options document, in bytes of JSON text.
pub const MAX_OPTIONS_BYTES: usize = 64 * 1024;

/// Reads `value` into `T`. Not an object: `not_object`. A key serde refuses
/// (unknown, or a value of the wrong type): `bad_key` of the first such key.
fn read<T: DeserializeOwned>(
    value: &Value,
    not_object: impl FnOnce() -> CotError,
    bad_key: impl Fn(&str, &Value) -> CotError,
) -> Result<T, CotError> {
    let Value::Object(map) = value else {
        return Err(not_object());
    };
    serde_json::from_value::<T>(value.clone()).map_err(|e| {
        let alone = |k: &String, v: &Value| {
            let mut one = Map::new();
            one.insert(k.clone(), v.clone());
            serde_json::from_value::<T>(Value::Object(one)).is_err()
        };
        match map.iter().find(|(k, v)| alone(k, v)) {
            Some((k, v)) => bad_key(k, v),
            // Every key passes alone, so no option set here refuses the
            // whole; kept for a future one that checks keys together.
            None => CotError::new(
                ErrorKind::InvalidParameter,
                format!("options cannot be read: {e}"),
            ),
        }
    })
}

/// For an optional key that may be left out but not set to `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The hint of every alter option error.
pub const ALTER_OPTIONS_HINT: &str =
    "the options are: allow_data_loss, defer_validation, defer_indexes (booleans), \
     rename_values ({\"field\": {\"old\": \"new\"}}), lock_timeout (milliseconds)";

/// Options of `cot.alter_entity` and `cot.plan_entity` (and, with `dry_run`,
/// `cot.apply_schema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlterOptions {
    /// Drop fields holding data, convert with loss.
    #[serde(default)]
    pub allow_data_loss: bool,
    /// Leave new constraints NOT VALID on tables with rows.
    #[serde(default)]
    pub defer_validation: bool,
    /// Leave new indexes unbuilt on tables with rows.
    #[serde(default)]
    pub defer_indexes: bool,
    /// Enum values renamed: field name → old value → new value.
    #[serde(default)]
    pub rename_values: BTreeMap<String, BTreeMap<String, String>>,
    /// Milliseconds to wait for each lock; `None`: the `cot.lock_timeout` setting.
    #[serde(default, deserialize_with = "present")]
    pub lock_timeout: Option<LockTimeout>,
}

/// A lock timeout in milliseconds, 0 (wait forever) to one hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct LockTimeout(pub i64);

impl TryFrom<i64> for LockTimeout {
    type Error = String;
    fn try_from(ms: i64) -> Result<Self, String> {
        if (0..=3_600_000).contains(&ms) {
            Ok(LockTimeout(ms))
        } else {
            Err(format!("lock_timeout {ms} is not 0 to 3600000"))
        }
    }
}

impl AlterOptions {
    /// Reads the options object.
    pub fn from_json(value: &Value) -> Result<AlterOptions, CotError> {
        let bad =
            |message: String| CotError::new(ErrorKind::InvalidParameter, message).hint(ALTER_OPTIONS_HINT);
        read(
            value,
            || bad("alter options must be a JSON object".into()),
            |key, v| {
                let why = if key == "rename_values" {
                    rename_values_problem(v)
                } else {
                    None
                };
                bad(why.unwrap_or_else(|| format!("unknown or mistyped alter option {}", shown(key))))
            },
        )
    }

    /// The options as the planner takes them.
    pub fn evolve(&self) -> evolve::Options {
        evolve::Options {
            allow_data_loss: self.allow_data_loss,
            defer_validation: self.defer_validation,
            defer_indexes: self.defer_indexes,
            rename_values: self
                .rename_values
                .iter()
                .flat_map(|(field, renames)| {
                    renames
                        .iter()
                        .map(move |(from, to)| (field.clone(), from.clone(), to.clone()))
                })
                .collect(),
        }
    }
}

/// What is wrong inside a `rename_values` object, when it is one.
fn rename_values_problem(v: &Value) -> Option<String> {
    for (field, renames) in v.as_object()? {
        let Value::Object(renames) = renames else {
            return Some(format!(
                "rename_values.{field} must be an object of old value to new value"
            ));
        };
        if let Some((from, _)) = renames.iter().find(|(_, to)| !to.is_string()) {
            return Some(format!("rename_values.{field}.{from} must be a string"));
        }
    }
    None
}

/// Options of `cot.apply_schema`: those of `cot.alter_entity` and `dry_run`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Return the combined plan and change nothing.
    pub dry_run: bool,
    /// The rest.
    pub alter: AlterOptions,
}

impl ApplyOptions {
    /// Reads the options object: `dry_run` first, then the alter options.
    pub fn from_json(value: &Value) -> Result<ApplyOptions, CotError> {
        let mut rest = value.clone();
        let dry_run = match rest.as_object_mut().and_then(|m| m.remove("dry_run")) {
            None => false,
            Some(v) => bool::deserialize(v).map_err(|_| {
                CotError::new(ErrorKind::InvalidParameter, "dry_run must be a boolean")
                    .hint("e.g. '{\"dry_run\": true}'")
            })?,
        };
        Ok(ApplyOptions {
            dry_run,
            alter: AlterOptions::from_json(&rest)?,
        })
    }
}

/// Options of `cot.drop_entity`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropOptions {
    /// Also remove the relations of other entities that point at this one.
    #[serde(default)]
    pub drop_relations: bool,
}

impl DropOptions {
    /// Reads the options object.
    pub fn from_json(value: &Value) -> Result<DropOptions, CotError> {
        read(
            value,
            || {
                CotError::new(ErrorKind::InvalidParameter, "drop options must be a JSON object")
                    .hint("e.g. '{\"drop_relations\": true}'")
            },
            |key, _| {
                CotError::new(
                    ErrorKind::InvalidParameter,
                    format!("unknown or mistyped drop option {}", shown(key)),
                )
                .hint("the options are: drop_relations (boolean)")
            },
        )
    }
}

/// Options of `cot.create_api_key`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyOptions {
    /// Free text.
    #[serde(default, deserialize_with = "present")]
    pub label: Option<String>,
    /// The end-user id the key acts as.
    #[serde(default, deserialize_with = "present")]
    pub sub: Option<String>,
    /// timestamptz text, checked by Postgres's cast.
    #[serde(default, deserialize_with = "present")]
    pub expires_at: Option<String>,
}

impl KeyOptions {
    /// Reads the options object.
    pub fn from_json(value: &Value) -> Result<KeyOptions, CotError> {
        read(
            value,
            || {
                CotError::new(ErrorKind::InvalidParameter, "key options must be a JSON object")
                    .hint("e.g. '{\"label\": \"ci\"}'")
            },
            |key, _| {
                CotError::new(
                    ErrorKind::InvalidParameter,
                    format!("unknown or mistyped key option {}", shown(key)),
                )
                .hint("the options are label, sub and expires_at, all strings")
            },
        )
    }
}

/// The display name in `cot.create_tenant`'s settings: their `name`, 1 to
/// 200 characters, or the slug. The settings are kept as given, so other
/// keys are the caller's own.
pub fn tenant_display_name(settings: &Value, slug: &str) -> Result<String, CotError> {
    let Value::Object(obj) = settings else {
        return Err(CotError::new(
            ErrorKind::InvalidParameter,
            "tenant settings must be a JSON object",
        )
        .hint("e.g. '{\"name\": \"Acme Inc\"}'"));
    };
    match obj.get("name") {
        None => Ok(slug.to_string()),
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= 200 => Ok(s.clone()),
        Some(_) => Err(CotError::new(
            ErrorKind::InvalidParameter,
            "settings.name must be a string of 1 to 200 characters",
        )
        .hint("the name is the tenant's display name")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// (SQLSTATE, message, hint) of an error.
    fn said(e: CotError) -> (String, String, String) {
        (
            e.kind.sqlstate().to_string(),
            e.message,
            e.hint.unwrap_or_default(),
        )
    }

    fn alter_error(v: Value) -> (String, String, String) {
        said(AlterOptions::from_json(&v).expect_err("refused"))
    }

    #[test]
    fn alter_options_default_to_nothing_allowed() {
        let o = AlterOptions::from_json(&json!({})).unwrap();
        assert_eq!(o, AlterOptions::default());
        assert_eq!(o.evolve(), evolve::Options::default());
        assert_eq!(o.lock_timeout, None);
    }

    #[test]
    fn alter_options_read_every_key() {
        let o = AlterOptions::from_json(&json!({
            "allow_data_loss": true, "defer_validation": true, "defer_indexes": true,
            "lock_timeout": 2500,
            "rename_values": {"status": {"open": "active", "done": "closed"}, "kind": {"a": "b"}},
        }))
        .unwrap();
        assert_eq!(o.lock_timeout, Some(LockTimeout(2500)));
        let e = o.evolve();
        assert!(e.allow_data_loss && e.defer_validation && e.defer_indexes);
        // In key order, field by field, as the JSON object lists them.
        assert_eq!(
            e.rename_values,
            vec![
                ("kind".into(), "a".into(), "b".into()),
                ("status".into(), "done".into(), "closed".into()),
                ("status".into(), "open".into(), "active".into()),
            ]
        );
    }

    #[test]
    fn lock_timeout_is_zero_to_an_hour_in_whole_milliseconds() {
        for ok in [0, 1, 3_600_000] {
            let o = AlterOptions::from_json(&json!({ "lock_timeout": ok })).unwrap();
            assert_eq!(o.lock_timeout, Some(LockTimeout(ok)));
        }
        for bad in [
            json!(-1),
            json!(3_600_001),
            json!(1.5),
            json!(1000.0),
            json!("100"),
            json!(null),
        ] {
            assert_eq!(
                alter_error(json!({ "lock_timeout": bad })).1,
                "unknown or mistyped alter option \"lock_timeout\"",
                "{bad}"
            );
        }
    }

    #[test]
    fn alter_option_errors_say_what_and_list_the_options() {
        let cases = [
            (json!([true]), "alter options must be a JSON object"),
            (json!(null), "alter options must be a JSON object"),
            (
                json!({"allow_dataloss": true}),
                "unknown or mistyped alter option \"allow_dataloss\"",
            ),
            (
                json!({"allow_data_loss": "yes"}),
                "unknown or mistyped alter option \"allow_data_loss\"",
            ),
            (
                json!({"defer_indexes": null}),
                "unknown or mistyped alter option \"defer_indexes\"",
            ),
            (
                json!({"rename_values": []}),
                "unknown or mistyped alter option \"rename_values\"",
            ),
            (
                json!({"rename_values": {"status": "open"}}),
                "rename_values.status must be an object of old value to new value",
            ),
            (
                json!({"rename_values": {"status": {"open": 1}}}),
                "rename_values.status.open must be a string",
            ),
            // The first bad key in key order is the one named.
            (
                json!({"zzz": 1, "defer_validation": 0}),
                "unknown or mistyped alter option \"defer_validation\"",
            ),
        ];
        for (input, message) in cases {
            assert_eq!(
                alter_error(input.clone()),
                ("22023".into(), message.into(), ALTER_OPTIONS_HINT.into()),
                "{input}"
            );
        }
    }

    #[test]
    fn apply_options_take_dry_run_first() {
        let o = ApplyOptions::from_json(&json!({"dry_run": true, "allow_data_loss": true})).unwrap();
        assert!(o.dry_run && o.alter.allow_data_loss);
        assert!(!ApplyOptions::from_json(&json!({})).unwrap().dry_run);
        let dry = (
            "22023".into(),
            "dry_run must be a boolean".into(),
            "e.g. '{\"dry_run\": true}'".into(),
        );
        assert_eq!(
            said(ApplyOptions::from_json(&json!({"dry_run": 1, "x": 1})).unwrap_err()),
            dry
        );
        assert_eq!(
            said(ApplyOptions::from_json(&json!({"dry_run": null})).unwrap_err()),
            dry
        );
        // The rest are alter options, with their errors.
        assert_eq!(
            said(ApplyOptions::from_json(&json!({"dry_run": false, "x": 1})).unwrap_err()).1,
            "unknown or mistyped alter option \"x\""
        );
        assert_eq!(
            said(ApplyOptions::from_json(&json!("no")).unwrap_err()).1,
            "alter options must be a JSON object"
        );
    }

    #[test]
    fn drop_options() {
        assert!(!DropOptions::from_json(&json!({})).unwrap().drop_relations);
        assert!(
            DropOptions::from_json(&json!({"drop_relations": true}))
                .unwrap()
                .drop_relations
        );
        let hint = "the options are: drop_relations (boolean)";
        for (input, message, h) in [
            (
                json!({"drop_relation": true}),
                "unknown or mistyped drop option \"drop_relation\"",
                hint,
            ),
            (
                json!({"drop_relations": "yes"}),
                "unknown or mistyped drop option \"drop_relations\"",
                hint,
            ),
            (
                json!([true]),
                "drop options must be a JSON object",
                "e.g. '{\"drop_relations\": true}'",
            ),
        ] {
            assert_eq!(
                said(DropOptions::from_json(&input).unwrap_err()),
                ("22023".into(), message.into(), h.into())
            );
        }
    }

    #[test]
    fn key_options() {
        let o =
            KeyOptions::from_json(&json!({"label": "ci", "sub": "u1", "expires_at": "2030-01-01"})).unwrap();
        assert_eq!(
            (o.label.as_deref(), o.sub.as_deref(), o.expires_at.as_deref()),
            (Some("ci"), Some("u1"), Some("2030-01-01"))
        );
        assert_eq!(KeyOptions::from_json(&json!({})).unwrap(), KeyOptions::default());
        let hint = "the options are label, sub and expires_at, all strings";
        for (input, message, h) in [
            (
                json!({"label": 1}),
                "unknown or mistyped key option \"label\"",
                hint,
            ),
            (
                json!({"sub": null}),
                "unknown or mistyped key option \"sub\"",
                hint,
            ),
            (
                json!({"role": "admin"}),
                "unknown or mistyped key option \"role\"",
                hint,
            ),
            (
                json!("ci"),
                "key options must be a JSON object",
                "e.g. '{\"label\": \"ci\"}'",
            ),
        ] {
            assert_eq!(
                said(KeyOptions::from_json(&input).unwrap_err()),
                ("22023".into(), message.into(), h.into())
            );
        }
    }

    #[test]
    fn tenant_display_name_is_the_settings_name_or_the_slug() {
        assert_eq!(tenant_display_name(&json!({}), "acme").unwrap(), "acme");
        assert_eq!(
            tenant_display_name(&json!({"name": "Acme Inc", "plan": 3}), "acme").unwrap(),
            "Acme Inc"
        );
        assert_eq!(
            tenant_display_name(&json!({"name": "é".repeat(200)}), "acme")
                .unwrap()
                .chars()
                .count(),
            200
        );
        let long = (
            "22023".into(),
            "settings.name must be a string of 1 to 200 characters".into(),
            "the name is the tenant's display name".into(),
        );
        for bad in [json!(""), json!(5), json!(null), json!("é".repeat(201))] {
            assert_eq!(
                said(tenant_display_name(&json!({ "name": bad }), "acme").unwrap_err()),
                long
            );
        }
        assert_eq!(
            said(tenant_display_name(&json!(["x"]), "acme").unwrap_err()),
            (
                "22023".into(),
                "tenant settings must be a JSON object".into(),
                "e.g. '{\"name\": \"Acme Inc\"}'".into()
            )
        );
    }
}
