//! Tests of the generated documents: record schemas checked against the 2020-12
//! meta-schema and against sample records, the OpenAPI document's structure
//! and references, and golden files for a small tenant. Golden files live in
//! `src/docs/golden/`; `COT_BLESS=1 cargo test -p cot-engine docs::` writes
//! them again after an intended change.

use super::sample::{entities, notes_defs, shop_defs};
use super::{openapi, record_schema, typescript, OpenApiOptions};
use crate::names::{fixed, TenantNames};
use crate::plan::Labels;
use crate::types::Entity;
use serde_json::{json, Value};
use std::collections::HashSet;

fn shop() -> Vec<(Entity, Labels)> {
    entities(&shop_defs())
}

fn schema_of(model: &[(Entity, Labels)], name: &str) -> Value {
    let (e, l) = model
        .iter()
        .find(|(e, _)| e.name.as_str() == name)
        .expect("entity");
    record_schema(e, l)
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("schema does not compile: {e}"))
}

/// Compares with (or, under COT_BLESS, writes) a golden file.
fn golden(name: &str, actual: &str) {
    let path = format!("{}/src/docs/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("COT_BLESS").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{path} is missing: run with COT_BLESS=1 to create it"));
    assert!(
        expected == actual,
        "{name} differs from the golden file; if the change is intended, run with COT_BLESS=1.\n--- actual ---\n{actual}"
    );
}

#[test]
fn record_schemas_are_valid_2020_12_schemas() {
    for (e, l) in &shop() {
        let schema = record_schema(e, l);
        if let Err(err) = jsonschema::meta::validate(&schema) {
            panic!("{}: {err}\n{schema:#}", e.name);
        }
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
        for variant in ["insert", "update"] {
            let mut sub = schema["$defs"][variant].clone();
            sub["$schema"] = schema["$schema"].clone();
            assert!(jsonschema::meta::is_valid(&sub), "{} {variant}", e.name);
        }
    }
}

fn order_row() -> Value {
    json!({
        "id": "01890a5d-ac96-774b-bcce-b302099a8057",
        "title": "First",
        "status": "paid",
        "total": 12.5,
        "placed": "2024-05-01",
        "ref": "01890a5d-ac96-774b-bcce-b302099a8058",
        "customer_id": "01890a5d-ac96-774b-bcce-b302099a8059",
        "invoice_id": null,
        "notes": ["a", "b"],
        "created_at": "2024-05-01T10:00:00.123456+00:00",
        "updated_at": "2024-05-01T10:00:00+02:00",
        "owner_id": "alice",
    })
}

/// Each case changes one key of a valid row and must be refused.
#[test]
fn row_schema_accepts_rows_and_refuses_each_broken_rule() {
    let model = shop();
    let v = validator(&schema_of(&model, "orders"));
    let row = order_row();
    assert!(
        v.is_valid(&row),
        "{:?}",
        v.iter_errors(&row).map(|e| e.to_string()).collect::<Vec<_>>()
    );
    let mut nulls = row.clone();
    for k in ["total", "placed", "ref", "invoice_id", "notes", "owner_id"] {
        nulls[k] = Value::Null;
    }
    assert!(v.is_valid(&nulls), "nullable columns take null");
    let cases: Vec<(&str, Value)> = vec![
        ("status", json!("lost")),
        ("status", Value::Null),
        ("title", json!("x".repeat(201))),
        ("title", json!(7)),
        ("total", json!("12.5")),
        ("total", json!(0.25)),
        ("total", json!(1000.5)),
        ("id", json!("not-a-uuid")),
        ("customer_id", Value::Null),
        ("placed", json!("01/05/2024")),
        ("created_at", json!("2024-05-01 10:00")),
        ("notes", json!([1])),
        ("notes", json!("a")),
        ("extra", json!(1)),
    ];
    for (key, value) in cases {
        let mut bad = row.clone();
        bad[key] = value.clone();
        assert!(!v.is_valid(&bad), "{key} = {value} should be refused");
    }
    for key in ["title", "status", "customer_id", "id", "created_at"] {
        let mut bad = row.clone();
        bad.as_object_mut().unwrap().remove(key);
        assert!(!v.is_valid(&bad), "a row without {key} should be refused");
    }
}

#[test]
fn every_type_maps_as_documented() {
    let model = shop();
    let products = schema_of(&model, "products");
    let p = &products["properties"];
    assert_eq!(p["sku"]["pattern"], "^[A-Z]{3}-\\d{4}$");
    assert!(p["code"].get("pattern").is_none(), "\\w is not portable");
    assert!(p["code"]["description"].as_str().unwrap().contains("^\\w+$"));
    assert_eq!(p["blurb"]["pattern"], "^[\\s\\S]{0,5}$");
    assert_eq!(p["price"]["type"], "number");
    assert_eq!(p["price"]["exclusiveMaximum"], json!(100_000_000));
    assert_eq!(p["price"]["minimum"], json!(0));
    assert_eq!(p["weight"]["minimum"], json!(0.5));
    assert_eq!(p["stock"]["type"], "integer");
    assert_eq!(p["views"]["type"], json!(["integer", "null"]));
    assert_eq!(p["views"]["maximum"], json!(i64::MAX));
    assert_eq!(p["tags"]["items"]["enum"], json!(["new", "sale"]));
    assert_eq!(p["sizes"]["items"]["maximum"], json!(i32::MAX));
    assert_eq!(p["released_at"]["format"], "date-time");
    assert!(p["opens"]["description"]
        .as_str()
        .unwrap()
        .contains("At least 08:00:00."));
    assert_eq!(
        products["$defs"]["insert"]["properties"]["stock"]["default"],
        json!(0)
    );
    assert_eq!(
        products["$defs"]["insert"]["properties"]["tags"]["default"],
        json!([])
    );
    let customers = schema_of(&model, "customers");
    let c = &customers["properties"];
    assert_eq!(c["email"]["format"], "email");
    assert_eq!(c["email"]["maxLength"], 254);
    assert_eq!(c["tier"]["enum"], json!(["basic", "pro", "it's \"vip\"", null]));
    assert_eq!(c["website"]["format"], "uri");
    assert!(c["profile"].get("type").is_none(), "json holds any value");
    assert_eq!(c["owner_id"]["readOnly"], true);
    assert!(c.get("orders").is_none(), "one_to_many has no column");
    let v = validator(&products);
    let row = json!({
        "id": "01890a5d-ac96-774b-bcce-b302099a8057", "name": "Mug", "sku": "MUG-0001", "code": "é",
        "blurb": "a\nb", "price": 9.99, "weight": null, "stock": 3, "views": 9007199254740993u64,
        "tags": ["sale"], "sizes": [], "released_at": "2024-05-01T10:00:00+00:00", "opens": "24:00:00",
        "created_at": "2024-05-01T10:00:00+00:00", "updated_at": "2024-05-01T10:00:00+00:00",
    });
    assert!(
        v.is_valid(&row),
        "{:?}",
        v.iter_errors(&row).map(|e| e.to_string()).collect::<Vec<_>>()
    );
    for (key, value) in [
        ("sku", json!("mug-1")),
        ("blurb", json!("123456")),
        ("tags", json!(["old"])),
        ("opens", json!("10:00")),
        ("price", json!(100_000_000)),
        ("stock", json!(1.5)),
    ] {
        let mut bad = row.clone();
        bad[key] = value.clone();
        assert!(!v.is_valid(&bad), "{key} = {value} should be refused");
    }
}

#[test]
fn insert_and_update_bodies() {
    let model = shop();
    let schema = schema_of(&model, "orders");
    let mut insert = schema["$defs"]["insert"].clone();
    insert["$schema"] = schema["$schema"].clone();
    assert_eq!(insert["required"], json!(["title", "customer_id"]));
    assert_eq!(insert["properties"]["status"]["default"], "draft");
    assert!(insert["properties"]["ref"]["description"]
        .as_str()
        .unwrap()
        .contains("a new uuid"));
    let v = validator(&insert);
    assert!(v.is_valid(&json!({"title": "x", "customer_id": "01890a5d-ac96-774b-bcce-b302099a8059"})));
    assert!(!v.is_valid(&json!({"title": "x"})), "customer_id is required");
    assert!(!v.is_valid(&json!({"title": "x", "customer_id": null})));
    let mut update = schema["$defs"]["update"].clone();
    update["$schema"] = schema["$schema"].clone();
    assert!(update.get("required").is_none());
    let v = validator(&update);
    assert!(v.is_valid(&json!({"status": "shipped"})));
    assert!(!v.is_valid(&json!({"status": "lost"})));
}

/// Every `$ref` in the document points at something that exists.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn openapi_paths_follow_the_access_rules() {
    let doc = openapi(
        &TenantNames::new(&fixed("shop")),
        &shop(),
        &OpenApiOptions::default(),
    );
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "http://localhost:3000");
    let paths = doc["paths"].as_object().unwrap();
    let methods = |p: &str| -> Vec<String> {
        let mut m: Vec<String> = paths[p]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| ["get", "post", "patch", "delete"].contains(&k.as_str()))
            .cloned()
            .collect();
        m.sort();
        m
    };
    assert!(!paths.contains_key("/audit"), "all rules none: no path");
    assert_eq!(methods("/customers"), ["delete", "get", "patch", "post"]);
    assert_eq!(methods("/orders"), ["get", "patch", "post"]);
    assert_eq!(methods("/invoices"), ["get", "post"]);
    // The junction follows its entity: read, and update (owner → tenant) for links.
    assert_eq!(methods("/orders_products"), ["delete", "get", "post"]);
    // Five views, and the eleven /rpc/ wrappers: query for anyone of the
    // tenant (anonymous too), by POST and GET; create_entity for admins, POST.
    assert_eq!(paths.len(), 5 + crate::rpc::ALL.len());
    assert_eq!(methods("/rpc/query"), ["get", "post"]);
    assert_eq!(methods("/rpc/create_entity"), ["post"]);
    assert_eq!(doc["paths"]["/rpc/query"]["post"]["security"][0], json!({}));
    assert_eq!(
        doc["paths"]["/rpc/create_entity"]["post"]["security"],
        json!([{"bearerAuth": []}, {"apiKey": []}])
    );
    assert_eq!(
        doc["paths"]["/rpc/query"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ["required"],
        json!(["entity"])
    );
    assert_eq!(doc["paths"]["/products"]["get"]["security"][0], json!({}));
    assert_eq!(
        doc["paths"]["/orders"]["get"]["security"],
        json!([{"bearerAuth": []}, {"apiKey": []}])
    );
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("orders.insert") && schemas.contains_key("orders.update"));
    assert!(!schemas.contains_key("invoices.update") && !schemas.contains_key("audit"));
    let get = &doc["paths"]["/orders"]["get"];
    let names: Vec<&str> = get["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for column in [
        "id",
        "title",
        "status",
        "customer_id",
        "invoice_id",
        "created_at",
        "owner_id",
        "select",
    ] {
        assert!(names.contains(&column), "GET /orders filters on {column}");
    }
    let status = get["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "status")
        .unwrap();
    assert!(status["description"].as_str().unwrap().contains("ilike"));
    let select = get["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "select")
        .unwrap();
    assert!(select["description"].as_str().unwrap().contains("customer(...)"));
    assert!(doc["paths"]["/orders"]["patch"]["description"]
        .as_str()
        .unwrap()
        .contains("own"));
    let mut ids = HashSet::new();
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in all {
        let pointer = r.strip_prefix('#').expect("local reference");
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
    for item in paths.values() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(id) = op.get("operationId") {
                assert!(ids.insert(id.clone()), "{method}: operationId {id} repeated");
            }
        }
    }
    for (name, schema) in schemas {
        let mut s = schema.clone();
        s["$schema"] = json!(super::record_schema::DIALECT);
        assert!(jsonschema::meta::is_valid(&s), "component {name}");
    }
}

#[test]
fn openapi_options() {
    let o = OpenApiOptions::from_json(&json!({"server_url": "https://api.example.com"})).unwrap();
    assert_eq!(o.server_url, "https://api.example.com");
    assert_eq!(
        OpenApiOptions::from_json(&json!({})).unwrap(),
        OpenApiOptions::default()
    );
    for bad in [
        json!([]),
        json!({"server": "x"}),
        json!({"server_url": 1}),
        json!({"server_url": "a b"}),
    ] {
        assert!(OpenApiOptions::from_json(&bad).is_err(), "{bad}");
    }
}

#[test]
fn golden_record_schema() {
    let model = entities(&notes_defs());
    let schema = schema_of(&model, "notes");
    golden("notes.schema.json", &format!("{schema:#}\n"));
}

#[test]
fn golden_openapi() {
    let doc = openapi(
        &TenantNames::new(&fixed("notes")),
        &entities(&notes_defs()),
        &OpenApiOptions::default(),
    );
    golden("notes.openapi.json", &format!("{doc:#}\n"));
}

#[test]
fn golden_typescript() {
    golden("notes.ts", &typescript("notes", &entities(&notes_defs())));
}

#[test]
fn typescript_follows_the_access_rules() {
    let ts = typescript("shop", &shop());
    assert!(!ts.contains("audit:"), "all rules none: left out");
    assert!(ts.contains("tier: \"basic\" | \"pro\" | \"it's \\\"vip\\\"\" | null"));
    assert!(ts.contains("tags?: (\"new\" | \"sale\")[] | null"));
    assert!(ts.contains("profile: Json | null"));
    assert!(ts.contains("foreignKeyName: \"orders_products_products_id_fkey\""));
    assert!(ts.contains("isOneToOne: true"));
    assert!(ts.contains("Update: never"), "invoices may not be updated");
}

/// Writes the documents of tenant `shop` to the directory named by
/// `COT_DOCS_OUT`, for checking them with real tools (docs/generated-docs.md):
/// `COT_DOCS_OUT=/tmp/cot-docs cargo test -p cot-engine write_sample_docs -- --ignored`.
#[test]
#[ignore]
fn write_sample_docs() {
    let dir = std::env::var("COT_DOCS_OUT").expect("set COT_DOCS_OUT to a directory");
    std::fs::create_dir_all(&dir).expect("create the directory");
    let model = shop();
    let write = |name: &str, text: String| std::fs::write(format!("{dir}/{name}"), text).expect("write");
    write(
        "shop.openapi.json",
        format!(
            "{:#}\n",
            openapi(
                &TenantNames::new(&fixed("shop")),
                &model,
                &OpenApiOptions::default()
            )
        ),
    );
    write("shop.ts", typescript("shop", &model));
    for (e, l) in &model {
        write(
            &format!("{}.schema.json", e.name),
            format!("{:#}\n", record_schema(e, l)),
        );
    }
    write("orders.row.json", format!("{:#}\n", order_row()));
}

mod properties {
    use super::*;
    use crate::validate::{tests::TestEnv, validate};
    use proptest::prelude::*;

    /// Options that fit a field of type `ty` (so most generated definitions
    /// pass validation and reach the generators); a subset is drawn.
    fn options(ty: &str, items: &str, pattern: Value) -> Vec<(&'static str, Value)> {
        let scalar = if ty == "array" { items } else { ty };
        let mut o: Vec<(&'static str, Value)> = vec![
            ("required", json!(true)),
            ("description", json!("a \"quoted\" */ note\nline")),
            ("label", json!("Ünïcode label")),
        ];
        if ty != "relation" {
            o.push(("index", json!(true)));
            o.push(("unique", json!(true)));
        }
        let enum_values = json!(["a", "it's \"b\"", "c\\d"]);
        let typed: Vec<(&'static str, Value)> = match scalar {
            "text" => vec![
                ("min_length", json!(0)),
                ("max_length", json!(20)),
                ("pattern", pattern),
                ("default", json!("abc")),
            ],
            "integer" | "bigint" => vec![("min", json!(-5)), ("max", json!(12)), ("default", json!(3))],
            "decimal" => vec![
                ("precision", json!(5)),
                ("scale", json!(2)),
                ("min", json!("1.25")),
                ("max", json!(12)),
                ("default", json!("2.5")),
            ],
            "float" => vec![("min", json!(2.5)), ("max", json!(12)), ("default", json!(3))],
            "boolean" => vec![("default", json!(true))],
            "date" => vec![("min", json!("2024-01-01")), ("default", json!("today"))],
            "timestamp" => vec![
                ("min", json!("2024-01-01T00:00:00Z")),
                ("default", json!("2024-01-01 10:00:00+02:00")),
            ],
            "time" => vec![("min", json!("08:00")), ("default", json!("now"))],
            "uuid" => vec![("default", json!("uuid"))],
            "json" => vec![("default", json!({"k": [1, null]}))],
            "enum" => vec![("values", enum_values.clone()), ("default", json!("a"))],
            "email" => vec![("max_length", json!(100)), ("default", json!("a@b.co"))],
            "url" => vec![
                ("min_length", json!(10)),
                ("default", json!("https://example.com/x")),
            ],
            _ => vec![("on_delete", json!("cascade"))],
        };
        if ty == "array" {
            o.retain(|(k, _)| *k != "unique");
            if scalar == "enum" {
                o.push(("values", enum_values));
            }
            if scalar == "decimal" {
                o.push(("precision", json!(5)));
            }
            o.push(("default", json!([])));
        } else {
            o.extend(typed);
        }
        o
    }

    fn field(i: usize) -> impl Strategy<Value = Value> {
        let types: Vec<&str> = crate::scalar::SCALAR_TYPE_NAMES
            .iter()
            .copied()
            .chain(["array", "relation"])
            .collect();
        let pattern = prop_oneof![
            Just(json!("^[a-z]+$")),
            Just(json!("^\\w.$")),
            Just(json!("[]a]")),
            "\\PC{1,10}".prop_map(Value::from),
        ];
        (
            prop::sample::select(types),
            prop::sample::select(crate::scalar::ARRAY_ITEM_TYPE_NAMES.to_vec()),
            prop::sample::select(vec!["many_to_one", "one_to_one", "one_to_many", "many_to_many"]),
            pattern,
            any::<prop::sample::Index>(),
        )
            .prop_map(move |(ty, items, kind, pattern, pick)| {
                let mut f = json!({"name": format!("f{i}"), "type": ty});
                if ty == "array" {
                    f["items"] = json!(items);
                }
                if ty == "relation" {
                    f["kind"] = json!(kind);
                    f["target"] = json!("others");
                    if kind == "one_to_many" {
                        f["inverse"] = json!("back");
                    }
                }
                let opts = options(ty, items, pattern);
                // A subset chosen by the bits of one random number.
                let bits = pick.index(1 << opts.len().min(16));
                for (n, (k, v)) in opts.into_iter().enumerate() {
                    if bits & (1 << n) != 0 {
                        f[k] = v;
                    }
                }
                f
            })
    }

    fn rule() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["public", "tenant", "owner", "admin", "none"])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Whatever validation accepts, the three generators document without
        /// panicking, the record schema is a valid 2020-12 schema whose patterns
        /// compile, and the OpenAPI document's references resolve.
        #[test]
        fn generators_never_panic(
            fields in (0..6usize).prop_flat_map(|n| (0..n).map(field).collect::<Vec<_>>()),
            rules in (rule(), rule(), rule(), rule()),
        ) {
            let def = json!({
                "tenant": "acme", "name": "things", "fields": fields,
                "access": {"read": rules.0, "create": rules.1, "update": rules.2, "delete": rules.3},
            });
            let Ok(v) = validate(&def, &TestEnv::new()) else { return Ok(()) };
            let model = vec![(v.entity, Labels::of(&v.normalized))];
            let (e, l) = &model[0];
            let schema = record_schema(e, l);
            prop_assert!(jsonschema::meta::is_valid(&schema), "{schema:#}");
            prop_assert!(jsonschema::draft202012::options().build(&schema).is_ok(), "{schema:#}");
            let doc = openapi(&TenantNames::new(&fixed("acme")), &model, &OpenApiOptions::default());
            let mut all = Vec::new();
            refs(&doc, &mut all);
            for r in all {
                prop_assert!(doc.pointer(&r[1..]).is_some(), "{r}");
            }
            let ts = typescript("acme", &model);
            prop_assert!(ts.contains("export type Database"));
        }

        /// Any text: refused, or translated into a pattern that compiles.
        #[test]
        fn translated_patterns_compile(p in "\\PC{0,16}") {
            if let Ok(ecma) = crate::docs::pattern::to_ecma(&p) {
                prop_assert!(jsonschema::validator_for(&json!({"pattern": ecma})).is_ok(), "{p} -> {ecma}");
            }
        }
    }
}
