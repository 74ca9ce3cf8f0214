//! A group of definitions created together (`cot.create_entities`, the new
//! entities of `cot.apply_schema`; a single `cot.create_entity` is a group of
//! one): the checks across the group that need no database, and the
//! violations for what the database reports taken. Error pointers start with
//! the definition's `prefix` (`/1` in `cot.create_entities`, `/entities/1` in
//! a bundle, nothing for one definition).

use crate::error::{ErrorKind, Violation};
use crate::names::Ident;
use crate::types::Entity;
use std::collections::HashMap;

/// `v` with its pointer moved under `prefix`.
pub fn prefixed(prefix: &str, mut v: Violation) -> Violation {
    v.pointer = format!("{prefix}{}", v.pointer);
    v
}

/// Every entity of a group belongs to the first one's tenant.
pub fn one_tenant(entities: &[&Entity], prefix: &dyn Fn(usize) -> String) -> Vec<Violation> {
    let Some(first) = entities.first() else {
        return Vec::new();
    };
    let tenant = &first.tenant;
    entities
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, e)| e.tenant != *tenant)
        .map(|(i, e)| {
            Violation::new(
                ErrorKind::InvalidParameter,
                format!("{}/tenant", prefix(i)),
                format!(
                    "all entities of a group belong to one tenant; this one names \"{}\", the first \"{tenant}\"",
                    e.tenant
                ),
                "relations stay inside one tenant; create each tenant's entities in its own call",
            )
        })
        .collect()
}

/// Relation targets that are not in the group, in order: they must exist in
/// the tenant.
pub fn targets_outside(entities: &[&Entity]) -> Vec<String> {
    entities
        .iter()
        .flat_map(|e| e.relations.iter().map(|r| r.target.to_string()))
        .filter(|t| !entities.iter().any(|e| e.name.as_str() == t))
        .collect()
}

/// Names the group itself would make twice (an index and a junction, an
/// index and another entity of the group), which would fail in Postgres
/// without a pointer. `made[i]` is what definition `i` creates, as (schema,
/// name), in order.
pub fn name_clashes(made: &[Vec<(Ident, Ident)>], prefix: &dyn Fn(usize) -> String) -> Vec<Violation> {
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, relations) in made.iter().enumerate() {
        for (schema, name) in relations {
            if let Some(before) = seen.insert((schema.as_str(), name.as_str()), i) {
                let also = if before == i {
                    String::new()
                } else {
                    format!(" (also by {})", prefix(before))
                };
                out.push(prefixed(
                    &prefix(i),
                    Violation::new(
                        ErrorKind::DuplicateTable,
                        "/name",
                        format!("\"{schema}.{name}\" would be made twice{also}"),
                        "two generated names meet; rename a field or an entity",
                    ),
                ));
            }
        }
    }
    out
}

/// An id of entity `e` (its own or a field's) that is already used.
pub fn id_in_use(e: &Entity, id: &str) -> Violation {
    let pointer = if id == e.id.to_string() {
        "/id".to_string()
    } else {
        let at = e
            .relations
            .iter()
            .find(|r| r.id.to_string() == id)
            .map(|r| r.at)
            .or_else(|| e.fields.iter().position(|f| f.id.to_string() == id))
            .unwrap_or(0);
        format!("/fields/{at}/id")
    };
    Violation::new(
        ErrorKind::DuplicateObject,
        pointer,
        format!("id {id} is already used"),
        "ids are unique across all tenants; omit the id to have one generated",
    )
}

/// A relation (`schema.name`) that entity `e` would create and that exists
/// already: at the relation field whose junction it is, else at the name.
pub fn relation_taken(e: &Entity, taken: &str) -> Violation {
    let pointer = e
        .relations
        .iter()
        .find(|r| {
            r.junction.as_ref().is_some_and(|j| {
                let table = j.table.as_str();
                taken
                    .split_once('.')
                    .is_some_and(|(_, n)| n == table || n.starts_with(&format!("{table}_")))
            })
        })
        .map_or_else(|| "/name".to_string(), |r| format!("/fields/{}/name", r.at));
    Violation::new(
        ErrorKind::DuplicateTable,
        pointer,
        format!("relation \"{taken}\" already exists"),
        "an object Cot would create has this name already; choose another entity or field name",
    )
}

/// Entity `e` exists already in its tenant.
pub fn entity_exists(e: &Entity) -> Violation {
    Violation::new(
        ErrorKind::DuplicateTable,
        "/name",
        format!("entity \"{}\" already exists in tenant \"{}\"", e.name, e.tenant),
        "choose another name, or change the existing entity",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{check_name, Keywords, NameKind};
    use crate::validate::{tests::TestEnv, validate};
    use serde_json::json;

    fn entity(def: serde_json::Value) -> Entity {
        validate(&def, &TestEnv::new())
            .unwrap_or_else(|v| panic!("{v:?}"))
            .entity
    }

    fn orders() -> Entity {
        entity(
            json!({"tenant": "acme", "name": "orders", "id": "0190d4f6-0000-7000-8000-000000000001", "fields": [
                {"name": "total", "type": "integer", "id": "0190d4f6-0000-7000-8000-000000000002"},
                {"name": "tags", "type": "relation", "kind": "many_to_many", "target": "tags",
                 "id": "0190d4f6-0000-7000-8000-000000000003"},
            ]}),
        )
    }

    fn ident(s: &str) -> Ident {
        check_name(NameKind::Entity, s, "", &Keywords::default()).unwrap()
    }

    fn slash(i: usize) -> String {
        format!("/{i}")
    }

    #[test]
    fn a_group_is_one_tenants() {
        let a = entity(json!({"tenant": "acme", "name": "a"}));
        let b = entity(json!({"tenant": "other", "name": "b"}));
        assert!(one_tenant(&[&a, &a], &slash).is_empty());
        let v = one_tenant(&[&a, &a, &b], &slash);
        assert_eq!(v.len(), 1);
        assert_eq!(
            (v[0].pointer.as_str(), v[0].kind.sqlstate()),
            ("/2/tenant", "22023")
        );
        assert_eq!(
            v[0].message,
            "all entities of a group belong to one tenant; this one names \"other\", the first \"acme\""
        );
    }

    #[test]
    fn targets_outside_the_group() {
        let tags = entity(json!({"tenant": "acme", "name": "tags"}));
        let o = orders();
        assert_eq!(targets_outside(&[&o]), ["tags"]);
        assert!(targets_outside(&[&o, &tags]).is_empty());
    }

    #[test]
    fn names_made_twice_point_at_the_later_definition() {
        let (s, t, u) = (ident("acme"), ident("t"), ident("u"));
        let made = vec![
            vec![(s.clone(), t.clone()), (s.clone(), u.clone())],
            vec![(s.clone(), u.clone())],
            vec![(s.clone(), t.clone()), (s.clone(), t.clone())],
        ];
        let v = name_clashes(&made, &slash);
        let said: Vec<(&str, &str)> = v
            .iter()
            .map(|v| (v.pointer.as_str(), v.message.as_str()))
            .collect();
        assert_eq!(
            said,
            [
                ("/1/name", "\"acme.u\" would be made twice (also by /0)"),
                ("/2/name", "\"acme.t\" would be made twice (also by /0)"),
                ("/2/name", "\"acme.t\" would be made twice"),
            ]
        );
        assert!(v.iter().all(|v| v.kind.sqlstate() == "42P07"));
        assert!(name_clashes(&[vec![(s.clone(), t)], vec![(s, u)]], &slash).is_empty());
    }

    #[test]
    fn an_id_in_use_points_at_its_owner() {
        let o = orders();
        let at = |id: &str| id_in_use(&o, id).pointer;
        assert_eq!(at("0190d4f6-0000-7000-8000-000000000001"), "/id");
        assert_eq!(at("0190d4f6-0000-7000-8000-000000000002"), "/fields/0/id");
        assert_eq!(at("0190d4f6-0000-7000-8000-000000000003"), "/fields/1/id");
        let v = id_in_use(&o, "0190d4f6-0000-7000-8000-000000000002");
        assert_eq!(v.kind.sqlstate(), "42710");
        assert_eq!(
            v.message,
            "id 0190d4f6-0000-7000-8000-000000000002 is already used"
        );
    }

    #[test]
    fn a_taken_relation_points_at_the_field_whose_junction_it_is() {
        let o = orders();
        assert_eq!(relation_taken(&o, "acme.orders_tags").pointer, "/fields/1/name");
        assert_eq!(
            relation_taken(&o, "acme.orders_tags_pkey").pointer,
            "/fields/1/name"
        );
        let v = relation_taken(&o, "tenant_acme.orders");
        assert_eq!(
            (v.pointer.as_str(), v.message.as_str()),
            ("/name", "relation \"tenant_acme.orders\" already exists")
        );
        let e = entity_exists(&o);
        assert_eq!((e.pointer.as_str(), e.kind.sqlstate()), ("/name", "42P07"));
        assert_eq!(e.message, "entity \"orders\" already exists in tenant \"acme\"");
        assert_eq!(prefixed("/3", e).pointer, "/3/name");
    }
}
