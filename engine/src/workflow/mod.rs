//! Workflows: a `state` field holds a record to a set of states and moves it
//! only along named transitions, each limited to some roles and guarded by a
//! condition in the `where` vocabulary of `cot.query`. This module is the
//! model and its pure logic (which transition a change is, the graph); the
//! definition is checked in `validate/workflow.rs`, the trigger that enforces
//! it everywhere is planned in [`crate::plan::workflow`] and written in
//! `ddl/workflow.rs`.

mod graph;
#[cfg(test)]
mod tests;

pub use graph::{decide, reachable, GraphStep};

use crate::names::Ident;
use serde_json::{json, Value};

/// Most states of a state field.
pub const MAX_STATES: usize = 100;
/// Most transitions of a state field.
pub const MAX_TRANSITIONS: usize = 200;

/// The SQLSTATE of a change of state that no transition makes (from the
/// record's present state to the one asked, or with the transition named).
/// A class of Cot's own (`CW`): PostgREST answers it with 400, and it is not
/// `40001`, which PostgREST would retry by itself.
pub const NOT_A_TRANSITION: &str = "CW001";
/// The SQLSTATE of a transition the caller's role may not take.
pub const NOT_ALLOWED: &str = "CW002";
/// The SQLSTATE of a transition whose guard the record does not meet.
pub const GUARD_FAILED: &str = "CW003";
/// The SQLSTATE of an insert in a state that is not a start.
pub const NOT_A_START: &str = "CW004";

/// Who may take a transition: the words of access rules, or a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// Whoever may update the record (the entity's `update` rule decides).
    Public,
    /// The tenant's users and admins.
    Tenant,
    /// Users on records they own (`owner_id` = the `sub` claim), admins on all.
    Owner,
    /// The tenant's admins.
    Admin,
    /// Members of a PostgreSQL role.
    Role(String),
}

impl Who {
    /// Reads one word of `who`; anything but a rule word names a role.
    pub fn parse(s: &str) -> Who {
        match s {
            "public" => Who::Public,
            "tenant" => Who::Tenant,
            "owner" => Who::Owner,
            "admin" => Who::Admin,
            role => Who::Role(role.to_string()),
        }
    }

    /// As written in definitions.
    pub fn name(&self) -> &str {
        match self {
            Who::Public => "public",
            Who::Tenant => "tenant",
            Who::Owner => "owner",
            Who::Admin => "admin",
            Who::Role(r) => r,
        }
    }
}

/// One transition.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// Name, unique within the workflow (`^[a-z][a-z0-9_]*$`).
    pub name: String,
    /// Display name.
    pub label: Option<String>,
    /// What it means.
    pub description: Option<String>,
    /// The states it leaves from.
    pub from: Vec<String>,
    /// The state it leads to (never one of `from`).
    pub to: String,
    /// Who may take it: any of these.
    pub who: Vec<Who>,
    /// The guard as written (checked against the entity's columns when the
    /// definition was validated; the planner compiles it).
    pub guard: Option<Value>,
}

impl Transition {
    /// Does it lead from `from` to `to`?
    pub fn moves(&self, from: &str, to: &str) -> bool {
        self.to == to && self.from.iter().any(|f| f == from)
    }
}

/// The workflow of an entity's state field.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    /// The state field (its column).
    pub field: Ident,
    /// The field's id.
    pub field_id: uuid::Uuid,
    /// The states, in order.
    pub states: Vec<String>,
    /// The state of a new record when none is given (the column default).
    pub initial: String,
    /// The states an insert may start in (the initial one among them).
    pub starts: Vec<String>,
    /// The transitions, in definition order (a change that several make is
    /// taken by the first the caller may take).
    pub transitions: Vec<Transition>,
}

impl Workflow {
    /// The transitions that lead from `from` to `to`, in order.
    pub fn between(&self, from: &str, to: &str) -> Vec<&Transition> {
        self.transitions.iter().filter(|t| t.moves(from, to)).collect()
    }

    /// The transitions that leave `from`, in order.
    pub fn leaving(&self, from: &str) -> Vec<&Transition> {
        self.transitions
            .iter()
            .filter(|t| t.from.iter().any(|f| f == from))
            .collect()
    }

    /// The transition named `name`.
    pub fn transition(&self, name: &str) -> Option<&Transition> {
        self.transitions.iter().find(|t| t.name == name)
    }

    /// The state field's keys of the normalized definition (beside name,
    /// type, label...): every default made explicit.
    pub fn to_json(&self) -> Value {
        json!({
            "states": self.states,
            "initial": self.initial,
            "starts": self.starts,
            "transitions": self.transitions.iter().map(transition_json).collect::<Vec<_>>(),
        })
    }

    /// Nodes and edges for a diagram (`cot.workflow_graph`).
    pub fn graph(&self) -> Value {
        let reach = reachable(self);
        let nodes: Vec<Value> = self
            .states
            .iter()
            .map(|s| {
                json!({
                    "id": s,
                    "initial": *s == self.initial,
                    "start": self.starts.contains(s),
                    "final": self.leaving(s).is_empty(),
                    "reachable": reach.contains(s),
                })
            })
            .collect();
        let edges: Vec<Value> = self
            .transitions
            .iter()
            .flat_map(|t| {
                t.from.iter().map(move |f| {
                    json!({
                        "transition": t.name,
                        "label": t.label,
                        "from": f,
                        "to": t.to,
                        "who": t.who.iter().map(Who::name).collect::<Vec<_>>(),
                        "guard": t.guard,
                    })
                })
            })
            .collect();
        json!({"field": self.field.as_str(), "initial": self.initial, "nodes": nodes, "edges": edges})
    }
}

fn transition_json(t: &Transition) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), json!(t.name));
    if let Some(l) = &t.label {
        m.insert("label".into(), json!(l));
    }
    if let Some(d) = &t.description {
        m.insert("description".into(), json!(d));
    }
    m.insert("from".into(), json!(t.from));
    m.insert("to".into(), json!(t.to));
    m.insert(
        "who".into(),
        json!(t.who.iter().map(Who::name).collect::<Vec<_>>()),
    );
    if let Some(g) = &t.guard {
        m.insert("guard".into(), g.clone());
    }
    Value::Object(m)
}
