//! Phase I: what changes about a kept column in place: NOT NULL, its default,
//! and enum values renamed in the rows. It runs after the type changes, so
//! defaults and values are set on the column's new type.

use super::*;

impl Builder<'_> {
    /// Phase I: NOT NULL and defaults of kept fields, then renamed enum values.
    /// Returns, by column, the old values renamed, which phase J's count of a
    /// new value list must still accept.
    pub(super) fn change_columns(&mut self, d: &Diff<'_>) -> HashMap<Ident, Vec<String>> {
        for f in &d.new.entity.fields {
            let Some(of) = d.old_fields.get(&f.id) else {
                continue;
            };
            self.change_column(d, of, f);
        }
        self.rename_values(d)
    }

    /// One kept field from `of` to `f`.
    fn change_column(&mut self, d: &Diff<'_>, of: &Field, f: &Field) {
        let (schema, table) = (self.t.storage_schema.clone(), self.table.clone());
        if f.required && !of.required {
            let nulls = self.count(Probe::Nulls(of.name.clone()));
            if nulls > 0 {
                self.refuse(
                    ErrorKind::NotNullViolation,
                    format!("{}/required", pointer(d.new, f.id)),
                    format!(
                        "{} no value for \"{}\"",
                        crate::words::counted(nulls, "row has", "rows have"),
                        field_name(d.old.entity, of)
                    ),
                    "fill those rows first, or keep the field optional",
                );
            }
            let class = self.scanning();
            self.push(alter(&schema, &table, &f.name, ColumnAction::SetNotNull), class);
        } else if of.required && !f.required {
            self.push(
                alter(&schema, &table, &f.name, ColumnAction::DropNotNull),
                Class::Metadata,
            );
        }
        // A retyped column had its default set with the type (phase G).
        let retyped_here = of.ty.sql_type() != f.ty.sql_type();
        if !retyped_here && of.default != f.default {
            let default = f.default.as_ref().map(|v| user_default(f, v));
            let action = match &default {
                Some(default) => ColumnAction::SetDefault(default.clone()),
                None => ColumnAction::DropDefault,
            };
            self.push(alter(&schema, &table, &f.name, action), Class::Metadata);
            // The view's copy of the default follows (a rebuilt view is made
            // with every default, phase M).
            if !d.rebuild_view {
                let step = Step::SetViewDefault {
                    schema: self.t.api_schema.clone(),
                    view: table.clone(),
                    column: f.name.clone(),
                    default,
                };
                self.push(step, Class::Metadata);
            }
        }
    }

    /// The caller's enum value renames: each must name an enum field of the
    /// new side and a value it now has, and for a field that was an enum a
    /// value it had. A field becoming an enum maps its old values in their
    /// text form (`{"1": "low"}` from an integer): the type change has made
    /// them text by now.
    fn rename_values(&mut self, d: &Diff<'_>) -> HashMap<Ident, Vec<String>> {
        let mut renamed_from: HashMap<Ident, Vec<String>> = HashMap::new();
        let options = self.options;
        for (field, from, to) in &options.rename_values {
            let target = d.new.entity.fields.iter().find(|f| f.name.as_str() == field);
            let old_field = target.and_then(|f| d.old_fields.get(&f.id));
            // A value the old field may hold: any text, unless it was an enum.
            let had = old_field.is_some_and(|of| enum_values(&of.ty).is_none_or(|ov| ov.contains(from)));
            let new_values = target.and_then(|f| enum_values(&f.ty));
            match (target, new_values) {
                (Some(f), Some(nv)) if had && nv.contains(to) => {
                    renamed_from.entry(f.name.clone()).or_default().push(from.clone());
                    let step = Step::RenameValue {
                        schema: self.t.storage_schema.clone(),
                        table: self.table.clone(),
                        column: f.name.clone(),
                        array: matches!(f.ty, FieldType::Array(_)),
                        from: from.clone(),
                        to: to.clone(),
                    };
                    // The rows holding the value are written (the system
                    // columns trigger keeps their updated_at for Cot's own
                    // statements).
                    if self.has_rows {
                        self.push_noted(step, Class::Rewrite, "rows holding the old value are written again; their updated_at is kept");
                    } else {
                        self.push(step, Class::Metadata);
                    }
                }
                _ => self.refuse(
                    ErrorKind::InvalidParameter,
                    format!("/rename_values/{field}"),
                    format!("cannot rename value \"{from}\" of \"{field}\" to \"{to}\""),
                    "name an enum field of the new definition, a value it had (any value, when it was not an enum) and a value it now has",
                ),
            }
        }
        renamed_from
    }
}

/// The values of an enum field (or of its items).
fn enum_values(ty: &FieldType) -> Option<&Vec<String>> {
    match ty.scalar() {
        Scalar::Enum(values) => Some(values),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{base, ident, phase, sql};
    use super::*;
    use serde_json::json;

    #[test]
    fn making_a_field_required_counts_its_empty_rows() {
        let mut new = base();
        new["fields"][2]["required"] = json!(true);
        let nulls = vec![(Probe::Nulls(ident("note")), 4)];
        let e = phase(base(), new.clone(), 10, nulls, Options::default(), |b, d| {
            b.change_columns(d);
        });
        assert_eq!(e.refusals.len(), 1);
        assert_eq!(
            (e.refusals[0].kind, e.refusals[0].pointer.as_str()),
            (ErrorKind::NotNullViolation, "/fields/2/required")
        );
        assert_eq!(e.refusals[0].message, "4 rows have no value for \"note\"");
        // SET NOT NULL reads every row.
        assert_eq!(
            sql(&e),
            vec![r#"ALTER TABLE "tenant_acme"."item" ALTER COLUMN "note" SET NOT NULL"#]
        );
        assert_eq!(e.changes[0].class, Class::Scan);
        let e = phase(base(), new, 0, vec![], Options::default(), |b, d| {
            b.change_columns(d);
        });
        assert!(e.refusals.is_empty());
        assert_eq!(e.changes[0].class, Class::Metadata);
    }

    #[test]
    fn optional_again_and_a_new_default_are_metadata() {
        let mut old = base();
        old["fields"][2]["required"] = json!(true);
        let mut new = base();
        new["fields"][2]["default"] = json!("n/a");
        let e = phase(old, new, 10, vec![], Options::default(), |b, d| {
            b.change_columns(d);
        });
        assert_eq!(
            sql(&e),
            vec![
                r#"ALTER TABLE "tenant_acme"."item" ALTER COLUMN "note" DROP NOT NULL"#,
                r#"ALTER TABLE "tenant_acme"."item" ALTER COLUMN "note" SET DEFAULT 'n/a'::text"#,
                r#"ALTER VIEW "acme"."item" ALTER COLUMN "note" SET DEFAULT 'n/a'::text"#,
            ]
        );
        assert!(e.changes.iter().all(|c| c.class == Class::Metadata));
    }

    #[test]
    fn a_retyped_column_leaves_its_default_to_the_type_change() {
        let mut new = base();
        new["fields"][1]["type"] = json!("integer");
        new["fields"][1]["default"] = json!(1);
        let e = phase(base(), new, 10, vec![], Options::default(), |b, d| {
            b.change_columns(d);
        });
        assert!(e.changes.is_empty(), "{:#?}", sql(&e));
    }

    #[test]
    fn renamed_values_rewrite_rows_and_are_reported_for_the_new_list() {
        let old = json!({"tenant": "acme", "name": "item", "fields": [
            {"id": "01900000-0000-7000-8000-000000000002", "name": "status", "type": "enum", "values": ["open", "closed"]}]});
        let mut new = old.clone();
        new["fields"][0]["values"] = json!(["opened", "closed"]);
        let options = Options {
            rename_values: vec![
                ("status".into(), "open".into(), "opened".into()),
                ("status".into(), "shut".into(), "closed".into()),
            ],
            ..Options::default()
        };
        let mut from = HashMap::new();
        let e = phase(old, new, 10, vec![], options, |b, d| from = b.change_columns(d));
        assert_eq!(from, HashMap::from([(ident("status"), vec!["open".to_string()])]));
        assert!(matches!(
            &e.changes[..],
            [Change {
                step: Step::RenameValue { .. },
                class: Class::Rewrite,
                ..
            }]
        ));
        // "shut" was never a value.
        assert_eq!(e.refusals.len(), 1);
        assert_eq!(
            (e.refusals[0].kind, e.refusals[0].pointer.as_str()),
            (ErrorKind::InvalidParameter, "/rename_values/status")
        );
        assert_eq!(
            e.refusals[0].message,
            "cannot rename value \"shut\" of \"status\" to \"closed\""
        );
    }

    #[test]
    fn a_field_becoming_an_enum_maps_its_old_values_in_text_form() {
        let old = json!({"tenant": "acme", "name": "item", "fields": [
            {"id": "01900000-0000-7000-8000-000000000002", "name": "priority", "type": "integer"}]});
        let mut new = old.clone();
        new["fields"][0]["type"] = json!("enum");
        new["fields"][0]["values"] = json!(["low", "high"]);
        let options = Options {
            rename_values: vec![
                ("priority".into(), "1".into(), "low".into()),
                ("priority".into(), "2".into(), "urgent".into()),
            ],
            ..Options::default()
        };
        let mut from = HashMap::new();
        let e = phase(old, new, 10, vec![], options, |b, d| from = b.change_columns(d));
        assert_eq!(from, HashMap::from([(ident("priority"), vec!["1".to_string()])]));
        assert_eq!(
            sql(&e),
            vec![r#"UPDATE "tenant_acme"."item" SET "priority" = 'low' WHERE "priority" = '1'"#]
        );
        assert!(e.changes[0]
            .note
            .as_deref()
            .unwrap()
            .contains("updated_at is kept"));
        // "urgent" is not a new value.
        assert_eq!(e.refusals.len(), 1);
        assert_eq!(e.refusals[0].pointer, "/rename_values/priority");
    }
}
