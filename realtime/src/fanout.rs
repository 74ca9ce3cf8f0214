//! A batch of changes to the channels that may see them. Channels are
//! grouped by role and claims; each group re-reads the changed records
//! through the API views once, as that role with those claims, and every
//! channel of the group is sent what it may read and its bindings want.
//! The statements of many groups go in one round trip, in one read-only
//! transaction (one snapshot): queries per batch = distinct claim sets with
//! an interest in it, never one per subscriber.

use crate::auth::Subject;
use crate::db::{ident, lit, Pool};
use crate::hub::{Channel, Metrics};
use crate::protocol::Op;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Groups whose statements share one round trip: between these bounds, as
/// many as spread the groups over every pooled connection at once (110
/// groups on 4 connections: 28 per round trip). Round trips of few groups
/// cost more than the statements they carry.
const GROUPS_PER_ROUND_TRIP: (usize, usize) = (8, 64);

/// One change, as `cot.changes` returns it.
#[derive(Clone, Debug)]
pub struct Change {
    pub id: i64,
    pub at: String,
    pub entity: String,
    pub record_id: String,
    pub op: Op,
    pub old: Map<String, Value>,
}

impl Change {
    pub fn from_log(v: &Value) -> Option<Change> {
        Some(Change {
            id: v.get("id")?.as_i64()?,
            at: v
                .get("at")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            entity: v.get("entity")?.as_str()?.to_string(),
            record_id: v.get("record_id")?.as_str()?.to_string(),
            op: Op::from_log(v.get("op")?.as_str()?)?,
            old: v
                .get("old")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }
}

/// Who among a group sees a deleted record (deletes cannot be re-read).
#[derive(Clone, Copy, Debug, PartialEq)]
enum DeleteRule {
    /// No SELECT on the view: nothing.
    None,
    /// An owner rule applies to the role: records whose `owner_id` is the `sub`.
    Own,
    /// Every record of the tenant.
    All,
}

/// The channels of one claim set and what they need re-read.
struct Group {
    subject: Subject,
    members: Vec<usize>,
    reread: BTreeMap<String, BTreeSet<String>>,
    deletes: BTreeSet<String>,
}

/// What is sent of a change (`record`, `old_record`) and the row filters are
/// matched against; None when the group may see nothing of it.
type Visible = Option<(String, Map<String, Value>)>;

/// What a group may see of the batch.
#[derive(Default)]
struct Seen {
    records: HashMap<(String, String), Map<String, Value>>,
    deletes: HashMap<String, DeleteRule>,
    failed: bool,
}

/// Sends `changes` (of `tenant`, in id order) to `channels`; returns how many
/// messages were queued.
pub async fn deliver(
    pool: &Pool,
    metrics: &Metrics,
    tenant: &str,
    changes: &[Change],
    channels: &[Arc<Channel>],
) -> usize {
    let now = crate::auth::now();
    let mut groups: Vec<Group> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for (i, ch) in channels.iter().enumerate() {
        let subject = ch.subject();
        if subject.expired(now) || ch.closed.load(Relaxed) {
            continue;
        }
        let floor = ch.floor.load(Relaxed);
        let wanted: Vec<&Change> = changes
            .iter()
            .filter(|c| {
                c.id > floor
                    && ch
                        .bindings
                        .iter()
                        .any(|b| b.event.wants(c.op) && b.table.as_deref().is_none_or(|t| t == c.entity))
            })
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let g = *by_key.entry(subject.group.clone()).or_insert_with(|| {
            groups.push(Group {
                subject,
                members: Vec::new(),
                reread: BTreeMap::new(),
                deletes: BTreeSet::new(),
            });
            groups.len() - 1
        });
        let group = &mut groups[g];
        group.members.push(i);
        for c in wanted {
            if c.op == Op::Delete {
                group.deletes.insert(c.entity.clone());
            } else {
                group
                    .reread
                    .entry(c.entity.clone())
                    .or_default()
                    .insert(c.record_id.clone());
            }
        }
    }
    if groups.is_empty() {
        return 0;
    }
    let seen = reread_all(pool, metrics, tenant, &groups).await;
    let mut sent = 0;
    for (group, seen) in groups.iter().zip(&seen) {
        if seen.failed {
            continue;
        }
        let mut data_cache: HashMap<usize, Visible> = HashMap::new();
        for &i in &group.members {
            sent += send_to(
                &channels[i],
                &group.subject,
                tenant,
                changes,
                seen,
                &mut data_cache,
            );
        }
    }
    sent
}

/// The re-reads of every group, several groups per round trip, round trips
/// on the pool's connections at once.
async fn reread_all(pool: &Pool, metrics: &Metrics, tenant: &str, groups: &[Group]) -> Vec<Seen> {
    let (least, most) = GROUPS_PER_ROUND_TRIP;
    let per = groups.len().div_ceil(pool.size()).clamp(least, most);
    let chunks: Vec<(usize, &[Group])> = groups
        .chunks(per)
        .enumerate()
        .map(|(k, c)| (k * per, c))
        .collect();
    let runs = chunks.iter().map(|(start, chunk)| async move {
        let sql = chunk_sql(tenant, *start, chunk);
        metrics.reread_round_trips.fetch_add(1, Relaxed);
        metrics.reread_queries.fetch_add(chunk.len() as u64, Relaxed);
        match pool.rows(&sql).await {
            Ok(rows) => (*start, chunk.len(), Some(rows)),
            Err(_) => (*start, chunk.len(), None),
        }
    });
    let results = futures_util::future::join_all(runs).await;
    let mut seen: Vec<Seen> = (0..groups.len()).map(|_| Seen::default()).collect();
    for (start, len, rows) in results {
        match rows {
            Some(rows) => read_rows(&mut seen, rows),
            // A statement failed (a grant was revoked, an entity dropped):
            // each group alone, so one group's failure costs no other.
            None => {
                for g in start..start + len {
                    metrics.reread_round_trips.fetch_add(1, Relaxed);
                    match pool.rows(&chunk_sql(tenant, g, &groups[g..=g])).await {
                        Ok(rows) => read_rows(&mut seen, rows),
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

/// One transaction: per group, its role and claims, then one statement that
/// re-reads its records (all entities at once) and says who sees deletes.
fn chunk_sql(tenant: &str, start: usize, groups: &[Group]) -> String {
    let mut sql = String::from("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;");
    for (k, g) in groups.iter().enumerate() {
        let n = start + k;
        let _ = write!(
            sql,
            " SELECT pg_catalog.set_config('role', {}, true), pg_catalog.set_config('request.jwt.claims', {}, true);",
            lit(&g.subject.role),
            lit(&g.subject.claims.to_string())
        );
        let mut parts = Vec::new();
        for (entity, ids) in &g.reread {
            let list = format!(
                "{{{}}}",
                ids.iter()
                    .map(|i| i.replace([',', '{', '}', '"', '\\'], ""))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            parts.push(format!(
                "SELECT {n}, 'r', {e}, pg_catalog.to_jsonb(v)::text FROM {s}.{t} AS v WHERE v.id = ANY ({l}::uuid[])",
                e = lit(entity),
                s = ident(tenant),
                t = ident(entity),
                l = lit(&list)
            ));
        }
        for entity in &g.deletes {
            let view = lit(&format!("{}.{}", ident(tenant), ident(entity)));
            // The storage schema is not the role's to use: its table is found by name.
            let table = format!(
                "(SELECT t.oid FROM pg_catalog.pg_class t JOIN pg_catalog.pg_namespace s ON s.oid = t.relnamespace \
                   WHERE s.nspname = {} AND t.relname = {})",
                lit(&format!("tenant_{tenant}")),
                lit(entity)
            );
            parts.push(format!(
                "SELECT {n}, 'd', {e}, CASE WHEN pg_catalog.to_regclass({view}) IS NULL \
                   OR NOT pg_catalog.has_table_privilege(pg_catalog.to_regclass({view}), 'SELECT') THEN 'none' \
                 WHEN EXISTS (SELECT FROM pg_catalog.pg_policy p WHERE p.polrelid = {table} \
                   AND p.polname = 'cot_select_owner' AND (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) \
                   = ANY (p.polroles)) THEN 'own' ELSE 'all' END",
                e = lit(entity)
            ));
        }
        let _ = write!(sql, " {};", parts.join(" UNION ALL "));
    }
    sql.push_str(" COMMIT;");
    sql
}

fn read_rows(seen: &mut [Seen], rows: Vec<Vec<Option<String>>>) {
    for row in rows {
        let [Some(g), Some(kind), Some(entity), value] =
            <[Option<String>; 4]>::try_from(row).unwrap_or_default()
        else {
            continue; // set_config's row
        };
        let Some(s) = g.parse::<usize>().ok().and_then(|g| seen.get_mut(g)) else {
            continue;
        };
        match (kind.as_str(), value) {
            ("r", Some(v)) => {
                if let Ok(Value::Object(rec)) = serde_json::from_str(&v) {
                    if let Some(id) = rec.get("id").and_then(Value::as_str) {
                        s.records.insert((entity, id.to_string()), rec);
                    }
                }
            }
            ("d", Some(v)) => {
                let rule = match v.as_str() {
                    "all" => DeleteRule::All,
                    "own" => DeleteRule::Own,
                    _ => DeleteRule::None,
                };
                s.deletes.insert(entity, rule);
            }
            _ => {}
        }
    }
}

/// What a group may see of change `c`: the record (insert, update) or the
/// old row (delete, to match filters against), and what is sent as
/// `record`/`old_record`. None: nothing.
fn visible(c: &Change, subject: &Subject, tenant: &str, seen: &Seen) -> Visible {
    let id_only = json!({"id": c.record_id});
    let (record, old, row) = match c.op {
        Op::Insert | Op::Update => {
            let rec = seen.records.get(&(c.entity.clone(), c.record_id.clone()))?;
            let old = if c.op == Op::Update { id_only } else { json!({}) };
            (Value::Object(rec.clone()), old, rec.clone())
        }
        Op::Delete => {
            let allowed = match seen.deletes.get(&c.entity)? {
                DeleteRule::All => true,
                DeleteRule::Own => {
                    subject.sub.is_some()
                        && c.old.get("owner_id").and_then(Value::as_str) == subject.sub.as_deref()
                }
                DeleteRule::None => false,
            };
            if !allowed {
                return None;
            }
            (json!({}), id_only, c.old.clone())
        }
    };
    // Serialized once per group: every channel of the group sends these bytes.
    let data = json!({"schema": tenant, "table": c.entity, "commit_timestamp": c.at, "type": c.op.name(),
                      "columns": [], "record": record, "old_record": old, "errors": null});
    Some((data.to_string(), row))
}

/// Queues one channel's messages; the data of a change is built once per group.
fn send_to(
    ch: &Channel,
    subject: &Subject,
    tenant: &str,
    changes: &[Change],
    seen: &Seen,
    cache: &mut HashMap<usize, Visible>,
) -> usize {
    let floor = ch.floor.load(Relaxed);
    let mut sent = 0;
    let mut last = None;
    for (k, c) in changes.iter().enumerate() {
        if c.id <= floor {
            continue;
        }
        let Some((data, row)) = cache
            .entry(k)
            .or_insert_with(|| visible(c, subject, tenant, seen))
        else {
            continue;
        };
        let ids: Vec<String> = ch
            .bindings
            .iter()
            .filter(|b| b.wants(&c.entity, c.op, row))
            .map(|b| b.id.to_string())
            .collect();
        if ids.is_empty() {
            continue;
        }
        if ch.push(
            "postgres_changes",
            &format!("{{\"ids\":[{}],\"data\":{data}}}", ids.join(",")),
        ) {
            sent += 1;
            last = Some(c.id);
        }
    }
    if let Some(p) = last {
        ch.push_position(p);
    }
    sent
}
