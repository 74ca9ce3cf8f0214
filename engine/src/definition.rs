//! The entity definition as it arrives: JSON read into these types after the
//! schema check. Unknown keys are refused here too (`deny_unknown_fields`), so
//! nothing a user writes is ever silently ignored.

use serde::Deserialize;
use serde_json::Value;

/// A definition as written by the user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityDef {
    /// Tenant slug.
    pub tenant: String,
    /// Entity name.
    pub name: String,
    /// Stable id, when the caller fixes it.
    #[serde(default)]
    pub id: Option<String>,
    /// Returned by Cot; ignored on input so a returned definition can be sent back.
    #[serde(default)]
    pub version: Option<i64>,
    /// Display name.
    #[serde(default)]
    pub label: Option<String>,
    /// COMMENT ON.
    #[serde(default)]
    pub description: Option<String>,
    /// Returned by `cot.entity()`; ignored on input.
    #[serde(default)]
    pub referenced_by: Option<serde_json::Value>,
    /// Fields in column order.
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    /// Compound indexes and unique constraints.
    #[serde(default)]
    pub indexes: Vec<IndexDef>,
    /// Who may do what; every rule defaults to `admin`.
    #[serde(default)]
    pub access: crate::access::Access,
    /// Record history: changes go to the tenant's change log.
    #[serde(default)]
    pub history: bool,
}

/// A field as written by the user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Column name.
    pub name: String,
    /// Stable id, when the caller fixes it.
    #[serde(default)]
    pub id: Option<String>,
    /// Type name.
    #[serde(rename = "type")]
    pub field_type: String,
    /// Array item type.
    #[serde(default)]
    pub items: Option<String>,
    /// Display name.
    #[serde(default)]
    pub label: Option<String>,
    /// COMMENT ON COLUMN.
    #[serde(default)]
    pub description: Option<String>,
    /// NOT NULL.
    #[serde(default)]
    pub required: bool,
    /// UNIQUE.
    #[serde(default)]
    pub unique: bool,
    /// Single-column index.
    #[serde(default)]
    pub index: bool,
    /// Default value or keyword; `null` means none.
    #[serde(default)]
    pub default: Option<Value>,
    /// Lower bound.
    #[serde(default)]
    pub min: Option<Value>,
    /// Upper bound.
    #[serde(default)]
    pub max: Option<Value>,
    /// Shortest text.
    #[serde(default)]
    pub min_length: Option<u64>,
    /// Longest text.
    #[serde(default)]
    pub max_length: Option<u64>,
    /// Regular expression.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Decimal precision.
    #[serde(default)]
    pub precision: Option<u32>,
    /// Decimal scale.
    #[serde(default)]
    pub scale: Option<u32>,
    /// Enum values.
    #[serde(default)]
    pub values: Option<Vec<String>>,
    /// Relation kind.
    #[serde(default)]
    pub kind: Option<String>,
    /// Relation target entity.
    #[serde(default)]
    pub target: Option<String>,
    /// Relation referential action.
    #[serde(default)]
    pub on_delete: Option<String>,
    /// One-to-many: the target's many-to-one field pointing back.
    #[serde(default)]
    pub inverse: Option<String>,
    /// Read only: returned by Cot for many-to-one and one-to-one relations.
    #[serde(default)]
    pub column: Option<String>,
    /// Read only: returned by Cot for many-to-many relations.
    #[serde(default)]
    pub junction: Option<String>,
    /// State fields: the states, in order.
    #[serde(default)]
    pub states: Option<Vec<String>>,
    /// State fields: the state a new record takes when none is given.
    #[serde(default)]
    pub initial: Option<String>,
    /// State fields: the states an insert may start in (the initial one by default).
    #[serde(default)]
    pub starts: Option<Vec<String>>,
    /// State fields: the transitions between states.
    #[serde(default)]
    pub transitions: Option<Vec<TransitionDef>>,
}

/// One transition of a state field, as written by the user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionDef {
    /// Its name (`pay`), unique within the field.
    pub name: String,
    /// Display name.
    #[serde(default)]
    pub label: Option<String>,
    /// What it means.
    #[serde(default)]
    pub description: Option<String>,
    /// The states it leaves from: one, or a list.
    pub from: OneOrMany,
    /// The state it leads to.
    pub to: String,
    /// Who may take it: access-rule words (public, tenant, owner, admin) or role names.
    #[serde(default)]
    pub who: Option<OneOrMany>,
    /// A condition on the record as it would be after the transition, in the
    /// `where` vocabulary of `cot.query`.
    #[serde(default)]
    pub guard: Option<Value>,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The strings, as a list.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// A compound index as written by the user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexDef {
    /// Field names in index order.
    pub fields: Vec<String>,
    /// UNIQUE constraint instead of an index.
    #[serde(default)]
    pub unique: bool,
}
