//! Tests of [`super`]: expected objects and the findings of comparisons.

use super::*;
use crate::validate::{tests::TestEnv, validate};
use serde_json::json;

/// The orders view as the catalog would show it: every column, each with
/// whether it has a default.
fn view_state(x: &Expected, without_default: &str) -> Value {
    let columns: Vec<Value> = x
        .columns
        .iter()
        .map(|(name, ty, _)| {
            json!([
                name,
                ty,
                false,
                x.defaults.contains(name) && name != without_default
            ])
        })
        .collect();
    let grants: Vec<Value> = x.grants.iter().map(|(r, p)| json!([r, p])).collect();
    json!({"exists": true, "columns": columns, "grants": grants})
}

#[test]
fn a_view_column_without_its_default_is_drift() {
    let v = validate(
        &json!({"tenant": "acme", "name": "orders", "fields": [
            {"name": "status", "type": "text", "default": "draft"},
            {"name": "note", "type": "text"}
        ]}),
        &TestEnv::new(),
    )
    .unwrap();
    let all = expected(&v.entity, &Labels::of(&v.normalized));
    let view = all.iter().find(|x| x.view && x.name == "orders").unwrap();
    let want: BTreeSet<String> = ["id", "status", "created_at", "updated_at"]
        .map(String::from)
        .into();
    assert_eq!(view.defaults, want);
    assert!(compare(view, &view_state(view, "")).is_empty());
    let found = compare(view, &view_state(view, "status"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].object, "acme.orders.status");
    assert_eq!(
        found[0].problem,
        "column has no default, the definition gives it one"
    );
}
