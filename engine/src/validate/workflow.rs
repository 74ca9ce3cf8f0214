//! A `state` field and its workflow: the column it makes (text held to the
//! states, NOT NULL, the initial state as default) and, once the entity's
//! columns are known, its transitions (states they join, who may take them,
//! guards read in the `where` vocabulary of `cot.query` and checked against
//! the columns' types).

use super::{field_pointer, Checker};
use crate::definition::{EntityDef, FieldDef, OneOrMany};
use crate::literal::{self, DefaultValue, Literal};
use crate::names::NameKind;
use crate::query::{parse_filter, Filter, Op};
use crate::scalar::Scalar;
use crate::types::{Entity, Field, FieldType};
use crate::workflow::{Transition, Who, Workflow};
use std::collections::HashSet;

/// The options of a definition's fields that only state fields take.
pub(super) fn state_options(f: &FieldDef) -> [(&'static str, bool); 4] {
    [
        ("states", f.states.is_some()),
        ("initial", f.initial.is_some()),
        ("starts", f.starts.is_some()),
        ("transitions", f.transitions.is_some()),
    ]
}

impl Checker<'_> {
    /// Refuses the state options on a field of another type.
    pub(super) fn no_state_options(&mut self, i: usize, f: &FieldDef) {
        for (key, present) in state_options(f) {
            if present {
                self.bad(
                    field_pointer(i, key),
                    format!("option {key} does not apply to {} fields", f.field_type),
                    "states, initial, starts and transitions are for state fields",
                );
            }
        }
    }

    /// The column of a state field.
    pub(super) fn state_field(&mut self, i: usize, f: &FieldDef) -> Option<Field> {
        let at = |key: &str| field_pointer(i, key);
        let name = self.name(NameKind::Field, &f.name, &at("name"));
        let id = self.id(&f.id, at("id"));
        for (key, present) in [
            ("items", f.items.is_some()),
            ("values", f.values.is_some()),
            ("default", f.default.is_some()),
            ("min", f.min.is_some()),
            ("max", f.max.is_some()),
            ("min_length", f.min_length.is_some()),
            ("max_length", f.max_length.is_some()),
            ("pattern", f.pattern.is_some()),
            ("precision", f.precision.is_some()),
            ("scale", f.scale.is_some()),
            ("kind", f.kind.is_some()),
            ("target", f.target.is_some()),
            ("on_delete", f.on_delete.is_some()),
            ("inverse", f.inverse.is_some()),
            ("column", f.column.is_some()),
            ("junction", f.junction.is_some()),
        ] {
            if present {
                let hint = match key {
                    "values" => "a state field lists its states in states",
                    "default" => "a state field's default is its initial state",
                    _ => "remove it; docs/workflows.md lists the keys of a state field",
                };
                self.bad(
                    at(key),
                    format!("option {key} does not apply to state fields"),
                    hint,
                );
            }
        }
        let Some(states) = &f.states else {
            self.bad(
                at("states"),
                "state fields need states: the states a record can be in",
                "add e.g. \"states\": [\"draft\", \"paid\", \"shipped\"]",
            );
            return None;
        };
        let initial = match &f.initial {
            None => {
                self.bad(
                    at("initial"),
                    "state fields need initial: the state of a new record",
                    "add e.g. \"initial\": \"draft\"",
                );
                None
            }
            Some(s) if !states.contains(s) => {
                self.not_a_state(at("initial"), s, states);
                None
            }
            Some(s) => Some(s.clone()),
        };
        Some(Field {
            id,
            name: name?,
            ty: FieldType::Scalar(Scalar::Enum(states.clone())),
            required: true,
            unique: f.unique,
            index: f.index,
            default: initial.map(|s| DefaultValue::Literal(Literal::Text(s))),
            min: None,
            max: None,
            min_length: None,
            max_length: None,
            pattern: None,
            description: f.description.clone(),
            custom: None,
        })
    }

    fn not_a_state(&mut self, pointer: String, s: &str, states: &[String]) {
        self.bad(
            pointer,
            format!("{s:?} is not one of the field's states"),
            format!("the states are: {}", states.join(", ")),
        );
    }

    /// The workflow of the entity's state field, once its columns are known;
    /// at most one state field per entity.
    pub(super) fn workflow(&mut self, d: &EntityDef, e: &Entity) -> Option<Workflow> {
        let mut state_fields = d
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.field_type == "state");
        let (i, f) = state_fields.next()?;
        for (j, _) in state_fields {
            self.bad(
                field_pointer(j, "type"),
                format!("an entity has at most one state field; /fields/{i} is one already"),
                "model a second process as another entity, or as one state field with more states",
            );
        }
        let field = e.fields.iter().find(|x| x.name.as_str() == f.name)?;
        let states = f.states.clone()?;
        let initial = f.initial.clone()?;
        let starts = f.starts.clone().unwrap_or_else(|| vec![initial.clone()]);
        for (k, s) in starts.iter().enumerate() {
            if !states.contains(s) {
                self.not_a_state(format!("{}/{k}", field_pointer(i, "starts")), s, &states);
            }
        }
        if !starts.contains(&initial) {
            self.bad(
                field_pointer(i, "starts"),
                format!("starts does not hold the initial state {initial:?}"),
                "the initial state is where a record starts when none is given: list it in starts",
            );
        }
        let mut names = HashSet::new();
        let mut transitions = Vec::new();
        for (j, t) in f.transitions.iter().flatten().enumerate() {
            let at = |key: &str| format!("/fields/{i}/transitions/{j}/{key}");
            if !names.insert(t.name.clone()) {
                self.bad(
                    at("name"),
                    format!("transition {:?} is defined twice", t.name),
                    "give each transition its own name",
                );
            }
            let from = t.from.to_vec();
            let one = matches!(t.from, OneOrMany::One(_));
            for (k, s) in from.iter().enumerate() {
                if !states.contains(s) {
                    let pointer = if one {
                        at("from")
                    } else {
                        format!("{}/{k}", at("from"))
                    };
                    self.not_a_state(pointer, s, &states);
                }
            }
            if !states.contains(&t.to) {
                self.not_a_state(at("to"), &t.to, &states);
            }
            if from.contains(&t.to) {
                self.bad(
                    at("to"),
                    format!("transition {:?} leads from {:?} to itself", t.name, t.to),
                    "a transition changes the state: remove the state from from",
                );
            }
            let who = self.who(t.who.as_ref().map(|w| w.to_vec()), e, &at("who"));
            if let Some(g) = &t.guard {
                self.guard(e, g, &at("guard"));
            }
            transitions.push(Transition {
                name: t.name.clone(),
                label: t.label.clone(),
                description: t.description.clone(),
                from,
                to: t.to.clone(),
                who,
                guard: t.guard.clone(),
            });
        }
        Some(Workflow {
            field: field.name.clone(),
            field_id: field.id,
            states,
            initial,
            starts,
            transitions,
        })
    }

    /// Who may take a transition; `public` (whoever may update) by default.
    fn who(&mut self, words: Option<Vec<String>>, e: &Entity, pointer: &str) -> Vec<Who> {
        let words = words.unwrap_or_else(|| vec!["public".into()]);
        let mut out = Vec::new();
        for w in words {
            let who = Who::parse(&w);
            match &who {
                Who::Owner if !e.access.needs_owner() => self.bad(
                    pointer.to_string(),
                    "who: owner needs the owner column, which only an owner access rule makes",
                    "set one of access.read/create/update/delete to owner, or use tenant or admin",
                ),
                Who::Role(r) if !role_name_ok(r) => self.bad(
                    pointer.to_string(),
                    format!("who: {w:?} is neither public, tenant, owner, admin nor a role name"),
                    "a role name is lower-case letters, digits and _, starting with a letter, at most 63 bytes, not none and not starting with pg_",
                ),
                _ => {}
            }
            out.push(who);
        }
        out
    }

    /// A guard: a `where` condition over the entity's columns, whose values
    /// fit the columns' types (the trigger holds them as typed literals).
    fn guard(&mut self, e: &Entity, g: &serde_json::Value, pointer: &str) {
        match parse_filter(e, g, pointer) {
            Err(err) => {
                let at = err
                    .detail
                    .as_deref()
                    .and_then(|d| d.strip_prefix("at "))
                    .unwrap_or(pointer)
                    .to_string();
                self.bad(at, err.message, err.hint.unwrap_or_default());
            }
            Ok(f) => self.guard_values(&f),
        }
    }

    fn guard_values(&mut self, f: &Filter) {
        match f {
            Filter::And(parts) | Filter::Or(parts) => parts.iter().for_each(|p| self.guard_values(p)),
            Filter::Not(x) => self.guard_values(x),
            Filter::Compare {
                column,
                op,
                value,
                at,
            } => {
                let scalar = column.ty.scalar();
                let typed = !matches!(op, Op::Like | Op::Ilike | Op::Match | Op::IsNull)
                    && !matches!(
                        scalar,
                        Scalar::Json | Scalar::Text | Scalar::Enum(_) | Scalar::Email | Scalar::Url
                    );
                if !typed {
                    return;
                }
                let items: Vec<&serde_json::Value> = match value.as_array() {
                    Some(a) => a.iter().collect(),
                    None => vec![value],
                };
                for item in items {
                    if let Err(msg) = literal::parse(item, scalar) {
                        self.bad(at.clone(), msg, "write the value as JSON of the field's type");
                    }
                }
            }
        }
    }
}

/// A role a transition may name: a plain lower-case name, not one of
/// PostgreSQL's own (`pg_`), not `none`.
fn role_name_ok(r: &str) -> bool {
    let mut chars = r.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && r.len() <= 63
        && r != "none"
        && !r.starts_with("pg_")
}
