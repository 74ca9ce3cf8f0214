//! The SQL functions of webhooks: `cot.create_webhook`, `cot.webhooks`,
//! `cot.update_webhook`, `cot.delete_webhook`, `cot.webhook_deliveries` and
//! `cot.replay_webhook`. A tenant's webhooks are managed by superusers and
//! the tenant's admins; a webhook or delivery of a tenant the caller does
//! not administer answers as one that does not exist.

use super::{settings, ssrf, store};
use crate::catalog::meta::{self, TenantRow};
use crate::jsonb_arg::JsonbText;
use crate::permissions;
use crate::raise::{error, raise};
use cot_engine::error::{CotError, ErrorKind};
use cot_engine::names::shown;
use cot_engine::options::MAX_OPTIONS_BYTES;
use cot_engine::webhook::{options, signature};
use pgrx::prelude::*;
use pgrx::{JsonB, Uuid as PgUuid};
use serde_json::json;

/// Webhooks per tenant: each one is read on every round of the worker.
pub const MAX_WEBHOOKS_PER_TENANT: i64 = 100;

/// The tenant, when the caller administers it; else 42501, the same for a
/// tenant that does not exist.
fn administered(tenant: &str) -> TenantRow {
    if !permissions::may_define(tenant) {
        let who = cot_engine::stored::tenant_names(tenant)
            .map(|n| format!("a member of {}", n.admin_role))
            .unwrap_or_else(|_| "a member of the tenant's admin role".into());
        raise(error(
            ErrorKind::InsufficientPrivilege,
            format!(
                "permission denied to manage the webhooks of tenant {}",
                shown(tenant)
            ),
            format!("webhooks are managed by a superuser or {who}"),
        ));
    }
    meta::tenant(tenant).unwrap_or_else(|| {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("tenant {} does not exist", shown(tenant)),
            "SELECT slug FROM cot.tenants() lists the tenants",
        ))
    })
}

/// The webhook's tenant, when the caller administers it; else "does not exist".
fn owned_webhook(id: uuid::Uuid) -> String {
    match store::webhook_tenant(id) {
        Some(slug) if permissions::may_define(&slug) => slug,
        _ => raise(error(
            ErrorKind::UndefinedObject,
            format!("webhook {id} does not exist"),
            "cot.webhooks(tenant) lists a tenant's webhooks",
        )),
    }
}

fn options_of(text: &JsonbText, creating: bool) -> options::WebhookOptions {
    let doc = text
        .parse("webhook options", MAX_OPTIONS_BYTES)
        .unwrap_or_else(|e| raise(e));
    let opts = options::webhook(&doc, creating).unwrap_or_else(|e| raise(e));
    if let Some(t) = &opts.url {
        if let Err(why) = ssrf::check_target(t, settings::ALLOW_PRIVATE.get()) {
            raise(
                CotError::new(ErrorKind::InvalidParameter, format!("webhook URL refused: {why}"))
                    .detail("at /url")
                    .hint(
                        "webhooks may not reach loopback, private, link-local, CGNAT, unique-local, unspecified \
                         or multicast addresses; a superuser may allow them with cot.webhook_allow_private = on",
                    ),
            );
        }
    }
    opts
}

fn new_secret() -> String {
    let mut buf = [0u8; signature::GENERATED_SECRET_BYTES];
    // SAFETY: buf is a valid, writable buffer of buf.len() bytes.
    if !unsafe { pg_sys::pg_strong_random(buf.as_mut_ptr().cast(), buf.len()) } {
        raise(error(
            ErrorKind::NotInPrerequisiteState,
            "no strong random source",
            "the server's OpenSSL random source failed",
        ));
    }
    signature::secret_text(&buf)
}

/// Creates a webhook for `tenant`: `{"url", "events", "secret"?, "headers"?,
/// "enabled"?, "description"?}`. Returns it with its secret, shown this once
/// (generated when not given). It receives the changes committed from now on.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn create_webhook(tenant: &str, options: JsonbText) -> JsonB {
    let t = administered(tenant);
    let opts = options_of(&options, true);
    meta::lock_tenant(&t.slug);
    if store::count(t.id) >= MAX_WEBHOOKS_PER_TENANT {
        raise(error(
            ErrorKind::ProgramLimit,
            format!(
                "tenant {} has {MAX_WEBHOOKS_PER_TENANT} webhooks, the most it may have",
                shown(tenant)
            ),
            "delete one, or send several events to one webhook",
        ));
    }
    let secret = opts.secret.clone().unwrap_or_else(new_secret);
    let id = uuid::Uuid::now_v7();
    store::insert(id, t.id, &opts, &secret);
    let mut out = store::describe(id).expect("the webhook just made");
    out["secret"] = json!(secret);
    out["note"] = json!("store the secret now: cot.webhooks() never shows it");
    JsonB(out)
}

/// The tenant's webhooks (secrets and header values left out).
#[pg_extern(security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn webhooks(tenant: &str) -> JsonB {
    let t = administered(tenant);
    JsonB(store::list(t.id))
}

/// Changes a webhook: the keys given replace the stored ones.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn update_webhook(id: PgUuid, options: JsonbText) -> JsonB {
    let id = crate::spi::from_pg_uuid(id);
    owned_webhook(id);
    let opts = options_of(&options, false);
    store::update(id, &opts);
    JsonB(store::describe(id).expect("the webhook just changed"))
}

/// Deletes a webhook and its delivery log; what it had not delivered is
/// not delivered.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn delete_webhook(id: PgUuid) -> bool {
    let id = crate::spi::from_pg_uuid(id);
    owned_webhook(id);
    store::delete(id)
}

/// The delivery log of a tenant's webhooks, newest change first. Options:
/// `webhook`, `state`, `change_id`, `limit` (1-1000, 100), `before` (a
/// delivery id: the page after it).
#[pg_extern(security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn webhook_deliveries(tenant: &str, options: default!(JsonbText, "'{}'")) -> JsonB {
    let t = administered(tenant);
    let doc = options
        .parse("delivery options", MAX_OPTIONS_BYTES)
        .unwrap_or_else(|e| raise(e));
    let q = options::delivery_query(&doc).unwrap_or_else(|e| raise(e));
    JsonB(store::deliveries(t.id, &q))
}

/// Sends a delivery again, delivered or failed: it becomes pending with no
/// attempts made, due now, under the same `webhook-id`.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn replay_webhook(delivery_id: PgUuid) -> JsonB {
    let id = crate::spi::from_pg_uuid(delivery_id);
    let owner = store::delivery_tenant(id).filter(|slug| permissions::may_define(slug));
    if owner.is_none() {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("webhook delivery {id} does not exist"),
            "cot.webhook_deliveries(tenant) lists a tenant's deliveries",
        ));
    }
    JsonB(store::replay(id))
}
