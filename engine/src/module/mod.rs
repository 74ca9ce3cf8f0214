//! Modules: named, versioned packages of entity definitions that a tenant
//! installs, upgrades and uninstalls like a package (docs/modules.md). What
//! needs no database lives here: the `cot.module/1` format and its checks
//! ([`format`]), the ids a module's entities take in a tenant and who owns an
//! entity name ([`tenant`]), the order dependencies install in and the rules
//! that keep installed modules' version ranges satisfied ([`resolve`]), and
//! the options of the module functions ([`options`]).

pub mod format;
pub mod options;
pub mod resolve;
pub mod tenant;

pub use format::{Module, FORMAT};

#[cfg(test)]
mod examples_tests;
