//! Cot as a Postgres extension: the thin layer between SQL and the engine.
//! Each `#[pg_extern]` parses its arguments, calls `cot_engine`, runs the
//! rendered SQL through SPI and maps errors to SQLSTATEs. Decisions live in the
//! engine crate, which has no pgrx in it.

use pgrx::prelude::*;

mod api_groups;
mod bundles;
mod catalog;
mod change_append;
mod change_jsonb;
mod change_log;
mod change_log_shape;
mod change_wakeups;
mod change_writer;
mod changes;
mod claims;
mod drift;
mod entity;
mod environment;
mod execute;
mod field_types;
mod generated_docs;
mod jsonb_arg;
mod modules;
mod permissions;
mod plan_cache;
mod platform;
mod postgrest;
mod query;
mod query_page;
mod raise;
mod raw_jsonb;
mod settings;
mod spi;
mod tenants;
mod upgrade;
mod uuid7;
mod webhooks;
mod workflows;

::pgrx::pg_module_magic!(name, version);

pgrx::extension_sql_file!("../sql/bootstrap.sql", name = "bootstrap", bootstrap);
pgrx::extension_sql_file!("../sql/finalize.sql", name = "finalize", finalize);
pgrx::extension_sql_file!("../sql/changes.sql", name = "changes", requires = ["bootstrap"]);
pgrx::extension_sql_file!(
    "../sql/pre_request.sql",
    name = "pre_request",
    requires = ["bootstrap"]
);
pgrx::extension_sql_file!(
    "../sql/workflows.sql",
    name = "workflows",
    requires = ["bootstrap", workflows::transition_target]
);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    // pgrx captures a Rust backtrace for every error that passes through a
    // Cot function and puts it into DETAIL when RUST_BACKTRACE is set in the
    // server's environment; PostgREST forwards DETAIL to clients. Internals
    // never go to clients: RUST_LIB_BACKTRACE=0 turns capturing off for this
    // backend, whatever RUST_BACKTRACE says (it is read before any capture).
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    settings::register();
    query::register_invalidation();
    change_log_shape::register_invalidation();
    change_wakeups::init();
    webhooks::register();
}
