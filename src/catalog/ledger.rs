//! The ledger, `cot.migrations`: one row per change Cot makes, with the plan,
//! the statements, the definitions before and after, and who asked. Recording
//! a change also tells PostgREST and `cot.query`'s model caches about it.

use crate::catalog::roles::caller_name;
use crate::spi::{first, pg_uuid, query};
use pgrx::JsonB;
use serde_json::Value;

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
/// (NOTIFY is delivered at commit, so a rolled-back change sends nothing); a
/// new or dropped tenant changes the schemas it serves, which it reads again
/// on a configuration reload (`db-pre-config`). Only the instances of the
/// tenant's API group hear it: they listen on its channel
/// (`cot_engine::names::api_channel`), so a change in one group rebuilds no
/// other group's cache.
pub fn record_migration(m: Migration<'_>) {
    announce_model_change();
    let channel = crate::api_groups::tenant_channel(m.tenant_id);
    query(
        "WITH m AS (INSERT INTO cot.migrations (tenant_id, tenant, entity_id, entity, operation, plan, sql, \
           definition_before, definition_after, applied_by, claims) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $10) RETURNING id) \
         SELECT pg_catalog.pg_notify($12, 'reload config') FROM m WHERE $5 IN ('create_tenant', 'drop_tenant') \
         UNION ALL SELECT pg_catalog.pg_notify($12, 'reload schema') FROM m",
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
            channel.as_str().into(),
        ],
        |_| Ok(()),
    )
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
