//! Every query Cot runs against the meta-tables and the system catalogs. Values
//! are always SPI parameters; the SQL text here is fixed.

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::{OwnedPreparedStatement, SpiTupleTable};
use pgrx::{JsonB, PgOid, Uuid as PgUuid};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;

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

thread_local! {
    /// Plans for Cot's fixed queries, prepared once per backend: parsing and
    /// planning each of them on every call cost about a third of
    /// `create_entity`'s own time (bench/create_entities.sh).
    static PLANS: RefCell<HashMap<&'static str, OwnedPreparedStatement>> = RefCell::new(HashMap::new());
}

/// Runs one of Cot's fixed queries with its kept plan and hands the result to
/// `read`. Plans are prepared as mutating so every execution takes a fresh
/// snapshot, as a volatile PL/pgSQL function's queries do: checks made after
/// [`lock_tenant`] must see what the session that held the lock committed.
fn query<R>(
    sql: &'static str,
    args: &[DatumWithOid<'_>],
    read: impl FnOnce(SpiTupleTable<'_>) -> Result<R, pgrx::spi::Error>,
) -> R {
    spi(Spi::connect_mut(|client| {
        PLANS.with(|plans| {
            let mut plans = plans.borrow_mut();
            if !plans.contains_key(sql) {
                let oids: Vec<PgOid> = args.iter().map(|a| PgOid::from(a.oid())).collect();
                let plan = client.prepare_mut(sql, &oids)?.keep();
                plans.insert(sql, plan);
            }
            let table = client.update(&plans[sql], None, args)?;
            read(table)
        })
    }))
}

/// The first column of every row, as text.
fn texts(t: SpiTupleTable<'_>) -> Result<Vec<String>, pgrx::spi::Error> {
    t.map(|row| row.get::<String>(1).map(Option::unwrap_or_default))
        .collect()
}

/// The first column of the first row.
fn first<T: FromDatum + IntoDatum>(t: SpiTupleTable<'_>) -> Result<Option<T>, pgrx::spi::Error> {
    if t.is_empty() {
        Ok(None)
    } else {
        t.first().get_one::<T>()
    }
}

/// Runs DDL statements in order on one SPI connection, calling `after` after
/// each (the failpoint counter). A Postgres ERROR unwinds out of here untouched.
pub fn run_statements(statements: &[String], mut after: impl FnMut()) {
    spi(Spi::connect_mut(|client| {
        for sql in statements {
            client.update(sql.as_str(), None, &[])?;
            after();
        }
        Ok::<_, pgrx::spi::Error>(())
    }))
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
    // 4419444 is 0x436f74, "Cot": the first key keeps Cot's locks apart from the application's.
    query(
        "SELECT pg_catalog.pg_advisory_xact_lock(4419444, pg_catalog.hashtext($1))",
        &[slug.into()],
        |_| Ok(()),
    )
}

/// The role that called Cot: the session's role as `SET ROLE` (or PostgREST,
/// which switches role per request) left it. Inside Cot's SECURITY DEFINER
/// functions `current_user` is the extension's owner; the caller is the outer
/// user, and every permission check is about the caller.
pub fn caller() -> pgrx::pg_sys::Oid {
    // SAFETY: reads a backend global, always set inside a transaction.
    unsafe { pgrx::pg_sys::GetOuterUserId() }
}

/// The caller's role name, for the ledger.
pub fn caller_name() -> String {
    // SAFETY: with noerr = true a missing role gives NULL, handled below; the
    // name is palloc'd and copied out at once.
    unsafe {
        let p = pgrx::pg_sys::GetUserNameFromId(caller(), true);
        if p.is_null() {
            return String::new();
        }
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// Is the caller a superuser?
pub fn is_superuser() -> bool {
    // SAFETY: reads the role's flags from the syscache; valid inside a transaction.
    unsafe { pgrx::pg_sys::superuser_arg(caller()) }
}

/// Is the caller a member (directly or not) of `role`?
pub fn is_member_of(role: &str) -> bool {
    query(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = $1 \
           AND pg_catalog.pg_has_role($2, r.oid, 'MEMBER'))",
        &[role.into(), caller().into()],
        first::<bool>,
    )
    .unwrap_or(false)
}

/// The JWT claims PostgREST set for this request, if any, for the ledger.
/// Malformed claims are recorded as absent, never an error.
fn request_claims() -> Option<Value> {
    // SAFETY: GetConfigOption returns NULL or a NUL-terminated string owned by the
    // GUC machinery, copied out at once.
    let text = unsafe {
        let p = pgrx::pg_sys::GetConfigOption(c"request.jwt.claims".as_ptr(), true, false);
        if p.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    };
    serde_json::from_str::<Value>(&text).ok().filter(Value::is_object)
}

/// Does a schema of this name exist?
pub fn schema_exists(name: &str) -> bool {
    query(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1)",
        &[name.into()],
        first::<bool>,
    )
    .unwrap_or(false)
}

/// The owner role's state: `None` if it does not exist, `Some(true)` if it is
/// safe to own generated objects (cannot log in, is no superuser, cannot
/// bypass row-level security), `Some(false)` if someone changed it.
pub fn owner_role_is_safe(name: &str) -> Option<bool> {
    query(
        "SELECT NOT (rolcanlogin OR rolsuper OR rolbypassrls) FROM pg_catalog.pg_roles WHERE rolname = $1",
        &[name.into()],
        first::<bool>,
    )
}

/// Does a role of this name exist and may it log in?
pub fn role_can_login(name: &str) -> bool {
    query(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $1 AND rolcanlogin)",
        &[name.into()],
        first::<bool>,
    )
    .unwrap_or(false)
}

/// Every tenant's slug, in order.
pub fn tenant_slugs() -> Vec<String> {
    query("SELECT slug FROM cot.tenants ORDER BY slug", &[], texts)
}

/// The login roles registered with `cot.add_authenticator`.
pub fn authenticators() -> Vec<String> {
    query("SELECT role FROM cot.authenticators ORDER BY role", &[], texts)
}

/// Registers an authenticator (idempotent).
pub fn insert_authenticator(role: &str) {
    query(
        "INSERT INTO cot.authenticators (role) VALUES ($1) ON CONFLICT (role) DO NOTHING",
        &[role.into()],
        |_| Ok(()),
    )
}

/// Unregisters an authenticator; whether it was registered.
pub fn delete_authenticator(role: &str) -> bool {
    query(
        "DELETE FROM cot.authenticators WHERE role = $1 RETURNING 1",
        &[role.into()],
        |t| Ok(!t.is_empty()),
    )
}

/// Sets a setting for the rest of the transaction (`set_config(..., true)`).
pub fn set_local_setting(name: &str, value: &str) {
    query(
        "SELECT pg_catalog.set_config($1, $2, true)",
        &[name.into(), value.into()],
        |_| Ok(()),
    )
}

/// A new API key's row.
pub struct NewApiKey<'a> {
    /// Id.
    pub id: uuid::Uuid,
    /// Tenant.
    pub tenant_id: uuid::Uuid,
    /// anon, user or admin.
    pub role: &'a str,
    /// The public part of the key.
    pub prefix: &'a str,
    /// SHA-256 of the whole key.
    pub secret_hash: Vec<u8>,
    /// Free text.
    pub label: Option<String>,
    /// The sub claim the key carries.
    pub sub: Option<String>,
    /// timestamptz text, checked by the cast.
    pub expires_at: Option<String>,
}

/// Stores an API key; returns its expiry as text.
pub fn insert_api_key(k: NewApiKey<'_>) -> Option<String> {
    query(
        "INSERT INTO cot.api_keys (id, tenant_id, role, prefix, secret_hash, label, sub, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz) RETURNING expires_at::text",
        &[
            pg_uuid(k.id).into(),
            pg_uuid(k.tenant_id).into(),
            k.role.into(),
            k.prefix.into(),
            k.secret_hash.into(),
            k.label.into(),
            k.sub.into(),
            k.expires_at.into(),
        ],
        first::<String>,
    )
}

/// Revokes a key by id (text) or prefix.
pub fn revoke_api_key(key: &str) -> bool {
    query(
        "UPDATE cot.api_keys SET revoked_at = now() WHERE (id::text = $1 OR prefix = $1) AND revoked_at IS NULL RETURNING 1",
        &[key.into()],
        |t| Ok(!t.is_empty()),
    )
}

/// A stored API key, found by prefix.
pub struct ApiKey {
    /// Tenant slug.
    pub tenant: String,
    /// anon, user or admin.
    pub role: String,
    /// SHA-256 of the key.
    pub secret_hash: Vec<u8>,
    /// The sub claim.
    pub sub: Option<String>,
    /// Revoked?
    pub revoked: bool,
    /// Past its expiry?
    pub expired: bool,
}

/// The key with this prefix, if any.
pub fn api_key(prefix: &str) -> Option<ApiKey> {
    query(
        "SELECT t.slug, k.role, k.secret_hash, k.sub, k.revoked_at IS NOT NULL, \
                COALESCE(k.expires_at <= pg_catalog.now(), false) \
           FROM cot.api_keys k JOIN cot.tenants t ON t.id = k.tenant_id WHERE k.prefix = $1",
        &[prefix.into()],
        |t| {
            if t.is_empty() {
                return Ok(None);
            }
            let row = t.first();
            Ok(Some(ApiKey {
                tenant: row.get::<String>(1)?.unwrap_or_default(),
                role: row.get::<String>(2)?.unwrap_or_default(),
                secret_hash: row.get::<Vec<u8>>(3)?.unwrap_or_default(),
                sub: row.get::<String>(4)?,
                revoked: row.get::<bool>(5)?.unwrap_or(true),
                expired: row.get::<bool>(6)?.unwrap_or(true),
            }))
        },
    )
}

/// Does a role of this name exist?
pub fn role_exists(name: &str) -> bool {
    query(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $1)",
        &[name.into()],
        first::<bool>,
    )
    .unwrap_or(false)
}

/// What `create_entity` must know about the database before it runs anything,
/// read in one query.
pub struct Preflight {
    /// The tenant, if it exists.
    pub tenant: Option<TenantRow>,
    /// Whether the tenant already has an entity of this name.
    pub entity_exists: bool,
    /// Which of the relations the plan would create already exist, as
    /// `schema.name`: relations (tables, views, indexes...) and types (every
    /// table and view brings a row type of its own name) share these names.
    pub taken: Vec<String>,
    /// The owner role's state, as [`owner_role_is_safe`] gives it.
    pub owner_safe: Option<bool>,
}

/// Reads the [`Preflight`] for entity `name` of tenant `slug`; `schemas[i]`
/// goes with `names[i]`.
pub fn preflight(slug: &str, name: &str, schemas: Vec<String>, names: Vec<String>, owner: &str) -> Preflight {
    query(
        "WITH w(s, r) AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($3::text[]), pg_catalog.unnest($4::text[]))), \
              t AS (SELECT id FROM cot.tenants WHERE slug = $1) \
         SELECT (SELECT id FROM t), \
                EXISTS (SELECT FROM cot.entities e JOIN t ON e.tenant_id = t.id WHERE e.name = $2), \
                ARRAY(SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c \
                        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace JOIN w ON n.nspname = w.s AND c.relname = w.r \
                      UNION \
                      SELECT n.nspname || '.' || y.typname FROM pg_catalog.pg_type y \
                        JOIN pg_catalog.pg_namespace n ON n.oid = y.typnamespace JOIN w ON n.nspname = w.s AND y.typname = w.r \
                      ORDER BY 1), \
                (SELECT NOT (rolcanlogin OR rolsuper OR rolbypassrls) FROM pg_catalog.pg_roles WHERE rolname = $5)",
        &[slug.into(), name.into(), schemas.into(), names.into(), owner.into()],
        |t| {
            let row = t.first();
            let (id, exists, taken) = row.get_three::<PgUuid, bool, Vec<String>>()?;
            let owner_safe = row.get::<bool>(4)?;
            Ok(Preflight {
                tenant: id.map(|id| TenantRow { id: from_pg_uuid(id), slug: slug.to_string() }),
                entity_exists: exists.unwrap_or(false),
                taken: taken.unwrap_or_default(),
                owner_safe,
            })
        },
    )
}

/// A tenant's meta row.
#[derive(Clone)]
pub struct TenantRow {
    /// Stable id.
    pub id: uuid::Uuid,
    /// Slug.
    pub slug: String,
}

/// The tenant with this slug, if any.
pub fn tenant(slug: &str) -> Option<TenantRow> {
    query(
        "SELECT id FROM cot.tenants WHERE slug = $1",
        &[slug.into()],
        first::<PgUuid>,
    )
    .map(|id| TenantRow {
        id: from_pg_uuid(id),
        slug: slug.to_string(),
    })
}

/// Records a new tenant.
pub fn insert_tenant(id: uuid::Uuid, slug: &str, name: &str, settings: Value) {
    query(
        "INSERT INTO cot.tenants (id, slug, name, settings) VALUES ($1, $2, $3, $4)",
        &[
            pg_uuid(id).into(),
            slug.into(),
            name.into(),
            JsonB(settings).into(),
        ],
        |_| Ok(()),
    )
}

/// Removes a tenant's meta rows (entities and fields go with it).
pub fn delete_tenant(id: uuid::Uuid) {
    query(
        "DELETE FROM cot.tenants WHERE id = $1",
        &[pg_uuid(id).into()],
        |_| Ok(()),
    )
}

/// The tenant as `cot.create_tenant` returns it.
pub fn tenant_json(id: uuid::Uuid) -> Value {
    query(
        "SELECT pg_catalog.jsonb_build_object('id', id, 'slug', slug, 'name', name, 'settings', settings, \
           'api_schema', slug, 'storage_schema', 'tenant_' || slug, \
           'roles', pg_catalog.jsonb_build_object('anon', 'cot_' || slug || '_anon', \
             'user', 'cot_' || slug || '_user', 'admin', 'cot_' || slug || '_admin'), \
           'created_at', created_at) FROM cot.tenants WHERE id = $1",
        &[pg_uuid(id).into()],
        first::<JsonB>,
    )
    .map_or(Value::Null, |j| j.0)
}

/// Names of a tenant's entities, in name order.
pub fn entity_names(tenant_id: uuid::Uuid) -> Vec<String> {
    query(
        "SELECT name FROM cot.entities WHERE tenant_id = $1 ORDER BY name",
        &[pg_uuid(tenant_id).into()],
        texts,
    )
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
    query(
        "SELECT id, definition FROM cot.entities WHERE tenant_id = $1 AND name = $2",
        &[pg_uuid(tenant_id).into(), name.into()],
        |t| {
            if t.is_empty() {
                return Ok(None);
            }
            let (id, def) = t.first().get_two::<PgUuid, JsonB>()?;
            Ok(Some(EntityRow {
                id: from_pg_uuid(id.expect("id is NOT NULL")),
                definition: def.expect("definition is NOT NULL").0,
            }))
        },
    )
}

/// Which of these ids are already used by an entity or a field (ids are unique
/// across all tenants).
pub fn ids_in_use(ids: Vec<PgUuid>) -> Vec<String> {
    query(
        "SELECT id::text FROM cot.entities WHERE id = ANY ($1) \
         UNION SELECT id::text FROM cot.fields WHERE id = ANY ($1) ORDER BY 1",
        &[ids.into()],
        texts,
    )
}

/// Records an entity and its fields, from the normalized definition (with version).
pub fn insert_entity(tenant_id: uuid::Uuid, definition: &Value) {
    query(
        "WITH d AS (SELECT $2::jsonb AS d), \
              e AS (INSERT INTO cot.entities (id, tenant_id, name, label, description, definition, version) \
                    SELECT (d->>'id')::uuid, $1, d->>'name', d->>'label', d->>'description', d, (d->>'version')::integer \
                    FROM d RETURNING id) \
         INSERT INTO cot.fields (id, entity_id, name, type, options, position) \
         SELECT (f->>'id')::uuid, e.id, f->>'name', f->>'type', f, p::integer \
         FROM e, d, pg_catalog.jsonb_array_elements(d->'fields') WITH ORDINALITY AS a(f, p)",
        &[pg_uuid(tenant_id).into(), JsonB(definition.clone()).into()],
        |_| Ok(()),
    )
}

/// The relation fields of the tenant's entities named `names`, for checking
/// the relations of new entities that point at them.
pub fn known_entities(tenant_id: uuid::Uuid, names: Vec<String>) -> Vec<cot_engine::relations::KnownEntity> {
    query(
        "SELECT e.name, f.name, f.options->>'kind', f.options->>'target' FROM cot.entities e \
           LEFT JOIN cot.fields f ON f.entity_id = e.id AND f.type = 'relation' \
         WHERE e.tenant_id = $1 AND e.name = ANY ($2) ORDER BY e.name, f.position",
        &[pg_uuid(tenant_id).into(), names.into()],
        |t| {
            let mut out: Vec<cot_engine::relations::KnownEntity> = Vec::new();
            for row in t {
                let entity: String = row.get(1)?.unwrap_or_default();
                if out.last().map(|k| &k.name) != Some(&entity) {
                    out.push(cot_engine::relations::KnownEntity {
                        name: entity,
                        relations: Vec::new(),
                    });
                }
                let (Some(name), Some(kind), Some(target)) = (
                    row.get::<String>(2)?,
                    row.get::<String>(3)?,
                    row.get::<String>(4)?,
                ) else {
                    continue;
                };
                if let Some(kind) = cot_engine::relations::kind_from_name(&kind) {
                    let known = out.last_mut().expect("pushed above");
                    known
                        .relations
                        .push(cot_engine::relations::KnownRelation { name, kind, target });
                }
            }
            Ok(out)
        },
    )
}

/// Records the relations of newly created entities, one row per relation
/// field, with the target's id resolved by name within the tenant.
pub fn insert_relationships(tenant_id: uuid::Uuid, entity_ids: Vec<PgUuid>) {
    query(
        "INSERT INTO cot.relationships (id, tenant_id, kind, source_entity_id, target_entity_id, on_delete, \
           fk_column, inverse_field_id, junction_table) \
         SELECT (f.options->>'id')::uuid, $1, f.options->>'kind', e.id, t.id, f.options->>'on_delete', \
                f.options->>'column', inv.id, f.options->>'junction' \
           FROM cot.entities e \
           JOIN cot.fields f ON f.entity_id = e.id AND f.type = 'relation' \
           JOIN cot.entities t ON t.tenant_id = $1 AND t.name = f.options->>'target' \
           LEFT JOIN cot.fields inv ON inv.entity_id = t.id AND inv.name = f.options->>'inverse' \
          WHERE e.id = ANY ($2)",
        &[pg_uuid(tenant_id).into(), entity_ids.into()],
        |_| Ok(()),
    )
}

/// A relation of another entity that points at an entity.
pub struct Incoming {
    /// The entity holding the relation field.
    pub source_id: uuid::Uuid,
    /// Its name.
    pub source: String,
    /// The relation field's name.
    pub field: String,
    /// Its kind.
    pub kind: String,
}

/// The relations of other entities that point at `entity_id`.
pub fn incoming(entity_id: uuid::Uuid) -> Vec<Incoming> {
    query(
        "SELECT s.id, s.name, f.name, r.kind FROM cot.relationships r \
           JOIN cot.entities s ON s.id = r.source_entity_id JOIN cot.fields f ON f.id = r.id \
         WHERE r.target_entity_id = $1 AND r.source_entity_id <> $1 ORDER BY s.name, f.position",
        &[pg_uuid(entity_id).into()],
        |t| {
            t.map(|row| {
                Ok(Incoming {
                    source_id: from_pg_uuid(row.get::<PgUuid>(1)?.expect("NOT NULL")),
                    source: row.get(2)?.unwrap_or_default(),
                    field: row.get(3)?.unwrap_or_default(),
                    kind: row.get(4)?.unwrap_or_default(),
                })
            })
            .collect()
        },
    )
}

/// What `cot.entity()` shows of the relations pointing at an entity: one
/// object per relation field of another entity.
pub fn referenced_by(entity_id: uuid::Uuid) -> Value {
    query(
        "SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object( \
             'entity', s.name, 'field', f.name, 'kind', r.kind, 'on_delete', r.on_delete, \
             'column', r.fk_column, 'junction', r.junction_table, 'inverse', inv.name)) ORDER BY s.name, f.position), '[]') \
           FROM cot.relationships r JOIN cot.entities s ON s.id = r.source_entity_id \
           JOIN cot.fields f ON f.id = r.id LEFT JOIN cot.fields inv ON inv.id = r.inverse_field_id \
          WHERE r.target_entity_id = $1 AND r.source_entity_id <> $1",
        &[pg_uuid(entity_id).into()],
        first::<JsonB>,
    )
    .map_or(Value::Array(Vec::new()), |j| j.0)
}

/// Stores a changed definition (version + 1) and removes the meta rows of
/// fields it no longer has (their relationships go with them).
pub fn update_entity(id: uuid::Uuid, definition: &Value) {
    query(
        "WITH u AS (UPDATE cot.entities SET definition = $2, version = ($2->>'version')::integer, updated_at = now() \
                    WHERE id = $1 RETURNING id) \
         DELETE FROM cot.fields f USING u WHERE f.entity_id = u.id \
           AND f.id NOT IN (SELECT (x->>'id')::uuid FROM pg_catalog.jsonb_array_elements($2->'fields') AS x)",
        &[pg_uuid(id).into(), JsonB(definition.clone()).into()],
        |_| Ok(()),
    )
}

/// Removes an entity's meta rows (fields go with it).
pub fn delete_entity(id: uuid::Uuid) {
    query(
        "DELETE FROM cot.entities WHERE id = $1",
        &[pg_uuid(id).into()],
        |_| Ok(()),
    )
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

/// Appends to `cot.migrations`, and tells PostgREST to reload its schema cache
/// (NOTIFY is delivered at commit, so a rolled-back change sends nothing).
pub fn record_migration(m: Migration<'_>) {
    announce_model_change();
    query(
        "WITH m AS (INSERT INTO cot.migrations (tenant_id, tenant, entity_id, entity, operation, plan, sql, \
           definition_before, definition_after, applied_by, claims) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $10) RETURNING id) \
         SELECT pg_catalog.pg_notify('pgrst', 'reload schema') FROM m",
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
            request_claims().map(JsonB).into(),
            caller_name().into(),
        ],
        |_| Ok(()),
    )
}

/// The entity with this id in a tenant, if any (for a definition that names
/// its id: a different name then means a rename).
pub fn entity_by_id(tenant_id: uuid::Uuid, id: uuid::Uuid) -> Option<(String, EntityRow)> {
    query(
        "SELECT name, definition FROM cot.entities WHERE tenant_id = $1 AND id = $2",
        &[pg_uuid(tenant_id).into(), pg_uuid(id).into()],
        |t| {
            if t.is_empty() {
                return Ok(None);
            }
            let (name, def) = t.first().get_two::<String, JsonB>()?;
            Ok(Some((
                name.unwrap_or_default(),
                EntityRow {
                    id,
                    definition: def.expect("definition is NOT NULL").0,
                },
            )))
        },
    )
}

/// One-to-many relations of other entities that name a field of entity
/// `name` as their inverse: (that field, "entity.field" of the other).
pub fn inverse_users(tenant_id: uuid::Uuid, name: &str) -> Vec<(String, String)> {
    query(
        "SELECT f.options->>'inverse', e.name || '.' || f.name FROM cot.fields f \
           JOIN cot.entities e ON e.id = f.entity_id \
         WHERE e.tenant_id = $1 AND f.type = 'relation' AND f.options->>'kind' = 'one_to_many' \
           AND f.options->>'target' = $2 ORDER BY 2",
        &[pg_uuid(tenant_id).into(), name.into()],
        |t| {
            t.map(|row| {
                Ok((
                    row.get::<String>(1)?.unwrap_or_default(),
                    row.get::<String>(2)?.unwrap_or_default(),
                ))
            })
            .collect()
        },
    )
}

/// Stores an altered definition (with its new version): the entity row, its
/// fields (kept ones keep their ids, so relationships that name them as an
/// inverse stay), and its own relationships.
pub fn sync_entity(tenant_id: uuid::Uuid, id: uuid::Uuid, definition: &Value) {
    let args = || [pg_uuid(id).into(), JsonB(definition.clone()).into()];
    query(
        "UPDATE cot.entities SET name = $2->>'name', label = $2->>'label', description = $2->>'description', \
           definition = $2, version = ($2->>'version')::integer, updated_at = now() WHERE id = $1",
        &args(),
        |_| Ok(()),
    );
    // Fields that stay step out of the way of the (entity, name) and
    // (entity, position) keys first: renames may swap names.
    query(
        "DELETE FROM cot.fields WHERE entity_id = $1 \
           AND id NOT IN (SELECT (x->>'id')::uuid FROM pg_catalog.jsonb_array_elements($2->'fields') AS x)",
        &args(),
        |_| Ok(()),
    );
    query(
        "UPDATE cot.fields SET name = id::text, position = position + 1000000 WHERE entity_id = $1",
        &[pg_uuid(id).into()],
        |_| Ok(()),
    );
    query(
        "INSERT INTO cot.fields (id, entity_id, name, type, options, position) \
         SELECT (f->>'id')::uuid, $1, f->>'name', f->>'type', f, p::integer \
           FROM pg_catalog.jsonb_array_elements($2->'fields') WITH ORDINALITY AS a(f, p) \
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, type = EXCLUDED.type, options = EXCLUDED.options, \
           position = EXCLUDED.position",
        &args(),
        |_| Ok(()),
    );
    query(
        "DELETE FROM cot.relationships WHERE source_entity_id = $1",
        &[pg_uuid(id).into()],
        |_| Ok(()),
    );
    insert_relationships(tenant_id, vec![pg_uuid(id)]);
}

/// Runs one probe query of a schema change (fixed shape, from the engine's
/// renderer) and returns its count.
pub fn count(sql: &str) -> u64 {
    spi(Spi::connect(|c| {
        let t = c.select(sql, None, &[])?;
        first::<i64>(t)
    }))
    .map_or(0, |n| n.max(0) as u64)
}

/// The current value of a setting, as `SHOW` prints it.
pub fn setting(name: &str) -> String {
    query(
        "SELECT pg_catalog.current_setting($1)",
        &[name.into()],
        first::<String>,
    )
    .unwrap_or_default()
}

/// Sets a setting until the end of the transaction (`SET LOCAL`).
pub fn set_local(name: &str, value: &str) {
    query(
        "SELECT pg_catalog.set_config($1, $2, true)",
        &[name.into(), value.into()],
        |_| Ok(()),
    )
}

/// The stored definitions of a tenant's entities, by name.
pub fn definitions(tenant_id: uuid::Uuid) -> Vec<Value> {
    query(
        "SELECT definition FROM cot.entities WHERE tenant_id = $1 ORDER BY name",
        &[pg_uuid(tenant_id).into()],
        |t| {
            t.map(|row| Ok(row.get::<JsonB>(1)?.map_or(Value::Null, |j| j.0)))
                .collect()
        },
    )
}

/// Which of these ids (entities or fields) belong to another tenant.
pub fn ids_of_other_tenants(tenant_id: uuid::Uuid, ids: Vec<String>) -> Vec<String> {
    query(
        "SELECT e.id::text FROM cot.entities e WHERE e.tenant_id <> $1 AND e.id::text = ANY ($2) \
         UNION SELECT f.id::text FROM cot.fields f JOIN cot.entities e ON e.id = f.entity_id \
          WHERE e.tenant_id <> $1 AND f.id::text = ANY ($2)",
        &[pg_uuid(tenant_id).into(), ids.into()],
        texts,
    )
}

/// What the catalog holds for one table or view, in the shape
/// `cot_engine::drift::compare` reads; grants only those to `roles`.
pub fn relation_state(qualified: &str, roles: Vec<String>) -> Value {
    query(
        "SELECT pg_catalog.jsonb_build_object( \
           'exists', c.oid IS NOT NULL, 'rls', c.relrowsecurity, 'force', c.relforcerowsecurity, \
           'columns', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(a.attname, \
                          pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull) ORDER BY a.attnum), '[]') \
                       FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), \
           'constraints', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(k.conname, k.convalidated)), '[]') \
                       FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid AND k.contype <> 'n'), \
           'indexes', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(i.relname, x.indisvalid)), '[]') \
                       FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid \
                       WHERE x.indrelid = c.oid \
                         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = x.indexrelid)), \
           'policies', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', p.polname, \
                          'command', p.polcmd, 'permissive', p.polpermissive, \
                          'roles', (SELECT COALESCE(pg_catalog.jsonb_agg(CASE WHEN r.oid = 0 THEN 'public' ELSE r.oid::pg_catalog.regrole::text END), '[]') \
                                    FROM pg_catalog.unnest(p.polroles) AS r(oid)), \
                          'using', pg_catalog.pg_get_expr(p.polqual, p.polrelid), \
                          'check', pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid))), '[]') \
                       FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid), \
           'triggers', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(g.tgname, g.tgenabled <> 'D')), '[]') \
                       FROM pg_catalog.pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal), \
           'grants', (SELECT COALESCE(pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_array(r.rolname, g.privilege_type)), '[]') \
                       FROM pg_catalog.aclexplode(c.relacl) g JOIN pg_catalog.pg_roles r ON r.oid = g.grantee \
                       WHERE r.rolname = ANY ($2))) \
         FROM (SELECT pg_catalog.to_regclass($1) AS oid) AS o LEFT JOIN pg_catalog.pg_class c ON c.oid = o.oid",
        &[qualified.into(), roles.into()],
        first::<JsonB>,
    )
    .map_or(Value::Null, |j| j.0)
}

/// Tables and views in a tenant's two schemas, as `schema.name`.
pub fn managed_relations(schemas: Vec<String>) -> Vec<String> {
    query(
        "SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c \
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = ANY ($1) AND c.relkind IN ('r', 'v', 'm', 'p', 'f') ORDER BY 1",
        &[schemas.into()],
        texts,
    )
}

/// What changes whenever a tenant's model does (an entity created, altered or
/// dropped), so a cached model can be reused until then.
pub fn model_stamp(tenant_id: uuid::Uuid) -> String {
    query(
        "SELECT $1::text || '/' || count(*) || '/' || COALESCE(max(updated_at)::text, '') || '/' || COALESCE(sum(version), 0) \
           FROM cot.entities WHERE tenant_id = $1",
        &[pg_uuid(tenant_id).into()],
        first::<String>,
    )
    .unwrap_or_default()
}

/// May `role` use the tenant's API schema (it is one of the tenant's roles,
/// or a superuser)? Asked of the ACL directly, no query: `cot.query` asks on
/// every call.
pub fn may_use_schema(schema: &str, role: pg_sys::Oid) -> bool {
    let Ok(name) = std::ffi::CString::new(schema) else {
        return false;
    };
    // SAFETY: catalog lookups with missing_ok; both return codes.
    unsafe {
        let nsp = pg_sys::get_namespace_oid(name.as_ptr(), true);
        nsp != pg_sys::Oid::INVALID
            && pg_sys::pg_namespace_aclcheck(nsp, role, pg_sys::ACL_USAGE as pg_sys::AclMode)
                == pg_sys::AclResult::ACLCHECK_OK
    }
}

/// Tells every backend (at commit) and this one (now) that a tenant's model
/// changed: a relcache invalidation of `cot.model_signal`, which ages the
/// models `cot.query` caches (src/query.rs).
pub fn announce_model_change() {
    let oid = query(
        "SELECT 'cot.model_signal'::regclass::oid",
        &[],
        first::<pgrx::pg_sys::Oid>,
    );
    if let Some(oid) = oid {
        // SAFETY: queues an invalidation message for a relation that exists.
        unsafe { pgrx::pg_sys::CacheInvalidateRelcacheByRelid(oid) }
    }
}
