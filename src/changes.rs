//! Reading the change log: `cot.changes` (every change of a tenant, in order,
//! from a cursor), `cot.history` (every version of one record), and its
//! retention (`cot.set_history_retention`, `cot.prune_history`). The log is
//! written by the history triggers' `cot.log_changes()` (src/change_writer.rs,
//! engine/src/ddl/history.rs) and workflows' triggers; what is guaranteed is in
//! docs/changes.md.

use crate::catalog::roles;
use crate::entity::{definable_tenant, tenant_names};
use crate::permissions::may_define;
use crate::raise::{error, raise};
use crate::spi::{first, pg_uuid, query, spi};
use cot_engine::error::ErrorKind;
use cot_engine::names::{check_name, fixed, shown, Keywords, NameKind, TenantNames};
use cot_engine::plan::history::{BLOCK, CHANGE_LOG};
use cot_engine::sql::{quote_ident, quote_qualified};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Map, Value};

/// Most changes one call returns.
const MAX_PAGE: i32 = 10_000;

/// Does the tenant's change log exist yet (it is made with the first entity
/// that has history)?
fn has_log(t: &TenantNames) -> bool {
    query(
        "SELECT to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL",
        &[t.storage_schema.as_str().into(), CHANGE_LOG.into()],
        first::<bool>,
    )
    .unwrap_or(false)
}

/// The highest change id below which every change is final: committed or
/// rolled back. The sequence is read first, then the advisory locks writers
/// hold from before their first change (keyed by a value of the sequence):
/// a writer not yet holding its lock when the locks are read takes its ids
/// after the sequence was read. The sequence hands out blocks of [`BLOCK`]
/// ids (a log row's changes): the last block given out ends `BLOCK - 1`
/// after the sequence's value, and one a lock's key starts just after the
/// blocks before it. The watermark is always the end of a block.
fn watermark() -> i64 {
    let last = query(
        "SELECT CASE WHEN is_called THEN last_value + $1 - 1 ELSE 0 END FROM cot.change_seq",
        &[BLOCK.into()],
        first::<i64>,
    )
    .unwrap_or(0);
    let pending = query(
        "SELECT min((l.classid::text::bigint << 32) | l.objid::text::bigint) \
           FROM pg_catalog.pg_locks l \
          WHERE l.locktype = 'advisory' AND l.objsubid = 1 \
            AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())",
        &[],
        first::<i64>,
    );
    match pending {
        Some(key) => last.min(key - 1),
        None => last,
    }
}

/// A transaction snapshot taken before the watermark would hide changes the
/// watermark calls final.
fn require_read_committed() {
    let level = query(
        "SELECT current_setting('transaction_isolation')",
        &[],
        first::<String>,
    );
    if level.as_deref() != Some("read committed") {
        raise(error(
            ErrorKind::NotInPrerequisiteState,
            "cot.changes reads in READ COMMITTED transactions only",
            "a snapshot taken at the start of the transaction would hide changes committed since: use the default isolation level",
        ));
    }
}

/// The changes of `tenant` with ids above `after`, in id order, at most `max`
/// (1..10,000), and the cursor to pass next: `{"changes": [...], "next": n}`.
/// Only changes below the watermark are returned, so a consumer that passes
/// `next` back never skips one. For superusers and the tenant's admins.
#[pg_extern(security_definer, volatile)]
#[search_path(pg_catalog, pg_temp)]
fn changes(tenant: &str, after: default!(i64, 0), max: default!(i32, 100)) -> JsonB {
    let t = tenant_names(&definable_tenant(tenant));
    if !(1..=MAX_PAGE).contains(&max) {
        raise(error(
            ErrorKind::InvalidParameter,
            format!("max must be between 1 and {MAX_PAGE}"),
            "read further pages with the returned next",
        ));
    }
    require_read_committed();
    if !has_log(&t) {
        return JsonB(json!({"changes": [], "next": after}));
    }
    let safe = watermark();
    // A fresh snapshot, taken after the watermark was read.
    // A log row holds a statement's changes (at most BLOCK), ids `id` on:
    // the rows that may hold ids after `after` start less than BLOCK before.
    // A row is final as a whole (the watermark ends a block).
    let sql = format!(
        "SELECT coalesce(jsonb_agg(CASE WHEN c.op = 'transition' THEN to_jsonb(c) ELSE to_jsonb(c) - 'transition' END \
                 ORDER BY c.id), '[]'), count(*)::int, max(c.id) FROM ( \
           SELECT l.id + e.i - 1 AS id, l.xid::text AS xid, l.at, l.entity, e.record_id, l.op, e.old, e.new, \
                  l.actor, l.transition \
             FROM {} AS l CROSS JOIN LATERAL ROWS FROM (unnest(l.record_ids), unnest(l.old), unnest(l.new)) \
                  WITH ORDINALITY AS e(record_id, old, new, i) \
            WHERE l.id > $1 - {} AND l.id <= $2 AND l.id + e.i - 1 > $1 ORDER BY l.id, e.i LIMIT $3) AS c",
        quote_qualified(&t.storage_schema, &fixed(CHANGE_LOG)),
        BLOCK - 1
    );
    let (rows, n, last) = spi(Spi::connect_mut(|client| {
        let table = client.update(sql.as_str(), None, &[after.into(), safe.into(), max.into()])?;
        let row = table.first();
        Ok::<_, pgrx::spi::Error>((
            row.get::<JsonB>(1)?.map_or(json!([]), |j| j.0),
            row.get::<i32>(2)?.unwrap_or(0),
            row.get::<i64>(3)?,
        ))
    }));
    // A full page may have more behind it; otherwise everything up to the
    // watermark has been seen (other tenants' and rolled-back ids included).
    let next = if n == max {
        last.unwrap_or(after)
    } else {
        safe.max(after)
    };
    JsonB(json!({"changes": rows, "next": next}))
}

/// Every version of record `id` of `entity` in `tenant`, oldest first: the
/// change (`op`, `at`, `actor`, the changed fields' `old` and `new` values)
/// and the record as it was after it (`record`, null after a delete). For
/// superusers and the tenant's admins, and for the tenant's other roles while
/// they may read the record through the API view; the same answer (an empty
/// list) for a record that does not exist and one the caller may not read.
#[pg_extern(security_definer, volatile)]
#[search_path(pg_catalog, pg_temp)]
fn history(tenant: &str, entity: &str, id: pgrx::Uuid) -> JsonB {
    let admin = may_define(tenant);
    let Some(row) = crate::catalog::meta::tenant(tenant)
        .filter(|_| admin || roles::may_use_schema(tenant, roles::caller()))
    else {
        raise(error(
            ErrorKind::InsufficientPrivilege,
            format!(
                "permission denied to read the history of tenant {}",
                shown(tenant)
            ),
            "history is read by the tenant's roles and superusers",
        ));
    };
    let t = tenant_names(&row);
    let name = check_name(NameKind::Entity, entity, "/entity", &Keywords::default())
        .unwrap_or_else(|v| raise(cot_engine::error::CotError::from_violations("entity", &[v])));
    if crate::catalog::meta::entity(row.id, name.as_str()).is_none() {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("entity {} does not exist in tenant \"{tenant}\"", shown(entity)),
            "cot.entities(tenant) lists them",
        ));
    }
    if !has_log(&t) || (!admin && !readable_as_caller(&t, &name, id)) {
        return JsonB(json!([]));
    }
    // The rows naming the record (GIN index on record_ids), and its places in
    // each (a junction's statement may name a record more than once).
    let sql = format!(
        "SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object('transition', l.transition)) || \
                jsonb_build_object('change_id', l.id + p.p - 1, 'at', l.at, 'op', l.op, 'actor', l.actor, \
                'old', l.old[p.p], 'new', l.new[p.p]) ORDER BY l.id, p.p), '[]') \
           FROM {} AS l CROSS JOIN LATERAL unnest(array_positions(l.record_ids, $2)) AS p(p) \
          WHERE l.entity = $1 AND l.record_ids @> ARRAY[$2]",
        quote_qualified(&t.storage_schema, &fixed(CHANGE_LOG))
    );
    let changes = spi(Spi::connect_mut(|client| {
        let table = client.update(sql.as_str(), None, &[name.as_str().into(), id.into()])?;
        Ok::<_, pgrx::spi::Error>(table.first().get::<JsonB>(1)?.map_or(json!([]), |j| j.0))
    }));
    JsonB(Value::Array(versions(changes)))
}

/// Each change with the record as it was after it.
fn versions(changes: Value) -> Vec<Value> {
    let mut record: Option<Map<String, Value>> = None;
    let mut out = Vec::new();
    for (i, mut change) in changes
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        match change["op"].as_str() {
            Some("insert") => record = change["new"].as_object().cloned(),
            // A transition's new value is the state it led to.
            Some("update") | Some("transition") => {
                let state = record.get_or_insert_with(Map::new);
                for (k, v) in change["new"].as_object().cloned().unwrap_or_default() {
                    state.insert(k, v);
                }
            }
            _ => record = None,
        }
        change["version"] = json!(i + 1);
        change["record"] = record.clone().map_or(Value::Null, Value::Object);
        out.push(change);
    }
    out
}

/// May the calling role read record `id` through the entity's API view? Asked
/// as that role (Cot's functions run as the extension's owner), so grants and
/// row security answer as they would over the API.
fn readable_as_caller(t: &TenantNames, entity: &cot_engine::names::Ident, id: pgrx::Uuid) -> bool {
    // Without SELECT on the view the query below would raise, not answer.
    let granted = query(
        "SELECT has_table_privilege($1, format('%I.%I', $2::text, $3::text), 'SELECT')",
        &[
            roles::caller().into(),
            t.api_schema.as_str().into(),
            entity.as_str().into(),
        ],
        first::<bool>,
    )
    .unwrap_or(false);
    if !granted {
        return false;
    }
    let sql = format!(
        "SELECT EXISTS (SELECT FROM {}.{} WHERE id = $1)",
        quote_ident(&t.api_schema),
        quote_ident(entity)
    );
    let (mut saved, mut context) = (pg_sys::Oid::INVALID, 0i32);
    // SAFETY: the caller's id and the saved context are restored right after
    // the query; an error in between aborts the (sub)transaction, which
    // restores them too.
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut saved, &mut context);
        pg_sys::SetUserIdAndSecContext(
            roles::caller(),
            context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32,
        );
    }
    let readable = Spi::connect_mut(|client| {
        let table = client.update(sql.as_str(), None, &[id.into()])?;
        table.first().get::<bool>(1)
    });
    unsafe { pg_sys::SetUserIdAndSecContext(saved, context) };
    // No privilege on the view: not readable.
    readable.ok().flatten().unwrap_or(false)
}

/// Keeps the changes of `tenant` for `retention` (NULL: forever, the default);
/// `cot.prune_history` removes older ones. For superusers and the tenant's
/// admins.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn set_history_retention(tenant: Option<&str>, retention: Option<pgrx::datum::Interval>) -> JsonB {
    // Not STRICT (a NULL retention keeps history for good): a NULL tenant is
    // refused here, not by pgrx with XX000.
    let Some(tenant) = tenant else {
        raise(error(
            ErrorKind::InvalidParameter,
            "tenant must not be NULL",
            "cot.set_history_retention(tenant, retention): retention NULL keeps every version",
        ));
    };
    let t = definable_tenant(tenant);
    let text = retention.map(|r| r.to_string());
    query(
        "UPDATE cot.tenants SET settings = CASE WHEN $2::interval IS NULL THEN settings - 'history_retention' \
              ELSE jsonb_set(settings, '{history_retention}', to_jsonb($2::interval::text)) END \
          WHERE id = $1 RETURNING settings",
        &[pg_uuid(t.id).into(), text.into()],
        first::<JsonB>,
    )
    .map_or(JsonB(json!({})), |s| s)
}

/// Removes changes older than their tenant's retention, at most `batch` per
/// tenant (`tenant` NULL: every tenant), oldest first, and returns how many;
/// never one that a webhook of the tenant has not read yet.
/// Each call is short and takes only row locks: call it again (from cron, or
/// a loop) until it returns 0. Superusers only.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn prune_history(tenant: default!(Option<&str>, "NULL"), batch: default!(Option<i32>, 10_000)) -> i64 {
    crate::permissions::require_superuser(
        "prune history",
        "cot.prune_history is run by a superuser (or its cron)",
    );
    let Some(batch) = batch else {
        raise(error(
            ErrorKind::InvalidParameter,
            "batch must not be NULL",
            "cot.prune_history(tenant, batch): batch is the most log rows deleted per statement",
        ));
    };
    let tenants: Vec<(String, String)> = query(
        "SELECT slug, settings->>'history_retention' FROM cot.tenants \
          WHERE settings ? 'history_retention' AND ($1::text IS NULL OR slug = $1) ORDER BY slug",
        &[tenant.into()],
        |t| {
            t.map(|r| {
                Ok((
                    r.get::<String>(1)?.unwrap_or_default(),
                    r.get::<String>(2)?.unwrap_or_default(),
                ))
            })
            .collect()
        },
    );
    let mut removed = 0i64;
    for (slug, keep) in tenants {
        let Ok(names) = cot_engine::stored::tenant_names(&slug) else {
            continue;
        };
        if !has_log(&names) {
            continue;
        }
        let log = quote_qualified(&names.storage_schema, &fixed(CHANGE_LOG));
        let read_by_webhooks = webhooks_read_up_to(&slug);
        // By id, oldest first: old changes have the lowest ids, so the scan
        // stops at the first batch without an index on `at`. A log row (one
        // statement's changes) goes as a whole, when a webhook has read all of
        // it; `batch` counts rows, the answer changes.
        let sql = format!(
            "WITH gone AS (DELETE FROM {log} WHERE id IN (SELECT id FROM {log} WHERE at < now() - $1::interval \
             AND ($3::bigint IS NULL OR id + cardinality(record_ids) - 1 <= $3) ORDER BY id LIMIT $2) \
             RETURNING cardinality(record_ids) AS n) SELECT coalesce(sum(n), 0)::bigint FROM gone"
        );
        removed += spi(Spi::connect_mut(|client| {
            let table = client.update(
                sql.as_str(),
                None,
                &[keep.as_str().into(), batch.into(), read_by_webhooks.into()],
            )?;
            table.first().get::<i64>(1)
        }))
        .unwrap_or(0);
    }
    removed
}

/// The change id up to which every webhook of tenant `slug`, enabled or
/// not, has turned the change log into deliveries (its lowest cursor); None
/// when it has no webhook. Changes after it are kept whatever their age: a
/// paused webhook gets them when it is enabled again.
fn webhooks_read_up_to(slug: &str) -> Option<i64> {
    query(
        "SELECT min(w.position) FROM cot.webhooks AS w JOIN cot.tenants AS t ON t.id = w.tenant_id \
          WHERE t.slug = $1",
        &[slug.into()],
        first::<i64>,
    )
}

/// Moves `cot.change_seq` past every tenant's change log, so the next change
/// gets a higher id than any logged. For a database whose logs were copied
/// in (a tenant moved by logical replication, a restore of some tenants):
/// the sequence is one per database, and ids below what readers have seen
/// would be skipped by their cursors (docs/scale-out.md). Never moves it
/// back. Returns the sequence's last value.
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn sync_change_seq() -> i64 {
    crate::permissions::require_superuser(
        "move cot.change_seq",
        "a superuser runs it once the copied logs are in, before new changes are made",
    );
    let mut top: Option<i64> = None;
    for slug in crate::catalog::meta::tenant_slugs() {
        let Ok(names) = cot_engine::stored::tenant_names(&slug) else {
            continue;
        };
        if !has_log(&names) {
            continue;
        }
        let sql = format!(
            "SELECT max(id) FROM {}",
            quote_qualified(&names.storage_schema, &fixed(CHANGE_LOG))
        );
        let max = spi(Spi::connect_mut(|client| {
            client.update(sql.as_str(), None, &[])?.first().get::<i64>(1)
        }));
        top = top.max(max);
    }
    // A log row's first id is a value of the sequence and its changes follow
    // it (fewer than a block): the next value, a block on, is past them all.
    query(
        "SELECT CASE WHEN $1::bigint IS NULL OR $1 <= s.last_value AND s.is_called THEN s.last_value \
                ELSE pg_catalog.setval('cot.change_seq', greatest($1, s.last_value), true) END \
           FROM cot.change_seq AS s",
        &[top.into()],
        first::<i64>,
    )
    .unwrap_or_default()
}
