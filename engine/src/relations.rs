//! Relations between entities of one tenant: checking that every target exists
//! (in the tenant or in the group being created), and planning the foreign keys
//! and junction tables. Runs after every entity of a group has its own table, so
//! entities may reference each other in cycles.

use crate::error::{ErrorKind, Violation};
use crate::names::{derived, fixed, Ident, TenantNames};
use crate::plan::{
    Column, ColumnDefault, CommentTarget, Constraint, ConstraintKind, RelKind, RelationFunction, Step, Table,
};
use crate::types::{Entity, OnDelete, Relation, RelationKind};
use std::collections::{HashMap, HashSet};

/// A relation field of an entity that already exists, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownRelation {
    /// Field name.
    pub name: String,
    /// Kind.
    pub kind: RelationKind,
    /// Target entity.
    pub target: String,
}

/// An entity that already exists in the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownEntity {
    /// Its name.
    pub name: String,
    /// Its relation fields.
    pub relations: Vec<KnownRelation>,
}

/// Parses a stored kind name.
pub fn kind_from_name(name: &str) -> Option<RelationKind> {
    Some(match name {
        "many_to_one" => RelationKind::ManyToOne,
        "one_to_one" => RelationKind::OneToOne,
        "one_to_many" => RelationKind::OneToMany,
        "many_to_many" => RelationKind::ManyToMany,
        _ => return None,
    })
}

/// Checks the relations of a group of new entities against each other and the
/// tenant's existing entities. `prefix(i)` is the JSON pointer of the i-th
/// definition (`""` for a single one, `/i` in a group).
pub fn check(group: &[Entity], existing: &[KnownEntity], prefix: &dyn Fn(usize) -> String) -> Vec<Violation> {
    let mut out = Vec::new();
    // Relations of every entity by name, new ones first.
    let mut by_entity: HashMap<&str, Vec<KnownRelation>> = HashMap::new();
    for k in existing {
        by_entity.insert(&k.name, k.relations.clone());
    }
    let mut group_names: HashMap<&str, usize> = HashMap::new();
    for (i, e) in group.iter().enumerate() {
        if let Some(first) = group_names.insert(e.name.as_str(), i) {
            out.push(Violation::new(
                ErrorKind::DuplicateTable,
                format!("{}/name", prefix(i)),
                format!(
                    "entity \"{}\" appears twice in the group (also at {})",
                    e.name,
                    prefix(first)
                ),
                "define each entity once",
            ));
        }
        by_entity.insert(
            e.name.as_str(),
            e.relations
                .iter()
                .map(|r| KnownRelation {
                    name: r.name.to_string(),
                    kind: r.kind,
                    target: r.target.to_string(),
                })
                .collect(),
        );
    }
    let mut junctions: HashMap<String, String> = HashMap::new();
    for (i, e) in group.iter().enumerate() {
        for r in &e.relations {
            let at = |key: &str| format!("{}/fields/{}/{key}", prefix(i), r.at);
            let Some(target_relations) = by_entity.get(r.target.as_str()) else {
                out.push(Violation::new(
                    ErrorKind::UndefinedObject,
                    at("target"),
                    format!(
                        "target entity \"{}\" does not exist in tenant \"{}\"",
                        r.target, e.tenant
                    ),
                    "create the target first, or create both in one call with cot.create_entities",
                ));
                continue;
            };
            if let (RelationKind::OneToMany, Some(inverse)) = (r.kind, &r.inverse) {
                let points_back = target_relations.iter().any(|t| {
                    t.name == inverse.as_str()
                        && matches!(t.kind, RelationKind::ManyToOne | RelationKind::OneToOne)
                        && t.target == e.name.as_str()
                });
                if !points_back {
                    out.push(Violation::new(
                        ErrorKind::InvalidParameter,
                        at("inverse"),
                        format!(
                            "\"{}\" has no many_to_one or one_to_one field \"{inverse}\" pointing to \"{}\"",
                            r.target, e.name
                        ),
                        "a one_to_many mirrors the target's many_to_one back to this entity; name that field",
                    ));
                }
            }
            if let Some(j) = &r.junction {
                let table = j.table.to_string();
                if by_entity.contains_key(table.as_str()) {
                    out.push(Violation::new(
                        ErrorKind::DuplicateTable,
                        at("name"),
                        format!("the junction table \"{table}\" would take the name of entity \"{table}\""),
                        "rename the field or the entity",
                    ));
                } else if let Some(other) = junctions.insert(table.clone(), at("name")) {
                    out.push(Violation::new(
                        ErrorKind::DuplicateTable,
                        at("name"),
                        format!("the junction table \"{table}\" is also made by {other}"),
                        "rename one of the two fields",
                    ));
                }
            }
        }
    }
    out
}

/// The steps that give an entity its outgoing relations, once every table of
/// its group exists: the foreign keys of its many-to-one and one-to-one columns,
/// and a junction table with its view for each many-to-many. Steps come in a
/// fixed order (by column, then by junction), and callers run the entities of
/// a group in name order, so two calls lock the same tables in the same order.
pub fn steps(e: &Entity, labels: &crate::plan::Labels) -> Vec<Step> {
    let t = TenantNames::new(&e.tenant);
    let mut rels: Vec<&Relation> = e.relations.iter().collect();
    rels.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = Vec::new();
    for r in rels.iter().filter(|r| r.kind.has_column()) {
        let column = r.column.clone().expect("has_column kinds have a column");
        out.push(Step::AddConstraint {
            schema: t.storage_schema.clone(),
            table: e.name.clone(),
            constraint: Constraint {
                name: derived(&[e.name.as_str(), column.as_str(), "fkey"]),
                kind: ConstraintKind::ForeignKey {
                    column,
                    schema: t.storage_schema.clone(),
                    table: r.target.clone(),
                    on_delete: r.on_delete,
                },
            },
        });
    }
    for r in rels.iter().filter(|r| r.kind == RelationKind::ManyToMany) {
        let j = r.junction.as_ref().expect("many_to_many has a junction");
        out.extend(junction_steps(&t, e, r, j, labels.relations.get(r.name.as_str())));
    }
    for r in rels.iter().filter(|r| r.kind.has_column()) {
        let column = r.column.clone().expect("has_column kinds have a column");
        out.extend(create_function(&t, &e.name, &r.name, &r.target, &column));
    }
    out
}

/// The computed relationship of a many-to-one or one-to-one field.
pub fn function(
    t: &TenantNames,
    source: &Ident,
    name: &Ident,
    target: &Ident,
    column: &Ident,
) -> RelationFunction {
    RelationFunction {
        schema: t.api_schema.clone(),
        name: name.clone(),
        source: source.clone(),
        target: target.clone(),
        column: column.clone(),
    }
}

/// Creating it, owned by the owner role.
pub fn create_function(
    t: &TenantNames,
    source: &Ident,
    name: &Ident,
    target: &Ident,
    column: &Ident,
) -> Vec<Step> {
    let f = function(t, source, name, target, column);
    vec![
        Step::CreateRelationFunction(f.clone()),
        Step::SetRelationFunctionOwner(f),
    ]
}

/// The junction table of one many-to-many relation of `e`, with its view,
/// row security and grants.
pub fn junction(e: &Entity, r: &Relation, labels: &crate::plan::Labels) -> Vec<Step> {
    let t = TenantNames::new(&e.tenant);
    let j = r.junction.as_ref().expect("many_to_many has a junction");
    junction_steps(&t, e, r, j, labels.relations.get(r.name.as_str()))
}

fn junction_steps(
    t: &TenantNames,
    e: &Entity,
    r: &Relation,
    j: &crate::types::Junction,
    label: Option<&String>,
) -> Vec<Step> {
    let fk = |column: &Ident, table: &Ident| Constraint {
        name: derived(&[j.table.as_str(), column.as_str(), "fkey"]),
        kind: ConstraintKind::ForeignKey {
            column: column.clone(),
            schema: t.storage_schema.clone(),
            table: table.clone(),
            // A link means nothing once either end is gone.
            on_delete: OnDelete::Cascade,
        },
    };
    let uuid_column = |name: &Ident| Column {
        name: name.clone(),
        sql_type: "uuid".into(),
        not_null: true,
        default: None,
    };
    let columns = vec![
        uuid_column(&j.source_column),
        uuid_column(&j.target_column),
        Column {
            name: fixed("created_at"),
            sql_type: "timestamptz".into(),
            not_null: true,
            default: Some(ColumnDefault::Now),
        },
    ];
    let view_columns: Vec<Ident> = columns.iter().map(|c| c.name.clone()).collect();
    let view_defaults = crate::plan::view_defaults(&t.api_schema, &j.table, &columns);
    let text = junction_description(e, r, label.map(String::as_str));
    vec![
        Step::CreateTable(Table {
            schema: t.storage_schema.clone(),
            name: j.table.clone(),
            columns,
            constraints: vec![
                Constraint {
                    name: derived(&[j.table.as_str(), "pkey"]),
                    kind: ConstraintKind::PrimaryKey(vec![j.source_column.clone(), j.target_column.clone()]),
                },
                fk(&j.source_column, &e.name),
                fk(&j.target_column, &r.target),
            ],
        }),
        // The primary key serves lookups from the source; this one from the target.
        Step::CreateIndex {
            schema: t.storage_schema.clone(),
            table: j.table.clone(),
            name: derived(&[j.table.as_str(), j.target_column.as_str(), "idx"]),
            columns: vec![j.target_column.clone()],
            gin: false,
        },
        Step::CreateSystemTrigger {
            schema: t.storage_schema.clone(),
            table: j.table.clone(),
            junction: true,
        },
        Step::SetOwner {
            kind: RelKind::Table,
            schema: t.storage_schema.clone(),
            name: j.table.clone(),
        },
        Step::CreateView {
            schema: t.api_schema.clone(),
            name: j.table.clone(),
            table_schema: t.storage_schema.clone(),
            table: j.table.clone(),
            columns: view_columns,
        },
        Step::SetOwner {
            kind: RelKind::View,
            schema: t.api_schema.clone(),
            name: j.table.clone(),
        },
        Step::Comment {
            target: CommentTarget::Relation(RelKind::Table, t.storage_schema.clone(), j.table.clone()),
            text: text.clone(),
        },
        Step::Comment {
            target: CommentTarget::Relation(RelKind::View, t.api_schema.clone(), j.table.clone()),
            text,
        },
    ]
    .into_iter()
    .chain(view_defaults)
    .chain(crate::plan::policies::steps(
        &e.tenant,
        &j.table,
        e.access.for_junction(),
        &junction_owner(e, j),
    ))
    .chain(crate::plan::history::junction_steps(e, j))
    .collect()
}

/// Where a junction row's owner is: on the record it starts from.
pub fn junction_owner(e: &Entity, j: &crate::types::Junction) -> crate::access::Owner {
    crate::access::Owner::Parent {
        parent: e.name.clone(),
        column: j.source_column.clone(),
    }
}

/// The steps that drop an entity's own junction tables (before its table).
pub fn drop_junctions(tenant: &TenantNames, junctions: &[Ident]) -> Vec<Step> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for j in junctions {
        if seen.insert(j) {
            out.extend(crate::plan::drop_entity(tenant, j));
        }
    }
    out
}

/// What a junction table and its view are about: the relation's description,
/// or one made from its names and label. `COMMENT ON` and the generated
/// OpenAPI both say this.
pub fn junction_description(e: &Entity, r: &Relation, label: Option<&str>) -> String {
    r.description
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| {
            format!(
                "Links {} to {} ({}.{}{})",
                e.name,
                r.target,
                e.name,
                r.name,
                label.map(|l| format!(": {l}")).unwrap_or_default()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ddl::render_all;
    use crate::error::ErrorKind;
    use crate::plan::Labels;
    use crate::validate::{tests::TestEnv, validate};
    use serde_json::{json, Value};

    fn entity(def: Value) -> (Entity, Labels) {
        let v = validate(&def, &TestEnv::new()).unwrap_or_else(|e| panic!("{e:?}"));
        let labels = Labels::of(&v.normalized);
        (v.entity, labels)
    }

    fn errors(def: Value) -> Vec<(String, ErrorKind)> {
        validate(&def, &TestEnv::new())
            .expect_err("should fail")
            .into_iter()
            .map(|v| (v.pointer, v.kind))
            .collect()
    }

    fn rel(field: Value) -> Value {
        json!({"tenant": "acme", "name": "orders", "fields": [field]})
    }

    #[test]
    fn golden_many_to_one_one_to_one_and_many_to_many() {
        let (e, labels) = entity(json!({"tenant": "acme", "name": "orders", "fields": [
            {"name": "title", "type": "text"},
            {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers", "required": true},
            {"name": "invoice", "type": "relation", "kind": "one_to_one", "target": "invoices", "on_delete": "set_null"},
            {"name": "products", "type": "relation", "kind": "many_to_many", "target": "products"},
            {"name": "parent", "type": "relation", "kind": "many_to_one", "target": "orders", "on_delete": "cascade"},
        ]}));
        let table = render_all(&crate::plan::create_entity(&e, &labels));
        assert!(
            table[0].contains(r#""customer_id" uuid NOT NULL,"#),
            "{}",
            table[0]
        );
        assert!(table[0].contains(r#""invoice_id" uuid,"#));
        assert!(table[0].contains(r#"CONSTRAINT "orders_invoice_id_key" UNIQUE ("invoice_id")"#));
        assert!(table.contains(
            &r#"CREATE INDEX "orders_customer_id_idx" ON "tenant_acme"."orders" ("customer_id")"#.to_string()
        ));
        assert!(!table[0].contains("products"), "many_to_many adds no column");
        let rels = render_all(&steps(&e, &labels));
        assert_eq!(
            rels[..3],
            [
                r#"ALTER TABLE "tenant_acme"."orders" ADD CONSTRAINT "orders_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "tenant_acme"."customers" ("id") ON DELETE RESTRICT"#,
                r#"ALTER TABLE "tenant_acme"."orders" ADD CONSTRAINT "orders_invoice_id_fkey" FOREIGN KEY ("invoice_id") REFERENCES "tenant_acme"."invoices" ("id") ON DELETE SET NULL"#,
                r#"ALTER TABLE "tenant_acme"."orders" ADD CONSTRAINT "orders_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "tenant_acme"."orders" ("id") ON DELETE CASCADE"#,
            ]
        );
        assert_eq!(
            rels[3],
            r#"CREATE TABLE "tenant_acme"."orders_products" (
  "orders_id" uuid NOT NULL,
  "products_id" uuid NOT NULL,
  "created_at" timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT "orders_products_pkey" PRIMARY KEY ("orders_id", "products_id"),
  CONSTRAINT "orders_products_orders_id_fkey" FOREIGN KEY ("orders_id") REFERENCES "tenant_acme"."orders" ("id") ON DELETE CASCADE,
  CONSTRAINT "orders_products_products_id_fkey" FOREIGN KEY ("products_id") REFERENCES "tenant_acme"."products" ("id") ON DELETE CASCADE
)"#
        );
        assert!(rels.contains(&r#"CREATE VIEW "acme"."orders_products" WITH (security_invoker = true) AS SELECT "orders_id", "products_id", "created_at" FROM "tenant_acme"."orders_products""#.to_string()));
    }

    #[test]
    fn many_to_one_gets_a_computed_relationship_named_after_the_field() {
        let (e, labels) = entity(json!({"tenant": "acme", "name": "orders", "fields": [
            {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers"}]}));
        let rels = render_all(&steps(&e, &labels));
        assert_eq!(
            rels[1..],
            [
                r#"CREATE FUNCTION "acme"."_cot_new_customer"("acme"."orders") RETURNS SETOF "acme"."customers" ROWS 1 LANGUAGE sql STABLE AS 'SELECT t.* FROM "acme"."customers" AS t WHERE t."id" OPERATOR(pg_catalog.=) $1."customer_id"'"#,
                r#"ALTER FUNCTION "acme"."_cot_new_customer"("acme"."orders") OWNER TO "cot_owner"; ALTER FUNCTION "acme"."_cot_new_customer"("acme"."orders") RENAME TO "customer""#,
            ]
        );
    }

    #[test]
    fn self_many_to_many_names_the_target_column_after_the_field() {
        let (e, labels) = entity(json!({"tenant": "acme", "name": "people", "fields": [
            {"name": "friends", "type": "relation", "kind": "many_to_many", "target": "people"}]}));
        let rels = render_all(&steps(&e, &labels));
        assert!(
            rels[0].contains(r#"PRIMARY KEY ("people_id", "friends_id")"#),
            "{}",
            rels[0]
        );
    }

    #[test]
    fn relation_options_are_checked() {
        let cases = [
            (
                json!({"name": "c", "type": "relation", "target": "customers"}),
                "/fields/0/kind",
            ),
            (
                json!({"name": "c", "type": "relation", "kind": "many_to_one"}),
                "/fields/0/target",
            ),
            (
                json!({"name": "c", "type": "relation", "kind": "many_to_one", "target": "customers", "required": true, "on_delete": "set_null"}),
                "/fields/0/on_delete",
            ),
            (
                json!({"name": "c", "type": "relation", "kind": "one_to_many", "target": "customers"}),
                "/fields/0/inverse",
            ),
            (
                json!({"name": "c", "type": "relation", "kind": "many_to_many", "target": "customers", "on_delete": "cascade"}),
                "/fields/0/on_delete",
            ),
            (
                json!({"name": "c", "type": "relation", "kind": "many_to_one", "target": "customers", "default": "x"}),
                "/fields/0/default",
            ),
            (
                json!({"name": "c", "type": "relation", "kind": "many_to_one", "target": "Bad Target"}),
                "/fields/0/target",
            ),
            (
                json!({"name": "c", "type": "text", "target": "customers"}),
                "/fields/0/target",
            ),
            (
                json!({"name": "c", "type": "relation", "kind": "sideways", "target": "customers"}),
                "/fields/0/kind",
            ),
        ];
        for (field, pointer) in cases {
            let e = errors(rel(field.clone()));
            assert!(e.iter().any(|(p, _)| p == pointer), "{field}: {e:?}");
        }
        // The column a relation adds may not meet another field's name.
        let e = errors(json!({"tenant": "acme", "name": "orders", "fields": [
            {"name": "customer_id", "type": "text"},
            {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers"}]}));
        assert_eq!(
            e,
            vec![("/fields/1/name".to_string(), ErrorKind::DuplicateColumn)]
        );
        // column and junction are read only: the computed value passes, others do not.
        let ok = rel(
            json!({"name": "c", "type": "relation", "kind": "many_to_one", "target": "customers", "column": "c_id"}),
        );
        assert!(validate(&ok, &TestEnv::new()).is_ok());
        for (field, pointer) in [
            (
                json!({"name": "c", "type": "relation", "kind": "many_to_one", "target": "customers", "column": "other_id"}),
                "/fields/0/column",
            ),
            (
                json!({"name": "c", "type": "relation", "kind": "many_to_many", "target": "customers", "junction": "x"}),
                "/fields/0/junction",
            ),
            (
                json!({"name": "c", "type": "relation", "kind": "many_to_many", "target": "customers", "column": "c_id"}),
                "/fields/0/column",
            ),
            (
                json!({"name": "c", "type": "text", "column": "c"}),
                "/fields/0/column",
            ),
        ] {
            let e = errors(rel(field.clone()));
            assert!(e.iter().any(|(p, _)| p == pointer), "{field}: {e:?}");
        }
        let long = "c".repeat(62);
        let e = errors(rel(
            json!({"name": long, "type": "relation", "kind": "many_to_one", "target": "customers"}),
        ));
        assert_eq!(e, vec![("/fields/0/name".to_string(), ErrorKind::NameTooLong)]);
    }

    #[test]
    fn targets_and_inverses_resolve_within_the_group_and_the_tenant() {
        let (customers, _) = entity(json!({"tenant": "acme", "name": "customers", "fields": [
            {"name": "orders", "type": "relation", "kind": "one_to_many", "target": "orders", "inverse": "customer"}]}));
        let (orders, _) = entity(json!({"tenant": "acme", "name": "orders", "fields": [
            {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers"},
            {"name": "shop", "type": "relation", "kind": "many_to_one", "target": "shops"},
            {"name": "lines", "type": "relation", "kind": "one_to_many", "target": "lines", "inverse": "parent_order"}]}));
        let prefix = |i: usize| format!("/{i}");
        let known = vec![KnownEntity {
            name: "lines".into(),
            relations: vec![KnownRelation {
                name: "parent_order".into(),
                kind: RelationKind::ManyToOne,
                target: "orders".into(),
            }],
        }];
        let v = check(&[customers.clone(), orders.clone()], &known, &prefix);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(
            (v[0].pointer.as_str(), v[0].kind),
            ("/1/fields/1/target", ErrorKind::UndefinedObject)
        );
        // Without the group member that the inverse names, the inverse fails.
        let v = check(
            &[customers],
            &[KnownEntity {
                name: "orders".into(),
                relations: vec![],
            }],
            &prefix,
        );
        assert_eq!(
            (v[0].pointer.as_str(), v[0].kind),
            ("/0/fields/0/inverse", ErrorKind::InvalidParameter)
        );
        // The same entity twice in a group.
        let v = check(&[orders.clone(), orders], &known, &prefix);
        assert!(
            v.iter()
                .any(|v| v.pointer == "/1/name" && v.kind == ErrorKind::DuplicateTable),
            "{v:?}"
        );
    }
}
