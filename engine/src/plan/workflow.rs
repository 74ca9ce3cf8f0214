//! The objects that enforce an entity's workflow ([`crate::workflow`]) for
//! every writer: one trigger function per entity, written out statically
//! (no dynamic SQL) by `ddl/workflow.rs`, and the row trigger that runs it
//! before an insert and before an update of the state column. Transitions are
//! recorded in the tenant's change log, made here if missing, whether or not
//! the entity has history.

use super::Step;
use crate::names::{derived, fixed, Ident, TenantNames};
use crate::types::Entity;

/// The trigger's name (one per table).
pub const TRIGGER: &str = "cot_workflow";

/// The trigger function of `table`, in the storage schema.
pub fn function_name(table: &Ident) -> Ident {
    derived(&[table.as_str(), "workflow"])
}

/// The steps that make an entity's workflow objects: the change log if
/// missing, the function and the trigger.
pub fn steps(e: &Entity) -> Vec<Step> {
    let Some(w) = &e.workflow else {
        return Vec::new();
    };
    let t = TenantNames::new(&e.tenant);
    // The history steps make the log already: making it twice would show twice in plans.
    let mut steps = if e.history {
        Vec::new()
    } else {
        super::history::change_log(&t)
    };
    steps.push(Step::CreateWorkflowFunction {
        schema: t.storage_schema.clone(),
        name: function_name(&e.name),
        tenant: e.tenant.clone(),
        table: e.name.clone(),
        workflow: Box::new(w.clone()),
        guards: guards(e, w),
    });
    steps.push(Step::CreateWorkflowTrigger {
        schema: t.storage_schema.clone(),
        table: e.name.clone(),
        column: w.field.clone(),
        function: function_name(&e.name),
    });
    steps
}

/// Each transition's guard read against the entity's columns. Validation read
/// them already; one that no longer reads (a column gone) guards nothing here
/// and is refused when the definition is validated again.
pub fn guards(e: &Entity, w: &crate::workflow::Workflow) -> Vec<Option<crate::query::Filter>> {
    w.transitions
        .iter()
        .map(|t| {
            t.guard
                .as_ref()
                .and_then(|g| crate::query::parse_filter(e, g, "").ok())
        })
        .collect()
}

/// The steps that remove an entity's workflow objects, when it has them
/// (both `IF EXISTS`): before its table goes, or before its workflow changes.
pub fn drop_steps(t: &TenantNames, table: &Ident) -> Vec<Step> {
    vec![
        Step::DropTriggerIfExists {
            schema: t.storage_schema.clone(),
            table: table.clone(),
            name: fixed(TRIGGER),
        },
        Step::DropWorkflowFunction {
            schema: t.storage_schema.clone(),
            name: function_name(table),
        },
    ]
}
