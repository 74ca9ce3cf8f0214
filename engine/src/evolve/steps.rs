//! Small pieces several phases share: a column's ALTER, a default on its
//! type, and the names messages use for types and fields.

use super::*;

/// A type as messages name it: `integer`, `array of text`.
pub(super) fn type_text(ty: &FieldType) -> String {
    match ty {
        FieldType::Scalar(s) => s.name().to_string(),
        FieldType::Array(s) => format!("array of {}", s.name()),
    }
}

/// The column default for `d` on `f`'s type, as the field states it.
pub(super) fn user_default(f: &Field, d: &crate::literal::DefaultValue) -> ColumnDefault {
    ColumnDefault::User(
        d.clone(),
        f.ty.scalar().clone(),
        matches!(f.ty, FieldType::Array(_)),
    )
}

/// ALTER COLUMN `column` of `schema.table`.
pub(super) fn alter(schema: &Ident, table: &Ident, column: &Ident, action: ColumnAction) -> Step {
    Step::AlterColumn {
        schema: schema.clone(),
        table: table.clone(),
        column: column.clone(),
        action,
    }
}

/// The name a user gave a field: a relation's, not its `<name>_id` column's.
pub(super) fn field_name(e: &Entity, f: &Field) -> String {
    e.relations
        .iter()
        .find(|r| r.id == f.id)
        .map_or_else(|| f.name.to_string(), |r| r.name.to_string())
}
