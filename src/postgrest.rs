//! What PostgREST needs from Cot: login roles allowed to switch to every
//! tenant's roles (`cot.add_authenticator`), a ready configuration
//! (`cot.postgrest_config`), the in-database configuration PostgREST reloads
//! (`cot.pre_config`, for `db-pre-config`), and API keys
//! (`cot.create_api_key`, `cot.revoke_api_key`, and `cot.api_key_claims`, which
//! the `db-pre-request` function `cot.pre_request()` calls).

use crate::catalog::{api_keys, meta, roles};
use crate::environment::Server;
use crate::jsonb_arg::JsonbText;
use crate::raise::{error, raise};
use crate::spi;
use cot_engine::ddl::render;
use cot_engine::error::{CotError, ErrorKind};
use cot_engine::names::{anon_role, check_name, platform_role, shown, Ident, NameKind, TenantNames};
use cot_engine::options::{KeyOptions, MAX_OPTIONS_BYTES};
use cot_engine::plan::Step;
use cot_engine::stored;
use cot_engine::validate::Environment;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn require_superuser(what: &str) {
    crate::permissions::require_superuser(what, "PostgREST wiring and API keys are managed by a superuser");
}

/// The platform's schema (`cot_platform`), then the API schema of every
/// tenant the session's login role serves (all, unless it is bound to a
/// group: src/api_groups.rs), comma-separated, for `db-schemas`. The first is where PostgREST sends a
/// request without `Accept-Profile`/`Content-Profile`: the platform's holds
/// nothing a tenant role may use, so such a request is refused with a
/// message that names no tenant (with a tenant first, another customer's
/// slug was in "permission denied for schema ...").
fn api_schemas() -> String {
    let mut schemas: Vec<String> = vec![PLATFORM_SCHEMA.to_string()];
    schemas.extend(meta::served_tenant_slugs().iter().map(|slug| {
        stored::tenant_names(slug)
            .unwrap_or_else(|e| raise(e))
            .api_schema
            .to_string()
    }));
    schemas.join(",")
}

/// The schema of the platform's `/rpc/` functions (sql/finalize.sql).
const PLATFORM_SCHEMA: &str = "cot_platform";

/// Makes `login_role` (PostgREST's authenticator) a member of `cot_anon` and of
/// every tenant's roles, now and for tenants created later, so PostgREST can
/// switch to the role a JWT names. The role must exist and be able to log in.
#[pg_extern]
#[search_path(pg_catalog, pg_temp)]
fn add_authenticator(login_role: &str) -> JsonB {
    require_superuser("add an authenticator");
    let role = check_name(NameKind::Role, login_role, "", Server.keywords())
        .unwrap_or_else(|v| raise(CotError::from_violations("role name", &[v])));
    if !roles::role_can_login(role.as_str()) {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("login role {} does not exist", shown(login_role)),
            "create it first: CREATE ROLE authenticator LOGIN NOINHERIT PASSWORD '...'",
        ));
    }
    let anon = anon_role();
    let mut steps = Vec::new();
    if !roles::role_exists(anon.as_str()) {
        steps.push(Step::CreateRole {
            role: anon.clone(),
            owner: false,
        });
    }
    // The platform role exists from the install on: a platform token
    // (cot.issue_token(NULL, 'platform')) is served like a tenant's.
    steps.push(Step::GrantRoles {
        roles: vec![anon, platform_role()],
        to: role.clone(),
    });
    steps.push(Step::GrantPreConfig { to: role.clone() });
    for slug in meta::tenant_slugs() {
        let t = TenantNames::new(
            &check_name(NameKind::Tenant, &slug, "", &Default::default()).unwrap_or_else(|v| {
                raise(CotError::from_violations("stored tenant slug", &[v]));
            }),
        );
        steps.push(Step::GrantRoles {
            roles: t.roles().into_iter().cloned().collect(),
            to: role.clone(),
        });
    }
    let sql: Vec<String> = steps.iter().map(render).collect();
    spi::run_statements(&sql, || {});
    roles::insert_authenticator(role.as_str());
    JsonB(json!({"role": role.as_str(), "statements": sql}))
}

/// Stops making `login_role` a member of new tenants' roles. Memberships
/// already granted stay; revoke them with `REVOKE cot_<slug>_user FROM ...`.
#[pg_extern]
#[search_path(pg_catalog, pg_temp)]
fn remove_authenticator(login_role: &str) -> bool {
    require_superuser("remove an authenticator");
    roles::delete_authenticator(login_role)
}

/// The PostgREST configuration for this database, as settings: `db-schemas`
/// (every tenant's API schema), `db-anon-role`, `db-pre-request`,
/// `db-pre-config` (so new tenants are served after `NOTIFY pgrst, 'reload
/// config'` without editing a file) and the JWT role claim. Set the secret
/// (`jwt-secret`) and `db-uri` yourself.
#[pg_extern]
#[search_path(pg_catalog, pg_temp)]
fn postgrest_config() -> JsonB {
    JsonB(json!({
        "db-schemas": api_schemas(),
        "db-anon-role": anon_role().as_str(),
        "db-pre-request": "cot.pre_request",
        "db-pre-config": "cot.pre_config",
        "jwt-role-claim-key": ".role",
        "db-plan-enabled": false,
    }))
}

/// `db-pre-config`: PostgREST calls it when it loads its configuration, as
/// its login role. Sets `pgrst.db_schemas` to every tenant's API schema, so a
/// tenant created since is served after a reload, and the pre-request, none
/// for a login role that serves tokens only (src/api_groups.rs). SECURITY
/// DEFINER, since the login role cannot read the tenant list; it returns
/// nothing secret.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn pre_config() {
    spi::set_local("pgrst.db_schemas", &api_schemas());
    spi::set_local("pgrst.db_anon_role", anon_role().as_str());
    // PostgREST reads an empty setting as none, over its file and
    // environment (tests/clients/tokens_only.test.mjs).
    let pre_request = if crate::api_groups::session_tokens_only() {
        ""
    } else {
        "cot.pre_request"
    };
    spi::set_local("pgrst.db_pre_request", pre_request);
}

/// Prefix of every key: tells a leaked key apart in logs and secret scanners.
const KEY_PREFIX: &str = "cot";

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // SAFETY: buf is a valid, writable buffer of buf.len() bytes.
    let ok = unsafe { pgrx::pg_sys::pg_strong_random(buf.as_mut_ptr().cast(), buf.len()) };
    if !ok {
        raise(error(
            ErrorKind::NotInPrerequisiteState,
            "no strong random source",
            "the server's OpenSSL random source failed",
        ));
    }
    // Lower-case hex: no characters that need escaping in a header or a URL.
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Creates an API key for `tenant` standing for its `role` (`anon`, `user` or
/// `admin`). Returns the key once; only its SHA-256 is stored. `options`:
/// `label` (text), `sub` (the end-user id the key acts as, for owner rules),
/// `expires_at` (timestamptz text).
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn create_api_key(tenant: &str, role: &str, options: default!(JsonbText, "'{}'")) -> JsonB {
    crate::permissions::require_platform("create an API key");
    let options = options
        .parse("key options", MAX_OPTIONS_BYTES)
        .unwrap_or_else(|e| raise(e));
    let Some(t) = meta::tenant(tenant) else {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("tenant {} does not exist", shown(tenant)),
            "SELECT slug FROM cot.tenants()",
        ));
    };
    if !matches!(role, "anon" | "user" | "admin") {
        raise(error(
            ErrorKind::InvalidParameter,
            format!("role {} is not a tenant role", shown(role)),
            "one of anon, user, admin",
        ));
    }
    let opts = KeyOptions::from_json(&options).unwrap_or_else(|e| raise(e));
    let prefix = random_token(6);
    let secret = random_token(32);
    let key = format!("{KEY_PREFIX}_{prefix}_{secret}");
    let id = uuid::Uuid::now_v7();
    let expires_at = api_keys::insert_api_key(api_keys::NewApiKey {
        id,
        tenant_id: t.id,
        role,
        prefix: &prefix,
        secret_hash: hash(&key),
        label: opts.label,
        sub: opts.sub,
        expires_at: opts.expires_at,
    });
    JsonB(json!({
        "id": id, "tenant": t.slug, "role": role, "prefix": prefix, "key": key,
        "expires_at": expires_at,
        "note": "store the key now: Cot keeps only its hash and cannot show it again",
    }))
}

/// Revokes an API key by id or prefix. Returns whether a key was revoked.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn revoke_api_key(key: &str) -> bool {
    crate::permissions::require_platform("revoke an API key");
    api_keys::revoke_api_key(key)
}

/// The claims an API key stands for, for `cot.pre_request()`:
/// `{"role": "cot_<slug>_<role>", "tenant": slug, "key": prefix[, "sub": ...]}`,
/// or `{"reject": "PT401" | "PT403", "message": ...}` for a key that is unknown
/// or malformed (401) or revoked or expired (403); `cot.pre_request()` raises
/// those SQLSTATEs, which PostgREST answers with that HTTP status. SECURITY
/// DEFINER: the request's role cannot read the key table; only the matching
/// key's claims come out, and nothing that tells a wrong key from a missing one.
#[pg_extern(security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn api_key_claims(key: &str) -> JsonB {
    let reject = |code: &str, message: &str| JsonB(json!({"reject": code, "message": message}));
    let mut parts = key.splitn(3, '_');
    let (Some(KEY_PREFIX), Some(prefix), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return reject("PT401", "invalid API key");
    };
    let Some(found) = api_keys::api_key(prefix) else {
        return reject("PT401", "invalid API key");
    };
    // Compare hashes in constant time: the stored hash must not leak through timing.
    let given = hash(key);
    let same = given.len() == found.secret_hash.len()
        && given
            .iter()
            .zip(&found.secret_hash)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return reject("PT401", "invalid API key");
    }
    if found.revoked || found.expired {
        return reject("PT403", "API key revoked or expired");
    }
    let Some(role) = tenant_role(&found.tenant, &found.role) else {
        return reject("PT401", "invalid API key");
    };
    let mut claims = json!({
        "role": role.as_str(),
        "tenant": found.tenant,
        "key": prefix,
    });
    if let Some(sub) = found.sub {
        claims["sub"] = Value::String(sub);
    }
    JsonB(claims)
}

/// The role of tenant `slug` that an API key's `role` (anon, user or admin)
/// stands for; `None` for anything else, which `cot.api_keys` does not hold.
fn tenant_role(slug: &str, role: &str) -> Option<Ident> {
    let names = stored::tenant_names(slug).ok()?;
    match role {
        "anon" => Some(names.anon_role),
        "user" => Some(names.user_role),
        "admin" => Some(names.admin_role),
        _ => None,
    }
}
