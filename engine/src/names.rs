//! Names: the rules for tenant slugs, entity and field names, and the
//! deterministic names of generated objects. An [`Ident`] can only be made here,
//! after validation, and it is the only thing the DDL renderer accepts as a name.

use crate::error::{ErrorKind, Violation};
use sha2::{Digest, Sha256};
use std::collections::HashSet;

/// Postgres truncates identifiers longer than this many bytes (NAMEDATALEN - 1),
/// silently but for a NOTICE, so two long names can collide after truncation.
pub const MAX_IDENT_BYTES: usize = 63;
/// Tenant slugs are kept short so `tenant_<slug>` and `cot_<slug>_admin` stay far
/// below the identifier limit.
pub const MAX_SLUG_BYTES: usize = 30;

/// A validated identifier: `^[a-z][a-z0-9_]*$`, at most 63 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ident(String);

impl Ident {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For names Cot composes from already validated parts and fixed words
    /// (schemas, roles, constraint names). Checked even so: a bug here must not
    /// reach SQL.
    /// A leading `_` is allowed here alone: it marks Cot's own tables in a
    /// tenant schema (the change log), which no entity name can take.
    fn composed(s: String) -> Ident {
        assert!(
            (is_plain(&s) || s.strip_prefix('_').is_some_and(is_plain)) && s.len() <= MAX_IDENT_BYTES,
            "composed identifier {s:?} breaks the naming rules"
        );
        Ident(s)
    }
}

impl Ident {
    /// A name read back from the catalog, when it follows Cot's naming rules
    /// (every name Cot makes does; one a person made may not).
    pub fn from_catalog(s: &str) -> Option<Ident> {
        (is_plain(s) && s.len() <= MAX_IDENT_BYTES).then(|| Ident(s.to_string()))
    }
}

impl std::fmt::Display for Ident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_plain(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z')) && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// The words Postgres reserves (from `pg_get_keywords()`, categories R and T).
/// Entity and field names may be reserved words (`user`, `group`, `end`):
/// Cot quotes every identifier it writes, as PostgREST does, and hand-written
/// SQL needs quotes only where such a name stands alone (`"user"`), not after
/// a dot (`acme.user`, `u.end`). Tenant slugs and role names may not be
/// reserved words: they are schema and role names that hand-written SQL
/// (`SET ROLE`, `search_path`, `GRANT`) writes alone.
#[derive(Debug, Clone, Default)]
pub struct Keywords(HashSet<String>);

impl Keywords {
    /// Builds the set from a list of words.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(words: I) -> Self {
        Keywords(words.into_iter().map(Into::into).collect())
    }

    /// Is `word` reserved?
    pub fn contains(&self, word: &str) -> bool {
        self.0.contains(word)
    }
}

/// What a name names, which decides its extra rules and its error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A tenant slug.
    Tenant,
    /// An entity (a table and its view).
    Entity,
    /// A field (a column).
    Field,
    /// A login role that PostgREST connects as (its authenticator).
    Role,
}

impl NameKind {
    fn noun(self) -> &'static str {
        match self {
            NameKind::Tenant => "tenant slug",
            NameKind::Entity => "entity name",
            NameKind::Field => "field name",
            NameKind::Role => "role name",
        }
    }

    fn max_bytes(self) -> usize {
        match self {
            NameKind::Tenant => MAX_SLUG_BYTES,
            _ => MAX_IDENT_BYTES,
        }
    }
}

/// Columns every table has; fields may not take these names.
pub const SYSTEM_FIELDS: [&str; 3] = ["id", "created_at", "updated_at"];

/// The owner column added to tables with an `owner` access rule: filled from
/// the `sub` claim on insert, kept on update; clients can neither set nor
/// change it.
pub const OWNER_COLUMN: &str = "owner_id";

/// Postgres's own hidden columns.
const PG_SYSTEM_COLUMNS: [&str; 7] = ["tableoid", "xmin", "cmin", "xmax", "cmax", "ctid", "oid"];

/// Names PostgREST 12 reads as query parameters: a column with one of these
/// names could not be filtered over HTTP (`?limit=eq.3` is a limit, not a
/// filter). PostgREST reserves `select`, `columns` and `on_conflict`, and
/// `order`, `limit`, `offset`, `and`, `or` also after an embedding's dot
/// (`items.order`); `not` starts negated filters and logic (`not.or`).
const POSTGREST_PARAMETERS: [&str; 9] = [
    "select",
    "order",
    "limit",
    "offset",
    "on_conflict",
    "columns",
    "and",
    "or",
    "not",
];

/// Schemas Cot or Postgres keep, so no tenant may be called this.
const RESERVED_SLUGS: [&str; 4] = ["cot", "public", "information_schema", "postgres"];

/// Validates a tenant slug, entity name or field name. `pointer` locates it in
/// the document for the violation.
pub fn check_name(
    kind: NameKind,
    name: &str,
    pointer: &str,
    keywords: &Keywords,
) -> Result<Ident, Violation> {
    let noun = kind.noun();
    let shown = shown(name);
    let max = kind.max_bytes();
    if name.len() > max {
        return Err(Violation::new(
            ErrorKind::NameTooLong,
            pointer,
            format!(
                "{noun} {shown} is {} bytes long, at most {max} are allowed",
                name.len()
            ),
            "Postgres truncates longer names silently; choose a shorter name",
        ));
    }
    if !is_plain(name) {
        return Err(Violation::new(
            ErrorKind::InvalidName,
            pointer,
            format!("{noun} {shown} is not a valid name"),
            "names start with a lower-case letter a-z and contain only a-z, 0-9 and _",
        ));
    }
    if matches!(kind, NameKind::Tenant | NameKind::Role) && keywords.contains(name) {
        return Err(Violation::new(
            ErrorKind::ReservedName,
            pointer,
            format!("{noun} {shown} is a reserved word in PostgreSQL"),
            "choose another name, e.g. add a prefix or suffix",
        ));
    }
    let reserved = match kind {
        NameKind::Tenant => {
            if RESERVED_SLUGS.contains(&name) {
                Some("is used by PostgreSQL or Cot")
            } else if name.starts_with("pg_") {
                Some("starts with pg_, which PostgreSQL reserves for system schemas")
            } else if name.starts_with("tenant_") {
                Some("starts with tenant_, which Cot uses for storage schemas")
            } else {
                None
            }
        }
        NameKind::Entity => {
            if name.starts_with("pg_") {
                Some("starts with pg_, which PostgreSQL reserves")
            } else if name == "rpc" {
                Some("is PostgREST's path for functions (/rpc)")
            } else {
                None
            }
        }
        NameKind::Role => {
            if name.starts_with("pg_") {
                Some("starts with pg_, which PostgreSQL reserves for its own roles")
            } else if name.starts_with("cot_") {
                Some("starts with cot_, which Cot uses for the roles it makes")
            } else {
                None
            }
        }
        NameKind::Field => {
            if SYSTEM_FIELDS.contains(&name) {
                Some("is a system column that Cot adds to every entity")
            } else if name == OWNER_COLUMN {
                Some("is the column Cot adds for owner access rules")
            } else if PG_SYSTEM_COLUMNS.contains(&name) {
                Some("is a PostgreSQL system column")
            } else if POSTGREST_PARAMETERS.contains(&name) {
                Some("is a PostgREST query parameter, so the field could not be filtered over HTTP")
            } else {
                None
            }
        }
    };
    if let Some(why) = reserved {
        let hint = match alternative(kind, name) {
            Some(other) => format!("choose another name, e.g. \"{other}\""),
            None => "choose another name".to_string(),
        };
        return Err(Violation::new(
            ErrorKind::ReservedName,
            pointer,
            format!("{noun} {shown} {why}"),
            hint,
        ));
    }
    Ok(Ident(name.to_string()))
}

/// A name to use instead of a refused entity or field name: one that says
/// the same and breaks no rule.
fn alternative(kind: NameKind, name: &str) -> Option<String> {
    let fixed = match (kind, name) {
        (NameKind::Field, "select") => "selection",
        (NameKind::Field, "order") => "sort_order",
        (NameKind::Field, "limit") => "max_items",
        (NameKind::Field, "offset") => "start_offset",
        (NameKind::Field, "on_conflict") => "conflict_rule",
        (NameKind::Field, "columns") => "column_list",
        (NameKind::Field, "and") => "conjunction",
        (NameKind::Field, "or") => "alternative",
        (NameKind::Field, "not") => "negated",
        (NameKind::Field, "id") => "external_id",
        (NameKind::Field, "created_at") => "recorded_at",
        (NameKind::Field, "updated_at") => "changed_at",
        (NameKind::Field, OWNER_COLUMN) => "assignee_id",
        (NameKind::Field, "oid") => "object_id",
        (NameKind::Field, "tableoid") => "table_oid",
        (NameKind::Field, "ctid") => "ct_id",
        (NameKind::Field, "xmin" | "xmax" | "cmin" | "cmax") => {
            return Some(format!("{}_{}", &name[..1], &name[1..]))
        }
        (NameKind::Entity, "rpc") => "rpc_calls",
        (NameKind::Entity, _) => {
            let rest = name.strip_prefix("pg_")?;
            return is_plain(rest).then(|| rest.to_string());
        }
        _ => return None,
    };
    Some(fixed.to_string())
}

/// A name as it appears in a message: quoted, cut short, control characters and
/// invisible formatting marks escaped so a message cannot be spoofed with them.
pub fn shown(name: &str) -> String {
    const SHOW: usize = 80;
    let mut out = String::from("\"");
    for (i, c) in name.chars().enumerate() {
        if i == SHOW {
            out.push('…');
            break;
        }
        if c.is_control() || is_format_char(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Unicode "format" characters (bidirectional marks and overrides, zero-width
/// joiners...) that change how text displays without showing themselves.
fn is_format_char(c: char) -> bool {
    matches!(c as u32, 0x00AD | 0x061C | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF)
}

/// Names of a tenant's schemas and roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantNames {
    /// The slug itself.
    pub slug: Ident,
    /// `tenant_<slug>`: the tables, never exposed over HTTP.
    pub storage_schema: Ident,
    /// `<slug>`: one view per entity; the PostgREST profile.
    pub api_schema: Ident,
    /// `cot_<slug>_anon`.
    pub anon_role: Ident,
    /// `cot_<slug>_user`.
    pub user_role: Ident,
    /// `cot_<slug>_admin`.
    pub admin_role: Ident,
}

impl TenantNames {
    /// The names derived from a validated slug.
    pub fn new(slug: &Ident) -> Self {
        let s = slug.as_str();
        TenantNames {
            slug: slug.clone(),
            storage_schema: Ident::composed(format!("tenant_{s}")),
            api_schema: slug.clone(),
            anon_role: Ident::composed(format!("cot_{s}_anon")),
            user_role: Ident::composed(format!("cot_{s}_user")),
            admin_role: Ident::composed(format!("cot_{s}_admin")),
        }
    }

    /// The three tenant roles, least privileged first.
    pub fn roles(&self) -> [&Ident; 3] {
        [&self.anon_role, &self.user_role, &self.admin_role]
    }
}

/// The role PostgREST uses for requests without a token (`db-anon-role`): it
/// has no privilege of its own; `cot.pre_request()` switches such a request to
/// the anonymous role of the tenant whose schema it asks for.
pub fn anon_role() -> Ident {
    Ident::composed("cot_anon".to_string())
}

/// The role of the platform that provisions tenants (a sign-up service, the
/// operator's tooling): it creates and drops tenants, manages API keys and
/// authenticators and mints tokens, and has no access to tenant data.
pub fn platform_role() -> Ident {
    Ident::composed("cot_platform".to_string())
}

/// The one role that owns every generated object: NOLOGIN, not a superuser, no
/// BYPASSRLS, never in the request path.
pub fn owner_role() -> Ident {
    Ident::composed("cot_owner".to_string())
}

/// A name built from validated parts by the validator (a relation's
/// `<name>_id` column, a junction's `<entity>_<field>`), checked for length by
/// the caller.
pub(crate) fn composed(name: String) -> Ident {
    Ident::composed(name)
}

/// A fixed, known-good name used by the renderer (trigger names and the like).
pub fn fixed(name: &'static str) -> Ident {
    Ident::composed(name.to_string())
}

/// The name of a generated object: the parts joined with `_`. When that would pass
/// 63 bytes, it is cut and given a hash of the whole name, so it stays unique and
/// the same on every run.
pub fn derived(parts: &[&str]) -> Ident {
    let full = parts.join("_");
    if full.len() <= MAX_IDENT_BYTES {
        return Ident::composed(full);
    }
    let digest = Sha256::digest(full.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    // Parts are ASCII, so any byte offset is a character boundary.
    let keep = MAX_IDENT_BYTES - hash.len() - 1;
    let mut head = full[..keep].to_string();
    while head.ends_with('_') {
        head.pop();
    }
    Ident::composed(format!("{head}_{hash}"))
}

#[cfg(test)]
pub(crate) mod tests;

/// A group of tenants served by the same PostgREST instances
/// (`cot.set_tenant_api_group`, docs/gateway.md): the slug alphabet, since the
/// front door names an upstream after it.
pub fn check_api_group(group: &str) -> Result<(), crate::error::CotError> {
    let ok = group.len() <= 30
        && group.starts_with(|c: char| c.is_ascii_lowercase())
        && group
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(crate::error::CotError::new(
            crate::error::ErrorKind::InvalidName,
            format!("{} is not an API group name", shown(group)),
        )
        .hint("a lower-case letter, then up to 29 lower-case letters, digits or underscores, such as eu_1"))
    }
}

/// The NOTIFY channel the PostgREST instances of API group `group` listen
/// on (their `db-channel`): PostgREST's default, `pgrst`, for group
/// `default`, and `pgrst_<group>` for the others.
pub fn api_channel(group: &str) -> String {
    if group == "default" {
        "pgrst".to_string()
    } else {
        format!("pgrst_{group}")
    }
}
