//! Tokens Cot mints itself (`cot.issue_token`): HS256 JWTs with the claims
//! PostgREST and Cot's policies read (`role`, `tenant`, `sub`, `iat`, `exp`),
//! signed with the secret the DBA stored once. For the demo, the studio, a
//! sign-up service and service accounts; an identity provider that signs with
//! the same secret works the same way.

use crate::error::{CotError, ErrorKind};
use crate::names::{Ident, TenantNames};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// PostgREST refuses shorter HS256 secrets (and so does Cot).
pub const MIN_SECRET_BYTES: usize = 32;
/// The longest a token may live: a day. Longer-lived access is an API key,
/// which can be revoked; a JWT cannot.
pub const MAX_TTL_SECONDS: i64 = 86_400;
/// The longest `sub` Cot writes into a token.
pub const MAX_SUB_BYTES: usize = 256;

/// Which of a tenant's roles a token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantRole {
    /// `cot_<slug>_anon`.
    Anon,
    /// `cot_<slug>_user`.
    User,
    /// `cot_<slug>_admin`.
    Admin,
}

impl TenantRole {
    /// `anon`, `user` or `admin`, as the SQL functions take it.
    pub fn parse(s: &str) -> Result<TenantRole, CotError> {
        match s {
            "anon" => Ok(TenantRole::Anon),
            "user" => Ok(TenantRole::User),
            "admin" => Ok(TenantRole::Admin),
            other => Err(CotError::new(
                ErrorKind::InvalidParameter,
                format!("unknown role {}", crate::names::shown(other)),
            )
            .hint("pass anon, user or admin")),
        }
    }

    /// The database role.
    pub fn role(self, t: &TenantNames) -> &Ident {
        match self {
            TenantRole::Anon => &t.anon_role,
            TenantRole::User => &t.user_role,
            TenantRole::Admin => &t.admin_role,
        }
    }
}

/// The claims of a token for `role` of tenant `t`, valid from `now` for
/// `ttl` seconds. `sub` names the end user (owner rules compare it).
pub fn tenant_claims(
    t: &TenantNames,
    role: TenantRole,
    sub: Option<&str>,
    now: i64,
    ttl: i64,
) -> Result<Value, CotError> {
    check_ttl(ttl)?;
    let mut claims = json!({
        "role": role.role(t).as_str(),
        "tenant": t.slug.as_str(),
        "iat": now,
        "exp": now + ttl,
    });
    if let Some(sub) = sub {
        if sub.is_empty() || sub.len() > MAX_SUB_BYTES {
            return Err(CotError::new(
                ErrorKind::InvalidParameter,
                format!("sub must be 1 to {MAX_SUB_BYTES} bytes"),
            ));
        }
        claims["sub"] = Value::String(sub.to_string());
    }
    Ok(claims)
}

/// The claims of a platform token (role `cot_platform`, no tenant).
pub fn platform_claims(sub: Option<&str>, now: i64, ttl: i64) -> Result<Value, CotError> {
    check_ttl(ttl)?;
    let mut claims = json!({"role": crate::names::platform_role().as_str(), "iat": now, "exp": now + ttl});
    if let Some(sub) = sub.filter(|s| !s.is_empty() && s.len() <= MAX_SUB_BYTES) {
        claims["sub"] = Value::String(sub.to_string());
    }
    Ok(claims)
}

fn check_ttl(ttl: i64) -> Result<(), CotError> {
    if (1..=MAX_TTL_SECONDS).contains(&ttl) {
        Ok(())
    } else {
        Err(CotError::new(
            ErrorKind::InvalidParameter,
            format!("a token lives 1 to {MAX_TTL_SECONDS} seconds, not {ttl}"),
        )
        .hint("for longer-lived access create an API key (cot.create_api_key), which can be revoked"))
    }
}

/// Whether `secret` may sign tokens.
pub fn check_secret(secret: &str) -> Result<(), CotError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(CotError::new(
            ErrorKind::InvalidParameter,
            format!("the JWT secret must be at least {MIN_SECRET_BYTES} bytes"),
        )
        .hint("use the same secret as PostgREST's jwt-secret"));
    }
    Ok(())
}

/// `header.payload.signature`, HS256.
pub fn sign_hs256(claims: &Value, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{input}.{signature}")
}

/// The longest a token lives that a tenant's admin mints to try the API as
/// another role (`cot.issue_tenant_token`).
pub const MAX_TRIAL_TTL_SECONDS: i64 = 900;

/// What a tenant's admin asks `cot.issue_tenant_token` for:
/// `{"role": "user" | "anon", "sub"?: text, "ttl_seconds"?: 1..=900}` (900
/// by default). Never `admin`: an admin mints no token stronger than a user's.
pub fn trial_token_request(options: &Value) -> Result<(TenantRole, Option<String>, i64), CotError> {
    let bad = |m: String| {
        CotError::new(ErrorKind::InvalidParameter, m)
            .hint("pass {\"role\": \"user\" or \"anon\", \"sub\": \"<end user>\", \"ttl_seconds\": 1 to 900}")
    };
    let Some(o) = options.as_object() else {
        return Err(bad("the options must be a JSON object".into()));
    };
    if let Some(k) = o
        .keys()
        .find(|k| !["role", "sub", "ttl_seconds"].contains(&k.as_str()))
    {
        return Err(bad(format!("unknown key {}", crate::names::shown(k))));
    }
    let role = match o.get("role").and_then(Value::as_str) {
        Some("user") => TenantRole::User,
        Some("anon") => TenantRole::Anon,
        _ => return Err(bad("role must be \"user\" or \"anon\"".into())),
    };
    let sub = match o.get("sub") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(bad("sub must be a string".into())),
    };
    let ttl = match o.get("ttl_seconds") {
        None | Some(Value::Null) => MAX_TRIAL_TTL_SECONDS,
        Some(v) => match v.as_i64() {
            Some(t) if (1..=MAX_TRIAL_TTL_SECONDS).contains(&t) => t,
            _ => {
                return Err(bad(format!(
                    "ttl_seconds must be an integer from 1 to {MAX_TRIAL_TTL_SECONDS}"
                )))
            }
        },
    };
    Ok((role, sub, ttl))
}

#[cfg(test)]
mod tests {

    #[test]
    fn trial_tokens_are_user_or_anon_and_short() {
        let ok = trial_token_request(&json!({"role": "user", "sub": "u1", "ttl_seconds": 60})).unwrap();
        assert_eq!(ok, (TenantRole::User, Some("u1".into()), 60));
        assert_eq!(
            trial_token_request(&json!({"role": "anon"})).unwrap(),
            (TenantRole::Anon, None, MAX_TRIAL_TTL_SECONDS)
        );
        for bad in [
            json!({"role": "admin"}),
            json!({"role": "user", "ttl_seconds": 901}),
            json!({"role": "user", "ttl_seconds": 0}),
            json!({"role": "user", "sub": 5}),
            json!({"role": "user", "tenant": "other"}),
            json!(["user"]),
        ] {
            assert_eq!(
                trial_token_request(&bad).unwrap_err().kind,
                ErrorKind::InvalidParameter,
                "{bad}"
            );
        }
    }
    use super::*;
    use crate::names::fixed;

    #[test]
    fn the_signature_is_hs256() {
        // The expected token was computed independently (Python's hmac and
        // base64 modules) for this key and payload.
        let token = sign_hs256(
            &json!({"role": "cot_acme_user", "tenant": "acme"}),
            b"0123456789abcdef0123456789abcdef",
        );
        assert_eq!(
            token,
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiY290X2FjbWVfdXNlciIsInRlbmFudCI6ImFjbWUifQ.\
             ktjJy-CR_Vn5lESmOc_0SKFTQd_zKT9pDoA1qKXi2-s"
        );
        assert_ne!(
            sign_hs256(
                &json!({"role": "cot_acme_user", "tenant": "acme"}),
                b"another secret, thirty-two bytes"
            ),
            token
        );
    }

    #[test]
    fn claims_name_the_tenant_role_and_expire() {
        let t = TenantNames::new(&fixed("acme"));
        let c = tenant_claims(&t, TenantRole::User, Some("u-1"), 1000, 60).unwrap();
        assert_eq!(
            c,
            json!({"role": "cot_acme_user", "tenant": "acme", "sub": "u-1", "iat": 1000, "exp": 1060})
        );
        let anon = tenant_claims(&t, TenantRole::Anon, None, 0, 1).unwrap();
        assert_eq!(anon["role"], "cot_acme_anon");
        assert!(anon.get("sub").is_none());
        for ttl in [0, -5, MAX_TTL_SECONDS + 1] {
            assert_eq!(
                tenant_claims(&t, TenantRole::User, None, 0, ttl)
                    .unwrap_err()
                    .kind,
                ErrorKind::InvalidParameter
            );
        }
        assert!(tenant_claims(&t, TenantRole::User, Some(""), 0, 60).is_err());
        assert!(tenant_claims(&t, TenantRole::User, Some(&"x".repeat(257)), 0, 60).is_err());
        assert!(TenantRole::parse("owner").is_err());
        assert!(check_secret("short").is_err());
        assert!(check_secret(&"s".repeat(32)).is_ok());
    }
}
