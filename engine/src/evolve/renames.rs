//! Phase F: renames keep the data. A field with the same id and a new name
//! renames its column; constraints and indexes that check the same thing
//! follow its name; a renamed many-to-many relation renames its junction.

use super::*;

impl Builder<'_> {
    /// Phase F: columns, then constraints, indexes and junctions.
    pub(super) fn rename(&mut self, d: &Diff<'_>) {
        let (schema, table) = (self.t.storage_schema.clone(), self.table.clone());
        for f in &d.new.entity.fields {
            if let Some(of) = d.old_fields.get(&f.id).filter(|of| of.name != f.name) {
                let action = ColumnAction::Rename(f.name.clone());
                self.push(alter(&schema, &table, &of.name, action), Class::Metadata);
            }
        }
        for (from, to) in &d.constraints.renamed {
            let step = Step::RenameConstraint {
                schema: schema.clone(),
                table: table.clone(),
                from: from.clone(),
                to: to.clone(),
            };
            self.push(step, Class::Metadata);
        }
        for (from, to) in &d.indexes.renamed {
            let step = Step::RenameIndex {
                schema: schema.clone(),
                from: from.clone(),
                to: to.clone(),
            };
            self.push(step, Class::Metadata);
        }
        self.rename_junctions(d);
    }

    /// Kept many-to-many relations whose junction name changes.
    fn rename_junctions(&mut self, d: &Diff<'_>) {
        for (or, r) in &d.kept_junctions {
            let (oj, nj) = (
                or.junction.as_ref().expect("m2m"),
                r.junction.as_ref().expect("m2m"),
            );
            if oj.table == nj.table {
                continue;
            }
            // A relation to the entity itself names its target column after
            // the field: renaming it would rename a column too.
            if oj.target_column != nj.target_column {
                self.refuse(
                    ErrorKind::FeatureNotSupported,
                    format!("/fields/{}/name", r.at),
                    format!(
                        "renaming \"{}\", a many-to-many relation of an entity to itself, is not supported",
                        or.name
                    ),
                    "add a new relation field and drop this one",
                );
                continue;
            }
            rename_junction(self, oj, nj);
        }
    }
}

/// A renamed many-to-many relation renames its junction table, its view and
/// the constraints and index named after it; the columns stay.
fn rename_junction(b: &mut Builder<'_>, from: &crate::types::Junction, to: &crate::types::Junction) {
    let t = b.t.clone();
    for (kind, schema) in [
        (RelKind::Table, &t.storage_schema),
        (RelKind::View, &t.api_schema),
    ] {
        b.push(
            Step::RenameRelation {
                kind,
                schema: schema.clone(),
                from: from.table.clone(),
                to: to.table.clone(),
            },
            Class::Metadata,
        );
    }
    let names = |j: &crate::types::Junction| {
        vec![
            derived(&[j.table.as_str(), "pkey"]),
            derived(&[j.table.as_str(), j.source_column.as_str(), "fkey"]),
            derived(&[j.table.as_str(), j.target_column.as_str(), "fkey"]),
        ]
    };
    for (old, new) in names(from).into_iter().zip(names(to)) {
        b.push(
            Step::RenameConstraint {
                schema: t.storage_schema.clone(),
                table: to.table.clone(),
                from: old,
                to: new,
            },
            Class::Metadata,
        );
    }
    b.push(
        Step::RenameIndex {
            schema: t.storage_schema.clone(),
            from: derived(&[from.table.as_str(), from.target_column.as_str(), "idx"]),
            to: derived(&[to.table.as_str(), to.target_column.as_str(), "idx"]),
        },
        Class::Metadata,
    );
}

#[cfg(test)]
mod tests {
    use super::super::tests::{base, phase, sql};
    use super::*;
    use serde_json::json;

    fn with_relation(name: &str, target: &str) -> serde_json::Value {
        let mut def = base();
        def["fields"].as_array_mut().unwrap().push(json!(
            {"id": "01900000-0000-7000-8000-000000000011", "name": name, "type": "relation", "kind": "many_to_many", "target": target}
        ));
        def
    }

    #[test]
    fn a_renamed_field_renames_its_column_then_its_objects() {
        let mut new = base();
        new["fields"][0]["name"] = json!("name");
        let e = phase(base(), new, 10, vec![], Options::default(), |b, d| b.rename(d));
        assert_eq!(
            sql(&e),
            vec![
                r#"ALTER TABLE "tenant_acme"."item" RENAME COLUMN "title" TO "name""#,
                r#"ALTER TABLE "tenant_acme"."item" RENAME CONSTRAINT "item_title_max_length" TO "item_name_max_length""#,
                r#"ALTER INDEX "tenant_acme"."item_title_idx" RENAME TO "item_name_idx""#,
            ]
        );
        assert!(e.changes.iter().all(|c| c.class == Class::Metadata));
    }

    #[test]
    fn a_renamed_many_to_many_renames_its_junction_and_keeps_its_columns() {
        let (old, new) = (with_relation("tags", "tag"), with_relation("labels", "tag"));
        let e = phase(old, new, 10, vec![], Options::default(), |b, d| b.rename(d));
        assert!(e.refusals.is_empty());
        let s = sql(&e);
        assert_eq!(s.len(), 6, "{s:#?}");
        assert!(
            s[0].ends_with(r#""tenant_acme"."item_tags" RENAME TO "item_labels""#),
            "{s:#?}"
        );
        assert!(
            s[1].ends_with(r#""acme"."item_tags" RENAME TO "item_labels""#),
            "{s:#?}"
        );
        assert!(s.iter().all(|q| !q.contains("RENAME COLUMN")), "{s:#?}");
        assert!(
            s[5].ends_with(r#""tenant_acme"."item_tags_tag_id_idx" RENAME TO "item_labels_tag_id_idx""#),
            "{s:#?}"
        );
    }

    #[test]
    fn renaming_a_relation_of_an_entity_to_itself_is_refused() {
        let (old, new) = (with_relation("friends", "item"), with_relation("pals", "item"));
        let e = phase(old, new, 10, vec![], Options::default(), |b, d| b.rename(d));
        assert!(e.changes.is_empty(), "{:#?}", sql(&e));
        assert_eq!(e.refusals.len(), 1);
        assert_eq!(
            (e.refusals[0].kind, e.refusals[0].pointer.as_str()),
            (ErrorKind::FeatureNotSupported, "/fields/3/name")
        );
    }
}
