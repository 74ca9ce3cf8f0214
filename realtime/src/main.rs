//! cot-realtime: real-time changes of Cot tenants for `@supabase/realtime-js`
//! (the Realtime protocol's `postgres_changes`), read from Cot's change log
//! and re-read through the API views as each subscriber. See docs/realtime.md.

mod auth;
mod config;
mod db;
mod fanout;
mod hub;
mod log;
mod protocol;
mod reader;
mod reread;
mod socket;
mod time;

use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// What every socket shares.
pub struct App {
    pub config: config::Config,
    pub hub: Arc<hub::Hub>,
    pub pool: Arc<db::Pool>,
    pub verifier: auth::Verifier,
    pub reader: mpsc::Sender<reader::Register>,
    pub stop: watch::Receiver<bool>,
    pub binding_ids: AtomicU32,
}

/// The token a socket was opened with: the `apikey` parameter (realtime-js
/// sends it), else an `apikey`, `x-api-key` or bearer header.
fn socket_token(params: &HashMap<String, String>, headers: &HeaderMap) -> Option<String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(String::from);
    params
        .get("apikey")
        .cloned()
        .or_else(|| header("apikey"))
        .or_else(|| header("x-api-key"))
        .or_else(|| header("authorization").and_then(|a| a.strip_prefix("Bearer ").map(String::from)))
        .filter(|t| !t.is_empty())
}

async fn websocket(
    State(app): State<Arc<App>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let token = socket_token(&params, &headers);
    // Small buffers: with the 128 KiB defaults a subscriber cost ~150 KB;
    // messages are a few hundred bytes and the buffers grow when needed.
    // Queued messages are written together (see socket.rs), up to 8 KiB
    // before a write.
    ws.max_message_size(1 << 20)
        .read_buffer_size(4096)
        .write_buffer_size(8192)
        .on_upgrade(move |socket| socket::serve(app, socket, token))
}

async fn health(State(app): State<Arc<App>>) -> Response {
    let up = app.hub.metrics.reader_connected.load(Relaxed);
    let body = json!({"status": if up { "ok" } else { "unavailable" }, "reader_connected": up,
                      "channels": app.hub.channel_count()});
    let status = if up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.hub.render_metrics(),
    )
        .into_response()
}

/// SIGINT or SIGTERM.
async fn stopped() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term => {} }
}

#[tokio::main]
async fn main() {
    let config = match config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            log::warn("configuration", json!({"error": e}));
            std::process::exit(2);
        }
    };
    let verifier = match auth::Verifier::new(
        config.jwt_secret.as_deref(),
        config.jwt_secret_is_base64,
        config.jwt_aud.clone(),
        config.jwt_leeway,
    ) {
        Ok(v) => v,
        Err(e) => {
            log::warn("configuration", json!({"error": e}));
            std::process::exit(2);
        }
    };
    let hub = Arc::new(hub::Hub::default());
    let pool = Arc::new(db::Pool::new(&config.db_uri, config.db_pool));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (reader_tx, reader_rx) = mpsc::channel(1024);
    let reader = tokio::spawn(reader::run(
        config.db_uri.clone(),
        hub.clone(),
        pool.clone(),
        config.batch_max,
        config.poll,
        reader_rx,
        stop_rx.clone(),
    ));
    let addr = std::net::SocketAddr::new(config.host, config.port);
    let app = Arc::new(App {
        config,
        hub,
        pool,
        verifier,
        reader: reader_tx,
        stop: stop_rx.clone(),
        binding_ids: AtomicU32::new(0),
    });
    let router = Router::new()
        .route("/realtime/v1/websocket", get(websocket))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(app.clone());
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            log::warn(
                "cannot listen",
                json!({"address": addr.to_string(), "error": e.to_string()}),
            );
            std::process::exit(1);
        }
    };
    log::info("listening", json!({"address": addr.to_string()}));
    let mut stop_wait = stop_rx.clone();
    tokio::spawn(async move {
        stopped().await;
        log::info("stopping: closing sockets", json!({}));
        let _ = stop_tx.send(true);
    });
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = stop_wait.wait_for(|s| *s).await;
        })
        .await;
    if let Err(e) = served {
        log::warn("server error", json!({"error": e.to_string()}));
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), reader).await;
    log::info("stopped", json!({}));
}
