//! The semantic step of validation: from a schema-valid document to an
//! [`Entity`] the planner can use, or every violation found, each with its
//! JSON pointer. Pure: what needs the server (reserved words, regex syntax) comes
//! in through [`Environment`].
//!
//! This file holds the entry point and what every check shares (the `Checker`
//! that collects violations, the order they are reported in). The checks live
//! one concern a file, as `impl Checker` blocks: `entity` (the whole entity and
//! what only shows across fields), `field` (a field and its type), `default`
//! (literals and defaults), `relation`, `index`; `normalize` writes the stored
//! form back out.
//!
//! [`Entity`]: crate::types::Entity

mod default;
mod entity;
mod field;
mod field_type;
#[cfg(test)]
mod fuzz;
mod index;
mod normalize;
mod relation;
#[cfg(test)]
pub(crate) mod tests;
mod workflow;

pub use field_type::field_type;
pub use normalize::label_from_name;

use crate::definition::EntityDef;
use crate::error::{ErrorKind, Violation};
use crate::field_types::{self, FieldTypes};
use crate::names::{check_name, Ident, Keywords, NameKind};
use crate::schema;
use crate::types::Entity;
use serde_json::Value;
use std::sync::Arc;
use uuid::Uuid;

/// Largest definition accepted, in bytes of JSON text. A 500-field definition
/// with every option set is about 150 kB.
pub const MAX_DEFINITION_BYTES: usize = 1024 * 1024;

/// What validation needs from the database.
pub trait Environment {
    /// Postgres's reserved words.
    fn keywords(&self) -> &Keywords;
    /// `Err(reason)` if `pattern` is not a valid Postgres regular expression.
    fn check_regex(&self, pattern: &str) -> Result<(), String>;
    /// Whether `text ~ pattern` under Postgres's rules.
    fn regex_matches(&self, pattern: &str, text: &str) -> Result<bool, String>;
    /// The registered custom field types ([`crate::field_types`]); none by default.
    fn field_types(&self) -> Arc<FieldTypes> {
        Arc::default()
    }
}

/// A definition that passed: the entity and its normalized JSON form.
#[derive(Debug, Clone)]
pub struct Validated {
    /// What the planner uses.
    pub entity: Entity,
    /// The definition with ids, labels and every flag made explicit: what Cot
    /// stores and returns.
    pub normalized: Value,
    /// Whether the caller chose any id (entity or field) rather than letting Cot
    /// generate them; only chosen ids can already be in use.
    pub ids_given: bool,
}

/// Validates a whole definition. Every violation is collected, not just the first.
pub fn validate(def: &Value, env: &dyn Environment) -> Result<Validated, Vec<Violation>> {
    let size = serde_json::to_string(def).map(|s| s.len()).unwrap_or(usize::MAX);
    if size > MAX_DEFINITION_BYTES {
        return Err(vec![Violation::new(
            ErrorKind::ProgramLimit,
            "",
            format!("definition is {size} bytes, at most {MAX_DEFINITION_BYTES} are accepted"),
            "split the model into several entities",
        )]);
    }
    let types = env.field_types();
    let expanded = field_types::expand(def, &types);
    let def = &expanded.definition;
    let mut out = expanded.violations;
    check_raw_names(def, env.keywords(), &mut out);
    let schema_violations = schema::check(def);
    let structural = !schema_violations.is_empty();
    out.extend(schema_violations);
    if structural {
        return Err(sorted(out));
    }
    let parsed: EntityDef = match serde_json::from_value(def.clone()) {
        Ok(d) => d,
        Err(e) => {
            out.push(Violation::new(
                ErrorKind::InvalidParameter,
                "",
                e.to_string(),
                "see cot.definition_schema()",
            ));
            return Err(sorted(out));
        }
    };
    if !out.is_empty() {
        // Names are wrong; the rest could only produce follow-on noise.
        return Err(sorted(out));
    }
    let mut cx = Checker { env, out: Vec::new() };
    let entity = cx.entity(&parsed);
    if cx.out.is_empty() {
        let mut entity = entity.expect("no violations means an entity");
        for (i, c) in &expanded.custom {
            let name = parsed.fields[*i].name.as_str();
            if let Some(f) = entity.fields.iter_mut().find(|f| f.name.as_str() == name) {
                f.custom = Some(c.clone());
            }
        }
        let mut normalized = normalize::normalize(&parsed, &entity);
        field_types::collapse(&mut normalized, &expanded.custom, &types);
        let ids_given = parsed.id.is_some() || parsed.fields.iter().any(|f| f.id.is_some());
        Ok(Validated {
            entity,
            normalized,
            ids_given,
        })
    } else {
        Err(sorted(cx.out))
    }
}

fn sorted(mut v: Vec<Violation>) -> Vec<Violation> {
    // Document order: "/fields/10" after "/fields/9". The sort is stable, so
    // violations at one pointer keep the order the checks found them in.
    v.sort_by_key(|a| pointer_key(&a.pointer));
    v.dedup();
    v
}

fn pointer_key(p: &str) -> Vec<(u64, String)> {
    p.split('/')
        .map(|s| {
            s.parse::<u64>()
                .map_or((u64::MAX, s.to_string()), |n| (n, String::new()))
        })
        .collect()
}

/// Names are checked on the raw document so a bad name is reported with its own
/// SQLSTATE even when the rest of the document does not fit the schema.
fn check_raw_names(def: &Value, keywords: &Keywords, out: &mut Vec<Violation>) {
    let Some(obj) = def.as_object() else { return };
    if let Some(Value::String(t)) = obj.get("tenant") {
        if let Err(v) = check_name(NameKind::Tenant, t, "/tenant", keywords) {
            out.push(v);
        }
    }
    if let Some(Value::String(n)) = obj.get("name") {
        if let Err(v) = check_name(NameKind::Entity, n, "/name", keywords) {
            out.push(v);
        }
    }
    if let Some(Value::Array(fields)) = obj.get("fields") {
        for (i, f) in fields.iter().enumerate().take(schema::MAX_FIELDS) {
            if let Some(Value::String(n)) = f.get("name") {
                if let Err(v) = check_name(NameKind::Field, n, &format!("/fields/{i}/name"), keywords) {
                    out.push(v);
                }
            }
        }
    }
}

/// The pointer to option `key` of field `i`, where most violations point.
fn field_pointer(i: usize, key: &str) -> String {
    format!("/fields/{i}/{key}")
}

/// Walks a parsed definition, building the entity and collecting violations.
/// A check that fails records why and goes on, so one call reports everything;
/// its `Option` result is `None` only when nothing further can be built on it.
struct Checker<'a> {
    env: &'a dyn Environment,
    out: Vec<Violation>,
}

impl Checker<'_> {
    /// Records the common violation: an option with a value that cannot be used.
    fn bad(&mut self, pointer: String, message: impl Into<String>, hint: impl Into<String>) {
        self.out.push(Violation::new(
            ErrorKind::InvalidParameter,
            pointer,
            message,
            hint,
        ));
    }

    /// A checked name, or `None` with the name's own violation recorded.
    fn name(&mut self, kind: NameKind, name: &str, pointer: &str) -> Option<Ident> {
        check_name(kind, name, pointer, self.env.keywords())
            .map_err(|v| self.out.push(v))
            .ok()
    }

    /// The given id, or a new one when none is given. A malformed id is recorded
    /// and stands in as nil so the rest of the definition is still checked.
    fn id(&mut self, id: &Option<String>, pointer: String) -> Uuid {
        match id {
            None => Uuid::now_v7(),
            Some(s) => Uuid::try_parse(s).unwrap_or_else(|_| {
                self.bad(pointer, "id is not a uuid", "omit the id to have one generated");
                Uuid::nil()
            }),
        }
    }
}
