//! A module inside one tenant: the ids its entities and fields take there,
//! and who owns each entity name.
//!
//! A module's entity (and field) is known by its key: its `id` in the module
//! file when it has one, else its name. In a tenant it takes the id
//! `id_in_tenant(tenant, "module/<module>/<entity key>[/<field key>]")`:
//! the same in every version of the module, so an upgrade matches the
//! entities and fields it installed by id (a rename stays a rename), and an
//! entity belongs to a module exactly when its id is one of these. Entities
//! the tenant defined itself never have such an id, so no module operation
//! touches them.

use super::format::{entity_key, Module};
use crate::bundle::id_in_tenant;
use crate::error::{CotError, ErrorKind, Violation};
use crate::names::shown;
use serde_json::{json, Value};

/// The id of a module's entity (or, with `field`, of one of its fields) in a tenant.
pub fn module_id(tenant_id: uuid::Uuid, module: &str, entity: &str, field: Option<&str>) -> uuid::Uuid {
    let key = match field {
        Some(f) => format!("module/{module}/{entity}/{f}"),
        None => format!("module/{module}/{entity}"),
    };
    uuid::Uuid::parse_str(&id_in_tenant(tenant_id, &key)).expect("id_in_tenant gives a uuid")
}

/// The module's definitions as the tenant gets them: tenant set, and every
/// entity's and field's id replaced by its id in the tenant.
pub fn definitions_for(module: &Module, tenant: &str, tenant_id: uuid::Uuid) -> Vec<Value> {
    module
        .entities
        .iter()
        .map(|def| {
            let mut def = def.clone();
            let key = entity_key(&def).unwrap_or_default().to_string();
            def["tenant"] = json!(tenant);
            def["id"] = json!(module_id(tenant_id, &module.name, &key, None).to_string());
            if let Some(fields) = def.get_mut("fields").and_then(Value::as_array_mut) {
                for f in fields {
                    let fkey = f
                        .get("id")
                        .and_then(Value::as_str)
                        .or_else(|| f.get("name").and_then(Value::as_str))
                        .unwrap_or_default()
                        .to_string();
                    if f.is_object() {
                        f["id"] = json!(module_id(tenant_id, &module.name, &key, Some(&fkey)).to_string());
                    }
                }
            }
            def
        })
        .collect()
}

/// The ids the module's entities take in a tenant, in order.
pub fn entity_ids(module: &Module, tenant_id: uuid::Uuid) -> Vec<uuid::Uuid> {
    module
        .entities
        .iter()
        .map(|d| module_id(tenant_id, &module.name, entity_key(d).unwrap_or_default(), None))
        .collect()
}

/// An entity of a tenant, with who put it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occupant {
    /// The entity's name.
    pub name: String,
    /// Its id.
    pub id: uuid::Uuid,
    /// The installed module it belongs to; `None` for the tenant's own.
    pub module: Option<String>,
}

/// Entity names the module would take that another owner holds in the
/// tenant: the tenant itself or another module. An entity with one of the
/// module's own ids is the module's (an upgrade changes it).
pub fn conflicts(module: &Module, tenant: &str, defs: &[Value], occupants: &[Occupant]) -> Option<CotError> {
    let mut problems = Vec::new();
    for (i, def) in defs.iter().enumerate() {
        let name = def.get("name").and_then(Value::as_str).unwrap_or_default();
        let id = def.get("id").and_then(Value::as_str).unwrap_or_default();
        let Some(o) = occupants
            .iter()
            .find(|o| o.name == name && o.id.to_string() != id)
        else {
            continue;
        };
        let owner = match &o.module {
            Some(m) if m == &module.name => continue,
            Some(m) => format!("module {} already installed", shown(m)),
            None => format!("tenant {} defined itself", shown(tenant)),
        };
        problems.push(Violation::new(
            ErrorKind::DuplicateObject,
            format!("/entities/{i}/name"),
            format!(
                "module {} defines entity {}, which {owner}",
                shown(&module.name),
                shown(name)
            ),
            "an entity has one owner: rename or drop the tenant's own entity, or uninstall the other module",
        ));
    }
    if problems.is_empty() {
        None
    } else {
        let mut e = CotError::from_violations("module installation", &problems);
        e.message = problems[0].message.clone();
        Some(e.hint(problems[0].hint.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module() -> Module {
        Module::parse(&json!({
            "format": "cot.module/1", "name": "crm", "version": "1.0.0",
            "entities": [
                {"name": "companies", "fields": [{"name": "name", "type": "text"}]},
                {"id": "deals", "name": "opportunities", "fields": [{"id": "title", "name": "name", "type": "text"}]}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn ids_are_stable_per_tenant_and_follow_keys() {
        let t = uuid::Uuid::from_u128(1);
        let defs = definitions_for(&module(), "acme", t);
        assert_eq!(defs[0]["tenant"], "acme");
        assert_eq!(defs[0]["id"], module_id(t, "crm", "companies", None).to_string());
        assert_eq!(
            defs[1]["fields"][0]["id"],
            module_id(t, "crm", "deals", Some("title")).to_string()
        );
        assert_eq!(defs, definitions_for(&module(), "acme", t));
        let other = definitions_for(&module(), "acme", uuid::Uuid::from_u128(2));
        assert_ne!(defs[0]["id"], other[0]["id"]);
        assert_eq!(entity_ids(&module(), t)[1], module_id(t, "crm", "deals", None));
        // Another module with the same entity key gets other ids.
        assert_ne!(
            module_id(t, "crm", "companies", None),
            module_id(t, "hr", "companies", None)
        );
    }

    #[test]
    fn names_held_by_the_tenant_or_another_module_conflict() {
        let t = uuid::Uuid::from_u128(1);
        let m = module();
        let defs = definitions_for(&m, "acme", t);
        let own = Occupant {
            name: "companies".into(),
            id: uuid::Uuid::from_u128(9),
            module: None,
        };
        let e = conflicts(&m, "acme", &defs, &[own]).unwrap();
        assert_eq!(e.kind.sqlstate(), "42710");
        assert_eq!(
            e.message,
            "module \"crm\" defines entity \"companies\", which tenant \"acme\" defined itself"
        );
        assert_eq!(
            e.detail.as_deref(),
            Some("/entities/0/name: module \"crm\" defines entity \"companies\", which tenant \"acme\" defined itself")
        );
        let other = Occupant {
            name: "opportunities".into(),
            id: uuid::Uuid::from_u128(9),
            module: Some("sales".into()),
        };
        let e = conflicts(&m, "acme", &defs, &[other]).unwrap();
        assert_eq!(
            e.message,
            "module \"crm\" defines entity \"opportunities\", which module \"sales\" already installed"
        );
        // Its own entity (same id) is no conflict.
        let mine = Occupant {
            name: "companies".into(),
            id: module_id(t, "crm", "companies", None),
            module: Some("crm".into()),
        };
        assert!(conflicts(&m, "acme", &defs, &[mine]).is_none());
    }
}
