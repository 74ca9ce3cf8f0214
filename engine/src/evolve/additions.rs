//! What is new: fields and the owner column (phase H), after the drops and
//! renames so a new field may take a freed name; junctions of new
//! many-to-many relations (phase K), once the table's own changes are done.

use super::*;
use crate::literal::DefaultValue;

impl Builder<'_> {
    /// Phase H: new fields, then the owner column the first owner rule needs.
    pub(super) fn add_fields(&mut self, d: &Diff<'_>) {
        for f in &d.added {
            self.add_field(f, &pointer(d.new, f.id));
        }
        if d.owner_after && !d.owner_before {
            self.add_owner();
        }
    }

    /// One new field; `at` points at it. Existing rows need a value for a
    /// required field, so one without a default is refused on a table with rows.
    fn add_field(&mut self, f: &Field, at: &str) {
        let step = Step::AddColumn {
            schema: self.t.storage_schema.clone(),
            table: self.table.clone(),
            column: plan::column(f),
        };
        if f.required && f.default.is_none() && self.has_rows {
            let rows = self.count(Probe::Rows);
            self.refuse(
                ErrorKind::NotNullViolation,
                at.to_string(),
                format!(
                    "required field \"{}\" has no default, and {} have no value",
                    f.name,
                    crate::words::counted(rows, "row would", "rows would")
                ),
                "give it a default, or add it as optional, fill it, then make it required",
            );
        }
        // A volatile default is computed for every existing row; a constant
        // one is stored once in the catalog.
        let volatile = matches!(f.default, Some(DefaultValue::NewUuid));
        let class = if volatile && self.has_rows {
            Class::Rewrite
        } else {
            Class::Metadata
        };
        match f.default.as_ref().filter(|_| self.has_rows) {
            Some(d) => self.push_noted(step, class, existing_rows_get(d)),
            None => self.push(step, class),
        }
    }

    /// The owner column and the trigger that fills it on insert.
    fn add_owner(&mut self) {
        let (schema, table) = (self.t.storage_schema.clone(), self.table.clone());
        let column = plan::Column {
            name: fixed(OWNER_COLUMN),
            sql_type: "text".into(),
            not_null: false,
            default: None,
        };
        self.push(
            Step::AddColumn {
                schema: schema.clone(),
                table: table.clone(),
                column,
            },
            Class::Metadata,
        );
        self.out.changes.last_mut().expect("pushed").note =
            Some("existing rows have no owner: only admins reach them under owner rules".into());
        self.push(Step::CreateOwnerTrigger { schema, table }, Class::Metadata);
    }

    /// Phase K: the junctions of many-to-many relations the old side lacks.
    pub(super) fn add_junctions(&mut self, d: &Diff<'_>) {
        let n = d.new.entity;
        for r in n.relations.iter().filter(|r| r.kind == RelationKind::ManyToMany) {
            if !d.old_relations.contains_key(&r.id) {
                for step in relations::junction(n, r, d.new.labels) {
                    self.push(step, Class::Metadata);
                }
            }
        }
    }
}

/// What the rows already in the table hold in a new column with default `d`.
fn existing_rows_get(d: &DefaultValue) -> String {
    match d {
        DefaultValue::Now => {
            "existing rows get the time of this change (now() is evaluated once, for every row)".into()
        }
        DefaultValue::Today => "existing rows get the date of this change".into(),
        DefaultValue::NewUuid => "existing rows each get a new uuid".into(),
        DefaultValue::Literal(l) => format!("existing rows get the default {}", l.to_json()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{base, phase, sql, with};
    use super::*;
    use serde_json::json;

    #[test]
    fn a_required_field_without_default_is_refused_on_a_table_with_rows() {
        let new = with(json!({"name": "code", "type": "text", "required": true}));
        let e = phase(base(), new.clone(), 10, vec![], Options::default(), |b, d| {
            b.add_fields(d)
        });
        assert_eq!(e.refusals.len(), 1);
        assert_eq!(
            (e.refusals[0].kind, e.refusals[0].pointer.as_str()),
            (ErrorKind::NotNullViolation, "/fields/3")
        );
        assert_eq!(
            e.refusals[0].message,
            "required field \"code\" has no default, and 10 rows would have no value"
        );
        // No rows, no one lacks a value.
        let e = phase(base(), new, 0, vec![], Options::default(), |b, d| b.add_fields(d));
        assert!(e.refusals.is_empty());
        assert_eq!(
            sql(&e),
            vec![r#"ALTER TABLE "tenant_acme"."item" ADD COLUMN "code" text NOT NULL"#]
        );
        // A default fills the rows.
        let new = with(json!({"name": "code", "type": "text", "required": true, "default": "x"}));
        let e = phase(base(), new, 10, vec![], Options::default(), |b, d| {
            b.add_fields(d)
        });
        assert!(e.refusals.is_empty());
        assert_eq!(e.changes[0].class, Class::Metadata);
    }

    #[test]
    fn a_volatile_default_rewrites_a_table_with_rows() {
        let new = with(json!({"name": "code", "type": "uuid", "default": "uuid"}));
        let e = phase(base(), new.clone(), 10, vec![], Options::default(), |b, d| {
            b.add_fields(d)
        });
        assert_eq!(e.changes[0].class, Class::Rewrite);
        let e = phase(base(), new, 0, vec![], Options::default(), |b, d| b.add_fields(d));
        assert_eq!(e.changes[0].class, Class::Metadata);
    }

    #[test]
    fn the_first_owner_rule_adds_the_owner_column_and_its_trigger() {
        let mut new = base();
        new["access"] = json!({"read": "owner"});
        let e = phase(base(), new.clone(), 10, vec![], Options::default(), |b, d| {
            b.add_fields(d)
        });
        assert_eq!(e.changes.len(), 2);
        assert_eq!(
            sql(&e)[0],
            r#"ALTER TABLE "tenant_acme"."item" ADD COLUMN "owner_id" text"#
        );
        assert!(e.changes[0]
            .note
            .as_deref()
            .unwrap()
            .starts_with("existing rows have no owner"));
        assert!(matches!(e.changes[1].step, Step::CreateOwnerTrigger { .. }));
        // Already there: nothing to add.
        let e = phase(new.clone(), new, 10, vec![], Options::default(), |b, d| {
            b.add_fields(d)
        });
        assert!(e.changes.is_empty());
    }

    #[test]
    fn only_a_new_many_to_many_gets_a_junction() {
        let tags = json!({"id": "01900000-0000-7000-8000-000000000011", "name": "tags", "type": "relation", "kind": "many_to_many", "target": "tag"});
        let e = phase(
            base(),
            with(tags.clone()),
            10,
            vec![],
            Options::default(),
            |b, d| b.add_junctions(d),
        );
        let s = sql(&e);
        assert!(
            s[0].starts_with(r#"CREATE TABLE "tenant_acme"."item_tags""#),
            "{s:#?}"
        );
        let e = phase(
            with(tags.clone()),
            with(tags),
            10,
            vec![],
            Options::default(),
            |b, d| b.add_junctions(d),
        );
        assert!(e.changes.is_empty());
    }
}
