//! The view and what hangs on its row type. The computed relationships (this
//! entity's, and other entities' returning this view) take the view's row type,
//! so they go before it and come back after it (phases A and M, N).

use super::*;

impl Builder<'_> {
    /// Phase A: what depends on the view goes, then the view, when the view
    /// or the computed relationships change.
    pub(super) fn drop_view(&mut self, d: &Diff<'_>, around: &Surroundings) {
        if d.fns_change {
            for f in &d.old_fns {
                self.push(Step::DropRelationFunction(f.clone()), Class::Metadata);
            }
        }
        if d.rebuild_view {
            for f in &around.incoming {
                self.push(Step::DropRelationFunction(f.clone()), Class::Metadata);
            }
            let view = Step::DropRelation {
                kind: RelKind::View,
                schema: self.t.api_schema.clone(),
                name: self.table.clone(),
            };
            self.push(view, Class::Metadata);
        }
    }

    /// Phases M and N: the view again with its grants, then what depends on it.
    /// The view's grants come back here rather than with the access rules,
    /// since a new view has none whether or not the rules changed.
    pub(super) fn make_view(&mut self, d: &Diff<'_>, around: &Surroundings) {
        let n = d.new.entity;
        if d.rebuild_view {
            for step in plan::view_steps(n, d.new.labels) {
                self.push(step, Class::Metadata);
            }
            for step in crate::plan::policies::view_grants(&n.tenant, &self.table, n.access) {
                self.push(step, Class::Metadata);
            }
        }
        if d.fns_change {
            for f in &d.new_fns {
                self.make_function(f);
            }
        }
        if d.rebuild_view {
            for f in &around.incoming {
                self.make_function(f);
            }
        }
    }

    /// A computed relationship, owned by the owner role like when first made.
    fn make_function(&mut self, f: &RelationFunction) {
        self.push(Step::CreateRelationFunction(f.clone()), Class::Metadata);
        self.push(Step::SetRelationFunctionOwner(f.clone()), Class::Metadata);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{base, phase, sql};
    use super::*;
    use serde_json::json;

    fn incoming() -> Surroundings {
        let t = TenantNames::new(&fixed("acme"));
        let f = relations::function(
            &t,
            &fixed("order"),
            &fixed("item"),
            &fixed("item"),
            &fixed("item_id"),
        );
        Surroundings {
            incoming: vec![f],
            inverse_of: vec![],
        }
    }

    fn with_customer() -> serde_json::Value {
        let mut def = base();
        def["fields"].as_array_mut().unwrap().push(json!(
            {"id": "01900000-0000-7000-8000-000000000010", "name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers"}
        ));
        def
    }

    #[test]
    fn a_rebuilt_view_takes_every_function_on_its_row_type_along() {
        let mut new = with_customer();
        new["fields"][0]["name"] = json!("name");
        let around = incoming();
        let e = phase(
            with_customer(),
            new.clone(),
            10,
            vec![],
            Options::default(),
            |b, d| b.drop_view(d, &around),
        );
        assert_eq!(
            sql(&e),
            vec![
                r#"DROP FUNCTION "acme"."customer"("acme"."item")"#,
                r#"DROP FUNCTION "acme"."item"("acme"."order")"#,
                r#"DROP VIEW "acme"."item""#,
            ]
        );
        let e = phase(with_customer(), new, 10, vec![], Options::default(), |b, d| {
            b.make_view(d, &around)
        });
        let s = sql(&e);
        assert!(s[0].starts_with(r#"CREATE VIEW "acme"."item""#), "{s:#?}");
        assert!(
            s.iter()
                .any(|q| q.starts_with("GRANT SELECT ON TABLE \"acme\".\"item\"")),
            "{s:#?}"
        );
        let made: Vec<&String> = s.iter().filter(|q| q.starts_with("CREATE FUNCTION")).collect();
        assert_eq!(made.len(), 2, "{s:#?}");
        assert!(
            made[0].contains(r#""acme"."_cot_new_customer"("acme"."item")"#),
            "{s:#?}"
        );
        assert!(
            made[1].contains(r#""acme"."_cot_new_item"("acme"."order")"#),
            "{s:#?}"
        );
        let renamed: Vec<&String> = s.iter().filter(|q| q.contains(" RENAME TO ")).collect();
        assert!(
            renamed[0].ends_with(r#"("acme"."item") RENAME TO "customer""#),
            "{s:#?}"
        );
        assert!(
            renamed[1].ends_with(r#"("acme"."order") RENAME TO "item""#),
            "{s:#?}"
        );
        assert!(e.changes.iter().all(|c| c.class == Class::Metadata));
    }

    #[test]
    fn an_unchanged_view_is_left_alone() {
        let mut new = base();
        new["fields"][0]["max_length"] = json!(10);
        let around = incoming();
        let e = phase(base(), new, 10, vec![], Options::default(), |b, d| {
            b.drop_view(d, &around);
            b.make_view(d, &around);
        });
        assert!(e.changes.is_empty(), "{:#?}", sql(&e));
    }
}
