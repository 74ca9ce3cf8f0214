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

use crate::jsonb_arg::JsonbText;
use crate::raise::{error, raise};
use cot_engine::error::ErrorKind;

/// The tenant and module name of a call. The functions that take an optional
/// version are not STRICT, and pgrx answers a NULL for a plain argument with
/// XX000; so they read these as options and refuse NULL here, and a NULL
/// options document is `{}`.
fn given<'a>(tenant: Option<&'a str>, name: Option<&'a str>, call: &str) -> (&'a str, &'a str) {
    match (tenant, name) {
        (Some(t), Some(n)) => (t, n),
        _ => raise(error(
            ErrorKind::InvalidParameter,
            "tenant and module name must not be NULL",
            format!("cot.{call}(tenant, name, version, options): version NULL means the latest release"),
        )),
    }
}

fn options_or_empty(options: Option<JsonbText>) -> JsonbText {
    options.unwrap_or_else(|| JsonbText("{}".to_string()))
}
mod samples;
mod store;
mod upgrade;
