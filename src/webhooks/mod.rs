//! Webhooks (docs/webhooks.md): the SQL functions that manage them
//! ([`api`], over [`store`]), and the background worker that delivers them
//! ([`worker`]: reads the change log into deliveries with [`ingest`], keeps
//! its state with [`queue`], sends with the threads of [`deliver`], refuses
//! private targets with [`ssrf`]).

mod api;
mod deliver;
mod ingest;
mod queue;
pub mod settings;
mod ssrf;
mod store;
mod subxact;
pub mod worker;

/// Registers the settings and, when preloading, the workers.
pub fn register() {
    settings::register();
    worker::register();
}
