//! Modules (docs/modules.md): the catalog (`catalog.rs`: `cot.publish_module`,
//! `cot.modules`), installations in a tenant (`install.rs`:
//! `cot.install_module`, `cot.uninstall_module`, `cot.installed_modules`;
//! `upgrade.rs`: `cot.upgrade_module`, `cot.plan_module_upgrade`), sample
//! rows (`samples.rs`) and the meta-table rows (`store.rs`). The format,
//! ids, conflicts and dependency order are the engine's
//! ([`cot_engine::module`]); entities are created, changed and dropped by
//! the same code as `cot.apply_schema` (`src/bundles.rs`).

mod catalog;
mod install;
mod samples;
mod store;
mod upgrade;
