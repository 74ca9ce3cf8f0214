//! Writing the change log: `cot.change_begin(tenant)`, called once per
//! statement by the history triggers' function (src/change_writer.rs) and by
//! a workflow's trigger for each transition (docs/changes.md). It does in
//! one call what the statement needs before its rows are logged: the
//! transaction's lock for the readers' watermark, the wake-up for consumers,
//! and the actor. As separate SQL statements in the trigger these cost about
//! 20 µs of a 70 µs single-row write (bench/history.sh).

use pgrx::prelude::*;
use pgrx::{pg_sys, IntoDatum, JsonB};
use serde_json::{Map, Value};
use std::ffi::CStr;

/// Before a transaction's first change: a shared advisory lock keyed by a
/// fresh value of `cot.change_seq`, held to the transaction's end; the
/// watermark of `cot.changes` stays below the smallest key held. Then
/// `pg_notify('cot_changes', tenant)` when wanted (src/change_wakeups.rs;
/// PostgreSQL sends it once per transaction, at commit). Returns the actor:
/// `{"sub", "role", "key"}`, the JWT's `sub`, the role that wrote (the login
/// role when none is set), the API key prefix, each only when present.
#[pg_extern(volatile, parallel_unsafe)]
fn change_begin(tenant: &str) -> JsonB {
    lock_and_notify(tenant);
    JsonB(Value::Object(actor()))
}

/// What `cot.change_begin` does, for Cot's writers: the actor as a jsonb
/// datum of the current memory context, built directly (its text parsed
/// by `jsonb_in` was about 1% of a single-row insert with history), and the
/// lock's key when the lock was taken now (see [`lock_transaction`]).
pub(crate) fn begin(tenant: &str) -> (pg_sys::Datum, Option<i64>) {
    let key = lock_and_notify(tenant);
    let actor = actor();
    // SAFETY: a jsonb object pushed key by key; the strings outlive the
    // call to JsonbValueToJsonb, which copies them.
    unsafe {
        use pg_sys::JsonbIteratorToken as Tok;
        let mut state: *mut pg_sys::JsonbParseState = std::ptr::null_mut();
        pg_sys::pushJsonbValue(&mut state, Tok::WJB_BEGIN_OBJECT, std::ptr::null_mut());
        for (k, v) in &actor {
            let Value::String(v) = v else { continue };
            for (token, text) in [(Tok::WJB_KEY, k.as_str()), (Tok::WJB_VALUE, v.as_str())] {
                let mut j: pg_sys::JsonbValue = std::mem::zeroed();
                j.type_ = pg_sys::jbvType::jbvString;
                j.val.string.val = text.as_ptr() as *mut _;
                j.val.string.len = text.len() as i32;
                pg_sys::pushJsonbValue(&mut state, token, &mut j);
            }
        }
        let root = pg_sys::pushJsonbValue(&mut state, Tok::WJB_END_OBJECT, std::ptr::null_mut());
        (pg_sys::Datum::from(pg_sys::JsonbValueToJsonb(root)), key)
    }
}

/// The transaction's lock, then the wake-up for consumers; the lock's key
/// when it was taken now.
fn lock_and_notify(tenant: &str) -> Option<i64> {
    let key = lock_transaction();
    if !crate::change_wakeups::wanted() {
        return key;
    }
    // SAFETY: pg_notify takes two text arguments; neither is NULL.
    unsafe {
        pgrx::direct_function_call_as_datum(
            pg_sys::pg_notify,
            &["cot_changes".into_datum(), tenant.into_datum()],
        );
    }
    key
}

/// Records a workflow transition in tenant `tenant`'s change log: what the
/// entity's workflow trigger (engine/src/ddl/workflow.rs) calls for each
/// transition, as a PL/pgSQL assignment, which evaluates the call without
/// starting an executor. Takes the transaction's lock and returns the
/// entry's id, taken after it. EXECUTE is revoked from PUBLIC: the
/// triggers' functions are SECURITY DEFINER, owned by the extension's owner.
#[pg_extern(volatile, parallel_unsafe)]
fn log_transition(
    tenant: &str,
    entity: &str,
    record_id: pgrx::Uuid,
    old: crate::raw_jsonb::RawJsonb,
    new: crate::raw_jsonb::RawJsonb,
    transition: crate::raw_jsonb::RawJsonb,
) -> i64 {
    let log = crate::change_append::Log::open(tenant);
    let (actor, key) = begin(&log.slug);
    let id = record_id.as_bytes().as_ptr() as *mut u8;
    let id = log.append(
        &crate::change_append::Entry {
            entity,
            op: "transition",
            record_ids: &[Some(pg_sys::Datum::from(id))],
            old: Some(&[old.into_datum()]),
            new: Some(&[new.into_datum()]),
            actor,
            transition: transition.into_datum(),
        },
        key,
    );
    log.close();
    id
}

thread_local! {
    /// The transaction (full xid) that took a lock last, and the lock's key.
    static LOCKED: std::cell::Cell<(u64, i64)> = const { std::cell::Cell::new((0, 0)) };
}

/// The advisory lock keyed by `key` (bigint), as `pg_advisory_xact_lock_shared`
/// makes its tag (so `cot.changes` finds it in `pg_locks`).
fn lock_tag(key: i64) -> pg_sys::LOCKTAG {
    pg_sys::LOCKTAG {
        // SAFETY: a backend global, set once the session is connected.
        locktag_field1: unsafe { pg_sys::MyDatabaseId }.to_u32(),
        locktag_field2: (key >> 32) as u32,
        locktag_field3: key as u32,
        locktag_field4: 1,
        locktag_type: pg_sys::LockTagType::LOCKTAG_ADVISORY as u8,
        locktag_lockmethodid: pg_sys::USER_LOCKMETHOD as u8,
    }
}

/// Takes the transaction's lock unless this transaction already holds it,
/// and returns its key when it was taken now: a value of the sequence no
/// change has, which the caller's first entry may take as its id. A lock
/// taken in a subtransaction that rolled back is gone with it, so it is
/// asked of the lock manager, not only remembered.
fn lock_transaction() -> Option<i64> {
    // SAFETY: plain calls into this backend's transaction state and its
    // local lock table.
    let xid = unsafe { pg_sys::GetTopFullTransactionId() }.value;
    let (locked_xid, key) = LOCKED.with(std::cell::Cell::get);
    if locked_xid == xid && unsafe { pg_sys::LockHeldByMe(&lock_tag(key), pg_sys::ShareLock as i32) } {
        return None;
    }
    let seq = crate::change_log_shape::sequence();
    // SAFETY: nextval on the extension's sequence (the caller runs as its
    // owner); then the lock taken as pg_advisory_xact_lock_shared takes it.
    let key: i64 = unsafe {
        let key =
            pgrx::direct_function_call::<i64>(pg_sys::nextval_oid, &[seq.into_datum()]).unwrap_or_default();
        pg_sys::LockAcquire(&lock_tag(key), pg_sys::ShareLock as i32, false, false);
        key
    };
    LOCKED.with(|l| l.set((xid, key)));
    Some(key)
}

/// Who is writing: the claims of the request, and the role.
fn actor() -> Map<String, Value> {
    let mut actor = Map::new();
    if let Some(sub) = crate::claims::claim("sub") {
        actor.insert("sub".into(), Value::String(sub));
    }
    // SAFETY: GetConfigOption returns NULL or a NUL-terminated string owned by
    // the GUC machinery; GetUserNameFromId with noerr = true returns NULL or a
    // palloc'd name.
    let role = unsafe {
        let p = pg_sys::GetConfigOption(c"role".as_ptr(), true, false);
        let set = if p.is_null() {
            None
        } else {
            CStr::from_ptr(p).to_str().ok()
        };
        match set {
            Some(r) if r != "none" && !r.is_empty() => Some(r.to_owned()),
            _ => {
                let p = pg_sys::GetUserNameFromId(pg_sys::GetSessionUserId(), true);
                (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
            }
        }
    };
    if let Some(role) = role {
        actor.insert("role".into(), Value::String(role));
    }
    if let Some(key) = crate::claims::claim("key") {
        actor.insert("key".into(), Value::String(key));
    }
    actor
}
