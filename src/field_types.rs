//! Custom field types (docs/field-types.md): `cot.register_field_type`,
//! `cot.unregister_field_type` and `cot.field_types()`, over the meta-table
//! `cot.field_types`, and the registry the engine validates definitions with
//! ([`registry`]).
//!
//! A type in use is held still: its checks are in the CHECK constraints of
//! every table with a field of the type, and in the stored definitions those
//! tables were planned from. Changing its checks or removing it while a field
//! uses it is refused (2BP01) with the fields listed; what only the docs show
//! (description, format, examples) may change at any time.

use crate::jsonb_arg::JsonbText;
use crate::permissions::require_platform;
use crate::raise::{error, raise, raise_violations};
use crate::spi::{first, query, texts};
use cot_engine::error::{CotError, ErrorKind};
use cot_engine::field_types::{FieldTypeDef, FieldTypes, MAX_FIELD_TYPES};
use pgrx::prelude::*;
use pgrx::{pg_sys, JsonB};
use serde_json::Value;
use std::cell::RefCell;
use std::sync::Arc;

/// Longest type definition accepted, in bytes of JSON text.
const MAX_TYPE_BYTES: usize = 64 * 1024;

thread_local! {
    /// The registry as last read, and the local transaction it was read in.
    /// One entry, so it stays bounded; a new transaction reads again, and a
    /// change to the registry in this backend forgets it.
    static CACHE: RefCell<Option<(u32, Arc<FieldTypes>)>> = const { RefCell::new(None) };
}

/// The registered types, for the engine, read once per transaction
/// (`cot.openapi` validates every entity of a tenant with one read). When a
/// definition function reads them in a transaction that may write, the rows
/// are locked FOR SHARE: a type cannot
/// change or go between the validation of a definition and the commit of the
/// table made from it, since register and unregister wait for that commit and
/// then see the new field. A type registered by another session after the
/// first read is seen from the next transaction on.
pub(crate) fn registry() -> Arc<FieldTypes> {
    // SAFETY: MyProc is this backend's own PGPROC, set for its whole life.
    let xact = unsafe { (*pg_sys::MyProc).lxid };
    if let Some(hit) = CACHE.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(k, _)| *k == xact)
            .map(|(_, t)| t.clone())
    }) {
        return hit;
    }
    // Only Cot's own definition functions lock (they run as the extension's
    // owner, a superuser); cot.query runs as the tenant role, which may read
    // the registry but not lock it, and changes no definition.
    // SAFETY: plain reads of the backend's transaction and user state.
    let lock = unsafe { !pg_sys::XactReadOnly && pg_sys::superuser() };
    let defs: Vec<Value> = if !lock {
        query("SELECT definition FROM cot.field_types", &[], jsonb_rows)
    } else {
        query(
            "SELECT definition FROM cot.field_types FOR SHARE",
            &[],
            jsonb_rows,
        )
    };
    let types = Arc::new(FieldTypes::from_stored(defs));
    CACHE.with(|c| *c.borrow_mut() = Some((xact, types.clone())));
    types
}

fn jsonb_rows(t: pgrx::spi::SpiTupleTable<'_>) -> Result<Vec<Value>, pgrx::spi::Error> {
    t.map(|row| row.get::<JsonB>(1).map(|j| j.map_or(Value::Null, |j| j.0)))
        .collect()
}

/// Forgets the registry read in this backend (after a change to it).
fn forget() {
    CACHE.with(|c| *c.borrow_mut() = None);
}

/// The fields of every tenant's entities that use type `name`, as
/// `tenant.entity.field`.
fn used_by(name: &str) -> Vec<String> {
    query(
        "SELECT t.slug OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) e.name \
                OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) (f OPERATOR(pg_catalog.->>) 'name') \
         FROM cot.entities e JOIN cot.tenants t ON t.id OPERATOR(pg_catalog.=) e.tenant_id, \
              pg_catalog.jsonb_array_elements(e.definition OPERATOR(pg_catalog.->) 'fields') f \
         WHERE f OPERATOR(pg_catalog.->>) 'type' OPERATOR(pg_catalog.=) $1 ORDER BY 1",
        &[name.into()],
        texts,
    )
}

/// The error for a change to a type that fields use.
fn in_use(name: &str, what: &str, fields: &[String]) -> CotError {
    CotError::new(
        ErrorKind::DependentObjects,
        format!("field type {name} is used by {} field(s), so its checks cannot {what}", fields.len()),
    )
    .detail(format!("fields of type {name}: {}", fields.join(", ")))
    .hint("change those fields to another type first (cot.alter_entity), or register the changed checks under a new name")
}

fn stored(name: &str) -> Option<FieldTypeDef> {
    query(
        "SELECT definition FROM cot.field_types WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE",
        &[name.into()],
        first::<JsonB>,
    )
    .and_then(|j| serde_json::from_value(j.0).ok())
}

/// Registers a custom field type, or changes one: its checks only while no
/// field uses it. Returns the stored definition.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn register_field_type(definition: JsonbText) -> JsonB {
    require_platform("register field types");
    let def = definition
        .parse("field type", MAX_TYPE_BYTES)
        .unwrap_or_else(|e| raise(e));
    let t = cot_engine::validate::field_type(&def, &crate::environment::Server)
        .unwrap_or_else(|v| raise_violations("field type", &v));
    // Waits for transactions that validated a definition with the old row.
    match stored(&t.name) {
        Some(old) if old == t => {}
        Some(old) => {
            if old.base != t.base || old.checks != t.checks {
                let fields = used_by(&t.name);
                if !fields.is_empty() {
                    raise(in_use(&t.name, "change", &fields));
                }
            }
            query(
                "UPDATE cot.field_types SET definition = $2, updated_at = pg_catalog.now() \
                 WHERE name OPERATOR(pg_catalog.=) $1",
                &[t.name.as_str().into(), JsonB(t.to_json()).into()],
                |_| Ok(()),
            );
        }
        None => insert_new(&t),
    }
    forget();
    JsonB(t.to_json())
}

/// Registers the field types a module carries, for `cot.publish_module`
/// (whose caller is already checked to be the platform): each type not yet
/// registered is registered; one registered with the same base and checks is
/// left as it is (its description and examples too); one registered with
/// another base or checks is refused (`42710`), so a module never changes
/// what fields of the type hold. Returns the names it registered.
pub(crate) fn register_carried(module: &str, types: &[Value]) -> Vec<String> {
    let mut defs = Vec::new();
    let mut problems = Vec::new();
    for (i, def) in types.iter().enumerate() {
        match cot_engine::validate::field_type(def, &crate::environment::Server) {
            Ok(t) => defs.push(t),
            Err(vs) => problems.extend(
                vs.into_iter()
                    .map(|v| cot_engine::group::prefixed(&format!("/field_types/{i}"), v)),
            ),
        }
    }
    if !problems.is_empty() {
        raise_violations("module", &problems);
    }
    let mut registered = Vec::new();
    for t in defs {
        match stored(&t.name) {
            Some(old) if old.base == t.base && old.checks == t.checks => {}
            Some(old) => raise(
                CotError::new(
                    ErrorKind::DuplicateObject,
                    format!(
                        "module {module} carries field type {}, which is already registered with {}",
                        t.name,
                        if old.base != t.base {
                            "a different base"
                        } else {
                            "different checks"
                        }
                    ),
                )
                .detail(format!(
                    "registered: {}; in the module: {}",
                    old.to_json(),
                    t.to_json()
                ))
                .hint("give the module's type another name, or carry the registered definition"),
            ),
            None => {
                insert_new(&t);
                registered.push(t.name);
            }
        }
    }
    forget();
    registered
}

/// Stores a type not registered yet, within the registry's limit.
fn insert_new(t: &FieldTypeDef) {
    let count: i64 = query("SELECT pg_catalog.count(*) FROM cot.field_types", &[], first).unwrap_or(0);
    if count >= MAX_FIELD_TYPES as i64 {
        raise(error(
            ErrorKind::ProgramLimit,
            format!("at most {MAX_FIELD_TYPES} field types can be registered"),
            "unregister types no field uses (cot.unregister_field_type)",
        ));
    }
    query(
        "INSERT INTO cot.field_types (name, definition, registered_by) VALUES ($1, $2, CURRENT_USER)",
        &[t.name.as_str().into(), JsonB(t.to_json()).into()],
        |_| Ok(()),
    );
}

/// Removes a custom field type no field uses; false if there was none.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn unregister_field_type(name: &str) -> bool {
    require_platform("unregister field types");
    if stored(name).is_none() {
        return false;
    }
    let fields = used_by(name);
    if !fields.is_empty() {
        raise(in_use(name, "be removed", &fields));
    }
    query(
        "DELETE FROM cot.field_types WHERE name OPERATOR(pg_catalog.=) $1",
        &[name.into()],
        |_| Ok(()),
    );
    forget();
    true
}

/// Every registered type, by name. The platform role and superusers also
/// see which fields use each (`used_by`); others, who may not learn other
/// tenants' entity names, see the definitions only.
#[pg_extern(security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn field_types() -> JsonB {
    let platform = crate::catalog::roles::is_superuser()
        || crate::catalog::roles::is_member_of(cot_engine::names::platform_role().as_str());
    let types = query(
        "SELECT definition FROM cot.field_types ORDER BY name",
        &[],
        jsonb_rows,
    );
    JsonB(Value::Array(
        types
            .into_iter()
            .map(|mut d| {
                if platform {
                    let name = d["name"].as_str().unwrap_or_default().to_string();
                    d["used_by"] = used_by(&name).into();
                }
                d
            })
            .collect(),
    ))
}
