//! `cot.definition_schema`, `cot.validate_entity`, `cot.create_entity`,
//! `cot.drop_entity`, `cot.entity`, `cot.entities`.

use crate::catalog::{self, Migration, TenantRow};
use crate::environment::Server;
use crate::errors::{error, raise, raise_violations};
use crate::execute::Run;
use crate::jsonb_text::JsonbText;
use cot_engine::error::{CotError, ErrorKind, Violation};
use cot_engine::names::{check_name, owner_role, shown, Ident, Keywords, NameKind, TenantNames};
use cot_engine::plan::{self, Step};
use cot_engine::validate::{validate, Validated, MAX_DEFINITION_BYTES};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

/// The JSON Schema (draft 2020-12) every entity definition must satisfy.
#[pg_extern(immutable, parallel_safe)]
fn definition_schema() -> JsonB {
    JsonB(cot_engine::schema::definition_schema().clone())
}

/// May the current user define entities for this tenant? Superusers may, and
/// members of the tenant's admin role.
fn may_define(tenant: &str) -> bool {
    catalog::is_superuser() || catalog::is_member_of(&format!("cot_{tenant}_admin"))
}

fn denied(tenant: &str) -> CotError {
    error(
        ErrorKind::InsufficientPrivilege,
        format!("permission denied to define entities of tenant \"{tenant}\""),
        format!("entities are defined and dropped by a superuser or a member of cot_{tenant}_admin"),
    )
}

fn no_tenant(slug: &str) -> Violation {
    Violation::new(
        ErrorKind::UndefinedObject,
        "/tenant",
        format!("tenant {} does not exist", shown(slug)),
        "create it first with cot.create_tenant(slug)",
    )
}

/// Checks against the database that the engine cannot make: the tenant exists,
/// the caller may define entities for it, and neither the entity, its ids nor
/// the names of the relations it would create are taken.
fn check_against_database(v: &Validated, steps: &[Step]) -> (Option<TenantRow>, Vec<Violation>) {
    let e = &v.entity;
    let mut out = Vec::new();
    let (schemas, names): (Vec<String>, Vec<String>) = steps
        .iter()
        .flat_map(Step::created_relations)
        .map(|(s, n)| (s.to_string(), n.to_string()))
        .unzip();
    let found = catalog::preflight(
        e.tenant.as_str(),
        e.name.as_str(),
        schemas,
        names,
        owner_role().as_str(),
    );
    if found.owner_safe != Some(true) {
        let err = crate::tenants::owner_problem(found.owner_safe);
        out.push(Violation::new(
            err.kind,
            "",
            err.message,
            err.hint.unwrap_or_default(),
        ));
    }
    let Some(tenant) = found.tenant else {
        return (None, vec![no_tenant(e.tenant.as_str())]);
    };
    if !may_define(e.tenant.as_str()) {
        let err = denied(e.tenant.as_str());
        out.push(Violation::new(
            err.kind,
            "/tenant",
            err.message,
            err.hint.unwrap_or_default(),
        ));
        return (Some(tenant), out);
    }
    if found.entity_exists {
        out.push(Violation::new(
            ErrorKind::DuplicateTable,
            "/name",
            format!("entity \"{}\" already exists in tenant \"{}\"", e.name, e.tenant),
            "choose another name, or change the existing entity",
        ));
        return (Some(tenant), out);
    }
    // Generated ids are fresh v7 uuids; only ids the caller chose can be taken.
    let mut ids = vec![catalog::pg_uuid(e.id)];
    ids.extend(e.fields.iter().map(|f| catalog::pg_uuid(f.id)));
    let taken = if v.ids_given {
        catalog::ids_in_use(ids)
    } else {
        Vec::new()
    };
    for id in taken {
        let pointer = if id == e.id.to_string() {
            "/id".to_string()
        } else {
            let i = e.fields.iter().position(|f| f.id.to_string() == id).unwrap_or(0);
            format!("/fields/{i}/id")
        };
        out.push(Violation::new(
            ErrorKind::DuplicateObject,
            pointer,
            format!("id {id} is already used"),
            "ids are unique across all tenants; omit the id to have one generated",
        ));
    }
    for taken in found.taken {
        out.push(Violation::new(
            ErrorKind::DuplicateTable,
            "/name",
            format!("relation \"{taken}\" already exists"),
            "an object Cot would create has this name already; choose another entity or field name",
        ));
    }
    (Some(tenant), out)
}

/// A name read back from the meta-tables, where only validated names are written.
fn stored_ident(kind: NameKind, name: &str) -> Ident {
    check_name(kind, name, "", &Keywords::default())
        .unwrap_or_else(|v| raise(CotError::from_violations("stored name", &[v])))
}

fn labels(normalized: &Value) -> (String, Vec<String>) {
    let label = normalized["label"].as_str().unwrap_or_default().to_string();
    let fields = normalized["fields"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| f["label"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    (label, fields)
}

fn plan_for(v: &Validated) -> Vec<Step> {
    let (label, field_labels) = labels(&v.normalized);
    plan::create_entity(&v.entity, &label, &field_labels)
}

/// Every problem with a definition, each `{pointer, sqlstate, message, hint}`;
/// an empty array when `cot.create_entity` would accept it. Changes nothing.
#[pg_extern]
#[search_path(pg_catalog, pg_temp)]
fn validate_entity(def: JsonbText) -> JsonB {
    let def = match def.parse("definition", MAX_DEFINITION_BYTES) {
        Ok(d) => d,
        Err(e) => {
            let v = Violation::new(e.kind, "", e.message, e.hint.unwrap_or_default());
            return JsonB(Value::Array(vec![v.to_json()]));
        }
    };
    let violations = match validate(&def, &Server) {
        Err(v) => v,
        Ok(valid) => check_against_database(&valid, &plan_for(&valid)).1,
    };
    JsonB(Value::Array(violations.iter().map(Violation::to_json).collect()))
}

/// Creates an entity: validates the definition, then in this transaction creates
/// its table, constraints, indexes, trigger and API view, records it in the
/// meta-tables and the ledger, and tells PostgREST to reload. Returns the
/// normalized definition, with ids.
#[pg_extern]
#[search_path(pg_catalog, pg_temp)]
fn create_entity(def: JsonbText) -> JsonB {
    let def = def
        .parse("definition", MAX_DEFINITION_BYTES)
        .unwrap_or_else(|e| raise(e));
    // The caller's right to define entities for the tenant is checked before the
    // definition is: someone without it learns nothing from validation errors.
    if let Some(Value::String(slug)) = def.get("tenant") {
        if !catalog::is_superuser() && catalog::tenant(slug).is_some() && !may_define(slug) {
            raise(denied(slug));
        }
    }
    let valid = validate(&def, &Server).unwrap_or_else(|v| raise_violations("entity definition", &v));
    let e = &valid.entity;
    // Checks from here on must see what concurrent definitions committed.
    catalog::lock_tenant(e.tenant.as_str());
    let steps = plan_for(&valid);
    let (tenant, problems) = check_against_database(&valid, &steps);
    if !problems.is_empty() {
        raise_violations("entity definition", &problems);
    }
    let tenant = tenant.expect("no problems means the tenant exists");

    let mut stored = valid.normalized.clone();
    stored["version"] = Value::from(1);
    let mut run = Run::new();
    run.ddl(&steps);
    run.meta(|| catalog::insert_entity(tenant.id, &stored));
    let (plan, sql) = run.into_record();
    catalog::record_migration(Migration {
        tenant_id: tenant.id,
        tenant: &tenant.slug,
        entity_id: Some(e.id),
        entity: Some(e.name.as_str()),
        operation: "create_entity",
        plan,
        sql,
        before: None,
        after: Some(stored.clone()),
    });
    JsonB(stored)
}

fn find(tenant: &str, name: &str) -> (TenantRow, catalog::EntityRow) {
    let Some(t) = catalog::tenant(tenant) else {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("tenant {} does not exist", shown(tenant)),
            "SELECT slug FROM cot.tenants() lists the tenants",
        ));
    };
    let Some(e) = catalog::entity(t.id, name) else {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("entity {} does not exist in tenant \"{}\"", shown(name), t.slug),
            format!("SELECT name FROM cot.entities('{}') lists its entities", t.slug),
        ));
    };
    (t, e)
}

/// Drops an entity: its view, its table with every row, and its meta rows.
/// Objects outside Cot that depend on the table (a user's view) stop it with 2BP01.
#[pg_extern]
#[search_path(pg_catalog, pg_temp)]
fn drop_entity(tenant: &str, name: &str) {
    if !catalog::is_superuser() && catalog::tenant(tenant).is_some() && !may_define(tenant) {
        raise(denied(tenant));
    }
    catalog::lock_tenant(tenant);
    let (t, e) = find(tenant, name);
    // Both names were validated when they were stored.
    let names = TenantNames::new(&stored_ident(NameKind::Tenant, &t.slug));
    let entity_name = stored_ident(NameKind::Entity, name);
    let mut run = Run::new();
    run.ddl(&plan::drop_entity(&names, &entity_name));
    run.meta(|| catalog::delete_entity(e.id));
    let (plan, sql) = run.into_record();
    catalog::record_migration(Migration {
        tenant_id: t.id,
        tenant: &t.slug,
        entity_id: Some(e.id),
        entity: Some(name),
        operation: "drop_entity",
        plan,
        sql,
        before: Some(e.definition),
        after: None,
    });
}

/// The normalized definition of one entity, with its ids and version.
#[pg_extern]
#[search_path(pg_catalog, pg_temp)]
fn entity(tenant: &str, name: &str) -> JsonB {
    JsonB(find(tenant, name).1.definition)
}

/// A tenant's entities.
#[pg_extern]
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
    let Some(t) = catalog::tenant(tenant) else {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("tenant {} does not exist", shown(tenant)),
            "SELECT slug FROM cot.tenants() lists the tenants",
        ));
    };
    let rows = Spi::connect(|c| {
        c.select(
            "SELECT e.id, e.name, e.label, e.description, (SELECT count(*) FROM cot.fields f WHERE f.entity_id = e.id), \
                    e.version, e.created_at, e.updated_at \
             FROM cot.entities e WHERE e.tenant_id = $1 ORDER BY e.name",
            None,
            &[catalog::pg_uuid(t.id).into()],
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
