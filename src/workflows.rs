//! Workflows from SQL: what `cot.transition` (sql/workflows.sql: take a
//! named transition, as the caller) needs, `cot.transitions` (those the
//! caller may take now) and `cot.workflow_graph` (nodes and edges for a
//! diagram). The rules
//! themselves are enforced by each entity's trigger (engine
//! `ddl/workflow.rs`), for every writer; these functions only name the
//! transition and its note for it (transaction-local settings the trigger
//! reads), and ask as the caller, so grants and row security apply.

use crate::catalog::roles;
use crate::entity::{tenant_names, validated};
use crate::permissions::may_define;
use crate::raise::{error, raise};
use crate::spi::spi;
use cot_engine::error::ErrorKind;
use cot_engine::names::{check_name, shown, Keywords, NameKind, TenantNames};
use cot_engine::stored;
use cot_engine::types::Entity;
use cot_engine::workflow::Workflow;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};

/// The tenant's names and the entity, for a caller who is a superuser or
/// one of the tenant's roles; 42501 otherwise, 42704 for an unknown entity.
fn entity_for_caller(tenant: &str, entity: &str) -> (TenantNames, Entity) {
    let admin = may_define(tenant);
    let Some(row) = crate::catalog::meta::tenant(tenant)
        .filter(|_| admin || roles::may_use_schema(tenant, roles::caller()))
    else {
        raise(error(
            ErrorKind::InsufficientPrivilege,
            format!(
                "permission denied to use the workflows of tenant {}",
                shown(tenant)
            ),
            "workflows are used by the tenant's roles and superusers",
        ));
    };
    let t = tenant_names(&row);
    let name = check_name(NameKind::Entity, entity, "/entity", &Keywords::default())
        .unwrap_or_else(|v| raise(cot_engine::error::CotError::from_violations("entity", &[v])));
    let Some(e) = crate::catalog::meta::entity(row.id, name.as_str()) else {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("entity {} does not exist in tenant \"{tenant}\"", shown(entity)),
            "cot.entities(tenant) lists them",
        ));
    };
    let v = validated(&stored::for_validation(&e.definition), "stored definition");
    (t, v.entity)
}

/// The entity's workflow, or 22023 when it has no state field.
fn workflow_of(e: &Entity) -> &Workflow {
    e.workflow.as_ref().unwrap_or_else(|| {
        raise(error(
            ErrorKind::InvalidParameter,
            format!("entity \"{}\" has no state field", e.name),
            "a workflow is a field of type state (docs/workflows.md)",
        ))
    })
}

/// Runs `f` as the caller (Cot's functions run as the extension's owner), so
/// grants, row security and the workflow trigger judge the caller.
fn as_caller<R>(f: impl FnOnce() -> R) -> R {
    let (mut saved, mut context) = (pg_sys::Oid::INVALID, 0i32);
    // SAFETY: the caller's id and the saved context are restored right after
    // `f`; an error in between aborts the (sub)transaction, which restores them too.
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut saved, &mut context);
        pg_sys::SetUserIdAndSecContext(
            roles::caller(),
            context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32,
        );
    }
    let out = f();
    unsafe { pg_sys::SetUserIdAndSecContext(saved, context) };
    out
}

/// What `cot.transition` (sql/workflows.sql) needs to take transition
/// `transition` of `entity`: the API view, the state column, the state it
/// leads to. `cot.transition` is PL/pgSQL, SECURITY INVOKER: its UPDATE runs
/// as the caller, and the trigger's errors reach the caller with their own
/// SQLSTATE (Cot's workflow class `CW`, which an error caught and raised
/// again by the extension's Rust code would not keep).
#[pg_extern(security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn transition_target(tenant: &str, entity: &str, transition: &str) -> JsonB {
    let (t, e) = entity_for_caller(tenant, entity);
    let w = workflow_of(&e);
    let Some(tr) = w.transition(transition) else {
        let names: Vec<&str> = w.transitions.iter().map(|t| t.name.as_str()).collect();
        raise(error(
            ErrorKind::UndefinedObject,
            format!("entity \"{}\" has no transition {}", e.name, shown(transition)),
            format!("its transitions: {}", names.join(", ")),
        ));
    };
    JsonB(json!({
        "schema": t.api_schema.as_str(), "view": e.name.as_str(), "field": w.field.as_str(),
        "transition": tr.name, "to": tr.to,
    }))
}

/// May the caller read the entity through its API view (SELECT granted)?
fn readable(e: &Entity) -> bool {
    crate::spi::query(
        "SELECT pg_catalog.has_table_privilege($1, pg_catalog.format('%I.%I', $2::text, $3::text), 'SELECT')",
        &[
            roles::caller().into(),
            TenantNames::new(&e.tenant).api_schema.as_str().into(),
            e.name.as_str().into(),
        ],
        crate::spi::first::<bool>,
    )
    .unwrap_or(false)
}

/// The transitions the caller may take now on record `id`: those leaving its
/// present state that the caller's role may take and whose guard the record
/// meets. `[]` for a record the caller cannot read.
#[pg_extern(security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn transitions(tenant: &str, entity: &str, id: pgrx::Uuid) -> JsonB {
    let (_, e) = entity_for_caller(tenant, entity);
    let w = workflow_of(&e);
    let guards = cot_engine::plan::workflow::guards(&e, w);
    let sql = cot_engine::ddl::available_query(&e.tenant, &e.name, w, &guards);
    if !readable(&e) {
        return JsonB(json!([]));
    }
    // Column 1 is the state, column 2 a flag per transition.
    let allowed: Option<Vec<Option<bool>>> = as_caller(|| {
        spi(Spi::connect(|c| {
            let table = c.select(sql.as_str(), None, &[id.into()])?;
            if table.is_empty() {
                return Ok(None);
            }
            table.first().get::<Vec<Option<bool>>>(2)
        }))
    });
    let Some(allowed) = allowed else {
        return JsonB(json!([]));
    };
    let out: Vec<Value> = w
        .transitions
        .iter()
        .zip(allowed)
        .filter(|(_, ok)| *ok == Some(true))
        .map(|(t, _)| {
            json!({"name": t.name, "label": t.label, "description": t.description, "from": t.from, "to": t.to})
        })
        .collect();
    JsonB(Value::Array(out))
}

/// The workflow of `entity` as a graph: its states as nodes (initial, start,
/// final, reachable) and one edge per transition and state it leaves from.
/// For superusers, the tenant's admins, and its roles that may read the
/// entity (its guards are business rules: a role that cannot read the
/// records does not see them).
#[pg_extern(security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn workflow_graph(tenant: &str, entity: &str) -> JsonB {
    let (_, e) = entity_for_caller(tenant, entity);
    if !may_define(tenant) && !readable(&e) {
        raise(error(
            ErrorKind::InsufficientPrivilege,
            format!(
                "permission denied to read the workflow of entity {}",
                shown(entity)
            ),
            "the workflow is shown to the roles that may read the entity",
        ));
    }
    JsonB(workflow_of(&e).graph())
}
