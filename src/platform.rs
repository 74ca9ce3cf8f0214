//! The platform: tokens Cot mints (`cot.issue_token`) with the secret a
//! superuser stores once (`cot.set_jwt_secret`). The platform role
//! (`cot_platform`, made by the install script) may mint them, create and
//! drop tenants and manage API keys; it is granted nothing on tenant data.
//! Its functions are served over PostgREST from schema `cot_platform`
//! (sql/finalize.sql).

use crate::permissions::{require_platform, require_superuser};
use crate::raise::{error, raise};
use crate::spi::{first, query};
use crate::tenants::tenant_named;
use cot_engine::error::ErrorKind;
use cot_engine::token::{check_secret, platform_claims, sign_hs256, tenant_claims, TenantRole};
use pgrx::prelude::*;

/// Stores the secret tokens are signed with: PostgREST's `jwt-secret`, at
/// least 32 bytes. Replaces the one stored before; tokens signed with that
/// one stop verifying once PostgREST has the new secret too.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn set_jwt_secret(secret: &str) {
    require_superuser(
        "set the JWT secret",
        "the secret is set by a superuser: SELECT cot.set_jwt_secret('<PostgREST jwt-secret>')",
    );
    check_secret(secret).unwrap_or_else(|e| raise(e));
    query(
        "INSERT INTO cot.jwt_secret (secret) VALUES ($1) \
         ON CONFLICT (only_row) DO UPDATE SET secret = EXCLUDED.secret, set_at = pg_catalog.now()",
        &[secret.into()],
        |_| Ok(()),
    );
}

/// An HS256 token for `role` (`anon`, `user` or `admin`) of `tenant`, for
/// end user `sub`, valid for `ttl_seconds` (at most a day); or, with
/// `tenant` NULL and role `platform`, a token for the platform API.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn issue_token(
    tenant: Option<&str>,
    // Option, not &str: the function is not STRICT (tenant may be NULL), and
    // pgrx answers a NULL for a plain argument with XX000.
    role: Option<&str>,
    sub: default!(Option<&str>, "NULL"),
    ttl_seconds: default!(Option<i32>, 3600),
) -> String {
    require_platform("issue tokens");
    let (Some(role), Some(ttl_seconds)) = (role, ttl_seconds) else {
        raise(error(
            ErrorKind::InvalidParameter,
            "role and ttl_seconds must not be NULL",
            "cot.issue_token(tenant, role, sub, ttl_seconds): role is anon, user, admin or platform",
        ));
    };
    mint(tenant, role, sub, i64::from(ttl_seconds))
}

/// Signs a token for `role` of `tenant` (or the platform), `ttl` seconds;
/// the caller's right to it was checked by the caller.
fn mint(tenant: Option<&str>, role: &str, sub: Option<&str>, ttl: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let claims = match (tenant, role) {
        (None, "platform") => platform_claims(sub, now, ttl),
        (None, _) => raise(error(
            ErrorKind::InvalidParameter,
            "a tenant token needs its tenant",
            "pass the tenant's slug, or role 'platform' for a platform token",
        )),
        (Some(slug), _) => {
            let names = crate::entity::tenant_names(&tenant_named(slug));
            TenantRole::parse(role).and_then(|r| tenant_claims(&names, r, sub, now, ttl))
        }
    }
    .unwrap_or_else(|e| raise(e));
    let secret = query("SELECT secret FROM cot.jwt_secret", &[], first::<String>).unwrap_or_else(|| {
        raise(error(
            ErrorKind::NotInPrerequisiteState,
            "no JWT secret is set",
            "a superuser sets it once: SELECT cot.set_jwt_secret('<PostgREST jwt-secret>')",
        ))
    });
    sign_hs256(&claims, secret.as_bytes())
}

/// A short-lived token (at most 15 minutes) for the `user` role (with a `sub`
/// of the caller's choosing) or the `anon` role of `tenant`, minted for the
/// tenant's admin to try the API as those roles (the studio's playground,
/// `/rpc/issue_token`). Superusers and the tenant's admins only; a tenant
/// the caller does not administer answers 42501, whether it exists or not.
/// `options`: `{"role": "user" | "anon", "sub"?, "ttl_seconds"?}`.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn issue_tenant_token(tenant: &str, options: pgrx::JsonB) -> pgrx::JsonB {
    if !crate::permissions::may_define(tenant) {
        raise(error(
            ErrorKind::InsufficientPrivilege,
            format!(
                "permission denied to mint tokens of tenant {}",
                cot_engine::names::shown(tenant)
            ),
            "a superuser or a member of the tenant's admin role mints them",
        ));
    }
    let (role, sub, ttl) = cot_engine::token::trial_token_request(&options.0).unwrap_or_else(|e| raise(e));
    let role = match role {
        TenantRole::Anon => "anon",
        _ => "user",
    };
    let token = mint(Some(tenant), role, sub.as_deref(), ttl);
    pgrx::JsonB(serde_json::json!({"token": token, "expires_in": ttl}))
}
