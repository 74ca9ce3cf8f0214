//! Generated documentation of a tenant's API, from its entity definitions:
//! the JSON Schema of each entity's records ([`record_schema`]), the OpenAPI
//! 3.1 document of the PostgREST API ([`openapi`]) and TypeScript types for
//! `@supabase/postgrest-js` ([`typescript`]).
//!
//! Input: the tenant's entities as `(Entity, Labels)` pairs, which the
//! extension gets by validating each stored normalized definition again. All
//! three read one model of the API ([`model`]): the views, their columns in
//! view order, their foreign keys and their access rules.

pub mod components;
pub mod model;
pub mod openapi;
pub mod pattern;
pub mod record_schema;
pub mod typescript;

pub use openapi::{openapi, OpenApiOptions};
pub use record_schema::record_schema;
pub use typescript::typescript;

#[cfg(test)]
mod sample;
#[cfg(test)]
mod tests;
