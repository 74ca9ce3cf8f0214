//! Who may do what: an entity's access rules as data (rules per command, the
//! commands, the predicates a policy states). The policies and grants that
//! enforce them are planned in [`crate::plan::policies`] and rendered in
//! [`crate::ddl`].

use crate::names::Ident;
use serde::Deserialize;

/// One rule: who may perform one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Everyone, the anonymous role too.
    Public,
    /// Any authenticated user of the tenant (and its admins).
    Tenant,
    /// Users, on rows whose owner is the `sub` claim; admins on every row.
    Owner,
    /// The tenant's admins.
    Admin,
    /// Nobody over the API (superusers and Cot itself still can).
    None,
}

impl Rule {
    /// The name used in definitions.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Public => "public",
            Rule::Tenant => "tenant",
            Rule::Owner => "owner",
            Rule::Admin => "admin",
            Rule::None => "none",
        }
    }
}

/// The four rules of an entity, as written in its definition (`access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// SELECT.
    #[serde(default = "admin")]
    pub read: Rule,
    /// INSERT.
    #[serde(default = "admin")]
    pub create: Rule,
    /// UPDATE.
    #[serde(default = "admin")]
    pub update: Rule,
    /// DELETE.
    #[serde(default = "admin")]
    pub delete: Rule,
}

fn admin() -> Rule {
    Rule::Admin
}

impl Default for Access {
    /// Nothing is reachable over the API until the definition says so, as in
    /// Supabase (RLS on, no policy) or Hasura (admin only): the tenant's admins
    /// may do everything, nobody else anything.
    fn default() -> Self {
        Access {
            read: Rule::Admin,
            create: Rule::Admin,
            update: Rule::Admin,
            delete: Rule::Admin,
        }
    }
}

/// The owner column, named where every other identifier is.
pub use crate::names::OWNER_COLUMN;

impl Access {
    /// The rules as JSON, for the normalized definition.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "read": self.read.name(), "create": self.create.name(),
            "update": self.update.name(), "delete": self.delete.name(),
        })
    }

    /// Does any rule need the owner column?
    pub fn needs_owner(self) -> bool {
        [self.read, self.create, self.update, self.delete].contains(&Rule::Owner)
    }

    /// Each command with its rule.
    pub fn commands(self) -> [(Command, Rule); 4] {
        [
            (Command::Select, self.read),
            (Command::Insert, self.create),
            (Command::Update, self.update),
            (Command::Delete, self.delete),
        ]
    }

    /// The rules a junction table of this entity gets: reading links follows
    /// reading the entity, adding and removing links follows updating it. A
    /// link belongs to the record it starts from, so under `owner` a user
    /// reaches only the links of records they own ([`Owner::Parent`]).
    pub fn for_junction(self) -> Access {
        Access {
            read: self.read,
            create: self.update,
            update: Rule::None,
            delete: self.update,
        }
    }
}

/// An SQL command a policy or grant is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// SELECT.
    Select,
    /// INSERT.
    Insert,
    /// UPDATE.
    Update,
    /// DELETE.
    Delete,
}

impl Command {
    /// The SQL keyword.
    pub fn sql(self) -> &'static str {
        match self {
            Command::Select => "SELECT",
            Command::Insert => "INSERT",
            Command::Update => "UPDATE",
            Command::Delete => "DELETE",
        }
    }

    /// The command in lower case, as in policy names.
    pub fn word(self) -> &'static str {
        match self {
            Command::Select => "select",
            Command::Insert => "insert",
            Command::Update => "update",
            Command::Delete => "delete",
        }
    }
}

/// Where the owner of a row is found, for `owner` rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// In the row's own owner column (an entity's table).
    Row,
    /// In the owner column of the record the row belongs to: a junction row
    /// belongs to the record of `parent` (in the same storage schema) whose
    /// `id` is the row's `column`.
    Parent {
        /// The entity table holding the owner column.
        parent: Ident,
        /// The junction's column referencing it.
        column: Ident,
    },
}

/// A policy's condition, typed so the renderer never sees user text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Predicate {
    /// `(SELECT cot.claim_tenant() = '<slug>')`.
    Tenant(Ident),
    /// The tenant check and `owner_id = (SELECT cot.claim_sub())`.
    TenantAndOwner(Ident),
    /// The tenant check and `EXISTS` a record of `parent` with the row's
    /// `column` as its id and the caller as its owner.
    TenantAndParentOwner {
        /// The tenant.
        tenant: Ident,
        /// The table the policy is on (a junction).
        table: Ident,
        /// The entity table holding the owner column.
        parent: Ident,
        /// The column of `table` referencing `parent`.
        column: Ident,
    },
}
