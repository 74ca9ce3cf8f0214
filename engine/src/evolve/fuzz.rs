//! Property tests: any change between two valid definitions of one entity
//! (fields dropped, renamed, retyped, added, options and access rules
//! changed, in any mix) is planned and rendered without a panic, whatever the
//! table's rows are counted to be; a change that cannot be made is refused
//! with violations, never with steps that would half-make it.

use super::tests::valid;
use super::*;
use crate::ddl::render;
use crate::plan::Labels;
use crate::validate::{tests::TestEnv, validate};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Field types a field may have on either side of a change.
const TYPES: &[&str] = &[
    "text",
    "integer",
    "bigint",
    "decimal",
    "float",
    "boolean",
    "date",
    "timestamp",
    "time",
    "uuid",
    "json",
    "enum",
    "email",
    "url",
    "array",
];
const RULES: &[&str] = &["public", "tenant", "owner", "admin"];

/// One field with a fixed id (so the two sides match it), a name from a
/// small set (so renames and clashes happen) and options that fit its type
/// most of the time.
fn field(id: u8) -> impl Strategy<Value = Value> {
    const NAMES: [&str; 6] = ["a", "b", "c", "title", "qty", "note"];
    (
        prop_oneof![
            4 => Just(NAMES[id as usize % NAMES.len()]),
            1 => prop::sample::select(NAMES.to_vec())
        ],
        prop::sample::select(TYPES),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::option::of(0u32..300),
        prop::option::weighted(
            0.1,
            prop_oneof![
                Just(json!(0)),
                Just(json!("x")),
                Just(json!(true)),
                Just(json!("now")),
                Just(json!([]))
            ],
        ),
    )
        .prop_map(move |(name, ty, required, unique, index, max, default)| {
            let mut f = json!({
                "id": format!("01900000-0000-7000-8000-0000000001{id:02}"),
                "name": name, "type": ty, "required": required, "unique": unique, "index": index,
            });
            match ty {
                "text" | "email" | "url" => {
                    if let Some(m) = max {
                        f["max_length"] = json!(m + 1);
                    }
                }
                "integer" | "bigint" => {
                    if let Some(m) = max {
                        f["max"] = json!(m);
                    }
                }
                "decimal" => {
                    f["precision"] = json!(max.map_or(12, |m| 1 + m % 30));
                    f["scale"] = json!(2);
                }
                "enum" => f["values"] = json!(["x", "y", "z"]),
                "array" => f["items"] = json!("text"),
                _ => {}
            }
            if let Some(d) = default {
                f["default"] = d;
            }
            f
        })
}

fn definition() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(prop::option::of(any::<u8>()), 6),
        prop::collection::vec(prop::sample::select(RULES), 4),
    )
        .prop_flat_map(|(present, rules)| {
            let fields: Vec<_> = present
                .iter()
                .enumerate()
                .filter(|(_, p)| p.is_some())
                .map(|(i, _)| field(i as u8))
                .collect();
            (fields, Just(rules))
        })
        .prop_map(|(fields, r)| {
            json!({"tenant": "acme", "name": "item", "id": "01900000-0000-7000-8000-000000000001",
                   "fields": fields,
                   "access": {"read": r[0], "create": r[1], "update": r[2], "delete": r[3]}})
        })
}

/// Counts rows as the test case says: none, a few, or some of each probe.
struct Rows(u64);

impl Counter for Rows {
    fn count(&mut self, c: &Count) -> u64 {
        match c.probe {
            Probe::AnyRow => self.0.min(1),
            _ => self.0,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("COT_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(1000)
    ))]

    #[test]
    fn any_change_plans_and_renders(
        old in definition(),
        new in definition(),
        rows in prop::sample::select(vec![0u64, 1, 1000]),
        loss in any::<bool>(),
        defer in any::<bool>(),
    ) {
        let env = TestEnv::new();
        let (Ok(o), Ok(n)) = (validate(&old, &env), validate(&new, &env)) else {
            return Ok(());
        };
        let (ol, nl) = (Labels::of(&o.normalized), Labels::of(&n.normalized));
        let rename_values = if defer { vec![("a".into(), "x".into(), "w".into())] } else { vec![] };
        let options = Options { allow_data_loss: loss, defer_validation: defer, defer_indexes: defer, rename_values };
        let e = evolve(
            &Side { entity: &o.entity, labels: &ol, normalized: &o.normalized },
            &Side { entity: &n.entity, labels: &nl, normalized: &n.normalized },
            &Surroundings::default(),
            &options,
            &mut Rows(rows),
        );
        for c in &e.changes {
            prop_assert!(!render(&c.step).is_empty());
        }
        for s in &e.pending {
            prop_assert!(!render(s).is_empty());
        }
        for v in &e.refusals {
            prop_assert!(v.pointer.is_empty() || v.pointer.starts_with('/'), "{:?}", v);
        }
        // The same definition on both sides changes nothing (renamed enum
        // values aside: those rows are rewritten whatever the definition).
        let options = Options { rename_values: vec![], ..options };
        let same = evolve(
            &Side { entity: &n.entity, labels: &nl, normalized: &n.normalized },
            &Side { entity: &n.entity, labels: &nl, normalized: &n.normalized },
            &Surroundings::default(),
            &options,
            &mut Rows(rows),
        );
        prop_assert!(same.changes.is_empty() && same.refusals.is_empty(), "{:?}", same.changes);
    }
}

/// The generator makes valid definitions often enough to be worth running.
#[test]
fn the_generator_makes_valid_definitions() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::default();
    let ok = (0..500)
        .filter(|_| {
            validate(
                &definition().new_tree(&mut runner).unwrap().current(),
                &TestEnv::new(),
            )
            .is_ok()
        })
        .count();
    assert!(ok >= 250, "only {ok} of 500 definitions were valid");
    let _ = valid(super::tests::base());
}
