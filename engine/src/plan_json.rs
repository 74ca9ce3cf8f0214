//! Plans as the JSON documents Cot prints: what `cot.plan_entity` returns,
//! the entries `cot.apply_schema` lists in a dry run, and what the ledger
//! (`cot.migrations.plan`) keeps of a change.

use crate::ddl::{render, render_concurrently};
use crate::error::Violation;
use crate::evolve::{Change, Class, Evolution};
use crate::plan::Step;
use serde_json::{json, Map, Value};

/// The steps that create an entity, as a plan: all of them metadata.
pub fn creation(steps: Vec<Step>) -> Vec<Change> {
    steps
        .into_iter()
        .map(|step| Change {
            step,
            class: Class::Metadata,
            rows: None,
            note: None,
        })
        .collect()
}

/// `none` when a change of a stored entity changes nothing (no step, and
/// the normalized definitions `old` and `new` are equal), else `alter`.
pub fn action(plan: &Evolution, old: &Value, new: &Value) -> &'static str {
    if plan.changes.is_empty() && old == new {
        "none"
    } else {
        "alter"
    }
}

/// One step of a plan: `{step, class, sql[, rows][, note]}`.
pub fn change_json(c: &Change) -> Value {
    let mut m = Map::new();
    m.insert("step".into(), json!(c.step.kind_name()));
    m.insert("class".into(), json!(c.class.name()));
    m.insert("sql".into(), json!(render(&c.step)));
    if let Some(rows) = c.rows {
        m.insert("rows".into(), json!(rows));
    }
    if let Some(note) = &c.note {
        m.insert("note".into(), json!(note));
    }
    Value::Object(m)
}

/// Every step of a plan, as [`change_json`] prints it.
pub fn changes_json(changes: &[Change]) -> Vec<Value> {
    changes.iter().map(change_json).collect()
}

/// Work left for later: `[{step, sql}]`, each with the statement that
/// completes it outside a transaction.
pub fn pending_json(steps: &[Step]) -> Value {
    Value::Array(
        steps
            .iter()
            .map(|s| json!({"step": s.kind_name(), "sql": render_concurrently(s)}))
            .collect(),
    )
}

/// How many steps of each class: `{metadata, validating_scan, table_rewrite, data_loss}`.
pub fn summary(changes: &[Change]) -> Value {
    let mut m = Map::new();
    for class in [Class::Metadata, Class::Scan, Class::Rewrite, Class::DataLoss] {
        m.insert(
            class.name().into(),
            json!(changes.iter().filter(|c| c.class == class).count()),
        );
    }
    Value::Object(m)
}

/// Refusals, as `cot.validate_entity` prints violations.
pub fn refused_json(refusals: &[Violation]) -> Vec<Value> {
    refusals.iter().map(Violation::to_json).collect()
}

/// `cot.plan_entity` of an entity that does not exist yet: the steps that
/// create it.
pub fn plan_of_creation(tenant: &str, entity: &str, steps: Vec<Step>) -> Value {
    let changes = creation(steps);
    json!({
        "tenant": tenant, "entity": entity, "action": "create", "version": null,
        "changes": changes_json(&changes),
        "pending": [], "refused": [], "summary": summary(&changes),
    })
}

/// `cot.plan_entity` of a change of a stored entity at `version`; `action`
/// as [`action`] says.
pub fn plan_of_change(tenant: &str, entity: &str, action: &str, version: i64, plan: &Evolution) -> Value {
    json!({
        "tenant": tenant, "entity": entity, "action": action,
        "version": version,
        "changes": changes_json(&plan.changes),
        "pending": pending_json(&plan.pending),
        "refused": refused_json(&plan.refusals),
        "summary": summary(&plan.changes),
    })
}

/// What the ledger keeps of a change: each step without its SQL (the ledger's
/// `sql` column holds it once), then the pending work, if any.
pub fn ledger_plan(plan: &Evolution) -> Value {
    let mut recorded = changes_json(&plan.changes);
    for entry in &mut recorded {
        entry.as_object_mut().map(|m| m.remove("sql"));
    }
    if !plan.pending.is_empty() {
        recorded.push(json!({"step": "pending", "pending": pending_json(&plan.pending)}));
    }
    Value::Array(recorded)
}

/// The ledger's plan for a one-to-many relation that follows the rename of
/// the relation it names as its inverse (no DDL).
pub fn ledger_inverse_rename(field: &str, from: &str, to: &str) -> Value {
    json!([{"step": "rename_inverse", "class": "metadata", "note": format!("{field}: inverse {from} is now {to}")}])
}

/// A dry run of `cot.apply_schema`: an entity the bundle creates.
pub fn bundle_creation(entity: &str, steps: Vec<Step>) -> Value {
    let changes = creation(steps);
    json!({"entity": entity, "action": "create", "summary": summary(&changes),
           "changes": changes_json(&changes)})
}

/// A dry run of `cot.apply_schema`: an entity the bundle changes (or leaves
/// as it is, `action` `none`).
pub fn bundle_change(entity: &str, action: &str, version: i64, plan: &Evolution) -> Value {
    json!({"entity": entity, "action": action, "version": version,
           "summary": summary(&plan.changes),
           "changes": changes_json(&plan.changes),
           "pending": pending_json(&plan.pending)})
}

/// A dry run of `cot.apply_schema`: an entity the bundle drops, with its rows.
pub fn bundle_drop(entity: &str, rows: u64) -> Value {
    json!({"entity": entity, "action": "drop", "rows": rows})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::names::{check_name, Keywords, NameKind};
    use crate::plan::RelKind;

    fn ident(s: &str) -> crate::names::Ident {
        check_name(NameKind::Entity, s, "", &Keywords::default()).unwrap()
    }

    fn drop_view() -> Step {
        Step::DropRelation {
            kind: RelKind::View,
            schema: ident("acme"),
            name: ident("notes"),
        }
    }

    fn change(class: Class, rows: Option<u64>, note: Option<&str>) -> Change {
        Change {
            step: drop_view(),
            class,
            rows,
            note: note.map(str::to_string),
        }
    }

    #[test]
    fn a_change_prints_its_step_class_sql_and_what_it_counted() {
        let bare = change_json(&change(Class::Metadata, None, None));
        assert_eq!(
            bare,
            json!({"step": "drop_relation", "class": "metadata", "sql": render(&drop_view())})
        );
        let counted = change_json(&change(Class::DataLoss, Some(3), Some("why")));
        assert_eq!(counted["class"], "data_loss");
        assert_eq!(counted["rows"], 3);
        assert_eq!(counted["note"], "why");
    }

    #[test]
    fn summary_counts_every_class_even_when_zero() {
        let changes = [
            change(Class::Metadata, None, None),
            change(Class::Scan, None, None),
            change(Class::Scan, None, None),
        ];
        assert_eq!(
            summary(&changes),
            json!({"metadata": 1, "validating_scan": 2, "table_rewrite": 0, "data_loss": 0})
        );
        assert_eq!(
            summary(&[]),
            json!({"metadata": 0, "validating_scan": 0, "table_rewrite": 0, "data_loss": 0})
        );
    }

    #[test]
    fn creation_is_all_metadata() {
        let changes = creation(vec![drop_view(), drop_view()]);
        assert!(changes
            .iter()
            .all(|c| c.class == Class::Metadata && c.rows.is_none() && c.note.is_none()));
        let plan = plan_of_creation("acme", "notes", vec![drop_view()]);
        assert_eq!(plan["action"], "create");
        assert_eq!(plan["version"], Value::Null);
        assert_eq!(plan["changes"][0]["step"], "drop_relation");
        assert_eq!(
            (plan["pending"].clone(), plan["refused"].clone()),
            (json!([]), json!([]))
        );
        assert_eq!(plan["summary"]["metadata"], 1);
    }

    #[test]
    fn action_is_none_only_without_steps_and_without_a_changed_definition() {
        let empty = Evolution::default();
        let with_step = Evolution {
            changes: vec![change(Class::Metadata, None, None)],
            ..Default::default()
        };
        let (a, b) = (json!({"label": "A"}), json!({"label": "B"}));
        assert_eq!(action(&empty, &a, &a), "none");
        assert_eq!(action(&empty, &a, &b), "alter");
        assert_eq!(action(&with_step, &a, &a), "alter");
    }

    #[test]
    fn a_change_plan_lists_pending_work_and_refusals() {
        let plan = Evolution {
            changes: vec![change(Class::Rewrite, None, None)],
            pending: vec![drop_view()],
            refusals: vec![Violation::new(ErrorKind::DataLoss, "/fields", "no", "allow it")],
        };
        let out = plan_of_change("acme", "notes", "alter", 4, &plan);
        assert_eq!(out["version"], 4);
        assert_eq!(
            out["pending"],
            json!([{"step": "drop_relation", "sql": render_concurrently(&drop_view())}])
        );
        assert_eq!(out["refused"][0]["sqlstate"], "22000");
        assert_eq!(out["summary"]["table_rewrite"], 1);
        let dry = bundle_change("notes", "alter", 4, &plan);
        assert_eq!(dry["pending"], out["pending"]);
        assert!(dry.get("refused").is_none() && dry.get("tenant").is_none());
    }

    #[test]
    fn the_ledger_keeps_steps_without_sql_and_pending_work_last() {
        let plan = Evolution {
            changes: vec![change(Class::Scan, Some(0), None)],
            pending: vec![drop_view()],
            refusals: Vec::new(),
        };
        let kept = ledger_plan(&plan);
        assert_eq!(
            kept[0],
            json!({"step": "drop_relation", "class": "validating_scan", "rows": 0})
        );
        assert_eq!(kept[1]["step"], "pending");
        assert_eq!(kept.as_array().map(Vec::len), Some(2));
        assert_eq!(ledger_plan(&Evolution::default()), json!([]));
        assert_eq!(
            ledger_inverse_rename("orders", "customer", "buyer")[0]["note"],
            "orders: inverse customer is now buyer"
        );
    }

    #[test]
    fn bundle_entries() {
        let created = bundle_creation("notes", vec![drop_view()]);
        assert_eq!(created["action"], "create");
        assert_eq!(created["summary"]["metadata"], 1);
        assert_eq!(
            bundle_drop("old", 7),
            json!({"entity": "old", "action": "drop", "rows": 7})
        );
    }
}
