//! Making a tenant's generated objects again, as this version of Cot makes
//! them, around the data: `cot.upgrade_tenants()` after `ALTER EXTENSION cot
//! UPDATE`, so tenants created by an earlier version get what a new tenant
//! gets (a view default, a changed policy, a new `/rpc/` function).
//!
//! The steps are the creation plans of the tenant and its entities, less what
//! holds data or is costly to make (schemas, roles, tables, constraints,
//! indexes), with each object that already exists either made again in place
//! (`CREATE OR REPLACE` for views and functions, so what depends on them
//! stays) or dropped first (policies as the catalog lists them, Cot's
//! triggers, every privilege). Every step is safe to run again: a second run
//! changes nothing.

use crate::names::{fixed, Ident, TenantNames};
use crate::plan::{create_entity, create_tenant, Labels, Step};
use crate::types::Entity;
use std::collections::BTreeSet;

/// What the catalog holds that the plan cannot know: the policies on each of
/// the tenant's tables, by table, as `pg_policy` lists them.
#[derive(Debug, Clone, Default)]
pub struct TenantCatalog {
    /// (table, policy) in the storage schema.
    pub policies: Vec<(String, String)>,
}

/// The tenant being made again.
pub struct Tenant<'a> {
    /// Its names.
    pub names: &'a TenantNames,
    /// Its display name (schema comments).
    pub display_name: &'a str,
    /// The login roles registered with `cot.add_authenticator`.
    pub authenticators: &'a [Ident],
    /// Its entities, in the order they were created.
    pub entities: &'a [(Entity, Labels)],
}

/// The steps, and the catalog names they had to leave alone (a policy whose
/// name Cot could not have made): `cot.check` reports those.
pub fn tenant(t: &Tenant<'_>, catalog: &TenantCatalog) -> (Vec<Step>, Vec<String>) {
    let mut skipped = Vec::new();
    let mut steps: Vec<Step> = create_tenant(t.names, t.display_name, false, t.authenticators)
        .into_iter()
        .filter(|s| !matches!(s, Step::CreateRole { .. } | Step::CreateSchema { .. }))
        .map(|s| match s {
            Step::CreateRpcFunction { .. } => Step::Replace(Box::new(s)),
            other => other,
        })
        .collect();
    let mut functions = Vec::new();
    for (e, labels) in t.entities {
        let planned: Vec<Step> = create_entity(e, labels)
            .into_iter()
            .chain(crate::relations::steps(e, labels))
            .collect();
        let defaults: BTreeSet<(Ident, Ident)> = planned
            .iter()
            .filter_map(|s| match s {
                Step::SetViewDefault {
                    view,
                    column,
                    default: Some(_),
                    ..
                } => Some((view.clone(), column.clone())),
                _ => None,
            })
            .collect();
        for step in planned {
            match step {
                Step::CreateTable(table) => {
                    steps.extend(before_table(t.names, &table.name, catalog, &mut skipped));
                }
                Step::CreateIndex { .. }
                | Step::AddConstraint { .. }
                | Step::AddConstraintNotValid { .. } => {}
                Step::CreateView {
                    ref schema,
                    ref name,
                    ref columns,
                    ..
                } => {
                    let (schema, name) = (schema.clone(), name.clone());
                    let without_default: Vec<Ident> = columns
                        .iter()
                        .filter(|c| !defaults.contains(&(name.clone(), (*c).clone())))
                        .cloned()
                        .collect();
                    steps.push(Step::Replace(Box::new(step)));
                    steps.push(Step::RevokeAll {
                        schema: schema.clone(),
                        name: name.clone(),
                        roles: t.names.roles().into_iter().cloned().collect(),
                    });
                    steps.extend(without_default.into_iter().map(|column| Step::SetViewDefault {
                        schema: schema.clone(),
                        view: name.clone(),
                        column,
                        default: None,
                    }));
                }
                // After every view: a function returns another entity's view
                // type. Both in place, under the function's own name.
                Step::CreateRelationFunction(_) | Step::SetRelationFunctionOwner(_) => {
                    functions.push(Step::Replace(Box::new(step)))
                }
                other => steps.push(other),
            }
        }
    }
    steps.extend(functions);
    (steps, skipped)
}

/// What goes before a table's rules are made again: Cot's triggers, the
/// policies the catalog lists on it, and every privilege on it.
fn before_table(
    t: &TenantNames,
    table: &Ident,
    catalog: &TenantCatalog,
    skipped: &mut Vec<String>,
) -> Vec<Step> {
    let schema = &t.storage_schema;
    let mut steps: Vec<Step> = [
        "cot_system_columns",
        "cot_owner_column",
        crate::plan::workflow::TRIGGER,
    ]
    .into_iter()
    .chain(crate::plan::history::TRIGGERS)
    .map(|name| Step::DropTriggerIfExists {
        schema: schema.clone(),
        table: table.clone(),
        name: fixed(name),
    })
    .collect();
    for (on, policy) in catalog.policies.iter().filter(|(on, _)| on == table.as_str()) {
        match Ident::from_catalog(policy) {
            Some(name) => steps.push(Step::DropPolicy {
                schema: schema.clone(),
                table: table.clone(),
                name,
            }),
            None => skipped.push(format!("policy {policy:?} on {schema}.{on}")),
        }
    }
    steps.push(Step::RevokeAll {
        schema: schema.clone(),
        name: table.clone(),
        roles: t.roles().into_iter().cloned().collect(),
    });
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ddl::render_all;
    use crate::validate::{tests::TestEnv, validate};
    use serde_json::{json, Value};

    fn entity(def: Value) -> (Entity, Labels) {
        let v = validate(&def, &TestEnv::new()).unwrap_or_else(|e| panic!("{e:?}"));
        let labels = Labels::of(&v.normalized);
        (v.entity, labels)
    }

    fn sql() -> (Vec<String>, Vec<String>) {
        let entities = [
            entity(json!({"tenant": "acme", "name": "tags", "fields": [{"name": "name", "type": "text"}]})),
            entity(json!({"tenant": "acme", "name": "notes",
            "access": {"read": "owner", "create": "tenant", "update": "owner", "delete": "owner"},
            "fields": [
                {"name": "body", "type": "text", "default": "-"},
                {"name": "tags", "type": "relation", "kind": "many_to_many", "target": "tags"},
                {"name": "tag", "type": "relation", "kind": "many_to_one", "target": "tags"}
            ]})),
        ];
        let names = TenantNames::new(&fixed("acme"));
        let catalog = TenantCatalog {
            policies: vec![
                ("notes".into(), "cot_select_owner".into()),
                ("notes".into(), "an_old_policy".into()),
                ("notes".into(), "Made By Hand".into()),
                ("tags".into(), "cot_select".into()),
            ],
        };
        let t = Tenant {
            names: &names,
            display_name: "Acme",
            authenticators: &[fixed("authenticator")],
            entities: &entities,
        };
        let (steps, skipped) = tenant(&t, &catalog);
        (render_all(&steps), skipped)
    }

    #[test]
    fn data_and_its_indexes_are_never_touched() {
        let (sql, _) = sql();
        for s in &sql {
            for made in [
                "CREATE TABLE",
                "CREATE INDEX",
                "ADD CONSTRAINT",
                "CREATE SCHEMA",
                "CREATE ROLE",
                "DROP VIEW",
                "DROP TABLE",
            ] {
                assert!(!s.contains(made), "{s}");
            }
        }
    }

    #[test]
    fn existing_objects_are_replaced_or_dropped_first() {
        let (sql, skipped) = sql();
        // Views and functions are made again in place, so what depends on
        // them stays.
        assert!(sql
            .iter()
            .any(|s| s.starts_with(r#"CREATE OR REPLACE VIEW "acme"."notes" "#)));
        assert!(sql
            .iter()
            .any(|s| s.starts_with(r#"CREATE OR REPLACE VIEW "acme"."notes_tags" "#)));
        assert!(sql
            .iter()
            .any(|s| s.starts_with(r#"CREATE OR REPLACE FUNCTION "acme"."query"("#)));
        assert!(!sql
            .iter()
            .any(|s| s.starts_with("CREATE VIEW") || s.starts_with("CREATE FUNCTION")));
        // Policies the catalog lists go, stale ones too; a name Cot could not
        // have made is left for cot.check to report.
        for p in ["cot_select_owner", "an_old_policy"] {
            assert!(sql.contains(&format!(r#"DROP POLICY "{p}" ON "tenant_acme"."notes""#)));
        }
        assert_eq!(
            skipped,
            vec![r#"policy "Made By Hand" on tenant_acme.notes"#.to_string()]
        );
        // Every privilege goes before the rules grant theirs again.
        let revoke = sql
            .iter()
            .position(|s| s == r#"REVOKE ALL ON TABLE "tenant_acme"."notes" FROM PUBLIC, "cot_acme_anon", "cot_acme_user", "cot_acme_admin""#)
            .unwrap();
        let grant = sql
            .iter()
            .position(|s| s.starts_with(r#"GRANT SELECT ON TABLE "tenant_acme"."notes""#))
            .unwrap();
        assert!(revoke < grant);
        // Triggers are made again after going.
        let drop = sql
            .iter()
            .position(|s| s == r#"DROP TRIGGER IF EXISTS "cot_owner_column" ON "tenant_acme"."notes""#)
            .unwrap();
        let make = sql
            .iter()
            .position(|s| s.starts_with(r#"CREATE TRIGGER "cot_owner_column""#))
            .unwrap();
        assert!(drop < make);
    }

    #[test]
    fn view_defaults_are_set_or_dropped_and_functions_come_last() {
        let (sql, _) = sql();
        assert!(sql
            .contains(&r#"ALTER VIEW "acme"."notes" ALTER COLUMN "body" SET DEFAULT '-'::text"#.to_string()));
        assert!(sql.contains(&r#"ALTER VIEW "acme"."notes" ALTER COLUMN "tag_id" DROP DEFAULT"#.to_string()));
        let last_view = sql.iter().rposition(|s| s.contains(" VIEW ")).unwrap();
        let first_fn = sql
            .iter()
            .position(|s| s.starts_with("CREATE OR REPLACE FUNCTION") && s.contains("RETURNS SETOF"))
            .unwrap();
        assert!(
            last_view < first_fn,
            "a relation function before a view it returns"
        );
    }
}
