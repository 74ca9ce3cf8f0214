//! The example modules in `modules/` and the JSON Schema of the format in
//! `docs/schemas/module.schema.json`: every example passes the schema,
//! [`Module::parse`] and the validation of each of its definitions; each
//! module with entities ships at least two versions, in files named `<name>-<version>.json`;
//! the custom types an example uses are carried by a module it depends on
//! (`standard-types`); and the schema refuses what the format refuses.

use super::format::Module;
use super::tenant::definitions_for;
use crate::field_types::FieldTypes;
use crate::validate::{field_type, tests::TestEnv, validate};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn schema() -> jsonschema::Validator {
    let s = read(&root().join("docs/schemas/module.schema.json"));
    assert!(
        jsonschema::meta::is_valid(&s),
        "the module schema is valid draft 2020-12"
    );
    jsonschema::options()
        .build(&s)
        .expect("the module schema compiles")
}

fn examples() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(root().join("modules")).expect("modules/ exists") {
        let dir = dir.unwrap().path();
        if dir.is_dir() {
            for f in std::fs::read_dir(&dir).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "json") {
                    out.push(f);
                }
            }
        }
    }
    out.sort();
    out
}

/// The field types the example modules carry, each registered as
/// `cot.register_field_type` would.
fn shipped_types(files: &[PathBuf]) -> FieldTypes {
    let env = TestEnv::new();
    let mut out = Vec::new();
    for path in files {
        let m = Module::parse(&read(path)).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        for t in &m.field_types {
            let def = field_type(t, &env)
                .unwrap_or_else(|v| panic!("{} type {}: {v:?}", path.display(), t["name"]));
            out.push(def);
        }
    }
    assert!(out.len() >= 5, "standard-types carries five types: {out:?}");
    FieldTypes::new(out)
}

#[test]
fn every_example_module_is_valid() {
    let validator = schema();
    let files = examples();
    assert!(files.len() >= 6, "three modules, two versions each: {files:?}");
    let env = TestEnv::with_types(shipped_types(&files));
    let mut versions: std::collections::BTreeMap<String, usize> = Default::default();
    for path in &files {
        let doc = read(path);
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        let m = Module::parse(&doc).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        assert_eq!(
            path.file_name().unwrap().to_str().unwrap(),
            format!("{}-{}.json", m.name, m.version),
            "file named after the module and version"
        );
        assert_eq!(
            path.parent().unwrap().file_name().unwrap().to_str().unwrap(),
            m.name
        );
        for def in definitions_for(&m, "acme", uuid::Uuid::nil()) {
            if let Err(v) = validate(&def, &env) {
                panic!("{} entity {}: {v:?}", path.display(), def["name"]);
            }
        }
        for (pointer, t) in m.outside_types() {
            let carried = m.depends.keys().any(|d| {
                files
                    .iter()
                    .filter(|f| f.parent().unwrap().ends_with(d))
                    .any(|f| {
                        Module::parse(&read(f))
                            .unwrap()
                            .field_type_names()
                            .contains(&t.as_str())
                    })
            });
            assert!(
                carried,
                "{} {pointer}: type {t} is carried by no module it depends on",
                path.display()
            );
        }
        if !m.entities.is_empty() {
            *versions.entry(m.name).or_default() += 1;
        }
    }
    assert!(versions.len() >= 3, "{versions:?}");
    assert!(
        versions.values().all(|n| *n >= 2),
        "each module has two versions or more: {versions:?}"
    );
}

#[test]
fn the_schema_refuses_what_the_format_refuses() {
    let validator = schema();
    let good = json!({"format": "cot.module/1", "name": "m", "version": "1.0.0",
                      "entities": [{"name": "things", "fields": [{"name": "a", "type": "text"}]}]});
    assert!(validator.is_valid(&good));
    assert!(Module::parse(&good).is_ok());
    for (key, bad) in [
        ("format", json!("cot.module/2")),
        ("name", json!("Bad Name")),
        ("version", json!("1.0")),
        ("version", json!("1.0.0+build")),
        ("entities", json!([])),
        ("entities", json!([{"name": "x", "tenant": "acme"}])),
        ("depends", json!({"base": 1})),
        ("samples", json!({"things": [1]})),
        ("field_types", json!([])),
        (
            "field_types",
            json!([{"name": "a", "base": "text"}, {"name": "a", "base": "text"}]),
        ),
        ("extra", json!(true)),
    ] {
        let mut doc = good.clone();
        doc[key] = bad.clone();
        assert!(!validator.is_valid(&doc), "schema accepts {key}: {bad}");
        assert!(Module::parse(&doc).is_err(), "format accepts {key}: {bad}");
    }
    let types_only = json!({"format": "cot.module/1", "name": "t", "version": "1.0.0",
                            "field_types": [{"name": "slug", "base": "text"}]});
    assert!(validator.is_valid(&types_only));
    assert!(Module::parse(&types_only).is_ok());
}
