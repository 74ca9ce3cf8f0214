#![recursion_limit = "256"]
//! Cot's engine: everything that decides what to do, with no Postgres in the
//! loop, so it is unit-tested and fuzzed without a server.
//!
//! Stages, one module each: [`schema`] (JSON Schema of definitions) →
//! [`validate`] (semantic checks, into [`types::Entity`]) → [`plan`] (DDL steps as
//! data) → [`ddl`] (the one place that writes DDL text). [`names`] owns every
//! identifier, [`sql`] the two quoting functions, [`literal`] typed values, and
//! [`error`] the mapping of every error to a SQLSTATE.

pub mod access;
pub mod bundle;
pub mod conversion;
pub mod ddl;
pub mod definition;
pub mod drift;
pub mod error;
pub mod evolve;
pub mod field_types;
pub mod group;
pub mod jsonb_binary;
pub mod literal;
pub mod module;
pub mod names;
pub mod options;
pub mod plan;
pub mod plan_json;
pub mod query;
pub mod regenerate;
pub mod relations;
pub mod rpc;
pub mod scalar;
pub mod schema;
pub mod sql;
pub mod stored;
pub mod suggest;
pub mod token;
pub mod types;
pub mod validate;
pub mod webhook;
pub mod words;
pub mod workflow;

#[cfg(test)]
mod ddl_tests;
pub mod docs;
#[cfg(test)]
mod inputs_fuzz;
