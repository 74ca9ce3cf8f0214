//! The rows of `cot.api_keys`: stored as a hash, found by their public prefix.

use crate::spi::{first, pg_uuid, query};

/// A new API key's row.
pub struct NewApiKey<'a> {
    /// Id.
    pub id: uuid::Uuid,
    /// Tenant.
    pub tenant_id: uuid::Uuid,
    /// anon, user or admin.
    pub role: &'a str,
    /// The public part of the key.
    pub prefix: &'a str,
    /// SHA-256 of the whole key.
    pub secret_hash: Vec<u8>,
    /// Free text.
    pub label: Option<String>,
    /// The sub claim the key carries.
    pub sub: Option<String>,
    /// timestamptz text, checked by the cast.
    pub expires_at: Option<String>,
}

/// Stores an API key; returns its expiry as text.
pub fn insert_api_key(k: NewApiKey<'_>) -> Option<String> {
    query(
        "INSERT INTO cot.api_keys (id, tenant_id, role, prefix, secret_hash, label, sub, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz) RETURNING expires_at::text",
        &[
            pg_uuid(k.id).into(),
            pg_uuid(k.tenant_id).into(),
            k.role.into(),
            k.prefix.into(),
            k.secret_hash.into(),
            k.label.into(),
            k.sub.into(),
            k.expires_at.into(),
        ],
        first::<String>,
    )
}

/// Revokes a key by id (text) or prefix.
pub fn revoke_api_key(key: &str) -> bool {
    query(
        "UPDATE cot.api_keys SET revoked_at = now() WHERE (id::text = $1 OR prefix = $1) AND revoked_at IS NULL RETURNING 1",
        &[key.into()],
        |t| Ok(!t.is_empty()),
    )
}

/// A stored API key, found by prefix.
pub struct ApiKey {
    /// Tenant slug.
    pub tenant: String,
    /// anon, user or admin.
    pub role: String,
    /// SHA-256 of the key.
    pub secret_hash: Vec<u8>,
    /// The sub claim.
    pub sub: Option<String>,
    /// Revoked?
    pub revoked: bool,
    /// Past its expiry?
    pub expired: bool,
}

/// The key with this prefix, if any.
pub fn api_key(prefix: &str) -> Option<ApiKey> {
    query(
        "SELECT t.slug, k.role, k.secret_hash, k.sub, k.revoked_at IS NOT NULL, \
                COALESCE(k.expires_at <= pg_catalog.now(), false) \
           FROM cot.api_keys k JOIN cot.tenants t ON t.id = k.tenant_id WHERE k.prefix = $1",
        &[prefix.into()],
        |t| {
            if t.is_empty() {
                return Ok(None);
            }
            let row = t.first();
            Ok(Some(ApiKey {
                tenant: row.get::<String>(1)?.unwrap_or_default(),
                role: row.get::<String>(2)?.unwrap_or_default(),
                secret_hash: row.get::<Vec<u8>>(3)?.unwrap_or_default(),
                sub: row.get::<String>(4)?,
                revoked: row.get::<bool>(5)?.unwrap_or(true),
                expired: row.get::<bool>(6)?.unwrap_or(true),
            }))
        },
    )
}
