//! Whether a transaction that writes to a change log sends its wake-up,
//! `NOTIFY cot_changes, '<slug>'` (docs/changes.md), and the sessions that
//! ask for it: `cot.listen_changes()` and `cot.unlisten_changes()`.
//!
//! PostgreSQL commits notifying transactions one at a time (a cluster-wide
//! lock from before the commit record until it is flushed): with durable
//! commits and 8 writers, history writes ran at 0.45 of plain ones with a
//! `NOTIFY` each and at 0.84 without (bench/history.sh, docs/benchmarks.md).
//! So a wake-up is sent only while somebody waits for one. When `cot` is in
//! `shared_preload_libraries`, a counter in shared memory holds the sessions
//! that called `cot.listen_changes()` (each counted once, until it calls
//! `cot.unlisten_changes()` or ends); writers notify while it is above zero.
//! Without the preload there is no counter and writers always notify, as a
//! plain `LISTEN cot_changes` expects. `cot.change_notify = off` turns the
//! wake-ups off in either case.
//!
//! A listener that registers after a writer decided not to notify misses
//! nothing: it reads from its cursor once registered, and the log has every
//! change.

use pgrx::prelude::*;
use pgrx::{pg_shmem_init, PgAtomic};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Sessions of the cluster that asked for wake-ups.
static LISTENERS: PgAtomic<AtomicU32> = unsafe { PgAtomic::new(c"cot_change_listeners") };

/// Set in the postmaster when it loads the library from
/// `shared_preload_libraries` (so the counter exists); every backend it
/// forks inherits it.
static PRELOADED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Is this session counted?
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

/// Requests the counter's shared memory (when the library is preloaded).
// pgrx's macro tests the features of other PostgreSQL versions.
#[allow(unexpected_cfgs)]
pub fn init() {
    // SAFETY: a backend global, read while the library loads.
    if unsafe { pg_sys::process_shared_preload_libraries_in_progress } {
        pg_shmem_init!(LISTENERS);
        PRELOADED.store(true, Ordering::Relaxed);
    }
}

/// Should a transaction that writes to a change log send its wake-up?
pub(crate) fn wanted() -> bool {
    if !crate::settings::CHANGE_NOTIFY.get() {
        return false;
    }
    !PRELOADED.load(Ordering::Relaxed) || LISTENERS.get().load(Ordering::Relaxed) > 0
}

/// `LISTEN cot_changes` for this session, counted so that writers send
/// wake-ups while it lasts (until `cot.unlisten_changes()` or the session's
/// end). Returns whether writers are counting listeners (`cot` preloaded);
/// when false, they notify anyway.
#[pg_extern(volatile, parallel_unsafe)]
fn listen_changes() -> bool {
    Spi::run("LISTEN cot_changes").unwrap_or_else(|e| pgrx::error!("LISTEN cot_changes: {e}"));
    if !PRELOADED.load(Ordering::Relaxed) {
        return false;
    }
    if !COUNTED.with(Cell::get) {
        LISTENERS.get().fetch_add(1, Ordering::Relaxed);
        COUNTED.with(|c| c.set(true));
        // SAFETY: registering an exit callback of this backend; it only
        // touches the counter and this session's flag.
        unsafe { pg_sys::before_shmem_exit(Some(forget_at_exit), pg_sys::Datum::from(0)) };
    }
    true
}

/// `UNLISTEN cot_changes`, and this session no longer counted.
#[pg_extern(volatile, parallel_unsafe)]
fn unlisten_changes() {
    Spi::run("UNLISTEN cot_changes").unwrap_or_else(|e| pgrx::error!("UNLISTEN cot_changes: {e}"));
    forget();
}

fn forget() {
    if COUNTED.with(|c| c.replace(false)) {
        LISTENERS.get().fetch_sub(1, Ordering::Relaxed);
    }
}

unsafe extern "C-unwind" fn forget_at_exit(_code: std::ffi::c_int, _arg: pg_sys::Datum) {
    forget();
}
