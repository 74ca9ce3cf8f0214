//! Unit tests of validation, and [`TestEnv`], the stand-in server that other
//! modules' tests validate their definitions with.

use super::*;
use crate::literal::{DefaultValue, Literal};
use crate::names::tests::pg15_keywords;
use serde_json::json;

/// A stand-in for the server in unit tests: reserved words from PostgreSQL 15
/// and a regex check that accepts balanced patterns. The server's real regex
/// engine is exercised by the SQL tests.
pub(crate) struct TestEnv(Keywords, Arc<FieldTypes>);

impl TestEnv {
    pub(crate) fn new() -> Self {
        TestEnv(pg15_keywords(), Arc::default())
    }

    /// With these custom field types registered.
    pub(crate) fn with_types(types: FieldTypes) -> Self {
        TestEnv(pg15_keywords(), Arc::new(types))
    }
}

impl Environment for TestEnv {
    fn keywords(&self) -> &Keywords {
        &self.0
    }
    fn check_regex(&self, p: &str) -> Result<(), String> {
        let open = p.matches('(').count();
        let close = p.matches(')').count();
        if open == close {
            Ok(())
        } else {
            Err("parentheses () not balanced".into())
        }
    }
    fn field_types(&self) -> Arc<FieldTypes> {
        self.1.clone()
    }
    fn regex_matches(&self, p: &str, t: &str) -> Result<bool, String> {
        // Enough for the patterns used in these tests.
        Ok(match p {
            crate::scalar::EMAIL_PATTERN => t.contains('@') && t.contains('.') && !t.contains(' '),
            crate::scalar::URL_PATTERN => t.starts_with("http://") || t.starts_with("https://"),
            "^[A-Z]+$" | "^[A-Z]{3}$" => !t.is_empty() && t.chars().all(|c| c.is_ascii_uppercase()),
            _ => true,
        })
    }
}

fn run(def: Value) -> Result<Validated, Vec<Violation>> {
    validate(&def, &TestEnv::new())
}

fn errors(def: Value) -> Vec<(String, ErrorKind)> {
    run(def)
        .expect_err("should fail")
        .into_iter()
        .map(|v| (v.pointer, v.kind))
        .collect()
}

fn one_field(field: Value) -> Value {
    json!({"tenant": "acme", "name": "things", "fields": [field]})
}

#[test]
fn a_full_definition_normalizes() {
    let v = run(json!({
        "tenant": "acme", "name": "order_items", "description": "Lines of an order",
        "fields": [
            {"name": "title", "type": "text", "required": true, "max_length": 200},
            {"name": "status", "type": "enum", "values": ["draft", "paid"], "default": "draft"},
            {"name": "total", "type": "decimal", "precision": 12, "scale": 2, "min": 0},
            {"name": "email", "type": "email", "unique": true},
            {"name": "tags", "type": "array", "items": "text", "default": []},
            {"name": "placed_at", "type": "timestamp", "default": "now"},
        ],
        "indexes": [{"fields": ["status", "created_at"]}]
    }))
    .unwrap();
    let n = &v.normalized;
    assert_eq!(n["label"], "Order items");
    assert_eq!(n["fields"][0]["label"], "Title");
    assert_eq!(n["fields"][0]["required"], true);
    assert_eq!(n["fields"][1]["default"], "draft");
    assert_eq!(n["fields"][3]["max_length"], 254);
    assert_eq!(n["fields"][4]["items"], "text");
    assert_eq!(n["fields"][5]["default"], "now");
    assert_eq!(n["indexes"][0]["fields"], json!(["status", "created_at"]));
    assert!(n["id"].is_string() && n["fields"][0]["id"].is_string());
    assert_eq!(v.entity.fields[5].default, Some(DefaultValue::Now));
    // Fed back in, the normalized form is accepted and keeps its ids.
    let again = validate(&n.clone(), &TestEnv::new()).unwrap();
    assert_eq!(again.normalized, *n);
}

#[test]
fn every_violation_is_reported_with_its_pointer() {
    let e = errors(json!({"tenant": "acme", "name": "things", "fields": [
        {"name": "a", "type": "text", "min_length": 5, "max_length": 2},
        {"name": "b", "type": "integer", "min": 10, "max": 1},
        {"name": "c", "type": "decimal", "precision": 4, "scale": 6},
        {"name": "d", "type": "enum", "values": ["x", "y"], "default": "z"},
        {"name": "a", "type": "boolean"},
        {"name": "e", "type": "integer", "max_length": 3},
    ], "indexes": [{"fields": ["nope"]}]}));
    let expect = [
        ("/fields/0/min_length", ErrorKind::InvalidParameter),
        ("/fields/1/min", ErrorKind::InvalidParameter),
        ("/fields/2/scale", ErrorKind::InvalidParameter),
        ("/fields/3/default", ErrorKind::InvalidParameter),
        ("/fields/4/name", ErrorKind::DuplicateColumn),
        ("/fields/5/max_length", ErrorKind::InvalidParameter),
        ("/indexes/0/fields/0", ErrorKind::UndefinedColumn),
    ];
    for (p, k) in expect {
        assert!(e.contains(&(p.to_string(), k)), "missing {p} {k:?} in {e:?}");
    }
}

/// Each option and the types it does not fit: a table of (field, pointer).
#[test]
fn options_that_do_not_fit_the_type() {
    let cases = [
        (
            json!({"name": "f", "type": "integer", "pattern": "x"}),
            "/fields/0/pattern",
        ),
        (json!({"name": "f", "type": "text", "min": 1}), "/fields/0/min"),
        (json!({"name": "f", "type": "boolean", "max": 1}), "/fields/0/max"),
        (
            json!({"name": "f", "type": "text", "values": ["a"]}),
            "/fields/0/values",
        ),
        (
            json!({"name": "f", "type": "text", "precision": 3}),
            "/fields/0/precision",
        ),
        (
            json!({"name": "f", "type": "text", "items": "text"}),
            "/fields/0/items",
        ),
        (json!({"name": "f", "type": "array"}), "/fields/0/items"),
        (json!({"name": "f", "type": "enum"}), "/fields/0/values"),
        (
            json!({"name": "f", "type": "array", "items": "text", "max_length": 3}),
            "/fields/0/max_length",
        ),
        (
            json!({"name": "f", "type": "email", "pattern": "x"}),
            "/fields/0/pattern",
        ),
        (
            json!({"name": "f", "type": "decimal", "scale": 2}),
            "/fields/0/scale",
        ),
        (
            json!({"name": "f", "type": "text", "pattern": "(a"}),
            "/fields/0/pattern",
        ),
    ];
    for (field, pointer) in cases {
        let e = errors(one_field(field.clone()));
        assert!(e.iter().any(|(p, _)| p == pointer), "{field}: {e:?}");
    }
}

#[test]
fn defaults_are_typed_and_checked() {
    let ok = [
        json!({"name": "f", "type": "integer", "default": 3, "min": 0, "max": 5}),
        json!({"name": "f", "type": "date", "default": "today"}),
        json!({"name": "f", "type": "date", "default": "2024-01-31"}),
        json!({"name": "f", "type": "time", "default": "now"}),
        json!({"name": "f", "type": "uuid", "default": "uuid"}),
        json!({"name": "f", "type": "json", "default": {"a": [1, 2]}}),
        json!({"name": "f", "type": "text", "default": "now"}),
        json!({"name": "f", "type": "array", "items": "enum", "values": ["a", "b"], "default": ["a"]}),
        json!({"name": "f", "type": "boolean", "default": null}),
        json!({"name": "f", "type": "text", "pattern": "^[A-Z]+$", "default": "ABC"}),
    ];
    for f in ok {
        assert!(run(one_field(f.clone())).is_ok(), "{f}");
    }
    let bad = [
        json!({"name": "f", "type": "integer", "default": "3"}),
        json!({"name": "f", "type": "integer", "default": 9, "max": 5}),
        json!({"name": "f", "type": "date", "default": "now"}),
        json!({"name": "f", "type": "timestamp", "default": "today"}),
        json!({"name": "f", "type": "uuid", "default": "now()"}),
        json!({"name": "f", "type": "text", "default": "now()", "max_length": 3}),
        json!({"name": "f", "type": "email", "default": "not an email"}),
        json!({"name": "f", "type": "url", "default": "javascript:alert(1)"}),
        json!({"name": "f", "type": "array", "items": "integer", "default": [1, "x"]}),
        json!({"name": "f", "type": "array", "items": "enum", "values": ["a"], "default": ["b"]}),
        json!({"name": "f", "type": "text", "pattern": "^[A-Z]+$", "default": "abc"}),
        json!({"name": "f", "type": "decimal", "precision": 3, "scale": 1, "default": 100}),
    ];
    for f in bad {
        let e = errors(one_field(f.clone()));
        assert!(
            e.iter().any(|(p, _)| p.starts_with("/fields/0/default")),
            "{f}: {e:?}"
        );
    }
}

#[test]
fn names_keep_their_codes_inside_definitions() {
    let e = errors(
        json!({"tenant": "Acme", "name": "rpc", "fields": [{"name": "x y", "type": "text"}, {"name": "id", "type": "text"}]}),
    );
    assert_eq!(
        e,
        vec![
            ("/fields/0/name".to_string(), ErrorKind::InvalidName),
            ("/fields/1/name".to_string(), ErrorKind::ReservedName),
            ("/name".to_string(), ErrorKind::ReservedName),
            ("/tenant".to_string(), ErrorKind::InvalidName),
        ]
    );
}

#[test]
fn duplicate_and_unknown_index_columns() {
    let e = errors(
        json!({"tenant": "acme", "name": "t", "fields": [{"name": "a", "type": "text"}],
        "indexes": [{"fields": ["a", "a"]}, {"fields": ["a"]}, {"fields": ["a"]}]}),
    );
    assert!(e.contains(&("/indexes/0/fields/1".into(), ErrorKind::InvalidParameter)));
    assert!(e.contains(&("/indexes/2".into(), ErrorKind::InvalidParameter)));
}

#[test]
fn an_entity_and_its_field_cannot_share_an_id() {
    let id = "0190b000-0000-7000-8000-0000000000bb";
    let e = errors(
        json!({"tenant": "acme", "name": "t", "id": id, "fields": [{"name": "a", "type": "text", "id": id}]}),
    );
    assert_eq!(e, vec![("/fields/0/id".to_string(), ErrorKind::DuplicateObject)]);
}

#[test]
fn bugs_found_by_review_stay_fixed() {
    // The lowest integer as a bound renders as a literal Postgres can read.
    let v = run(one_field(
        json!({"name": "f", "type": "integer", "min": -2147483648i64, "default": -2147483648i64}),
    ))
    .unwrap();
    assert_eq!(v.entity.fields[0].min, Some(Literal::Int(-2147483648)));
    // An email's min_length is held to the 254 cap.
    let e = errors(one_field(
        json!({"name": "f", "type": "email", "min_length": 300}),
    ));
    assert!(
        e.contains(&("/fields/0/min_length".to_string(), ErrorKind::InvalidParameter)),
        "{e:?}"
    );
    // A one-field compound index that repeats the field's own option.
    let e = errors(
        json!({"tenant": "acme", "name": "t", "fields": [{"name": "a", "type": "text", "index": true}],
        "indexes": [{"fields": ["a"]}]}),
    );
    assert!(
        e.contains(&("/indexes/0".to_string(), ErrorKind::InvalidParameter)),
        "{e:?}"
    );
    // Messages quote a value once.
    let e = run(one_field(
        json!({"name": "f", "type": "enum", "values": ["a"], "default": "void"}),
    ))
    .unwrap_err();
    assert!(
        e[0].message.contains("default \"void\" is not"),
        "{}",
        e[0].message
    );
}

#[test]
fn oversized_definition_is_refused_quickly() {
    let big = "x".repeat(10 * 1024 * 1024);
    let start = std::time::Instant::now();
    let e = errors(json!({"tenant": "acme", "name": "t", "description": big}));
    assert_eq!(e, vec![("".to_string(), ErrorKind::ProgramLimit)]);
    assert!(start.elapsed().as_secs() < 5);
}

#[test]
fn many_fields_with_violations_stay_bounded() {
    let fields: Vec<Value> = (0..5000)
        .map(|i| json!({"name": format!("f{i}"), "type": "nope"}))
        .collect();
    let e = run(json!({"tenant": "acme", "name": "t", "fields": fields})).unwrap_err();
    assert!(e.len() <= 400, "{}", e.len());
}

#[test]
fn a_scale_past_the_precision_with_a_bound_is_refused_not_a_panic() {
    // Found by review: `p - s` in the digit check overflowed (a panic in
    // builds with overflow checks, a skipped check in release ones).
    let e = errors(one_field(
        json!({"name": "f", "type": "decimal", "precision": 2, "scale": 3, "min": 1, "default": 1}),
    ));
    assert!(e.iter().any(|(p, _)| p.starts_with("/fields/0")), "{e:?}");
}
