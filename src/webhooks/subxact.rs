//! Running a step of the worker in a subtransaction, so that an error in
//! one tenant's step (a change log it cannot read) is logged and rolled
//! back alone instead of restarting the worker and stalling every tenant.

use pgrx::pg_sys;
use pgrx::pg_sys::panic::CaughtError;
use pgrx::PgTryBuilder;
use std::panic::AssertUnwindSafe;

/// Runs `f` in an internal subtransaction: committed when it returns, rolled
/// back when it raises; the error's message comes back.
pub fn run<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    // SAFETY: the sequence PL/pgSQL uses for an EXCEPTION block: begin a
    // subtransaction, keep working in the caller's memory context, and on
    // either path release or roll back the subtransaction and restore the
    // caller's memory context and resource owner. The caller is inside a
    // transaction (BackgroundWorker::transaction).
    unsafe {
        let context = pg_sys::CurrentMemoryContext;
        let owner = pg_sys::CurrentResourceOwner;
        pg_sys::BeginInternalSubTransaction(std::ptr::null());
        pg_sys::CurrentMemoryContext = context;
        let result = PgTryBuilder::new(AssertUnwindSafe(|| Ok(f())))
            .catch_others(|e: CaughtError| {
                Err(match e {
                    CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => r.message().to_string(),
                    CaughtError::RustPanic { ereport, .. } => ereport.message().to_string(),
                })
            })
            .execute();
        if result.is_ok() {
            pg_sys::ReleaseCurrentSubTransaction();
        } else {
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
        }
        pg_sys::CurrentMemoryContext = context;
        pg_sys::CurrentResourceOwner = owner;
        result
    }
}
