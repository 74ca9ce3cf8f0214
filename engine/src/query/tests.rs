use super::*;
use crate::names::TenantNames;
use crate::validate::{tests::TestEnv, validate};
use serde_json::json;

fn model() -> Vec<Entity> {
    let defs = [
        json!({"tenant": "acme", "name": "customer", "fields": [
            {"name": "name", "type": "text", "required": true},
            {"name": "orders", "type": "relation", "kind": "one_to_many", "target": "orders", "inverse": "customer"}]}),
        json!({"tenant": "acme", "name": "orders", "fields": [
            {"name": "title", "type": "text", "required": true},
            {"name": "total", "type": "decimal", "precision": 10, "scale": 2},
            {"name": "labels", "type": "array", "items": "text"},
            {"name": "priority", "type": "enum", "values": ["low", "mid", "high"]},
            {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customer"},
            {"name": "tags", "type": "relation", "kind": "many_to_many", "target": "tag"}]}),
        json!({"tenant": "acme", "name": "tag", "fields": [{"name": "label", "type": "text"}]}),
    ];
    defs.iter()
        .map(|d| {
            validate(d, &TestEnv::new())
                .unwrap_or_else(|v| panic!("{v:?}"))
                .entity
        })
        .collect()
}

fn run(q: serde_json::Value) -> Result<Compiled, crate::error::CotError> {
    let entities = model();
    let slug = entities[0].tenant.clone();
    let m = Model {
        tenant: &slug,
        entities: &entities,
    };
    let e = m.entity("orders").unwrap();
    let parsed = parse(&m, e, &q)?;
    compile(&parsed, &TenantNames::new(&slug), &e.name)
}

#[test]
fn values_are_parameters_and_names_are_quoted() {
    let c = run(
        json!({"select": ["title"], "where": {"title": {"eq": "x'; DROP TABLE t; --"}, "total": {"gt": 5}}}),
    )
    .unwrap();
    assert_eq!(
        c.sql,
        r#"SELECT jsonb_build_object('title', v0."title") AS r, v0."K1" AS k1 FROM (SELECT v0.*, v0."id" AS "K1" FROM "acme"."orders" AS v0 WHERE (v0."title" = $1::text AND v0."total" > $2::numeric) ORDER BY v0."id" ASC LIMIT 101) AS v0 ORDER BY v0."K1" ASC"#
    );
    assert!(!c.sql.contains("DROP TABLE"));
    assert_eq!(
        c.params,
        vec![
            Param::Value {
                ty: "text".into(),
                text: "x'; DROP TABLE t; --".into(),
                at: "/where/title/eq".into()
            },
            Param::Value {
                ty: "numeric".into(),
                text: "5".into(),
                at: "/where/total/gt".into()
            }
        ]
    );
    assert_eq!(
        (c.limit, c.count, c.keys.clone()),
        (100, false, vec![crate::scalar::Scalar::Uuid])
    );
}

#[test]
fn limits_and_offsets_are_numbers_and_counts_join_the_page() {
    let c = run(
        json!({"select": ["title"], "where": {"title": {"eq": "a"}}, "order": ["-total"],
                       "limit": 20, "offset": 40, "count": true}),
    )
    .unwrap();
    assert_eq!(
        c.sql,
        r#"SELECT p.*, c.n FROM (SELECT count(*) AS n FROM "acme"."orders" AS c0 WHERE c0."title" = $2::text) AS c LEFT JOIN LATERAL (SELECT jsonb_build_object('title', v0."title") AS r, v0."K1" AS k1, v0."K2" AS k2 FROM (SELECT v0.*, v0."total" AS "K1", v0."id" AS "K2" FROM "acme"."orders" AS v0 WHERE v0."title" = $1::text ORDER BY v0."total" DESC NULLS FIRST, v0."id" DESC LIMIT 21 OFFSET 40) AS v0 ORDER BY v0."K1" DESC NULLS FIRST, v0."K2" DESC) AS p ON true ORDER BY p.k1 DESC NULLS FIRST, p.k2 DESC"#
    );
    let a = Param::Value {
        ty: "text".into(),
        text: "a".into(),
        at: "/where/title/eq".into(),
    };
    assert_eq!(c.params, vec![a.clone(), a]);
    assert_eq!(c.keys.len(), 2);
    assert!(c.count);
}

#[test]
fn unknown_fields_name_the_known_ones() {
    let e = run(json!({"where": {"nope": 1}})).unwrap_err();
    assert_eq!(e.kind, crate::error::ErrorKind::UndefinedColumn);
    assert!(e
        .hint
        .unwrap()
        .contains("title, total, labels, priority, customer_id"));
    let e = run(json!({"select": ["title", {"buyer": "*"}]})).unwrap_err();
    assert!(e.hint.unwrap().contains("customer, tags"));
    assert!(run(json!({"order": ["labels"]})).is_err());
    assert!(run(json!({"where": {"labels": {"like": "x"}}})).is_err());
    assert!(run(json!({"where": {"total": {"between": 1}}})).is_err());
    assert!(run(json!({"limit": 5000})).is_err());
}

#[test]
fn embeds_and_boolean_logic() {
    let c = run(json!({"select": ["title", {"customer": ["name"]}, {"tags": ["label"]}],
                       "where": {"or": [{"labels": {"contains": ["a"]}}, {"not": {"total": {"is_null": true}}}]}}))
    .unwrap();
    assert!(c.sql.contains(r#"(SELECT jsonb_build_object('name', v1."name") FROM "acme"."customer" AS v1 WHERE v1."id" = v0."customer_id")"#), "{}", c.sql);
    assert!(
        c.sql.contains(
            r#"JOIN "acme"."orders_tags" AS j1 ON j1."tag_id" = v1."id" WHERE j1."orders_id" = v0."id""#
        ),
        "{}",
        c.sql
    );
    assert!(
        c.sql
            .contains(r#"WHERE (v0."labels" @> $1::text[] OR NOT v0."total" IS NULL)"#),
        "{}",
        c.sql
    );
}

#[test]
fn keyset_pages_continue_after_the_cursor() {
    let first = run(json!({"order": ["-total"], "limit": 2})).unwrap();
    assert!(first
        .sql
        .contains(r#"ORDER BY v0."total" DESC NULLS FIRST, v0."id" DESC"#));
    let cursor = encode_cursor(
        &first.signature,
        &json!([12.5, "01900000-0000-7000-8000-000000000001"]),
    );
    let next = run(json!({"order": ["-total"], "limit": 2, "cursor": cursor})).unwrap();
    // total may be NULL: the expanded form.
    assert!(
        next.sql.contains(
            r#"WHERE ((v0."total" < $1::numeric) OR (v0."total" = $3::numeric AND v0."id" < $2::uuid))"#
        ),
        "{}",
        next.sql
    );
    // A required column, one direction: a row comparison.
    let c = run(json!({"order": ["title"]})).unwrap();
    let cursor = encode_cursor(
        &c.signature,
        &json!(["m", "01900000-0000-7000-8000-000000000001"]),
    );
    let next = run(json!({"order": ["title"], "cursor": cursor.clone()})).unwrap();
    assert!(
        next.sql
            .contains(r#"WHERE (v0."title", v0."id") > ($1::text, $2::uuid)"#),
        "{}",
        next.sql
    );
    // A cursor of another order is refused.
    assert!(run(json!({"order": ["-title"], "cursor": cursor})).is_err());
}

#[test]
fn long_numbers_become_strings_before_parsing() {
    assert_eq!(
        exact_numbers(
            r#"{"a": 12345678901234567890.0123456789, "b": 12.5, "c": "9999999999999999999", "d": [-1e400, 0.1]}"#
        ),
        r#"{"a": "12345678901234567890.0123456789", "b": 12.5, "c": "9999999999999999999", "d": [-1e400, 0.1]}"#
    );
    assert_eq!(
        exact_numbers(r#"{"s": "a\"1234567890123456789"}"#),
        r#"{"s": "a\"1234567890123456789"}"#
    );
    assert_eq!(exact_numbers("9007199254740993"), "\"9007199254740993\"");
    assert_eq!(exact_numbers("100000000000000000000"), "100000000000000000000");
}

#[test]
fn related_records_take_where_order_and_limit() {
    let c = run(
        json!({"select": ["title", {"tags": {"select": ["label"], "where": {"label": {"like": "r%"}},
                                                     "order": ["-label"], "limit": 2}},
                                  {"customer": {"select": ["name"], "where": {"name": "Ada"}}}]}),
    )
    .unwrap();
    assert!(
        c.sql.contains(
            r#"'tags', (SELECT COALESCE(jsonb_agg(e1.r ORDER BY e1.k1 DESC NULLS FIRST, e1.k2 DESC), '[]'::jsonb) FROM (SELECT jsonb_build_object('label', v1."label") AS r, v1."label" AS k1, v1."id" AS k2 FROM "acme"."tag" AS v1 JOIN "acme"."orders_tags" AS j1 ON j1."tag_id" = v1."id" WHERE j1."orders_id" = v0."id" AND v1."label" LIKE $1::text ORDER BY v1."label" DESC NULLS FIRST, v1."id" DESC LIMIT 2) AS e1)"#
        ),
        "{}",
        c.sql
    );
    assert!(
        c.sql.contains(r#"'customer', (SELECT jsonb_build_object('name', v1."name") FROM "acme"."customer" AS v1 WHERE v1."id" = v0."customer_id" AND v1."name" = $2::text)"#),
        "{}",
        c.sql
    );
    assert_eq!(
        c.params
            .iter()
            .map(|p| match p {
                Param::Value { at, .. } | Param::List { at, .. } => at.as_str(),
            })
            .collect::<Vec<_>>(),
        ["/select/1/tags/where/label/like", "/select/2/customer/where/name"]
    );
    assert!(
        !c.generic_plan,
        "values of a filter in related records: planned for them"
    );
    assert!(
        run(json!({"select": ["title", {"tags": ["label"]}]}))
            .unwrap()
            .generic_plan
    );
    // Order without a limit: the default limit, in that order.
    let c = run(json!({"select": [{"tags": {"order": "label"}}]})).unwrap();
    assert!(
        c.sql
            .contains(r#"ORDER BY v1."label" ASC NULLS LAST, v1."id" ASC LIMIT 100) AS e1)"#),
        "{}",
        c.sql
    );
    // A single record takes no order or limit; unknown keys are refused.
    for (q, at) in [
        (
            json!({"select": [{"customer": {"limit": 1}}]}),
            "/select/0/customer/limit",
        ),
        (
            json!({"select": [{"customer": {"order": ["name"]}}]}),
            "/select/0/customer/order",
        ),
        (
            json!({"select": [{"tags": {"limit": 5000}}]}),
            "/select/0/tags/limit",
        ),
        (json!({"select": [{"tags": {"top": 1}}]}), "/select/0/tags/top"),
        (
            json!({"select": [{"tags": {"where": {"nope": 1}}}]}),
            "/select/0/tags/where/nope",
        ),
    ] {
        let e = run(q.clone()).unwrap_err();
        assert_eq!(e.detail.as_deref(), Some(format!("at {at}").as_str()), "{q}");
    }
}

#[test]
fn reserved_words_as_names_are_quoted_in_queries() {
    let defs = [
        json!({"tenant": "acme", "name": "group", "fields": [{"name": "end", "type": "date"}]}),
        json!({"tenant": "acme", "name": "user", "fields": [
            {"name": "user", "type": "text"}, {"name": "desc", "type": "text"},
            {"name": "group", "type": "relation", "kind": "many_to_one", "target": "group"}]}),
    ];
    let entities: Vec<Entity> = defs
        .iter()
        .map(|d| {
            validate(d, &TestEnv::new())
                .unwrap_or_else(|v| panic!("{v:?}"))
                .entity
        })
        .collect();
    let slug = entities[0].tenant.clone();
    let m = Model {
        tenant: &slug,
        entities: &entities,
    };
    let e = m.entity("user").unwrap();
    let q = json!({"select": ["user", "desc", {"group": ["end"]}], "where": {"user": {"eq": "x"}}, "order": ["-desc"]});
    let c = compile(&parse(&m, e, &q).unwrap(), &TenantNames::new(&slug), &e.name).unwrap();
    for part in [
        r#"v0."user" = $1::text"#,
        r#"'desc', v0."desc""#,
        r#"FROM "acme"."group" AS v1 WHERE v1."id" = v0."group_id""#,
        r#"FROM "acme"."user" AS v0"#,
        r#"ORDER BY v0."desc" DESC"#,
    ] {
        assert!(c.sql.contains(part), "{part} not in {}", c.sql);
    }
}

#[test]
fn an_enum_sorts_by_its_declared_values_when_asked() {
    let c =
        run(json!({"select": ["title"], "order": [{"field": "priority", "by": "values", "dir": "desc"}]}))
            .unwrap();
    let key = r#"array_position(ARRAY['low', 'mid', 'high']::text[], v0."priority")"#;
    assert!(
        c.sql.contains(&format!("{key} AS \"K1\""))
            && c.sql.contains(&format!("ORDER BY {key} DESC NULLS FIRST")),
        "{}",
        c.sql
    );
    assert_eq!(c.keys[0], Scalar::Integer, "the cursor holds the value's place");
    assert_eq!(c.signature, "-priority@values,-id");
    // Without "by", text order, as before.
    let c = run(json!({"order": ["priority"]})).unwrap();
    assert!(
        c.sql.contains(r#"ORDER BY v0."priority" ASC NULLS LAST"#),
        "{}",
        c.sql
    );
    // Only an enum has a declared order.
    let e = run(json!({"order": [{"field": "title", "by": "values"}]})).unwrap_err();
    assert!(e.message.contains("is not an enum"), "{}", e.message);
    let e = run(json!({"order": [{"field": "priority", "by": "size"}]})).unwrap_err();
    assert!(e.message.starts_with("by is"), "{}", e.message);
}

#[test]
fn a_cursor_continues_an_enum_in_its_declared_order() {
    let first = run(json!({"order": [{"field": "priority", "by": "values"}], "limit": 1})).unwrap();
    let cursor = super::cursor::encode_cursor(
        &first.signature,
        &json!([2, "01900000-0000-7000-8000-000000000001"]),
    );
    let next =
        run(json!({"order": [{"field": "priority", "by": "values"}], "limit": 1, "cursor": cursor})).unwrap();
    assert!(
        next.sql
            .contains(r#"array_position(ARRAY['low', 'mid', 'high']::text[], v0."priority") > $1::integer"#),
        "{}",
        next.sql
    );
    // A cursor of the alphabetical order does not continue this one.
    let plain = run(json!({"order": ["priority"], "limit": 1})).unwrap();
    let other = super::cursor::encode_cursor(
        &plain.signature,
        &json!(["low", "01900000-0000-7000-8000-000000000001"]),
    );
    assert!(run(json!({"order": [{"field": "priority", "by": "values"}], "cursor": other})).is_err());
}
