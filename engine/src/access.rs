//! Who may do what: an entity's access rules, and the row-level-security
//! policies and grants that enforce them inside the database. Every generated
//! table gets ENABLE and FORCE ROW LEVEL SECURITY, one policy per command and
//! role group, `TO` the tenant's roles, each starting with the tenant check
//! `(SELECT cot.claim_tenant() = '<slug>')`, so a JWT for another tenant sees and
//! writes nothing even if a grant were wrong. Grants are only SELECT, INSERT,
//! UPDATE and DELETE, and only as the rules allow.

use crate::names::{fixed, Ident, TenantNames};
use crate::plan::{RelKind, Step};
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

/// The owner column added to tables with an `owner` rule: filled from the `sub`
/// claim on insert, kept on update; clients can neither set nor change it.
pub const OWNER_COLUMN: &str = "owner_id";

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

    fn commands(self) -> [(Command, Rule); 4] {
        [
            (Command::Select, self.read),
            (Command::Insert, self.create),
            (Command::Update, self.update),
            (Command::Delete, self.delete),
        ]
    }

    /// The rules a junction table of this entity gets: reading links follows
    /// reading the entity, adding and removing links follows updating it. A
    /// junction has no owner column, so `owner` becomes `tenant` there.
    pub fn for_junction(self) -> Access {
        let flat = |r: Rule| if r == Rule::Owner { Rule::Tenant } else { r };
        Access {
            read: flat(self.read),
            create: flat(self.update),
            update: Rule::None,
            delete: flat(self.update),
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

    fn word(self) -> &'static str {
        match self {
            Command::Select => "select",
            Command::Insert => "insert",
            Command::Update => "update",
            Command::Delete => "delete",
        }
    }
}

/// A policy's condition, typed so the renderer never sees user text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Predicate {
    /// `(SELECT cot.claim_tenant() = '<slug>')`.
    Tenant(Ident),
    /// The tenant check and `owner_id = (SELECT cot.claim_sub())`.
    TenantAndOwner(Ident),
}

/// The steps that turn an entity's (or junction's) rules into row-level
/// security and grants, on its table and its view.
pub fn steps(tenant: &Ident, table: &Ident, access: Access) -> Vec<Step> {
    let t = TenantNames::new(tenant);
    let mut steps = vec![Step::EnableRls {
        schema: t.storage_schema.clone(),
        table: table.clone(),
    }];
    let tenant_check = Predicate::Tenant(tenant.clone());
    let mut grants: Vec<(Command, Vec<Ident>)> = Vec::new();
    for (command, rule) in access.commands() {
        let groups: Vec<(&str, Vec<Ident>, Predicate)> = match rule {
            Rule::None => vec![],
            Rule::Public => vec![("", t.roles().into_iter().cloned().collect(), tenant_check.clone())],
            Rule::Tenant => vec![(
                "",
                vec![t.user_role.clone(), t.admin_role.clone()],
                tenant_check.clone(),
            )],
            Rule::Admin => vec![("", vec![t.admin_role.clone()], tenant_check.clone())],
            Rule::Owner => vec![
                (
                    "_owner",
                    vec![t.user_role.clone()],
                    Predicate::TenantAndOwner(tenant.clone()),
                ),
                ("_admin", vec![t.admin_role.clone()], tenant_check.clone()),
            ],
        };
        let mut roles = Vec::new();
        for (suffix, group_roles, predicate) in groups {
            let using = matches!(command, Command::Select | Command::Update | Command::Delete)
                .then(|| predicate.clone());
            let check = matches!(command, Command::Insert | Command::Update).then_some(predicate);
            steps.push(Step::CreatePolicy {
                schema: t.storage_schema.clone(),
                table: table.clone(),
                name: fixed_policy_name(command, suffix),
                command,
                roles: group_roles.clone(),
                using,
                check,
            });
            roles.extend(group_roles);
        }
        if !roles.is_empty() {
            grants.push((command, roles));
        }
    }
    // The view runs with the caller's rights (security_invoker), so the caller
    // needs the privilege on both the view and the table.
    for (command, roles) in grants {
        for (kind, schema) in [
            (RelKind::Table, &t.storage_schema),
            (RelKind::View, &t.api_schema),
        ] {
            steps.push(Step::Grant {
                command,
                kind,
                schema: schema.clone(),
                name: table.clone(),
                roles: roles.clone(),
            });
        }
    }
    steps
}

/// The grants of an entity's view alone, for when the view is made again.
pub fn view_grants(tenant: &Ident, table: &Ident, access: Access) -> Vec<Step> {
    steps(tenant, table, access)
        .into_iter()
        .filter(|s| {
            matches!(
                s,
                Step::Grant {
                    kind: RelKind::View,
                    ..
                }
            )
        })
        .collect()
}

fn fixed_policy_name(command: Command, suffix: &str) -> Ident {
    // Policy names are per table, so fixed names cannot collide.
    match (command.word(), suffix) {
        ("select", "") => fixed("cot_select"),
        ("select", "_owner") => fixed("cot_select_owner"),
        ("select", _) => fixed("cot_select_admin"),
        ("insert", "") => fixed("cot_insert"),
        ("insert", "_owner") => fixed("cot_insert_owner"),
        ("insert", _) => fixed("cot_insert_admin"),
        ("update", "") => fixed("cot_update"),
        ("update", "_owner") => fixed("cot_update_owner"),
        ("update", _) => fixed("cot_update_admin"),
        ("delete", "") => fixed("cot_delete"),
        ("delete", "_owner") => fixed("cot_delete_owner"),
        (_, _) => fixed("cot_delete_admin"),
    }
}
