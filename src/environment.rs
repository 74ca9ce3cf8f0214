//! What the engine's validation needs from the server: the reserved words of
//! this Postgres, and its regular-expression engine (a pattern is checked by the
//! engine that will enforce it, not by a look-alike).

use crate::catalog::system;
use cot_engine::names::Keywords;
use cot_engine::validate::Environment;
use pgrx::prelude::*;
use pgrx::{pg_sys, PgTryBuilder};
use std::sync::OnceLock;

/// The server as the engine sees it.
pub struct Server;

impl Environment for Server {
    fn keywords(&self) -> &Keywords {
        static KEYWORDS: OnceLock<Keywords> = OnceLock::new();
        // Asked once per backend: the list only changes with the server binary.
        KEYWORDS.get_or_init(|| Keywords::new(system::reserved_keywords()))
    }

    fn field_types(&self) -> std::sync::Arc<cot_engine::field_types::FieldTypes> {
        crate::field_types::registry()
    }

    fn check_regex(&self, pattern: &str) -> Result<(), String> {
        self.regex_matches(pattern, "").map(|_| ())
    }

    fn regex_matches(&self, pattern: &str, text: &str) -> Result<bool, String> {
        let (pattern, text) = (pattern.to_string(), text.to_string());
        in_subtransaction(move || {
            Spi::get_one_with_args::<bool>(
                "SELECT $1 OPERATOR(pg_catalog.~) $2",
                &[text.into(), pattern.into()],
            )
            .ok()
            .flatten()
            .unwrap_or(false)
        })
    }
}

/// Runs `f` in a subtransaction and turns a Postgres ERROR inside it into
/// `Err(message)`, rolling the subtransaction back the way PL/pgSQL's
/// EXCEPTION blocks do, so the caller's transaction stays usable.
fn in_subtransaction<R>(f: impl FnOnce() -> R + std::panic::UnwindSafe) -> Result<R, String> {
    // SAFETY: the same sequence PL/pgSQL runs around a block with an EXCEPTION
    // clause: remember the memory context and resource owner, begin, and on
    // either outcome release or roll back and restore both.
    unsafe {
        let cxt = pg_sys::CurrentMemoryContext;
        let owner = pg_sys::CurrentResourceOwner;
        pg_sys::BeginInternalSubTransaction(std::ptr::null());
        pg_sys::MemoryContextSwitchTo(cxt);
        PgTryBuilder::new(move || {
            let r = f();
            pg_sys::ReleaseCurrentSubTransaction();
            pg_sys::MemoryContextSwitchTo(cxt);
            pg_sys::CurrentResourceOwner = owner;
            Ok(r)
        })
        .catch_others(move |e| {
            pg_sys::MemoryContextSwitchTo(cxt);
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
            pg_sys::MemoryContextSwitchTo(cxt);
            pg_sys::CurrentResourceOwner = owner;
            Err(match e {
                pgrx::pg_sys::panic::CaughtError::PostgresError(r)
                | pgrx::pg_sys::panic::CaughtError::ErrorReport(r) => r.message().to_string(),
                pgrx::pg_sys::panic::CaughtError::RustPanic { ereport, .. } => ereport.message().to_string(),
            })
        })
        .execute()
    }
}
