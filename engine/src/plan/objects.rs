//! The pieces steps are made of: tables, columns, defaults, constraints,
//! checks, comments, computed-relationship functions.

use crate::literal::{DefaultValue, Literal};
use crate::names::Ident;
use crate::scalar::Scalar;
use crate::types::OnDelete;

/// A change to one column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnAction {
    /// `RENAME COLUMN ... TO`.
    Rename(Ident),
    /// `ALTER COLUMN ... TYPE t USING ...`.
    Type {
        /// The new Postgres type (from [`FieldType::sql_type`]).
        sql_type: String,
        /// Values that do not convert become NULL instead of failing the change
        /// (only when the caller allowed data loss).
        null_failures: bool,
    },
    /// `SET NOT NULL`.
    SetNotNull,
    /// `DROP NOT NULL`.
    DropNotNull,
    /// `SET DEFAULT`.
    SetDefault(ColumnDefault),
    /// `DROP DEFAULT`.
    DropDefault,
}

impl ColumnAction {
    /// The ledger's name for it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ColumnAction::Rename(_) => "rename_column",
            ColumnAction::Type { .. } => "alter_column_type",
            ColumnAction::SetNotNull => "set_not_null",
            ColumnAction::DropNotNull => "drop_not_null",
            ColumnAction::SetDefault(_) => "set_default",
            ColumnAction::DropDefault => "drop_default",
        }
    }
}

/// What a relation's computed-relationship function joins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationFunction {
    /// The API schema.
    pub schema: Ident,
    /// The relation field's name: the function's name.
    pub name: Ident,
    /// The entity holding the relation (the argument's row type).
    pub source: Ident,
    /// The target entity (the result's row type).
    pub target: Ident,
    /// The foreign-key column, `<name>_id`.
    pub column: Ident,
}

/// A table or a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelKind {
    /// Table.
    Table,
    /// View.
    View,
}

/// What a COMMENT is on.
#[derive(Debug, Clone, PartialEq)]
pub enum CommentTarget {
    /// A schema.
    Schema(Ident),
    /// A table or view.
    Relation(RelKind, Ident, Ident),
    /// A column of a table or view.
    Column(RelKind, Ident, Ident, Ident),
}

/// A table to create.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Schema.
    pub schema: Ident,
    /// Name.
    pub name: Ident,
    /// Columns in order, system columns included.
    pub columns: Vec<Column>,
    /// Table constraints: primary key, checks, unique.
    pub constraints: Vec<Constraint>,
}

/// A column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Name.
    pub name: Ident,
    /// Postgres type text, built by [`FieldType::sql_type`] from a closed set.
    pub sql_type: String,
    /// NOT NULL.
    pub not_null: bool,
    /// DEFAULT.
    pub default: Option<ColumnDefault>,
}

/// A column default, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnDefault {
    /// A user default of the column's scalar type.
    User(DefaultValue, Scalar, bool),
    /// `cot.uuid_generate_v7()` for `id`.
    NewId,
    /// `now()` for the timestamps.
    Now,
}

/// A named table constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    /// Name (unique in the table; index-backed ones unique in the schema).
    pub name: Ident,
    /// What it checks.
    pub kind: ConstraintKind,
}

/// The kinds of constraint Cot generates.
#[derive(Debug, Clone, PartialEq)]
pub enum ConstraintKind {
    /// PRIMARY KEY over columns.
    PrimaryKey(Vec<Ident>),
    /// UNIQUE over columns.
    Unique(Vec<Ident>),
    /// CHECK on a column, held by the field with this id: a failing row is
    /// reported by `cot.rule_broken` with the field's current name and the
    /// rule in words (the id, unlike a name, survives renames).
    Check(Ident, Check, uuid::Uuid),
    /// FOREIGN KEY (column) REFERENCES schema.table (id) ON DELETE action.
    ForeignKey {
        /// The referencing column.
        column: Ident,
        /// Schema of the referenced table.
        schema: Ident,
        /// The referenced table.
        table: Ident,
        /// ON DELETE.
        on_delete: OnDelete,
    },
}

/// A CHECK on one column, typed so the renderer never sees user text.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// `char_length(c) >= n`.
    MinLength(u64),
    /// `char_length(c) <= n`.
    MaxLength(u64),
    /// `c ~ pattern`.
    Pattern(String),
    /// `c >= literal`.
    Min(Literal, Scalar),
    /// `c <= literal`.
    Max(Literal, Scalar),
    /// `c = ANY(values)`.
    OneOf(Vec<String>),
    /// One dimension and no NULL items.
    ArrayShape,
    /// Every item in values.
    ArrayOneOf(Vec<String>),
    /// Every item matches the pattern (via `cot.array_items_match`).
    ArrayPattern(String),
}
