//! The workflow as a graph: which states can be reached, and which
//! transition a change of state is. [`decide`] is the rule the generated
//! trigger applies (`ddl/workflow.rs` writes the same order of checks in
//! PL/pgSQL), kept here as plain code so it is tested on random workflows.

use super::{Transition, Workflow};
use std::collections::BTreeSet;

/// Every state a record can be in: the starts, and every state a chain of
/// transitions leads to from them.
pub fn reachable(w: &Workflow) -> BTreeSet<String> {
    let mut seen: BTreeSet<String> = w.starts.iter().cloned().collect();
    let mut todo: Vec<String> = seen.iter().cloned().collect();
    while let Some(s) = todo.pop() {
        for t in w.leaving(&s) {
            if seen.insert(t.to.clone()) {
                todo.push(t.to.clone());
            }
        }
    }
    seen
}

/// What the trigger decides about one change of state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphStep {
    /// The state does not change and no transition was named: nothing to check.
    Unchanged,
    /// The change is this transition.
    Taken(String),
    /// No transition leads from the present state to the asked one (or the
    /// one named does not): `CW001`.
    NotATransition,
    /// Transitions lead there, but the caller may take none of them: `CW002`.
    NotAllowed(String),
    /// The caller may take one, but the record does not meet its guard: `CW003`.
    GuardFailed(String),
}

/// The decision for a change from `from` to `to`, with transition `wanted`
/// named (by `cot.transition`) or not (a plain UPDATE). `may` says whether
/// the caller's role may take a transition, `meets` whether the record meets
/// its guard. Candidates are tried in definition order; the first the caller
/// may take and whose guard holds is taken; otherwise the refusal is the
/// first candidate's reason, a role refusal before a guard one.
pub fn decide(
    w: &Workflow,
    from: &str,
    to: &str,
    wanted: Option<&str>,
    may: &dyn Fn(&Transition) -> bool,
    meets: &dyn Fn(&Transition) -> bool,
) -> GraphStep {
    if from == to && wanted.is_none() {
        return GraphStep::Unchanged;
    }
    let candidates: Vec<&Transition> = w
        .between(from, to)
        .into_iter()
        .filter(|t| wanted.is_none_or(|n| n == t.name))
        .collect();
    let mut refusal: Option<GraphStep> = None;
    for t in &candidates {
        if !may(t) {
            refusal.get_or_insert(GraphStep::NotAllowed(t.name.clone()));
        } else if !meets(t) {
            refusal.get_or_insert(GraphStep::GuardFailed(t.name.clone()));
        } else {
            return GraphStep::Taken(t.name.clone());
        }
    }
    refusal.unwrap_or(GraphStep::NotATransition)
}
