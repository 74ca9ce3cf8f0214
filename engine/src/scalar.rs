//! The scalar types Cot knows and their Postgres mapping: the leaf of the data
//! model (it depends on nothing else in the crate), shared by field types,
//! literals and the query compiler.

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
