//! The rows of the module meta-tables: `cot.module_versions` (the catalog,
//! one row per published version, never changed) and
//! `cot.module_installations` (one row per module installed in a tenant).

use crate::catalog::meta::TenantRow;
use crate::raise::{error, raise};
use crate::spi::{first, pg_uuid, query};
use cot_engine::error::ErrorKind;
use cot_engine::module::resolve::{Installed, Published};
use cot_engine::module::Module;
use cot_engine::names::shown;
use pgrx::JsonB;
use serde_json::Value;

/// Serializes publications of one module name (two sessions publishing the
/// same version must not both pass the "already published" check).
pub fn lock_module(name: &str) {
    query(
        "SELECT pg_catalog.pg_advisory_xact_lock(4419445, pg_catalog.hashtext($1))",
        &[name.into()],
        |_| Ok(()),
    )
}

/// A stored module document, parsed (it was checked when published).
fn parsed(doc: Value) -> Module {
    Module::parse(&doc).unwrap_or_else(|e| raise(e))
}

/// The stored document of a published version, if any.
pub fn stored_document(name: &str, version: &str) -> Option<Value> {
    query(
        "SELECT module FROM cot.module_versions WHERE name = $1 AND version = $2",
        &[name.into(), version.into()],
        first::<JsonB>,
    )
    .map(|j| j.0)
}

/// A published version, or 42704.
pub fn module(name: &str, version: &str) -> Module {
    stored_document(name, version).map(parsed).unwrap_or_else(|| {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("module {} version {version} is not published", shown(name)),
            "cot.modules() lists the published modules and versions",
        ))
    })
}

/// Every published version of a module, as resolution needs them.
pub fn published(name: &str) -> Vec<Published> {
    query(
        "SELECT module FROM cot.module_versions WHERE name = $1",
        &[name.into()],
        |t| {
            t.map(|row| Ok(row.get::<JsonB>(1)?.map(|j| j.0)))
                .collect::<Result<Vec<_>, _>>()
        },
    )
    .into_iter()
    .flatten()
    .map(|doc| {
        let m = parsed(doc);
        Published {
            name: m.name,
            version: m.version,
            depends: m.depends,
        }
    })
    .collect()
}

/// Stores a version.
pub fn insert(m: &Module, doc: &Value, by: &str) {
    let depends: serde_json::Map<String, Value> = m
        .depends
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.to_string())))
        .collect();
    query(
        "INSERT INTO cot.module_versions (name, version, description, depends, module, published_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            m.name.as_str().into(),
            m.version.to_string().into(),
            m.description.as_str().into(),
            JsonB(Value::Object(depends)).into(),
            JsonB(doc.clone()).into(),
            by.into(),
        ],
        |_| Ok(()),
    )
}

/// Every published version: (document, published_at as text, published_by).
pub fn catalog() -> Vec<(Value, String, String)> {
    query(
        "SELECT module, pg_catalog.to_json(published_at)::text, published_by FROM cot.module_versions",
        &[],
        |t| {
            t.map(|row| {
                Ok((
                    row.get::<JsonB>(1)?.map_or(Value::Null, |j| j.0),
                    row.get::<String>(2)?.unwrap_or_default(),
                    row.get::<String>(3)?.unwrap_or_default(),
                ))
            })
            .collect()
        },
    )
}

/// The modules installed in a tenant, each with its installed version's
/// document, by name.
pub fn installed(t: &TenantRow) -> Vec<(Module, String, String)> {
    let rows: Vec<(Value, String, String)> = query(
        "SELECT v.module, pg_catalog.to_json(i.installed_at)::text, pg_catalog.to_json(i.updated_at)::text \
         FROM cot.module_installations i \
         JOIN cot.module_versions v ON v.name = i.module AND v.version = i.version \
         WHERE i.tenant_id = $1 ORDER BY i.module",
        &[pg_uuid(t.id).into()],
        |t| {
            t.map(|row| {
                Ok((
                    row.get::<JsonB>(1)?.map_or(Value::Null, |j| j.0),
                    row.get::<String>(2)?.unwrap_or_default(),
                    row.get::<String>(3)?.unwrap_or_default(),
                ))
            })
            .collect()
        },
    );
    rows.into_iter().map(|(d, a, b)| (parsed(d), a, b)).collect()
}

/// The installed modules for dependency checks.
pub fn installed_for_resolution(t: &TenantRow) -> Vec<Installed> {
    installed(t)
        .into_iter()
        .map(|(m, _, _)| Installed {
            name: m.name,
            version: m.version,
            depends: m.depends,
        })
        .collect()
}

/// Records an installation (or its new version).
pub fn set_installed(t: &TenantRow, name: &str, version: &str) {
    query(
        "INSERT INTO cot.module_installations AS i (tenant_id, module, version) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id, module) DO UPDATE SET version = EXCLUDED.version, updated_at = pg_catalog.now()",
        &[pg_uuid(t.id).into(), name.into(), version.into()],
        |_| Ok(()),
    )
}

/// Forgets an installation.
pub fn remove_installed(t: &TenantRow, name: &str) {
    query(
        "DELETE FROM cot.module_installations WHERE tenant_id = $1 AND module = $2",
        &[pg_uuid(t.id).into(), name.into()],
        |_| Ok(()),
    )
}

/// The tenant's entities: (name, id).
pub fn entities(t: &TenantRow) -> Vec<(String, uuid::Uuid)> {
    query(
        "SELECT name, id FROM cot.entities WHERE tenant_id = $1 ORDER BY name",
        &[pg_uuid(t.id).into()],
        |t| {
            t.map(|row| {
                Ok((
                    row.get::<String>(1)?.unwrap_or_default(),
                    crate::spi::from_pg_uuid(row.get::<pgrx::Uuid>(2)?.expect("id is NOT NULL")),
                ))
            })
            .collect()
        },
    )
}

/// The columns of a table, by name.
pub fn columns(schema: &str, table: &str) -> Vec<String> {
    query(
        "SELECT a.attname::text FROM pg_catalog.pg_attribute a \
         JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
        &[schema.into(), table.into()],
        crate::spi::texts,
    )
}
