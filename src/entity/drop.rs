//! Dropping entities: `cot.drop_entity`. While other entities have relations
//! pointing at the entity, the drop is refused, or (with `drop_relations`)
//! those relation fields go first, each source entity's change recorded on
//! its own.

use super::{find, incoming_functions, own_functions, read_stored, stored_ident, tenant_names, validated};
use crate::catalog::ledger::{self, Migration};
use crate::catalog::meta::{self, Incoming, TenantRow};
use crate::execute::Run;
use crate::jsonb_arg::JsonbText;
use crate::permissions::require_define;
use crate::raise::raise;
use cot_engine::error::{CotError, ErrorKind};
use cot_engine::names::{Ident, NameKind, TenantNames};
use cot_engine::options::{DropOptions, MAX_OPTIONS_BYTES};
use cot_engine::plan::{self, Labels, RelKind, RelationFunction, Step};
use cot_engine::relations;
use cot_engine::stored::{self, StoredField};
use cot_engine::validate::Validated;
use pgrx::prelude::*;
use serde_json::Value;

/// Drops an entity: its junction tables, its view, its table with every row,
/// and its meta rows. While other entities have relations pointing at it, this
/// is refused with 2BP01 naming them, unless `options` says
/// `{"drop_relations": true}`: then those relation fields go too (their
/// columns and junction tables with their data). Objects outside Cot that
/// depend on the table (a user's view) stop it with Postgres's own 2BP01.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn drop_entity(tenant: &str, name: &str, options: default!(JsonbText, "'{}'")) {
    let options = options
        .parse("drop options", MAX_OPTIONS_BYTES)
        .unwrap_or_else(|e| raise(e));
    let options = DropOptions::from_json(&options).unwrap_or_else(|e| raise(e));
    drop_entity_now(tenant, name, options.drop_relations);
}

/// `cot.drop_entity`, for callers that have their options already.
pub(crate) fn drop_entity_now(tenant: &str, name: &str, drop_relations: bool) {
    require_define(tenant);
    meta::lock_tenant(tenant);
    let (t, e) = find(tenant, name);
    // Both names were validated when they were stored.
    let names = tenant_names(&t);
    let entity_name = stored_ident(NameKind::Entity, name);

    let incoming = meta::incoming(e.id);
    if !incoming.is_empty() && !drop_relations {
        raise(still_referenced(&t, name, &incoming));
    }

    let mut run = Run::new();
    // Other entities lose their relation fields first, in name order.
    let mut sources: Vec<(uuid::Uuid, String)> =
        incoming.iter().map(|r| (r.source_id, r.source.clone())).collect();
    sources.sort_by(|a, b| a.1.cmp(&b.1));
    sources.dedup();
    for (source_id, source) in sources {
        let fields: Vec<&str> = incoming
            .iter()
            .filter(|r| r.source_id == source_id)
            .map(|r| r.field.as_str())
            .collect();
        drop_relation_fields(&mut run, &t, &names, &source, &fields);
    }

    let stored = read_stored(&e.definition);
    // Its computed relationships take its view's row type: they go first.
    let mut steps: Vec<Step> = own_functions(&names, &entity_name, &stored)
        .into_iter()
        .map(Step::DropRelationFunction)
        .collect();
    steps.extend(relations::drop_junctions(
        &names,
        &stored.junctions().unwrap_or_else(|e| raise(e)),
    ));
    steps.extend(plan::drop_entity(&names, &entity_name));
    // A state field's trigger went with the table; its function did not.
    let fields = e.definition["fields"].as_array();
    if fields.is_some_and(|fs| fs.iter().any(|f| f["type"] == "state")) {
        steps.push(Step::DropWorkflowFunction {
            schema: names.storage_schema.clone(),
            name: cot_engine::plan::workflow::function_name(&entity_name),
        });
    }
    let (plan, sql) = run.ddl(&steps);
    run.meta(|| meta::delete_entity(e.id));
    ledger::record_migration(Migration {
        tenant_id: t.id,
        tenant: &t.slug,
        entity_id: Some(e.id),
        entity: Some(name),
        operation: "drop_entity",
        plan: Value::Array(plan),
        sql,
        before: Some(e.definition),
        after: None,
    });
}

/// The 2BP01 for an entity that relations of other entities point at.
fn still_referenced(t: &TenantRow, name: &str, incoming: &[Incoming]) -> CotError {
    let list: Vec<String> = incoming
        .iter()
        .map(|r| format!("{}.{} ({})", r.source, r.field, r.kind))
        .collect();
    let mut sources: Vec<&str> = incoming.iter().map(|r| r.source.as_str()).collect();
    sources.dedup();
    CotError::new(
        ErrorKind::DependentObjects,
        format!("entity \"{name}\" is referenced by {}", sources.join(", ")),
    )
    .detail(format!("relations pointing at it: {}", list.join(", ")))
    .hint(format!(
        "drop those relations first, or call cot.drop_entity('{}', '{name}', '{{\"drop_relations\": true}}')",
        t.slug
    ))
}

/// Removes relation fields from entity `source`: a many-to-one or one-to-one
/// loses its column (the view is made again without it), a many-to-many its
/// junction table, a one-to-many only its meta row. Records the change.
fn drop_relation_fields(run: &mut Run, t: &TenantRow, names: &TenantNames, source: &str, fields: &[&str]) {
    let (_, row) = find(&t.slug, source);
    let before = row.definition;
    let (after, removed) = stored::without_relation_fields(&before, fields).unwrap_or_else(|e| raise(e));
    // The remaining definition is valid (it was, and only fields went): it gives
    // the entity as it now is, to make its view again.
    let valid = validated(&stored::for_validation(&after), "stored definition");
    let table = stored_ident(NameKind::Entity, source);
    let columns: Vec<Ident> = removed
        .iter()
        .filter_map(|f| f.column.as_deref())
        .map(|c| stored_ident(NameKind::Field, c))
        .collect();
    let mut steps = Vec::new();
    if !columns.is_empty() {
        let incoming = incoming_functions(names, row.id, &table);
        let functions = |def: &Value| -> Vec<RelationFunction> {
            let mut all = own_functions(names, &table, &read_stored(def));
            all.extend(incoming.iter().cloned());
            all
        };
        steps = without_columns(
            names,
            &table,
            columns,
            &valid,
            functions(&before),
            functions(&after),
        );
    }
    steps.extend(relations::drop_junctions(names, &removed_junctions(&removed)));
    let (plan, sql) = run.ddl(&steps);
    run.meta(|| meta::update_entity(row.id, &after));
    ledger::record_migration(Migration {
        tenant_id: t.id,
        tenant: &t.slug,
        entity_id: Some(row.id),
        entity: Some(source),
        operation: "drop_relation",
        plan: Value::Array(plan),
        sql,
        before: Some(before),
        after: Some(after),
    });
}

fn removed_junctions(removed: &[StoredField]) -> Vec<Ident> {
    stored::junctions_of(removed).unwrap_or_else(|e| raise(e))
}

/// The steps that drop `columns` from `table`: the view goes and comes back
/// (as `valid` now is), and every computed relationship that takes or returns
/// its row type with it: those of `before` go, those of `after` return.
fn without_columns(
    names: &TenantNames,
    table: &Ident,
    columns: Vec<Ident>,
    valid: &Validated,
    before: Vec<RelationFunction>,
    after: Vec<RelationFunction>,
) -> Vec<Step> {
    let mut steps: Vec<Step> = before.into_iter().map(Step::DropRelationFunction).collect();
    steps.push(Step::DropRelation {
        kind: RelKind::View,
        schema: names.api_schema.clone(),
        name: table.clone(),
    });
    for column in columns {
        steps.push(Step::DropColumn {
            schema: names.storage_schema.clone(),
            table: table.clone(),
            column,
        });
    }
    steps.extend(plan::view_steps(&valid.entity, &Labels::of(&valid.normalized)));
    // A new view has no grants of its own yet.
    steps.extend(cot_engine::plan::policies::view_grants(
        &valid.entity.tenant,
        table,
        valid.entity.access,
    ));
    for f in after {
        steps.push(Step::CreateRelationFunction(f.clone()));
        steps.push(Step::SetRelationFunctionOwner(f));
    }
    steps
}
