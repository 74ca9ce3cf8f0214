//! The joined channels, by tenant, and the server's counters. The reader
//! takes a snapshot of a tenant's channels per batch; sockets add and remove
//! theirs.

use crate::auth::Subject;
use crate::protocol::{encode, Binding, Wire};
use serde_json::json;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::{mpsc, Notify};

/// Where a socket's outgoing messages go. A client that does not read them
/// fast enough is disconnected rather than buffered without end.
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::Sender<String>,
    overflow: Arc<Notify>,
}

impl Outbox {
    pub fn new(size: usize) -> (Outbox, mpsc::Receiver<String>, Arc<Notify>) {
        let (tx, rx) = mpsc::channel(size);
        let overflow = Arc::new(Notify::new());
        (
            Outbox {
                tx,
                overflow: overflow.clone(),
            },
            rx,
            overflow,
        )
    }

    /// Queues a message; false when the client is too slow (it is then closed).
    pub fn send(&self, text: String) -> bool {
        match self.tx.try_send(text) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.overflow.notify_one();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// One joined channel: its bindings, who joined it, and its socket.
pub struct Channel {
    pub id: u64,
    pub topic: String,
    pub join_ref: Option<String>,
    pub wire: Wire,
    pub tenant: String,
    pub bindings: Vec<Binding>,
    pub subject: RwLock<Subject>,
    /// Changes up to this id are not sent (a resume ahead of this server).
    pub floor: AtomicI64,
    pub out: Outbox,
    pub closed: AtomicBool,
}

impl Channel {
    pub fn subject(&self) -> Subject {
        self.subject
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// A message on this channel's topic.
    pub fn push(&self, event: &str, payload: &str) -> bool {
        !self.closed.load(Relaxed)
            && self
                .out
                .send(encode(self.wire, None, None, &self.topic, event, payload))
    }

    /// The position a client passes back to resume after it (see docs/realtime.md).
    pub fn push_position(&self, position: i64) -> bool {
        let name = self.topic.strip_prefix("realtime:").unwrap_or(&self.topic);
        let payload = json!({"extension": "postgres_changes", "status": "ok", "message": "position",
                             "channel": name, "position": position});
        self.push("system", &payload.to_string())
    }
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub sockets: AtomicI64,
    pub joins: AtomicU64,
    pub joins_refused: AtomicU64,
    pub changes_read: AtomicU64,
    pub batches: AtomicU64,
    pub messages_sent: AtomicU64,
    pub reread_queries: AtomicU64,
    pub reread_round_trips: AtomicU64,
    pub reread_errors: AtomicU64,
    pub log_reads: AtomicU64,
    pub slow_clients: AtomicU64,
    /// Milliseconds from the last delivered change's statement to its sending.
    pub lag_ms: AtomicI64,
    /// Per batch, the oldest change's milliseconds from statement to queued
    /// for sending (the last 4,096 batches).
    pub lags: Mutex<std::collections::VecDeque<i64>>,
    /// Microseconds spent reading the log and fanning out.
    pub log_read_us: AtomicU64,
    pub fanout_us: AtomicU64,
    pub last_position: AtomicI64,
    pub reader_connected: AtomicBool,
}

/// Every joined channel, by tenant.
#[derive(Default)]
pub struct Hub {
    tenants: Mutex<HashMap<String, HashMap<u64, Arc<Channel>>>>,
    pub metrics: Metrics,
    next_id: AtomicU64,
}

impl Hub {
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Relaxed) + 1
    }

    pub fn add(&self, ch: Arc<Channel>) {
        if let Ok(mut t) = self.tenants.lock() {
            t.entry(ch.tenant.clone()).or_default().insert(ch.id, ch);
        }
    }

    pub fn remove(&self, ch: &Channel) {
        ch.closed.store(true, Relaxed);
        if let Ok(mut t) = self.tenants.lock() {
            if let Some(m) = t.get_mut(&ch.tenant) {
                m.remove(&ch.id);
                if m.is_empty() {
                    t.remove(&ch.tenant);
                }
            }
        }
    }

    /// The channels joined to `tenant` now.
    pub fn channels(&self, tenant: &str) -> Vec<Arc<Channel>> {
        self.tenants
            .lock()
            .map(|t| {
                t.get(tenant)
                    .map(|m| m.values().cloned().collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    }

    /// Tenants with at least one channel.
    pub fn tenants(&self) -> Vec<String> {
        self.tenants
            .lock()
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn channel_count(&self) -> usize {
        self.tenants
            .lock()
            .map(|t| t.values().map(HashMap::len).sum())
            .unwrap_or(0)
    }

    /// The counters in Prometheus' text format.
    pub fn render_metrics(&self) -> String {
        let m = &self.metrics;
        let mut out = String::new();
        let mut line = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(
                out,
                "# HELP cot_realtime_{name} {help}\n# TYPE cot_realtime_{name} {kind}"
            );
            let _ = writeln!(out, "cot_realtime_{name} {value}");
        };
        let g = |a: &AtomicU64| a.load(Relaxed).to_string();
        line(
            "sockets",
            "gauge",
            "open WebSocket connections",
            m.sockets.load(Relaxed).to_string(),
        );
        line(
            "channels",
            "gauge",
            "joined channels (subscribers)",
            self.channel_count().to_string(),
        );
        line(
            "tenants",
            "gauge",
            "tenants with subscribers",
            self.tenants().len().to_string(),
        );
        let counters: [(&str, &str, &AtomicU64); 10] = [
            ("joins_total", "channels joined", &m.joins),
            ("joins_refused_total", "joins refused", &m.joins_refused),
            (
                "changes_total",
                "changes read from the change log",
                &m.changes_read,
            ),
            ("batches_total", "batches of changes fanned out", &m.batches),
            (
                "messages_total",
                "postgres_changes messages sent",
                &m.messages_sent,
            ),
            (
                "reread_queries_total",
                "re-read statements (one per claim set per batch)",
                &m.reread_queries,
            ),
            (
                "reread_round_trips_total",
                "database round trips for re-reads",
                &m.reread_round_trips,
            ),
            (
                "reread_errors_total",
                "re-reads that failed (nothing sent for them)",
                &m.reread_errors,
            ),
            ("log_reads_total", "cot.changes calls", &m.log_reads),
            (
                "slow_clients_total",
                "sockets closed for not reading",
                &m.slow_clients,
            ),
        ];
        for (name, help, value) in counters {
            line(name, "counter", help, g(value));
        }
        line(
            "lag_milliseconds",
            "gauge",
            "last delivered change: statement to send",
            m.lag_ms.load(Relaxed).to_string(),
        );
        line(
            "position",
            "gauge",
            "highest change id delivered",
            m.last_position.load(Relaxed).to_string(),
        );
        let mut lags: Vec<i64> = m
            .lags
            .lock()
            .map(|l| l.iter().copied().collect())
            .unwrap_or_default();
        lags.sort_unstable();
        let pct = |p: usize| {
            lags.get((lags.len() * p / 100).min(lags.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0)
        };
        line(
            "batch_lag_p50_milliseconds",
            "gauge",
            "last 4,096 batches: oldest change, statement to queued",
            pct(50).to_string(),
        );
        line(
            "batch_lag_p99_milliseconds",
            "gauge",
            "last 4,096 batches: oldest change, statement to queued",
            pct(99).to_string(),
        );
        for (name, help, value) in [
            (
                "log_read_microseconds_total",
                "time reading the change log",
                &m.log_read_us,
            ),
            (
                "fanout_microseconds_total",
                "time re-reading and queuing messages",
                &m.fanout_us,
            ),
        ] {
            line(name, "counter", help, g(value));
        }
        let up = u8::from(m.reader_connected.load(Relaxed)).to_string();
        line(
            "reader_connected",
            "gauge",
            "1 while the change log reader is connected",
            up,
        );
        out
    }
}
