//! Phase G: type changes. A change goes only where [`conversion`] knows a way;
//! values that would not convert or would lose something are counted first.
//! A failing value becomes NULL only when the caller allows data loss and the
//! field may be empty; rounding needs the same permission.

use super::*;

impl Builder<'_> {
    /// Phase G: every kept field whose column type changes.
    pub(super) fn retype(&mut self, d: &Diff<'_>) {
        for f in &d.new.entity.fields {
            let Some(of) = d.old_fields.get(&f.id) else {
                continue;
            };
            if of.ty.sql_type() != f.ty.sql_type() {
                self.retype_field(of, f, &pointer(d.new, f.id));
            }
        }
    }

    /// One field from `of` to `f`; `at` points at it in the new definition.
    fn retype_field(&mut self, of: &Field, f: &Field, at: &str) {
        let Some(conv) = conversion(&of.ty, &f.ty) else {
            self.refuse(
                ErrorKind::FeatureNotSupported,
                format!("{at}/type"),
                format!(
                    "field \"{}\" cannot change from {} to {}",
                    f.name,
                    type_text(&of.ty),
                    type_text(&f.ty)
                ),
                "add a new field of the new type, copy the values, then drop this one",
            );
            return;
        };
        let failing = if conv.fallible {
            self.count(Probe::NotCastable(of.name.clone(), f.ty.sql_type()))
        } else {
            0
        };
        let lossy = match &conv.loss {
            Some(loss) => self.count(Probe::Loses(
                of.name.clone(),
                loss.clone(),
                matches!(of.ty, FieldType::Array(_)),
            )),
            None => 0,
        };
        self.refuse_lost_values(of, f, at, failing, lossy);
        let (schema, table) = (self.t.storage_schema.clone(), self.table.clone());
        // The old default may not convert: it goes first, the new one after.
        if of.default.is_some() {
            self.push(
                alter(&schema, &table, &f.name, ColumnAction::DropDefault),
                Class::Metadata,
            );
        }
        let action = ColumnAction::Type {
            sql_type: f.ty.sql_type(),
            null_failures: failing > 0,
        };
        let step = alter(&schema, &table, &f.name, action);
        if failing + lossy > 0 {
            self.push_counted(
                step,
                Class::DataLoss,
                failing + lossy,
                "values set to NULL or rounded",
            );
        } else {
            if conv.rewrite && self.has_rows {
                self.push_noted(
                    step,
                    Class::Rewrite,
                    "every row is written again, under ACCESS EXCLUSIVE; updated_at is kept",
                );
            } else {
                self.push(
                    step,
                    if conv.rewrite {
                        Class::Rewrite
                    } else {
                        Class::Metadata
                    },
                );
            }
        }
        if let Some(default) = &f.default {
            let action = ColumnAction::SetDefault(user_default(f, default));
            self.push(alter(&schema, &table, &f.name, action), Class::Metadata);
        }
    }

    /// Refuses `failing` values that would not convert (a required field
    /// cannot take NULL instead, whatever is allowed) and `lossy` ones that
    /// would be rounded or cut, unless data loss is allowed.
    fn refuse_lost_values(&mut self, of: &Field, f: &Field, at: &str, failing: u64, lossy: u64) {
        if failing > 0 && (f.required || !self.options.allow_data_loss) {
            self.refuse(
                ErrorKind::DataLoss,
                format!("{at}/type"),
                format!(
                    "{} a value of \"{}\" that is not a valid {}",
                    crate::words::counted(failing, "row holds", "rows hold"),
                    of.name,
                    type_text(&f.ty)
                ),
                if f.required {
                    "fix those values first (a required field cannot take NULL instead)"
                } else {
                    "fix those values first, or pass {\"allow_data_loss\": true} to set them to NULL"
                },
            );
        }
        if lossy > 0 && !self.options.allow_data_loss {
            self.refuse(
                ErrorKind::DataLoss,
                format!("{at}/type"),
                format!(
                    "{} of \"{}\" would be rounded or cut converting to {}",
                    crate::words::counted(lossy, "value", "values"),
                    of.name,
                    type_text(&f.ty)
                ),
                "pass {\"allow_data_loss\": true} to convert them anyway",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{base, ident, phase, sql};
    use super::*;
    use serde_json::json;

    fn allowed() -> Options {
        Options {
            allow_data_loss: true,
            ..Options::default()
        }
    }

    fn qty_as(ty: serde_json::Value) -> serde_json::Value {
        let mut new = base();
        new["fields"][1] = ty;
        new["fields"][1]["id"] = json!("01900000-0000-7000-8000-000000000003");
        new["fields"][1]["name"] = json!("qty");
        new
    }

    fn not_castable(n: u64) -> Vec<(Probe, u64)> {
        vec![(Probe::NotCastable(ident("qty"), "integer".into()), n)]
    }

    #[test]
    fn a_change_with_no_conversion_is_refused_at_its_type() {
        let new = qty_as(json!({"type": "array", "items": "text"}));
        let e = phase(base(), new, 10, vec![], Options::default(), |b, d| b.retype(d));
        assert!(e.changes.is_empty(), "{:#?}", sql(&e));
        assert_eq!(e.refusals.len(), 1);
        assert_eq!(
            (e.refusals[0].kind, e.refusals[0].pointer.as_str()),
            (ErrorKind::FeatureNotSupported, "/fields/1/type")
        );
        assert_eq!(
            e.refusals[0].message,
            "field \"qty\" cannot change from text to array of text"
        );
    }

    #[test]
    fn values_that_do_not_convert_are_counted_and_refused_unless_allowed() {
        let new = qty_as(json!({"type": "integer"}));
        let e = phase(
            base(),
            new.clone(),
            10,
            not_castable(2),
            Options::default(),
            |b, d| b.retype(d),
        );
        assert_eq!(e.refusals.len(), 1);
        assert_eq!(
            (e.refusals[0].kind, e.refusals[0].pointer.as_str()),
            (ErrorKind::DataLoss, "/fields/1/type")
        );
        assert_eq!(
            e.refusals[0].message,
            "2 rows hold a value of \"qty\" that is not a valid integer"
        );
        let e = phase(base(), new, 10, not_castable(2), allowed(), |b, d| b.retype(d));
        assert!(e.refusals.is_empty());
        assert_eq!(
            (e.changes[0].class, e.changes[0].rows),
            (Class::DataLoss, Some(2))
        );
        assert!(matches!(
            &e.changes[0].step,
            Step::AlterColumn {
                action: ColumnAction::Type {
                    null_failures: true,
                    ..
                },
                ..
            }
        ));
    }

    #[test]
    fn a_required_field_cannot_take_null_for_a_failing_value() {
        let mut old = base();
        old["fields"][1]["required"] = json!(true);
        let new = qty_as(json!({"type": "integer", "required": true}));
        let e = phase(old, new, 10, not_castable(1), allowed(), |b, d| b.retype(d));
        assert_eq!(e.refusals.len(), 1);
        assert_eq!(e.refusals[0].kind, ErrorKind::DataLoss);
    }

    #[test]
    fn rounding_is_counted_and_needs_permission() {
        let mut old = base();
        old["fields"][1] =
            json!({"id": "01900000-0000-7000-8000-000000000003", "name": "qty", "type": "float"});
        let new = qty_as(json!({"type": "integer"}));
        let loss = conversion(
            &FieldType::Scalar(Scalar::Float),
            &FieldType::Scalar(Scalar::Integer),
        )
        .and_then(|c| c.loss)
        .expect("float to integer rounds");
        let given = vec![(Probe::Loses(ident("qty"), loss, false), 3)];
        let e = phase(
            old.clone(),
            new.clone(),
            10,
            given.clone(),
            Options::default(),
            |b, d| b.retype(d),
        );
        assert_eq!(e.refusals.len(), 1);
        assert!(e.refusals[0]
            .message
            .starts_with("3 values of \"qty\" would be rounded"));
        let e = phase(old, new, 10, given, allowed(), |b, d| b.retype(d));
        assert!(e.refusals.is_empty());
        assert_eq!(
            (e.changes[0].class, e.changes[0].rows),
            (Class::DataLoss, Some(3))
        );
    }

    #[test]
    fn a_clean_conversion_rewrites_and_moves_the_default_around_it() {
        let mut old = base();
        old["fields"][1] = json!({"id": "01900000-0000-7000-8000-000000000003", "name": "qty", "type": "integer", "default": 1});
        let new = qty_as(json!({"type": "bigint", "default": 2}));
        let e = phase(old, new, 10, vec![], Options::default(), |b, d| b.retype(d));
        assert!(e.refusals.is_empty());
        let s = sql(&e);
        assert_eq!(s.len(), 3, "{s:#?}");
        assert!(s[0].ends_with("DROP DEFAULT"), "{s:#?}");
        assert!(s[1].contains("TYPE bigint"), "{s:#?}");
        assert!(s[2].ends_with("SET DEFAULT '2'::bigint"), "{s:#?}");
        let classes: Vec<Class> = e.changes.iter().map(|c| c.class).collect();
        assert_eq!(classes, [Class::Metadata, Class::Rewrite, Class::Metadata]);
    }
}
