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

use crate::catalog::meta::{self, TenantRow};
use crate::entity::{find, validated};
use crate::jsonb_arg::JsonbText;
use crate::permissions::require_docs_reader;
use crate::raise::{error, raise};
use crate::tenants::tenant_named;
use cot_engine::docs::{self, OpenApiOptions};
use cot_engine::error::ErrorKind;
use cot_engine::options::MAX_OPTIONS_BYTES;
use cot_engine::plan::Labels;
use cot_engine::stored;
use cot_engine::types::Entity;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

/// A stored definition as the engine's entity and labels.
fn entity_of(definition: Value) -> (Entity, Labels) {
    // Read-only keys that Cot adds on output are taken off, as drop_entity
    // does before it validates a stored definition again.
    let valid = validated(&stored::for_validation(&definition), "stored definition");
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
    require_docs_reader(tenant);
    let (_, row) = find(tenant, entity);
    let (e, labels) = entity_of(row.definition);
    JsonB(docs::record_schema(&e, &labels))
}

/// The OpenAPI 3.1 document of the tenant's PostgREST API. Options:
/// `{"server_url": "https://api.example.com"}` (default `http://localhost:3000`).
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn openapi(tenant: &str, options: default!(JsonbText, "'{}'")) -> JsonB {
    let options = options
        .parse("openapi options", MAX_OPTIONS_BYTES)
        .unwrap_or_else(|e| raise(e));
    let options = OpenApiOptions::from_json(&options).unwrap_or_else(|why| {
        raise(error(
            ErrorKind::InvalidParameter,
            why,
            "e.g. '{\"server_url\": \"https://api.example.com\"}'",
        ))
    });
    require_docs_reader(tenant);
    let t = tenant_named(tenant);
    JsonB(docs::openapi(
        &crate::entity::tenant_names(&t),
        &tenant_entities(&t),
        &options,
    ))
}

/// TypeScript types of the tenant's API for `@supabase/postgrest-js`.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn typescript(tenant: &str) -> String {
    require_docs_reader(tenant);
    let t = tenant_named(tenant);
    docs::typescript(&t.slug, &tenant_entities(&t))
}
