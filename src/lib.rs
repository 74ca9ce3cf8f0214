//! Cot as a Postgres extension: the thin layer between SQL and the engine.
//! Each `#[pg_extern]` parses its arguments, calls `cot_engine`, runs the
//! rendered SQL through SPI and maps errors to SQLSTATEs. Decisions live in the
//! engine crate, which has no pgrx in it.

use pgrx::prelude::*;

mod bundles;
mod catalog;
mod claims;
mod drift;
mod entity;
mod environment;
mod execute;
mod generated_docs;
mod jsonb_arg;
mod permissions;
mod plan_cache;
mod postgrest;
mod query;
mod query_page;
mod raise;
mod raw_jsonb;
mod settings;
mod spi;
mod tenants;
mod uuid7;

::pgrx::pg_module_magic!(name, version);

pgrx::extension_sql_file!("../sql/bootstrap.sql", name = "bootstrap", bootstrap);
pgrx::extension_sql_file!("../sql/finalize.sql", name = "finalize", finalize);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    settings::register();
    query::register_invalidation();
}
