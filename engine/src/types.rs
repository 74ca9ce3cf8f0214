//! Field types: the scalar types Cot knows, their Postgres mapping and which
//! options apply to each.

use crate::names::Ident;

/// A scalar field type, also the element type of an array field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scalar {
    /// `text`.
    Text,
    /// `integer` (32 bit).
    Integer,
    /// `bigint` (64 bit).
    BigInt,
    /// `numeric(precision, scale)`, or unconstrained `numeric`.
    Decimal {
        /// Total significant digits.
        precision: Option<u32>,
        /// Digits after the point.
        scale: Option<u32>,
    },
    /// `double precision`.
    Float,
    /// `boolean`.
    Boolean,
    /// `date`.
    Date,
    /// `timestamptz`: an instant, shown in the session's time zone.
    Timestamp,
    /// `time` (time of day, no zone).
    Time,
    /// `uuid`.
    Uuid,
    /// `jsonb`.
    Json,
    /// `text` held to a list of values by a CHECK constraint (a Postgres enum
    /// type could never lose a value; a CHECK can be changed).
    Enum(Vec<String>),
    /// `text` held to an e-mail address shape.
    Email,
    /// `text` held to an http(s) URL shape.
    Url,
}

/// The type names a definition may use for a scalar field (and as array `items`).
pub const SCALAR_TYPE_NAMES: [&str; 14] = [
    "text",
    "integer",
    "bigint",
    "decimal",
    "float",
    "boolean",
    "date",
    "timestamp",
    "time",
    "uuid",
    "json",
    "enum",
    "email",
    "url",
];

/// Scalars that may be array items: every scalar but json (a json value already
/// holds arrays).
pub const ARRAY_ITEM_TYPE_NAMES: [&str; 13] = [
    "text",
    "integer",
    "bigint",
    "decimal",
    "float",
    "boolean",
    "date",
    "timestamp",
    "time",
    "uuid",
    "enum",
    "email",
    "url",
];

/// The shape an e-mail address must have: something, `@`, a domain with a dot;
/// no spaces. Deliberately loose: mail servers, not regexes, decide deliverability.
pub const EMAIL_PATTERN: &str = r"^[^@\s]+@[^@\s]+\.[^@\s]+$";
/// The shape of a URL: http or https, a host, then anything without spaces.
pub const URL_PATTERN: &str = r"^https?://[^\s/?#]+[^\s]*$";
/// Longest e-mail address (RFC 5321 path limit).
pub const EMAIL_MAX_LENGTH: u64 = 254;

impl Scalar {
    /// The name used in definitions.
    pub fn name(&self) -> &'static str {
        match self {
            Scalar::Text => "text",
            Scalar::Integer => "integer",
            Scalar::BigInt => "bigint",
            Scalar::Decimal { .. } => "decimal",
            Scalar::Float => "float",
            Scalar::Boolean => "boolean",
            Scalar::Date => "date",
            Scalar::Timestamp => "timestamp",
            Scalar::Time => "time",
            Scalar::Uuid => "uuid",
            Scalar::Json => "json",
            Scalar::Enum(_) => "enum",
            Scalar::Email => "email",
            Scalar::Url => "url",
        }
    }

    /// The Postgres type, as written in DDL.
    pub fn sql_type(&self) -> String {
        match self {
            Scalar::Text | Scalar::Enum(_) | Scalar::Email | Scalar::Url => "text".into(),
            Scalar::Integer => "integer".into(),
            Scalar::BigInt => "bigint".into(),
            Scalar::Decimal {
                precision: Some(p),
                scale: Some(s),
            } => format!("numeric({p},{s})"),
            Scalar::Decimal {
                precision: Some(p),
                scale: None,
            } => format!("numeric({p})"),
            Scalar::Decimal { .. } => "numeric".into(),
            Scalar::Float => "double precision".into(),
            Scalar::Boolean => "boolean".into(),
            Scalar::Date => "date".into(),
            Scalar::Timestamp => "timestamptz".into(),
            Scalar::Time => "time".into(),
            Scalar::Uuid => "uuid".into(),
            Scalar::Json => "jsonb".into(),
        }
    }

    /// The base type a literal is cast to (no typmod: the column applies it).
    pub fn cast_type(&self) -> &'static str {
        match self {
            Scalar::Text | Scalar::Enum(_) | Scalar::Email | Scalar::Url => "text",
            Scalar::Integer => "integer",
            Scalar::BigInt => "bigint",
            Scalar::Decimal { .. } => "numeric",
            Scalar::Float => "double precision",
            Scalar::Boolean => "boolean",
            Scalar::Date => "date",
            Scalar::Timestamp => "timestamptz",
            Scalar::Time => "time",
            Scalar::Uuid => "uuid",
            Scalar::Json => "jsonb",
        }
    }

    /// Text-like types, for which lengths apply.
    pub fn is_textual(&self) -> bool {
        matches!(self, Scalar::Text | Scalar::Email | Scalar::Url)
    }

    /// Ordered types, for which min and max apply.
    pub fn is_ordered(&self) -> bool {
        matches!(
            self,
            Scalar::Integer
                | Scalar::BigInt
                | Scalar::Decimal { .. }
                | Scalar::Float
                | Scalar::Date
                | Scalar::Timestamp
                | Scalar::Time
        )
    }

    /// The regex a value of this type must match, if the type is a text shape.
    pub fn format_pattern(&self) -> Option<&'static str> {
        match self {
            Scalar::Email => Some(EMAIL_PATTERN),
            Scalar::Url => Some(URL_PATTERN),
            _ => None,
        }
    }
}

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
}
