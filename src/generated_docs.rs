//! Generated documentation of a tenant's API: `cot.record_schema`,
//! `cot.openapi` and `cot.typescript`. Each reads the stored normalized
//! definitions, validates them again to get the engine's `Entity` (the stored
//! form is what validation produced, so it passes unchanged) and hands them to
//! `cot_engine::docs`.
//!
//! Who may call them: superusers and members of the tenant's admin or user
//! role, the same people who see the API itself. The check comes first and
//! gives the same 42501 whether or not the tenant exists, so the functions do
//! not reveal which tenants exist.

use crate::catalog::meta::TenantRow;
use crate::catalog::{meta, roles};
use crate::environment::Server;
use crate::jsonb_arg::JsonbText;
use crate::raise::{error, raise};
use cot_engine::docs::{self, OpenApiOptions};
use cot_engine::error::{CotError, ErrorKind};
use cot_engine::names::shown;
use cot_engine::plan::Labels;
use cot_engine::types::Entity;
use cot_engine::validate::validate;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

/// May the caller read the documentation of `tenant`?
fn may_read(tenant: &str) -> bool {
    roles::is_superuser()
        || roles::is_member_of(&format!("cot_{tenant}_admin"))
        || roles::is_member_of(&format!("cot_{tenant}_user"))
}

fn check_access(tenant: &str) {
    if !may_read(tenant) {
        raise(error(
            ErrorKind::InsufficientPrivilege,
            format!(
                "permission denied to read the API documentation of tenant {}",
                shown(tenant)
            ),
            format!("it is read by a superuser or a member of cot_{tenant}_admin or cot_{tenant}_user"),
        ));
    }
}

fn tenant_row(tenant: &str) -> TenantRow {
    meta::tenant(tenant).unwrap_or_else(|| {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("tenant {} does not exist", shown(tenant)),
            "SELECT slug FROM cot.tenants() lists the tenants",
        ))
    })
}

/// A stored definition as the engine's entity and labels.
fn entity_of(mut definition: Value) -> (Entity, Labels) {
    // Read-only keys that Cot adds on output, taken off as drop_entity does
    // before it validates a stored definition again.
    if let Some(m) = definition.as_object_mut() {
        m.remove("version");
        m.remove("referenced_by");
    }
    let valid = validate(&definition, &Server)
        .unwrap_or_else(|v| raise(CotError::from_violations("stored definition", &v)));
    let labels = Labels::of(&valid.normalized);
    (valid.entity, labels)
}

fn tenant_entities(t: &TenantRow) -> Vec<(Entity, Labels)> {
    meta::definitions(t.id).into_iter().map(entity_of).collect()
}

/// The JSON Schema (2020-12) of one entity's records as PostgREST returns them
/// from its view; `$defs.insert` and `$defs.update` describe the request bodies.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn record_schema(tenant: &str, entity: &str) -> JsonB {
    check_access(tenant);
    let t = tenant_row(tenant);
    let Some(row) = meta::entity(t.id, entity) else {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("entity {} does not exist in tenant \"{}\"", shown(entity), t.slug),
            format!("SELECT name FROM cot.entities('{}') lists its entities", t.slug),
        ));
    };
    let (e, labels) = entity_of(row.definition);
    JsonB(docs::record_schema(&e, &labels))
}

/// The OpenAPI 3.1 document of the tenant's PostgREST API. Options:
/// `{"server_url": "https://api.example.com"}` (default `http://localhost:3000`).
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn openapi(tenant: &str, options: default!(JsonbText, "'{}'")) -> JsonB {
    let options = options
        .parse("openapi options", 64 * 1024)
        .unwrap_or_else(|e| raise(e));
    let options = OpenApiOptions::from_json(&options).unwrap_or_else(|why| {
        raise(error(
            ErrorKind::InvalidParameter,
            why,
            "e.g. '{\"server_url\": \"https://api.example.com\"}'",
        ))
    });
    check_access(tenant);
    let t = tenant_row(tenant);
    JsonB(docs::openapi(&t.slug, &tenant_entities(&t), &options))
}

/// TypeScript types of the tenant's API for `@supabase/postgrest-js`.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn typescript(tenant: &str) -> String {
    check_access(tenant);
    let t = tenant_row(tenant);
    docs::typescript(&t.slug, &tenant_entities(&t))
}
