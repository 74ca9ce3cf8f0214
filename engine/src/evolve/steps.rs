//! The steps of a change that take more than one statement: constraints
//! counted and validated, access rules torn down and set up, junctions renamed.

use super::*;

pub(super) fn added_names(added: &[&Field]) -> Vec<Ident> {
    added.iter().map(|f| f.name.clone()).collect()
}

pub(super) fn enum_values(ty: &FieldType) -> Option<&Vec<String>> {
    match ty.scalar() {
        Scalar::Enum(values) => Some(values),
        _ => None,
    }
}

pub(super) fn type_text(ty: &FieldType) -> String {
    match ty {
        FieldType::Scalar(s) => s.name().to_string(),
        FieldType::Array(s) => format!("array of {}", s.name()),
    }
}

pub(super) fn user_default(f: &Field, d: &crate::literal::DefaultValue) -> ColumnDefault {
    ColumnDefault::User(
        d.clone(),
        f.ty.scalar().clone(),
        matches!(f.ty, FieldType::Array(_)),
    )
}

pub(super) fn alter(schema: &Ident, table: &Ident, column: &Ident, action: ColumnAction) -> Step {
    Step::AlterColumn {
        schema: schema.clone(),
        table: table.clone(),
        column: column.clone(),
        action,
    }
}

pub(super) fn renamed_comment(step: Step, renames: &HashMap<Ident, Ident>) -> Step {
    match step {
        Step::Comment {
            target: CommentTarget::Column(k, s, t, c),
            text,
        } => Step::Comment {
            target: CommentTarget::Column(k, s, t, renames.get(&c).cloned().unwrap_or(c)),
            text,
        },
        other => other,
    }
}

/// A new or changed constraint: counted against the rows first (where the
/// column keeps its type, so the old values can be tested), added NOT VALID
/// and validated on a table with rows, or added outright on an empty one.
pub(super) fn add_constraint(
    b: &mut Builder<'_>,
    c: Constraint,
    retyped: &[Ident],
    added: &[Ident],
    renames: &HashMap<Ident, Ident>,
    renamed_from: &HashMap<Ident, Vec<String>>,
) {
    let (schema, table) = (b.t.storage_schema.clone(), b.table.clone());
    let old_name = |col: &Ident| {
        renames
            .iter()
            .find(|(_, to)| *to == col)
            .map_or_else(|| col.clone(), |(from, _)| from.clone())
    };
    let testable = |cols: &[&Ident]| cols.iter().all(|c| !retyped.contains(c) && !added.contains(c));
    match &c.kind {
        ConstraintKind::Check(col, check) if testable(&[col]) => {
            // Values renamed by this change pass the new list once renamed.
            let probe_check = match (check, renamed_from.get(col)) {
                (Check::OneOf(v), Some(from)) => Check::OneOf(v.iter().chain(from).cloned().collect()),
                (Check::ArrayOneOf(v), Some(from)) => {
                    Check::ArrayOneOf(v.iter().chain(from).cloned().collect())
                }
                _ => check.clone(),
            };
            let failing = b.count(Probe::FailsCheck(old_name(col), probe_check));
            if failing > 0 {
                b.refuse(
                    ErrorKind::CheckViolation,
                    "/fields".into(),
                    format!("{failing} rows break the new rule on \"{col}\" ({})", c.name),
                    "change those rows first, or keep the old limit",
                );
            }
        }
        ConstraintKind::Unique(cols) => {
            let refs: Vec<&Ident> = cols.iter().collect();
            if testable(&refs) {
                let old: Vec<Ident> = cols.iter().map(old_name).collect();
                let repeated = b.count(Probe::Duplicates(old));
                if repeated > 0 {
                    let names: Vec<&str> = cols.iter().map(Ident::as_str).collect();
                    b.refuse(
                        ErrorKind::UniqueViolation,
                        "/fields".into(),
                        format!(
                            "{repeated} rows repeat a value of ({}) made unique",
                            names.join(", ")
                        ),
                        "remove the duplicates first, or keep the field not unique",
                    );
                }
            }
        }
        _ => {}
    }
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

pub(super) fn teardown_access(b: &mut Builder<'_>, table: &Ident, rules: access::Access, view_gone: bool) {
    let t = b.t.clone();
    for step in crate::plan::policies::steps(&t.slug, table, rules) {
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

pub(super) fn setup_access(b: &mut Builder<'_>, table: &Ident, rules: access::Access, view_made: bool) {
    let t = b.t.clone();
    for step in crate::plan::policies::steps(&t.slug, table, rules) {
        match step {
            Step::EnableRls { .. } => {}
            Step::Grant {
                kind: RelKind::View, ..
            } if view_made => {}
            step => b.push(step, Class::Metadata),
        }
    }
}

/// A renamed many-to-many relation renames its junction table, its view and
/// the constraints and index named after it; the columns stay.
pub(super) fn rename_junction(
    b: &mut Builder<'_>,
    from: &crate::types::Junction,
    to: &crate::types::Junction,
) {
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

/// The name a user gave a field: a relation's, not its `<name>_id` column's.
pub(super) fn field_name(e: &Entity, f: &Field) -> String {
    e.relations
        .iter()
        .find(|r| r.id == f.id)
        .map_or_else(|| f.name.to_string(), |r| r.name.to_string())
}
