//! Options of `cot.install_module`, `cot.upgrade_module` and
//! `cot.uninstall_module`, read into structs that refuse unknown keys.

use crate::error::{CotError, ErrorKind};
use crate::names::shown;
use crate::options::ApplyOptions;
use serde::Deserialize;
use serde_json::Value;

/// Options of `cot.install_module`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallOptions {
    /// Return what would be installed, with the plan, and change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Also insert the module's sample rows.
    #[serde(default)]
    pub samples: bool,
}

/// Options of `cot.uninstall_module`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UninstallOptions {
    /// Return what would be dropped, with row counts, and change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Drop the module's entities even when they hold rows.
    #[serde(default)]
    pub allow_data_loss: bool,
}

fn read<T: for<'de> Deserialize<'de>>(value: &Value, what: &str, keys: &str) -> Result<T, CotError> {
    let Value::Object(map) = value else {
        return Err(CotError::new(
            ErrorKind::InvalidParameter,
            format!("{what} options must be a JSON object"),
        )
        .hint(format!("the options are: {keys}")));
    };
    for (k, v) in map {
        let mut one = serde_json::Map::new();
        one.insert(k.clone(), v.clone());
        if serde_json::from_value::<T>(Value::Object(one)).is_err() {
            return Err(CotError::new(
                ErrorKind::InvalidParameter,
                format!("unknown or mistyped {what} option {}", shown(k)),
            )
            .hint(format!("the options are: {keys}")));
        }
    }
    serde_json::from_value(value.clone()).map_err(|e| {
        CotError::new(
            ErrorKind::InvalidParameter,
            format!("{what} options cannot be read: {e}"),
        )
    })
}

impl InstallOptions {
    /// Reads the options object.
    pub fn from_json(value: &Value) -> Result<InstallOptions, CotError> {
        read(value, "install", "dry_run, samples (booleans)")
    }
}

impl UninstallOptions {
    /// Reads the options object.
    pub fn from_json(value: &Value) -> Result<UninstallOptions, CotError> {
        read(value, "uninstall", "dry_run, allow_data_loss (booleans)")
    }
}

/// Options of `cot.upgrade_module`: those of `cot.apply_schema` (`dry_run`
/// and the options of `cot.alter_entity`).
pub fn upgrade_options(value: &Value) -> Result<ApplyOptions, CotError> {
    ApplyOptions::from_json(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_refuse_unknown_keys() {
        assert_eq!(
            InstallOptions::from_json(&json!({"samples": true})).unwrap(),
            InstallOptions {
                dry_run: false,
                samples: true
            }
        );
        let e = InstallOptions::from_json(&json!({"sample": true})).unwrap_err();
        assert_eq!(e.message, "unknown or mistyped install option \"sample\"");
        let e = UninstallOptions::from_json(&json!({"allow_data_loss": "yes"})).unwrap_err();
        assert_eq!(
            e.message,
            "unknown or mistyped uninstall option \"allow_data_loss\""
        );
        assert!(UninstallOptions::from_json(&json!([])).is_err());
        assert!(
            upgrade_options(&json!({"dry_run": true, "allow_data_loss": true}))
                .unwrap()
                .dry_run
        );
    }
}
