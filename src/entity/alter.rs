//! Changing entities: `cot.plan_entity` (what a definition would change,
//! changing nothing) and `cot.alter_entity` (change it). `change.rs` finds
//! the stored entity and the change asked; the engine's
//! [`cot_engine::evolve`] decides the steps; this layer answers the engine's
//! row counts with queries, holds lock waits to `cot.lock_timeout`, runs the
//! DDL and records the change.

use super::change::{prepare, Prepared, Target};
use super::create::plan_new;
use super::parse_definition;
use crate::catalog::ledger::{self, Migration};
use crate::catalog::meta;
use crate::execute::Run;
use crate::jsonb_arg::JsonbText;
use crate::permissions::require_define;
use crate::raise::{error, raise, raise_violations};
use crate::settings::LOCK_TIMEOUT_MS;
use crate::spi;
use cot_engine::ddl::render_probe;
use cot_engine::error::ErrorKind;
use cot_engine::evolve::{self, Count, Counter, Evolution, Side};
use cot_engine::names::shown;
use cot_engine::options::{AlterOptions, MAX_OPTIONS_BYTES};
use cot_engine::plan::{Labels, Step};
use cot_engine::plan_json;
use cot_engine::stored::{self, Header};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

/// Answers the engine's questions with queries, as the extension's owner (row
/// security does not hide rows from it).
struct Queries;

impl Counter for Queries {
    fn count(&mut self, c: &Count) -> u64 {
        spi::count(&render_probe(c))
    }
}

/// The plan of a prepared change.
pub(crate) fn plan_of(p: &Prepared, options: &evolve::Options) -> Evolution {
    let (old_labels, new_labels) = (Labels::of(&p.old.normalized), Labels::of(&p.new.normalized));
    evolve::evolve(
        &Side {
            entity: &p.old.entity,
            labels: &old_labels,
            normalized: &p.old.normalized,
        },
        &Side {
            entity: &p.new.entity,
            labels: &new_labels,
            normalized: &p.new.normalized,
        },
        &p.around,
        options,
        &mut Queries,
    )
}

/// `none` when the change changes nothing, else `alter`.
pub(crate) fn action(p: &Prepared, plan: &Evolution) -> &'static str {
    plan_json::action(plan, &p.old.normalized, &p.new.normalized)
}

/// Holds lock waits to `ms` for the rest of the call, then puts the caller's
/// setting back.
pub(crate) struct LockTimeout(String);

impl LockTimeout {
    /// Sets the timeout of the options, or the `cot.lock_timeout` setting.
    pub(crate) fn set(options: &AlterOptions) -> Self {
        let ms = options
            .lock_timeout
            .map_or_else(|| i64::from(LOCK_TIMEOUT_MS.get()), |t| t.0);
        let before = spi::setting("lock_timeout");
        spi::set_local("lock_timeout", &format!("{ms}ms"));
        LockTimeout(before)
    }

    pub(crate) fn restore(self) {
        spi::set_local("lock_timeout", &self.0);
    }
}

fn parse_alter_options(options: JsonbText) -> AlterOptions {
    let options = options
        .parse("alter options", MAX_OPTIONS_BYTES)
        .unwrap_or_else(|e| raise(e));
    AlterOptions::from_json(&options).unwrap_or_else(|e| raise(e))
}

/// The migration plan for a definition, changing nothing: each step with its
/// SQL, its class (`metadata`, `validating_scan`, `table_rewrite`,
/// `data_loss`) and, where rows would fail or lose data, their number; what
/// would be refused and why. For a new entity, the steps that create it.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn plan_entity(def: JsonbText, options: default!(JsonbText, "'{}'")) -> JsonB {
    let def = parse_definition(def);
    let options = parse_alter_options(options);
    let lock = LockTimeout::set(&options);
    let out = match prepare(def, &[]) {
        Target::New(def) => {
            let steps = plan_new(&def).unwrap_or_else(|v| raise_violations("entity definition", &v));
            let header = Header::of(&def);
            plan_json::plan_of_creation(&header.tenant.unwrap_or_default(), &header.name, steps)
        }
        Target::Existing(p) => {
            let plan = plan_of(&p, &options.evolve());
            let action = action(&p, &plan);
            plan_json::plan_of_change(
                &p.tenant.slug,
                p.new.entity.name.as_str(),
                action,
                p.version,
                &plan,
            )
        }
    };
    lock.restore();
    JsonB(out)
}

/// Changes an entity to match a definition: fields matched by id (a new name
/// is a rename that keeps the data), added, dropped, retyped, their options,
/// indexes, relations, access rules, labels and descriptions. The view,
/// grants and policies are made again where they change. Data loss is refused
/// unless `options` says `{"allow_data_loss": true}`; rows that break a new
/// rule are always refused, with their number. Waits at most
/// `cot.lock_timeout` (or the `lock_timeout` option) for each lock, then fails
/// with `55P03`; the locks taken are held until the caller commits. Returns
/// the new definition, its version one higher.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn alter_entity(def: JsonbText, options: default!(JsonbText, "'{}'")) -> JsonB {
    let def = parse_definition(def);
    let options = parse_alter_options(options);
    if let Some(slug) = Header::of(&def).tenant {
        require_define(&slug);
        meta::lock_tenant(&slug);
    }
    let lock = LockTimeout::set(&options);
    let p = match prepare(def, &[]) {
        Target::Existing(p) => p,
        Target::New(def) => {
            let header = Header::of(&def);
            raise(error(
                ErrorKind::UndefinedObject,
                format!(
                    "entity {} does not exist in tenant {}",
                    shown(&header.name),
                    shown(header.tenant.as_deref().unwrap_or_default())
                ),
                "create it with cot.create_entity",
            ))
        }
    };
    let after = apply_prepared(&p, &options.evolve()).unwrap_or_else(|| p.before.clone());
    lock.restore();
    JsonB(after)
}

/// Plans and runs a change of a stored entity and records it; `None` when the
/// definition changes nothing. Raises the plan's refusals.
pub(crate) fn apply_prepared(p: &Prepared, options: &evolve::Options) -> Option<Value> {
    let plan = plan_of(p, options);
    if !plan.refusals.is_empty() {
        raise_violations("entity change", &plan.refusals);
    }
    if action(p, &plan) == "none" {
        return None;
    }
    let mut run = Run::new();
    let steps: Vec<Step> = plan.changes.iter().map(|c| c.step.clone()).collect();
    let (_, sql) = run.ddl(&steps);
    let after = stored::with_version(&p.new.normalized, p.version + 1);
    run.meta(|| meta::sync_entity(p.tenant.id, p.id, &after));
    ledger::record_migration(Migration {
        tenant_id: p.tenant.id,
        tenant: &p.tenant.slug,
        entity_id: Some(p.id),
        entity: Some(p.new.entity.name.as_str()),
        operation: "alter_entity",
        plan: plan_json::ledger_plan(&plan),
        sql,
        before: Some(p.before.clone()),
        after: Some(after.clone()),
    });
    for (from, to, other) in evolve::inverse_renames(&p.old.entity, &p.new.entity, &p.around) {
        follow_inverse_rename(p, &mut run, &from, &to, &other);
    }
    Some(after)
}

/// A one-to-many relation of another entity names the renamed relation as its
/// inverse: its definition takes the new name (a new version, recorded; no
/// DDL, a one-to-many has none).
fn follow_inverse_rename(p: &Prepared, run: &mut Run, from: &str, to: &str, other: &str) {
    let Some((entity, field)) = other.split_once('.') else {
        return;
    };
    let Some(row) = meta::entity(p.tenant.id, entity) else {
        return;
    };
    let before = row.definition;
    let after = stored::with_inverse_renamed(&before, field, from, to).unwrap_or_else(|e| raise(e));
    run.meta(|| meta::sync_entity(p.tenant.id, row.id, &after));
    ledger::record_migration(Migration {
        tenant_id: p.tenant.id,
        tenant: &p.tenant.slug,
        entity_id: Some(row.id),
        entity: Some(entity),
        operation: "alter_entity",
        plan: plan_json::ledger_inverse_rename(field, from, to),
        sql: Vec::new(),
        before: Some(before),
        after: Some(after),
    });
}
