//! Every query Cot runs against the meta-tables and the system catalogs. Values
//! are always SPI parameters; the SQL text here is fixed.

use pgrx::prelude::*;
use pgrx::{JsonB, Uuid as PgUuid};
use serde_json::Value;

/// Converts between the engine's uuid type and pgrx's.
pub fn pg_uuid(u: uuid::Uuid) -> PgUuid {
    PgUuid::from_bytes(*u.as_bytes())
}

/// The reverse of [`pg_uuid`].
pub fn from_pg_uuid(u: PgUuid) -> uuid::Uuid {
    uuid::Uuid::from_bytes(*u.as_bytes())
}

/// An SPI failure that is not a Postgres ERROR (those unwind on their own) is a
/// bug in Cot's fixed SQL, never a user mistake.
fn spi<T>(r: Result<T, pgrx::spi::Error>) -> T {
    r.unwrap_or_else(|e| panic!("cot: internal SPI failure: {e}"))
}

/// Postgres's reserved words: categories R (reserved) and T (reserved, but can
/// be a function or type name).
pub fn reserved_keywords() -> Vec<String> {
    spi(Spi::connect(|c| {
        c.select(
            "SELECT word FROM pg_catalog.pg_get_keywords() WHERE catcode IN ('R', 'T')",
            None,
            &[],
        )?
        .map(|row| row.get::<String>(1).map(Option::unwrap_or_default))
        .collect::<Result<Vec<_>, _>>()
    }))
}

/// Serializes Cot's changes to one tenant: concurrent `create_entity` calls for
/// one tenant queue here instead of racing in the system catalogs (8 sessions ×
/// 200 racing CREATE TABLE IF NOT EXISTS gave 861 catalog unique violations
/// without it; 0 with it). Held until the transaction ends.
pub fn lock_tenant(slug: &str) {
    // 0x436f74 is "Cot": the first key keeps Cot's locks apart from the application's.
    spi(Spi::run_with_args(
        "SELECT pg_catalog.pg_advisory_xact_lock(4419444, pg_catalog.hashtext($1))",
        &[slug.into()],
    ));
}

/// Is the current user a superuser?
pub fn is_superuser() -> bool {
    // SAFETY: reads the current user's role flags; always valid inside a transaction.
    unsafe { pgrx::pg_sys::superuser() }
}

/// Is the current user a member (directly or not) of `role`?
pub fn is_member_of(role: &str) -> bool {
    spi(Spi::get_one_with_args::<bool>(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = $1 AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'))",
        &[role.into()],
    ))
    .unwrap_or(false)
}

/// The current user's name, for the ledger.
pub fn current_user() -> String {
    spi(Spi::get_one::<String>("SELECT current_user::text")).unwrap_or_default()
}

/// The JWT claims PostgREST set for this request, if any, for the ledger.
/// Malformed claims are recorded as absent, never an error.
pub fn request_claims() -> Option<Value> {
    let text = spi(Spi::get_one::<String>(
        "SELECT NULLIF(pg_catalog.current_setting('request.jwt.claims', true), '')",
    ))?;
    serde_json::from_str::<Value>(&text).ok().filter(Value::is_object)
}

/// Does a schema of this name exist?
pub fn schema_exists(name: &str) -> bool {
    exists("SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1", name)
}

/// Does a role of this name exist?
pub fn role_exists(name: &str) -> bool {
    exists("SELECT FROM pg_catalog.pg_roles WHERE rolname = $1", name)
}

fn exists(query: &str, arg: &str) -> bool {
    spi(Spi::get_one_with_args::<bool>(
        &format!("SELECT EXISTS ({query})"),
        &[arg.into()],
    ))
    .unwrap_or(false)
}

/// Which of `names` already name a relation (table, view, index, sequence...)
/// in `schema`.
pub fn existing_relations(schema: &str, names: Vec<String>) -> Vec<String> {
    spi(Spi::connect(|c| {
        c.select(
            "SELECT c.relname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = ANY ($2) ORDER BY 1",
            None,
            &[schema.into(), names.into()],
        )?
        .map(|row| row.get::<String>(1).map(Option::unwrap_or_default))
        .collect::<Result<Vec<_>, _>>()
    }))
}

/// A tenant's meta row.
pub struct TenantRow {
    /// Stable id.
    pub id: uuid::Uuid,
    /// Slug.
    pub slug: String,
}

/// The tenant with this slug, if any.
pub fn tenant(slug: &str) -> Option<TenantRow> {
    spi(Spi::connect(|c| {
        let t = c.select("SELECT id FROM cot.tenants WHERE slug = $1", None, &[slug.into()])?;
        if t.is_empty() {
            return Ok(None);
        }
        Ok::<_, pgrx::spi::Error>(t.first().get_one::<PgUuid>()?.map(|id| TenantRow {
            id: from_pg_uuid(id),
            slug: slug.to_string(),
        }))
    }))
}

/// Records a new tenant.
pub fn insert_tenant(id: uuid::Uuid, slug: &str, name: &str, settings: Value) {
    spi(Spi::run_with_args(
        "INSERT INTO cot.tenants (id, slug, name, settings) VALUES ($1, $2, $3, $4)",
        &[
            pg_uuid(id).into(),
            slug.into(),
            name.into(),
            JsonB(settings).into(),
        ],
    ));
}

/// Removes a tenant's meta rows (entities and fields go with it).
pub fn delete_tenant(id: uuid::Uuid) {
    spi(Spi::run_with_args(
        "DELETE FROM cot.tenants WHERE id = $1",
        &[pg_uuid(id).into()],
    ));
}

/// The tenant as `cot.create_tenant` returns it.
pub fn tenant_json(id: uuid::Uuid) -> Value {
    spi(Spi::get_one_with_args::<JsonB>(
        "SELECT pg_catalog.jsonb_build_object('id', id, 'slug', slug, 'name', name, 'settings', settings, \
           'api_schema', slug, 'storage_schema', 'tenant_' || slug, \
           'roles', pg_catalog.jsonb_build_object('anon', 'cot_' || slug || '_anon', 'user', 'cot_' || slug || '_user', 'admin', 'cot_' || slug || '_admin'), \
           'created_at', created_at) FROM cot.tenants WHERE id = $1",
        &[pg_uuid(id).into()],
    ))
    .map(|j| j.0)
    .unwrap_or(Value::Null)
}

/// Names of a tenant's entities, in name order.
pub fn entity_names(tenant_id: uuid::Uuid) -> Vec<String> {
    spi(Spi::connect(|c| {
        c.select(
            "SELECT name FROM cot.entities WHERE tenant_id = $1 ORDER BY name",
            None,
            &[pg_uuid(tenant_id).into()],
        )?
        .map(|row| row.get::<String>(1).map(Option::unwrap_or_default))
        .collect::<Result<Vec<_>, _>>()
    }))
}

/// An entity's meta row.
pub struct EntityRow {
    /// Stable id.
    pub id: uuid::Uuid,
    /// The stored normalized definition, with version.
    pub definition: Value,
}

/// The entity `name` of a tenant, if any.
pub fn entity(tenant_id: uuid::Uuid, name: &str) -> Option<EntityRow> {
    spi(Spi::connect(|c| {
        let t = c.select(
            "SELECT id, definition FROM cot.entities WHERE tenant_id = $1 AND name = $2",
            None,
            &[pg_uuid(tenant_id).into(), name.into()],
        )?;
        if t.is_empty() {
            return Ok::<_, pgrx::spi::Error>(None);
        }
        let row = t.first();
        let (id, def) = row.get_two::<PgUuid, JsonB>()?;
        Ok(Some(EntityRow {
            id: from_pg_uuid(id.expect("id is NOT NULL")),
            definition: def.expect("definition is NOT NULL").0,
        }))
    }))
}

/// Which of these ids are already used by an entity or a field (ids are unique
/// across all tenants).
pub fn ids_in_use(ids: Vec<PgUuid>) -> Vec<String> {
    spi(Spi::connect(|c| {
        c.select(
            "SELECT id::text FROM cot.entities WHERE id = ANY ($1) UNION SELECT id::text FROM cot.fields WHERE id = ANY ($1) ORDER BY 1",
            None,
            &[ids.into()],
        )?
        .map(|row| row.get::<String>(1).map(Option::unwrap_or_default))
        .collect::<Result<Vec<_>, _>>()
    }))
}

/// Records an entity and its fields. `definition` is the normalized definition.
pub fn insert_entity(tenant_id: uuid::Uuid, definition: &Value) {
    spi(Spi::run_with_args(
        "INSERT INTO cot.entities (id, tenant_id, name, label, description, definition) \
         SELECT (d->>'id')::uuid, $1, d->>'name', d->>'label', d->>'description', d FROM (SELECT $2::jsonb AS d) AS s",
        &[pg_uuid(tenant_id).into(), JsonB(definition.clone()).into()],
    ));
}

/// Records an entity's fields, one row each, from the normalized definition.
pub fn insert_fields(definition: &Value) {
    spi(Spi::run_with_args(
        "INSERT INTO cot.fields (id, entity_id, name, type, options, position) \
         SELECT (f->>'id')::uuid, ($1->>'id')::uuid, f->>'name', f->>'type', f, p::integer \
         FROM pg_catalog.jsonb_array_elements($1->'fields') WITH ORDINALITY AS a(f, p)",
        &[JsonB(definition.clone()).into()],
    ));
}

/// Removes an entity's meta rows (fields go with it).
pub fn delete_entity(id: uuid::Uuid) {
    spi(Spi::run_with_args(
        "DELETE FROM cot.entities WHERE id = $1",
        &[pg_uuid(id).into()],
    ));
}

/// One ledger entry.
pub struct Migration<'a> {
    /// Tenant id.
    pub tenant_id: uuid::Uuid,
    /// Tenant slug.
    pub tenant: &'a str,
    /// Entity id, for entity changes.
    pub entity_id: Option<uuid::Uuid>,
    /// Entity name, for entity changes.
    pub entity: Option<&'a str>,
    /// What was done.
    pub operation: &'a str,
    /// The plan as data.
    pub plan: Value,
    /// The statements run.
    pub sql: Vec<String>,
    /// Definition before.
    pub before: Option<Value>,
    /// Definition after.
    pub after: Option<Value>,
}

/// Appends to `cot.migrations`.
pub fn record_migration(m: Migration<'_>) {
    spi(Spi::run_with_args(
        "INSERT INTO cot.migrations (tenant_id, tenant, entity_id, entity, operation, plan, sql, definition_before, definition_after, applied_by, claims) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            pg_uuid(m.tenant_id).into(),
            m.tenant.into(),
            m.entity_id.map(pg_uuid).into(),
            m.entity.into(),
            m.operation.into(),
            JsonB(m.plan).into(),
            m.sql.into(),
            m.before.map(JsonB).into(),
            m.after.map(JsonB).into(),
            current_user().into(),
            request_claims().map(JsonB).into(),
        ],
    ));
}

/// Tells PostgREST to reload its schema cache. NOTIFY is delivered at commit,
/// so a rolled-back change sends nothing.
pub fn notify_postgrest() {
    spi(Spi::run("NOTIFY pgrst, 'reload schema'"));
}
