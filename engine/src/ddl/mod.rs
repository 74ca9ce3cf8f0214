//! The one place that writes DDL text, one module per kind of object
//! ([`tenant`], [`table`], [`policy`], [`relation`]). Every name goes through
//! [`quote_ident`], every value through [`quote_literal`] (directly or via
//! [`crate::sql::literal`]); the rest is fixed SQL. The rendered statements assume
//! the `search_path` Cot pins for its functions (`pg_catalog, pg_temp`), and
//! name Cot's own helpers with their schema.

mod history;
mod policy;
mod printed;
mod probe;
mod relation;
mod sample;
mod table;
mod tenant;
mod workflow;

pub use policy::printed_predicate;
pub use probe::render_probe;
pub use sample::render_sample_insert;
pub use workflow::{available_query, function_body};

use crate::literal::{DefaultValue, Literal};
use crate::names::{owner_role, Ident};
use crate::plan::{
    Check, Column, ColumnAction, ColumnDefault, CommentTarget, ConstraintKind, RelKind, Step, Table,
};
use crate::sql::{quote_ident, quote_literal, quote_qualified};

/// The SQL of one step.
pub fn render(step: &Step) -> String {
    use Step::*;
    match step {
        Replace(inner) => render_replacing(inner),
        CreateRole { .. }
        | CreateSchema { .. }
        | GrantSchemaUsage { .. }
        | GrantRoles { .. }
        | GrantPreConfig { .. }
        | SetLoginGenericPlans { .. }
        | GrantDefinitionFunctions { .. }
        | GrantDocumentFunctions { .. }
        | CreateRpcFunction { .. }
        | SetRpcFunctionOwner { .. }
        | RevokeRpcFunction { .. }
        | GrantRpcFunction { .. }
        | DropRpcFunction { .. }
        | DropOwned { .. }
        | DropSchema { .. }
        | DropRole { .. } => tenant::render(step),
        CreateTable(_)
        | CreateIndex { .. }
        | CreateSystemTrigger { .. }
        | AddConstraint { .. }
        | CreateOwnerTrigger { .. }
        | DropColumn { .. }
        | AddColumn { .. }
        | AlterColumn { .. }
        | AddConstraintNotValid { .. }
        | ValidateConstraint { .. }
        | DropConstraint { .. }
        | RenameConstraint { .. }
        | DropIndex { .. }
        | RenameIndex { .. }
        | DropOwnerTrigger { .. }
        | DropTriggerIfExists { .. }
        | RenameValue { .. } => table::render(step),
        CreateChangeLog { .. } | DropChangeLog { .. } | CreateHistoryTrigger { .. } => history::render(step),
        CreateWorkflowFunction { .. } | CreateWorkflowTrigger { .. } | DropWorkflowFunction { .. } => {
            workflow::render(step)
        }
        EnableRls { .. }
        | CreatePolicy { .. }
        | Grant { .. }
        | DropPolicy { .. }
        | Revoke { .. }
        | RevokeAll { .. } => policy::render(step),
        CreateView { .. }
        | SetViewDefault { .. }
        | SetOwner { .. }
        | Comment { .. }
        | CreateRelationFunction(_)
        | SetRelationFunctionOwner(_)
        | DropRelationFunction(_)
        | RenameRelation { .. }
        | DropRelation { .. } => relation::render(step),
    }
}

fn rel_word(kind: RelKind) -> &'static str {
    match kind {
        RelKind::Table => "TABLE",
        RelKind::View => "VIEW",
    }
}

fn list(cols: &[Ident]) -> String {
    cols.iter().map(quote_ident).collect::<Vec<_>>().join(", ")
}

/// A `CREATE INDEX` step as the statement that builds it later, outside a
/// transaction, without blocking writes (`CREATE INDEX CONCURRENTLY`).
pub fn render_concurrently(step: &Step) -> String {
    let sql = render(step);
    match step {
        Step::CreateIndex { .. } => sql.replacen("CREATE INDEX", "CREATE INDEX CONCURRENTLY", 1),
        _ => sql,
    }
}

/// A view or function made again in place, keeping what depends on it (a
/// computed relationship on a view's row type, PostgREST's cached plans).
fn render_replacing(step: &Step) -> String {
    if let Some(sql) = relation::render_replacing(step) {
        return sql;
    }
    let sql = render(step);
    match step {
        Step::CreateView { .. } => sql.replacen("CREATE VIEW", "CREATE OR REPLACE VIEW", 1),
        Step::CreateRpcFunction { .. } => sql.replacen("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1),
        _ => sql,
    }
}

/// Every step of a plan as SQL, in order.
pub fn render_all(steps: &[Step]) -> Vec<String> {
    steps.iter().map(render).collect()
}
