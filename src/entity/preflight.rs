//! What `cot.create_entity` checks against the database before it runs
//! anything: the tenant exists, the caller may define entities for it,
//! relation targets exist (in the group or the tenant), and neither the
//! entities, their ids nor the names of the relations they would create are
//! taken. The checks that need no database are the engine's
//! (`cot_engine::group`, `cot_engine::relations::check`).

use super::create::Planned;
use crate::catalog::meta::{self, Preflight, TenantRow};
use crate::permissions::{denied, may_define};
use crate::spi::pg_uuid;
use cot_engine::error::{ErrorKind, Violation};
use cot_engine::group::{self, prefixed};
use cot_engine::names::{owner_role, shown};
use cot_engine::plan::Step;
use cot_engine::relations;
use cot_engine::types::Entity;

/// Checks a planned group against the database: the tenant (if it exists)
/// and every problem found, each at its definition's `prefix`. An empty
/// group gives no tenant and no problem.
pub(crate) fn check_against_database(
    group: &[Planned],
    prefix: &dyn Fn(usize) -> String,
) -> (Option<TenantRow>, Vec<Violation>) {
    // An empty group (a module of field types only) has nothing to check.
    let Some(first) = group.first().map(|p| &p.valid.entity) else {
        return (None, Vec::new());
    };
    // One query per entity reads everything below but the relation targets.
    let found: Vec<Preflight> = group.iter().map(preflight).collect();
    // Whether the tenant exists is told only to who may define its entities:
    // "not yours" and "does not exist" answer the same.
    if !may_define(first.tenant.as_str()) {
        let err = denied(first.tenant.as_str());
        let v = Violation::new(err.kind, "/tenant", err.message, err.hint.unwrap_or_default());
        return (found[0].tenant.clone(), vec![prefixed(&prefix(0), v)]);
    }
    let Some(tenant) = found[0].tenant.clone() else {
        let v = Violation::new(
            ErrorKind::UndefinedObject,
            "/tenant",
            format!("tenant {} does not exist", shown(first.tenant.as_str())),
            "create it first with cot.create_tenant(slug)",
        );
        return (None, vec![prefixed(&prefix(0), v)]);
    };
    let mut out = relation_targets(group, &tenant, prefix);
    let made: Vec<Vec<_>> = group.iter().map(|p| created_relations(p).collect()).collect();
    out.extend(group::name_clashes(&made, prefix));
    for ((i, p), found) in group.iter().enumerate().zip(found) {
        out.extend(
            taken(&p.valid.entity, p.valid.ids_given, found)
                .into_iter()
                .map(|v| prefixed(&prefix(i), v)),
        );
    }
    (Some(tenant), out)
}

/// The relations (tables, views, indexes) a planned definition creates, as
/// (schema, name).
fn created_relations(
    p: &Planned,
) -> impl Iterator<Item = (cot_engine::names::Ident, cot_engine::names::Ident)> + '_ {
    p.table_steps
        .iter()
        .chain(&p.relation_steps)
        .flat_map(Step::created_relations)
}

/// What the database says about one planned definition.
fn preflight(p: &Planned) -> Preflight {
    let (schemas, names): (Vec<String>, Vec<String>) = created_relations(p)
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
}

/// Relation targets outside the group must exist in the tenant, with the
/// relations the group's refer to.
fn relation_targets(
    group: &[Planned],
    tenant: &TenantRow,
    prefix: &dyn Fn(usize) -> String,
) -> Vec<Violation> {
    let entities: Vec<&Entity> = group.iter().map(|p| &p.valid.entity).collect();
    let outside = group::targets_outside(&entities);
    let known = if outside.is_empty() {
        Vec::new()
    } else {
        meta::known_entities(tenant.id, outside)
    };
    let owned: Vec<Entity> = entities.iter().map(|e| (*e).clone()).collect();
    relations::check(&owned, &known, prefix)
}

/// What is taken already of what entity `e` would use: the owner role is
/// unsafe, the entity exists, an id it chose is used, a relation it would
/// create exists.
fn taken(e: &Entity, ids_given: bool, found: Preflight) -> Vec<Violation> {
    let mut out = Vec::new();
    if found.owner_safe != Some(true) {
        let err = crate::tenants::owner_problem(found.owner_safe);
        out.push(Violation::new(
            err.kind,
            "",
            err.message,
            err.hint.unwrap_or_default(),
        ));
    }
    if found.entity_exists {
        out.push(group::entity_exists(e));
        return out;
    }
    // Generated ids are fresh v7 uuids; only ids the caller chose can be taken.
    if ids_given {
        let mut ids = vec![pg_uuid(e.id)];
        ids.extend(e.fields.iter().map(|f| pg_uuid(f.id)));
        ids.extend(e.relations.iter().map(|r| pg_uuid(r.id)));
        out.extend(meta::ids_in_use(ids).iter().map(|id| group::id_in_use(e, id)));
    }
    out.extend(found.taken.iter().map(|t| group::relation_taken(e, t)));
    out
}
