//! Defining entities: `cot.validate_entity`, `cot.create_entity` and
//! `cot.create_entities`. One path serves all three: a group of definitions (a
//! single definition is a group of one) is validated, its relations resolved
//! against the group and the tenant, planned, checked against the database, and
//! then created: every table first, then every foreign key and junction, so
//! entities may reference each other in cycles.

use crate::catalog::ledger::Migration;
use crate::catalog::meta::TenantRow;
use crate::catalog::{ledger, meta, roles};
use crate::environment::Server;
use crate::execute::Run;
use crate::jsonb_arg::JsonbText;
use crate::raise::{error, raise, raise_violations};
use crate::spi;
use cot_engine::error::{CotError, ErrorKind, Violation};
use cot_engine::names::{owner_role, shown};
use cot_engine::plan::{self, Labels, Step};
use cot_engine::relations;
use cot_engine::validate::{validate, Validated, MAX_DEFINITION_BYTES};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

/// Most entities one `cot.create_entities` call creates: each holds about 16
/// relation locks, and with default settings a transaction ran out of lock
/// slots (`53200`) past 1,165 entities.
const MAX_GROUP: usize = 200;

/// One definition of a group, validated and planned.
struct Planned {
    valid: Validated,
    /// Its table, indexes, trigger, view, ownership and comments.
    table_steps: Vec<Step>,
    /// Its foreign keys and junctions, run once every table of the group exists.
    relation_steps: Vec<Step>,
}

/// May the current user define entities for this tenant? Superusers may, and
/// members of the tenant's admin role.
pub fn may_define(tenant: &str) -> bool {
    roles::is_superuser() || roles::is_member_of(&format!("cot_{tenant}_admin"))
}

/// The error for a caller who may not define entities of `tenant`.
pub fn denied(tenant: &str) -> CotError {
    error(
        ErrorKind::InsufficientPrivilege,
        format!("permission denied to define entities of tenant \"{tenant}\""),
        format!("entities are defined and dropped by a superuser or a member of cot_{tenant}_admin"),
    )
}

fn prefixed(prefix: &str, mut v: Violation) -> Violation {
    v.pointer = format!("{prefix}{}", v.pointer);
    v
}

/// Validates and plans a group. `prefix(i)` is the JSON pointer of the i-th
/// definition. Database checks run when `with_database`; a caller that will
/// create the group takes the tenant lock between the two.
fn prepare(defs: &[Value], prefix: &dyn Fn(usize) -> String) -> Result<Vec<Planned>, Vec<Violation>> {
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
    let tenant = valid[0].entity.tenant.clone();
    for (i, v) in valid.iter().enumerate().skip(1) {
        if v.entity.tenant != tenant {
            problems.push(Violation::new(
                ErrorKind::InvalidParameter,
                format!("{}/tenant", prefix(i)),
                format!("all entities of a group belong to one tenant; this one names \"{}\", the first \"{tenant}\"", v.entity.tenant),
                "relations stay inside one tenant; create each tenant's entities in its own call",
            ));
        }
    }
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

/// Checks against the database what the engine cannot: the tenant exists, the
/// caller may define entities for it, relation targets exist (in the group or
/// the tenant), and neither the entities, their ids nor the names of the
/// relations they would create are taken.
fn check_against_database(
    group: &[Planned],
    prefix: &dyn Fn(usize) -> String,
) -> (Option<TenantRow>, Vec<Violation>) {
    let first = &group[0].valid.entity;
    let mut out = Vec::new();
    // One query per entity reads everything below but the relation targets.
    let found: Vec<meta::Preflight> = group
        .iter()
        .map(|p| {
            let (schemas, names): (Vec<String>, Vec<String>) = p
                .table_steps
                .iter()
                .chain(&p.relation_steps)
                .flat_map(Step::created_relations)
                .map(|(s, n)| (s.to_string(), n.to_string()))
                .unzip();
            let e = &p.valid.entity;
            meta::preflight(
                e.tenant.as_str(),
                e.name.as_str(),
                schemas,
                names,
                owner_role().as_str(),
            )
        })
        .collect();
    let Some(tenant) = found[0].tenant.clone() else {
        let v = Violation::new(
            ErrorKind::UndefinedObject,
            "/tenant",
            format!("tenant {} does not exist", shown(first.tenant.as_str())),
            "create it first with cot.create_tenant(slug)",
        );
        return (None, vec![prefixed(&prefix(0), v)]);
    };
    if !may_define(first.tenant.as_str()) {
        let err = denied(first.tenant.as_str());
        let v = Violation::new(err.kind, "/tenant", err.message, err.hint.unwrap_or_default());
        return (Some(tenant), vec![prefixed(&prefix(0), v)]);
    }

    // Relation targets outside the group must exist in the tenant.
    let entities: Vec<&cot_engine::types::Entity> = group.iter().map(|p| &p.valid.entity).collect();
    let outside: Vec<String> = entities
        .iter()
        .flat_map(|e| e.relations.iter().map(|r| r.target.to_string()))
        .filter(|t| !entities.iter().any(|e| e.name.as_str() == t))
        .collect();
    let known = if outside.is_empty() {
        Vec::new()
    } else {
        meta::known_entities(tenant.id, outside)
    };
    let owned: Vec<cot_engine::types::Entity> = entities.iter().map(|e| (*e).clone()).collect();
    out.extend(relations::check(&owned, &known, prefix));

    // Names the group itself would use twice (an index and a junction, an
    // index and another entity of the group) fail in Postgres without a pointer.
    let mut made: std::collections::HashMap<(String, String), usize> = Default::default();
    for (i, p) in group.iter().enumerate() {
        for (schema, name) in p
            .table_steps
            .iter()
            .chain(&p.relation_steps)
            .flat_map(Step::created_relations)
        {
            if let Some(first) = made.insert((schema.to_string(), name.to_string()), i) {
                let also = if first == i {
                    String::new()
                } else {
                    format!(" (also by {})", prefix(first))
                };
                out.push(prefixed(
                    &prefix(i),
                    Violation::new(
                        ErrorKind::DuplicateTable,
                        "/name",
                        format!("\"{schema}.{name}\" would be made twice{also}"),
                        "two generated names meet; rename a field or an entity",
                    ),
                ));
            }
        }
    }
    for ((i, p), found) in group.iter().enumerate().zip(found) {
        let e = &p.valid.entity;
        let at = |v: Violation| prefixed(&prefix(i), v);
        if found.owner_safe != Some(true) {
            let err = crate::tenants::owner_problem(found.owner_safe);
            out.push(at(Violation::new(
                err.kind,
                "",
                err.message,
                err.hint.unwrap_or_default(),
            )));
        }
        if found.entity_exists {
            out.push(at(Violation::new(
                ErrorKind::DuplicateTable,
                "/name",
                format!("entity \"{}\" already exists in tenant \"{}\"", e.name, e.tenant),
                "choose another name, or change the existing entity",
            )));
            continue;
        }
        // Generated ids are fresh v7 uuids; only ids the caller chose can be taken.
        if p.valid.ids_given {
            let mut ids = vec![spi::pg_uuid(e.id)];
            ids.extend(e.fields.iter().map(|f| spi::pg_uuid(f.id)));
            ids.extend(e.relations.iter().map(|r| spi::pg_uuid(r.id)));
            for id in meta::ids_in_use(ids) {
                let pointer = if id == e.id.to_string() {
                    "/id".to_string()
                } else {
                    let at = e
                        .relations
                        .iter()
                        .find(|r| r.id.to_string() == id)
                        .map(|r| r.at)
                        .or_else(|| e.fields.iter().position(|f| f.id.to_string() == id))
                        .unwrap_or(0);
                    format!("/fields/{at}/id")
                };
                out.push(at(Violation::new(
                    ErrorKind::DuplicateObject,
                    pointer,
                    format!("id {id} is already used"),
                    "ids are unique across all tenants; omit the id to have one generated",
                )));
            }
        }
        for taken in found.taken {
            // A name a junction would take is the relation field's doing.
            let pointer = e
                .relations
                .iter()
                .find(|r| {
                    r.junction.as_ref().is_some_and(|j| {
                        let table = j.table.as_str();
                        taken
                            .split_once('.')
                            .is_some_and(|(_, n)| n == table || n.starts_with(&format!("{table}_")))
                    })
                })
                .map_or_else(|| "/name".to_string(), |r| format!("/fields/{}/name", r.at));
            out.push(at(Violation::new(
                ErrorKind::DuplicateTable,
                pointer,
                format!("relation \"{taken}\" already exists"),
                "an object Cot would create has this name already; choose another entity or field name",
            )));
        }
    }
    (Some(tenant), out)
}

/// The steps `cot.create_entity` would run for a new entity, or every problem
/// with it (for `cot.plan_entity`).
pub(crate) fn plan_new(def: &Value) -> Result<Vec<Step>, Vec<Violation>> {
    let no_prefix = |_: usize| String::new();
    let group = prepare(std::slice::from_ref(def), &no_prefix)?;
    let problems = check_against_database(&group, &no_prefix).1;
    if !problems.is_empty() {
        return Err(problems);
    }
    let p = &group[0];
    Ok(p.table_steps.iter().chain(&p.relation_steps).cloned().collect())
}

/// The steps `cot.create_entities` would run for a group, per definition, or
/// every problem with it (for `cot.apply_schema` in dry-run mode).
pub(crate) fn plan_group(
    defs: &[Value],
    prefix: &dyn Fn(usize) -> String,
) -> Result<Vec<Vec<Step>>, Vec<Violation>> {
    let group = prepare(defs, prefix)?;
    let problems = check_against_database(&group, prefix).1;
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(group
        .iter()
        .map(|p| p.table_steps.iter().chain(&p.relation_steps).cloned().collect())
        .collect())
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
    let def = match def.parse("definition", MAX_DEFINITION_BYTES) {
        Ok(d) => d,
        Err(e) => {
            let v = Violation::new(e.kind, "", e.message, e.hint.unwrap_or_default());
            return JsonB(Value::Array(vec![v.to_json()]));
        }
    };
    let no_prefix = |_: usize| String::new();
    let violations = match prepare(std::slice::from_ref(&def), &no_prefix) {
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
    let def = def
        .parse("definition", MAX_DEFINITION_BYTES)
        .unwrap_or_else(|e| raise(e));
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

pub(crate) fn create_group(defs: Vec<Value>, prefix: &dyn Fn(usize) -> String, what: &str) -> Vec<Value> {
    // The caller's right to define entities for the tenant is checked before the
    // definitions are: someone without it learns nothing from validation errors.
    // Whether the tenant exists is not told either.
    if let Some(Value::String(slug)) = defs[0].get("tenant") {
        if !may_define(slug) {
            raise(denied(slug));
        }
    }
    let group = prepare(&defs, prefix).unwrap_or_else(|v| raise_violations(what, &v));
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
        .map(|p| {
            let mut s = p.valid.normalized.clone();
            s["version"] = Value::from(1);
            s
        })
        .collect();
    for s in &stored {
        run.meta(|| meta::insert_entity(tenant.id, s));
    }
    if group.iter().any(|p| !p.valid.entity.relations.is_empty()) {
        let ids = group.iter().map(|p| spi::pg_uuid(p.valid.entity.id)).collect();
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
