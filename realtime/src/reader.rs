//! The change log reader: one per server, for every tenant of the database.
//! It keeps a cursor per tenant with subscribers, reads new changes with
//! `cot.changes` (as the tenant's admin role, which the login role is a
//! member of, as PostgREST's authenticator is), and hands each batch to the
//! fan-out. It wakes on `NOTIFY cot_changes` (one per writing transaction and
//! tenant, no data; asked for with `cot.listen_changes()`) and polls tenants
//! with subscribers as a safety net.

use crate::db::{self, ident, lit, Pool};
use crate::fanout::{deliver, Change};
use crate::hub::{Channel, Hub};
use crate::log;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_postgres::Client;

/// A channel to start serving: its join's `reply` once its starting
/// position is known, then what it missed since `after` when given (a
/// resume), then live changes. Answers the position live changes start
/// after, or an error and whether the reply was sent.
pub struct Register {
    pub channel: Arc<Channel>,
    pub after: Option<i64>,
    pub reply: String,
    pub done: oneshot::Sender<Result<i64, (bool, String)>>,
}

/// Does some writer hold the watermark back (its advisory lock is taken
/// before its first change and held to its end; see docs/changes.md)?
const HELD: &str = "SELECT EXISTS (SELECT FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory' AND l.objsubid = 1 \
     AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()))::text";

/// One page of a tenant's log, read as its admin role.
async fn page(client: &Client, tenant: &str, after: i64, max: i32) -> Result<(Vec<Change>, i64), String> {
    let sql = format!(
        "BEGIN; SET LOCAL ROLE {}; SELECT cot.changes({}, {after}, {max})::text; COMMIT;",
        ident(&format!("cot_{tenant}_admin")),
        lit(tenant)
    );
    let rows = db::rows(client, &sql).await;
    if rows.is_err() && !client.is_closed() {
        let _ = client.batch_execute("ROLLBACK").await;
    }
    let text = rows?
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten())
        .ok_or("no answer")?;
    let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let changes = v["changes"]
        .as_array()
        .map(|a| a.iter().filter_map(Change::from_log).collect())
        .unwrap_or_default();
    Ok((changes, v["next"].as_i64().unwrap_or(after)))
}

/// The watermark now: every change up to it is final, every later one is
/// still to come. `cot.changes` tells it for a page that is not full; from a
/// `hint` at or below it, a page usually is not. Otherwise it is searched for
/// with pages of one change (a probe above the watermark returns its own
/// `after`; one below returns a change or the watermark itself).
async fn watermark(client: &Client, tenant: &str, hint: i64, max: i32) -> Result<i64, String> {
    let (changes, next) = page(client, tenant, hint, max).await?;
    if (changes.len() as i32) < max {
        return Ok(next);
    }
    let (mut lo, mut hi, mut step) = (next, None::<i64>, 1i64 << 10);
    loop {
        let probe = match hi {
            None => lo.saturating_add(step),
            Some(h) if h - lo <= 1 => lo,
            Some(h) => lo + (h - lo) / 2,
        };
        let (changes, next) = page(client, tenant, probe, 1).await?;
        match changes.first() {
            Some(c) => lo = c.id,
            None if next > probe => return Ok(next),
            None if probe == lo => return Ok(lo),
            None => hi = Some(probe),
        }
        if hi == Some(lo) {
            return Ok(lo);
        }
        step = step.saturating_mul(4);
    }
}

/// The reader's state across reconnections.
struct Reader {
    hub: Arc<Hub>,
    pool: Arc<Pool>,
    batch: i32,
    cursors: HashMap<String, i64>,
    pending: HashSet<String>,
    /// The highest watermark seen: a lower bound of the watermark from then on.
    hint: i64,
    retry: Duration,
}

impl Reader {
    /// Reads and fans out every pending tenant's new changes.
    async fn round(&mut self, client: &Client, poll: Duration) -> Result<(), String> {
        self.cursors.retain(|t, _| !self.hub.channels(t).is_empty());
        let tenants: Vec<String> = self
            .pending
            .iter()
            .filter(|t| self.cursors.contains_key(*t))
            .cloned()
            .collect();
        self.pending.retain(|t| self.cursors.contains_key(t));
        if tenants.is_empty() {
            return Ok(());
        }
        let held = db::rows(client, HELD)
            .await?
            .first()
            .and_then(|r| r.first().cloned().flatten())
            == Some("true".into());
        let mut full = false;
        for t in tenants {
            let after = self.cursors[&t];
            let started = Instant::now();
            let read = page(client, &t, after, self.batch).await;
            self.hub
                .metrics
                .log_read_us
                .fetch_add(started.elapsed().as_micros() as u64, Relaxed);
            let (changes, next) = match read {
                Ok(p) => p,
                Err(e) if client.is_closed() => return Err(e),
                Err(e) => {
                    log::warn("reading the change log failed", json!({"tenant": t, "error": e}));
                    continue;
                }
            };
            self.hub.metrics.log_reads.fetch_add(1, Relaxed);
            let page_full = changes.len() as i32 == self.batch;
            if !page_full {
                self.hint = self.hint.max(next);
            }
            if !changes.is_empty() {
                self.fan_out(&t, &changes).await;
            }
            self.cursors.insert(t.clone(), next.max(after));
            // A full page has more behind it; while a writer holds the
            // watermark back, changes that committed may still be hidden.
            if page_full || held {
                full |= page_full;
            } else {
                self.pending.remove(&t);
            }
        }
        self.retry = if full || !held {
            Duration::from_millis(1)
        } else {
            (self.retry * 2).clamp(Duration::from_millis(5), poll)
        };
        Ok(())
    }

    async fn fan_out(&self, tenant: &str, changes: &[Change]) {
        let m = &self.hub.metrics;
        m.changes_read.fetch_add(changes.len() as u64, Relaxed);
        m.batches.fetch_add(1, Relaxed);
        let channels = self.hub.channels(tenant);
        let started = Instant::now();
        let sent = deliver(&self.pool, m, tenant, changes, &channels).await;
        m.fanout_us
            .fetch_add(started.elapsed().as_micros() as u64, Relaxed);
        m.messages_sent.fetch_add(sent as u64, Relaxed);
        if let (Some(first), Some(last)) = (changes.first(), changes.last()) {
            m.last_position.fetch_max(last.id, Relaxed);
            if let Some(lag) = lag_ms(&last.at) {
                m.lag_ms.store(lag, Relaxed);
            }
            if let (Some(lag), Ok(mut lags)) = (lag_ms(&first.at), m.lags.lock()) {
                if lags.len() == 4096 {
                    lags.pop_front();
                }
                lags.push_back(lag);
            }
        }
    }

    /// Starts serving a channel: the tenant's cursor first (its watermark
    /// when the tenant had no subscriber), then the changes it missed since
    /// `after`, to it alone, then live changes with everyone else.
    async fn register(
        &mut self,
        client: &Client,
        channel: Arc<Channel>,
        resume: Option<i64>,
        reply: String,
    ) -> Result<i64, (bool, String)> {
        let t = channel.tenant.clone();
        let cursor = match self.cursors.get(&t) {
            Some(c) => *c,
            None => {
                let w = watermark(client, &t, self.hint, self.batch)
                    .await
                    .map_err(|e| (false, e))?;
                self.hint = self.hint.max(w);
                self.cursors.insert(t.clone(), w);
                w
            }
        };
        // Every change after `cursor` will reach the channel: the join may be
        // answered. Missed changes (a resume) come after the answer.
        channel.out.send(reply);
        let mut after = resume.unwrap_or(cursor);
        let one = [channel.clone()];
        while after < cursor {
            let (changes, next) = page(client, &t, after, self.batch).await.map_err(|e| (true, e))?;
            let missed: Vec<Change> = changes.into_iter().filter(|c| c.id <= cursor).collect();
            if !missed.is_empty() {
                let sent = deliver(&self.pool, &self.hub.metrics, &t, &missed, &one).await;
                self.hub.metrics.messages_sent.fetch_add(sent as u64, Relaxed);
            }
            if next <= after {
                break;
            }
            after = next;
        }
        channel.floor.store(resume.unwrap_or(0).max(cursor), Relaxed);
        self.hub.add(channel);
        Ok(cursor)
    }
}

/// Milliseconds since a change's `at` (RFC 3339 text from PostgreSQL's jsonb).
fn lag_ms(at: &str) -> Option<i64> {
    let t = crate::time::parse_rfc3339_ms(at)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_millis() as i64;
    Some(now - t)
}

/// Runs the reader until shutdown, reconnecting after a lost connection.
pub async fn run(
    uri: String,
    hub: Arc<Hub>,
    pool: Arc<Pool>,
    batch: i32,
    poll: Duration,
    mut cmds: mpsc::Receiver<Register>,
    mut stop: watch::Receiver<bool>,
) {
    let mut r = Reader {
        hub,
        pool,
        batch,
        cursors: HashMap::new(),
        pending: HashSet::new(),
        hint: 0,
        retry: poll,
    };
    let mut backoff = Duration::from_millis(200);
    while !*stop.borrow() {
        let (client, mut wakeups) = match db::connect(&uri).await {
            Ok(c) => c,
            Err(e) => {
                log::warn("change log reader cannot connect", json!({"error": e}));
                tokio::select! { _ = tokio::time::sleep(backoff) => {}, _ = stop.changed() => {} }
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        // LISTEN cot_changes, counted: writers send wake-ups only while
        // somebody listens this way (docs/changes.md).
        if let Err(e) = client.batch_execute("SELECT cot.listen_changes()").await {
            log::warn("cot.listen_changes() failed", json!({"error": e.to_string()}));
            continue;
        }
        backoff = Duration::from_millis(200);
        r.hub.metrics.reader_connected.store(true, Relaxed);
        log::info("change log reader connected", json!({}));
        // Wake-ups may have been missed while disconnected.
        r.pending.extend(r.cursors.keys().cloned());
        let mut next_poll = Instant::now() + poll;
        loop {
            let wait = if r.pending.is_empty() {
                next_poll
            } else {
                Instant::now() + r.retry
            };
            tokio::select! {
                n = wakeups.recv() => match n {
                    Some(t) => { r.pending.insert(t); while let Ok(t) = wakeups.try_recv() { r.pending.insert(t); } }
                    None => break,
                },
                c = cmds.recv() => match c {
                    Some(Register { channel, after, reply, done }) => {
                        let result = r.register(&client, channel, after, reply).await;
                        let _ = done.send(result);
                    }
                    None => return,
                },
                _ = tokio::time::sleep_until(wait.into()) => {
                    if Instant::now() >= next_poll {
                        r.pending.extend(r.cursors.keys().cloned());
                        next_poll = Instant::now() + poll;
                    }
                }
                _ = stop.changed() => break,
            }
            if let Err(e) = r.round(&client, poll).await {
                log::warn("change log reader lost its connection", json!({"error": e}));
                break;
            }
        }
        r.hub.metrics.reader_connected.store(false, Relaxed);
    }
}
