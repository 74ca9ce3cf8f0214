//! Event patterns: what a webhook subscribes to. An event is
//! `<entity>.<op>` (`orders.insert`, `orders.update`, `orders.delete`) or,
//! for a workflow transition, `<entity>.transition.<name>`; a pattern is an
//! event, `<entity>.transition.*` (every transition of the entity),
//! `<entity>.*` (every operation on the entity) or `*` (everything the
//! tenant's change log records).

use std::fmt;

/// At most this many patterns per webhook.
pub const MAX_EVENTS: usize = 50;

/// An operation the change log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// A new record.
    Insert,
    /// A changed record.
    Update,
    /// A removed record.
    Delete,
}

impl Op {
    /// As the change log and event names spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Insert => "insert",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }

    /// The operation named `s`, if it is one.
    pub fn parse(s: &str) -> Option<Op> {
        match s {
            "insert" => Some(Op::Insert),
            "update" => Some(Op::Update),
            "delete" => Some(Op::Delete),
            _ => None,
        }
    }
}

/// One pattern of a webhook's `events`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// `*`: every change.
    All,
    /// `<entity>.*`: every change of one entity.
    Entity(String),
    /// `<entity>.<op>`: one operation on one entity.
    Exact(String, Op),
    /// `<entity>.transition.<name>` (one transition) or
    /// `<entity>.transition.*` (`None`: every transition).
    Transition(String, Option<String>),
}

impl Pattern {
    /// Reads a pattern; the error says what is wrong with it.
    pub fn parse(s: &str) -> Result<Pattern, String> {
        if s == "*" {
            return Ok(Pattern::All);
        }
        let Some((entity, op)) = s.split_once('.') else {
            return Err(format!(
                "event {s:?} is not <entity>.<operation>, <entity>.* or *"
            ));
        };
        if !is_entity_name(entity) {
            return Err(format!(
                "event {s:?}: {entity:?} is not an entity name (lower-case letters, digits and _, starting with a letter, at most 63 bytes)"
            ));
        }
        if op == "*" {
            return Ok(Pattern::Entity(entity.to_string()));
        }
        if let Some(name) = op.strip_prefix("transition.") {
            if name == "*" {
                return Ok(Pattern::Transition(entity.to_string(), None));
            }
            if !is_entity_name(name) {
                return Err(format!(
                    "event {s:?}: {name:?} is not a transition name (lower-case letters, digits and _, starting with a letter)"
                ));
            }
            return Ok(Pattern::Transition(entity.to_string(), Some(name.to_string())));
        }
        match Op::parse(op) {
            Some(op) => Ok(Pattern::Exact(entity.to_string(), op)),
            None => Err(format!(
                "event {s:?}: {op:?} is not an operation (insert, update, delete, transition.<name>, transition.* or *)"
            )),
        }
    }

    /// Does a change of `entity` by `op` match?
    pub fn matches(&self, entity: &str, op: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Entity(e) => e == entity,
            Pattern::Exact(e, o) => e == entity && o.as_str() == op,
            Pattern::Transition(e, None) => e == entity && op.starts_with("transition."),
            Pattern::Transition(e, Some(n)) => {
                e == entity && op.strip_prefix("transition.") == Some(n.as_str())
            }
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::All => f.write_str("*"),
            Pattern::Entity(e) => write!(f, "{e}.*"),
            Pattern::Exact(e, op) => write!(f, "{e}.{}", op.as_str()),
            Pattern::Transition(e, None) => write!(f, "{e}.transition.*"),
            Pattern::Transition(e, Some(n)) => write!(f, "{e}.transition.{n}"),
        }
    }
}

/// Does any of `patterns` match a change of `entity` by `op`?
pub fn matches_any(patterns: &[Pattern], entity: &str, op: &str) -> bool {
    patterns.iter().any(|p| p.matches(entity, op))
}

/// The event name of a change: `<entity>.<op>`, the payload's `type`.
pub fn event_type(entity: &str, op: &str) -> String {
    format!("{entity}.{op}")
}

fn is_entity_name(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= crate::names::MAX_IDENT_BYTES
        && matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_read_and_print_back() {
        for s in [
            "*",
            "orders.*",
            "orders.insert",
            "order_items.delete",
            "a1.update",
        ] {
            assert_eq!(Pattern::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn malformed_patterns_are_refused_with_a_reason() {
        let cases = [
            ("orders", "is not <entity>.<operation>"),
            ("orders.create", "is not an operation"),
            ("Orders.insert", "is not an entity name"),
            (".insert", "is not an entity name"),
            ("*.insert", "is not an entity name"),
            ("orders.insert.x", "is not an operation"),
            ("", "is not <entity>"),
            ("**", "is not <entity>"),
        ];
        for (s, want) in cases {
            let e = Pattern::parse(s).unwrap_err();
            assert!(e.contains(want), "{s:?}: {e}");
        }
        let long = format!("{}.insert", "a".repeat(64));
        assert!(Pattern::parse(&long).is_err());
    }

    #[test]
    fn matching() {
        let p = |s| Pattern::parse(s).unwrap();
        assert!(p("*").matches("orders", "delete"));
        assert!(p("orders.*").matches("orders", "update"));
        assert!(!p("orders.*").matches("orders_x", "update"));
        assert!(p("orders.insert").matches("orders", "insert"));
        assert!(!p("orders.insert").matches("orders", "update"));
        assert!(!p("orders.insert").matches("customers", "insert"));
        let set = [p("customers.delete"), p("orders.*")];
        assert!(matches_any(&set, "orders", "insert"));
        assert!(matches_any(&set, "customers", "delete"));
        assert!(!matches_any(&set, "customers", "insert"));
        assert!(!matches_any(&[], "orders", "insert"));
    }

    #[test]
    fn transitions_have_their_own_events() {
        let pay = Pattern::parse("orders.transition.pay").unwrap();
        let any = Pattern::parse("orders.transition.*").unwrap();
        assert_eq!(pay.to_string(), "orders.transition.pay");
        assert_eq!(any.to_string(), "orders.transition.*");
        assert!(pay.matches("orders", "transition.pay") && !pay.matches("orders", "transition.ship"));
        assert!(any.matches("orders", "transition.ship") && !any.matches("orders", "update"));
        assert!(Pattern::parse("orders.*")
            .unwrap()
            .matches("orders", "transition.pay"));
        assert!(Pattern::parse("orders.transition.Pay").is_err());
        assert!(Pattern::parse("orders.transition").is_err());
    }
}
