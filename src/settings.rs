//! Cot's configuration parameters (GUCs).

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

/// `cot.test_fail_after_step`: when > 0, a Cot function fails on purpose right
/// after its N-th statement (DDL or meta-table write). Tests use it to prove that
/// a failure at any step leaves nothing behind. Superuser only.
pub static FAIL_AFTER_STEP: GucSetting<i32> = GucSetting::<i32>::new(0);

/// `cot.test_pause_after_step`: when > 0, a Cot function waits right after its
/// N-th statement for the advisory lock [`PAUSE_LOCK`], which a test session
/// holds; the crash tests (`tests/reliability/`) find the backend waiting
/// there and kill it mid-call. Nobody holding the lock: no wait. Superuser only.
pub static PAUSE_AFTER_STEP: GucSetting<i32> = GucSetting::<i32>::new(0);

/// The advisory lock `cot.test_pause_after_step` waits for:
/// `pg_advisory_lock(4419444, 1)` (4419444 is "Cot", as for the tenant locks).
pub const PAUSE_LOCK: (i32, i32) = (4419444, 1);

/// `cot.lock_timeout`: milliseconds a schema change waits for a lock on a
/// table before it fails with `55P03`. A waiting ALTER queues every later
/// reader of the table behind it, so failing fast (and retrying) beats waiting.
pub static LOCK_TIMEOUT_MS: GucSetting<i32> = GucSetting::<i32>::new(500);

/// `cot.drift`: what happens to DDL on a tenant's schemas that does not come
/// from Cot: `refuse` (the default), `record` (in `cot.drift_log`) or `allow`.
pub static DRIFT: GucSetting<Option<std::ffi::CString>> =
    GucSetting::<Option<std::ffi::CString>>::new(Some(c"refuse"));

/// `cot.query_model_cache`: most tenant models (one per tenant and role) a
/// session keeps for `cot.query`, the least recently used dropped first. A
/// model of 10 entities holds about 70 KB; one missing costs the next
/// `cot.query` of its tenant about 1 ms to read and validate it again.
pub static QUERY_MODEL_CACHE: GucSetting<i32> = GucSetting::<i32>::new(100);

/// `cot.change_notify`: whether a transaction that writes to a change log
/// may send `NOTIFY cot_changes, '<slug>'` (src/change_wakeups.rs says when
/// it does). Off: no wake-ups at all; consumers find changes by polling.
pub static CHANGE_NOTIFY: GucSetting<bool> = GucSetting::<bool>::new(true);

/// Registers the parameters when the library loads.
pub fn register() {
    GucRegistry::define_int_guc(
        c"cot.test_fail_after_step",
        c"Fail on purpose after this many statements of a Cot function (0: never).",
        c"For tests of atomicity: every step of create_tenant, create_entity, drop_entity and drop_tenant can be made to fail.",
        &FAIL_AFTER_STEP,
        0,
        i32::MAX,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"cot.test_pause_after_step",
        c"Wait for pg_advisory_lock(4419444, 1) after this many statements of a Cot function (0: never).",
        c"For crash tests: a session holding that lock stops every Cot call at this step, so the backend can be killed mid-call.",
        &PAUSE_AFTER_STEP,
        0,
        i32::MAX,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"cot.lock_timeout",
        c"Milliseconds a Cot schema change waits for a table lock before failing with 55P03 (0: wait forever).",
        c"Applies to cot.alter_entity and cot.plan_entity unless their options say lock_timeout; locks are held until the caller commits.",
        &LOCK_TIMEOUT_MS,
        0,
        i32::MAX,
        GucContext::Userset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_int_guc(
        c"cot.query_model_cache",
        c"Most tenant models (per tenant and role) a session keeps for cot.query.",
        c"The least recently used is dropped first; a dropped one is read again when next needed.",
        &QUERY_MODEL_CACHE,
        1,
        100_000,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"cot.change_notify",
        c"Whether transactions that write to a change log send NOTIFY cot_changes.",
        c"Off: no wake-up for LISTEN cot_changes and cot-realtime, which then find changes by polling; notifying transactions commit one at a time.",
        &CHANGE_NOTIFY,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"cot.drift",
        c"DDL on Cot-managed schemas from outside Cot: refuse, record or allow.",
        c"refuse (default) raises 55000; record runs it and adds a row to cot.drift_log; allow runs it. Superuser only.",
        &DRIFT,
        GucContext::Suset,
        GucFlags::default(),
    );
}
