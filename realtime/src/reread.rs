//! Re-reading a batch's changed records as each group of subscribers (one
//! role and claim set): per group, its role and claims, then the changed
//! records through the API views, in one read-only transaction (one
//! snapshot) per pooled connection. Statements are prepared once per
//! connection and sent pipelined: a round trip carries many groups, and
//! PostgreSQL parses and plans the re-read once, not once per group and
//! batch. Grants and row security decide what each group sees, as they would
//! for PostgREST: nothing here re-implements a rule.

use crate::auth::Subject;
use crate::db::{ident, Conn, Pool};
use crate::hub::Metrics;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::task::Poll;
use tokio_postgres::types::ToSql;
use tokio_postgres::Statement;

/// Groups whose statements share one round trip: between these bounds, as
/// many as spread the groups over every pooled connection at once (110
/// groups on 4 connections: 28 per round trip). Round trips of few groups
/// cost more than the statements they carry.
const GROUPS_PER_ROUND_TRIP: (usize, usize) = (8, 64);

/// Who among a group sees a deleted record (deletes cannot be re-read).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DeleteRule {
    /// No SELECT on the view: nothing.
    None,
    /// An owner rule applies to the role: records whose `owner_id` is the `sub`.
    Own,
    /// Every record of the tenant.
    All,
}

/// The channels of one claim set and what they need re-read.
pub struct Group {
    pub subject: Subject,
    pub members: Vec<usize>,
    pub reread: BTreeMap<String, BTreeSet<String>>,
    pub deletes: BTreeSet<String>,
}

/// What a group may see of the batch.
#[derive(Default)]
pub struct Seen {
    pub records: HashMap<(String, String), Map<String, Value>>,
    pub deletes: HashMap<String, DeleteRule>,
    pub failed: bool,
}

const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
/// Re-reads go by primary key: a table the planner has no statistics for
/// yet (a new entity, a table that grew since its last ANALYZE) would
/// otherwise be read whole, once per group, and a prepared re-read keeps
/// such a plan.
const BY_KEY: &str = "SELECT pg_catalog.set_config('enable_seqscan', 'off', true)";
const COMMIT: &str = "COMMIT";
const CLAIMS: &str =
    "SELECT pg_catalog.set_config('role', $1, true), pg_catalog.set_config('request.jwt.claims', $2, true)";
/// Who of the current role sees deletes of an entity: $1 its view
/// (`schema.name`, quoted), $2 its storage schema, $3 its name. The storage
/// schema is not the role's to use: its table is found by name.
const DELETE_RULE: &str = "SELECT CASE WHEN pg_catalog.to_regclass($1) IS NULL \
       OR NOT pg_catalog.has_table_privilege(pg_catalog.to_regclass($1), 'SELECT') THEN 'none' \
     WHEN EXISTS (SELECT FROM pg_catalog.pg_policy p WHERE p.polrelid = \
       (SELECT t.oid FROM pg_catalog.pg_class t JOIN pg_catalog.pg_namespace s ON s.oid = t.relnamespace \
         WHERE s.nspname = $2 AND t.relname = $3) \
       AND p.polname = 'cot_select_owner' AND (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) \
       = ANY (p.polroles)) THEN 'own' ELSE 'all' END";

/// The re-read of one entity's records, by id, through its API view.
fn read_sql(tenant: &str, entity: &str) -> String {
    format!(
        "SELECT pg_catalog.to_jsonb(v)::text FROM {}.{} AS v WHERE v.id = ANY ($1::text[]::uuid[])",
        ident(tenant),
        ident(entity)
    )
}

/// The re-reads of every group, several groups per round trip, round trips
/// on the pool's connections at once. Groups are best ordered by role: a
/// prepared re-read is planned again when the role it runs as changes.
pub async fn reread_all(pool: &Pool, metrics: &Metrics, tenant: &str, groups: &[Group]) -> Vec<Seen> {
    let (least, most) = GROUPS_PER_ROUND_TRIP;
    let per = groups.len().div_ceil(pool.size()).clamp(least, most);
    let chunks: Vec<(usize, &[Group])> = groups
        .chunks(per)
        .enumerate()
        .map(|(k, c)| (k * per, c))
        .collect();
    let runs = chunks.iter().map(|(start, chunk)| async move {
        metrics.reread_round_trips.fetch_add(1, Relaxed);
        metrics.reread_queries.fetch_add(chunk.len() as u64, Relaxed);
        (*start, chunk.len(), run_chunk(pool, tenant, *start, chunk).await)
    });
    let results = futures_util::future::join_all(runs).await;
    let mut seen: Vec<Seen> = (0..groups.len()).map(|_| Seen::default()).collect();
    for (start, len, found) in results {
        match found {
            Ok(found) => keep(&mut seen, found),
            // A statement failed (a grant was revoked, an entity dropped):
            // each group alone, so one group's failure costs no other.
            Err(_) => {
                for g in start..start + len {
                    metrics.reread_round_trips.fetch_add(1, Relaxed);
                    match run_chunk(pool, tenant, g, &groups[g..=g]).await {
                        Ok(found) => keep(&mut seen, found),
                        Err(e) => {
                            metrics.reread_errors.fetch_add(1, Relaxed);
                            crate::log::warn(
                                "re-read failed",
                                json!({"tenant": tenant, "role": groups[g].subject.role, "error": e}),
                            );
                            seen[g].failed = true;
                        }
                    }
                }
            }
        }
    }
    seen
}

/// What one statement of a chunk answers.
enum Part {
    Control,
    Claims,
    Read(usize, String),
    Delete(usize, String),
}

/// What a chunk found: a group's re-read record (JSON text) or delete rule.
enum Found {
    Record(usize, String, String),
    Delete(usize, String, DeleteRule),
}

/// One pooled connection, one transaction, one pipelined round trip for the
/// chunk's groups (plus, the first time, preparing its statements).
async fn run_chunk(pool: &Pool, tenant: &str, start: usize, groups: &[Group]) -> Result<Vec<Found>, String> {
    let mut conn = pool.take().await?;
    let result = pipeline(&mut conn, tenant, start, groups).await;
    if result.is_err() {
        conn.forget();
        if !conn.client.is_closed() {
            let _ = conn.client.batch_execute("ROLLBACK").await;
        }
    }
    result
}

type Args = Vec<Box<dyn ToSql + Sync + Send>>;

async fn pipeline(
    conn: &mut Conn,
    tenant: &str,
    start: usize,
    groups: &[Group],
) -> Result<Vec<Found>, String> {
    prepare_reads(conn, tenant, groups).await?;
    let begin = conn.prepare(BEGIN).await?;
    let claims = conn.prepare(CLAIMS).await?;
    let by_key = conn.prepare(BY_KEY).await?;
    let commit = conn.prepare(COMMIT).await?;
    let mut parts: Vec<(Part, Statement, Args)> = vec![
        (Part::Control, begin, Vec::new()),
        (Part::Control, by_key, Vec::new()),
    ];
    for (k, g) in groups.iter().enumerate() {
        let n = start + k;
        let args: Args = vec![
            Box::new(g.subject.role.clone()),
            Box::new(g.subject.claims.to_string()),
        ];
        parts.push((Part::Claims, claims.clone(), args));
        for (entity, ids) in &g.reread {
            let read = conn.prepare(&read_sql(tenant, entity)).await?;
            let ids: Vec<String> = ids.iter().cloned().collect();
            parts.push((Part::Read(n, entity.clone()), read, vec![Box::new(ids)]));
        }
        for entity in &g.deletes {
            let rule = conn.prepare(DELETE_RULE).await?;
            let args: Args = vec![
                Box::new(format!("{}.{}", ident(tenant), ident(entity))),
                Box::new(format!("tenant_{tenant}")),
                Box::new(entity.clone()),
            ];
            parts.push((Part::Delete(n, entity.clone()), rule, args));
        }
    }
    parts.push((Part::Control, commit, Vec::new()));
    let refs: Vec<Vec<&(dyn ToSql + Sync)>> = parts
        .iter()
        .map(|(_, _, a)| a.iter().map(|b| b.as_ref() as &(dyn ToSql + Sync)).collect())
        .collect();
    let client = &conn.client;
    let answers = in_order(
        parts
            .iter()
            .zip(&refs)
            .map(|((_, st, _), args)| client.query(st, args))
            .collect(),
    )
    .await;
    let mut found = Vec::new();
    for ((part, _, _), answer) in parts.into_iter().zip(answers) {
        let rows = answer.map_err(|e| crate::db::db_error(&e))?;
        for row in rows {
            let text: Option<String> = row.try_get(0).map_err(|e| e.to_string())?;
            let Some(text) = text else { continue };
            match &part {
                Part::Read(g, entity) => found.push(Found::Record(*g, entity.clone(), text)),
                Part::Delete(g, entity) => {
                    let rule = match text.as_str() {
                        "all" => DeleteRule::All,
                        "own" => DeleteRule::Own,
                        _ => DeleteRule::None,
                    };
                    found.push(Found::Delete(*g, entity.clone(), rule));
                }
                Part::Control | Part::Claims => {}
            }
        }
    }
    Ok(found)
}

/// Prepares the re-reads of the chunk's entities that this connection has
/// not prepared yet. Naming a tenant's view needs a role that may use its
/// schema (the login role does not inherit one), so they are prepared as a
/// role of a group that reads them; a re-read is planned again as the role
/// it runs as (row security depends on the role).
async fn prepare_reads(conn: &mut Conn, tenant: &str, groups: &[Group]) -> Result<(), String> {
    let mut missing: Vec<(String, &str)> = Vec::new();
    for g in groups {
        for entity in g.reread.keys() {
            let sql = read_sql(tenant, entity);
            if !conn.has(&sql) && !missing.iter().any(|(s, _)| *s == sql) {
                missing.push((sql, &g.subject.role));
            }
        }
    }
    for (sql, role) in missing {
        conn.client
            .batch_execute(&format!("BEGIN; SET LOCAL ROLE {}", ident(role)))
            .await
            .map_err(|e| crate::db::db_error(&e))?;
        let prepared = conn.prepare(&sql).await;
        conn.client
            .batch_execute("COMMIT")
            .await
            .map_err(|e| crate::db::db_error(&e))?;
        prepared?;
    }
    Ok(())
}

/// Awaits futures polling them in order: requests to one connection are
/// sent in the order they are first polled, so this pipelines them.
async fn in_order<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

fn keep(seen: &mut [Seen], found: Vec<Found>) {
    for f in found {
        match f {
            Found::Record(g, entity, text) => {
                let Some(s) = seen.get_mut(g) else { continue };
                if let Ok(Value::Object(rec)) = serde_json::from_str(&text) {
                    if let Some(id) = rec.get("id").and_then(Value::as_str) {
                        s.records.insert((entity, id.to_string()), rec);
                    }
                }
            }
            Found::Delete(g, entity, rule) => {
                if let Some(s) = seen.get_mut(g) {
                    s.deletes.insert(entity, rule);
                }
            }
        }
    }
}
