//! The QueryBuilder behind `cot.query(tenant, entity, query)`: a JSON query
//! is read against the entity's definition ([`parse`]) into a [`Query`], and
//! compiled into one SQL statement over the tenant's API views with every value
//! a parameter ([`compile`], the one place that writes query text). Field names
//! come only from definitions: a name the entity does not have is refused with
//! the names it does have.

mod bounds;
#[cfg(test)]
mod bounds_tests;
mod compile;
mod cursor;
#[cfg(test)]
mod fuzz;
mod parse;
#[cfg(test)]
mod tests;

pub use bounds::{
    DEFAULT_EMBED_LIMIT, MAX_EMBEDS, MAX_EMBEDS_PER_SELECT, MAX_PARAMS, MAX_ROWS, MAX_STATEMENT_BYTES,
};
pub use compile::{compile, inline_condition, Compiled, Param};
pub use cursor::{decode_cursor, encode_cursor};
pub use parse::{parse, parse_filter};

use crate::names::Ident;
use crate::scalar::Scalar;
use crate::types::{Entity, FieldType};

/// Rows a page holds when the query does not say.
pub const DEFAULT_LIMIT: u64 = 100;
/// Most rows a page may hold.
pub const MAX_LIMIT: u64 = 1000;
/// How deep related records may nest (`customer` → its `country` → ...).
pub const MAX_DEPTH: usize = 3;

/// The entities of a tenant, as the query sees them.
pub struct Model<'a> {
    /// The tenant.
    pub tenant: &'a Ident,
    /// Every entity of the tenant (embedding may reach any of them).
    pub entities: &'a [Entity],
}

impl Model<'_> {
    /// The entity named `name`.
    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities.iter().find(|e| e.name.as_str() == name)
    }
}

/// A column of an entity's view, with its type.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Name.
    pub name: Ident,
    /// Type (system columns get theirs: `id` uuid, timestamps, `owner_id` text).
    pub ty: FieldType,
    /// NOT NULL (required fields, `id` and the timestamps).
    pub not_null: bool,
}

/// The columns of an entity's view, in view order.
pub fn columns(e: &Entity) -> Vec<Column> {
    let sys = |name: &'static str, s: Scalar, not_null: bool| Column {
        name: crate::names::fixed(name),
        ty: FieldType::Scalar(s),
        not_null,
    };
    let mut out = vec![sys("id", Scalar::Uuid, true)];
    out.extend(e.fields.iter().map(|f| Column {
        name: f.name.clone(),
        ty: f.ty.clone(),
        not_null: f.required,
    }));
    out.push(sys("created_at", Scalar::Timestamp, true));
    out.push(sys("updated_at", Scalar::Timestamp, true));
    if e.access.needs_owner() {
        out.push(sys(crate::names::OWNER_COLUMN, Scalar::Text, false));
    }
    out
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// What each record holds.
    pub select: Vec<Selection>,
    /// Which records.
    pub filter: Option<Filter>,
    /// In which order (the id is always added last, so the order is total).
    pub order: Vec<Order>,
    /// The id, last key of the order, runs descending.
    pub id_desc: bool,
    /// Page size.
    pub limit: u64,
    /// Rows skipped (offset pagination).
    pub offset: u64,
    /// Where the previous page ended (keyset pagination): the values of the
    /// order columns and the id of its last row.
    pub after: Option<Vec<serde_json::Value>>,
    /// Count every matching record.
    pub count: bool,
}

/// One item of `select`.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// A column.
    Column(Column),
    /// Related records, by relation field name (boxed: an embed carries its
    /// own filter and order).
    Embed(Box<Embed>),
}

/// Related records of one relation.
#[derive(Debug, Clone, PartialEq)]
pub struct Embed {
    /// The relation field's name (the key in the result).
    pub name: Ident,
    /// How they are joined.
    pub join: Join,
    /// The related entity.
    pub target: Ident,
    /// What each related record holds.
    pub select: Vec<Selection>,
    /// Which related records (`where` inside the embed).
    pub filter: Option<Filter>,
    /// Their order (arrays only; the id is always added last). Empty: by id.
    pub order: Vec<Order>,
    /// The id, last key of the order, runs descending.
    pub id_desc: bool,
    /// At most this many: arrays always have one (the query's, else
    /// [`DEFAULT_EMBED_LIMIT`]); `None` for a single record.
    pub limit: Option<u64>,
    /// Where the embed is in the query document (a JSON pointer), for errors
    /// about it.
    pub at: String,
}

/// How related records are found from a record `v`.
#[derive(Debug, Clone, PartialEq)]
pub enum Join {
    /// `target.id = v.<column>`: one record or null (many-to-one, one-to-one).
    One {
        /// The foreign-key column of `v`.
        column: Ident,
    },
    /// `target.<column> = v.id`: an array (one-to-many).
    Many {
        /// The target's foreign-key column pointing back.
        column: Ident,
    },
    /// Through a junction view: an array (many-to-many).
    Junction {
        /// The junction view.
        table: Ident,
        /// Its column pointing at `v`.
        source: Ident,
        /// Its column pointing at the target.
        target: Ident,
    },
}

/// A condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// All of them.
    And(Vec<Filter>),
    /// Any of them.
    Or(Vec<Filter>),
    /// Not this one.
    Not(Box<Filter>),
    /// A column compared with a value.
    Compare {
        /// The column.
        column: Column,
        /// How.
        op: Op,
        /// The value, as given.
        value: serde_json::Value,
        /// Where the value is in the query document (a JSON pointer), for
        /// errors about it.
        at: String,
    },
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`.
    Eq,
    /// `<>`.
    Neq,
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
    /// `= ANY (values)`.
    In,
    /// `LIKE`.
    Like,
    /// `ILIKE`.
    Ilike,
    /// `IS NULL` (true) / `IS NOT NULL` (false).
    IsNull,
    /// `@>`: the array holds every value given.
    Contains,
    /// `&&`: the array holds some value given.
    Overlaps,
    /// Full-text match (`websearch_to_tsquery` syntax) on a text field.
    Match,
}

impl Op {
    /// The operator's name in queries.
    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Neq => "neq",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::In => "in",
            Op::Like => "like",
            Op::Ilike => "ilike",
            Op::IsNull => "is_null",
            Op::Contains => "contains",
            Op::Overlaps => "overlaps",
            Op::Match => "match",
        }
    }

    /// Every operator.
    pub const ALL: [Op; 13] = [
        Op::Eq,
        Op::Neq,
        Op::Lt,
        Op::Lte,
        Op::Gt,
        Op::Gte,
        Op::In,
        Op::Like,
        Op::Ilike,
        Op::IsNull,
        Op::Contains,
        Op::Overlaps,
        Op::Match,
    ];
}

/// One order column.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// The column.
    pub column: Column,
    /// Descending.
    pub desc: bool,
    /// An enum sorted by its declared values (`"by": "values"`), not
    /// alphabetically: the values, in order.
    pub by_values: Option<Vec<String>>,
}

/// The JSON text with every number that a double cannot hold exactly (more
/// than 15 significant digits) turned into a string, before it is parsed:
/// serde_json reads numbers as f64, and a filter on a decimal(30,10) value
/// must compare every digit. Values are bound as text either way, so a
/// number and its string mean the same to a filter.
pub fn exact_numbers(json: &str) -> String {
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len() + 16);
    let (mut i, mut start) = (0, 0);
    let mut in_string = false;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if c == b'-' || c.is_ascii_digit() {
            let begin = i;
            while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                i += 1;
            }
            let token = &json[begin..i];
            let mantissa = token.split(['e', 'E']).next().unwrap_or_default();
            let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
            let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
            if significant > 15 {
                out.push_str(&json[start..begin]);
                out.push('"');
                out.push_str(token);
                out.push('"');
                start = i;
            }
            continue;
        }
        i += 1;
    }
    out.push_str(&json[start..]);
    out
}
