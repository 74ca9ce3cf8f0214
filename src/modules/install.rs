//! Modules in a tenant: `cot.install_module` (with the modules it needs,
//! each before the modules that need it), `cot.uninstall_module` and
//! `cot.installed_modules`. Each call is one transaction under the tenant
//! lock; every entity it creates or drops is recorded in `cot.migrations`
//! as `cot.create_entity` and `cot.drop_entity` record them, and the module
//! operation itself as one more row.

use super::{samples, store};
use crate::bundles::{self, Sorted};
use crate::catalog::ledger::{self, Migration};
use crate::catalog::meta::{self, TenantRow};
use crate::entity::create::plan_group;
use crate::entity::definable_tenant;
use crate::jsonb_arg::JsonbText;
use crate::raise::{error, raise, raise_violations};
use cot_engine::error::{CotError, ErrorKind};
use cot_engine::module::options::{InstallOptions, UninstallOptions};
use cot_engine::module::resolve::{dependents, install_order, latest, Published};
use cot_engine::module::tenant::{self as in_tenant, Occupant};
use cot_engine::module::Module;
use cot_engine::names::shown;
use cot_engine::options::{AlterOptions, MAX_OPTIONS_BYTES};
use cot_engine::plan_json;
use cot_engine::stored::Header;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};

/// The tenant's entities, each with the installed module it belongs to
/// (found by id: see [`cot_engine::module::tenant`]).
pub(super) fn occupants(t: &TenantRow) -> Vec<Occupant> {
    let owners: Vec<(uuid::Uuid, String)> = store::installed(t)
        .into_iter()
        .flat_map(|(m, _, _)| {
            in_tenant::entity_ids(&m, t.id)
                .into_iter()
                .map(move |id| (id, m.name.clone()))
        })
        .collect();
    store::entities(t)
        .into_iter()
        .map(|(name, id)| Occupant {
            module: owners.iter().find(|(i, _)| *i == id).map(|(_, m)| m.clone()),
            name,
            id,
        })
        .collect()
}

/// The version asked for, or the latest published one.
pub(super) fn chosen(name: &str, version: Option<&str>) -> Module {
    match version {
        Some(v) => store::module(name, v.trim()),
        None => {
            let versions = store::published(name);
            let Some(p) = latest(&versions) else {
                raise(error(
                    ErrorKind::UndefinedObject,
                    format!("module {} is not published", shown(name)),
                    "cot.modules() lists the published modules",
                ));
            };
            store::module(name, &p.version.to_string())
        }
    }
}

/// Records a module operation in the ledger.
pub(super) fn record(
    t: &TenantRow,
    operation: &str,
    report: &Value,
    before: Option<Value>,
    after: Option<Value>,
) {
    ledger::record_migration(Migration {
        tenant_id: t.id,
        tenant: &t.slug,
        entity_id: None,
        entity: None,
        operation,
        plan: report.clone(),
        sql: Vec::new(),
        before,
        after,
    });
}

fn version_json(m: &Module) -> Value {
    json!({"module": m.name, "version": m.version.to_string()})
}

/// Installs one module whose dependencies are in place: its entities as one
/// group, its installation row, its samples when asked, its ledger row.
pub(super) fn install_one(t: &TenantRow, m: &Module, with_samples: bool) -> Value {
    let defs = in_tenant::definitions_for(m, &t.slug, t.id);
    if let Some(e) = in_tenant::conflicts(m, &t.slug, &defs, &occupants(t)) {
        raise(e);
    }
    let sorted = Sorted {
        creates: defs,
        changes: Vec::new(),
        drops: Vec::new(),
    };
    let done = bundles::apply(t, sorted, &AlterOptions::default().evolve(), "module");
    store::set_installed(t, &m.name, &m.version.to_string());
    let rows = if with_samples { samples::insert(t, m) } else { 0 };
    let report = json!({"module": m.name, "version": m.version.to_string(),
                        "entities": done["created"], "sample_rows": rows});
    record(t, "install_module", &report, None, Some(version_json(m)));
    report
}

/// What installing would do: the modules in order, and the plan of every
/// entity they create (as `cot.apply_schema` shows it in a dry run).
fn preview(t: &TenantRow, order: &[Module]) -> Value {
    let mut taken = occupants(t);
    let mut defs = Vec::new();
    for m in order {
        let mine = in_tenant::definitions_for(m, &t.slug, t.id);
        if let Some(e) = in_tenant::conflicts(m, &t.slug, &mine, &taken) {
            raise(e);
        }
        for d in &mine {
            let h = Header::of(d);
            taken.push(Occupant {
                name: h.name,
                id: h.id.unwrap_or_default(),
                module: Some(m.name.clone()),
            });
        }
        defs.extend(mine);
    }
    let plans =
        plan_group(&defs, &|i| format!("/entities/{i}")).unwrap_or_else(|v| raise_violations("module", &v));
    let entities: Vec<Value> = defs
        .iter()
        .zip(plans)
        .map(|(d, steps)| plan_json::bundle_creation(&Header::of(d).name, steps))
        .collect();
    json!({
        "tenant": t.slug, "dry_run": true,
        "install": order.iter().map(|m| json!({"module": m.name, "version": m.version.to_string(),
                                                "entities": m.entity_names()})).collect::<Vec<_>>(),
        "entities": entities,
    })
}

/// The modules an installation of `target` brings in, in order.
pub(super) fn resolved(t: &TenantRow, target: &Module, installed_but: Option<&str>) -> Vec<Module> {
    let installed: Vec<_> = store::installed_for_resolution(t)
        .into_iter()
        .filter(|i| Some(i.name.as_str()) != installed_but)
        .collect();
    let top = Published {
        name: target.name.clone(),
        version: target.version.clone(),
        depends: target.depends.clone(),
    };
    install_order(&store::published, &installed, &top)
        .unwrap_or_else(|e| raise(e))
        .into_iter()
        .map(|p| store::module(&p.name, &p.version.to_string()))
        .collect()
}

/// Installs a published module in a tenant, with the modules it depends on
/// (each at the newest version its range allows, unless one already
/// installed is in range), each before the modules that need it. `version`
/// NULL installs the latest release. Options: `dry_run` returns the modules
/// and the plan of every entity and changes nothing; `samples` also inserts
/// the modules' sample rows. Refused (`42710`) when an entity name is taken
/// by the tenant's own entity or another module's.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn install_module(
    tenant: Option<&str>,
    name: Option<&str>,
    version: default!(Option<&str>, "NULL"),
    options: default!(Option<JsonbText>, "'{}'"),
) -> JsonB {
    let (tenant, name) = super::given(tenant, name, "install_module");
    let options = super::options_or_empty(options);
    let t = definable_tenant(tenant);
    let options = options
        .parse("install options", MAX_OPTIONS_BYTES)
        .and_then(|o| InstallOptions::from_json(&o))
        .unwrap_or_else(|e| raise(e));
    meta::lock_tenant(&t.slug);
    let target = chosen(name, version);
    let order = resolved(&t, &target, None);
    if options.dry_run {
        return JsonB(preview(&t, &order));
    }
    let done: Vec<Value> = order
        .iter()
        .map(|m| install_one(&t, m, options.samples))
        .collect();
    JsonB(json!({"tenant": t.slug, "installed": done}))
}

/// The modules installed in a tenant: name, version, description,
/// entities, installed_at, updated_at.
#[pg_extern(security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn installed_modules(tenant: &str) -> JsonB {
    let t = definable_tenant(tenant);
    JsonB(Value::Array(
        store::installed(&t)
            .into_iter()
            .map(|(m, at, updated)| {
                json!({
                    "name": m.name, "version": m.version.to_string(), "description": m.description,
                    "depends": m.depends.iter().map(|(k, v)| (k.clone(), json!(v.to_string())))
                        .collect::<serde_json::Map<_, _>>(),
                    "entities": m.entity_names(),
                    "installed_at": serde_json::from_str::<Value>(&at).unwrap_or(Value::Null),
                    "updated_at": serde_json::from_str::<Value>(&updated).unwrap_or(Value::Null),
                })
            })
            .collect(),
    ))
}

/// The installed version of a module in a tenant, or 42704.
pub(super) fn installed_version(t: &TenantRow, name: &str) -> Module {
    store::installed(t)
        .into_iter()
        .map(|(m, _, _)| m)
        .find(|m| m.name == name)
        .unwrap_or_else(|| {
            raise(error(
                ErrorKind::UndefinedObject,
                format!(
                    "module {} is not installed in tenant {}",
                    shown(name),
                    shown(&t.slug)
                ),
                "cot.installed_modules(tenant) lists what is installed",
            ))
        })
}

/// The module's entities present in the tenant (found by id), by name.
pub(super) fn present(t: &TenantRow, m: &Module) -> Vec<String> {
    in_tenant::entity_ids(m, t.id)
        .into_iter()
        .filter_map(|id| meta::entity_by_id(t.id, id).map(|(name, _)| name))
        .collect()
}

/// Uninstalls a module from a tenant: drops its entities with their data and
/// forgets the installation. Refused while another installed module depends
/// on it (`2BP01`), while a relation of an entity outside the module points
/// at one of its entities (`2BP01`), and while its entities hold rows
/// (`22000`, with the counts) unless `{"allow_data_loss": true}`.
/// `dry_run` returns the entities and their rows, changing nothing.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn uninstall_module(tenant: &str, name: &str, options: default!(JsonbText, "'{}'")) -> JsonB {
    let t = definable_tenant(tenant);
    let options = options
        .parse("uninstall options", MAX_OPTIONS_BYTES)
        .and_then(|o| UninstallOptions::from_json(&o))
        .unwrap_or_else(|e| raise(e));
    meta::lock_tenant(&t.slug);
    let m = installed_version(&t, name);
    let installed = store::installed_for_resolution(&t);
    if let Some(d) = dependents(&installed, name).first() {
        raise(
            CotError::new(
                ErrorKind::DependentObjects,
                format!(
                    "module {} is needed by installed module {}",
                    shown(name),
                    shown(&d.name)
                ),
            )
            .hint(format!("uninstall {} first", shown(&d.name))),
        );
    }
    let drops = present(&t, &m);
    let evolve = AlterOptions::default().evolve();
    let (rows, _) = bundles::dropped_rows(&t, &drops, &evolve, "module");
    let total: u64 = rows.iter().map(|(_, n)| n).sum();
    let entities: Vec<Value> = rows
        .iter()
        .map(|(e, n)| json!({"entity": e, "rows": n}))
        .collect();
    if options.dry_run {
        return JsonB(
            json!({"tenant": t.slug, "module": name, "version": m.version.to_string(),
                            "dry_run": true, "entities": entities, "rows": total}),
        );
    }
    if total > 0 && !options.allow_data_loss {
        let counts: Vec<String> = rows
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(e, n)| format!("{e}: {}", cot_engine::words::counted(*n, "row", "rows")))
            .collect();
        raise(
            CotError::new(
                ErrorKind::DataLoss,
                format!(
                    "uninstalling module {} would delete {}",
                    shown(name),
                    cot_engine::words::counted(total, "row", "rows")
                ),
            )
            .detail(counts.join(", "))
            .hint("pass {\"allow_data_loss\": true} to drop its entities with their rows"),
        );
    }
    let sorted = Sorted {
        creates: Vec::new(),
        changes: Vec::new(),
        drops,
    };
    bundles::apply(&t, sorted, &evolve, "module");
    store::remove_installed(&t, name);
    let report = json!({"tenant": t.slug, "module": name, "version": m.version.to_string(),
                        "dropped": entities, "rows": total});
    record(&t, "uninstall_module", &report, Some(version_json(&m)), None);
    JsonB(report)
}
