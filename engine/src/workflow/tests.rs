//! Workflows without a server: definitions accepted and refused (with their
//! pointers), the normalized form, the planned and rendered objects, and a
//! property test over random workflows.

use super::*;
use crate::ddl::render_all;
use crate::plan::{create_entity, Labels, Step};
use crate::validate::{tests::TestEnv, validate};
use proptest::prelude::*;
use serde_json::json;

pub(crate) fn orders() -> Value {
    json!({"tenant": "acme", "name": "orders",
        "access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "admin"},
        "fields": [
        {"name": "total", "type": "decimal", "precision": 12, "scale": 2},
        {"name": "status", "type": "state", "states": ["draft", "paid", "shipped", "cancelled"], "initial": "draft",
         "transitions": [
            {"name": "pay", "from": "draft", "to": "paid", "who": "tenant", "guard": {"total": {"gt": 0}}},
            {"name": "ship", "from": ["paid"], "to": "shipped", "who": ["admin", "warehouse"]},
            {"name": "cancel", "from": ["draft", "paid"], "to": "cancelled", "who": "owner"}
         ]}
    ]})
}

fn problems(def: Value) -> Vec<(String, String)> {
    match validate(&def, &TestEnv::new()) {
        Ok(_) => Vec::new(),
        Err(v) => v.into_iter().map(|v| (v.pointer, v.message)).collect(),
    }
}

#[test]
fn a_state_field_validates_normalizes_and_round_trips() {
    let v = validate(&orders(), &TestEnv::new()).unwrap_or_else(|e| panic!("{e:?}"));
    let w = v.entity.workflow.as_ref().expect("a workflow");
    assert_eq!(w.field.as_str(), "status");
    assert_eq!(w.starts, vec!["draft"]);
    assert_eq!(
        w.transitions[1].who,
        vec![Who::Admin, Who::Role("warehouse".into())]
    );
    let f = &v.normalized["fields"][1];
    assert_eq!(f["type"], "state");
    assert_eq!(f["states"], json!(["draft", "paid", "shipped", "cancelled"]));
    assert_eq!(f["transitions"][0]["from"], json!(["draft"]));
    assert_eq!(f["transitions"][2]["who"], json!(["owner"]));
    assert!(f.get("values").is_none() && f.get("default").is_none());
    // The column: NOT NULL text held to the states, the initial state as default.
    let status = &v.entity.fields[1];
    assert!(status.required);
    assert_eq!(
        status.ty,
        crate::types::FieldType::Scalar(crate::scalar::Scalar::Enum(w.states.clone()))
    );
    // Fed back, the normalized definition validates to itself.
    let again = validate(&v.normalized, &TestEnv::new()).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(again.normalized, v.normalized);
    assert_eq!(again.entity.workflow, v.entity.workflow);
}

#[test]
fn bad_workflows_are_refused_each_at_its_pointer() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"initial": "nope"}),
            "/fields/1/initial",
            "not one of the field's states",
        ),
        (
            json!({"starts": ["paid"]}),
            "/fields/1/starts",
            "does not hold the initial state",
        ),
        (
            json!({"values": ["a"]}),
            "/fields/1/values",
            "does not apply to state fields",
        ),
        (
            json!({"default": "paid"}),
            "/fields/1/default",
            "does not apply to state fields",
        ),
        (
            json!({"transitions": [{"name": "x", "from": "draft", "to": "gone"}]}),
            "/fields/1/transitions/0/to",
            "not one of the field's states",
        ),
        (
            json!({"transitions": [{"name": "x", "from": ["draft", "nowhere"], "to": "paid"}]}),
            "/fields/1/transitions/0/from/1",
            "not one of the field's states",
        ),
        (
            json!({"transitions": [{"name": "x", "from": "draft", "to": "draft"}]}),
            "/fields/1/transitions/0/to",
            "to itself",
        ),
        (
            json!({"transitions": [{"name": "x", "from": "draft", "to": "paid"}, {"name": "x", "from": "paid", "to": "shipped"}]}),
            "/fields/1/transitions/1/name",
            "defined twice",
        ),
        (
            json!({"transitions": [{"name": "x", "from": "draft", "to": "paid", "guard": {"nothing": {"eq": 1}}}]}),
            "/fields/1/transitions/0/guard/nothing",
            "has no field",
        ),
        (
            json!({"transitions": [{"name": "x", "from": "draft", "to": "paid", "guard": {"total": {"gt": "lots"}}}]}),
            "/fields/1/transitions/0/guard/total/gt",
            "",
        ),
        (
            json!({"transitions": [{"name": "x", "from": "draft", "to": "paid", "who": "owner"}]}),
            "/fields/1/transitions/0/who",
            "owner column",
        ),
        (
            json!({"transitions": [{"name": "x", "from": "draft", "to": "paid", "who": "pg_read_all_data"}]}),
            "/fields/1/transitions/0/who",
            "neither public",
        ),
    ];
    for (patch, pointer, message) in cases {
        let mut def = json!({"tenant": "acme", "name": "orders", "fields": [
            {"name": "total", "type": "decimal"},
            {"name": "status", "type": "state", "states": ["draft", "paid", "shipped"], "initial": "draft"}
        ]});
        for (k, v) in patch.as_object().unwrap() {
            def["fields"][1][k] = v.clone();
        }
        let found = problems(def);
        assert!(
            found.iter().any(|(p, m)| p == pointer && m.contains(message)),
            "{patch}: wanted {pointer} {message:?}, got {found:?}"
        );
    }
    // Two state fields; state options on another type.
    let two = json!({"tenant": "acme", "name": "t", "fields": [
        {"name": "a", "type": "state", "states": ["x"], "initial": "x"},
        {"name": "b", "type": "state", "states": ["y"], "initial": "y"},
        {"name": "c", "type": "text", "states": ["z"]}
    ]});
    let found = problems(two);
    assert!(
        found
            .iter()
            .any(|(p, m)| p == "/fields/1/type" && m.contains("at most one state field")),
        "{found:?}"
    );
    assert!(found.iter().any(|(p, _)| p == "/fields/2/states"), "{found:?}");
}

fn rendered(def: Value) -> Vec<String> {
    let v = validate(&def, &TestEnv::new()).unwrap_or_else(|e| panic!("{e:?}"));
    render_all(&create_entity(&v.entity, &Labels::of(&v.normalized)))
}

#[test]
fn the_trigger_is_static_sql_with_every_transition_role_and_guard() {
    let sql = rendered(orders());
    let function = sql
        .iter()
        .find(|s| s.starts_with("CREATE OR REPLACE FUNCTION \"tenant_acme\".\"orders_workflow\"()"))
        .expect("the trigger function");
    assert!(function.contains("SECURITY DEFINER SET search_path = pg_catalog, pg_temp"));
    assert!(!function.contains("EXECUTE format") && !function.contains("EXECUTE pg_catalog.format"));
    // Every transition, its role check and its guard with an inline literal.
    assert!(
        function.contains("OLD.\"status\" IN (''draft'') AND NEW.\"status\" = ''paid''"),
        "{function}"
    );
    assert!(function.contains("NEW.\"total\" > ''0''::numeric"), "{function}");
    assert!(
        function.contains("pg_catalog.to_regrole(''warehouse'')"),
        "{function}"
    );
    assert!(
        function.contains("OLD.\"owner_id\" = cot.claim_sub()"),
        "{function}"
    );
    for code in [NOT_A_TRANSITION, NOT_ALLOWED, GUARD_FAILED, NOT_A_START] {
        assert!(function.contains(code), "{code}");
    }
    assert!(sql.iter().any(|s| s
        == "CREATE TRIGGER \"cot_workflow\" BEFORE INSERT OR UPDATE OF \"status\" ON \"tenant_acme\".\"orders\" \
            FOR EACH ROW EXECUTE FUNCTION \"tenant_acme\".\"orders_workflow\"()"));
    // Transitions are recorded without history too: the log is made.
    assert!(sql
        .iter()
        .any(|s| s.starts_with("CREATE TABLE IF NOT EXISTS \"tenant_acme\".\"_changes\"")));
}

#[test]
fn a_workflow_without_transitions_still_makes_valid_case_expressions() {
    let sql = rendered(json!({"tenant": "acme", "name": "t", "fields": [
        {"name": "s", "type": "state", "states": ["a", "b"], "initial": "a"}]}));
    let function = sql
        .iter()
        .find(|s| s.contains("FUNCTION \"tenant_acme\".\"t_workflow\""))
        .unwrap();
    // `CASE x ELSE y END` is a syntax error: with no arm, the text itself.
    assert!(!function.contains("CASE refused ELSE"), "{function}");
}

#[test]
fn hostile_state_and_transition_text_stays_inside_literals() {
    let def = json!({"tenant": "acme", "name": "t", "fields": [
        {"name": "s", "type": "state", "states": ["a'); DROP TABLE x; --", "b\\'$$"], "initial": "a'); DROP TABLE x; --",
         "transitions": [{"name": "go", "from": "a'); DROP TABLE x; --", "to": "b\\'$$", "guard": {"s": {"like": "%'$$--"}}}]}
    ]});
    let sql = rendered(def);
    let function = sql
        .iter()
        .find(|s| s.contains("FUNCTION \"tenant_acme\".\"t_workflow\""))
        .unwrap();
    // The body is one literal: after the AS, the only unquoted text is the REVOKE.
    let body = function.split(" AS ").nth(1).unwrap();
    let end = body.rfind("; REVOKE ALL").unwrap();
    let literal = &body[..end];
    assert!(
        literal.starts_with("E'") || literal.starts_with('\''),
        "{literal}"
    );
    assert!(literal.ends_with('\''));
}

#[test]
fn evolution_drops_the_trigger_first_and_makes_it_last() {
    use crate::evolve::tests::phase_all;
    let old = validate(&orders(), &TestEnv::new()).unwrap().normalized;
    let mut new = old.clone();
    new["fields"][1]["states"] = json!(["draft", "paid", "shipped"]);
    new["fields"][1]["transitions"] = json!([{"name": "pay", "from": "draft", "to": "paid"}]);
    let steps = phase_all(old.clone(), new);
    let first = steps
        .iter()
        .position(|s| matches!(s, Step::DropWorkflowFunction { .. }))
        .unwrap();
    let last = steps
        .iter()
        .position(|s| matches!(s, Step::CreateWorkflowFunction { .. }))
        .unwrap();
    assert!(first < 3, "{steps:?}");
    assert!(last > first);
    assert!(matches!(steps.last(), Some(Step::CreateWorkflowTrigger { .. })));
    // Unchanged workflow: nothing about it in the plan.
    assert!(!phase_all(old.clone(), old).iter().any(|s| matches!(
        s,
        Step::DropWorkflowFunction { .. } | Step::CreateWorkflowFunction { .. }
    )));
}

#[test]
fn the_graph_has_every_state_and_an_edge_per_source_state() {
    let v = validate(&orders(), &TestEnv::new()).unwrap();
    let g = v.entity.workflow.unwrap().graph();
    assert_eq!(g["nodes"].as_array().unwrap().len(), 4);
    assert_eq!(g["edges"].as_array().unwrap().len(), 4); // cancel leaves from two states
    assert_eq!(
        g["nodes"][0],
        json!({"id": "draft", "initial": true, "start": true, "final": false, "reachable": true})
    );
    assert_eq!(g["nodes"][2]["final"], json!(true));
}

/// A random workflow over states `s0..sn`: each transition from a random
/// non-empty set of states to another one, with a random role requirement
/// (modelled as a bit) and guard result.
fn workflow_strategy() -> impl Strategy<Value = (Workflow, Vec<(bool, bool)>)> {
    (2usize..7).prop_flat_map(|n| {
        let transition = (
            proptest::collection::btree_set(0..n, 1..=n.min(3)),
            0..n,
            any::<bool>(),
            any::<bool>(),
        );
        (
            Just(n),
            proptest::collection::vec(transition, 0..10),
            proptest::collection::btree_set(0..n, 1..3),
        )
            .prop_map(|(n, ts, starts)| {
                let state = |i: usize| format!("s{i}");
                let mut transitions = Vec::new();
                let mut flags = Vec::new();
                for (k, (from, to, may, meets)) in ts.into_iter().enumerate() {
                    let from: Vec<String> = from.into_iter().filter(|f| *f != to).map(state).collect();
                    if from.is_empty() {
                        continue;
                    }
                    transitions.push(Transition {
                        name: format!("t{k}"),
                        label: None,
                        description: None,
                        from,
                        to: state(to),
                        who: vec![Who::Public],
                        guard: None,
                    });
                    flags.push((may, meets));
                }
                let starts: Vec<String> = starts.into_iter().map(state).collect();
                let w = Workflow {
                    field: crate::names::fixed("s"),
                    field_id: uuid::Uuid::nil(),
                    states: (0..n).map(state).collect(),
                    initial: starts[0].clone(),
                    starts,
                    transitions,
                };
                (w, flags)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Random changes asked of a record, each decided as the trigger decides:
    /// the record only ever takes transitions the graph has, that the caller
    /// may take and whose guard holds, so it never leaves the reachable states.
    #[test]
    fn random_changes_never_leave_the_graph(
        (w, flags) in workflow_strategy(),
        asks in proptest::collection::vec((0usize..7, proptest::option::of(0usize..12)), 1..40),
    ) {
        let reach = reachable(&w);
        let index = |t: &Transition| w.transitions.iter().position(|x| x.name == t.name).unwrap();
        let may = |t: &Transition| flags[index(t)].0;
        let meets = |t: &Transition| flags[index(t)].1;
        let mut state = w.initial.clone();
        for (to, named) in asks {
            let to = format!("s{to}");
            let wanted = named.map(|k| format!("t{k}"));
            match decide(&w, &state, &to, wanted.as_deref(), &may, &meets) {
                GraphStep::Taken(name) => {
                    let t = w.transition(&name).unwrap();
                    prop_assert!(t.moves(&state, &to) && may(t) && meets(t));
                    prop_assert!(wanted.as_ref().is_none_or(|n| *n == name));
                    state = to;
                }
                GraphStep::Unchanged => prop_assert_eq!(&state, &to),
                GraphStep::NotATransition => prop_assert!(w.between(&state, &to).iter()
                    .all(|t| wanted.as_ref().is_some_and(|n| *n != t.name))),
                GraphStep::NotAllowed(n) => prop_assert!(!may(w.transition(&n).unwrap())),
                GraphStep::GuardFailed(n) => prop_assert!(!meets(w.transition(&n).unwrap())),
            }
            prop_assert!(reach.contains(&state), "{} is not reachable", state);
        }
    }
}
