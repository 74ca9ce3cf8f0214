//! Changing entities: `cot.plan_entity` (what a definition would change,
//! changing nothing) and `cot.alter_entity` (change it). The engine's
//! [`cot_engine::evolve`] decides the steps; this layer finds the stored
//! entity, answers the engine's row counts with queries, holds lock waits to
//! `cot.lock_timeout`, runs the DDL and records the change.

use crate::catalog::ledger::Migration;
use crate::catalog::meta::TenantRow;
use crate::catalog::{ledger, meta};
use crate::define::{denied, may_define, plan_new};
use crate::entities::stored_ident;
use crate::environment::Server;
use crate::execute::Run;
use crate::jsonb_arg::JsonbText;
use crate::raise::{error, raise, raise_violations};
use crate::settings::LOCK_TIMEOUT_MS;
use crate::spi;
use cot_engine::ddl::{render, render_probe};
use cot_engine::error::{CotError, ErrorKind, Violation};
use cot_engine::evolve::{self, Change, Count, Counter, Evolution, Side, Surroundings};
use cot_engine::names::{shown, NameKind, TenantNames};
use cot_engine::plan::{Labels, Step};
use cot_engine::relations;
use cot_engine::validate::{validate, Validated, MAX_DEFINITION_BYTES};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Map, Value};

/// Options of `cot.alter_entity` (and `cot.plan_entity`'s defaults).
pub(crate) struct AlterOptions {
    pub(crate) evolve: evolve::Options,
    pub(crate) lock_timeout_ms: i64,
}

const OPTIONS_HINT: &str = "the options are: allow_data_loss, defer_validation, defer_indexes (booleans), \
     rename_values ({\"field\": {\"old\": \"new\"}}), lock_timeout (milliseconds)";

pub(crate) fn parse_options(options: Value) -> AlterOptions {
    let bad = |what: String| -> ! { raise(error(ErrorKind::InvalidParameter, what, OPTIONS_HINT)) };
    let Value::Object(map) = options else {
        bad("alter options must be a JSON object".into());
    };
    let mut out = AlterOptions {
        evolve: evolve::Options::default(),
        lock_timeout_ms: i64::from(LOCK_TIMEOUT_MS.get()),
    };
    for (key, value) in map {
        match (key.as_str(), value) {
            ("allow_data_loss", Value::Bool(b)) => out.evolve.allow_data_loss = b,
            ("defer_validation", Value::Bool(b)) => out.evolve.defer_validation = b,
            ("defer_indexes", Value::Bool(b)) => out.evolve.defer_indexes = b,
            ("lock_timeout", Value::Number(n))
                if n.as_i64().is_some_and(|n| (0..=3_600_000).contains(&n)) =>
            {
                out.lock_timeout_ms = n.as_i64().unwrap_or(0)
            }
            ("rename_values", Value::Object(fields)) => {
                for (field, renames) in fields {
                    let Value::Object(renames) = renames else {
                        bad(format!(
                            "rename_values.{field} must be an object of old value to new value"
                        ));
                    };
                    for (from, to) in renames {
                        let Value::String(to) = to else {
                            bad(format!("rename_values.{field}.{from} must be a string"));
                        };
                        out.evolve.rename_values.push((field.clone(), from, to));
                    }
                }
            }
            (key, _) => bad(format!("unknown or mistyped alter option {}", shown(key))),
        }
    }
    out
}

/// A stored entity, and the change a definition asks of it.
pub(crate) struct Prepared {
    pub(crate) tenant: TenantRow,
    pub(crate) id: uuid::Uuid,
    pub(crate) before: Value,
    pub(crate) version: i64,
    pub(crate) old: Validated,
    pub(crate) new: Validated,
    pub(crate) around: Surroundings,
}

pub(crate) enum Target {
    /// No such entity: the definition would create it.
    New(Value),
    /// A change of a stored entity.
    Existing(Box<Prepared>),
}

fn validated(def: &Value, what: &str) -> Validated {
    validate(def, &Server).unwrap_or_else(|v| raise_violations(what, &v))
}

/// Finds what the definition changes, checks the caller may change it, and
/// validates both sides.
pub(crate) fn prepare(def: Value, extra_known: &[relations::KnownEntity]) -> Target {
    let Some(slug) = def.get("tenant").and_then(Value::as_str).map(str::to_string) else {
        // Not a definition Cot can place: validation says what is wrong.
        validated(&def, "entity definition");
        raise(error(
            ErrorKind::InvalidParameter,
            "the definition names no tenant",
            "add \"tenant\"",
        ));
    };
    // The caller's right comes first: someone without it learns nothing more.
    if !may_define(&slug) {
        raise(denied(&slug));
    }
    let Some(tenant) = meta::tenant(&slug) else {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("tenant {} does not exist", shown(&slug)),
            "create it first with cot.create_tenant(slug)",
        ));
    };
    let name = def
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let given_id = def
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| uuid::Uuid::parse_str(s).ok());
    let row = match given_id.and_then(|id| meta::entity_by_id(tenant.id, id)) {
        Some((stored_name, _)) if stored_name != name => raise(error(
            ErrorKind::FeatureNotSupported,
            format!("entity \"{stored_name}\" cannot be renamed to {}", shown(&name)),
            "renaming an entity is not supported yet; create a new entity and copy the rows",
        )),
        Some((_, row)) => Some(row),
        None => meta::entity(tenant.id, &name),
    };
    let Some(row) = row else {
        return Target::New(def);
    };
    if let Some(id) = given_id.filter(|id| *id != row.id) {
        raise(error(
            ErrorKind::InvalidParameter,
            format!("entity \"{name}\" has id {}, not {id}", row.id),
            "send the definition cot.entity() returns, or leave the id out",
        ));
    }
    let version = row.definition["version"].as_i64().unwrap_or(1);
    if let Some(v) = def
        .get("version")
        .and_then(Value::as_i64)
        .filter(|v| *v != version)
    {
        raise(
            CotError::new(
                ErrorKind::StaleDefinition,
                format!("entity \"{name}\" is at version {version}; this definition was read at version {v}"),
            )
            .hint(
                "someone changed it in between: read it again with cot.entity(), reapply your change, retry",
            ),
        );
    }
    let mut stored = row.definition.clone();
    if let Some(m) = stored.as_object_mut() {
        m.remove("version");
        m.remove("referenced_by");
    }
    let old = validated(&stored, "stored definition");
    let new = validated(&evolve::carry_ids(&row.definition, &def), "entity definition");

    // Relations: targets in the tenant (or the entity itself).
    let outside: Vec<String> = new
        .entity
        .relations
        .iter()
        .map(|r| r.target.to_string())
        .filter(|t| *t != name)
        .collect();
    let mut known = if outside.is_empty() {
        Vec::new()
    } else {
        meta::known_entities(tenant.id, outside)
    };
    known.extend(extra_known.iter().cloned());
    let problems = relations::check(std::slice::from_ref(&new.entity), &known, &|_| String::new());
    if !problems.is_empty() {
        raise_violations("entity definition", &problems);
    }
    // Ids the caller chose for new fields must be free.
    let old_ids: Vec<uuid::Uuid> = old
        .entity
        .fields
        .iter()
        .map(|f| f.id)
        .chain(old.entity.relations.iter().map(|r| r.id))
        .collect();
    let fresh: Vec<pgrx::Uuid> = new
        .entity
        .fields
        .iter()
        .map(|f| f.id)
        .chain(new.entity.relations.iter().map(|r| r.id))
        .filter(|id| !old_ids.contains(id))
        .map(spi::pg_uuid)
        .collect();
    if new.ids_given && !fresh.is_empty() {
        let taken: Vec<Violation> = meta::ids_in_use(fresh)
            .into_iter()
            .map(|id| {
                Violation::new(
                    ErrorKind::DuplicateObject,
                    "/fields",
                    format!("id {id} is already used"),
                    "ids are unique across all tenants; omit the id of a new field to have one generated",
                )
            })
            .collect();
        if !taken.is_empty() {
            raise_violations("entity definition", &taken);
        }
    }

    let names = TenantNames::new(&stored_ident(NameKind::Tenant, &tenant.slug));
    let this = stored_ident(NameKind::Entity, &name);
    let incoming = meta::incoming(row.id)
        .into_iter()
        .filter(|r| r.kind == "many_to_one" || r.kind == "one_to_one")
        .map(|r| {
            relations::function(
                &names,
                &stored_ident(NameKind::Entity, &r.source),
                &stored_ident(NameKind::Field, &r.field),
                &this,
                &stored_ident(NameKind::Field, &format!("{}_id", r.field)),
            )
        })
        .collect();
    let around = Surroundings {
        incoming,
        inverse_of: meta::inverse_users(tenant.id, &name),
    };
    Target::Existing(Box::new(Prepared {
        tenant,
        id: row.id,
        before: row.definition,
        version,
        old,
        new,
        around,
    }))
}

/// Answers the engine's questions with queries, as the extension's owner (row
/// security does not hide rows from it).
struct Queries;

impl Counter for Queries {
    fn count(&mut self, c: &Count) -> u64 {
        spi::count(&render_probe(c))
    }
}

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

/// The steps that create an entity, as a plan: all of them metadata.
pub(crate) fn creation(steps: Vec<Step>) -> Vec<Change> {
    steps
        .into_iter()
        .map(|step| Change {
            step,
            class: evolve::Class::Metadata,
            rows: None,
            note: None,
        })
        .collect()
}

/// `none` when the definition changes nothing, else `alter`.
pub(crate) fn action(p: &Prepared, plan: &Evolution) -> &'static str {
    if plan.changes.is_empty() && p.old.normalized == p.new.normalized {
        "none"
    } else {
        "alter"
    }
}

pub(crate) fn change_json(c: &Change) -> Value {
    let mut m = Map::new();
    m.insert("step".into(), json!(c.step.kind_name()));
    m.insert("class".into(), json!(c.class.name()));
    m.insert("sql".into(), json!(render(&c.step)));
    if let Some(rows) = c.rows {
        m.insert("rows".into(), json!(rows));
    }
    if let Some(note) = &c.note {
        m.insert("note".into(), json!(note));
    }
    Value::Object(m)
}

pub(crate) fn pending_json(steps: &[Step]) -> Value {
    Value::Array(
        steps
            .iter()
            .map(|s| json!({"step": s.kind_name(), "sql": cot_engine::ddl::render_concurrently(s)}))
            .collect(),
    )
}

pub(crate) fn summary(changes: &[Change]) -> Value {
    let mut m = Map::new();
    for class in [
        evolve::Class::Metadata,
        evolve::Class::Scan,
        evolve::Class::Rewrite,
        evolve::Class::DataLoss,
    ] {
        m.insert(
            class.name().into(),
            json!(changes.iter().filter(|c| c.class == class).count()),
        );
    }
    Value::Object(m)
}

/// Holds lock waits to `ms` for the rest of the call, then puts the caller's
/// setting back.
pub(crate) struct LockTimeout(String);

impl LockTimeout {
    pub(crate) fn set(ms: i64) -> Self {
        let before = spi::setting("lock_timeout");
        spi::set_local("lock_timeout", &format!("{ms}ms"));
        LockTimeout(before)
    }

    pub(crate) fn restore(self) {
        spi::set_local("lock_timeout", &self.0);
    }
}

fn parse_def(def: JsonbText) -> Value {
    def.parse("definition", MAX_DEFINITION_BYTES)
        .unwrap_or_else(|e| raise(e))
}

fn parse_alter_options(options: JsonbText) -> AlterOptions {
    parse_options(
        options
            .parse("alter options", 64 * 1024)
            .unwrap_or_else(|e| raise(e)),
    )
}

/// The migration plan for a definition, changing nothing: each step with its
/// SQL, its class (`metadata`, `validating_scan`, `table_rewrite`,
/// `data_loss`) and, where rows would fail or lose data, their number; what
/// would be refused and why. For a new entity, the steps that create it.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn plan_entity(def: JsonbText, options: default!(JsonbText, "'{}'")) -> JsonB {
    let def = parse_def(def);
    let options = parse_alter_options(options);
    let lock = LockTimeout::set(options.lock_timeout_ms);
    let out = match prepare(def, &[]) {
        Target::New(def) => {
            let steps = plan_new(&def).unwrap_or_else(|v| raise_violations("entity definition", &v));
            let changes = creation(steps);
            json!({
                "tenant": def["tenant"], "entity": def["name"], "action": "create", "version": null,
                "changes": changes.iter().map(change_json).collect::<Vec<_>>(),
                "pending": [], "refused": [], "summary": summary(&changes),
            })
        }
        Target::Existing(p) => {
            let plan = plan_of(&p, &options.evolve);
            let action = action(&p, &plan);
            json!({
                "tenant": p.tenant.slug, "entity": p.new.entity.name.as_str(), "action": action,
                "version": p.version,
                "changes": plan.changes.iter().map(change_json).collect::<Vec<_>>(),
                "pending": pending_json(&plan.pending),
                "refused": plan.refusals.iter().map(Violation::to_json).collect::<Vec<_>>(),
                "summary": summary(&plan.changes),
            })
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
    let def = parse_def(def);
    let options = parse_alter_options(options);
    if let Some(Value::String(slug)) = def.get("tenant") {
        if !may_define(slug) {
            raise(denied(slug));
        }
        meta::lock_tenant(slug);
    }
    let lock = LockTimeout::set(options.lock_timeout_ms);
    let p = match prepare(def, &[]) {
        Target::Existing(p) => p,
        Target::New(def) => raise(error(
            ErrorKind::UndefinedObject,
            format!(
                "entity {} does not exist in tenant {}",
                shown(def["name"].as_str().unwrap_or_default()),
                shown(def["tenant"].as_str().unwrap_or_default())
            ),
            "create it with cot.create_entity",
        )),
    };
    let after = apply_prepared(&p, &options.evolve).unwrap_or_else(|| p.before.clone());
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
    let mut after = p.new.normalized.clone();
    after["version"] = Value::from(p.version + 1);
    run.meta(|| meta::sync_entity(p.tenant.id, p.id, &after));
    let mut recorded: Vec<Value> = plan.changes.iter().map(change_json).collect();
    for entry in &mut recorded {
        // The SQL is kept once, in the ledger's sql column.
        entry.as_object_mut().map(|m| m.remove("sql"));
    }
    if !plan.pending.is_empty() {
        recorded.push(json!({"step": "pending", "pending": pending_json(&plan.pending)}));
    }
    ledger::record_migration(Migration {
        tenant_id: p.tenant.id,
        tenant: &p.tenant.slug,
        entity_id: Some(p.id),
        entity: Some(p.new.entity.name.as_str()),
        operation: "alter_entity",
        plan: Value::Array(recorded),
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
    let before = row.definition.clone();
    let mut after = before.clone();
    for f in after["fields"].as_array_mut().into_iter().flatten() {
        if f["name"] == field && f["inverse"] == from {
            f["inverse"] = Value::from(to);
        }
    }
    after["version"] = Value::from(before["version"].as_i64().unwrap_or(1) + 1);
    run.meta(|| meta::sync_entity(p.tenant.id, row.id, &after));
    ledger::record_migration(Migration {
        tenant_id: p.tenant.id,
        tenant: &p.tenant.slug,
        entity_id: Some(row.id),
        entity: Some(entity),
        operation: "alter_entity",
        plan: json!([{"step": "rename_inverse", "class": "metadata", "note": format!("{field}: inverse {from} is now {to}")}]),
        sql: Vec::new(),
        before: Some(before),
        after: Some(after),
    });
}
