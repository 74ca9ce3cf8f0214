//! Custom field types: registration, expansion into plain fields, the stored
//! form, DDL, evolution between a type and its base, and the generated docs.

use super::*;
use crate::ddl::{render, render_all};
use crate::docs::record_schema::record_schema;
use crate::error::Violation;
use crate::evolve::{Class, Count, Counter, Options};
use crate::plan::{self, Labels};
use crate::scalar::Scalar;
use crate::types::FieldType;
use crate::validate::{field_type, tests::TestEnv, validate, Validated};
use serde_json::json;

/// The types shipped in the `standard-types` module.
fn standard() -> FieldTypes {
    let module: Value = serde_json::from_str(include_str!(
        "../../../modules/standard-types/standard-types-1.0.0.json"
    ))
    .unwrap();
    let defs = module["field_types"].as_array().unwrap();
    FieldTypes::new(defs.iter().map(|d| {
        field_type(d, &TestEnv::new()).unwrap_or_else(|v| panic!("{} does not register: {v:?}", d["name"]))
    }))
}

fn env() -> TestEnv {
    TestEnv::with_types(standard())
}

fn valid(def: Value) -> Validated {
    validate(&def, &env()).unwrap_or_else(|v| panic!("{v:?}"))
}

fn entity(fields: Value) -> Value {
    json!({"tenant": "acme", "name": "shops", "id": "01900000-0000-7000-8000-000000000001", "fields": fields})
}

fn refused(def: Value) -> Vec<(String, String)> {
    let env = TestEnv::new();
    field_type(&def, &env)
        .expect_err("should be refused")
        .into_iter()
        .map(|v: Violation| (v.pointer, v.message))
        .collect()
}

#[test]
fn every_standard_type_registers() {
    let names: Vec<_> = standard().iter().map(|t| t.name.clone()).collect();
    assert_eq!(names, ["color", "currency_code", "money", "phone", "slug"]);
}

#[test]
fn a_field_of_a_custom_type_is_its_base_with_the_checks() {
    let v = valid(entity(json!([
        {"name": "tel", "type": "phone", "required": true},
        {"name": "price", "type": "money"},
        {"name": "plain", "type": "text"}
    ])));
    let tel = &v.entity.fields[0];
    assert_eq!(tel.ty, FieldType::Scalar(Scalar::Text));
    assert_eq!(tel.pattern.as_deref(), Some(r"^\+[1-9][0-9]{1,14}$"));
    assert_eq!(tel.custom.as_ref().map(|c| c.format.as_str()), Some("phone"));
    assert!(tel.required);
    let price = &v.entity.fields[1];
    assert_eq!(
        price.ty,
        FieldType::Scalar(Scalar::Decimal {
            precision: Some(14),
            scale: Some(2)
        })
    );
    assert!(price.min.is_some() && price.max.is_some());
    assert_eq!(v.entity.fields[2].custom, None);
    // Stored as written: the type name, none of the type's options.
    let stored = &v.normalized["fields"];
    assert_eq!(stored[0]["type"], "phone");
    assert!(stored[0].get("pattern").is_none(), "{stored}");
    assert_eq!(stored[1]["type"], "money");
    assert!(stored[1].get("precision").is_none() && stored[1].get("min").is_none());
    // And the stored form validates to itself.
    assert_eq!(valid(v.normalized.clone()).normalized, v.normalized);
}

#[test]
fn a_type_with_values_makes_an_enum() {
    let t = field_type(
        &json!({"name": "size", "base": "text", "checks": {"enum": ["s", "m", "l"]}}),
        &TestEnv::new(),
    )
    .unwrap();
    let env = TestEnv::with_types(FieldTypes::new([t]));
    let v = validate(
        &entity(json!([{"name": "size", "type": "size", "default": "m"}])),
        &env,
    )
    .unwrap();
    assert_eq!(
        v.entity.fields[0].ty,
        FieldType::Scalar(Scalar::Enum(vec!["s".into(), "m".into(), "l".into()]))
    );
    assert_eq!(v.normalized["fields"][0]["type"], "size");
    assert!(v.normalized["fields"][0].get("values").is_none());
}

#[test]
fn a_field_may_not_set_what_its_type_sets() {
    let errs = validate(
        &entity(json!([{"name": "tel", "type": "phone", "pattern": "^1$", "max_length": 20}])),
        &env(),
    )
    .expect_err("pattern is the type's");
    let pointers: Vec<_> = errs.iter().map(|v| v.pointer.as_str()).collect();
    assert_eq!(pointers, ["/fields/0/pattern"], "{errs:?}");
    assert!(errs[0].hint.contains("type text"), "{errs:?}");
}

#[test]
fn defaults_are_held_to_the_type() {
    let errs = validate(
        &entity(json!([{"name": "price", "type": "money", "default": 1e13}])),
        &env(),
    )
    .expect_err("above the type's max");
    assert_eq!(errs[0].pointer, "/fields/0/default", "{errs:?}");
}

#[test]
fn an_unregistered_type_is_still_unknown() {
    let errs = validate(
        &entity(json!([{"name": "tel", "type": "phone"}])),
        &TestEnv::new(),
    )
    .expect_err("no registry");
    assert_eq!(errs[0].pointer, "/fields/0/type", "{errs:?}");
}

#[test]
fn registration_refuses_what_a_field_could_not_hold() {
    let cases = [
        (json!({"name": "text", "base": "text"}), "/name"),
        (json!({"name": "Phone", "base": "text"}), "/name"),
        (json!({"name": "blob", "base": "json"}), "/base"),
        (
            json!({"name": "n", "base": "integer", "checks": {"enum": ["1"]}}),
            "/checks/enum",
        ),
        (
            json!({"name": "n", "base": "integer", "checks": {"pattern": "^1$"}}),
            "/checks/pattern",
        ),
        (
            json!({"name": "n", "base": "integer", "checks": {"min": 5, "max": 1}}),
            "/checks/min",
        ),
        (
            json!({"name": "n", "base": "integer", "checks": {"min": "five"}}),
            "/checks/min",
        ),
        (
            json!({"name": "s", "base": "text", "checks": {"pattern": "(("}}),
            "/checks/pattern",
        ),
        (
            json!({"name": "d", "base": "decimal", "checks": {"scale": 2}}),
            "/checks/scale",
        ),
        (
            json!({"name": "s", "base": "text", "checks": {"max_length": 2}, "json_schema": {"examples": ["abc"]}}),
            "/json_schema/examples/0",
        ),
        (
            json!({"name": "s", "base": "text", "json_schema": {"format": "no spaces"}}),
            "/json_schema/format",
        ),
        (
            json!({"name": "s", "base": "text", "checks": {"sql": "true"}}),
            "",
        ),
        (json!({"name": "s", "base": "text", "pg_domain": true}), ""),
    ];
    for (def, pointer) in cases {
        let errs = refused(def.clone());
        assert!(errs.iter().any(|(p, _)| p == pointer), "{def}: {errs:?}");
    }
}

#[test]
fn the_checks_become_check_constraints_with_quoted_literals() {
    let v = valid(entity(
        json!([{"name": "tel", "type": "phone"}, {"name": "price", "type": "money"}]),
    ));
    let sql = render_all(&plan::create_entity(&v.entity, &Labels::of(&v.normalized))).join("\n");
    assert!(sql.contains(r#""tel" text"#), "{sql}");
    assert!(sql.contains(r#""price" numeric(14,2)"#), "{sql}");
    assert!(sql.contains(r"~ E'^\\+[1-9][0-9]{1,14}$'"), "{sql}");
}

/// Counts rows breaking a constraint as `failing`, everything else as `rows`.
struct Rows {
    rows: u64,
    failing: u64,
}

impl Counter for Rows {
    fn count(&mut self, c: &Count) -> u64 {
        match c.probe {
            crate::evolve::Probe::Rows => self.rows,
            crate::evolve::Probe::AnyRow => self.rows.min(1),
            _ => self.failing,
        }
    }
}

fn change(old: Value, new: Value, failing: u64) -> crate::evolve::Evolution {
    crate::evolve::tests::evolve_validated(
        &valid(old),
        &valid(new),
        &Options::default(),
        &mut Rows { rows: 10, failing },
    )
}

fn tel(ty: &str) -> Value {
    entity(json!([{"id": "01900000-0000-7000-8000-000000000002", "name": "tel", "type": ty}]))
}

#[test]
fn text_to_a_custom_type_is_a_validating_scan_and_refused_with_counts() {
    let e = change(tel("text"), tel("phone"), 0);
    assert!(e.refusals.is_empty(), "{:?}", e.refusals);
    let scans: Vec<_> = e.changes.iter().filter(|c| c.class == Class::Scan).collect();
    assert_eq!(scans.len(), 1, "{:#?}", e.changes);
    let rendered = render(&scans[0].step);
    assert!(rendered.contains("VALIDATE CONSTRAINT"), "{rendered}");
    assert!(!e.changes.iter().any(|c| c.class == Class::Rewrite));

    let e = change(tel("text"), tel("phone"), 3);
    assert_eq!(e.refusals.len(), 1, "{:#?}", e.changes);
    assert!(e.refusals[0].message.contains('3'), "{:?}", e.refusals);
}

#[test]
fn a_custom_type_back_to_its_base_drops_the_checks_only() {
    let e = change(tel("phone"), tel("text"), 0);
    assert!(e.refusals.is_empty());
    assert!(!e.changes.is_empty());
    assert!(
        e.changes.iter().all(|c| c.class == Class::Metadata),
        "{:#?}",
        e.changes
    );
}

#[test]
fn the_record_schema_shows_format_pattern_and_examples() {
    let v = valid(entity(
        json!([{"name": "tel", "type": "phone"}, {"name": "tint", "type": "color"}]),
    ));
    let s = record_schema(&v.entity, &Labels::of(&v.normalized));
    let tel = &s["properties"]["tel"];
    assert_eq!(tel["format"], "phone", "{tel}");
    assert_eq!(tel["pattern"], r"^\+[1-9][0-9]{1,14}$");
    assert_eq!(tel["examples"][0], "+14155552671");
    assert!(tel["description"]
        .as_str()
        .unwrap()
        .contains("Type phone: A phone number in E.164 form"));
    assert_eq!(s["properties"]["tint"]["format"], "color");
}

#[test]
fn the_typescript_types_name_the_format() {
    let v = valid(entity(json!([{"name": "tel", "type": "phone"}])));
    let ts = crate::docs::typescript("acme", &[(v.entity.clone(), Labels::of(&v.normalized))]);
    assert!(ts.contains("Format: phone (custom type phone)."), "{ts}");
}

#[test]
fn moving_between_two_types_of_one_base_swaps_their_checks() {
    let e = change(tel("phone"), tel("slug"), 0);
    assert!(e.refusals.is_empty(), "{:?}", e.refusals);
    let sql = e
        .changes
        .iter()
        .map(|c| render(&c.step))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(sql.contains("[a-z0-9]+(-[a-z0-9]+)*"), "{sql}");
    assert!(sql.contains("max_length"), "{sql}");
    assert!(e.changes.iter().any(|c| c.class == Class::Scan));
}
