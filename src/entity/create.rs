//! Creating entities: `cot.validate_entity`, `cot.create_entity` and
//! `cot.create_entities`. One path serves all three: a group of definitions (a
//! single definition is a group of one) is validated, its relations resolved
//! against the group and the tenant, planned, checked against the database
//! (`preflight.rs`), and then created: every table first, then every foreign
//! key and junction, so entities may reference each other in cycles.

use super::parse_definition;
use super::preflight::check_against_database;
use crate::catalog::ledger::{self, Migration};
use crate::catalog::meta;
use crate::environment::Server;
use crate::execute::Run;
use crate::jsonb_arg::JsonbText;
use crate::permissions::{may_define, require_define};
use crate::raise::{error, raise, raise_violations};
use crate::spi::pg_uuid;
use cot_engine::error::{ErrorKind, Violation};
use cot_engine::group::{self, prefixed};
use cot_engine::plan::{self, Labels, Step};
use cot_engine::relations;
use cot_engine::stored;
use cot_engine::validate::{validate, Validated, MAX_DEFINITION_BYTES};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

/// Most entities one `cot.create_entities` call creates: each holds about 16
/// relation locks, and with default settings a transaction ran out of lock
/// slots (`53200`) past 1,165 entities.
const MAX_GROUP: usize = 200;

/// One definition of a group, validated and planned.
pub(crate) struct Planned {
    pub(crate) valid: Validated,
    /// Its table, indexes, trigger, view, ownership and comments.
    pub(crate) table_steps: Vec<Step>,
    /// Its foreign keys and junctions, run once every table of the group exists.
    pub(crate) relation_steps: Vec<Step>,
}

impl Planned {
    /// Every step, tables first.
    fn steps(&self) -> Vec<Step> {
        self.table_steps
            .iter()
            .chain(&self.relation_steps)
            .cloned()
            .collect()
    }
}

/// Validates and plans a group. `prefix(i)` is the JSON pointer of the i-th
/// definition. The database checks come after ([`check_against_database`]);
/// a caller that will create the group takes the tenant lock between the two.
fn plan(defs: &[Value], prefix: &dyn Fn(usize) -> String) -> Result<Vec<Planned>, Vec<Violation>> {
    let mut problems = Vec::new();
    let mut valid = Vec::new();
    for (i, def) in defs.iter().enumerate() {
        match validate(def, &Server) {
            Ok(v) => valid.push(v),
            Err(vs) => problems.extend(vs.into_iter().map(|v| prefixed(&prefix(i), v))),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let entities: Vec<_> = valid.iter().map(|v| &v.entity).collect();
    let problems = group::one_tenant(&entities, prefix);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(valid
        .into_iter()
        .map(|valid| {
            let labels = Labels::of(&valid.normalized);
            Planned {
                table_steps: plan::create_entity(&valid.entity, &labels),
                relation_steps: relations::steps(&valid.entity, &labels),
                valid,
            }
        })
        .collect())
}

/// The steps `cot.create_entities` would run for a group, per definition, or
/// every problem with it (for `cot.plan_entity` and `cot.apply_schema` in
/// dry-run mode).
pub(crate) fn plan_group(
    defs: &[Value],
    prefix: &dyn Fn(usize) -> String,
) -> Result<Vec<Vec<Step>>, Vec<Violation>> {
    let group = plan(defs, prefix)?;
    let problems = check_against_database(&group, prefix).1;
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(group.iter().map(Planned::steps).collect())
}

/// The steps `cot.create_entity` would run for a new entity, or every problem
/// with it (for `cot.plan_entity`).
pub(crate) fn plan_new(def: &Value) -> Result<Vec<Step>, Vec<Violation>> {
    let mut steps = plan_group(std::slice::from_ref(def), &|_| String::new())?;
    Ok(steps.remove(0))
}

/// The relation fields of definitions about to be created, as `known` entities
/// for checking changes of other entities that point at them.
pub(crate) fn known_of(defs: &[Value]) -> Vec<relations::KnownEntity> {
    defs.iter()
        .filter_map(|d| validate(d, &Server).ok())
        .map(|v| relations::KnownEntity {
            name: v.entity.name.to_string(),
            relations: v
                .entity
                .relations
                .iter()
                .map(|r| relations::KnownRelation {
                    name: r.name.to_string(),
                    kind: r.kind,
                    target: r.target.to_string(),
                })
                .collect(),
        })
        .collect()
}

/// Every problem with a definition, each `{pointer, sqlstate, message, hint}`;
/// an empty array when `cot.create_entity` would accept it. Changes nothing.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn validate_entity(def: JsonbText) -> JsonB {
    let mut def = match def.parse("definition", MAX_DEFINITION_BYTES) {
        Ok(d) => d,
        Err(e) => {
            let v = Violation::new(e.kind, "", e.message, e.hint.unwrap_or_default());
            return JsonB(Value::Array(vec![v.to_json()]));
        }
    };
    if let Some(slug) = stored::Header::of(&def).tenant.filter(|s| may_define(s)) {
        if let Some(t) = meta::tenant(&slug) {
            super::keep_ids_in_tenant(t.id, std::slice::from_mut(&mut def));
        }
    }
    let no_prefix = |_: usize| String::new();
    let violations = match plan(std::slice::from_ref(&def), &no_prefix) {
        Err(v) => v,
        Ok(group) => check_against_database(&group, &no_prefix).1,
    };
    JsonB(Value::Array(violations.iter().map(Violation::to_json).collect()))
}

/// Creates an entity: validates the definition, then in this transaction creates
/// its table, constraints, indexes, trigger, API view, foreign keys and junction
/// tables, records it in the meta-tables and the ledger, and tells PostgREST to
/// reload. Returns the normalized definition, with ids.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn create_entity(def: JsonbText) -> JsonB {
    let def = parse_definition(def);
    let mut created = create_group(vec![def], &|_| String::new(), "entity definition");
    JsonB(created.remove(0))
}

/// Creates several entities of one tenant in one transaction; they may
/// reference each other, in cycles too. `defs` is a JSON array of definitions;
/// error pointers start with the definition's index (`/1/fields/0/target`).
/// Returns the normalized definitions, in order.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn create_entities(defs: JsonbText) -> JsonB {
    let defs = defs
        .parse("definitions", MAX_DEFINITION_BYTES * 4)
        .unwrap_or_else(|e| raise(e));
    let Value::Array(defs) = defs else {
        raise(error(
            ErrorKind::InvalidParameter,
            "cot.create_entities takes a JSON array of definitions",
            "for one definition use cot.create_entity",
        ));
    };
    if defs.is_empty() || defs.len() > MAX_GROUP {
        raise(error(
            ErrorKind::InvalidParameter,
            format!("a group holds 1 to {MAX_GROUP} definitions, not {}", defs.len()),
            "split larger models into several calls, dependencies first",
        ));
    }
    JsonB(Value::Array(create_group(
        defs,
        &|i| format!("/{i}"),
        "entity definitions",
    )))
}

/// Creates a group of entities of one tenant and returns their stored
/// definitions (version 1), in order; problems are raised as an invalid `what`.
pub(crate) fn create_group(mut defs: Vec<Value>, prefix: &dyn Fn(usize) -> String, what: &str) -> Vec<Value> {
    // The caller's right to define entities for the tenant is checked before the
    // definitions are: someone without it learns nothing from validation errors.
    // Whether the tenant exists is not told either.
    if let Some(slug) = stored::Header::of(&defs[0]).tenant {
        require_define(&slug);
        if let Some(t) = meta::tenant(&slug) {
            super::keep_ids_in_tenant(t.id, &mut defs);
        }
    }
    let group = plan(&defs, prefix).unwrap_or_else(|v| raise_violations(what, &v));
    // Checks from here on must see what concurrent definitions committed.
    meta::lock_tenant(group[0].valid.entity.tenant.as_str());
    let (tenant, problems) = check_against_database(&group, prefix);
    if !problems.is_empty() {
        raise_violations(what, &problems);
    }
    let tenant = tenant.expect("no problems means the tenant exists");

    let mut run = Run::new();
    let mut records: Vec<(Vec<Value>, Vec<String>)> = group.iter().map(|p| run.ddl(&p.table_steps)).collect();
    // Foreign keys lock their target tables: in entity-name order, so two calls
    // over the same entities take the same locks in the same order.
    let mut order: Vec<usize> = (0..group.len()).collect();
    order.sort_by(|a, b| group[*a].valid.entity.name.cmp(&group[*b].valid.entity.name));
    for i in order {
        let (plan, sql) = run.ddl(&group[i].relation_steps);
        records[i].0.extend(plan);
        records[i].1.extend(sql);
    }
    let stored: Vec<Value> = group
        .iter()
        .map(|p| stored::with_version(&p.valid.normalized, 1))
        .collect();
    for s in &stored {
        run.meta(|| meta::insert_entity(tenant.id, s));
    }
    if group.iter().any(|p| !p.valid.entity.relations.is_empty()) {
        let ids = group.iter().map(|p| pg_uuid(p.valid.entity.id)).collect();
        run.meta(|| meta::insert_relationships(tenant.id, ids));
    }
    for ((p, (plan, sql)), s) in group.iter().zip(records).zip(&stored) {
        ledger::record_migration(Migration {
            tenant_id: tenant.id,
            tenant: &tenant.slug,
            entity_id: Some(p.valid.entity.id),
            entity: Some(p.valid.entity.name.as_str()),
            operation: "create_entity",
            plan: Value::Array(plan),
            sql,
            before: None,
            after: Some(s.clone()),
        });
    }
    stored
}
