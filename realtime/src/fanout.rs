//! A batch of changes to the channels that may see them. Channels are
//! grouped by role and claims; each group re-reads the changed records
//! through the API views once, as that role with those claims, and every
//! channel of the group is sent what it may read and its bindings want.
//! The statements of many groups go in one round trip, in one read-only
//! transaction (one snapshot): queries per batch = distinct claim sets with
//! an interest in it, never one per subscriber.

use crate::auth::Subject;
use crate::db::Pool;
use crate::hub::{Channel, Metrics};
use crate::protocol::Op;
use crate::reread::{reread_all, DeleteRule, Group, Seen};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

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

/// What is sent of a change (`record`, `old_record`) and the row filters are
/// matched against; None when the group may see nothing of it.
type Visible = Option<(String, Map<String, Value>)>;

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
    // Per group, which changes some member wants: the records to re-read
    // are listed once per group, not once per member.
    let mut marks: Vec<Vec<bool>> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut wanted: Vec<usize> = Vec::new();
    for (i, ch) in channels.iter().enumerate() {
        if ch.closed.load(Relaxed) {
            continue;
        }
        let floor = ch.floor.load(Relaxed);
        wanted.clear();
        wanted.extend(changes.iter().enumerate().filter_map(|(k, c)| {
            (c.id > floor
                && ch
                    .bindings
                    .iter()
                    .any(|b| b.event.wants(c.op) && b.table.as_deref().is_none_or(|t| t == c.entity)))
            .then_some(k)
        }));
        if wanted.is_empty() {
            continue;
        }
        let subject = ch.subject.read().unwrap_or_else(|e| e.into_inner());
        if subject.expired(now) {
            continue;
        }
        let g = match by_key.get(&subject.group) {
            Some(&g) => g,
            None => {
                groups.push(Group {
                    subject: subject.clone(),
                    members: Vec::new(),
                    reread: BTreeMap::new(),
                    deletes: BTreeSet::new(),
                });
                marks.push(vec![false; changes.len()]);
                by_key.insert(subject.group.clone(), groups.len() - 1);
                groups.len() - 1
            }
        };
        drop(subject);
        groups[g].members.push(i);
        for &k in &wanted {
            marks[g][k] = true;
        }
    }
    for (group, marks) in groups.iter_mut().zip(&marks) {
        for (c, _) in changes.iter().zip(marks).filter(|(_, m)| **m) {
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
    // By role: a connection's prepared re-read is planned again when its role changes.
    groups.sort_by(|a, b| (&a.subject.role, &a.subject.group).cmp(&(&b.subject.role, &b.subject.group)));
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
