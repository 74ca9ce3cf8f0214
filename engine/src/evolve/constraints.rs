//! Constraints and indexes whose rule changes: the old object goes early
//! (phase C), before the columns it names are dropped, renamed or retyped, and
//! the new one is made late (phase J), once the columns it names exist in
//! their new form. A new rule is counted against the rows before it is added.

use super::*;

impl Builder<'_> {
    /// Phase C: constraints and indexes no new rule matches go.
    pub(super) fn drop_objects(&mut self, d: &Diff<'_>) {
        let (schema, table) = (self.t.storage_schema.clone(), self.table.clone());
        for name in &d.constraints.dropped {
            let step = Step::DropConstraint {
                schema: schema.clone(),
                table: table.clone(),
                name: name.clone(),
            };
            self.push(step, Class::Metadata);
        }
        for name in &d.indexes.dropped {
            let step = Step::DropIndex {
                schema: schema.clone(),
                name: name.clone(),
            };
            self.push(step, Class::Metadata);
        }
    }

    /// Phase J: constraints and indexes that are new or changed.
    /// `renamed_from` holds the enum values each column renames (phase I), which
    /// the old rows still hold when the new rule is counted.
    pub(super) fn make_objects(&mut self, d: &Diff<'_>, renamed_from: &HashMap<Ident, Vec<String>>) {
        for c in &d.constraints.made {
            add_constraint(self, c.clone(), d, renamed_from);
        }
        for (name, columns, gin) in &d.indexes.made {
            let step = Step::CreateIndex {
                schema: self.t.storage_schema.clone(),
                table: self.table.clone(),
                name: name.clone(),
                columns: columns.clone(),
                gin: *gin,
            };
            if self.has_rows && self.options.defer_indexes {
                self.out.pending.push(step);
            } else {
                let class = self.scanning();
                self.push(step, class);
            }
        }
    }
}

/// A new or changed constraint: counted against the rows first (where the
/// column keeps its type, so the old values can be tested), added NOT VALID
/// and validated on a table with rows, or added outright on an empty one.
fn add_constraint(
    b: &mut Builder<'_>,
    c: Constraint,
    d: &Diff<'_>,
    renamed_from: &HashMap<Ident, Vec<String>>,
) {
    refuse_failing_rows(b, &c, d, renamed_from);
    let (schema, table) = (b.t.storage_schema.clone(), b.table.clone());
    let validating = b.has_rows
        && matches!(
            c.kind,
            ConstraintKind::Check(..) | ConstraintKind::ForeignKey { .. }
        );
    if !validating {
        let class = b.scanning();
        b.push(
            Step::AddConstraint {
                schema,
                table,
                constraint: c,
            },
            class,
        );
        return;
    }
    let name = c.name.clone();
    b.push(
        Step::AddConstraintNotValid {
            schema: schema.clone(),
            table: table.clone(),
            constraint: c,
        },
        Class::Metadata,
    );
    let validate = Step::ValidateConstraint { schema, table, name };
    if b.options.defer_validation {
        b.out.pending.push(validate);
    } else {
        b.push(validate, Class::Scan);
    }
}

/// Counts the rows a new CHECK or UNIQUE rule would reject, refusing the
/// change when there are any. The probe runs before any step, so it names the
/// old columns; a column that changes type is counted as the change converts
/// it, and a new column holds only its default.
fn refuse_failing_rows(
    b: &mut Builder<'_>,
    c: &Constraint,
    d: &Diff<'_>,
    renamed_from: &HashMap<Ident, Vec<String>>,
) {
    match &c.kind {
        ConstraintKind::Check(col, check, _) => {
            let Some(value) = old_value(d, col) else {
                return;
            };
            // Values renamed by this change pass the new list once renamed.
            let probe_check = match (check, renamed_from.get(col)) {
                (Check::OneOf(v), Some(from)) => Check::OneOf(v.iter().chain(from).cloned().collect()),
                (Check::ArrayOneOf(v), Some(from)) => {
                    Check::ArrayOneOf(v.iter().chain(from).cloned().collect())
                }
                _ => check.clone(),
            };
            let failing = b.count(Probe::FailsCheck(value.0, value.1, probe_check));
            if failing > 0 {
                refuse_check(b, d, c, col, check, failing);
            }
        }
        ConstraintKind::Unique(cols) => refuse_duplicates(b, d, cols),
        _ => {}
    }
}

/// Refuses a CHECK that `failing` rows would break, at the key of the field
/// that states the rule, with the rule in words.
fn refuse_check(b: &mut Builder<'_>, d: &Diff<'_>, c: &Constraint, col: &Ident, check: &Check, failing: u64) {
    let at = d
        .new
        .entity
        .fields
        .iter()
        .find(|f| &f.name == col)
        .map_or_else(|| "/fields".to_string(), |f| pointer(d.new, f.id));
    let hint = if check.is_value_list() {
        format!(
            "map each old value to a new one with {{\"rename_values\": {{\"{col}\": {{\"old value\": \"new value\"}}}}}}, change those rows first, or keep the old values"
        )
    } else {
        "change those rows first, or keep the old limit".to_string()
    };
    // A state field lists its values as states.
    let state_field = d.new.entity.workflow.as_ref().is_some_and(|w| &w.field == col);
    let key = match check.definition_key() {
        "values" if state_field => "states",
        other => other,
    };
    b.refuse(
        ErrorKind::CheckViolation,
        format!("{at}/{key}"),
        format!(
            "{} the new rule on \"{col}\" ({}): it must be {}",
            crate::words::counted(failing, "row breaks", "rows break"),
            c.name,
            check.rule_text()
        ),
        &hint,
    );
}

/// Counts the rows a new UNIQUE rule would find repeated: kept columns as
/// they are (or converted), new columns by their default. A new column with
/// no default or a `uuid` one repeats nothing; one with the same default on
/// every row repeats whenever the other columns do.
fn refuse_duplicates(b: &mut Builder<'_>, d: &Diff<'_>, cols: &[Ident]) {
    let mut values = Vec::new();
    for col in cols {
        if let Some(f) = d.added.iter().find(|f| &f.name == col) {
            match &f.default {
                None | Some(crate::literal::DefaultValue::NewUuid) => return,
                Some(_) => continue,
            }
        }
        match old_value(d, col) {
            Some(v) => values.push(v),
            None => return,
        }
    }
    let repeated = if values.is_empty() {
        // Every column is new, with one value for all rows.
        match b.count(Probe::Rows) {
            n if n > 1 => n,
            _ => 0,
        }
    } else {
        b.count(Probe::Duplicates(values))
    };
    if repeated > 0 {
        let names: Vec<&str> = cols.iter().map(Ident::as_str).collect();
        b.refuse(
            ErrorKind::UniqueViolation,
            "/fields".into(),
            format!(
                "{} a value of ({}) made unique",
                crate::words::counted(repeated, "row repeats", "rows repeat"),
                names.join(", ")
            ),
            "remove the duplicates first, or keep the field not unique",
        );
    }
}

/// What the rows hold for the new column `col` before the change: the old
/// column (under its old name), converted when the change retypes it.
/// `None` for a new column, and for a type change Cot does not make (it is
/// refused on its own).
fn old_value(d: &Diff<'_>, col: &Ident) -> Option<(Ident, Option<Cast>)> {
    let f = d.new.entity.fields.iter().find(|f| &f.name == col)?;
    let of = d.old_fields.get(&f.id)?;
    if of.ty.sql_type() == f.ty.sql_type() {
        return Some((of.name.clone(), None));
    }
    let conv = conversion(&of.ty, &f.ty)?;
    let cast = Cast {
        sql_type: f.ty.sql_type(),
        fallible: conv.fallible,
    };
    Some((of.name.clone(), Some(cast)))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{base, ident, phase, sql};
    use super::*;
    use serde_json::json;

    fn tighter() -> serde_json::Value {
        let mut new = base();
        new["fields"][0]["max_length"] = json!(10);
        new
    }

    #[test]
    fn a_changed_rule_drops_its_object_first() {
        let e = phase(base(), tighter(), 10, vec![], Options::default(), |b, d| {
            b.drop_objects(d)
        });
        assert_eq!(
            sql(&e),
            vec![r#"ALTER TABLE "tenant_acme"."item" DROP CONSTRAINT "item_title_max_length""#]
        );
        // An index that goes.
        let mut new = base();
        new["fields"][0]["index"] = json!(false);
        let e = phase(base(), new, 10, vec![], Options::default(), |b, d| {
            b.drop_objects(d)
        });
        assert_eq!(sql(&e), vec![r#"DROP INDEX "tenant_acme"."item_title_idx""#]);
    }

    #[test]
    fn rows_breaking_a_new_check_refuse_it() {
        let failing = vec![(Probe::FailsCheck(ident("title"), None, Check::MaxLength(10)), 3)];
        let e = phase(base(), tighter(), 10, failing, Options::default(), |b, d| {
            b.make_objects(d, &HashMap::new())
        });
        assert_eq!(e.refusals.len(), 1);
        assert_eq!(e.refusals[0].kind, ErrorKind::CheckViolation);
        assert_eq!(
            e.refusals[0].message,
            "3 rows break the new rule on \"title\" (item_title_max_length): it must be at most 10 characters long"
        );
    }

    #[test]
    fn a_check_on_rows_is_added_not_valid_then_validated_or_deferred() {
        let e = phase(base(), tighter(), 10, vec![], Options::default(), |b, d| {
            b.make_objects(d, &HashMap::new())
        });
        assert!(e.refusals.is_empty());
        let classes: Vec<Class> = e.changes.iter().map(|c| c.class).collect();
        assert_eq!(classes, [Class::Metadata, Class::Scan]);
        assert!(sql(&e)[0].ends_with("NOT VALID"));
        let deferred = Options {
            defer_validation: true,
            ..Options::default()
        };
        let e = phase(base(), tighter(), 10, vec![], deferred, |b, d| {
            b.make_objects(d, &HashMap::new())
        });
        assert_eq!(e.changes.len(), 1);
        assert!(matches!(e.pending[..], [Step::ValidateConstraint { .. }]));
        // No rows: added outright, nothing to validate.
        let e = phase(base(), tighter(), 0, vec![], Options::default(), |b, d| {
            b.make_objects(d, &HashMap::new())
        });
        assert!(matches!(
            e.changes[..],
            [Change {
                step: Step::AddConstraint { .. },
                class: Class::Metadata,
                ..
            }]
        ));
    }

    #[test]
    fn a_new_unique_rule_counts_duplicates_under_the_old_name() {
        let mut new = base();
        new["fields"][1]["name"] = json!("amount");
        new["fields"][1]["unique"] = json!(true);
        let repeated = vec![(Probe::Duplicates(vec![(ident("qty"), None)]), 4)];
        let e = phase(base(), new, 10, repeated, Options::default(), |b, d| {
            b.make_objects(d, &HashMap::new())
        });
        assert_eq!(e.refusals.len(), 1);
        assert_eq!(e.refusals[0].kind, ErrorKind::UniqueViolation);
        assert_eq!(
            e.refusals[0].message,
            "4 rows repeat a value of (amount) made unique"
        );
        // A unique constraint is checked as it is added: one scan.
        assert_eq!(e.changes.len(), 1);
        assert_eq!(e.changes[0].class, Class::Scan);
    }

    #[test]
    fn a_renamed_enum_value_still_passes_the_new_list() {
        let old = json!({"tenant": "acme", "name": "item", "fields": [
            {"id": "01900000-0000-7000-8000-000000000002", "name": "status", "type": "enum", "values": ["open", "closed"]}]});
        let mut new = old.clone();
        new["fields"][0]["values"] = json!(["opened", "closed"]);
        let list = |v: &[&str]| Check::OneOf(v.iter().map(|s| s.to_string()).collect());
        // Rows holding "open" would fail the list without the rename.
        let given = vec![
            (
                Probe::FailsCheck(ident("status"), None, list(&["opened", "closed"])),
                6,
            ),
            (
                Probe::FailsCheck(ident("status"), None, list(&["opened", "closed", "open"])),
                0,
            ),
        ];
        let from = HashMap::from([(ident("status"), vec!["open".to_string()])]);
        let e = phase(
            old.clone(),
            new.clone(),
            10,
            given.clone(),
            Options::default(),
            |b, d| b.make_objects(d, &from),
        );
        assert!(e.refusals.is_empty(), "{:?}", e.refusals);
        let e = phase(old, new, 10, given, Options::default(), |b, d| {
            b.make_objects(d, &HashMap::new())
        });
        assert_eq!(e.refusals.len(), 1);
    }

    #[test]
    fn new_indexes_on_rows_are_built_or_left_pending() {
        let mut new = base();
        new["fields"][1]["index"] = json!(true);
        let e = phase(base(), new.clone(), 10, vec![], Options::default(), |b, d| {
            b.make_objects(d, &HashMap::new())
        });
        assert_eq!(e.changes.len(), 1);
        assert_eq!(e.changes[0].class, Class::Scan);
        let deferred = Options {
            defer_indexes: true,
            ..Options::default()
        };
        let e = phase(base(), new.clone(), 10, vec![], deferred.clone(), |b, d| {
            b.make_objects(d, &HashMap::new())
        });
        assert!(e.changes.is_empty());
        assert!(matches!(e.pending[..], [Step::CreateIndex { .. }]));
        // An empty table builds it at once.
        let e = phase(base(), new, 0, vec![], deferred, |b, d| {
            b.make_objects(d, &HashMap::new())
        });
        assert_eq!(e.changes.len(), 1);
        assert_eq!(e.changes[0].class, Class::Metadata);
    }

    fn priority(ty: serde_json::Value) -> serde_json::Value {
        let mut def = base();
        def["fields"][1] = ty;
        def["fields"][1]["id"] = json!("01900000-0000-7000-8000-000000000003");
        def["fields"][1]["name"] = json!("qty");
        def
    }

    fn levels() -> Check {
        Check::OneOf(vec!["low".into(), "high".into()])
    }

    #[test]
    fn a_retyped_field_is_counted_as_converted_at_its_rule() {
        let old = priority(json!({"type": "integer"}));
        let new = priority(json!({"type": "enum", "values": ["low", "high"]}));
        let cast = Cast {
            sql_type: "text".into(),
            fallible: false,
        };
        let failing = vec![(Probe::FailsCheck(ident("qty"), Some(cast.clone()), levels()), 7)];
        let e = phase(
            old.clone(),
            new.clone(),
            10,
            failing,
            Options::default(),
            |b, d| b.make_objects(d, &HashMap::new()),
        );
        assert_eq!(e.refusals.len(), 1, "{:?}", e.refusals);
        let r = &e.refusals[0];
        assert_eq!(
            (r.kind, r.pointer.as_str()),
            (ErrorKind::CheckViolation, "/fields/1/values")
        );
        assert_eq!(
            r.message,
            "7 rows break the new rule on \"qty\" (item_qty_values): it must be one of \"low\", \"high\""
        );
        assert!(r.hint.contains("rename_values"), "{r:?}");
        // Renamed values ("1" from the integer 1) pass.
        let renamed = Check::OneOf(vec!["low".into(), "high".into(), "1".into()]);
        let given = vec![(Probe::FailsCheck(ident("qty"), Some(cast), renamed), 0)];
        let from = HashMap::from([(ident("qty"), vec!["1".to_string()])]);
        let e = phase(old, new, 10, given, Options::default(), |b, d| {
            b.make_objects(d, &from)
        });
        assert!(e.refusals.is_empty(), "{:?}", e.refusals);
    }

    #[test]
    fn a_conversion_that_may_fail_counts_only_the_values_that_convert() {
        let old = priority(json!({"type": "text"}));
        let new = priority(json!({"type": "integer", "max": 5}));
        let cast = Cast {
            sql_type: "integer".into(),
            fallible: true,
        };
        let max = Check::Max(crate::literal::Literal::Int(5), Scalar::Integer);
        let given = vec![(
            Probe::FailsCheck(ident("qty"), Some(cast.clone()), max.clone()),
            2,
        )];
        let e = phase(old, new, 10, given, Options::default(), |b, d| {
            b.make_objects(d, &HashMap::new())
        });
        assert_eq!(e.refusals[0].pointer, "/fields/1/max");
        let sql = crate::ddl::render_probe(&Count {
            schema: ident("tenant_acme"),
            table: ident("item"),
            probe: Probe::FailsCheck(ident("qty"), Some(cast), max),
        });
        assert!(sql.starts_with(r#"SELECT count(*)::bigint FROM "tenant_acme"."item" WHERE NOT ((CASE WHEN CASE WHEN "qty"::text ~ "#), "{sql}");
        assert!(
            sql.ends_with(
                r#"ELSE cot.castable("qty", 'integer') END THEN "qty"::integer END) <= '5'::integer)"#
            ),
            "{sql}"
        );
    }

    #[test]
    fn a_new_unique_field_with_one_default_for_every_row_repeats_it() {
        let new = super::super::tests::with(
            json!({"name": "code", "type": "text", "unique": true, "default": "x"}),
        );
        let e = phase(base(), new, 10, vec![], Options::default(), |b, d| {
            b.make_objects(d, &HashMap::new())
        });
        assert_eq!(e.refusals.len(), 1);
        assert_eq!(
            e.refusals[0].message,
            "10 rows repeat a value of (code) made unique"
        );
        // One row repeats nothing; a uuid default is new on every row.
        let new = super::super::tests::with(
            json!({"name": "code", "type": "text", "unique": true, "default": "x"}),
        );
        let e = phase(base(), new, 1, vec![], Options::default(), |b, d| {
            b.make_objects(d, &HashMap::new())
        });
        assert!(e.refusals.is_empty());
        let new = super::super::tests::with(
            json!({"name": "code", "type": "uuid", "unique": true, "default": "uuid"}),
        );
        let e = phase(base(), new, 10, vec![], Options::default(), |b, d| {
            b.make_objects(d, &HashMap::new())
        });
        assert!(e.refusals.is_empty());
    }
}
