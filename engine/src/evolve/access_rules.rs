//! Access rules that change: their policies and grants go before the table
//! changes (phase B) and the new ones come after the view is back (phase O).
//! Row level security stays enabled throughout, so the table is never open in
//! between. Junctions follow the rules they derive from the entity's.

use super::*;

impl Builder<'_> {
    /// Phase B: the policies and grants of changed rules go, the junctions'
    /// too when the rules they derive change.
    pub(super) fn drop_access(&mut self, d: &Diff<'_>) {
        if !d.access_change {
            return;
        }
        let (table, old) = (self.table.clone(), d.old.entity.access);
        teardown_access(self, &table, old, d.rebuild_view);
        if d.junction_access_change {
            for (or, _) in &d.kept_junctions {
                let j = &or.junction.as_ref().expect("many_to_many").table;
                teardown_access(self, j, old.for_junction(), false);
            }
        }
    }

    /// Phase O: the policies and grants of the new rules, the junctions' too.
    pub(super) fn make_access(&mut self, d: &Diff<'_>) {
        if !d.access_change {
            return;
        }
        let (table, new) = (self.table.clone(), d.new.entity.access);
        setup_access(self, &table, new, &access::Owner::Row, d.rebuild_view);
        if d.junction_access_change {
            for (_, r) in &d.kept_junctions {
                let j = r.junction.as_ref().expect("many_to_many");
                let owner = crate::relations::junction_owner(d.new.entity, j);
                setup_access(self, &j.table.clone(), new.for_junction(), &owner, false);
            }
        }
    }
}

/// Undoes what [`policies::steps`] made for `rules`: policies dropped, grants
/// revoked. A view that is dropped takes its grants along, so those are left.
/// Policy names and grants do not depend on where the owner is found.
fn teardown_access(b: &mut Builder<'_>, table: &Ident, rules: access::Access, view_gone: bool) {
    let t = b.t.clone();
    for step in policies::steps(&t.slug, table, rules, &access::Owner::Row) {
        match step {
            Step::CreatePolicy {
                schema, table, name, ..
            } => b.push(Step::DropPolicy { schema, table, name }, Class::Metadata),
            Step::Grant {
                kind: RelKind::View, ..
            } if view_gone => {}
            Step::Grant {
                command,
                kind,
                schema,
                name,
                roles,
            } => b.push(
                Step::Revoke {
                    command,
                    kind,
                    schema,
                    name,
                    roles,
                },
                Class::Metadata,
            ),
            _ => {}
        }
    }
}

/// What [`policies::steps`] makes for `rules`, but enabling row level security
/// (already on) and the view's grants when the view is made again (phase M
/// grants those).
fn setup_access(
    b: &mut Builder<'_>,
    table: &Ident,
    rules: access::Access,
    owner: &access::Owner,
    view_made: bool,
) {
    let t = b.t.clone();
    for step in policies::steps(&t.slug, table, rules, owner) {
        match step {
            Step::EnableRls { .. } => {}
            Step::Grant {
                kind: RelKind::View, ..
            } if view_made => {}
            step => b.push(step, Class::Metadata),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{base, phase, sql};
    use super::*;
    use serde_json::json;

    fn with_tags(access: serde_json::Value) -> serde_json::Value {
        let mut def = base();
        def["access"] = access;
        def["fields"].as_array_mut().unwrap().push(json!(
            {"id": "01900000-0000-7000-8000-000000000011", "name": "tags", "type": "relation", "kind": "many_to_many", "target": "tag"}
        ));
        def
    }

    #[test]
    fn unchanged_rules_keep_their_policies_and_grants() {
        let mut new = base();
        new["fields"][0]["name"] = json!("name");
        let e = phase(base(), new, 10, vec![], Options::default(), |b, d| {
            b.drop_access(d);
            b.make_access(d);
        });
        assert!(e.changes.is_empty(), "{:#?}", sql(&e));
    }

    #[test]
    fn changed_rules_are_torn_down_then_set_up_without_touching_rls() {
        let new = with_tags(json!({"read": "public", "create": "tenant"}));
        let old = with_tags(json!({"read": "tenant"}));
        let e = phase(
            old.clone(),
            new.clone(),
            10,
            vec![],
            Options::default(),
            |b, d| b.drop_access(d),
        );
        let s = sql(&e);
        assert!(
            s.contains(&r#"DROP POLICY "cot_select" ON "tenant_acme"."item""#.to_string()),
            "{s:#?}"
        );
        // The junction's rules derive from the entity's: they go too.
        assert!(
            s.contains(&r#"DROP POLICY "cot_select" ON "tenant_acme"."item_tags""#.to_string()),
            "{s:#?}"
        );
        assert!(
            s.iter()
                .any(|q| q.starts_with("REVOKE SELECT ON TABLE \"acme\".\"item\"")),
            "{s:#?}"
        );
        assert!(
            s.iter()
                .all(|q| q.starts_with("DROP POLICY") || q.starts_with("REVOKE")),
            "{s:#?}"
        );
        let e = phase(old, new, 10, vec![], Options::default(), |b, d| b.make_access(d));
        let s = sql(&e);
        assert!(
            s.iter()
                .any(|q| q.starts_with(r#"CREATE POLICY "cot_select" ON "tenant_acme"."item_tags""#)),
            "{s:#?}"
        );
        assert!(s.iter().all(|q| !q.contains("ROW LEVEL SECURITY")), "{s:#?}");
        assert!(e.changes.iter().all(|c| c.class == Class::Metadata));
    }

    #[test]
    fn a_rebuilt_view_brings_its_own_grants() {
        // Owner rules add owner_id to the view: it is made again.
        let (old, new) = (
            with_tags(json!({"read": "tenant"})),
            with_tags(json!({"read": "owner"})),
        );
        let e = phase(old, new, 10, vec![], Options::default(), |b, d| {
            b.drop_access(d);
            b.make_access(d);
        });
        let s = sql(&e);
        assert!(!s.is_empty());
        assert!(s.iter().all(|q| !q.contains(r#"TABLE "acme"."item" "#)), "{s:#?}");
        // A junction's links follow the owner of their record.
        assert!(
            s.iter().any(|q| q
                .starts_with(r#"CREATE POLICY "cot_select_owner" ON "tenant_acme"."item_tags""#)
                && q.contains(
                    r#"EXISTS (SELECT FROM "tenant_acme"."item" WHERE "item"."id" = "item_tags"."item_id""#
                )),
            "{s:#?}"
        );
    }
}
