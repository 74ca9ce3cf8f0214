//! A tenant's whole model as one document: `cot.export_schema` writes it,
//! `cot.apply_schema` makes a tenant match it (creating, altering and dropping
//! entities) in one transaction, or shows the combined plan (`dry_run`). This
//! is how a model moves between environments and how modules will install.

use crate::alter::{self, apply_prepared, change_json, pending_json, plan_of, summary, LockTimeout, Target};
use crate::catalog::meta;
use crate::define::{create_group, denied, known_of, may_define, plan_group};
use crate::entities::stored_ident;
use crate::jsonb_arg::JsonbText;
use crate::raise::{error, raise, raise_violations};
use crate::spi;
use cot_engine::ddl::render_probe;
use cot_engine::error::{ErrorKind, Violation};
use cot_engine::evolve::{Count, Probe};
use cot_engine::names::{shown, NameKind, TenantNames};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The format tag of a bundle; a bundle with another tag is refused.
const FORMAT: &str = "cot.schema/1";

/// Largest bundle, in bytes of JSON text.
const MAX_BUNDLE_BYTES: usize = 16 * 1024 * 1024;

fn tenant_row(slug: &str) -> meta::TenantRow {
    if !may_define(slug) {
        raise(denied(slug));
    }
    meta::tenant(slug).unwrap_or_else(|| {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("tenant {} does not exist", shown(slug)),
            "create it first with cot.create_tenant(slug)",
        ))
    })
}

/// A stored definition as it goes into a bundle: no tenant (the bundle is
/// applied to any), no version, nothing read-only.
fn portable(mut def: Value) -> Value {
    if let Some(m) = def.as_object_mut() {
        for key in ["tenant", "version", "referenced_by"] {
            m.remove(key);
        }
    }
    def
}

/// The tenant's model: every entity's definition with its ids, fields,
/// relations and access rules, ordered by name. Applying it to another tenant
/// (or database) with `cot.apply_schema` reproduces the model.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn export_schema(tenant: &str) -> JsonB {
    let t = tenant_row(tenant);
    let entities: Vec<Value> = meta::definitions(t.id).into_iter().map(portable).collect();
    JsonB(json!({"format": FORMAT, "tenant": t.slug, "entities": entities}))
}

/// A stable id for `id` in tenant `tenant_id`, for bundles applied to another
/// tenant of the same database: ids are unique across tenants, and the same
/// bundle applied twice must map to the same ids (so the second apply changes
/// nothing).
fn id_in_tenant(tenant_id: uuid::Uuid, id: &str) -> String {
    let digest = Sha256::new()
        .chain_update(tenant_id.as_bytes())
        .chain_update(id.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().to_string()
}

/// The bundle's definitions for this tenant: tenant set, and ids that another
/// tenant already uses replaced by stable ones of this tenant.
fn definitions_for(t: &meta::TenantRow, bundle: &Value) -> Vec<Value> {
    let bad = |what: &str| -> ! {
        raise(error(
            ErrorKind::InvalidParameter,
            format!("not a Cot schema bundle: {what}"),
            "pass what cot.export_schema() returns: {\"format\": \"cot.schema/1\", \"entities\": [...]}",
        ))
    };
    if bundle.get("format").and_then(Value::as_str) != Some(FORMAT) {
        bad("format must be \"cot.schema/1\"");
    }
    let Some(entities) = bundle.get("entities").and_then(Value::as_array) else {
        bad("entities must be an array");
    };
    let mut defs: Vec<Value> = entities
        .iter()
        .map(|e| {
            let Value::Object(m) = e else {
                bad("each entity must be an object")
            };
            let mut m = m.clone();
            m.insert("tenant".into(), json!(t.slug));
            Value::Object(m)
        })
        .collect();
    // A bundle is a whole model: its relations point inside it.
    let names: Vec<&str> = defs
        .iter()
        .filter_map(|d| d.get("name").and_then(Value::as_str))
        .collect();
    let mut outside = Vec::new();
    for (i, d) in defs.iter().enumerate() {
        for (j, f) in d["fields"].as_array().into_iter().flatten().enumerate() {
            if let Some(target) = f.get("target").and_then(Value::as_str) {
                if !names.contains(&target) {
                    outside.push(Violation::new(
                        ErrorKind::UndefinedObject,
                        format!("/entities/{i}/fields/{j}/target"),
                        format!("relation target {} is not in the bundle", shown(target)),
                        "a bundle holds a whole model: add that entity, or drop the relation",
                    ));
                }
            }
        }
    }
    if !outside.is_empty() {
        raise_violations("schema bundle", &outside);
    }
    let mut ids: Vec<String> = Vec::new();
    for d in &defs {
        ids.extend(d.get("id").and_then(Value::as_str).map(str::to_string));
        for f in d["fields"].as_array().into_iter().flatten() {
            ids.extend(f.get("id").and_then(Value::as_str).map(str::to_string));
        }
    }
    let elsewhere = meta::ids_of_other_tenants(t.id, ids);
    if !elsewhere.is_empty() {
        let swap = |v: &mut Value| {
            if let Some(id) = v.get("id").and_then(Value::as_str).map(str::to_string) {
                if elsewhere.contains(&id) {
                    v["id"] = json!(id_in_tenant(t.id, &id));
                }
            }
        };
        for d in &mut defs {
            swap(d);
            for f in d["fields"].as_array_mut().into_iter().flatten() {
                swap(f);
            }
        }
    }
    defs
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
    let t = tenant_row(tenant);
    let bundle = bundle
        .parse("schema bundle", MAX_BUNDLE_BYTES)
        .unwrap_or_else(|e| raise(e));
    let mut options = options
        .parse("apply options", 64 * 1024)
        .unwrap_or_else(|e| raise(e));
    let dry_run = match options.as_object_mut().map(|m| m.remove("dry_run")) {
        Some(Some(Value::Bool(b))) => b,
        Some(None) | None => false,
        Some(Some(_)) => raise(error(
            ErrorKind::InvalidParameter,
            "dry_run must be a boolean",
            "e.g. '{\"dry_run\": true}'",
        )),
    };
    let options = alter::parse_options(options);
    meta::lock_tenant(&t.slug);
    let lock = LockTimeout::set(options.lock_timeout_ms);
    let defs = definitions_for(&t, &bundle);

    // Which definitions are new, which change a stored entity.
    let mut creates = Vec::new();
    let mut changes = Vec::new();
    for def in defs {
        let by_id = def
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| uuid::Uuid::parse_str(s).ok())
            .and_then(|id| meta::entity_by_id(t.id, id));
        let name = def.get("name").and_then(Value::as_str).unwrap_or_default();
        if by_id.is_some() || meta::entity(t.id, name).is_some() {
            changes.push(def);
        } else {
            creates.push(def);
        }
    }
    let keep: Vec<String> = changes
        .iter()
        .chain(&creates)
        .filter_map(|d| d.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
    let drops: Vec<String> = meta::entity_names(t.id)
        .into_iter()
        .filter(|n| !keep.contains(n))
        .collect();
    let created_known = known_of(&creates);
    let names = TenantNames::new(&stored_ident(NameKind::Tenant, &t.slug));

    // Entities that would go with their rows.
    let mut refusals: Vec<Violation> = Vec::new();
    let mut dropped_rows = Vec::new();
    for name in &drops {
        let rows = spi::count(&render_probe(&Count {
            schema: names.storage_schema.clone(),
            table: stored_ident(NameKind::Entity, name),
            probe: Probe::Rows,
        }));
        if rows > 0 && !options.evolve.allow_data_loss {
            refusals.push(Violation::new(
                ErrorKind::DataLoss,
                "/entities",
                format!("entity \"{name}\" is not in the bundle; dropping it would delete {rows} rows"),
                "pass {\"allow_data_loss\": true} to drop it with its rows, or add it to the bundle",
            ));
        }
        dropped_rows.push(json!({"entity": name, "rows": rows}));
    }

    if dry_run {
        let prefix = |i: usize| format!("/entities/{i}");
        let created = if creates.is_empty() {
            Vec::new()
        } else {
            plan_group(&creates, &prefix).unwrap_or_else(|v| raise_violations("schema bundle", &v))
        };
        let mut plans: Vec<Value> = creates
            .iter()
            .zip(created)
            .map(|(d, steps)| {
                let changes = alter::creation(steps);
                json!({"entity": d["name"], "action": "create", "summary": summary(&changes),
                       "changes": changes.iter().map(change_json).collect::<Vec<_>>()})
            })
            .collect();
        for def in changes {
            let Target::Existing(p) = alter::prepare(def, &created_known) else {
                continue;
            };
            let plan = plan_of(&p, &options.evolve);
            let action = alter::action(&p, &plan);
            refusals.extend(plan.refusals.iter().cloned());
            plans.push(
                json!({"entity": p.new.entity.name.as_str(), "action": action, "version": p.version,
                              "summary": summary(&plan.changes),
                              "changes": plan.changes.iter().map(change_json).collect::<Vec<_>>(),
                              "pending": pending_json(&plan.pending)}),
            );
        }
        for d in &dropped_rows {
            plans.push(json!({"entity": d["entity"], "action": "drop", "rows": d["rows"]}));
        }
        lock.restore();
        return JsonB(json!({
            "tenant": t.slug, "dry_run": true, "entities": plans,
            "refused": refusals.iter().map(Violation::to_json).collect::<Vec<_>>(),
        }));
    }

    if !refusals.is_empty() {
        raise_violations("schema bundle", &refusals);
    }
    let (mut created, mut altered, mut unchanged, mut dropped) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    if !creates.is_empty() {
        created = create_group(creates, &|i| format!("/entities/{i}"), "schema bundle")
            .into_iter()
            .map(|d| d["name"].clone())
            .collect();
    }
    for def in changes {
        let Target::Existing(p) = alter::prepare(def, &[]) else {
            continue;
        };
        let name = json!(p.new.entity.name.as_str());
        if apply_prepared(&p, &options.evolve).is_some() {
            altered.push(name);
        } else {
            unchanged.push(name);
        }
    }
    let drops_set = drops.clone();
    for name in drops {
        // Relations that still point at it stop this with 2BP01: the bundle
        // must drop or change them too.
        if let Some(row) = meta::entity(t.id, &name) {
            // Relations between entities that all go are dropped with them.
            let among_drops = meta::incoming(row.id)
                .iter()
                .all(|r| drops_set.contains(&r.source));
            crate::entities::drop_entity_now(&t.slug, &name, among_drops);
            dropped.push(json!(name));
        }
    }
    let report = json!({"tenant": t.slug, "created": created, "altered": altered,
                        "unchanged": unchanged, "dropped": dropped});
    lock.restore();
    JsonB(report)
}
