//! Definitions as Cot stores them (`cot.entities.definition`: the normalized
//! definition with its ids and `version`), read back into one typed struct,
//! and the few edits Cot makes to a stored definition without the user
//! sending a new one (a relation field removed with the entity it points at,
//! an inverse that follows a rename).
//!
//! Only validated definitions are stored, so reading one back fails only if
//! someone wrote the meta-tables by hand.

use crate::error::{CotError, ErrorKind};
use crate::names::{check_name, Ident, Keywords, NameKind, TenantNames};
use crate::types::RelationKind;
use serde::Deserialize;
use serde_json::Value;

/// Keys Cot adds to a definition it returns and drops again before
/// validating it: the version, and `referenced_by` from `cot.entity()`.
const READ_ONLY_KEYS: [&str; 2] = ["version", "referenced_by"];

/// A stored definition, as far as Cot reads it back outside validation.
/// Other keys are left to [`crate::validate`], which reads the whole.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredDefinition {
    /// Entity name.
    pub name: String,
    /// Version: 1 when created, one more with every change.
    #[serde(default = "first_version")]
    pub version: i64,
    /// Fields, relation fields among them, in definition order.
    #[serde(default)]
    pub fields: Vec<StoredField>,
    /// Compound indexes and unique constraints.
    #[serde(default)]
    pub indexes: Vec<StoredIndex>,
}

fn first_version() -> i64 {
    1
}

/// A field of a stored definition.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredField {
    /// Field name.
    pub name: String,
    /// Type name (`relation` for relation fields).
    #[serde(rename = "type")]
    pub field_type: String,
    /// Relation kind.
    #[serde(default)]
    pub kind: Option<String>,
    /// Relation target entity.
    #[serde(default)]
    pub target: Option<String>,
    /// The `<name>_id` column of a many-to-one or one-to-one relation.
    #[serde(default)]
    pub column: Option<String>,
    /// The junction table of a many-to-many relation.
    #[serde(default)]
    pub junction: Option<String>,
    /// One-to-many: the target's relation that points back.
    #[serde(default)]
    pub inverse: Option<String>,
}

/// A compound index of a stored definition.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredIndex {
    /// Its columns.
    pub fields: Vec<String>,
}

/// A many-to-one or one-to-one relation of a stored definition: the relation
/// field, its target entity and its column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRelation {
    /// The relation field.
    pub field: Ident,
    /// The entity it points at.
    pub target: Ident,
    /// Its `<field>_id` column.
    pub column: Ident,
}

impl StoredDefinition {
    /// Reads a stored definition.
    pub fn read(definition: &Value) -> Result<StoredDefinition, CotError> {
        StoredDefinition::deserialize(definition).map_err(|e| {
            CotError::new(
                ErrorKind::NotInPrerequisiteState,
                format!("a stored definition cannot be read: {e}"),
            )
            .hint("cot.entities holds only what Cot wrote; restore it from a backup")
        })
    }

    /// Its many-to-one and one-to-one relations, in field order.
    pub fn column_relations(&self) -> Result<Vec<ColumnRelation>, CotError> {
        self.fields
            .iter()
            .filter_map(|f| Some((&f.name, f.target.as_ref()?, f.column.as_ref()?)))
            .map(|(field, target, column)| {
                Ok(ColumnRelation {
                    field: ident(NameKind::Field, field)?,
                    target: ident(NameKind::Entity, target)?,
                    column: ident(NameKind::Field, column)?,
                })
            })
            .collect()
    }

    /// The junction tables its many-to-many fields made.
    pub fn junctions(&self) -> Result<Vec<Ident>, CotError> {
        junctions_of(&self.fields)
    }
}

/// The junction tables of the many-to-many fields among `fields`.
pub fn junctions_of(fields: &[StoredField]) -> Result<Vec<Ident>, CotError> {
    fields
        .iter()
        .filter(|f| f.kind.as_deref() == Some(RelationKind::ManyToMany.name()))
        .filter_map(|f| f.junction.as_deref())
        .map(|j| ident(NameKind::Entity, j))
        .collect()
}

/// A name read back from a stored definition or a meta-table, where only
/// validated names are written.
pub fn ident(kind: NameKind, name: &str) -> Result<Ident, CotError> {
    check_name(kind, name, "", &Keywords::default())
        .map_err(|v| CotError::from_violations("stored name", &[v]))
}

/// The names of a stored tenant's schemas and roles.
pub fn tenant_names(slug: &str) -> Result<TenantNames, CotError> {
    ident(NameKind::Tenant, slug).map(|s| TenantNames::new(&s))
}

/// A stored definition as validation takes it again: without the read-only
/// keys.
pub fn for_validation(definition: &Value) -> Value {
    let mut out = definition.clone();
    if let Some(m) = out.as_object_mut() {
        for key in READ_ONLY_KEYS {
            m.remove(key);
        }
    }
    out
}

/// A definition with its version set.
pub fn with_version(definition: &Value, version: i64) -> Value {
    let mut out = definition.clone();
    out["version"] = Value::from(version);
    out
}

/// A stored definition without the relation fields named `names`, and
/// without the compound indexes that held one of their columns (Postgres
/// drops those with the column), at the next version; and the fields removed.
pub fn without_relation_fields(
    definition: &Value,
    names: &[&str],
) -> Result<(Value, Vec<StoredField>), CotError> {
    let stored = StoredDefinition::read(definition)?;
    let goes = |f: &StoredField| f.field_type == "relation" && names.contains(&f.name.as_str());
    let removed: Vec<StoredField> = stored.fields.iter().filter(|f| goes(f)).cloned().collect();
    let columns: Vec<&str> = removed.iter().filter_map(|f| f.column.as_deref()).collect();
    let mut after = with_version(definition, stored.version + 1);
    if let Some(list) = after.get_mut("fields").and_then(Value::as_array_mut) {
        // Read one by one: the typed view above holds the same fields in order.
        let mut kept = stored.fields.iter();
        list.retain(|_| kept.next().is_some_and(|f| !goes(f)));
    }
    if let Some(list) = after.get_mut("indexes").and_then(Value::as_array_mut) {
        let mut all = stored.indexes.iter();
        list.retain(|_| {
            all.next()
                .is_some_and(|i| !i.fields.iter().any(|c| columns.contains(&c.as_str())))
        });
    }
    Ok((after, removed))
}

/// A stored definition at the next version, its relation `field` naming `to`
/// as its inverse where it named `from`.
pub fn with_inverse_renamed(
    definition: &Value,
    field: &str,
    from: &str,
    to: &str,
) -> Result<Value, CotError> {
    let stored = StoredDefinition::read(definition)?;
    let mut after = with_version(definition, stored.version + 1);
    if let Some(list) = after.get_mut("fields").and_then(Value::as_array_mut) {
        for (f, typed) in list.iter_mut().zip(&stored.fields) {
            if typed.name == field && typed.inverse.as_deref() == Some(from) {
                f["inverse"] = Value::from(to);
            }
        }
    }
    Ok(after)
}

/// What Cot reads of a definition before validating it: the keys that find
/// the stored entity it would change. Each is `None` (or empty) when absent
/// or of the wrong type; validation reports those.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `tenant`.
    pub tenant: Option<String>,
    /// `name`, or `""`.
    pub name: String,
    /// `id`, when it is a uuid.
    pub id: Option<uuid::Uuid>,
    /// `version`.
    pub version: Option<i64>,
}

impl Header {
    /// The header of a definition as sent.
    pub fn of(definition: &Value) -> Header {
        let text = |key: &str| definition.get(key).and_then(Value::as_str);
        Header {
            tenant: text("tenant").map(str::to_string),
            name: text("name").unwrap_or_default().to_string(),
            id: text("id").and_then(|s| uuid::Uuid::parse_str(s).ok()),
            version: definition.get("version").and_then(Value::as_i64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn orders() -> Value {
        json!({
            "id": "0190d4f6-0000-7000-8000-000000000001", "tenant": "acme", "name": "orders", "version": 3,
            "label": "Orders",
            "fields": [
                {"name": "total", "type": "decimal", "required": true},
                {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers",
                 "column": "customer_id", "on_delete": "restrict"},
                {"name": "tags", "type": "relation", "kind": "many_to_many", "target": "tags",
                 "junction": "orders_tags"},
                {"name": "lines", "type": "relation", "kind": "one_to_many", "target": "lines",
                 "inverse": "order"},
                {"name": "customer_note", "type": "text"},
            ],
            "indexes": [
                {"fields": ["customer_id", "total"], "unique": false},
                {"fields": ["total"], "unique": true},
            ],
        })
    }

    fn id(kind: NameKind, s: &str) -> Ident {
        ident(kind, s).unwrap()
    }

    #[test]
    fn reads_the_parts_cot_uses() {
        let s = StoredDefinition::read(&orders()).unwrap();
        assert_eq!(
            (s.name.as_str(), s.version, s.fields.len(), s.indexes.len()),
            ("orders", 3, 5, 2)
        );
        assert_eq!(s.fields[1].column.as_deref(), Some("customer_id"));
        assert_eq!(
            s.column_relations().unwrap(),
            vec![ColumnRelation {
                field: id(NameKind::Field, "customer"),
                target: id(NameKind::Entity, "customers"),
                column: id(NameKind::Field, "customer_id"),
            }]
        );
        assert_eq!(s.junctions().unwrap(), vec![id(NameKind::Entity, "orders_tags")]);
        // A definition stored before versions were kept is at version 1.
        let old = StoredDefinition::read(&json!({"name": "x", "fields": []})).unwrap();
        assert_eq!(old.version, 1);
    }

    #[test]
    fn a_definition_cot_did_not_write_is_an_error_not_a_panic() {
        let e = StoredDefinition::read(&json!({"name": 5})).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotInPrerequisiteState);
        assert!(e.message.starts_with("a stored definition cannot be read"));
        let bad = ident(NameKind::Entity, "Not Valid").unwrap_err();
        assert!(
            bad.message.starts_with("invalid stored name: "),
            "{}",
            bad.message
        );
    }

    #[test]
    fn tenant_names_come_from_a_stored_slug() {
        let n = tenant_names("acme").unwrap();
        assert_eq!(
            (n.admin_role.as_str(), n.storage_schema.as_str()),
            ("cot_acme_admin", "tenant_acme")
        );
        assert!(tenant_names("Acme Inc").is_err());
    }

    #[test]
    fn validation_takes_it_without_read_only_keys() {
        let mut def = orders();
        def["referenced_by"] = json!([]);
        let v = for_validation(&def);
        assert!(v.get("version").is_none() && v.get("referenced_by").is_none());
        assert_eq!(v["label"], "Orders");
        assert_eq!(with_version(&v, 1)["version"], 1);
    }

    #[test]
    fn removing_relation_fields_takes_their_indexes_and_bumps_the_version() {
        let (after, removed) = without_relation_fields(&orders(), &["customer", "tags", "total"]).unwrap();
        // `total` is no relation: it stays.
        let names: Vec<&str> = removed.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["customer", "tags"]);
        assert_eq!(after["version"], 4);
        let kept: Vec<&str> = after["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(kept, ["total", "lines", "customer_note"]);
        assert_eq!(after["indexes"], json!([{"fields": ["total"], "unique": true}]));
        // Everything else is as it was.
        assert_eq!(after["label"], "Orders");
        assert_eq!(after["fields"][0], orders()["fields"][0]);
        assert_eq!(
            junctions_of(&removed).unwrap(),
            vec![id(NameKind::Entity, "orders_tags")]
        );
    }

    #[test]
    fn an_inverse_follows_a_rename() {
        let after = with_inverse_renamed(&orders(), "lines", "order", "purchase").unwrap();
        assert_eq!(after["fields"][3]["inverse"], "purchase");
        assert_eq!(after["version"], 4);
        // Another field, or another old name: only the version moves.
        let same = with_inverse_renamed(&orders(), "lines", "other", "purchase").unwrap();
        assert_eq!(same, with_version(&orders(), 4));
    }

    #[test]
    fn the_header_is_read_leniently() {
        let h = Header::of(&orders());
        assert_eq!(h.tenant.as_deref(), Some("acme"));
        assert_eq!(h.name, "orders");
        assert_eq!(
            h.id.map(|u| u.to_string()).as_deref(),
            Some("0190d4f6-0000-7000-8000-000000000001")
        );
        assert_eq!(h.version, Some(3));
        let odd = Header::of(&json!({"tenant": 1, "id": "x", "version": "2"}));
        assert_eq!(
            odd,
            Header {
                tenant: None,
                name: String::new(),
                id: None,
                version: None
            }
        );
        assert_eq!(Header::of(&json!([])).name, "");
    }
}
