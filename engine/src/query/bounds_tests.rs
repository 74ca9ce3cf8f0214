//! Each bound of `bounds.rs`: just within it compiles, one past it is
//! `54000` at the JSON pointer of what went past.

use super::*;
use crate::error::{CotError, ErrorKind};
use crate::names::TenantNames;
use crate::validate::{tests::TestEnv, validate};
use serde_json::{json, Value};

/// `notes` relate to themselves three ways; `hub` has nine relations to
/// them; `wide` is as wide as a definition may be (500 fields, 63-byte names).
fn model() -> Vec<Entity> {
    let hub: Vec<Value> = (1..=9)
        .map(|i| json!({"name": format!("r{i}"), "type": "relation", "kind": "many_to_one", "target": "notes"}))
        .collect();
    let mut wide: Vec<Value> = (0..499)
        .map(|i| json!({"name": format!("f{i:03}{}", "x".repeat(59)), "type": "text"}))
        .collect();
    wide.push(json!({"name": "parent", "type": "relation", "kind": "many_to_one", "target": "wide"}));
    let defs = [
        json!({"tenant": "pub", "name": "notes", "fields": [
            {"name": "body", "type": "text"},
            {"name": "parent", "type": "relation", "kind": "many_to_one", "target": "notes"},
            {"name": "children", "type": "relation", "kind": "one_to_many", "target": "notes", "inverse": "parent"},
            {"name": "links", "type": "relation", "kind": "many_to_many", "target": "notes"}]}),
        json!({"tenant": "pub", "name": "hub", "fields": hub}),
        json!({"tenant": "pub", "name": "wide", "fields": wide}),
    ];
    defs.iter()
        .map(|d| {
            validate(d, &TestEnv::new())
                .unwrap_or_else(|v| panic!("{v:?}"))
                .entity
        })
        .collect()
}

fn run(entity: &str, q: Value) -> Result<Compiled, CotError> {
    let entities = model();
    let slug = entities[0].tenant.clone();
    let m = Model {
        tenant: &slug,
        entities: &entities,
    };
    let e = m.entity(entity).unwrap();
    let parsed = parse(&m, e, &q)?;
    compile(&parsed, &TenantNames::new(&slug), &e.name)
}

/// The error is 54000 at `pointer`, and its message names the bound.
fn refused(entity: &str, q: Value, pointer: &str, bound: &str) -> CotError {
    let e = run(entity, q).unwrap_err();
    assert_eq!(
        (e.kind, e.kind.sqlstate()),
        (ErrorKind::ProgramLimit, "54000"),
        "{e:?}"
    );
    assert_eq!(
        e.detail.as_deref(),
        Some(format!("at {pointer}").as_str()),
        "{e:?}"
    );
    assert!(e.message.contains(bound), "{} should name {bound}", e.message);
    assert!(e.hint.as_ref().is_some_and(|h| !h.is_empty()), "{e:?}");
    e
}

fn repeat(item: Value, n: usize) -> Value {
    Value::Array(vec![item; n])
}

#[test]
fn arrays_get_the_default_limit_single_records_none() {
    let entities = model();
    let m = Model {
        tenant: &entities[0].tenant,
        entities: &entities,
    };
    let q = parse(
        &m,
        m.entity("notes").unwrap(),
        &json!({"select": [{"links": ["body"]}, {"children": {"select": ["body"], "limit": 7}}, {"parent": ["body"]}]}),
    )
    .unwrap();
    let limits: Vec<(String, Option<u64>, String)> = q
        .select
        .iter()
        .map(|s| match s {
            Selection::Embed(e) => (e.name.to_string(), e.limit, e.at.clone()),
            Selection::Column(_) => unreachable!(),
        })
        .collect();
    assert_eq!(
        limits,
        [
            (
                "links".into(),
                Some(DEFAULT_EMBED_LIMIT),
                "/select/0/links".into()
            ),
            ("children".into(), Some(7), "/select/1/children".into()),
            ("parent".into(), None, "/select/2/parent".into()),
        ]
    );
    let c = run("notes", json!({"select": [{"links": ["body"]}]})).unwrap();
    assert!(
        c.sql.contains(&format!("LIMIT {DEFAULT_EMBED_LIMIT}) AS e1")),
        "{}",
        c.sql
    );
}

#[test]
fn embeds_per_select() {
    let r = |i: usize| json!({ format!("r{i}"): ["body"] });
    let eight: Vec<Value> = (1..=8).map(r).collect();
    assert!(run("hub", json!({"select": eight})).is_ok());
    let nine: Vec<Value> = (1..=9).map(r).collect();
    refused(
        "hub",
        json!({"select": nine}),
        "/select/8/r9",
        "at most 8 embedded",
    );
}

#[test]
fn each_relation_once_per_select() {
    refused(
        "notes",
        json!({"select": [{"links": ["body"]}, {"links": {"limit": 1}}]}),
        "/select/1/links",
        "embedded twice",
    );
    // The attack: one embed repeated hundreds of times.
    refused(
        "notes",
        json!({"select": repeat(json!({"children": "*"}), 600)}),
        "/select/1/children",
        "embedded twice",
    );
    // Inside an embed too; the same relation at another level is fine.
    refused(
        "notes",
        json!({"select": [{"parent": ["body", {"links": "*"}, {"links": "*"}]}]}),
        "/select/0/parent/2/links",
        "embedded twice",
    );
    assert!(run(
        "notes",
        json!({"select": [{"parent": [{"parent": [{"parent": ["body"]}]}]}]})
    )
    .is_ok());
}

#[test]
fn embeds_in_all() {
    // Each r<i> with the three relations of a note: four embeds.
    let r = |i: usize| json!({ format!("r{i}"): ["body", {"parent": ["body"]}, {"children": {"limit": 1}}, {"links": {"limit": 1}}] });
    let five: Vec<Value> = (1..=5).map(r).collect();
    assert!(
        run("hub", json!({"select": five, "limit": 10})).is_ok(),
        "20 embeds"
    );
    let six: Vec<Value> = (1..=6).map(r).collect();
    refused(
        "hub",
        json!({"select": six, "limit": 10}),
        "/select/5/r6",
        "at most 20 embedded",
    );
}

#[test]
fn records_one_answer_can_hold() {
    // The attack: a to-many embed nested three deep, no limits.
    let e = refused(
        "notes",
        json!({"select": ["body", {"links": ["body", {"links": ["body", {"links": ["body"]}]}]}]}),
        "/select/1/links/1/links",
        "100000 accepted",
    );
    assert!(e.message.contains("up to 101010100 records"), "{}", e.message);
    // Exactly at the bound, and one past it.
    let page =
        |links: u64| json!({"limit": 1000, "select": [{"links": {"select": ["body"], "limit": links}}]});
    assert!(run("notes", page(99)).is_ok(), "1,000 + 1,000 × 99 = 100,000");
    refused("notes", page(100), "/select/0/links", "up to 101000 records");
    // Without limits: the defaults count; with small ones, three levels fit.
    refused(
        "notes",
        json!({"select": [{"children": [{"links": "*"}]}]}),
        "/select/0/children/0/links",
        "100000 accepted",
    );
    assert!(run(
        "notes",
        json!({"limit": 10, "select": [{"links": {"limit": 10, "select": [{"links": {"limit": 10, "select": [{"links": {"limit": 10}}]}}]}}]})
    )
    .is_ok());
    // A single related record counts one per record above it.
    assert!(run(
        "notes",
        json!({"limit": 1000, "select": [{"parent": [{"parent": [{"parent": ["body"]}]}]}]})
    )
    .is_ok());
}

#[test]
fn statement_bytes() {
    // Every field of the widest entity a definition allows: accepted.
    let all = run("wide", json!({})).unwrap();
    assert!(all.sql.len() > 64 * 1024, "{}", all.sql.len());
    // With its parent's too: past the bound.
    let e = refused(
        "wide",
        json!({"select": ["*", {"parent": "*"}]}),
        "/",
        "131072 accepted",
    );
    assert!(e.message.contains("statement of"), "{}", e.message);
    // Conditions without values grow the statement alone.
    let nulls = |n: usize| json!({"where": {"or": repeat(json!({"body": {"is_null": true}}), n)}});
    assert!(run("notes", nulls(3000)).is_ok());
    refused("notes", nulls(8000), "/", "131072 accepted");
}

#[test]
fn parameters() {
    let values = |n: usize| json!({"where": {"or": (0..n).map(|i| json!({"body": format!("v{i}")})).collect::<Vec<_>>()}});
    assert!(run("notes", values(MAX_PARAMS)).is_ok());
    refused(
        "notes",
        values(MAX_PARAMS + 1),
        &format!("/where/or/{MAX_PARAMS}/body"),
        "more than the 256 accepted",
    );
    // The count repeats the page's condition: its values count twice (the
    // 257th is the count's 128th).
    let mut q = values(MAX_PARAMS / 2 + 1);
    q["count"] = json!(true);
    refused("notes", q, "/where/or/127/body", "258 values");
    // A list is one value.
    let many: Vec<String> = (0..5000).map(|i| format!("v{i}")).collect();
    assert!(run("notes", json!({"where": {"body": {"in": many}}})).is_ok());
}

#[test]
fn fields_named_again_are_kept_once() {
    let once = run("notes", json!({"select": "*"})).unwrap();
    let again = run("notes", json!({"select": ["*", "body", "*", "id", "body"]})).unwrap();
    assert_eq!(once.sql, again.sql);
    // A document of 16,000 stars compiles to the statement of one.
    let stars = run("notes", json!({"select": repeat(json!("*"), 16_000)})).unwrap();
    assert_eq!(once.sql, stars.sql);
}
