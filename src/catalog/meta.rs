//! The rows of Cot's meta-tables: tenants (`cot.tenants`), entities and their
//! fields (`cot.entities`, `cot.fields`) and relationships
//! (`cot.relationships`), read and written with fixed queries.

use crate::spi::{first, from_pg_uuid, pg_uuid, query, texts};
use cot_engine::names::TenantNames;
use pgrx::{JsonB, Uuid as PgUuid};
use serde_json::Value;

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

/// A tenant's display name (`cot.tenants.name`).
pub fn tenant_name(id: uuid::Uuid) -> String {
    query(
        "SELECT name FROM cot.tenants WHERE id = $1",
        &[pg_uuid(id).into()],
        first::<String>,
    )
    .unwrap_or_default()
}

/// Every tenant's slug, in order.
pub fn tenant_slugs() -> Vec<String> {
    query("SELECT slug FROM cot.tenants ORDER BY slug", &[], texts)
}

/// The slugs of the tenants PostgREST's login role (the session's user)
/// serves: every tenant, or only its group's when `cot.set_authenticator_api_group`
/// bound it to one (docs/gateway.md, "Several PostgREST instances").
pub fn served_tenant_slugs() -> Vec<String> {
    query(
        "SELECT t.slug FROM cot.tenants t WHERE NOT EXISTS (SELECT FROM cot.authenticators a \
         WHERE a.role = session_user AND a.api_group IS DISTINCT FROM t.api_group AND a.api_group IS NOT NULL) \
         ORDER BY t.slug",
        &[],
        texts,
    )
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

/// The tenant as `cot.create_tenant` returns it, with the names of its
/// schemas and roles.
pub fn tenant_json(id: uuid::Uuid, names: &TenantNames) -> Value {
    query(
        "SELECT pg_catalog.jsonb_build_object('id', id, 'slug', slug, 'name', name, 'settings', settings, \
           'api_schema', $2::text, 'storage_schema', $3::text, \
           'roles', pg_catalog.jsonb_build_object('anon', $4::text, 'user', $5::text, 'admin', $6::text), \
           'created_at', created_at) FROM cot.tenants WHERE id = $1",
        &[
            pg_uuid(id).into(),
            names.api_schema.as_str().into(),
            names.storage_schema.as_str().into(),
            names.anon_role.as_str().into(),
            names.user_role.as_str().into(),
            names.admin_role.as_str().into(),
        ],
        first::<JsonB>,
    )
    .map_or(Value::Null, |j| j.0)
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
    /// The owner role's state, as [`crate::catalog::roles::owner_role_is_safe`] gives it.
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

/// Names of a tenant's entities, in name order.
pub fn entity_names(tenant_id: uuid::Uuid) -> Vec<String> {
    query(
        "SELECT name FROM cot.entities WHERE tenant_id = $1 ORDER BY name",
        &[pg_uuid(tenant_id).into()],
        texts,
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

/// The definitions of tenant `tenant_id`'s entities whose API view (in schema
/// `api_schema`) `role` may read, by name: what `cot.query` shows a role of
/// the model. Junction views are no entities.
pub fn readable_definitions(tenant_id: uuid::Uuid, api_schema: &str, role: pgrx::pg_sys::Oid) -> Vec<Value> {
    query(
        // By name, not by a pg_class row read in this snapshot: a view made
        // again by a change that committed since has a new oid, for which
        // has_table_privilege answers NULL (concurrency_reads.test.mjs).
        "SELECT e.definition FROM cot.entities e \
          WHERE e.tenant_id = $1 \
            AND coalesce(pg_catalog.has_table_privilege($3, \
                  pg_catalog.to_regclass(pg_catalog.format('%I.%I', $2::text, e.name)), 'SELECT'), false) \
          ORDER BY e.name",
        &[pg_uuid(tenant_id).into(), api_schema.into(), role.into()],
        |t| {
            t.map(|row| Ok(row.get::<JsonB>(1)?.map_or(Value::Null, |j| j.0)))
                .collect()
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

/// Which of these ids (entities or fields) belong to another tenant.
///
/// Only ids in the canonical text of a uuid can match a stored one (the
/// comparison is of `id::text`); they are looked up by primary key, and none
/// at all when there are none (a definition without ids: most calls). The
/// lookup by text it replaces read all of `cot.entities` and `cot.fields` on
/// every `create_entity`: 46-59 ms of it at 10,000 entities (100,000 field
/// rows; bench/scale.sh).
pub fn ids_of_other_tenants(tenant_id: uuid::Uuid, ids: Vec<String>) -> Vec<String> {
    let ids: Vec<PgUuid> = ids
        .iter()
        .filter_map(|s| uuid::Uuid::parse_str(s).ok().filter(|u| u.to_string() == *s))
        .map(pg_uuid)
        .collect();
    if ids.is_empty() {
        return Vec::new();
    }
    query(
        "SELECT e.id::text FROM cot.entities e WHERE e.tenant_id <> $1 AND e.id = ANY ($2) \
         UNION SELECT f.id::text FROM cot.fields f JOIN cot.entities e ON e.id = f.entity_id \
          WHERE e.tenant_id <> $1 AND f.id = ANY ($2)",
        &[pg_uuid(tenant_id).into(), ids.into()],
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

/// Removes an entity's meta rows (fields go with it).
pub fn delete_entity(id: uuid::Uuid) {
    query(
        "DELETE FROM cot.entities WHERE id = $1",
        &[pg_uuid(id).into()],
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
