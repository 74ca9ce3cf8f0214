//! Schema bundles: a tenant's whole model as one document
//! (`{"format": "cot.schema/1", "tenant": ..., "entities": [...]}`), written by
//! `cot.export_schema` and read by `cot.apply_schema`. What needs no database:
//! the format, the definitions it holds for a tenant, its relations staying
//! inside it, and the stable ids that let it move between tenants.

use crate::error::{CotError, ErrorKind, Violation};
use crate::names::shown;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The format tag of a bundle; a bundle with another tag is refused.
pub const FORMAT: &str = "cot.schema/1";

/// Largest bundle, in bytes of JSON text.
pub const MAX_BUNDLE_BYTES: usize = 16 * 1024 * 1024;

/// A stored definition as it goes into a bundle: no tenant (the bundle is
/// applied to any), no version, nothing read-only.
pub fn portable(mut definition: Value) -> Value {
    if let Some(m) = definition.as_object_mut() {
        for key in ["tenant", "version", "referenced_by"] {
            m.remove(key);
        }
    }
    definition
}

/// The bundle of tenant `tenant` holding these stored definitions.
pub fn export(tenant: &str, definitions: Vec<Value>) -> Value {
    let entities: Vec<Value> = definitions.into_iter().map(portable).collect();
    json!({"format": FORMAT, "tenant": tenant, "entities": entities})
}

/// The bundle's definitions, each given tenant `tenant`. Refused: anything
/// but a bundle, and relations whose target is not in the bundle (a bundle is
/// a whole model).
pub fn definitions(bundle: &Value, tenant: &str) -> Result<Vec<Value>, CotError> {
    let bad = |what: &str| {
        CotError::new(
            ErrorKind::InvalidParameter,
            format!("not a Cot schema bundle: {what}"),
        )
        .hint("pass what cot.export_schema() returns: {\"format\": \"cot.schema/1\", \"entities\": [...]}")
    };
    if bundle.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(bad("format must be \"cot.schema/1\""));
    }
    let Some(entities) = bundle.get("entities").and_then(Value::as_array) else {
        return Err(bad("entities must be an array"));
    };
    let defs = entities
        .iter()
        .map(|e| {
            let Value::Object(m) = e else {
                return Err(bad("each entity must be an object"));
            };
            let mut m = m.clone();
            m.insert("tenant".into(), json!(tenant));
            Ok(Value::Object(m))
        })
        .collect::<Result<Vec<Value>, CotError>>()?;
    let outside = targets_outside(&defs);
    if !outside.is_empty() {
        return Err(CotError::from_violations("schema bundle", &outside));
    }
    Ok(defs)
}

/// Relation fields whose target is none of the bundle's entities.
fn targets_outside(defs: &[Value]) -> Vec<Violation> {
    let names: Vec<&str> = defs
        .iter()
        .filter_map(|d| d.get("name").and_then(Value::as_str))
        .collect();
    let mut outside = Vec::new();
    for (i, d) in defs.iter().enumerate() {
        for (j, f) in fields(d).enumerate() {
            if let Some(target) = f.get("target").and_then(Value::as_str) {
                if !names.contains(&target) {
                    outside.push(Violation::new(
                        ErrorKind::UndefinedObject,
                        format!("/entities/{i}/fields/{j}/target"),
                        format!("relation target {} is not in the bundle", shown(target)),
                        "a bundle holds a whole model: add that entity, or drop the relation",
                    ));
                }
            }
        }
    }
    outside
}

fn fields(def: &Value) -> impl Iterator<Item = &Value> {
    def.get("fields").and_then(Value::as_array).into_iter().flatten()
}

fn id_of(v: &Value) -> Option<String> {
    v.get("id").and_then(Value::as_str).map(str::to_string)
}

/// Every id the definitions give, entities' and fields'.
pub fn ids(defs: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for d in defs {
        out.extend(id_of(d));
        out.extend(fields(d).filter_map(id_of));
    }
    out
}

/// Replaces the ids in `elsewhere` (used by another tenant: ids are unique
/// across tenants) with stable ones of tenant `tenant_id`.
pub fn move_ids(defs: &mut [Value], tenant_id: uuid::Uuid, elsewhere: &[String]) {
    let swap = |v: &mut Value| {
        if let Some(id) = id_of(v).filter(|id| elsewhere.contains(id)) {
            v["id"] = json!(id_in_tenant(tenant_id, &id));
        }
    };
    for d in defs {
        swap(d);
        // `get_mut`: indexing would add `"fields": null` to a definition without.
        for f in d
            .get_mut("fields")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            swap(f);
        }
    }
}

/// A stable id for `id` in tenant `tenant_id`, for bundles applied to another
/// tenant of the same database: the same bundle applied twice must map to the
/// same ids (so the second apply changes nothing).
pub fn id_in_tenant(tenant_id: uuid::Uuid, id: &str) -> String {
    let digest = Sha256::new()
        .chain_update(tenant_id.as_bytes())
        .chain_update(id.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle() -> Value {
        json!({"format": FORMAT, "tenant": "a", "entities": [
            {"id": "e1", "name": "customers", "fields": [{"id": "f1", "name": "name", "type": "text"}]},
            {"id": "e2", "name": "orders", "fields": [
                {"id": "f2", "name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers"}]},
        ]})
    }

    #[test]
    fn export_leaves_out_what_belongs_to_one_tenant() {
        let out = export(
            "acme",
            vec![json!({"name": "x", "tenant": "acme", "version": 4, "referenced_by": [], "label": "X"})],
        );
        assert_eq!(
            out,
            json!({"format": "cot.schema/1", "tenant": "acme", "entities": [{"name": "x", "label": "X"}]})
        );
    }

    #[test]
    fn definitions_are_given_the_tenant() {
        let defs = definitions(&bundle(), "b").unwrap();
        assert_eq!(defs.len(), 2);
        assert!(defs.iter().all(|d| d["tenant"] == "b"));
        assert_eq!(ids(&defs), ["e1", "f1", "e2", "f2"]);
    }

    #[test]
    fn anything_but_a_bundle_is_refused() {
        let hint =
            "pass what cot.export_schema() returns: {\"format\": \"cot.schema/1\", \"entities\": [...]}";
        for (input, message) in [
            (
                json!({"entities": []}),
                "not a Cot schema bundle: format must be \"cot.schema/1\"",
            ),
            (
                json!({"format": "cot.schema/2", "entities": []}),
                "not a Cot schema bundle: format must be \"cot.schema/1\"",
            ),
            (
                json!({"format": FORMAT, "entities": {}}),
                "not a Cot schema bundle: entities must be an array",
            ),
            (
                json!({"format": FORMAT, "entities": [1]}),
                "not a Cot schema bundle: each entity must be an object",
            ),
        ] {
            let e = definitions(&input, "b").unwrap_err();
            assert_eq!(
                (e.kind, e.message.as_str(), e.hint.as_deref()),
                (ErrorKind::InvalidParameter, message, Some(hint))
            );
        }
    }

    #[test]
    fn relations_stay_inside_the_bundle() {
        let mut b = bundle();
        b["entities"].as_array_mut().unwrap().remove(0);
        let e = definitions(&b, "b").unwrap_err();
        assert_eq!(e.kind.sqlstate(), "42704");
        assert_eq!(
            e.message,
            "invalid schema bundle: relation target \"customers\" is not in the bundle"
        );
        assert_eq!(
            e.detail.as_deref(),
            Some("/entities/0/fields/0/target: relation target \"customers\" is not in the bundle")
        );
    }

    #[test]
    fn ids_used_elsewhere_move_to_stable_ones() {
        let tenant = uuid::Uuid::from_u128(7);
        let mut defs = definitions(&bundle(), "b").unwrap();
        move_ids(&mut defs, tenant, &["e1".to_string(), "f2".to_string()]);
        assert_eq!(defs[0]["id"], id_in_tenant(tenant, "e1"));
        assert_eq!(defs[0]["fields"][0]["id"], "f1");
        assert_eq!(defs[1]["id"], "e2");
        assert_eq!(defs[1]["fields"][0]["id"], id_in_tenant(tenant, "f2"));
        // Stable per tenant, different between tenants.
        assert_eq!(id_in_tenant(tenant, "e1"), id_in_tenant(tenant, "e1"));
        assert_ne!(
            id_in_tenant(tenant, "e1"),
            id_in_tenant(uuid::Uuid::from_u128(8), "e1")
        );
        assert!(uuid::Uuid::parse_str(&id_in_tenant(tenant, "e1")).is_ok());
    }
}
