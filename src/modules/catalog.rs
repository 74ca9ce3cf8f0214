//! The module catalog: `cot.publish_module` stores a version for good,
//! `cot.modules()` lists every published version.

use super::store;
use crate::catalog::roles::caller_name;
use crate::environment::Server;
use crate::jsonb_arg::JsonbText;
use crate::permissions::require_platform;
use crate::raise::{raise, raise_violations};
use cot_engine::bundle::MAX_BUNDLE_BYTES;
use cot_engine::error::{CotError, ErrorKind, Violation};
use cot_engine::group::prefixed;
use cot_engine::module::resolve::newest;
use cot_engine::module::{tenant, Module};
use cot_engine::names::shown;
use cot_engine::validate::validate;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};
use std::cmp::Ordering;

/// The tenant slug a module's definitions are validated with at publication:
/// definitions do not depend on their tenant's name.
const CHECK_TENANT: &str = "module_check";

/// Problems with the module's definitions: each validated as
/// `cot.create_entity` would, and relation targets outside the module must be
/// entities of a module it depends on (at the newest version in range).
fn definition_problems(m: &Module) -> Vec<Violation> {
    let defs = tenant::definitions_for(m, CHECK_TENANT, uuid::Uuid::nil());
    let mut problems = Vec::new();
    for (i, def) in defs.iter().enumerate() {
        if let Err(vs) = validate(def, &Server) {
            problems.extend(vs.into_iter().map(|v| prefixed(&format!("/entities/{i}"), v)));
        }
    }
    let mut dep_entities: Vec<String> = Vec::new();
    let mut dep_types: Vec<String> = Vec::new();
    for (dep, req) in &m.depends {
        let versions = store::published(dep);
        let Some(p) = newest(&versions, req) else {
            problems.push(Violation::new(
                ErrorKind::UndefinedObject,
                format!("/depends/{dep}"),
                format!("no published version of module {} matches {req}", shown(dep)),
                "publish the modules it depends on first",
            ));
            continue;
        };
        let doc = store::module(dep, &p.version.to_string());
        dep_entities.extend(doc.entity_names().into_iter().map(str::to_string));
        dep_types.extend(doc.field_type_names().into_iter().map(str::to_string));
    }
    for (pointer, t) in m.outside_types() {
        if !dep_types.contains(&t) {
            problems.push(Violation::new(
                ErrorKind::UndefinedObject,
                pointer,
                format!(
                    "field type {} is carried neither by the module nor by a module it depends on",
                    shown(&t)
                ),
                "add the type to the module's field_types, or depend on the module that carries it (standard-types)",
            ));
        }
    }
    for (pointer, target) in m.outside_targets() {
        if !dep_entities.contains(&target) {
            problems.push(Violation::new(
                ErrorKind::UndefinedObject,
                pointer,
                format!(
                    "relation target {} is neither an entity of the module nor of a module it depends on",
                    shown(&target)
                ),
                "add the entity to the module, or depend on the module that defines it",
            ));
        }
    }
    problems
}

/// Publishes a module version (the `cot.module/1` document) to the catalog,
/// for superusers and members of `cot_platform`. Versions are immutable:
/// publishing a name and version again with the same document changes
/// nothing (`"published": false`); with another document it is refused
/// (`42710`). The field types the module carries are registered in the same
/// transaction (again on a republication, so a type unregistered since comes
/// back); one already registered with another base or checks is refused
/// (`42710`). An entity's field of a custom type needs the type carried by
/// the module or by a module it depends on.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn publish_module(module: JsonbText) -> JsonB {
    require_platform("publish modules");
    let doc = module
        .parse("module", MAX_BUNDLE_BYTES)
        .unwrap_or_else(|e| raise(e));
    let m = Module::parse(&doc).unwrap_or_else(|e| raise(e));
    store::lock_module(&m.name);
    let version = m.version.to_string();
    let stored = store::stored_document(&m.name, &version);
    // Compared as jsonb: key order and spacing do not count.
    if stored.as_ref().is_some_and(|s| *s != doc) {
        raise(
            CotError::new(
                ErrorKind::DuplicateObject,
                format!(
                    "module {} version {version} is already published, with other content",
                    shown(&m.name)
                ),
            )
            .hint("published versions never change: publish the change as a new version"),
        );
    }
    let registered = crate::field_types::register_carried(&m.name, &m.field_types);
    let mut out = json!({"name": m.name, "version": version, "published": stored.is_none()});
    if !m.field_types.is_empty() {
        out["field_types"] = json!({"carried": m.field_type_names(), "registered": registered});
    }
    if stored.is_some() {
        return JsonB(out);
    }
    let problems = definition_problems(&m);
    if !problems.is_empty() {
        raise_violations("module", &problems);
    }
    store::insert(&m, &doc, &caller_name());
    JsonB(out)
}

/// One catalog row as `cot.modules()` shows it.
fn listed(m: &Module, published_at: String, published_by: String) -> Value {
    let depends: serde_json::Map<String, Value> = m
        .depends
        .iter()
        .map(|(k, v)| (k.clone(), json!(v.to_string())))
        .collect();
    json!({
        "name": m.name,
        "version": m.version.to_string(),
        "description": m.description,
        "depends": depends,
        "entities": m.entity_names(),
        "field_types": m.field_type_names(),
        "sample_rows": m.samples.values().map(Vec::len).sum::<usize>(),
        "published_at": serde_json::from_str::<Value>(&published_at).unwrap_or(Value::Null),
        "published_by": published_by,
    })
}

/// Every published module version, by name and then newest version first:
/// name, version, description, depends, entities (names), field_types
/// (names of the types it carries), sample_rows,
/// published_at, published_by. For superusers, `cot_platform` and tenant
/// admins (who install from it).
#[pg_extern(security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn modules() -> JsonB {
    let mut rows: Vec<(Module, String, String)> = store::catalog()
        .into_iter()
        .filter_map(|(doc, at, by)| Module::parse(&doc).ok().map(|m| (m, at, by)))
        .collect();
    rows.sort_by(|a, b| match a.0.name.cmp(&b.0.name) {
        Ordering::Equal => b.0.version.cmp(&a.0.version),
        o => o,
    });
    JsonB(Value::Array(
        rows.into_iter().map(|(m, at, by)| listed(&m, at, by)).collect(),
    ))
}
