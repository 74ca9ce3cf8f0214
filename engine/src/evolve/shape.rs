//! Refusals about the shape of relations, made before any step: a relation
//! keeps its kind and target, a field stays a field and a relation a relation,
//! and a relation another entity names as its inverse stays. None of these
//! has a migration that keeps the data, so each asks for a new field instead.

use super::*;

impl Builder<'_> {
    /// Refuses every change of shape the new side asks for.
    pub(super) fn refuse_shape_changes(&mut self, d: &Diff<'_>, around: &Surroundings) {
        self.refuse_relation_changes(d);
        self.refuse_kind_swaps(d);
        self.refuse_dropped_inverses(d, around);
    }

    /// A kept relation that changes kind or target.
    fn refuse_relation_changes(&mut self, d: &Diff<'_>) {
        for r in &d.new.entity.relations {
            if let Some(or) = d.old_relations.get(&r.id) {
                if or.kind != r.kind || or.target != r.target {
                    self.refuse(
                        ErrorKind::FeatureNotSupported,
                        format!("/fields/{}", r.at),
                        format!(
                            "relation \"{}\" cannot change from {} {} to {} {}",
                            r.name,
                            or.kind.name(),
                            or.target,
                            r.kind.name(),
                            r.target
                        ),
                        "add a new relation field (new name, no id) and drop this one",
                    );
                }
            }
        }
    }

    /// A field that becomes a relation, or a relation that becomes a field.
    fn refuse_kind_swaps(&mut self, d: &Diff<'_>) {
        let n = d.new.entity;
        for r in &n.relations {
            if d.old_fields.contains_key(&r.id) && !d.old_relations.contains_key(&r.id) {
                let was = d
                    .old_fields
                    .get(&r.id)
                    .map_or("a field".to_string(), |f| format!("a {} field", type_text(&f.ty)));
                self.refuse(
                    ErrorKind::FeatureNotSupported,
                    format!("/fields/{}", r.at),
                    format!("field \"{}\" cannot change from {was} to a relation", r.name),
                    "add the relation as a new field (no id) and drop the old one",
                );
            }
        }
        for f in &n.fields {
            let is_relation = n.relations.iter().any(|r| r.id == f.id);
            if !is_relation && d.old_relations.contains_key(&f.id) {
                self.refuse(
                    ErrorKind::FeatureNotSupported,
                    pointer(d.new, f.id),
                    format!(
                        "relation field \"{}\" cannot become a {} field",
                        f.name,
                        type_text(&f.ty)
                    ),
                    "add the field as a new one (no id) and drop the relation",
                );
            }
        }
    }

    /// Fields that other entities' one-to-many relations name as their inverse
    /// cannot go; a rename is followed by those relations (see
    /// [`inverse_renames`]).
    fn refuse_dropped_inverses(&mut self, d: &Diff<'_>, around: &Surroundings) {
        for (field, other) in &around.inverse_of {
            let gone = d.dropped.iter().any(|f| {
                d.old_relations
                    .get(&f.id)
                    .is_some_and(|r| r.name.as_str() == field)
            });
            if gone {
                self.refuse(
                    ErrorKind::DependentObjects,
                    "/fields".into(),
                    format!("relation \"{field}\" is the inverse of {other}; it cannot be dropped"),
                    "change or drop that one-to-many relation first",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{base, phase, with};
    use super::*;
    use serde_json::json;

    fn refusals(old: serde_json::Value, new: serde_json::Value, around: &Surroundings) -> Vec<Violation> {
        let e = phase(old, new, 10, vec![], Options::default(), |b, d| {
            b.refuse_shape_changes(d, around)
        });
        assert!(e.changes.is_empty(), "shape refusals make no steps");
        e.refusals
    }

    const ID: &str = "01900000-0000-7000-8000-000000000010";

    #[test]
    fn a_relation_keeps_its_kind_and_target() {
        let old = with(
            json!({"id": ID, "name": "shop", "type": "relation", "kind": "many_to_one", "target": "shops"}),
        );
        let new = with(
            json!({"id": ID, "name": "shop", "type": "relation", "kind": "one_to_one", "target": "makers"}),
        );
        let v = refusals(old.clone(), new, &Surroundings::default());
        assert_eq!(v.len(), 1);
        assert_eq!(
            (v[0].kind, v[0].pointer.as_str()),
            (ErrorKind::FeatureNotSupported, "/fields/3")
        );
        assert_eq!(
            v[0].message,
            "relation \"shop\" cannot change from many_to_one shops to one_to_one makers"
        );
        // The same kind towards another entity is another relation too.
        let elsewhere = with(
            json!({"id": ID, "name": "shop", "type": "relation", "kind": "many_to_one", "target": "makers"}),
        );
        assert_eq!(
            refusals(old.clone(), elsewhere, &Surroundings::default()).len(),
            1
        );
        // Unchanged: nothing to refuse.
        assert!(refusals(old.clone(), old, &Surroundings::default()).is_empty());
    }

    #[test]
    fn a_field_stays_a_field_and_a_relation_a_relation() {
        let field = with(json!({"id": ID, "name": "shop", "type": "integer"}));
        let relation = with(
            json!({"id": ID, "name": "shop", "type": "relation", "kind": "many_to_one", "target": "shops"}),
        );
        let v = refusals(field.clone(), relation.clone(), &Surroundings::default());
        assert_eq!(v.len(), 1);
        assert_eq!(
            v[0].message,
            "field \"shop\" cannot change from a integer field to a relation"
        );
        let v = refusals(relation, field, &Surroundings::default());
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].pointer, "/fields/3");
        assert_eq!(
            v[0].message,
            "relation field \"shop\" cannot become a integer field"
        );
    }

    #[test]
    fn an_inverse_of_another_entity_cannot_be_dropped() {
        let old = with(
            json!({"id": ID, "name": "shop", "type": "relation", "kind": "many_to_one", "target": "shops"}),
        );
        let around = Surroundings {
            incoming: vec![],
            inverse_of: vec![("shop".into(), "shops.items".into())],
        };
        let v = refusals(old.clone(), base(), &around);
        assert_eq!(v.len(), 1);
        assert_eq!(
            (v[0].kind, v[0].pointer.as_str()),
            (ErrorKind::DependentObjects, "/fields")
        );
        assert_eq!(
            v[0].message,
            "relation \"shop\" is the inverse of shops.items; it cannot be dropped"
        );
        // Kept (even renamed), it may stay the inverse.
        let mut renamed = old.clone();
        renamed["fields"][3]["name"] = json!("store");
        assert!(refusals(old, renamed, &around).is_empty());
    }
}
