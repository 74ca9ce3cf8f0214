//! `cot.create_tenant`, `cot.drop_tenant`, `cot.tenants`.

use crate::catalog::ledger::{self, Migration};
use crate::catalog::meta::{self, TenantRow};
use crate::catalog::{roles, system};
use crate::environment::Server;
use crate::execute::Run;
use crate::jsonb_arg::JsonbText;
use crate::permissions::require_platform;
use crate::raise::{error, raise};
use crate::spi;
use cot_engine::error::{CotError, ErrorKind};
use cot_engine::names::{check_name, owner_role, shown, NameKind, TenantNames};
use cot_engine::options::tenant_display_name;
use cot_engine::plan;
use cot_engine::stored;
use cot_engine::validate::Environment;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

/// Largest settings document, in bytes of JSON text.
const MAX_SETTINGS_BYTES: usize = 64 * 1024;

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

/// Checks the role that owns every generated object and returns whether it
/// exists; raises if it exists but is unsafe (see [`owner_problem`]).
fn owner_exists() -> bool {
    match roles::owner_role_is_safe(owner_role().as_str()) {
        None => false,
        Some(true) => true,
        unsafe_owner => raise(owner_problem(unsafe_owner)),
    }
}

/// What is wrong with the owner role, given its state: missing (`None`), or able
/// to log in, a superuser or bypassing row-level security (`Some(false)`; a
/// table owner with BYPASSRLS ignores the table's policies).
pub fn owner_problem(state: Option<bool>) -> CotError {
    let owner = owner_role();
    if state.is_none() {
        error(
            ErrorKind::NotInPrerequisiteState,
            format!("role \"{owner}\" does not exist"),
            "it is created with the first tenant; recreate it: CREATE ROLE cot_owner NOLOGIN NOINHERIT",
        )
    } else {
        error(
            ErrorKind::NotInPrerequisiteState,
            format!("role \"{owner}\" can log in, is a superuser or bypasses row-level security"),
            "it owns every generated table and must not: ALTER ROLE cot_owner NOLOGIN NOSUPERUSER NOBYPASSRLS",
        )
    }
}

/// The tenant's names, or the name error raised.
fn names_for(slug: &str) -> TenantNames {
    let slug = check_name(NameKind::Tenant, slug, "/tenant", Server.keywords())
        .unwrap_or_else(|v| crate::raise::raise_violations("tenant slug", &[v]));
    TenantNames::new(&slug)
}

/// Creates a tenant: roles `cot_<slug>_anon|user|admin`, storage schema
/// `tenant_<slug>`, API schema `<slug>`, and its meta row. `settings` is a JSON
/// object; its `name` key is the display name.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn create_tenant(slug: &str, settings: default!(JsonbText, "'{}'")) -> JsonB {
    require_platform("create a tenant");
    let names = names_for(slug);
    let settings = settings
        .parse("tenant settings", MAX_SETTINGS_BYTES)
        .unwrap_or_else(|e| raise(e));
    let display = tenant_display_name(&settings, slug).unwrap_or_else(|e| raise(e));

    meta::lock_tenant(slug);
    if meta::tenant(slug).is_some() {
        raise(error(
            ErrorKind::DuplicateObject,
            format!("tenant \"{slug}\" already exists"),
            "choose another slug, or drop the tenant first",
        ));
    }
    for schema in [&names.api_schema, &names.storage_schema] {
        if system::schema_exists(schema.as_str()) {
            raise(error(
                ErrorKind::DuplicateSchema,
                format!("schema \"{schema}\" already exists, so tenant \"{slug}\" cannot be created"),
                "Cot needs the schemas <slug> and tenant_<slug> for itself; choose another slug",
            ));
        }
    }
    for role in names.roles() {
        if roles::role_exists(role.as_str()) {
            raise(error(
                ErrorKind::DuplicateObject,
                format!("role \"{role}\" already exists, so tenant \"{slug}\" cannot be created"),
                "roles are shared by every database of the cluster; choose another slug or drop the role",
            ));
        }
    }
    let create_owner = !owner_exists();
    // Registered authenticators (PostgREST's login roles) become members of the
    // new tenant's roles, so the tenant is served without another step.
    let authenticators = roles::authenticator_idents();
    let steps = plan::create_tenant(&names, &display, create_owner, &authenticators);

    let id = uuid::Uuid::now_v7();
    let mut run = Run::new();
    let (plan, sql) = run.ddl(&steps);
    run.meta(|| meta::insert_tenant(id, slug, &display, settings.clone()));
    ledger::record_migration(Migration {
        tenant_id: id,
        tenant: slug,
        entity_id: None,
        entity: None,
        operation: "create_tenant",
        plan: Value::Array(plan),
        sql,
        before: None,
        after: Some(settings),
    });
    JsonB(meta::tenant_json(id, &names))
}

/// Drops a tenant: its schemas, roles and meta rows. While it has entities this
/// is refused with 2BP01 unless `force` is true, which drops them and their data.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn drop_tenant(slug: &str, force: default!(bool, false)) {
    require_platform("drop a tenant");
    meta::lock_tenant(slug);
    let Some(tenant) = meta::tenant(slug) else {
        raise(error(
            ErrorKind::UndefinedObject,
            format!(
                "tenant \"{}\" does not exist",
                cot_engine::names::shown(slug).trim_matches('"')
            ),
            "SELECT slug FROM cot.tenants() lists the tenants",
        ));
    };
    let names = names_for(&tenant.slug);
    let entities = meta::entity_names(tenant.id);
    if !entities.is_empty() && !force {
        raise(
            cot_engine::error::CotError::new(
                ErrorKind::DependentObjects,
                format!("tenant \"{slug}\" still has entities ({})", entities.len()),
            )
            .detail(format!("entities: {}", entities.join(", ")))
            .hint(format!("drop them first, or call cot.drop_tenant('{slug}', force => true) to drop them and their data")),
        );
    }
    let steps = plan::drop_tenant(&names, force);
    let mut run = Run::new();
    let (plan, sql) = run.ddl(&steps);
    run.meta(|| meta::delete_tenant(tenant.id));
    ledger::record_migration(Migration {
        tenant_id: tenant.id,
        tenant: slug,
        entity_id: None,
        entity: None,
        operation: "drop_tenant",
        plan: Value::Array(plan),
        sql,
        before: Some(serde_json::json!({"entities": entities})),
        after: None,
    });
}

/// Every tenant, with its schemas and number of entities (superusers and the
/// platform role).
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
#[allow(clippy::type_complexity)]
fn tenants() -> TableIterator<
    'static,
    (
        name!(slug, String),
        name!(name, String),
        name!(api_schema, String),
        name!(storage_schema, String),
        name!(entities, i64),
        name!(settings, JsonB),
        name!(created_at, pgrx::datum::TimestampWithTimeZone),
    ),
> {
    require_platform("list the tenants");
    let rows = Spi::connect(|c| {
        c.select(
            "SELECT t.slug, t.name, t.settings, t.created_at, (SELECT count(*) FROM cot.entities e WHERE e.tenant_id = t.id) \
             FROM cot.tenants t ORDER BY t.slug",
            None,
            &[],
        )?
        .map(|row| {
            let slug: String = row.get(1)?.unwrap_or_default();
            let names = stored::tenant_names(&slug).unwrap_or_else(|e| raise(e));
            Ok::<_, pgrx::spi::Error>((
                slug.clone(),
                row.get::<String>(2)?.unwrap_or_default(),
                names.api_schema.to_string(),
                names.storage_schema.to_string(),
                row.get::<i64>(5)?.unwrap_or(0),
                row.get::<JsonB>(3)?.unwrap_or(JsonB(Value::Null)),
                row.get::<pgrx::datum::TimestampWithTimeZone>(4)?.expect("created_at is NOT NULL"),
            ))
        })
        .collect::<Result<Vec<_>, _>>()
    });
    TableIterator::new(spi::spi(rows))
}
