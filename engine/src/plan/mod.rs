//! Planning: what to create or drop, as a list of steps that are plain data.
//! Nothing here writes SQL; [`crate::ddl`] renders each step. A plan can be
//! printed, recorded in the ledger and compared in tests.
//!
//! [`step`] holds the [`Step`] type and [`objects`] what steps are made of;
//! [`tenant`], [`entity`] and [`policies`] make the steps for a tenant, an
//! entity and its access rules.

pub mod entity;
pub mod history;
pub mod objects;
pub mod policies;
mod rule;
pub mod step;
pub mod tenant;
pub mod workflow;

pub use entity::{
    column, comments, create_entity, drop_entity, table_columns, view_defaults, view_steps, Labels,
};
pub use objects::*;
pub use policies::access_steps;
pub use step::Step;
pub use tenant::{create_tenant, drop_tenant};
