//! `cot.definition_schema`, `cot.entity`, `cot.entities` and `cot.drop_entity`.
//! (Defining entities is in `define.rs`.)

use crate::catalog::ledger::Migration;
use crate::catalog::meta::TenantRow;
use crate::catalog::{ledger, meta};
use crate::define::{denied, may_define};
use crate::environment::Server;
use crate::execute::Run;
use crate::jsonb_arg::JsonbText;
use crate::raise::{error, raise};
use crate::spi;
use cot_engine::error::{CotError, ErrorKind};
use cot_engine::names::{check_name, shown, Ident, Keywords, NameKind, TenantNames};
use cot_engine::plan::{self, Labels, RelKind, Step};
use cot_engine::relations;
use cot_engine::types::RelationKind;
use cot_engine::validate::validate;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

/// The JSON Schema (draft 2020-12) every entity definition must satisfy.
#[pg_extern(immutable, parallel_safe)]
fn definition_schema() -> JsonB {
    JsonB(cot_engine::schema::definition_schema().clone())
}

/// A name read back from the meta-tables, where only validated names are written.
pub(crate) fn stored_ident(kind: NameKind, name: &str) -> Ident {
    check_name(kind, name, "", &Keywords::default())
        .unwrap_or_else(|v| raise(CotError::from_violations("stored name", &[v])))
}

/// The tenant with this slug, or 42704.
pub(crate) fn tenant_named(tenant: &str) -> TenantRow {
    meta::tenant(tenant).unwrap_or_else(|| {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("tenant {} does not exist", shown(tenant)),
            "SELECT slug FROM cot.tenants() lists the tenants",
        ))
    })
}

fn find(tenant: &str, name: &str) -> (TenantRow, meta::EntityRow) {
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

/// Options of `cot.drop_entity`.
struct DropOptions {
    /// Also remove the relations of other entities that point at this one.
    drop_relations: bool,
}

fn drop_options(options: Value) -> DropOptions {
    let Value::Object(map) = options else {
        raise(error(
            ErrorKind::InvalidParameter,
            "drop options must be a JSON object",
            "e.g. '{\"drop_relations\": true}'",
        ));
    };
    let mut out = DropOptions {
        drop_relations: false,
    };
    for (key, value) in map {
        match (key.as_str(), value) {
            ("drop_relations", Value::Bool(b)) => out.drop_relations = b,
            (key, _) => raise(error(
                ErrorKind::InvalidParameter,
                format!("unknown or mistyped drop option {}", shown(key)),
                "the options are: drop_relations (boolean)",
            )),
        }
    }
    out
}

/// Drops an entity: its junction tables, its view, its table with every row,
/// and its meta rows. While other entities have relations pointing at it, this
/// is refused with 2BP01 naming them, unless `options` says
/// `{"drop_relations": true}`: then those relation fields go too (their
/// columns and junction tables with their data). Objects outside Cot that
/// depend on the table (a user's view) stop it with Postgres's own 2BP01.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn drop_entity(tenant: &str, name: &str, options: default!(JsonbText, "'{}'")) {
    let options = drop_options(
        options
            .parse("drop options", 64 * 1024)
            .unwrap_or_else(|e| raise(e)),
    );
    drop_entity_now(tenant, name, options.drop_relations);
}

/// `cot.drop_entity`, for callers that have their options already.
pub(crate) fn drop_entity_now(tenant: &str, name: &str, drop_relations: bool) {
    let options = DropOptions { drop_relations };
    if !may_define(tenant) {
        raise(denied(tenant));
    }
    meta::lock_tenant(tenant);
    let (t, e) = find(tenant, name);
    // Both names were validated when they were stored.
    let names = TenantNames::new(&stored_ident(NameKind::Tenant, &t.slug));
    let entity_name = stored_ident(NameKind::Entity, name);

    let incoming = meta::incoming(e.id);
    if !incoming.is_empty() && !options.drop_relations {
        let list: Vec<String> = incoming
            .iter()
            .map(|r| format!("{}.{} ({})", r.source, r.field, r.kind))
            .collect();
        let mut sources: Vec<&str> = incoming.iter().map(|r| r.source.as_str()).collect();
        sources.dedup();
        raise(
            CotError::new(
                ErrorKind::DependentObjects,
                format!("entity \"{name}\" is referenced by {}", sources.join(", ")),
            )
            .detail(format!("relations pointing at it: {}", list.join(", ")))
            .hint(format!(
                "drop those relations first, or call cot.drop_entity('{}', '{name}', '{{\"drop_relations\": true}}')",
                t.slug
            )),
        );
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

    let own = own_junctions(&e.definition);
    let mut steps: Vec<Step> = Vec::new();
    // Its computed relationships take its view's row type: they go first.
    for (field, target, column) in column_relations(&e.definition) {
        steps.push(Step::DropRelationFunction(relations::function(
            &names,
            &entity_name,
            &field,
            &target,
            &column,
        )));
    }
    steps.extend(relations::drop_junctions(&names, &own));
    steps.extend(plan::drop_entity(&names, &entity_name));
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

/// The many-to-one and one-to-one fields of a stored definition: (field,
/// target, column).
fn column_relations(definition: &Value) -> Vec<(Ident, Ident, Ident)> {
    definition["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| Some((f["name"].as_str()?, f["target"].as_str()?, f["column"].as_str()?)))
        .map(|(n, t, c)| {
            (
                stored_ident(NameKind::Field, n),
                stored_ident(NameKind::Entity, t),
                stored_ident(NameKind::Field, c),
            )
        })
        .collect()
}

/// The junction tables an entity's own many-to-many fields made.
fn own_junctions(definition: &Value) -> Vec<Ident> {
    definition["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["junction"].as_str())
        .map(|j| stored_ident(NameKind::Entity, j))
        .collect()
}

/// Removes relation fields from entity `source`: a many-to-one or one-to-one
/// loses its column (the view is made again without it), a many-to-many its
/// junction table, a one-to-many only its meta row. Records the change.
fn drop_relation_fields(run: &mut Run, t: &TenantRow, names: &TenantNames, source: &str, fields: &[&str]) {
    let (_, row) = find(&t.slug, source);
    let before = row.definition.clone();
    let mut after = before.clone();
    let mut removed = Vec::new();
    if let Some(list) = after["fields"].as_array_mut() {
        list.retain(|f| {
            let gone = f["type"] == "relation" && fields.contains(&f["name"].as_str().unwrap_or_default());
            if gone {
                removed.push(f.clone());
            }
            !gone
        });
    }
    // Postgres drops every index that holds a dropped column; so does the definition.
    let dropped: Vec<&str> = removed.iter().filter_map(|f| f["column"].as_str()).collect();
    if let Some(list) = after["indexes"].as_array_mut() {
        list.retain(|i| {
            !i["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| dropped.contains(&c.as_str().unwrap_or_default()))
        });
    }
    after["version"] = Value::from(before["version"].as_i64().unwrap_or(1) + 1);
    // The remaining definition is valid (it was, and only fields went): it gives
    // the entity as it now is, to make its view again.
    let mut input = after.clone();
    input.as_object_mut().map(|m| m.remove("version"));
    let valid = validate(&input, &Server).unwrap_or_else(|v| {
        raise(CotError::from_violations("stored definition", &v));
    });
    let table = stored_ident(NameKind::Entity, source);
    let mut steps = Vec::new();
    let columns: Vec<Ident> = removed
        .iter()
        .filter_map(|f| f["column"].as_str())
        .map(|c| stored_ident(NameKind::Field, c))
        .collect();
    if !columns.is_empty() {
        // The view goes and comes back: every computed relationship that takes
        // or returns its row type goes with it, and those still wanted return.
        let incoming: Vec<(Ident, Ident, Ident, Ident)> = meta::incoming(row.id)
            .into_iter()
            .filter(|r| r.kind == "many_to_one" || r.kind == "one_to_one")
            .map(|r| {
                let field = stored_ident(NameKind::Field, &r.field);
                let column = stored_ident(NameKind::Field, &format!("{}_id", r.field));
                (
                    stored_ident(NameKind::Entity, &r.source),
                    field,
                    table.clone(),
                    column,
                )
            })
            .collect();
        let own = |def: &Value| -> Vec<(Ident, Ident, Ident, Ident)> {
            column_relations(def)
                .into_iter()
                .map(|(f, t, c)| (table.clone(), f, t, c))
                .collect()
        };
        let before_fns: Vec<_> = own(&before).into_iter().chain(incoming.iter().cloned()).collect();
        let after_fns: Vec<_> = own(&after).into_iter().chain(incoming).collect();
        for (source, field, target, column) in &before_fns {
            steps.push(Step::DropRelationFunction(relations::function(
                names, source, field, target, column,
            )));
        }
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
        steps.extend(cot_engine::access::view_grants(
            &valid.entity.tenant,
            &table,
            valid.entity.access,
        ));
        for (source, field, target, column) in &after_fns {
            steps.extend(relations::create_function(names, source, field, target, column));
        }
    }
    let junctions: Vec<Ident> = removed
        .iter()
        .filter(|f| f["kind"] == RelationKind::ManyToMany.name())
        .filter_map(|f| f["junction"].as_str())
        .map(|j| stored_ident(NameKind::Entity, j))
        .collect();
    steps.extend(relations::drop_junctions(names, &junctions));
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

/// The normalized definition of one entity, with its ids and version, and
/// `referenced_by`: the relation fields of other entities that point at it.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn entity(tenant: &str, name: &str) -> JsonB {
    if !may_define(tenant) {
        raise(denied(tenant));
    }
    let (_, e) = find(tenant, name);
    let mut def = e.definition;
    def["referenced_by"] = meta::referenced_by(e.id);
    JsonB(def)
}

/// A tenant's entities.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
#[allow(clippy::type_complexity)]
fn entities(
    tenant: &str,
) -> TableIterator<
    'static,
    (
        name!(id, pgrx::Uuid),
        name!(name, String),
        name!(label, String),
        name!(description, Option<String>),
        name!(fields, i64),
        name!(version, i32),
        name!(created_at, pgrx::datum::TimestampWithTimeZone),
        name!(updated_at, pgrx::datum::TimestampWithTimeZone),
    ),
> {
    if !may_define(tenant) {
        raise(denied(tenant));
    }
    let t = tenant_named(tenant);
    let rows = Spi::connect(|c| {
        c.select(
            "SELECT e.id, e.name, e.label, e.description, (SELECT count(*) FROM cot.fields f WHERE f.entity_id = e.id), \
                    e.version, e.created_at, e.updated_at \
             FROM cot.entities e WHERE e.tenant_id = $1 ORDER BY e.name",
            None,
            &[spi::pg_uuid(t.id).into()],
        )?
        .map(|row| {
            Ok::<_, pgrx::spi::Error>((
                row.get::<pgrx::Uuid>(1)?.expect("id is NOT NULL"),
                row.get::<String>(2)?.unwrap_or_default(),
                row.get::<String>(3)?.unwrap_or_default(),
                row.get::<String>(4)?,
                row.get::<i64>(5)?.unwrap_or(0),
                row.get::<i32>(6)?.unwrap_or(1),
                row.get::<pgrx::datum::TimestampWithTimeZone>(7)?.expect("NOT NULL"),
                row.get::<pgrx::datum::TimestampWithTimeZone>(8)?.expect("NOT NULL"),
            ))
        })
        .collect::<Result<Vec<_>, _>>()
    })
    .unwrap_or_else(|e| panic!("cot: internal SPI failure: {e}"));
    TableIterator::new(rows)
}
