//! One WebSocket: the channels it joined, heartbeats, token updates, and
//! closing channels whose token expired or whose API key was revoked.

use crate::auth::{is_api_key, now, valid_slug, Subject};
use crate::db::{ident, lit};
use crate::hub::{Channel, Outbox};
use crate::protocol::{encode, parse, reply, Binding, Msg, Wire};
use crate::reader::Register;
use crate::App;
use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicI64};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Messages queued for one socket before it counts as too slow.
const OUTBOX: usize = 8192;
/// Most messages written to a socket at once.
const WRITE_BATCH: usize = 64;
/// The outbox's marker for "close the socket".
const CLOSE: &str = "";

struct Session {
    app: Arc<App>,
    out: Outbox,
    channels: HashMap<String, Arc<Channel>>,
    apikey: Option<String>,
    wire: Wire,
}

/// Serves one socket until the client leaves, goes silent, reads too slowly,
/// or the server stops.
pub async fn serve(app: Arc<App>, socket: WebSocket, apikey: Option<String>) {
    let m = &app.hub.metrics;
    m.sockets.fetch_add(1, Relaxed);
    let (mut sink, mut stream) = socket.split();
    let (out, mut rx, overflow) = Outbox::new(OUTBOX);
    let writer = tokio::spawn(async move {
        // What is queued goes out in one write (up to WRITE_BATCH messages),
        // not one system call per message.
        let mut queued = Vec::with_capacity(WRITE_BATCH);
        while rx.recv_many(&mut queued, WRITE_BATCH).await > 0 {
            let close = queued.iter().position(|t| t == CLOSE);
            for text in queued.drain(..close.unwrap_or(queued.len())) {
                if sink.feed(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
            if close.is_some() {
                break;
            }
        }
        let _ = sink
            .send(Message::Close(Some(axum::extract::ws::CloseFrame {
                code: 1001,
                reason: "".into(),
            })))
            .await;
    });
    let mut s = Session {
        app: app.clone(),
        out: out.clone(),
        channels: HashMap::new(),
        apikey,
        wire: Wire::V2,
    };
    let mut stop = app.stop.clone();
    let mut recheck = tokio::time::interval(app.config.key_recheck);
    let mut deadline = Instant::now() + app.config.client_timeout;
    loop {
        let expiry = s.next_expiry();
        tokio::select! {
            msg = tokio::time::timeout_at(deadline, stream.next()) => match msg {
                Ok(Some(Ok(Message::Text(t)))) => {
                    deadline = Instant::now() + app.config.client_timeout;
                    s.handle(t.as_str()).await;
                }
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) | Err(_) => break,
                Ok(Some(Ok(_))) => deadline = Instant::now() + app.config.client_timeout,
            },
            _ = tokio::time::sleep_until(expiry.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))), if expiry.is_some() => {
                s.close_expired();
            }
            _ = recheck.tick() => s.recheck_keys().await,
            _ = overflow.notified() => {
                m.slow_clients.fetch_add(1, Relaxed);
                break;
            }
            _ = stop.changed() => break,
        }
    }
    for ch in s.channels.values() {
        app.hub.remove(ch);
    }
    drop(s);
    // The close frame goes after whatever is queued; a client that does not
    // read is not waited for.
    let _ = out.send(CLOSE.to_string());
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    m.sockets.fetch_sub(1, Relaxed);
}

impl Session {
    fn send(&self, text: String) {
        self.out.send(text);
    }

    async fn handle(&mut self, text: &str) {
        let Some((m, wire)) = parse(text) else {
            return;
        };
        self.wire = wire;
        match (m.topic.as_str(), m.event.as_str()) {
            ("phoenix", "heartbeat") => self.send(reply(wire, &m, "ok", json!({}))),
            (_, "phx_join") => self.join(m).await,
            (_, "phx_leave") => {
                if let Some(ch) = self.channels.remove(&m.topic) {
                    self.app.hub.remove(&ch);
                }
                self.send(reply(wire, &m, "ok", json!({})));
            }
            (_, "access_token") => self.access_token(m).await,
            _ if m.msg_ref.is_some() => {
                let reason = "this server serves postgres_changes only";
                self.send(reply(wire, &m, "error", json!({"reason": reason})));
            }
            _ => {}
        }
    }

    fn refuse(&self, m: &Msg, reason: &str) {
        self.app.hub.metrics.joins_refused.fetch_add(1, Relaxed);
        self.send(reply(self.wire, m, "error", json!({"reason": reason})));
    }

    async fn join(&mut self, m: Msg) {
        let Some(name) = m.topic.strip_prefix("realtime:").map(String::from) else {
            return self.refuse(&m, "a channel's topic starts with realtime:");
        };
        if let Some(old) = self.channels.remove(&m.topic) {
            self.app.hub.remove(&old);
        }
        let cfg = &self.app.config;
        if self.channels.len() >= cfg.max_channels_per_socket
            || self.app.hub.channel_count() >= cfg.max_channels
        {
            return self.refuse(&m, "too many channels");
        }
        let config = &m.payload["config"];
        let list = config["postgres_changes"].as_array().cloned().unwrap_or_default();
        if list.is_empty() {
            return self.send(reply(self.wire, &m, "ok", json!({"postgres_changes": []})));
        }
        if list.len() > 100 {
            return self.refuse(&m, "at most 100 postgres_changes bindings per channel");
        }
        let parsed: Result<Vec<Binding>, String> = list
            .iter()
            .map(|b| Binding::parse(b, self.app.binding_ids.fetch_add(1, Relaxed) + 1))
            .collect();
        let bindings = match parsed {
            Ok(b) => b,
            Err(e) => return self.refuse(&m, &e),
        };
        let tenant = bindings[0].schema.clone();
        if !valid_slug(&tenant) || bindings.iter().any(|b| b.schema != tenant) {
            return self.refuse(
                &m,
                "every binding of a channel names one schema: a tenant's API schema",
            );
        }
        let token = m.payload["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(String::from)
            .or(self.apikey.clone());
        let subject = match self.app.authenticate(token.as_deref(), &tenant).await {
            Ok(s) => s,
            Err(e) => return self.refuse(&m, &e),
        };
        if let Err(e) = self.app.check_bindings(&subject, &bindings).await {
            return self.refuse(&m, &e);
        }
        let after = match &config["postgres_changes_options"]["after"] {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        let echo: Vec<Value> = bindings.iter().map(|b| b.echo.clone()).collect();
        // Sent by the reader once it holds the channel's starting position:
        // a change committed after the client hears "ok" is never missed.
        let ok = reply(self.wire, &m, "ok", json!({"postgres_changes": echo}));
        let ch = Arc::new(Channel {
            id: self.app.hub.next_id(),
            topic: m.topic.clone(),
            join_ref: m.join_ref.clone(),
            wire: self.wire,
            tenant,
            bindings,
            subject: RwLock::new(subject),
            floor: AtomicI64::new(0),
            out: self.out.clone(),
            closed: AtomicBool::new(false),
        });
        let (done, answer) = oneshot::channel();
        let registered = self
            .app
            .reader
            .send(Register {
                channel: ch.clone(),
                after,
                reply: ok,
                done,
            })
            .await
            .is_ok();
        match answer.await {
            Ok(Ok(position)) if registered => {
                self.app.hub.metrics.joins.fetch_add(1, Relaxed);
                let msg = json!({"extension": "postgres_changes", "status": "ok", "message": "Subscribed to PostgreSQL",
                                 "channel": name, "position": position});
                ch.push("system", &msg.to_string());
                self.channels.insert(m.topic, ch);
            }
            // The reply went out before the failure: the channel is closed.
            Ok(Err((true, e))) => self.close_channel(&ch, &format!("cannot read the change log: {e}")),
            Ok(Err((false, e))) => self.refuse(&m, &format!("cannot read the change log: {e}")),
            _ => self.refuse(&m, "the change log reader is not running"),
        }
    }

    /// Tells the client why, then closes the channel (realtime-js does not
    /// rejoin a channel closed by the server).
    fn close_channel(&self, ch: &Channel, reason: &str) {
        let name = ch.topic.strip_prefix("realtime:").unwrap_or(&ch.topic);
        let msg = json!({"extension": "system", "status": "error", "message": reason, "channel": name});
        self.send(encode(
            self.wire,
            None,
            None,
            &ch.topic,
            "system",
            &msg.to_string(),
        ));
        self.send(encode(
            self.wire,
            ch.join_ref.as_deref(),
            None,
            &ch.topic,
            "phx_close",
            "{}",
        ));
        self.app.hub.remove(ch);
    }

    async fn access_token(&mut self, m: Msg) {
        let Some(ch) = self.channels.get(&m.topic).cloned() else {
            return;
        };
        let Some(token) = m.payload["access_token"].as_str().filter(|t| !t.is_empty()) else {
            return;
        };
        match self.app.authenticate(Some(token), &ch.tenant).await {
            Ok(s) => {
                if let Ok(mut current) = ch.subject.write() {
                    *current = s;
                }
            }
            Err(e) => {
                self.close_channel(&ch, &e);
                self.channels.remove(&m.topic);
            }
        }
    }

    fn next_expiry(&self) -> Option<Instant> {
        let at = self.channels.values().filter_map(|c| c.subject().expires).min()?;
        Some(Instant::now() + Duration::from_secs(at.saturating_sub(now())))
    }

    fn close_expired(&mut self) {
        let t = now();
        let expired: Vec<String> = self
            .channels
            .iter()
            .filter(|(_, c)| c.subject().expired(t))
            .map(|(k, _)| k.clone())
            .collect();
        for topic in expired {
            if let Some(ch) = self.channels.remove(&topic) {
                self.close_channel(&ch, "token has expired");
            }
        }
    }

    /// API keys can be revoked or expire while a channel is open.
    async fn recheck_keys(&mut self) {
        let keyed: Vec<(String, Arc<Channel>, String)> = self
            .channels
            .iter()
            .filter_map(|(k, c)| c.subject().api_key.map(|key| (k.clone(), c.clone(), key)))
            .collect();
        for (topic, ch, key) in keyed {
            if let Err(e) = self.app.authenticate(Some(&key), &ch.tenant).await {
                if !e.starts_with("database:") {
                    self.close_channel(&ch, &e);
                    self.channels.remove(&topic);
                }
            }
        }
    }
}

impl App {
    /// The subscriber a token (or none) stands for in `tenant`.
    pub async fn authenticate(&self, token: Option<&str>, tenant: &str) -> Result<Subject, String> {
        match token {
            None => Ok(Subject::anonymous(tenant)),
            Some(key) if is_api_key(key) => {
                let sql = format!("SELECT cot.api_key_claims({})::text", lit(key));
                let rows = self.pool.rows(&sql).await.map_err(|e| format!("database: {e}"))?;
                let text = rows
                    .into_iter()
                    .next()
                    .and_then(|r| r.into_iter().next().flatten())
                    .unwrap_or_default();
                let claims: Value = serde_json::from_str(&text).map_err(|_| "invalid API key".to_string())?;
                Subject::from_api_key(claims, tenant, key)
            }
            Some(jwt) => {
                let (claims, expires) = self.verifier.verify(jwt)?;
                Subject::from_claims(claims, tenant, expires)
            }
        }
    }

    /// Checks a join's bindings as the subscriber: each table is an API view
    /// of the tenant with history, the subscriber may read it, and a filter
    /// names one of its columns.
    pub async fn check_bindings(&self, s: &Subject, bindings: &[Binding]) -> Result<(), String> {
        let sql = format!(
            "BEGIN READ ONLY; SET LOCAL ROLE {role}; SELECT pg_catalog.set_config('request.jwt.claims', {claims}, true); \
             SELECT c.relname::text, pg_catalog.has_table_privilege(c.oid, 'SELECT')::text, \
               EXISTS (SELECT FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class t ON t.oid = g.tgrelid \
                 JOIN pg_catalog.pg_namespace s ON s.oid = t.relnamespace \
                 WHERE g.tgname = 'cot_history_insert' AND s.nspname = {storage} AND t.relname = c.relname)::text, \
               (SELECT pg_catalog.string_agg(a.attname::text, ',') FROM pg_catalog.pg_attribute a \
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) \
               FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
              WHERE n.nspname = {schema} AND c.relkind = 'v'; COMMIT;",
            role = ident(&s.role),
            claims = lit(&s.claims.to_string()),
            storage = lit(&format!("tenant_{}", s.tenant)),
            schema = lit(&s.tenant),
        );
        let rows = self.pool.rows(&sql).await.map_err(|e| {
            crate::log::warn("join check failed", json!({"role": s.role, "error": e}));
            format!("cannot subscribe to schema \"{}\" with this token", s.tenant)
        })?;
        let views: HashMap<String, (bool, bool, Vec<String>)> = rows
            .into_iter()
            .filter(|r| r.len() == 4)
            .filter_map(|r| {
                let cols = r[3]
                    .clone()
                    .unwrap_or_default()
                    .split(',')
                    .map(String::from)
                    .collect::<Vec<_>>();
                Some((
                    r[0].clone()?,
                    (
                        r[1].as_deref() == Some("true"),
                        r[2].as_deref() == Some("true"),
                        cols,
                    ),
                ))
            })
            .collect();
        for b in bindings {
            let Some(table) = &b.table else { continue };
            let schema = &s.tenant;
            let Some((readable, history, cols)) = views.get(table).filter(|v| v.2.iter().any(|c| c == "id"))
            else {
                return Err(format!(
                    "table \"{table}\" is not an entity of schema \"{schema}\""
                ));
            };
            if !readable {
                return Err(format!("permission denied to read \"{table}\""));
            }
            if !history {
                return Err(format!(
                    "entity \"{table}\" has no history: real-time changes need \"history\": true"
                ));
            }
            if let Some(f) = &b.filter {
                if !cols.contains(&f.column) {
                    return Err(format!(
                        "filter column \"{}\" is not a field of \"{table}\"",
                        f.column
                    ));
                }
            }
        }
        Ok(())
    }
}
