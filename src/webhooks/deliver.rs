//! Sending: a fixed pool of threads that make the HTTP requests, fed by the
//! worker's main thread through a channel, answering through another, and
//! waking the main thread through a socket pair its latch wait watches.
//! Nothing here calls a PostgreSQL API (only the main thread may): the
//! threads see jobs, bytes and outcomes, never SPI, memory contexts or
//! settings; they run with every signal blocked, so PostgreSQL's signal
//! handlers only ever run on the main thread.

use super::ssrf::{GuardedResolver, Refused};
use cot_engine::webhook::retry::{parse_retry_after, Attempt};
use cot_engine::webhook::signature;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use ureq::tls::{parse_pem, PemItem, RootCerts, TlsConfig};
use ureq::unversioned::transport::DefaultConnector;
use ureq::Agent;

/// The most of a response body read (and kept in part as the error text):
/// reading the body lets the connection be reused.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024;
/// How much of a failed answer's body the delivery log keeps.
const ERROR_BODY_CHARS: usize = 200;

/// One request to make.
pub struct Job {
    /// The delivery: `webhook-id`.
    pub delivery: uuid::Uuid,
    /// Attempts made before this one.
    pub attempts: u32,
    /// Where.
    pub url: String,
    /// The secret's key bytes.
    pub key: Vec<u8>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: String,
}

/// How a request ended.
pub struct Outcome {
    /// The delivery.
    pub delivery: uuid::Uuid,
    /// Attempts made before this one.
    pub attempts: u32,
    /// What happened.
    pub attempt: Attempt,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// What went wrong, for the delivery log.
    pub error: Option<String>,
    /// From the start of the request to the end of the answer.
    pub latency: Duration,
}

/// How the pool makes requests; rebuilt when the settings change.
pub struct ClientSettings {
    /// Per request.
    pub timeout: Duration,
    /// `cot.webhook_allow_private`.
    pub allow_private: bool,
    /// `cot.webhook_ca_file`.
    pub ca_file: Option<String>,
}

/// The HTTP client for these settings: no redirects followed (a redirect
/// could lead anywhere, the address rule included), no proxy, TLS verified
/// against the Mozilla roots or the CA file.
pub fn agent(s: &ClientSettings) -> Result<Agent, String> {
    let roots = match &s.ca_file {
        None => RootCerts::WebPki,
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| format!("cot.webhook_ca_file {path}: {e}"))?;
            let certs: Vec<_> = parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(format!("cot.webhook_ca_file {path}: no PEM certificate in it"));
            }
            RootCerts::new_with_certs(&certs)
        }
    };
    let config = Agent::config_builder()
        .timeout_global(Some(s.timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .proxy(None)
        .user_agent(concat!("cot-webhooks/", env!("CARGO_PKG_VERSION")))
        .max_idle_connections(256)
        .max_idle_connections_per_host(64)
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .build();
    Ok(Agent::with_parts(
        config,
        DefaultConnector::new(),
        GuardedResolver::new(s.allow_private),
    ))
}

struct Shared {
    jobs: Mutex<Receiver<Job>>,
    results: Mutex<Sender<Outcome>>,
    wake: UnixStream,
    agent: RwLock<Arc<Agent>>,
}

/// The threads and their channels.
pub struct Pool {
    jobs: Sender<Job>,
    results: Receiver<Outcome>,
    wake: UnixStream,
    shared: Arc<Shared>,
    threads: usize,
}

impl Pool {
    /// A pool with no threads yet, sending with `agent`.
    pub fn new(agent: Agent) -> std::io::Result<Pool> {
        let (jobs_tx, jobs_rx) = mpsc::channel();
        let (results_tx, results_rx) = mpsc::channel();
        let (wake_rx, wake_tx) = UnixStream::pair()?;
        wake_rx.set_nonblocking(true)?;
        wake_tx.set_nonblocking(true)?;
        Ok(Pool {
            jobs: jobs_tx,
            results: results_rx,
            wake: wake_rx,
            shared: Arc::new(Shared {
                jobs: Mutex::new(jobs_rx),
                results: Mutex::new(results_tx),
                wake: wake_tx,
                agent: RwLock::new(Arc::new(agent)),
            }),
            threads: 0,
        })
    }

    /// The socket that becomes readable when an outcome is waiting.
    pub fn wake_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.wake.as_raw_fd()
    }

    /// Sends with `agent` from now on.
    pub fn set_agent(&self, agent: Agent) {
        *self.shared.agent.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(agent);
    }

    /// Grows the pool to `n` threads (it never shrinks: the worker keeps at
    /// most the configured number of requests in flight).
    pub fn ensure_threads(&mut self, n: usize) {
        while self.threads < n {
            let shared = Arc::clone(&self.shared);
            if spawn_with_signals_blocked(move || run(&shared)).is_err() {
                break;
            }
            self.threads += 1;
        }
    }

    /// Queues a job.
    pub fn submit(&self, job: Job) {
        // The threads hold the receiver for as long as the pool lives.
        let _ = self.jobs.send(job);
    }

    /// The outcomes that arrived, without waiting.
    pub fn take_outcomes(&self) -> Vec<Outcome> {
        let mut buf = [0u8; 256];
        while matches!((&self.wake).read(&mut buf), Ok(n) if n > 0) {}
        self.results.try_iter().collect()
    }
}

/// Starts a thread that receives no signal: PostgreSQL's handlers (which set
/// the process latch and flags) must run on the main thread only.
fn spawn_with_signals_blocked(f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    // SAFETY: plain libc calls on local, initialised sigset_t values; the
    // main thread's mask is restored right after the spawn.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        let spawned = std::thread::Builder::new().name("cot-webhook".into()).spawn(f);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        spawned.map(|_| ())
    }
}

fn run(shared: &Shared) {
    loop {
        let job = {
            let jobs = shared.jobs.lock().unwrap_or_else(|e| e.into_inner());
            match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        let agent = Arc::clone(&shared.agent.read().unwrap_or_else(|e| e.into_inner()));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| send(&agent, &job)))
            .unwrap_or_else(|_| Outcome {
                delivery: job.delivery,
                attempts: job.attempts,
                attempt: Attempt::ConnectionFailed,
                status: None,
                error: Some("internal error while sending".into()),
                latency: Duration::ZERO,
            });
        let sent = shared
            .results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(outcome);
        if sent.is_err() {
            return;
        }
        let _ = (&shared.wake).write(&[1]);
    }
}

/// One attempt: POST the body, signed.
fn send(agent: &Agent, job: &Job) -> Outcome {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let id = job.delivery.to_string();
    let signature = signature::sign(&job.key, &id, now, job.body.as_bytes());
    let mut request = agent
        .post(&job.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", now.to_string())
        .header("webhook-signature", signature);
    for (name, value) in &job.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let start = Instant::now();
    let result = request.send(job.body.as_bytes());
    let (attempt, status, error) = match result {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, now));
            let body = response
                .body_mut()
                .with_config()
                .limit(MAX_RESPONSE_BYTES)
                .read_to_vec()
                .unwrap_or_default();
            let error = (!(200..=299).contains(&status)).then(|| {
                let text: String = String::from_utf8_lossy(&body)
                    .chars()
                    .take(ERROR_BODY_CHARS)
                    .collect();
                format!(
                    "HTTP {status}{}{}",
                    if text.is_empty() { "" } else { ": " },
                    text.trim()
                )
            });
            (Attempt::Answered { status, retry_after }, Some(status), error)
        }
        Err(ureq::Error::Timeout(t)) => (Attempt::TimedOut, None, Some(format!("timeout: {t}"))),
        Err(ureq::Error::Other(e)) if e.is::<Refused>() => (Attempt::Refused, None, Some(e.to_string())),
        Err(e) => (Attempt::ConnectionFailed, None, Some(e.to_string())),
    };
    Outcome {
        delivery: job.delivery,
        attempts: job.attempts,
        attempt,
        status,
        error,
        latency: start.elapsed(),
    }
}
