//! The rows of `cot.webhooks` and `cot.webhook_deliveries`, for the SQL
//! functions (the worker's statements are in `queue.rs`).

use crate::spi::{first, pg_uuid, query};
use cot_engine::webhook::options::{DeliveryQuery, WebhookOptions};
use pgrx::JsonB;
use serde_json::{json, Value};

/// A webhook as the functions show it: no secret, header names only, with
/// its cursor and the number of deliveries pending.
macro_rules! describe {
    () => {
        "pg_catalog.jsonb_build_object(\
    'id', w.id, 'tenant', t.slug, 'url', w.url, 'events', pg_catalog.to_jsonb(w.events), \
    'headers', (SELECT COALESCE(pg_catalog.jsonb_agg(k ORDER BY k), '[]') FROM pg_catalog.jsonb_object_keys(w.headers) AS k), \
    'enabled', w.enabled, 'description', w.description, 'position', w.position, \
    'pending', (SELECT pg_catalog.count(*) FROM cot.webhook_deliveries AS d WHERE d.webhook_id = w.id AND d.state = 'pending'), \
    'created_at', w.created_at, 'updated_at', w.updated_at)"
    };
}

fn jsonb(t: pgrx::spi::SpiTupleTable<'_>) -> Result<Option<Value>, pgrx::spi::Error> {
    Ok(first::<JsonB>(t)?.map(|j| j.0))
}

/// One webhook, described.
pub fn describe(id: uuid::Uuid) -> Option<Value> {
    const SQL: &str = concat!(
        "SELECT ",
        describe!(),
        " FROM cot.webhooks AS w JOIN cot.tenants AS t ON t.id = w.tenant_id WHERE w.id = $1"
    );
    query(SQL, &[pg_uuid(id).into()], jsonb)
}

/// A tenant's webhooks, described, oldest first.
pub fn list(tenant_id: uuid::Uuid) -> Value {
    const SQL: &str = concat!(
        "SELECT COALESCE(pg_catalog.jsonb_agg(",
        describe!(),
        " ORDER BY w.created_at, w.id), '[]') \
           FROM cot.webhooks AS w JOIN cot.tenants AS t ON t.id = w.tenant_id WHERE w.tenant_id = $1"
    );
    query(SQL, &[pg_uuid(tenant_id).into()], jsonb).unwrap_or_else(|| json!([]))
}

/// The slug of a webhook's tenant.
pub fn webhook_tenant(id: uuid::Uuid) -> Option<String> {
    query(
        "SELECT t.slug FROM cot.webhooks AS w JOIN cot.tenants AS t ON t.id = w.tenant_id WHERE w.id = $1",
        &[pg_uuid(id).into()],
        first::<String>,
    )
}

/// The slug of a delivery's tenant.
pub fn delivery_tenant(id: uuid::Uuid) -> Option<String> {
    query(
        "SELECT t.slug FROM cot.webhook_deliveries AS d JOIN cot.webhooks AS w ON w.id = d.webhook_id \
           JOIN cot.tenants AS t ON t.id = w.tenant_id WHERE d.id = $1",
        &[pg_uuid(id).into()],
        first::<String>,
    )
}

/// How many webhooks a tenant has.
pub fn count(tenant_id: uuid::Uuid) -> i64 {
    query(
        "SELECT pg_catalog.count(*) FROM cot.webhooks WHERE tenant_id = $1",
        &[pg_uuid(tenant_id).into()],
        first::<i64>,
    )
    .unwrap_or(0)
}

fn events(o: &WebhookOptions) -> Option<Vec<String>> {
    o.events
        .as_ref()
        .map(|e| e.iter().map(ToString::to_string).collect())
}

fn headers(o: &WebhookOptions) -> Option<JsonB> {
    o.headers.as_ref().map(|h| JsonB(json!(h)))
}

/// Stores a new webhook, its cursor at the change log's current end (the end
/// of the last block of ids the sequence gave out).
pub fn insert(id: uuid::Uuid, tenant_id: uuid::Uuid, o: &WebhookOptions, secret: &str) {
    query(
        "INSERT INTO cot.webhooks (id, tenant_id, url, events, secret, headers, enabled, description, position) \
         VALUES ($1, $2, $3, $4, $5, COALESCE($6, '{}'), COALESCE($7, true), $8, \
                 COALESCE((SELECT pg_catalog.pg_sequence_last_value(s) + $9 - 1 \
                             FROM pg_catalog.to_regclass('cot.change_seq') AS s WHERE s IS NOT NULL), 0))",
        &[
            pg_uuid(id).into(),
            pg_uuid(tenant_id).into(),
            o.url.as_ref().map(|t| t.url.clone()).into(),
            events(o).into(),
            secret.into(),
            headers(o).into(),
            o.enabled.into(),
            o.description.clone().flatten().into(),
            cot_engine::plan::history::BLOCK.into(),
        ],
        |_| Ok(()),
    )
}

/// Replaces the keys given.
pub fn update(id: uuid::Uuid, o: &WebhookOptions) {
    query(
        "UPDATE cot.webhooks SET url = COALESCE($2, url), events = COALESCE($3, events), \
                secret = COALESCE($4, secret), headers = COALESCE($5, headers), \
                enabled = COALESCE($6, enabled), \
                description = CASE WHEN $7 THEN $8 ELSE description END, updated_at = pg_catalog.now() \
          WHERE id = $1",
        &[
            pg_uuid(id).into(),
            o.url.as_ref().map(|t| t.url.clone()).into(),
            events(o).into(),
            o.secret.clone().into(),
            headers(o).into(),
            o.enabled.into(),
            o.description.is_some().into(),
            o.description.clone().flatten().into(),
        ],
        |_| Ok(()),
    )
}

/// Deletes a webhook (its deliveries go with it).
pub fn delete(id: uuid::Uuid) -> bool {
    query(
        "DELETE FROM cot.webhooks WHERE id = $1 RETURNING true",
        &[pg_uuid(id).into()],
        first::<bool>,
    )
    .unwrap_or(false)
}

macro_rules! delivery {
    () => {
        "pg_catalog.jsonb_build_object(\
    'id', d.id, 'webhook_id', d.webhook_id, 'change_id', d.change_id, 'event', d.event, \
    'record_id', d.record_id, 'state', d.state, 'attempts', d.attempts, \
    'next_attempt_at', CASE WHEN d.state = 'pending' THEN d.next_attempt_at END, \
    'last_attempt_at', d.last_attempt_at, 'last_status', d.last_status, 'last_error', d.last_error, \
    'latency_ms', d.latency_ms, 'created_at', d.created_at, 'delivered_at', d.delivered_at)"
    };
}

/// A page of a tenant's delivery log.
pub fn deliveries(tenant_id: uuid::Uuid, q: &DeliveryQuery) -> Value {
    const SQL: &str = concat!(
        "SELECT COALESCE(pg_catalog.jsonb_agg(",
        delivery!(),
        " ORDER BY d.change_id DESC, d.id DESC), '[]') FROM ( \
            SELECT d.* FROM cot.webhook_deliveries AS d JOIN cot.webhooks AS w ON w.id = d.webhook_id \
             WHERE w.tenant_id = $1 AND ($2::uuid IS NULL OR d.webhook_id = $2) \
               AND ($3::text IS NULL OR d.state = $3) AND ($4::bigint IS NULL OR d.change_id = $4) \
               AND ($5::uuid IS NULL OR (d.change_id, d.id) < \
                    (SELECT b.change_id, b.id FROM cot.webhook_deliveries AS b WHERE b.id = $5)) \
             ORDER BY d.change_id DESC, d.id DESC LIMIT $6) AS d"
    );
    query(
        SQL,
        &[
            pg_uuid(tenant_id).into(),
            q.webhook.map(pg_uuid).into(),
            q.state.clone().into(),
            q.change_id.into(),
            q.before.map(pg_uuid).into(),
            q.limit.into(),
        ],
        jsonb,
    )
    .unwrap_or_else(|| json!([]))
}

/// Makes a delivery pending again, due now, with no attempts made.
pub fn replay(id: uuid::Uuid) -> Value {
    const SQL: &str = concat!(
        "WITH d AS (UPDATE cot.webhook_deliveries \
                       SET state = 'pending', attempts = 0, next_attempt_at = pg_catalog.now(), delivered_at = NULL \
                     WHERE id = $1 RETURNING *) SELECT ",
        delivery!(),
        " FROM d"
    );
    query(SQL, &[pg_uuid(id).into()], jsonb).unwrap_or(Value::Null)
}
