//! The `cot.module/1` format (docs/schemas/module.schema.json):
//!
//! ```json
//! {"format": "cot.module/1", "name": "crm", "version": "1.1.0",
//!  "description": "...", "depends": {"contacts": "^1.0"},
//!  "entities": [ ...definitions as in a cot.schema/1 bundle... ],
//!  "samples": {"companies": [{"name": "Acme"}]},
//!  "field_types": [ ...custom field types as cot.register_field_type takes them... ]}
//! ```
//!
//! A module carries entities, field types, or both: a types-only module
//! (`standard-types`) has no entities.
//!
//! [`Module::parse`] reads a document and reports every problem at once, each
//! with its JSON pointer. The definitions themselves are validated by the
//! extension (it needs the server's settings), as `cot.create_entity` does.

use crate::error::{CotError, ErrorKind, Violation};
use crate::field_types::{is_builtin, MAX_FIELD_TYPES};
use crate::names::shown;
use semver::{Version, VersionReq};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The format tag of a module; a document with another tag is refused.
pub const FORMAT: &str = "cot.module/1";

/// Most entities one module defines (a module installs as one group, and
/// `cot.create_entities` takes at most 200).
pub const MAX_ENTITIES: usize = 200;

/// Most sample rows one module carries: samples show what a module is for;
/// data loads go through the API.
pub const MAX_SAMPLE_ROWS: usize = 1000;

/// Longest description, in characters.
pub const MAX_DESCRIPTION: usize = 2000;

/// The keys a module document may have.
const KEYS: [&str; 9] = [
    "$schema",
    "format",
    "name",
    "version",
    "description",
    "depends",
    "entities",
    "samples",
    "field_types",
];

/// A parsed module.
#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    /// Its name: `^[a-z][a-z0-9_-]{0,62}$`.
    pub name: String,
    /// Its version (semver).
    pub version: Version,
    /// What it is for.
    pub description: String,
    /// The modules it needs, each with the versions that do.
    pub depends: BTreeMap<String, VersionReq>,
    /// Its entity definitions, without tenant, in the document's order.
    pub entities: Vec<Value>,
    /// Sample rows per entity name.
    pub samples: BTreeMap<String, Vec<Value>>,
    /// The custom field types it carries (docs/field-types.md), in the
    /// document's order; publishing the module registers them.
    pub field_types: Vec<Value>,
}

/// Is `name` a valid module name?
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

fn violation(pointer: impl Into<String>, message: impl Into<String>, hint: impl Into<String>) -> Violation {
    Violation::new(ErrorKind::InvalidParameter, pointer, message, hint)
}

/// The name an entity is known by inside its module: its `id` when it has
/// one (so a later version may rename it), else its name.
pub fn entity_key(def: &Value) -> Option<&str> {
    def.get("id")
        .and_then(Value::as_str)
        .or_else(|| def.get("name").and_then(Value::as_str))
}

impl Module {
    /// Reads a module document; every problem at once, as an invalid module.
    pub fn parse(doc: &Value) -> Result<Module, CotError> {
        let Value::Object(m) = doc else {
            return Err(CotError::new(ErrorKind::InvalidParameter, "a module must be a JSON object")
                .hint("see docs/modules.md: {\"format\": \"cot.module/1\", \"name\": ..., \"version\": ..., \"entities\": [...]}"));
        };
        let mut problems = Vec::new();
        for key in m.keys().filter(|k| !KEYS.contains(&k.as_str())) {
            problems.push(violation(
                format!("/{key}"),
                format!("unknown key {}", shown(key)),
                format!("the keys of a module are: {}", KEYS[1..].join(", ")),
            ));
        }
        if m.get("format").and_then(Value::as_str) != Some(FORMAT) {
            problems.push(violation(
                "/format",
                "format must be \"cot.module/1\"",
                "start the document with {\"format\": \"cot.module/1\", ...}",
            ));
        }
        let name = read_name(m, &mut problems);
        let version = read_version(m, &mut problems);
        let description = read_description(m, &mut problems);
        let depends = read_depends(m, &name, &mut problems);
        let field_types = read_field_types(m, &mut problems);
        let entities = read_entities(m, !field_types.is_empty(), &mut problems);
        let samples = read_samples(m, &entities, &mut problems);
        if !problems.is_empty() {
            return Err(CotError::from_violations("module", &problems));
        }
        Ok(Module {
            name,
            version: version.expect("no problems means a version"),
            description,
            depends,
            entities,
            samples,
            field_types,
        })
    }

    /// The names of the field types it carries, in order.
    pub fn field_type_names(&self) -> Vec<&str> {
        self.field_types
            .iter()
            .filter_map(|t| t.get("name").and_then(Value::as_str))
            .collect()
    }

    /// Field types its entities use that are neither built in nor carried by
    /// the module, each with the pointer of its field: they must be carried
    /// by modules it depends on.
    pub fn outside_types(&self) -> Vec<(String, String)> {
        let own = self.field_type_names();
        let mut out = Vec::new();
        for (i, d) in self.entities.iter().enumerate() {
            let fields = d.get("fields").and_then(Value::as_array).into_iter().flatten();
            for (j, f) in fields.enumerate() {
                if let Some(t) = f.get("type").and_then(Value::as_str) {
                    if !is_builtin(t) && !own.contains(&t) {
                        out.push((format!("/entities/{i}/fields/{j}/type"), t.to_string()));
                    }
                }
            }
        }
        out
    }

    /// The names of its entities, in order.
    pub fn entity_names(&self) -> Vec<&str> {
        self.entities
            .iter()
            .filter_map(|d| d.get("name").and_then(Value::as_str))
            .collect()
    }

    /// Relation targets that are none of its own entities, each with the
    /// pointer of its field: they must be entities of modules it depends on.
    pub fn outside_targets(&self) -> Vec<(String, String)> {
        let names = self.entity_names();
        let mut out = Vec::new();
        for (i, d) in self.entities.iter().enumerate() {
            let fields = d.get("fields").and_then(Value::as_array).into_iter().flatten();
            for (j, f) in fields.enumerate() {
                if let Some(t) = f.get("target").and_then(Value::as_str) {
                    if !names.contains(&t) {
                        out.push((format!("/entities/{i}/fields/{j}/target"), t.to_string()));
                    }
                }
            }
        }
        out
    }
}

fn read_name(m: &Map<String, Value>, problems: &mut Vec<Violation>) -> String {
    match m.get("name").and_then(Value::as_str) {
        Some(n) if valid_name(n) => n.to_string(),
        _ => {
            problems.push(violation(
                "/name",
                "name must match ^[a-z][a-z0-9_-]{0,62}$",
                "e.g. \"crm\" or \"crm-deals\"",
            ));
            String::new()
        }
    }
}

fn read_version(m: &Map<String, Value>, problems: &mut Vec<Violation>) -> Option<Version> {
    let parsed = m.get("version").and_then(Value::as_str).map(Version::parse);
    match parsed {
        Some(Ok(v)) if v.build.is_empty() => Some(v),
        Some(Ok(_)) => {
            problems.push(violation(
                "/version",
                "a module version has no build metadata (+...)",
                "two versions that differ only in build metadata are the same version in semver",
            ));
            None
        }
        Some(Err(e)) => {
            problems.push(violation(
                "/version",
                format!("version is not a semantic version: {e}"),
                "e.g. \"1.0.0\" or \"2.1.0-beta.1\"",
            ));
            None
        }
        None => {
            problems.push(violation(
                "/version",
                "version is required, a string",
                "e.g. \"1.0.0\"",
            ));
            None
        }
    }
}

fn read_description(m: &Map<String, Value>, problems: &mut Vec<Violation>) -> String {
    match m.get("description") {
        None => String::new(),
        Some(Value::String(s)) if s.chars().count() <= MAX_DESCRIPTION => s.clone(),
        Some(_) => {
            problems.push(violation(
                "/description",
                format!("description must be a string of at most {MAX_DESCRIPTION} characters"),
                "say in a sentence or two what the module is for",
            ));
            String::new()
        }
    }
}

fn read_depends(
    m: &Map<String, Value>,
    own: &str,
    problems: &mut Vec<Violation>,
) -> BTreeMap<String, VersionReq> {
    let mut out = BTreeMap::new();
    let Some(depends) = m.get("depends") else {
        return out;
    };
    let Value::Object(deps) = depends else {
        problems.push(violation(
            "/depends",
            "depends must be an object of module name to version range",
            "e.g. {\"crm\": \"^1.0\"}",
        ));
        return out;
    };
    for (name, range) in deps {
        let at = format!("/depends/{}", pointer_escape(name));
        if !valid_name(name) {
            problems.push(violation(
                at,
                format!("{} is not a module name", shown(name)),
                "module names match ^[a-z][a-z0-9_-]{0,62}$",
            ));
            continue;
        }
        if name == own {
            problems.push(violation(
                at,
                "a module cannot depend on itself",
                "remove it from depends",
            ));
            continue;
        }
        match range.as_str().map(VersionReq::parse) {
            Some(Ok(req)) => {
                out.insert(name.clone(), req);
            }
            _ => problems.push(violation(
                at,
                format!("the version range of {} is not a semver range", shown(name)),
                "e.g. \"^1.2\", \">=1.0, <3\", \"~2.1.0\" or \"*\"",
            )),
        }
    }
    out
}

/// Reads `field_types`: objects with distinct names. Each definition is
/// checked by the extension when the module is published, as
/// `cot.register_field_type` checks it.
fn read_field_types(m: &Map<String, Value>, problems: &mut Vec<Violation>) -> Vec<Value> {
    let Some(v) = m.get("field_types") else {
        return Vec::new();
    };
    let Some(list) = v
        .as_array()
        .filter(|l| !l.is_empty() && l.len() <= MAX_FIELD_TYPES)
    else {
        problems.push(violation(
            "/field_types",
            format!("field_types must be an array of 1 to {MAX_FIELD_TYPES} field type definitions"),
            "each as cot.register_field_type takes it (docs/field-types.md), or leave the key out",
        ));
        return Vec::new();
    };
    let mut names: Vec<&str> = Vec::new();
    for (i, t) in list.iter().enumerate() {
        match t.get("name").and_then(Value::as_str) {
            None => problems.push(violation(
                format!("/field_types/{i}"),
                "a field type is an object with a name",
                "e.g. {\"name\": \"phone\", \"base\": \"text\", \"checks\": {...}}",
            )),
            Some(n) if names.contains(&n) => problems.push(violation(
                format!("/field_types/{i}/name"),
                format!("field type {} is carried twice", shown(n)),
                "each field type of a module has its own name",
            )),
            Some(n) => names.push(n),
        }
    }
    list.clone()
}

fn read_entities(m: &Map<String, Value>, has_types: bool, problems: &mut Vec<Violation>) -> Vec<Value> {
    let list = match m.get("entities") {
        None if has_types => return Vec::new(),
        Some(Value::Array(list)) => list,
        _ => {
            problems.push(violation(
                "/entities",
                "entities must be an array of entity definitions",
                "as in a cot.schema/1 bundle (cot.export_schema)",
            ));
            return Vec::new();
        }
    };
    let least = usize::from(!has_types);
    if list.len() < least || list.len() > MAX_ENTITIES {
        problems.push(violation(
            "/entities",
            format!("a module defines {least} to {MAX_ENTITIES} entities"),
            "a module is a package of entities, of field types, or of both",
        ));
    }
    let mut names: Vec<String> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, e) in list.iter().enumerate() {
        let at = format!("/entities/{i}");
        let Value::Object(def) = e else {
            problems.push(violation(
                at,
                "each entity must be an object",
                "an entity definition",
            ));
            continue;
        };
        for key in ["tenant", "version"] {
            if def.contains_key(key) {
                problems.push(violation(
                    format!("{at}/{key}"),
                    format!("a module's entity has no {key}"),
                    "a module installs into any tenant, at each entity's own version: remove the key",
                ));
            }
        }
        match def.get("name").and_then(Value::as_str) {
            Some(n) if names.iter().any(|x| x == n) => problems.push(violation(
                format!("{at}/name"),
                format!("entity {} is defined twice", shown(n)),
                "each entity of a module has its own name",
            )),
            Some(n) => names.push(n.to_string()),
            None => problems.push(violation(
                format!("{at}/name"),
                "an entity needs a name",
                "e.g. \"tickets\"",
            )),
        }
        if let Some(k) = entity_key(e) {
            if keys.iter().any(|x| x == k) {
                problems.push(violation(
                    format!("{at}/id"),
                    format!("entity id {} is used twice", shown(k)),
                    "an entity's id (or, without one, its name) is unique in its module",
                ));
            }
            keys.push(k.to_string());
        }
        if let Some(v) = def.get("id").filter(|v| !v.is_string()) {
            problems.push(violation(
                format!("{at}/id"),
                format!("id must be a string, not {v}"),
                "e.g. \"tickets\"",
            ));
        }
        out.push(e.clone());
    }
    out
}

fn read_samples(
    m: &Map<String, Value>,
    entities: &[Value],
    problems: &mut Vec<Violation>,
) -> BTreeMap<String, Vec<Value>> {
    let mut out = BTreeMap::new();
    let Some(samples) = m.get("samples") else {
        return out;
    };
    let Value::Object(samples) = samples else {
        problems.push(violation(
            "/samples",
            "samples must be an object of entity name to an array of rows",
            "e.g. {\"companies\": [{\"name\": \"Acme\"}]}",
        ));
        return out;
    };
    let names: Vec<&str> = entities
        .iter()
        .filter_map(|d| d.get("name").and_then(Value::as_str))
        .collect();
    let mut total = 0;
    for (entity, rows) in samples {
        let at = format!("/samples/{}", pointer_escape(entity));
        if !names.contains(&entity.as_str()) {
            problems.push(violation(
                at,
                format!(
                    "samples for {}, which is none of the module's entities",
                    shown(entity)
                ),
                "samples fill the module's own entities",
            ));
            continue;
        }
        let Some(rows) = rows.as_array().filter(|r| r.iter().all(Value::is_object)) else {
            problems.push(violation(
                at,
                "samples of an entity are an array of objects",
                "one object per row",
            ));
            continue;
        };
        total += rows.len();
        out.insert(entity.clone(), rows.clone());
    }
    if total > MAX_SAMPLE_ROWS {
        problems.push(violation(
            "/samples",
            format!("a module carries at most {MAX_SAMPLE_ROWS} sample rows, not {total}"),
            "load data through the API",
        ));
    }
    out
}

/// A key as a JSON pointer token (RFC 6901).
fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
