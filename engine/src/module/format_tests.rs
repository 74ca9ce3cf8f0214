use super::*;
use serde_json::json;

fn doc() -> Value {
    json!({
        "format": "cot.module/1", "name": "crm", "version": "1.1.0",
        "description": "Companies and contacts",
        "depends": {"base": "^1.2"},
        "entities": [
            {"name": "companies", "fields": [{"name": "name", "type": "text"}]},
            {"id": "people", "name": "contacts", "fields": [
                {"name": "company", "type": "relation", "kind": "many_to_one", "target": "companies"},
                {"name": "owner", "type": "relation", "kind": "many_to_one", "target": "users"}]}
        ],
        "samples": {"companies": [{"name": "Acme"}]}
    })
}

#[test]
fn a_module_is_read() {
    let m = Module::parse(&doc()).unwrap();
    assert_eq!(m.name, "crm");
    assert_eq!(m.version, Version::parse("1.1.0").unwrap());
    assert_eq!(m.depends["base"], VersionReq::parse("^1.2").unwrap());
    assert_eq!(m.entity_names(), ["companies", "contacts"]);
    assert_eq!(m.samples["companies"].len(), 1);
    assert_eq!(
        m.outside_targets(),
        [("/entities/1/fields/1/target".to_string(), "users".to_string())]
    );
    assert_eq!(entity_key(&m.entities[1]), Some("people"));
    assert_eq!(entity_key(&m.entities[0]), Some("companies"));
}

#[test]
fn every_problem_is_reported_with_its_pointer() {
    let bad = json!({
        "format": "cot.module/2", "name": "CRM", "version": "1.0", "extra": 1,
        "depends": {"crm": "^1", "base": "not a range", "Bad": "*"},
        "entities": [
            {"name": "a", "tenant": "acme"}, {"name": "a"}, 3, {"fields": []}
        ],
        "samples": {"nope": [], "a": [1]}
    });
    let e = Module::parse(&bad).unwrap_err();
    assert_eq!(e.kind.sqlstate(), "22023");
    let detail = e.detail.unwrap();
    for line in [
        "/extra: unknown key \"extra\"",
        "/format: format must be \"cot.module/1\"",
        "/name: name must match ^[a-z][a-z0-9_-]{0,62}$",
        "/version: version is not a semantic version",
        "/depends/base: the version range of \"base\" is not a semver range",
        "/depends/Bad: \"Bad\" is not a module name",
        "/entities/0/tenant: a module's entity has no tenant",
        "/entities/1/name: entity \"a\" is defined twice",
        "/entities/2: each entity must be an object",
        "/entities/3/name: an entity needs a name",
        "/samples/nope: samples for \"nope\", which is none of the module's entities",
        "/samples/a: samples of an entity are an array of objects",
    ] {
        assert!(detail.contains(line), "{line} missing from:\n{detail}");
    }
    let mut selfdep = doc();
    selfdep["depends"] = json!({"crm": "*"});
    let e = Module::parse(&selfdep).unwrap_err();
    assert_eq!(e.message, "invalid module: a module cannot depend on itself");
}

#[test]
fn versions_and_names() {
    let mut d = doc();
    d["version"] = json!("1.0.0+build.5");
    assert!(Module::parse(&d).unwrap_err().message.contains("build metadata"));
    d["version"] = json!("2.0.0-rc.1");
    assert!(Module::parse(&d).is_ok());
    for (name, ok) in [
        ("crm", true),
        ("crm-deals", true),
        ("crm_2", true),
        ("2crm", false),
        ("", false),
        ("Crm", false),
    ] {
        assert_eq!(valid_name(name), ok, "{name}");
    }
    assert!(!valid_name(&"a".repeat(64)));
    assert!(Module::parse(&json!([])).is_err());
    let mut empty = doc();
    empty["entities"] = json!([]);
    empty.as_object_mut().unwrap().remove("samples");
    assert!(Module::parse(&empty)
        .unwrap_err()
        .message
        .contains("1 to 200 entities"));
}

#[test]
fn too_many_samples_are_refused() {
    let mut d = doc();
    d["samples"] = json!({"companies": vec![json!({"name": "x"}); MAX_SAMPLE_ROWS + 1]});
    let e = Module::parse(&d).unwrap_err();
    assert_eq!(
        e.message,
        "invalid module: a module carries at most 1000 sample rows, not 1001"
    );
}

#[test]
fn a_module_may_carry_field_types_with_or_without_entities() {
    let phone = json!({"name": "phone", "base": "text", "checks": {"pattern": "^\\+[0-9]+$"}});
    let types_only = json!({"format": "cot.module/1", "name": "types", "version": "1.0.0",
                            "field_types": [phone.clone()]});
    let m = Module::parse(&types_only).unwrap();
    assert_eq!(m.field_type_names(), ["phone"]);
    assert!(m.entities.is_empty());
    let mut both = doc();
    both["field_types"] = json!([phone]);
    both["entities"][0]["fields"] = json!([{"name": "tel", "type": "phone"}, {"name": "fax", "type": "fax"},
                                          {"name": "n", "type": "text"}, {"name": "s", "type": "state"}]);
    let m = Module::parse(&both).unwrap();
    assert_eq!(
        m.outside_types(),
        [("/entities/0/fields/1/type".to_string(), "fax".to_string())],
        "only a type neither built in nor carried is outside"
    );
}

#[test]
fn bad_field_types_are_refused() {
    let base = json!({"format": "cot.module/1", "name": "types", "version": "1.0.0"});
    for (types, pointer) in [
        (json!([]), "/field_types"),
        (json!({"name": "phone"}), "/field_types"),
        (json!([1]), "/field_types/0"),
        (json!([{"name": "a"}, {"name": "a"}]), "/field_types/1/name"),
    ] {
        let mut d = base.clone();
        d["field_types"] = types.clone();
        let e = Module::parse(&d).expect_err("refused");
        let text = format!("{} {}", e.message, e.detail.unwrap_or_default());
        assert!(text.contains(&format!("{pointer}: ")), "{types}: {text}");
    }
    let e = Module::parse(&base).expect_err("neither entities nor types");
    assert!(e.message.contains("entities"), "{}", e.message);
    let mut empty = base.clone();
    empty["entities"] = json!([]);
    assert!(Module::parse(&empty).is_err(), "no entities and no types");
}
