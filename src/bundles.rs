//! A tenant's whole model as one document: `cot.export_schema` writes it,
//! `cot.apply_schema` makes a tenant match it (creating, altering and dropping
//! entities) in one transaction, or shows the combined plan (`dry_run`). This
//! is how a model moves between environments and how modules will install.
//! The bundle format and its checks are the engine's
//! ([`cot_engine::bundle`]).

use crate::catalog::meta::{self, TenantRow};
use crate::entity::alter::{action, apply_prepared, plan_of, LockTimeout};
use crate::entity::change::{prepare, Target};
use crate::entity::create::{create_group, known_of, plan_group};
use crate::entity::definable_tenant;
use crate::entity::drop::drop_entity_now;
use crate::entity::{stored_ident, tenant_names};
use crate::jsonb_arg::JsonbText;
use crate::raise::{raise, raise_violations};
use crate::spi;
use cot_engine::bundle::{self, MAX_BUNDLE_BYTES};
use cot_engine::ddl::render_probe;
use cot_engine::error::{ErrorKind, Violation};
use cot_engine::evolve::{self, Count, Probe};
use cot_engine::names::NameKind;
use cot_engine::options::{ApplyOptions, MAX_OPTIONS_BYTES};
use cot_engine::plan_json;
use cot_engine::stored::Header;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};

/// The tenant's model: every entity's definition with its ids, fields,
/// relations and access rules, ordered by name. Applying it to another tenant
/// (or database) with `cot.apply_schema` reproduces the model.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn export_schema(tenant: &str) -> JsonB {
    let t = definable_tenant(tenant);
    JsonB(bundle::export(&t.slug, meta::definitions(t.id)))
}

/// The bundle's definitions for this tenant: tenant set, and ids that another
/// tenant already uses replaced by stable ones of this tenant.
fn definitions_for(t: &TenantRow, bundle: &Value) -> Vec<Value> {
    let mut defs = bundle::definitions(bundle, &t.slug).unwrap_or_else(|e| raise(e));
    crate::entity::keep_ids_in_tenant(t.id, &mut defs);
    defs
}

/// A bundle's definitions sorted by what they do to the tenant.
pub(crate) struct Sorted {
    /// Entities the tenant lacks.
    pub(crate) creates: Vec<Value>,
    /// Entities it has (matched by id, then by name).
    pub(crate) changes: Vec<Value>,
    /// Entities the bundle lacks, by name.
    pub(crate) drops: Vec<String>,
}

fn sort(t: &TenantRow, defs: Vec<Value>) -> Sorted {
    let (mut creates, mut changes) = (Vec::new(), Vec::new());
    for def in defs {
        let header = Header::of(&def);
        let by_id = header.id.and_then(|id| meta::entity_by_id(t.id, id));
        if by_id.is_some() || meta::entity(t.id, &header.name).is_some() {
            changes.push(def);
        } else {
            creates.push(def);
        }
    }
    let keep: Vec<String> = changes
        .iter()
        .chain(&creates)
        .map(|d| Header::of(d).name)
        .filter(|n| !n.is_empty())
        .collect();
    let drops = meta::entity_names(t.id)
        .into_iter()
        .filter(|n| !keep.contains(n))
        .collect();
    Sorted {
        creates,
        changes,
        drops,
    }
}

/// The rows of each entity that would be dropped, and a refusal for each that
/// holds rows unless data loss is allowed.
pub(crate) fn dropped_rows(
    t: &TenantRow,
    drops: &[String],
    options: &evolve::Options,
    what: &str,
) -> (Vec<(String, u64)>, Vec<Violation>) {
    let names = tenant_names(t);
    let mut refusals = Vec::new();
    let mut rows_of = Vec::new();
    for name in drops {
        let rows = spi::count(&render_probe(&Count {
            schema: names.storage_schema.clone(),
            table: stored_ident(NameKind::Entity, name),
            probe: Probe::Rows,
        }));
        if rows > 0 && !options.allow_data_loss {
            refusals.push(Violation::new(
                ErrorKind::DataLoss,
                "/entities",
                format!(
                    "entity \"{name}\" is not in the {what}; dropping it would delete {}",
                    cot_engine::words::counted(rows, "row", "rows")
                ),
                format!(
                    "pass {{\"allow_data_loss\": true}} to drop it with its rows, or add it to the {what}"
                ),
            ));
        }
        rows_of.push((name.clone(), rows));
    }
    (rows_of, refusals)
}

/// Makes a tenant's model match a bundle from `cot.export_schema`, in one
/// transaction: entities the tenant lacks are created (as one group, so they
/// may reference each other), entities it has are altered (matched by id,
/// then by name), entities the bundle lacks are dropped. Options: those of
/// `cot.alter_entity` (`allow_data_loss` also allows dropping entities that
/// hold rows), and `dry_run` to return the combined plan and change nothing.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn apply_schema(tenant: &str, bundle: JsonbText, options: default!(JsonbText, "'{}'")) -> JsonB {
    let t = definable_tenant(tenant);
    let bundle = bundle
        .parse("schema bundle", MAX_BUNDLE_BYTES)
        .unwrap_or_else(|e| raise(e));
    let options = options
        .parse("apply options", MAX_OPTIONS_BYTES)
        .unwrap_or_else(|e| raise(e));
    let options = ApplyOptions::from_json(&options).unwrap_or_else(|e| raise(e));
    meta::lock_tenant(&t.slug);
    let lock = LockTimeout::set(&options.alter);
    let sorted = sort(&t, definitions_for(&t, &bundle));
    let evolve = options.alter.evolve();
    let created_known = known_of(&sorted.creates);
    let (rows, refusals) = dropped_rows(&t, &sorted.drops, &evolve, "bundle");
    let report = if options.dry_run {
        dry_run(&t, sorted, &created_known, rows, refusals, &evolve)
    } else {
        if !refusals.is_empty() {
            raise_violations("schema bundle", &refusals);
        }
        apply(&t, sorted, &evolve, "schema bundle")
    };
    lock.restore();
    JsonB(report)
}

/// The combined plan, changing nothing.
pub(crate) fn dry_run(
    t: &TenantRow,
    sorted: Sorted,
    created_known: &[cot_engine::relations::KnownEntity],
    rows: Vec<(String, u64)>,
    mut refusals: Vec<Violation>,
    options: &evolve::Options,
) -> Value {
    let prefix = |i: usize| format!("/entities/{i}");
    let created = if sorted.creates.is_empty() {
        Vec::new()
    } else {
        plan_group(&sorted.creates, &prefix).unwrap_or_else(|v| raise_violations("schema bundle", &v))
    };
    let mut plans: Vec<Value> = sorted
        .creates
        .iter()
        .zip(created)
        .map(|(d, steps)| plan_json::bundle_creation(&Header::of(d).name, steps))
        .collect();
    for def in sorted.changes {
        let Target::Existing(p) = prepare(def, created_known) else {
            continue;
        };
        let plan = plan_of(&p, options);
        refusals.extend(plan.refusals.iter().cloned());
        plans.push(plan_json::bundle_change(
            p.new.entity.name.as_str(),
            action(&p, &plan),
            p.version,
            &plan,
        ));
    }
    plans.extend(
        rows.iter()
            .map(|(name, rows)| plan_json::bundle_drop(name, *rows)),
    );
    json!({
        "tenant": t.slug, "dry_run": true, "entities": plans,
        "refused": plan_json::refused_json(&refusals),
    })
}

/// Creates, alters and drops; returns what became of each entity. Problems
/// with the definitions are raised as an invalid `what`.
pub(crate) fn apply(t: &TenantRow, sorted: Sorted, options: &evolve::Options, what: &str) -> Value {
    let (mut altered, mut unchanged, mut dropped) = (Vec::new(), Vec::new(), Vec::new());
    let created: Vec<Value> = if sorted.creates.is_empty() {
        Vec::new()
    } else {
        create_group(sorted.creates, &|i| format!("/entities/{i}"), what)
            .into_iter()
            .map(|d| json!(Header::of(&d).name))
            .collect()
    };
    for def in sorted.changes {
        let Target::Existing(p) = prepare(def, &[]) else {
            continue;
        };
        let name = json!(p.new.entity.name.as_str());
        if apply_prepared(&p, options).is_some() {
            altered.push(name);
        } else {
            unchanged.push(name);
        }
    }
    for name in &sorted.drops {
        // Relations that still point at it stop this with 2BP01: the bundle
        // must drop or change them too.
        if let Some(row) = meta::entity(t.id, name) {
            // Relations between entities that all go are dropped with them.
            let among_drops = meta::incoming(row.id)
                .iter()
                .all(|r| sorted.drops.contains(&r.source));
            drop_entity_now(&t.slug, name, among_drops);
            dropped.push(json!(name));
        }
    }
    json!({"tenant": t.slug, "created": created, "altered": altered,
           "unchanged": unchanged, "dropped": dropped})
}
