//! Field types: the scalar types Cot knows, their Postgres mapping and which
//! options apply to each.

use crate::names::Ident;
use crate::scalar::Scalar;

/// A field's type: a scalar or a one-dimensional array of scalars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// One value.
    Scalar(Scalar),
    /// `T[]`, held to one dimension and no NULL items.
    Array(Scalar),
}

impl FieldType {
    /// The Postgres column type.
    pub fn sql_type(&self) -> String {
        match self {
            FieldType::Scalar(s) => s.sql_type(),
            FieldType::Array(s) => format!("{}[]", s.sql_type()),
        }
    }

    /// The scalar, or the array's item type.
    pub fn scalar(&self) -> &Scalar {
        match self {
            FieldType::Scalar(s) | FieldType::Array(s) => s,
        }
    }

    /// The name used in definitions (`array` for arrays).
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::Scalar(s) => s.name(),
            FieldType::Array(_) => "array",
        }
    }

    /// Whether a plain btree index would be wrong for this type: arrays and json
    /// are searched by containment, which needs GIN.
    pub fn wants_gin(&self) -> bool {
        matches!(self, FieldType::Array(_) | FieldType::Scalar(Scalar::Json))
    }
}

/// A validated field, ready to plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Stable id.
    pub id: uuid::Uuid,
    /// Column name.
    pub name: Ident,
    /// Type.
    pub ty: FieldType,
    /// NOT NULL.
    pub required: bool,
    /// UNIQUE.
    pub unique: bool,
    /// A single-column index (btree, or GIN for arrays and json).
    pub index: bool,
    /// DEFAULT.
    pub default: Option<crate::literal::DefaultValue>,
    /// CHECK lower bound.
    pub min: Option<crate::literal::Literal>,
    /// CHECK upper bound.
    pub max: Option<crate::literal::Literal>,
    /// CHECK on `char_length`.
    pub min_length: Option<u64>,
    /// CHECK on `char_length`.
    pub max_length: Option<u64>,
    /// CHECK with `~` (a Postgres regular expression).
    pub pattern: Option<String>,
    /// COMMENT ON COLUMN.
    pub description: Option<String>,
    /// The registered custom type the field was made with, if any: its
    /// options above already hold the type's checks.
    pub custom: Option<crate::field_types::CustomType>,
}

/// A validated multi-column index or unique constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Columns, in order (user fields or system columns).
    pub columns: Vec<Ident>,
    /// A UNIQUE constraint rather than a plain index.
    pub unique: bool,
}

/// The kinds of relation a field can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    /// A column `<name>_id` referencing the target's id, with an index.
    ManyToOne,
    /// As many-to-one, and unique: at most one row points at each target row.
    OneToOne,
    /// The inverse of the target's many-to-one back to this entity: no DDL.
    OneToMany,
    /// A junction table with a row per linked pair.
    ManyToMany,
}

impl RelationKind {
    /// The name used in definitions.
    pub fn name(self) -> &'static str {
        match self {
            RelationKind::ManyToOne => "many_to_one",
            RelationKind::OneToOne => "one_to_one",
            RelationKind::OneToMany => "one_to_many",
            RelationKind::ManyToMany => "many_to_many",
        }
    }

    /// Does this kind add a foreign-key column to the entity's own table?
    pub fn has_column(self) -> bool {
        matches!(self, RelationKind::ManyToOne | RelationKind::OneToOne)
    }
}

/// What happens to referencing rows when the referenced row is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    /// The delete fails while rows point at it (the default: nothing is lost silently).
    Restrict,
    /// The referencing rows are deleted too.
    Cascade,
    /// The referencing column is set to NULL (not for required relations).
    SetNull,
}

impl OnDelete {
    /// The name used in definitions.
    pub fn name(self) -> &'static str {
        match self {
            OnDelete::Restrict => "restrict",
            OnDelete::Cascade => "cascade",
            OnDelete::SetNull => "set_null",
        }
    }

    /// The SQL action.
    pub fn sql(self) -> &'static str {
        match self {
            OnDelete::Restrict => "RESTRICT",
            OnDelete::Cascade => "CASCADE",
            OnDelete::SetNull => "SET NULL",
        }
    }
}

/// A many-to-many relation's junction table (in the storage schema, with a view
/// of the same name in the API schema).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Junction {
    /// `<entity>_<field>`.
    pub table: Ident,
    /// The column referencing this entity: `<entity>_id`.
    pub source_column: Ident,
    /// The column referencing the target: `<target>_id` (`<field>_id` for a
    /// relation of an entity to itself).
    pub target_column: Ident,
}

/// A validated relation field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// Stable id (the field's).
    pub id: uuid::Uuid,
    /// Index of the field in the definition, for error pointers.
    pub at: usize,
    /// The field name, e.g. `customer`.
    pub name: Ident,
    /// Which kind.
    pub kind: RelationKind,
    /// The target entity, in the same tenant.
    pub target: Ident,
    /// For many-to-one and one-to-one.
    pub on_delete: OnDelete,
    /// NOT NULL on the column (many-to-one and one-to-one).
    pub required: bool,
    /// `<name>_id` for many-to-one and one-to-one.
    pub column: Option<Ident>,
    /// For one-to-many: the target's many-to-one field that points back here.
    pub inverse: Option<Ident>,
    /// For many-to-many.
    pub junction: Option<Junction>,
    /// COMMENT ON COLUMN / junction.
    pub description: Option<String>,
}

/// A validated entity: what the planner turns into DDL.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// Stable id.
    pub id: uuid::Uuid,
    /// Tenant slug.
    pub tenant: Ident,
    /// Table and view name.
    pub name: Ident,
    /// COMMENT ON TABLE / VIEW.
    pub description: Option<String>,
    /// User fields, in order.
    pub fields: Vec<Field>,
    /// Compound indexes and unique constraints.
    pub indexes: Vec<Index>,
    /// Relation fields, in definition order. Many-to-one and one-to-one ones
    /// also appear in `fields` as their `<name>_id` column.
    pub relations: Vec<Relation>,
    /// Who may read, create, update and delete rows.
    pub access: crate::access::Access,
    /// Whether changes are written to the tenant's change log
    /// ([`crate::plan::history`]).
    pub history: bool,
    /// The workflow of its state field, if it has one ([`crate::workflow`]).
    pub workflow: Option<crate::workflow::Workflow>,
}
