//! `cot.upgrade_module` and `cot.plan_module_upgrade`: move an installed
//! module to a newer version. The difference is planned entity by entity as
//! `cot.apply_schema` plans a bundle (entities matched by their ids in the
//! tenant, so renames stay renames), with the data-loss rules of
//! `cot.alter_entity`, and only the module's own entities are touched.

use super::install::{chosen, install_one, installed_version, occupants, present, record, resolved};
use super::store;
use crate::bundles::{self, Sorted};
use crate::catalog::meta::{self, TenantRow};
use crate::entity::alter::LockTimeout;
use crate::entity::create::known_of;
use crate::entity::definable_tenant;
use crate::jsonb_arg::JsonbText;
use crate::raise::{raise, raise_violations};
use cot_engine::error::{CotError, ErrorKind};
use cot_engine::module::options::upgrade_options;
use cot_engine::module::resolve::broken_dependents;
use cot_engine::module::tenant as in_tenant;
use cot_engine::module::Module;
use cot_engine::names::shown;
use cot_engine::options::{ApplyOptions, MAX_OPTIONS_BYTES};
use cot_engine::stored::Header;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};

/// The new version's definitions sorted against the tenant: entities of the
/// module the tenant has (by id) change, the others are created, and the old
/// version's entities the new one lacks are dropped.
fn sort(t: &TenantRow, old: &Module, new: &Module) -> Sorted {
    let defs = in_tenant::definitions_for(new, &t.slug, t.id);
    let new_ids: Vec<uuid::Uuid> = defs.iter().filter_map(|d| Header::of(d).id).collect();
    let (mut creates, mut changes) = (Vec::new(), Vec::new());
    for def in defs {
        let present = Header::of(&def)
            .id
            .and_then(|id| meta::entity_by_id(t.id, id))
            .is_some();
        if present {
            changes.push(def);
        } else {
            creates.push(def);
        }
    }
    let drops = in_tenant::entity_ids(old, t.id)
        .into_iter()
        .filter(|id| !new_ids.contains(id))
        .filter_map(|id| meta::entity_by_id(t.id, id).map(|(name, _)| name))
        .collect();
    Sorted {
        creates,
        changes,
        drops,
    }
}

/// Checks the move from `old` to `new` is allowed: forward only, the
/// installed modules that need this one still in range, no entity name
/// taken by another owner.
fn check(t: &TenantRow, old: &Module, new: &Module) {
    if new.version < old.version {
        raise(
            CotError::new(
                ErrorKind::FeatureNotSupported,
                format!(
                    "module {} is at version {}; an upgrade cannot go back to {}",
                    shown(&new.name),
                    old.version,
                    new.version
                ),
            )
            .hint("to go back, uninstall the module and install the older version"),
        );
    }
    let installed = store::installed_for_resolution(t);
    if let Some(d) = broken_dependents(&installed, &new.name, &new.version).first() {
        raise(
            CotError::new(
                ErrorKind::DependentObjects,
                format!(
                    "installed module {} needs {} {}, which version {} is not",
                    shown(&d.name),
                    shown(&new.name),
                    d.depends[&new.name],
                    new.version
                ),
            )
            .hint(format!(
                "upgrade {} first to a version that allows it",
                shown(&d.name)
            )),
        );
    }
    let defs = in_tenant::definitions_for(new, &t.slug, t.id);
    if let Some(e) = in_tenant::conflicts(new, &t.slug, &defs, &occupants(t)) {
        raise(e);
    }
}

/// Plans (and unless `dry_run`, applies) the upgrade.
fn upgrade(
    tenant: &str,
    name: &str,
    version: Option<&str>,
    options: &ApplyOptions,
    force_dry_run: bool,
) -> Value {
    let t = definable_tenant(tenant);
    meta::lock_tenant(&t.slug);
    let lock = LockTimeout::set(&options.alter);
    let old = installed_version(&t, name);
    let new = chosen(name, version);
    check(&t, &old, &new);
    let (from, to) = (old.version.to_string(), new.version.to_string());
    // Modules the new version needs that are not installed yet come first.
    let mut needed = resolved(&t, &new, Some(name));
    needed.pop();
    let dry_run = options.dry_run || force_dry_run;
    let evolve = options.alter.evolve();
    if dry_run {
        let mut sorted = sort(&t, &old, &new);
        // The modules it needs come first, so the plan shows them created
        // and the new version's relations to their entities check out.
        let mut first: Vec<Value> = needed
            .iter()
            .flat_map(|m| in_tenant::definitions_for(m, &t.slug, t.id))
            .collect();
        first.append(&mut sorted.creates);
        sorted.creates = first;
        let known = known_of(&sorted.creates);
        let (rows, refusals) = bundles::dropped_rows(&t, &sorted.drops, &evolve, "new version");
        let mut plan = bundles::dry_run(&t, sorted, &known, rows, refusals, &evolve);
        plan["module"] = json!(name);
        plan["from"] = json!(from);
        plan["to"] = json!(to);
        plan["install"] = needed
            .iter()
            .map(|m| json!({"module": m.name, "version": m.version.to_string()}))
            .collect();
        lock.restore();
        return plan;
    }
    let installs: Vec<Value> = needed.iter().map(|m| install_one(&t, m, false)).collect();
    let sorted = sort(&t, &old, &new);
    let (_, refusals) = bundles::dropped_rows(&t, &sorted.drops, &evolve, "new version");
    if !refusals.is_empty() {
        raise_violations("module upgrade", &refusals);
    }
    let mut done = bundles::apply(&t, sorted, &evolve, "module");
    store::set_installed(&t, name, &to);
    done["module"] = json!(name);
    done["from"] = json!(from);
    done["to"] = json!(to);
    done["installed"] = Value::Array(installs);
    done["entities"] = json!(present(&t, &new));
    record(
        &t,
        "upgrade_module",
        &done,
        Some(json!({"module": name, "version": from})),
        Some(json!({"module": name, "version": to})),
    );
    lock.restore();
    done
}

fn read_options(options: JsonbText) -> ApplyOptions {
    options
        .parse("upgrade options", MAX_OPTIONS_BYTES)
        .and_then(|o| upgrade_options(&o))
        .unwrap_or_else(|e| raise(e))
}

/// Upgrades an installed module to `version` (NULL: the latest release),
/// in one transaction: modules the new version needs are installed first,
/// then the module's entities are created, altered and dropped to match the
/// new version. Options: those of `cot.apply_schema` (`dry_run`,
/// `allow_data_loss`, `defer_validation`, `defer_indexes`, `rename_values`,
/// `lock_timeout`). A change that would lose data is refused with its row
/// counts (`22000`) unless `allow_data_loss`.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn upgrade_module(
    tenant: Option<&str>,
    name: Option<&str>,
    version: default!(Option<&str>, "NULL"),
    options: default!(Option<JsonbText>, "'{}'"),
) -> JsonB {
    let (tenant, name) = super::given(tenant, name, "upgrade_module");
    let options = super::options_or_empty(options);
    let options = read_options(options);
    JsonB(upgrade(tenant, name, version, &options, false))
}

/// The plan of `cot.upgrade_module` with the same arguments, changing
/// nothing: per entity its action, changes with their cost class and the
/// rows they would fail or lose, and `refused` (what the upgrade would
/// refuse without `allow_data_loss`).
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn plan_module_upgrade(
    tenant: Option<&str>,
    name: Option<&str>,
    version: default!(Option<&str>, "NULL"),
    options: default!(Option<JsonbText>, "'{}'"),
) -> JsonB {
    let (tenant, name) = super::given(tenant, name, "plan_module_upgrade");
    let options = super::options_or_empty(options);
    let options = read_options(options);
    JsonB(upgrade(tenant, name, version, &options, true))
}
