//! Property tests: no query document, however malformed, makes parsing or
//! compiling panic; a refused one carries one of the codes `cot.query`
//! documents; an accepted one compiles to a statement whose parentheses and
//! quotes balance and whose `$n` placeholders are exactly its parameters.
//! (tests/clients/fuzz_inputs.test.mjs sends such documents to the server.)

use super::*;
use crate::error::ErrorKind;
use crate::names::TenantNames;
use crate::validate::{tests::TestEnv, validate};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// A tenant with a field of every type and every relation kind.
fn model() -> &'static [Entity] {
    static MODEL: std::sync::OnceLock<Vec<Entity>> = std::sync::OnceLock::new();
    MODEL.get_or_init(build_model)
}

fn build_model() -> Vec<Entity> {
    let defs = [
        json!({"tenant": "acme", "name": "customers", "access": {"read": "owner"}, "fields": [
            {"name": "name", "type": "text", "required": true},
            {"name": "orders", "type": "relation", "kind": "one_to_many", "target": "orders", "inverse": "customer"}]}),
        json!({"tenant": "acme", "name": "orders", "fields": [
            {"name": "title", "type": "text", "required": true},
            {"name": "status", "type": "enum", "values": ["draft", "paid"]},
            {"name": "total", "type": "decimal", "precision": 10, "scale": 2},
            {"name": "qty", "type": "integer"},
            {"name": "views", "type": "bigint"},
            {"name": "ratio", "type": "float"},
            {"name": "rush", "type": "boolean"},
            {"name": "day", "type": "date"},
            {"name": "at", "type": "timestamp"},
            {"name": "slot", "type": "time"},
            {"name": "ref", "type": "uuid"},
            {"name": "meta", "type": "json"},
            {"name": "email", "type": "email"},
            {"name": "link", "type": "url"},
            {"name": "labels", "type": "array", "items": "text"},
            {"name": "codes", "type": "array", "items": "integer"},
            {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers"},
            {"name": "shipment", "type": "relation", "kind": "one_to_one", "target": "shipments"},
            {"name": "tags", "type": "relation", "kind": "many_to_many", "target": "tags"}]}),
        json!({"tenant": "acme", "name": "shipments", "fields": [{"name": "carrier", "type": "text"}]}),
        json!({"tenant": "acme", "name": "tags", "fields": [{"name": "label", "type": "text"},
            {"name": "parent", "type": "relation", "kind": "many_to_one", "target": "tags"}]}),
    ];
    defs.iter()
        .map(|d| {
            validate(d, &TestEnv::new())
                .unwrap_or_else(|v| panic!("{v:?}"))
                .entity
        })
        .collect()
}

const FIELDS: &[&str] = &[
    "id",
    "title",
    "status",
    "total",
    "qty",
    "views",
    "ratio",
    "rush",
    "day",
    "at",
    "slot",
    "ref",
    "meta",
    "email",
    "link",
    "labels",
    "codes",
    "customer_id",
    "shipment_id",
    "created_at",
    "updated_at",
    "owner_id",
    "name",
    "carrier",
    "label",
    "parent_id",
    "nope",
    "*",
];
const RELATIONS: &[&str] = &[
    "customer", "orders", "shipment", "tags", "parent", "title", "ghost",
];
const OPERATORS: &[&str] = &[
    "eq", "neq", "lt", "lte", "gt", "gte", "in", "like", "ilike", "is_null", "contains", "overlaps", "match",
    "between",
];

/// A value of any JSON shape, weighted towards what fields read.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(vec![
            "paid",
            "2026-03-01",
            "2026-02-30",
            "2026-01-01T00:00:00Z",
            "09:30",
            "25:61",
            "01a21636-0000-7000-8000-0000000000a1",
            "not-a-uuid",
            "1e400",
            "-0",
            "NaN",
            "Infinity",
            "%",
            "_",
            "a\u{0}b",
            "é",
            "\u{2028}",
            "'; DROP TABLE x; --",
            "\"",
            "$1",
            "a or -b \"c d\"",
            "",
        ])
        .prop_map(Value::from),
        "\\PC{0,16}".prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z]{1,6}", inner), 0..3)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn condition() -> impl Strategy<Value = Value> {
    let field = || prop::sample::select(FIELDS);
    let op = || prop::sample::select(OPERATORS);
    let list = || prop::collection::vec(scalar(), 0..4).prop_map(Value::Array);
    let leaf = prop_oneof![
        3 => (field(), scalar()).prop_map(|(f, v)| json!({ f: v })),
        3 => (field(), op(), scalar()).prop_map(|(f, o, v)| json!({ f: { o: v } })),
        1 => (field(), any::<bool>()).prop_map(|(f, b)| json!({ f: {"is_null": b} })),
        1 => (field(), prop::sample::select(vec!["in", "contains", "overlaps"]), list())
            .prop_map(|(f, o, v)| json!({ f: { o: v } })),
        1 => (field(), prop::collection::vec((op(), value()), 1..3)).prop_map(|(f, ops)| {
            let ops: Map<String, Value> = ops.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            json!({ f: ops })
        }),
        1 => (field(), value()).prop_map(|(f, v)| json!({ f: v })),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| json!({"and": v})),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| json!({"or": v})),
            inner.clone().prop_map(|c| json!({"not": c})),
            (inner.clone(), inner).prop_map(|(a, b)| match (a, b) {
                (Value::Object(mut a), Value::Object(b)) => {
                    a.extend(b);
                    Value::Object(a)
                }
                (a, _) => a,
            }),
        ]
    })
}

fn order() -> impl Strategy<Value = Value> {
    let one = prop_oneof![
        prop::sample::select(FIELDS).prop_map(|f| json!(f)),
        prop::sample::select(FIELDS).prop_map(|f| json!(format!("-{f}"))),
        (
            prop::sample::select(FIELDS),
            prop::sample::select(vec!["asc", "desc", "up"])
        )
            .prop_map(|(f, d)| json!({"field": f, "dir": d})),
    ];
    let one = prop_oneof![8 => one, 1 => value()];
    prop_oneof![
        one.clone(),
        prop::collection::vec(one, 0..4).prop_map(Value::Array)
    ]
}

fn select() -> impl Strategy<Value = Value> {
    let item = prop_oneof![
        12 => prop::sample::select(FIELDS).prop_map(|f| json!(f)),
        1 => value(),
    ];
    let list = prop_oneof![
        Just(json!("*")),
        prop::collection::vec(item, 0..5).prop_map(Value::Array)
    ];
    list.prop_recursive(4, 24, 4, |inner| {
        let embed = (
            prop::sample::select(RELATIONS),
            prop_oneof![
                inner.clone(),
                (
                    inner.clone(),
                    prop::option::of(condition()),
                    prop::option::of(order()),
                    prop::option::of(limit()),
                )
                    .prop_map(|(s, w, o, l)| {
                        let mut m = Map::new();
                        m.insert("select".into(), s);
                        w.map(|w| m.insert("where".into(), w));
                        o.map(|o| m.insert("order".into(), o));
                        l.map(|l| m.insert("limit".into(), l));
                        Value::Object(m)
                    }),
            ],
        )
            .prop_map(|(r, s)| json!({ r: s }));
        prop::collection::vec(
            prop_oneof![
                2 => prop::sample::select(FIELDS).prop_map(|f| json!(f)),
                1 => embed
            ],
            1..5,
        )
        .prop_map(Value::Array)
    })
}

fn limit() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0u64..1200).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        value()
    ]
}

/// A query document: mostly the documented keys with values of the right
/// shape, sometimes anything, sometimes an unknown key.
fn document() -> impl Strategy<Value = Value> {
    use prop::option::weighted;
    let limit = || prop_oneof![9 => (0u64..1000).prop_map(Value::from), 1 => limit()];
    (
        weighted(0.7, select()),
        weighted(0.6, condition()),
        weighted(0.4, order()),
        weighted(0.4, limit()),
        weighted(0.2, limit()),
        weighted(
            0.1,
            prop_oneof!["[A-Za-z0-9_-]{0,40}".prop_map(Value::from), value()],
        ),
        weighted(
            0.3,
            prop_oneof![4 => any::<bool>().prop_map(Value::from), 1 => Just(json!("exact")), 1 => value()],
        ),
        weighted(0.05, ("[a-z]{1,8}", value())),
    )
        .prop_map(|(s, w, o, l, off, cur, cnt, extra)| {
            let mut m = Map::new();
            s.map(|v| m.insert("select".into(), v));
            w.map(|v| m.insert("where".into(), v));
            o.map(|v| m.insert("order".into(), v));
            l.map(|v| m.insert("limit".into(), v));
            off.map(|v| m.insert("offset".into(), v));
            cur.map(|v| m.insert("cursor".into(), v));
            cnt.map(|v| m.insert("count".into(), v));
            extra.map(|(k, v)| m.insert(k, v));
            Value::Object(m)
        })
}

/// Parentheses balance outside quoted names and literals, and every quote closes.
fn balanced(sql: &str) -> bool {
    let (mut depth, mut quote) = (0i64, None::<char>);
    for c in sql.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && quote.is_none()
}

/// The `$n` placeholders of `sql`, outside quotes.
fn placeholders(sql: &str) -> std::collections::BTreeSet<usize> {
    let mut out = std::collections::BTreeSet::new();
    let (mut quote, mut chars) = (None::<char>, sql.chars().peekable());
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') => {
                let mut n = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    n.push(*d);
                    chars.next();
                }
                if let Ok(n) = n.parse() {
                    out.insert(n);
                }
            }
            _ => {}
        }
    }
    out
}

fn check(entities: &[Entity], entity: &str, doc: &Value) -> Result<(), TestCaseError> {
    let slug = entities[0].tenant.clone();
    let m = Model {
        tenant: &slug,
        entities,
    };
    let e = m.entity(entity).unwrap();
    let result = parse(&m, e, doc).and_then(|q| compile(&q, &TenantNames::new(&slug), &e.name));
    match result {
        Ok(c) => {
            prop_assert!(balanced(&c.sql), "unbalanced: {}", c.sql);
            let expected: std::collections::BTreeSet<usize> = (1..=c.params.len()).collect();
            prop_assert_eq!(placeholders(&c.sql), expected, "{}", c.sql);
            prop_assert!(!c.sql.contains('\0'));
        }
        Err(err) => {
            prop_assert!(
                matches!(
                    err.kind,
                    ErrorKind::InvalidParameter | ErrorKind::UndefinedColumn | ErrorKind::ProgramLimit
                ),
                "{:?} for {}",
                err,
                doc
            );
            prop_assert!(!err.message.is_empty());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("COT_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(2000)
    ))]

    /// Documents shaped like queries, on each entity.
    #[test]
    fn query_documents_never_panic(
        doc in document(),
        entity in prop::sample::select(vec!["orders", "customers", "tags", "shipments"]),
    ) {
        check(model(), entity, &doc)?;
    }

    /// Any JSON at all.
    #[test]
    fn any_json_is_refused_or_compiled(doc in value()) {
        check(model(), "orders", &doc)?;
    }

    /// A cursor is text from the client: any string decodes or is refused.
    #[test]
    fn cursors_never_panic(cursor in "\\PC{0,80}", len in 0usize..4) {
        let _ = decode_cursor(&cursor, "id", len);
        let good = encode_cursor("id", &json!(["01a21636-0000-7000-8000-0000000000a1"]));
        let _ = decode_cursor(&good, &cursor, len);
    }
}

/// The generator is worth running only if many of its documents get past
/// parsing into the compiler: at least one in ten.
#[test]
fn the_generator_reaches_the_compiler() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config::default());
    let m = Model {
        tenant: &model()[0].tenant,
        entities: model(),
    };
    let e = m.entity("orders").unwrap();
    let (mut compiled, total) = (0, 1000);
    for _ in 0..total {
        let doc = document().new_tree(&mut runner).unwrap().current();
        if parse(&m, e, &doc).is_ok_and(|q| compile(&q, &TenantNames::new(m.tenant), &e.name).is_ok()) {
            compiled += 1;
        }
    }
    assert!(
        compiled * 10 >= total,
        "only {compiled} of {total} documents compiled"
    );
}
