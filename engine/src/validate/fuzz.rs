//! Property tests: no document, however malformed, makes validation panic, and
//! what it accepts can be planned and rendered.

use super::tests::TestEnv;
use super::*;
use proptest::prelude::*;
use serde_json::{json, Map};

/// Any JSON value, biased towards the keys and shapes a definition has, so
/// the generator reaches deep into validation rather than stopping at the
/// schema.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("name".to_string()),
        Just("type".to_string()),
        Just("default".to_string()),
        Just("min".to_string()),
        Just("max".to_string()),
        Just("values".to_string()),
        Just("items".to_string()),
        Just("precision".to_string()),
        Just("scale".to_string()),
        Just("max_length".to_string()),
        Just("pattern".to_string()),
        "[a-z_]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            Just("text"),
            Just("integer"),
            Just("decimal"),
            Just("enum"),
            Just("array"),
            Just("date"),
            Just("timestamp"),
            Just("time"),
            Just("uuid"),
            Just("now"),
            Just("today"),
            Just("2024-02-30"),
            Just("12:00"),
            Just("2024-01-01T00:00:00Z"),
            Just("1e400"),
        ]
        .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn field() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just("a".to_string()),
            Just("b".to_string()),
            Just("select".to_string()),
            Just("Bad".to_string()),
            "[a-z]{1,3}"
        ],
        prop::sample::select(
            crate::scalar::SCALAR_TYPE_NAMES
                .iter()
                .copied()
                .chain(["array"])
                .collect::<Vec<_>>(),
        ),
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "default",
                    "min",
                    "max",
                    "values",
                    "items",
                    "precision",
                    "scale",
                    "min_length",
                    "max_length",
                    "pattern",
                    "required",
                    "unique",
                    "index",
                ]),
                json_value(),
            ),
            0..5,
        ),
    )
        .prop_map(|(name, ty, opts)| {
            let mut m = Map::new();
            m.insert("name".into(), json!(name));
            m.insert("type".into(), json!(ty));
            for (k, v) in opts {
                m.insert(k.into(), v);
            }
            Value::Object(m)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// No input makes validation panic; every rejection carries a known code
    /// and a pointer into the document.
    #[test]
    fn validation_never_panics(fields in prop::collection::vec(field(), 0..6), extra in json_value()) {
        let mut def = json!({"tenant": "acme", "name": "things", "fields": fields});
        if let Value::Object(m) = &extra {
            if let Some((k, v)) = m.iter().next() {
                def[k.as_str()] = v.clone();
            }
        }
        match validate(&def, &TestEnv::new()) {
            Ok(v) => {
                // An accepted definition renders without panicking too.
                let steps = crate::plan::create_entity(&v.entity, &crate::plan::Labels::of(&v.normalized));
                prop_assert!(!crate::ddl::render_all(&steps).is_empty());
            }
            Err(vs) => {
                prop_assert!(!vs.is_empty());
                for v in vs {
                    prop_assert!(v.pointer.is_empty() || v.pointer.starts_with('/'));
                    prop_assert!(!matches!(v.kind, ErrorKind::Failpoint | ErrorKind::InsufficientPrivilege));
                }
            }
        }
    }

    #[test]
    fn arbitrary_documents_never_panic(doc in json_value()) {
        let _ = validate(&doc, &TestEnv::new());
    }
}
