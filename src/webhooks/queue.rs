//! The worker's statements on the meta-tables: which tenants to read, the
//! deliveries due, the outcomes recorded, old deliveries pruned. Every one
//! runs on the worker's main thread, inside a short transaction, and none
//! waits on the network.

use crate::spi::{first, from_pg_uuid, pg_uuid, query};
use pgrx::{JsonB, Uuid as PgUuid};
use serde_json::Value;

/// The worker's session: JIT off. The generic plans of its statements are
/// costed for thousands of rows (they are bounded by LIMITs the planner does
/// not know), which crossed `jit_above_cost` and spent 9-28 ms compiling
/// each round of a 20,000-delivery backlog, against 0.1 ms of execution.
pub fn session_settings() {
    query("SELECT pg_catalog.set_config('jit', 'off', false)", &[], |_| {
        Ok(())
    })
}

/// Is this database ready for the worker: the extension at a version with
/// webhooks? (`cot.changes` is looked for separately: without it there is
/// nothing to read, but deliveries already made still go out.)
pub fn installed() -> bool {
    query(
        "SELECT pg_catalog.to_regclass('cot.webhook_deliveries') IS NOT NULL",
        &[],
        first::<bool>,
    )
    .unwrap_or(false)
}

/// Does `cot.changes` exist?
pub fn change_log_exists() -> bool {
    query(
        "SELECT pg_catalog.to_regprocedure('cot.changes(text,bigint,integer)') IS NOT NULL",
        &[],
        first::<bool>,
    )
    .unwrap_or(false)
}

/// The last id the change log's sequence gave out (0 before the first, or
/// without a change log): new webhooks start there, and the worker reads
/// the change log when it moved.
pub fn change_position() -> i64 {
    query(
        "SELECT COALESCE(pg_catalog.pg_sequence_last_value(s), 0) \
           FROM pg_catalog.to_regclass('cot.change_seq') AS s WHERE s IS NOT NULL",
        &[],
        first::<i64>,
    )
    .unwrap_or(0)
}

/// The tenants with an enabled webhook and a change log, by slug.
pub fn tenants_to_read() -> Vec<String> {
    query(
        "SELECT DISTINCT t.slug FROM cot.webhooks AS w JOIN cot.tenants AS t ON t.id = w.tenant_id \
          WHERE w.enabled \
            AND pg_catalog.to_regclass(pg_catalog.format('%I._changes', 'tenant_' || t.slug)) IS NOT NULL \
          ORDER BY 1",
        &[],
        crate::spi::texts,
    )
}

/// An enabled webhook of a tenant, locked for this transaction.
pub struct Subscriber {
    /// Its id.
    pub id: uuid::Uuid,
    /// Its event patterns.
    pub events: Vec<String>,
    /// Its cursor in the change log.
    pub position: i64,
}

/// The enabled webhooks of `slug`, locked; one an administrator is changing
/// right now is skipped until the next round rather than waited for.
pub fn lock_subscribers(slug: &str) -> Vec<Subscriber> {
    query(
        "SELECT w.id, w.events, w.position FROM cot.webhooks AS w \
          WHERE w.enabled AND w.tenant_id = (SELECT t.id FROM cot.tenants AS t WHERE t.slug = $1) \
          ORDER BY w.id FOR NO KEY UPDATE OF w SKIP LOCKED",
        &[slug.into()],
        |t| {
            t.map(|row| {
                Ok(Subscriber {
                    id: from_pg_uuid(row.get::<PgUuid>(1)?.expect("id is not null")),
                    events: row.get::<Vec<String>>(2)?.unwrap_or_default(),
                    position: row.get::<i64>(3)?.unwrap_or(0),
                })
            })
            .collect()
        },
    )
}

/// One page of `cot.changes`, as JSON text. Not through the kept plans of
/// `crate::spi::query`: `cot.changes` runs Cot's own code in this backend,
/// which uses them while this statement runs.
pub fn changes(slug: &str, after: i64, max: i32) -> String {
    crate::spi::spi(pgrx::Spi::connect_mut(|client| {
        let t = client.update(
            "SELECT cot.changes($1, $2, $3)::text",
            None,
            &[slug.into(), after.into(), max.into()],
        )?;
        first::<String>(t)
    }))
    .unwrap_or_default()
}

/// Inserts deliveries (`[{id, webhook_id, change_id, record_id, event,
/// payload}]`); one already there for the same webhook and change is kept.
pub fn insert_deliveries(rows: Value) {
    query(
        "INSERT INTO cot.webhook_deliveries (id, webhook_id, change_id, record_id, event, payload) \
         SELECT r.id, r.webhook_id, r.change_id, r.record_id, r.event, r.payload \
           FROM pg_catalog.jsonb_to_recordset($1) \
                AS r(id uuid, webhook_id uuid, change_id bigint, record_id uuid, event text, payload jsonb) \
         ON CONFLICT (webhook_id, change_id) DO NOTHING",
        &[JsonB(rows).into()],
        |_| Ok(()),
    )
}

/// Moves cursors forward (`[{id, position}]`).
pub fn advance(positions: Value) {
    query(
        "UPDATE cot.webhooks AS w SET position = r.position \
           FROM pg_catalog.jsonb_to_recordset($1) AS r(id uuid, position bigint) \
          WHERE w.id = r.id AND w.position < r.position",
        &[JsonB(positions).into()],
        |_| Ok(()),
    )
}

/// A delivery to send now.
pub struct Due {
    /// The delivery.
    pub id: uuid::Uuid,
    /// Its webhook.
    pub webhook: uuid::Uuid,
    /// Attempts made.
    pub attempts: u32,
    /// Target.
    pub url: String,
    /// `whsec_...`.
    pub secret: String,
    /// Extra headers, a JSON object.
    pub headers: String,
    /// The body.
    pub payload: String,
}

/// The due deliveries of each enabled webhook, as many as it has room for
/// (`per_webhook` less its requests in flight, `in_flight`), oldest change
/// first, leaving out those in `busy` (in flight or not yet recorded) and
/// any whose record has an earlier delivery still pending for the same
/// webhook: a record's changes go out one at a time, in order. The
/// `OFFSET 0` keeps that check a probe of the record index per candidate:
/// turned into an anti-join, it was planned (with the table's statistics
/// still empty) as a scan of every pending delivery per candidate, 20 ms a
/// round with 10,000 pending.
pub fn due(busy: &[uuid::Uuid], per_webhook: i32, in_flight: &[(uuid::Uuid, i32)]) -> Vec<Due> {
    let busy: Vec<PgUuid> = busy.iter().map(|u| pg_uuid(*u)).collect();
    let hooks: Vec<PgUuid> = in_flight.iter().map(|(w, _)| pg_uuid(*w)).collect();
    let counts: Vec<i32> = in_flight.iter().map(|(_, n)| *n).collect();
    query(
        "SELECT d.id, w.id, d.attempts, w.url, w.secret, w.headers::text, d.payload::text \
           FROM cot.webhooks AS w \
          CROSS JOIN LATERAL ( \
                SELECT d.id, d.attempts, d.payload FROM cot.webhook_deliveries AS d \
                 WHERE d.webhook_id = w.id AND d.state = 'pending' \
                   AND d.next_attempt_at <= pg_catalog.clock_timestamp() \
                   AND d.id <> ALL ($1) \
                   AND NOT EXISTS (SELECT FROM cot.webhook_deliveries AS e \
                                    WHERE e.webhook_id = d.webhook_id AND e.record_id = d.record_id \
                                      AND e.state = 'pending' AND e.change_id < d.change_id OFFSET 0) \
                 ORDER BY d.change_id \
                 LIMIT GREATEST($2 - COALESCE((SELECT f.n FROM ROWS FROM (pg_catalog.unnest($3::uuid[]), pg_catalog.unnest($4::integer[])) AS f(w, n) \
                                                WHERE f.w = w.id), 0), 0)) AS d \
          WHERE w.enabled",
        &[busy.into(), per_webhook.into(), hooks.into(), counts.into()],
        |t| {
            t.map(|row| {
                Ok(Due {
                    id: from_pg_uuid(row.get::<PgUuid>(1)?.expect("id")),
                    webhook: from_pg_uuid(row.get::<PgUuid>(2)?.expect("webhook")),
                    attempts: row.get::<i32>(3)?.unwrap_or(0).max(0) as u32,
                    url: row.get::<String>(4)?.unwrap_or_default(),
                    secret: row.get::<String>(5)?.unwrap_or_default(),
                    headers: row.get::<String>(6)?.unwrap_or_default(),
                    payload: row.get::<String>(7)?.unwrap_or_default(),
                })
            })
            .collect()
        },
    )
}

/// Records outcomes (`[{id, state, delay_ms, status, error, latency_ms}]`,
/// their ids also in `ids`); returns the ids recorded. A delivery locked by
/// someone else (a replay in a transaction still open) is left for the next
/// round. The rows are found through `ids` (the primary key) and nothing
/// else: joined with the JSON rows, or with `state = 'pending'` in a WHERE
/// clause (which matches the partial indexes' predicate), the planner
/// scanned every pending delivery, 20 ms a round with 10,000 of them.
pub fn record(ids: &[uuid::Uuid], outcomes: Value) -> Vec<uuid::Uuid> {
    let ids: Vec<PgUuid> = ids.iter().map(|u| pg_uuid(*u)).collect();
    query(
        "WITH mine AS (SELECT d.id, d.state FROM cot.webhook_deliveries AS d WHERE d.id = ANY ($1) \
                       FOR NO KEY UPDATE SKIP LOCKED) \
         UPDATE cot.webhook_deliveries AS d \
            SET state = r.state, attempts = d.attempts + 1, \
                next_attempt_at = CASE WHEN r.state = 'pending' \
                                       THEN pg_catalog.clock_timestamp() + r.delay_ms * interval '1 millisecond' \
                                       ELSE d.next_attempt_at END, \
                last_attempt_at = pg_catalog.clock_timestamp(), last_status = r.status, \
                last_error = r.error, latency_ms = r.latency_ms, \
                delivered_at = CASE WHEN r.state = 'delivered' THEN pg_catalog.clock_timestamp() END \
           FROM pg_catalog.jsonb_to_recordset($2) \
                AS r(id uuid, state text, delay_ms bigint, status integer, error text, latency_ms integer), \
                mine AS m \
          WHERE d.id = ANY ($1) AND d.id = r.id AND m.id = r.id AND m.state = 'pending' \
         RETURNING d.id",
        &[ids.into(), JsonB(outcomes).into()],
        |t| {
            t.map(|row| Ok(from_pg_uuid(row.get::<PgUuid>(1)?.expect("id"))))
                .collect()
        },
    )
}

/// Deletes up to 1,000 delivered or failed deliveries whose last attempt is
/// older than `retention_s`; returns how many.
pub fn prune(retention_s: i32) -> i64 {
    query(
        "WITH gone AS (DELETE FROM cot.webhook_deliveries WHERE id IN ( \
                 SELECT id FROM cot.webhook_deliveries \
                  WHERE state <> 'pending' \
                    AND last_attempt_at < pg_catalog.now() - $1 * interval '1 second' \
                  LIMIT 1000 FOR UPDATE SKIP LOCKED) RETURNING 1) \
         SELECT pg_catalog.count(*) FROM gone",
        &[retention_s.into()],
        first::<i64>,
    )
    .unwrap_or(0)
}
