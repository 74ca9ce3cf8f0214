//! A custom field type as `cot.register_field_type` takes it: its name, its
//! base, its annotations, and its checks, which are checked the way a
//! definition's field options are (by validating a one-field definition of
//! the base type with those options), so a type can hold nothing a field
//! could not.

use super::{validate, Environment};
use crate::error::{ErrorKind, Violation};
use crate::field_types::{base_type_names, is_builtin, probe_field, FieldTypeDef, MAX_EXAMPLES};
use crate::names::{check_name, NameKind};
use crate::schema::MAX_DESCRIPTION_CHARS;
use serde_json::{json, Value};

/// Longest `json_schema.format`.
const MAX_FORMAT_CHARS: usize = 64;

fn bad(pointer: impl Into<String>, message: impl Into<String>, hint: impl Into<String>) -> Violation {
    Violation::new(ErrorKind::InvalidParameter, pointer, message, hint)
}

/// Checks a type definition; every violation is reported, each with its
/// JSON pointer in the type definition.
pub fn field_type(def: &Value, env: &dyn Environment) -> Result<FieldTypeDef, Vec<Violation>> {
    let t: FieldTypeDef = serde_json::from_value(def.clone()).map_err(|e| {
        vec![bad(
            "",
            format!("not a field type definition: {e}"),
            "a field type is {\"name\", \"base\", \"description\", \"json_schema\": {\"format\", \"examples\"}, \"checks\": {...}}; see docs/field-types.md",
        )]
    })?;
    let mut out = shape(&t, env);
    if !out.is_empty() {
        return Err(out);
    }
    let probe = |example: Option<&Value>| json!({"tenant": "types", "name": "probe", "fields": [probe_field(&t, example)]});
    match validate(&probe(None), env) {
        Err(vs) => out.extend(vs.into_iter().map(|v| at_check(v, None))),
        Ok(_) => {
            for (k, e) in t.json_schema.examples.iter().enumerate() {
                if let Err(vs) = validate(&probe(Some(e)), env) {
                    out.extend(vs.into_iter().map(|v| at_check(v, Some(k))));
                }
            }
        }
    }
    if out.is_empty() {
        Ok(t)
    } else {
        Err(out)
    }
}

/// What holds without the checks: the name, the base, the annotations.
fn shape(t: &FieldTypeDef, env: &dyn Environment) -> Vec<Violation> {
    let mut out = Vec::new();
    match check_name(NameKind::Field, &t.name, "/name", env.keywords()) {
        Err(v) => out.push(v),
        Ok(_) if is_builtin(&t.name) => out.push(Violation::new(
            ErrorKind::ReservedName,
            "/name",
            format!("{} is a built-in type", t.name),
            "choose another name for the custom type",
        )),
        Ok(_) => {}
    }
    let bases = base_type_names();
    if !bases.contains(&t.base.as_str()) {
        out.push(bad(
            "/base",
            format!("{} is not a type a custom type can build on", t.base),
            format!("base is one of: {}", bases.join(", ")),
        ));
    }
    if t.checks.values.is_some() && t.base != "text" {
        out.push(bad(
            "/checks/enum",
            format!("enum does not apply to base {}", t.base),
            "a list of values is for base text",
        ));
    }
    if t.description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
    {
        out.push(bad(
            "/description",
            format!("description is longer than {MAX_DESCRIPTION_CHARS} characters"),
            "shorten it",
        ));
    }
    if let Some(f) = &t.json_schema.format {
        let shaped = !f.is_empty()
            && f.chars().count() <= MAX_FORMAT_CHARS
            && f.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !shaped {
            out.push(bad(
                "/json_schema/format",
                "format is 1 to 64 letters, digits, - or _",
                "e.g. \"phone\" or \"iso4217\"",
            ));
        }
    }
    if t.json_schema.examples.len() > MAX_EXAMPLES {
        out.push(bad(
            "/json_schema/examples",
            format!("at most {MAX_EXAMPLES} examples are kept"),
            "keep the most telling ones",
        ));
    }
    out
}

/// A violation of the probe definition, pointed at the type definition:
/// `/fields/0/pattern` is `/checks/pattern`, the probe's default is the
/// example being checked.
fn at_check(mut v: Violation, example: Option<usize>) -> Violation {
    let key = v.pointer.strip_prefix("/fields/0/").unwrap_or("").to_string();
    v.pointer = match (key.as_str(), example) {
        (_, Some(k)) => {
            v.message = format!("example {k}: {}", v.message);
            format!("/json_schema/examples/{k}")
        }
        ("values", None) => "/checks/enum".into(),
        ("type", None) => "/base".into(),
        ("", None) => "/checks".into(),
        (k, None) => format!("/checks/{k}"),
    };
    v
}
