//! The entity lifecycle, one file per stage:
//!
//! - `create.rs`: `cot.validate_entity`, `cot.create_entity`,
//!   `cot.create_entities` (a group, checked against the database in
//!   `preflight.rs` before anything runs);
//! - `alter.rs`: `cot.plan_entity` and `cot.alter_entity` (the stored entity
//!   and the change asked of it are found in `change.rs`);
//! - `drop.rs`: `cot.drop_entity`;
//! - `describe.rs`: `cot.definition_schema`, `cot.entity`, `cot.entities`.
//!
//! What they share is here: names read back from the meta-tables, the
//! stored entity of a tenant, definitions read and validated.

pub(crate) mod alter;
pub(crate) mod change;
pub(crate) mod create;
mod describe;
pub(crate) mod drop;
mod preflight;

use crate::catalog::meta::{self, EntityRow, TenantRow};
use crate::environment::Server;
use crate::jsonb_arg::JsonbText;
use crate::raise::{error, raise, raise_violations};
use crate::tenants::tenant_named;
use cot_engine::error::ErrorKind;
use cot_engine::names::{shown, Ident, NameKind, TenantNames};
use cot_engine::plan::RelationFunction;
use cot_engine::relations;
use cot_engine::stored::{self, StoredDefinition};
use cot_engine::validate::{validate, Validated, MAX_DEFINITION_BYTES};
use serde_json::Value;

/// Ids are unique across the database, but which ids another tenant holds is
/// not the caller's business: an id in `defs` that another tenant uses is
/// replaced by a stable id of tenant `tenant_id` (the same one every time), as
/// if it had been free. Only an id this tenant holds is "already used".
pub(crate) fn keep_ids_in_tenant(tenant_id: uuid::Uuid, defs: &mut [Value]) {
    let elsewhere = meta::ids_of_other_tenants(tenant_id, cot_engine::bundle::ids(defs));
    if !elsewhere.is_empty() {
        cot_engine::bundle::move_ids(defs, tenant_id, &elsewhere);
    }
}

/// A name read back from the meta-tables, where only validated names are written.
pub(crate) fn stored_ident(kind: NameKind, name: &str) -> Ident {
    stored::ident(kind, name).unwrap_or_else(|e| raise(e))
}

/// The tenant named `slug`, once the caller may define its entities. The
/// caller's right is checked first: someone without it learns nothing more,
/// not even whether the tenant exists.
pub(crate) fn definable_tenant(slug: &str) -> TenantRow {
    crate::permissions::require_define(slug);
    crate::catalog::meta::tenant(slug).unwrap_or_else(|| {
        raise(crate::raise::error(
            cot_engine::error::ErrorKind::UndefinedObject,
            format!("tenant {} does not exist", cot_engine::names::shown(slug)),
            "create it first with cot.create_tenant(slug)",
        ))
    })
}

/// The schema and role names of a stored tenant.
pub(crate) fn tenant_names(t: &TenantRow) -> TenantNames {
    stored::tenant_names(&t.slug).unwrap_or_else(|e| raise(e))
}

/// A stored definition, read.
pub(crate) fn read_stored(definition: &Value) -> StoredDefinition {
    StoredDefinition::read(definition).unwrap_or_else(|e| raise(e))
}

/// The entity `name` of tenant `tenant`, or 42704.
pub(crate) fn find(tenant: &str, name: &str) -> (TenantRow, EntityRow) {
    let t = tenant_named(tenant);
    let Some(e) = meta::entity(t.id, name) else {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("entity {} does not exist in tenant \"{}\"", shown(name), t.slug),
            format!("SELECT name FROM cot.entities('{}') lists its entities", t.slug),
        ));
    };
    (t, e)
}

/// The definition argument, parsed.
pub(crate) fn parse_definition(def: JsonbText) -> Value {
    def.parse("definition", MAX_DEFINITION_BYTES)
        .unwrap_or_else(|e| raise(e))
}

/// `def` validated; its violations raised as an invalid `what`.
pub(crate) fn validated(def: &Value, what: &str) -> Validated {
    validate(def, &Server).unwrap_or_else(|v| raise_violations(what, &v))
}

/// The computed relationships of other entities' many-to-one and one-to-one
/// relations that point at entity `this` (id `entity_id`): they take its
/// view's row type, so they go and come back with the view.
pub(crate) fn incoming_functions(
    names: &TenantNames,
    entity_id: uuid::Uuid,
    this: &Ident,
) -> Vec<RelationFunction> {
    meta::incoming(entity_id)
        .into_iter()
        .filter(|r| r.kind == "many_to_one" || r.kind == "one_to_one")
        .map(|r| {
            relations::function(
                names,
                &stored_ident(NameKind::Entity, &r.source),
                &stored_ident(NameKind::Field, &r.field),
                this,
                &stored_ident(NameKind::Field, &format!("{}_id", r.field)),
            )
        })
        .collect()
}

/// The computed relationships of a stored entity's own many-to-one and
/// one-to-one relations.
pub(crate) fn own_functions(
    names: &TenantNames,
    this: &Ident,
    stored: &StoredDefinition,
) -> Vec<RelationFunction> {
    stored
        .column_relations()
        .unwrap_or_else(|e| raise(e))
        .into_iter()
        .map(|r| relations::function(names, this, &r.field, &r.target, &r.column))
        .collect()
}
