//! What a definition asks of a stored entity, before anything is planned:
//! which entity it names (by id, then by name), whether the caller may change
//! it, whether it was read at the current version, both sides validated, its
//! relations and new ids checked, and the facts of the tenant the plan
//! depends on. Used by `cot.plan_entity`, `cot.alter_entity` and
//! `cot.apply_schema`.

use super::{definable_tenant, incoming_functions, read_stored, stored_ident, tenant_names, validated};
use crate::catalog::meta::{self, EntityRow, TenantRow};
use crate::raise::{error, raise, raise_violations};
use crate::spi::pg_uuid;
use cot_engine::error::{CotError, ErrorKind, Violation};
use cot_engine::evolve::{self, Surroundings};
use cot_engine::names::{shown, NameKind};
use cot_engine::relations;
use cot_engine::stored::{self, Header};
use cot_engine::validate::Validated;
use serde_json::Value;

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

/// Finds what the definition changes, checks the caller may change it, and
/// validates both sides. `extra_known` are entities about to be created that
/// its relations may point at.
pub(crate) fn prepare(def: Value, extra_known: &[relations::KnownEntity]) -> Target {
    let tenant = tenant_of(&def, &Header::of(&def));
    let mut def = def;
    super::keep_ids_in_tenant(tenant.id, std::slice::from_mut(&mut def));
    let header = Header::of(&def);
    let Some(row) = stored_row(&tenant, &header) else {
        return Target::New(def);
    };
    let name = header.name.as_str();
    let version = read_stored(&row.definition).version;
    if let Some(v) = header.version.filter(|v| *v != version) {
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
    let old = validated(&stored::for_validation(&row.definition), "stored definition");
    let new = validated(&evolve::carry_ids(&row.definition, &def), "entity definition");
    check_relations(&new, &tenant, name, extra_known);
    check_new_ids(&old, &new);
    let around = surroundings(&tenant, row.id, name);
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

/// The tenant the definition names, once the caller may define its entities.
fn tenant_of(def: &Value, header: &Header) -> TenantRow {
    let Some(slug) = header.tenant.as_deref() else {
        // Not a definition Cot can place: validation says what is wrong.
        validated(def, "entity definition");
        raise(error(
            ErrorKind::InvalidParameter,
            "the definition names no tenant",
            "add \"tenant\"",
        ));
    };
    definable_tenant(slug)
}

/// The stored entity the definition names: by its id if it gives one (a
/// different name is a rename, refused), else by its name.
fn stored_row(tenant: &TenantRow, header: &Header) -> Option<EntityRow> {
    let name = header.name.as_str();
    let row = match header.id.and_then(|id| meta::entity_by_id(tenant.id, id)) {
        Some((stored_name, _)) if stored_name != name => raise(error(
            ErrorKind::FeatureNotSupported,
            format!("entity \"{stored_name}\" cannot be renamed to {}", shown(name)),
            "renaming an entity is not supported yet; create a new entity and copy the rows",
        )),
        Some((_, row)) => Some(row),
        None => meta::entity(tenant.id, name),
    }?;
    if let Some(id) = header.id.filter(|id| *id != row.id) {
        raise(error(
            ErrorKind::InvalidParameter,
            format!("entity \"{name}\" has id {}, not {id}", row.id),
            "send the definition cot.entity() returns, or leave the id out",
        ));
    }
    Some(row)
}

/// Relation targets must be in the tenant (or the entity itself).
fn check_relations(new: &Validated, tenant: &TenantRow, name: &str, extra_known: &[relations::KnownEntity]) {
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
}

/// Ids the caller chose for new fields must be free.
fn check_new_ids(old: &Validated, new: &Validated) {
    let ids = |v: &Validated| -> Vec<uuid::Uuid> {
        let e = &v.entity;
        e.fields
            .iter()
            .map(|f| f.id)
            .chain(e.relations.iter().map(|r| r.id))
            .collect()
    };
    let old_ids = ids(old);
    let fresh: Vec<pgrx::Uuid> = ids(new)
        .into_iter()
        .filter(|id| !old_ids.contains(id))
        .map(pg_uuid)
        .collect();
    if !new.ids_given || fresh.is_empty() {
        return;
    }
    let taken: Vec<Violation> = meta::ids_in_use(fresh)
        .into_iter()
        .map(|id| {
            Violation::new(
                ErrorKind::DuplicateObject,
                "/fields",
                format!("id {id} is already used"),
                "the tenant has a field with this id; omit the id of a new field to have one generated",
            )
        })
        .collect();
    if !taken.is_empty() {
        raise_violations("entity definition", &taken);
    }
}

/// The facts of the tenant a change of entity `name` depends on.
fn surroundings(tenant: &TenantRow, entity_id: uuid::Uuid, name: &str) -> Surroundings {
    let names = tenant_names(tenant);
    let this = stored_ident(NameKind::Entity, name);
    Surroundings {
        incoming: incoming_functions(&names, entity_id, &this),
        inverse_of: meta::inverse_users(tenant.id, name),
    }
}
