//! Phase Q, and its first step: a changed workflow (states, transitions,
//! guards, the state field's name or the columns its guards read) drops the
//! trigger and its function before anything else changes, so that mapping
//! removed states to others (`rename_values`) is not itself refused as a
//! transition, and makes them again last, from the new definition. States
//! leave and arrive as the values of the column's CHECK do (see
//! `constraints.rs`): rows in a removed state are counted, and the change is
//! refused unless `rename_values` maps that state.

use super::*;
use crate::plan::workflow;

fn changed(d: &Diff<'_>) -> bool {
    d.old.entity.workflow != d.new.entity.workflow
}

impl Builder<'_> {
    /// Before phase A: the old workflow's trigger and function go.
    pub(super) fn drop_workflow(&mut self, d: &Diff<'_>) {
        if !changed(d) || d.old.entity.workflow.is_none() {
            return;
        }
        let t = self.t.clone();
        for step in workflow::drop_steps(&t, &self.table) {
            self.push(step, Class::Metadata);
        }
    }

    /// Phase Q: the new workflow's function and trigger.
    pub(super) fn make_workflow(&mut self, d: &Diff<'_>) {
        if !changed(d) {
            return;
        }
        for step in workflow::steps(d.new.entity) {
            self.push(step, Class::Metadata);
        }
    }
}
