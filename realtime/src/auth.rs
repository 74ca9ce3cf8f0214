//! Who a subscriber is: the JWTs PostgREST accepts (an HS secret, or a JWK or
//! JWK set, from the same setting) and Cot API keys (exchanged by the
//! database, as `cot.pre_request` does). A subscriber is a tenant role and
//! its claims; the claims are what the changed records are re-read with.

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

/// Claims that say when a token is valid, not who it is: left out of the
/// claims records are re-read with, so two tokens of one user share a group.
const TIME_CLAIMS: [&str; 4] = ["exp", "iat", "nbf", "jti"];

/// The token's kind, told from its text: Cot API keys are `cot_<prefix>_<secret>`.
pub fn is_api_key(token: &str) -> bool {
    token.starts_with("cot_") && !token.contains('.')
}

/// A subscriber of one tenant.
#[derive(Clone, Debug, PartialEq)]
pub struct Subject {
    pub tenant: String,
    /// `cot_<tenant>_anon|user|admin`.
    pub role: String,
    /// The claims records are re-read with (no time claims).
    pub claims: Value,
    /// Role and claims as one text: subscribers with equal keys share a re-read.
    pub group: String,
    pub sub: Option<String>,
    /// Unix time after which the channel is closed (exp plus leeway).
    pub expires: Option<u64>,
    /// The API key, when one was used: it is checked again while the channel is open.
    pub api_key: Option<String>,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `cot_<slug>_<kind>` split into slug and kind; None for any other name.
pub fn role_tenant(role: &str) -> Option<(&str, &str)> {
    let (slug, kind) = role.strip_prefix("cot_")?.rsplit_once('_')?;
    let valid = slug.len() <= 30
        && slug.starts_with(|c: char| c.is_ascii_lowercase())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    (valid && matches!(kind, "anon" | "user" | "admin")).then_some((slug, kind))
}

/// Is `slug` a well-formed tenant slug (`^[a-z][a-z0-9_]{0,29}$`)?
pub fn valid_slug(slug: &str) -> bool {
    role_tenant(&format!("cot_{slug}_anon")) == Some((slug, "anon"))
}

impl Subject {
    /// The subscriber a token's claims stand for, in `tenant`. Refused when the
    /// role is no role of that tenant or the `tenant` claim does not name it
    /// (as `cot.pre_request` refuses it); the message names only `tenant`,
    /// which the client asked for.
    pub fn from_claims(claims: Value, tenant: &str, expires: Option<u64>) -> Result<Subject, String> {
        let Value::Object(mut map) = claims else {
            return Err("the token's claims are not an object".into());
        };
        let role = map
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if role_tenant(&role).map(|(slug, _)| slug) != Some(tenant) {
            return Err(format!("the token is not valid for schema \"{tenant}\""));
        }
        if map.get("tenant").and_then(Value::as_str) != Some(tenant) {
            return Err("the token's tenant claim does not name the tenant of its role".into());
        }
        for k in TIME_CLAIMS {
            map.remove(k);
        }
        Ok(Subject::new(tenant, role, map, expires, None))
    }

    /// A subscriber without a token: the tenant's anonymous role, as
    /// `cot.pre_request` switches an anonymous request by profile.
    pub fn anonymous(tenant: &str) -> Subject {
        let role = format!("cot_{tenant}_anon");
        let mut map = Map::new();
        map.insert("role".into(), Value::String(role.clone()));
        map.insert("tenant".into(), Value::String(tenant.into()));
        Subject::new(tenant, role, map, None, None)
    }

    fn new(
        tenant: &str,
        role: String,
        claims: Map<String, Value>,
        expires: Option<u64>,
        api_key: Option<String>,
    ) -> Subject {
        let sub = claims.get("sub").and_then(Value::as_str).map(String::from);
        // serde_json keeps object keys sorted: equal claims give equal text.
        let claims = Value::Object(claims);
        let group = format!("{role}\n{claims}");
        Subject {
            tenant: tenant.into(),
            role,
            claims,
            group,
            sub,
            expires,
            api_key,
        }
    }

    /// The subscriber an API key's claims (from `cot.api_key_claims`) stand for.
    pub fn from_api_key(claims: Value, tenant: &str, key: &str) -> Result<Subject, String> {
        if let Some(reason) = claims.get("reject") {
            let message = claims
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("invalid API key");
            return Err(format!("{message} ({})", reason.as_str().unwrap_or("PT401")));
        }
        let mut s = Subject::from_claims(claims, tenant, None)?;
        s.api_key = Some(key.to_string());
        Ok(s)
    }

    pub fn expired(&self, at: u64) -> bool {
        self.expires.is_some_and(|e| at >= e)
    }
}

/// Checks JWTs with the configured secret or keys.
pub struct Verifier {
    keys: Vec<(DecodingKey, Vec<Algorithm>, Option<String>)>,
    aud: Option<String>,
    leeway: u64,
}

impl Verifier {
    /// From PostgREST-style settings: a secret (HS256/384/512), or a JWK or a
    /// JWK set as JSON text. No secret: only API keys and anonymous joins.
    pub fn new(
        secret: Option<&str>,
        base64: bool,
        aud: Option<String>,
        leeway: u64,
    ) -> Result<Verifier, String> {
        let mut keys = Vec::new();
        match secret {
            None => {}
            Some(s) if s.trim_start().starts_with('{') => {
                let set: JwkSet = match serde_json::from_str::<JwkSet>(s) {
                    Ok(set) => set,
                    Err(_) => JwkSet {
                        keys: vec![serde_json::from_str::<Jwk>(s).map_err(|e| format!("JWT secret: {e}"))?],
                    },
                };
                for jwk in &set.keys {
                    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("JWT key: {e}"))?;
                    let algs = match jwk.common.key_algorithm {
                        Some(a) => vec![format!("{a:?}")
                            .parse()
                            .map_err(|_| format!("JWT key: algorithm {a:?}"))?],
                        None => algorithms_for(jwk),
                    };
                    keys.push((key, algs, jwk.common.key_id.clone()));
                }
            }
            Some(s) => {
                let key = if base64 {
                    DecodingKey::from_base64_secret(s).map_err(|e| format!("JWT secret: {e}"))?
                } else {
                    DecodingKey::from_secret(s.as_bytes())
                };
                keys.push((
                    key,
                    vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512],
                    None,
                ));
            }
        }
        Ok(Verifier { keys, aud, leeway })
    }

    /// The verified claims of `token` and when the channel must close; the
    /// error says why it was refused (expired, bad signature, ...).
    pub fn verify(&self, token: &str) -> Result<(Value, Option<u64>), String> {
        let header = decode_header(token).map_err(|e| format!("invalid token: {e}"))?;
        let mut last = "no JWT secret is configured".to_string();
        for (key, algs, kid) in &self.keys {
            if !algs.contains(&header.alg) || (kid.is_some() && header.kid.is_some() && kid != &header.kid) {
                continue;
            }
            let mut v = Validation::new(header.alg);
            v.leeway = self.leeway;
            v.required_spec_claims = HashSet::new();
            v.validate_nbf = true;
            match &self.aud {
                Some(a) => v.set_audience(&[a]),
                None => v.validate_aud = false,
            }
            match decode::<Value>(token, key, &v) {
                Ok(data) => {
                    let exp = data.claims.get("exp").and_then(Value::as_u64);
                    return Ok((data.claims, exp.map(|e| e + self.leeway)));
                }
                Err(e) => last = token_error(&e),
            }
        }
        Err(last)
    }
}

/// The algorithms a JWK without `alg` may sign with, by its key type.
fn algorithms_for(jwk: &Jwk) -> Vec<Algorithm> {
    use jsonwebtoken::jwk::AlgorithmParameters as P;
    match &jwk.algorithm {
        P::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
        ],
        P::EllipticCurve(_) => vec![Algorithm::ES256, Algorithm::ES384],
        P::OctetKeyPair(_) => vec![Algorithm::EdDSA],
        P::OctetKey(_) => vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512],
    }
}

fn token_error(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::ExpiredSignature => "token has expired".into(),
        K::ImmatureSignature => "token is not valid yet".into(),
        K::InvalidSignature => "invalid token signature".into(),
        K::InvalidAudience => "token audience is not accepted".into(),
        _ => format!("invalid token: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roles_name_their_tenant() {
        assert_eq!(role_tenant("cot_acme_user"), Some(("acme", "user")));
        assert_eq!(role_tenant("cot_big_co_admin"), Some(("big_co", "admin")));
        assert_eq!(role_tenant("cot_acme_owner"), None);
        assert_eq!(role_tenant("cot_platform"), None);
        assert_eq!(role_tenant("postgres"), None);
        assert!(valid_slug("acme") && !valid_slug("Acme") && !valid_slug("1a"));
    }

    #[test]
    fn claims_must_name_the_tenant() {
        let ok = json!({"role": "cot_acme_user", "tenant": "acme", "sub": "u1", "exp": 5, "iat": 1});
        let s = Subject::from_claims(ok, "acme", Some(35)).unwrap();
        assert_eq!(s.sub.as_deref(), Some("u1"));
        assert_eq!(
            s.claims,
            json!({"role": "cot_acme_user", "tenant": "acme", "sub": "u1"})
        );
        let other = json!({"role": "cot_acme_user", "tenant": "acme"});
        assert!(Subject::from_claims(other.clone(), "globex", None).is_err());
        let forged = json!({"role": "cot_acme_user", "tenant": "globex"});
        assert!(Subject::from_claims(forged, "acme", None).is_err());
        assert!(Subject::from_claims(json!({"role": "postgres"}), "acme", None).is_err());
    }

    #[test]
    fn one_group_per_user_whatever_the_token_times() {
        let a = Subject::from_claims(
            json!({"role": "cot_a_user", "tenant": "a", "sub": "x", "iat": 1}),
            "a",
            None,
        );
        let b = Subject::from_claims(
            json!({"tenant": "a", "sub": "x", "role": "cot_a_user", "iat": 2}),
            "a",
            None,
        );
        assert_eq!(a.unwrap().group, b.unwrap().group);
    }

    #[test]
    fn hs256_tokens_are_checked() {
        let secret = "0123456789abcdef0123456789abcdef";
        let v = Verifier::new(Some(secret), false, None, 0).unwrap();
        let enc = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
        let head = jsonwebtoken::Header::new(Algorithm::HS256);
        let good =
            jsonwebtoken::encode(&head, &json!({"role": "cot_a_user", "exp": now() + 60}), &enc).unwrap();
        assert!(v.verify(&good).is_ok());
        let old =
            jsonwebtoken::encode(&head, &json!({"role": "cot_a_user", "exp": now() - 60}), &enc).unwrap();
        assert_eq!(v.verify(&old).unwrap_err(), "token has expired");
        let other = jsonwebtoken::EncodingKey::from_secret(b"another secret of 32 characters!!");
        let forged = jsonwebtoken::encode(&head, &json!({"role": "cot_a_admin"}), &other).unwrap();
        assert_eq!(v.verify(&forged).unwrap_err(), "invalid token signature");
        assert!(is_api_key("cot_3f9a1c2b7d4e_secret") && !is_api_key(&good));
    }
}
