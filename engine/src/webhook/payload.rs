//! The body of a webhook request for one change of the change log, in the
//! Standard Webhooks shape `{"type", "timestamp", "data"}`:
//!
//! ```json
//! {"type": "orders.update", "timestamp": "2026-12-07T10:00:00.123456+00:00",
//!  "data": {"tenant": "acme", "entity": "orders", "id": "0193...", "op": "update",
//!           "record": {"status": "paid"}, "old_record": {"status": "draft"},
//!           "actor": {"sub": "u1", "role": "cot_acme_user", "key": null}, "change_id": 42}}
//! ```
//!
//! `record` is the row after the change and `old_record` before it: the whole
//! row on insert (`old_record` null) and on delete (`record` null), and on
//! update only the fields that changed, on both sides.

use serde::Deserialize;
use serde_json::{json, Value};

/// One change, as `cot.changes` returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Change {
    /// Position in the change log (commit order below the watermark).
    pub id: i64,
    /// When (the writing transaction's time), as JSON text.
    #[serde(default)]
    pub at: Value,
    /// The entity (or junction table).
    pub entity: String,
    /// The record.
    #[serde(default)]
    pub record_id: Value,
    /// insert, update or delete.
    pub op: String,
    /// Before.
    #[serde(default)]
    pub old: Value,
    /// After.
    #[serde(default)]
    pub new: Value,
    /// Who: sub, role, key.
    #[serde(default)]
    pub actor: Value,
    /// A workflow transition: name, field, from, to, note (op `transition`).
    #[serde(default)]
    pub transition: Value,
}

impl Change {
    /// The operation as events name it: the op, or `transition.<name>`.
    pub fn event_op(&self) -> String {
        match (self.op.as_str(), self.transition["name"].as_str()) {
            ("transition", Some(name)) => format!("transition.{name}"),
            _ => self.op.clone(),
        }
    }
}

/// A page of `cot.changes`: the changes and the cursor to pass back.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Page {
    /// In id order.
    #[serde(default)]
    pub changes: Vec<Change>,
    /// The next `after`.
    pub next: Option<i64>,
}

impl Page {
    /// The cursor after this page: `next`, or the last change's id, or
    /// `after` when the page says nothing.
    pub fn cursor(&self, after: i64) -> i64 {
        self.next
            .or_else(|| self.changes.last().map(|c| c.id))
            .unwrap_or(after)
            .max(after)
    }
}

/// The request body for `change` of `tenant`.
pub fn body(tenant: &str, change: &Change) -> Value {
    let mut b = json!({
        "type": super::events::event_type(&change.entity, &change.event_op()),
        "timestamp": change.at,
        "data": {
            "tenant": tenant,
            "entity": change.entity,
            "id": change.record_id,
            "op": change.op,
            "record": change.new,
            "old_record": change.old,
            "actor": change.actor,
            "change_id": change.id,
        },
    });
    if !change.transition.is_null() {
        b["data"]["transition"] = change.transition.clone();
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_reads_and_makes_bodies() {
        let page: Page = serde_json::from_value(json!({
            "changes": [{"id": 7, "xid": "900", "at": "2026-12-07T10:00:00+00:00", "entity": "orders",
                         "record_id": "0193a1b2-0000-7000-8000-000000000001", "op": "insert", "old": null,
                         "new": {"title": "a"}, "actor": {"sub": "u1", "role": "cot_acme_user", "key": null}}],
            "next": 9
        }))
        .unwrap();
        assert_eq!(page.cursor(3), 9);
        let b = body("acme", &page.changes[0]);
        assert_eq!(b["type"], "orders.insert");
        assert_eq!(b["timestamp"], "2026-12-07T10:00:00+00:00");
        assert_eq!(b["data"]["record"]["title"], "a");
        assert_eq!(b["data"]["old_record"], Value::Null);
        assert_eq!(b["data"]["change_id"], 7);
        assert_eq!(b["data"]["actor"]["sub"], "u1");
    }

    #[test]
    fn cursors_never_go_back() {
        let empty: Page = serde_json::from_value(json!({"changes": [], "next": null})).unwrap();
        assert_eq!(empty.cursor(5), 5);
        let behind: Page = serde_json::from_value(json!({"changes": [], "next": 2})).unwrap();
        assert_eq!(behind.cursor(5), 5);
    }
}
