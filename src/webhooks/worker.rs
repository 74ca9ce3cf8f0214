//! The delivery worker: one background worker per database named in
//! `cot.worker_databases`, registered when `cot` is in
//! `shared_preload_libraries`, restarted by the postmaster a second after it
//! stops (`pg_terminate_backend`, a crash). All its state is in the
//! meta-tables: a restart loses nothing; deliveries in flight at that moment
//! are sent again (at least once).
//!
//! Its main thread is the only one that touches PostgreSQL. Each round is one
//! short transaction (record the outcomes that arrived, read new changes into
//! deliveries, pick the deliveries due); the requests are made after it
//! commits, by the threads of [`super::deliver::Pool`], so no transaction is
//! ever open while a request waits on the network. A round costs about the
//! same for one outcome as for sixteen, so when an outcome arrives while
//! other requests are in flight the worker waits a moment (2 ms at most)
//! for more before it starts the next round.

use super::deliver::{self, ClientSettings, Job, Outcome, Pool};
use super::{ingest, queue, settings, subxact};
use cot_engine::webhook::retry::{Attempt, Policy, Verdict};
use cot_engine::webhook::signature;
use pgrx::bgworkers::{BackgroundWorker, BackgroundWorkerBuilder, SignalWakeFlags};
use pgrx::{pg_guard, pg_sys};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

/// `pg_stat_activity.backend_type` of the workers.
pub const WORKER_TYPE: &str = "cot webhooks";
/// How soon the postmaster starts a stopped worker again.
const RESTART: Duration = Duration::from_secs(1);
/// Read the change log at least this often even when its sequence has not
/// moved: a transaction that took an id earlier may commit later.
const READ_AT_LEAST_EVERY: Duration = Duration::from_millis(500);
/// Prune old deliveries this often.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Rounds an outcome waits to be recorded (its delivery locked by an open
/// transaction) before it is dropped and the delivery sent again later.
const RECORD_TRIES: u32 = 200;
/// How long a round waits for more outcomes once one has arrived while
/// others are in flight ([`Worker::gather`]). Measured with a 10,000-change
/// backlog to one webhook on a loaded 2-core machine: no wait 1,700
/// deliveries/s, 1 ms 2,300-2,900, 2 ms 3,100-3,600, 4 ms 3,200-5,000.
const GATHER_WINDOW: Duration = Duration::from_millis(2);
/// On shutdown, how long requests in flight are awaited to record them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Registers one worker per database of `cot.worker_databases`; only while
/// the server loads `shared_preload_libraries` (a static worker cannot be
/// registered later).
pub fn register() {
    // SAFETY: a plain global of the server, set while preloading.
    if !unsafe { pg_sys::process_shared_preload_libraries_in_progress } {
        return;
    }
    for db in settings::worker_databases() {
        BackgroundWorkerBuilder::new(&format!("cot webhooks {db}"))
            .set_type(WORKER_TYPE)
            .set_library("cot")
            .set_function("cot_webhook_worker_main")
            .enable_spi_access()
            .set_restart_time(Some(RESTART))
            .set_extra(&db)
            .load();
    }
}

/// The worker's entry point.
#[pg_guard]
#[no_mangle]
pub extern "C-unwind" fn cot_webhook_worker_main(_arg: pg_sys::Datum) {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP | SignalWakeFlags::SIGTERM);
    let db = BackgroundWorker::get_extra().to_string();
    BackgroundWorker::connect_worker_to_spi(Some(&db), None);
    BackgroundWorker::transaction(queue::session_settings);
    let mut worker = Worker::new();
    worker.run();
    // Exit code 1, so that after pg_terminate_backend the postmaster starts
    // the worker again (code 0 would unregister it); at shutdown it does not.
    // SAFETY: ends the process the way PostgreSQL does.
    unsafe { pg_sys::proc_exit(1) };
}

struct Config {
    poll: Duration,
    concurrency: usize,
    per_webhook: usize,
    policy: Policy,
    retention_s: i32,
}

/// An outcome not stored yet.
struct Unrecorded {
    id: uuid::Uuid,
    row: Value,
    /// Rounds it was not stored in.
    tries: u32,
}

struct Worker {
    pool: Pool,
    config: Config,
    /// In flight: delivery → webhook.
    busy: HashMap<uuid::Uuid, uuid::Uuid>,
    unrecorded: Vec<Unrecorded>,
    rng: u64,
    last_position: i64,
    last_read: Instant,
    read_more: bool,
    next_prune: Instant,
}

impl Worker {
    fn new() -> Worker {
        let (config, client) = read_settings();
        let agent = deliver::agent(&client).unwrap_or_else(|e| {
            pgrx::warning!("cot webhooks: {e}; using the built-in roots");
            deliver::agent(&ClientSettings {
                ca_file: None,
                ..client
            })
            .expect("the default client")
        });
        let mut pool = Pool::new(agent).expect("a socket pair for the delivery threads");
        pool.ensure_threads(config.concurrency);
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            ^ (std::process::id() as u64) << 32;
        Worker {
            pool,
            config,
            busy: HashMap::new(),
            unrecorded: Vec::new(),
            rng: seed | 1,
            last_position: -1,
            last_read: Instant::now() - READ_AT_LEAST_EVERY,
            read_more: true,
            next_prune: Instant::now(),
        }
    }

    fn reconfigure(&mut self) {
        let (config, client) = read_settings();
        match deliver::agent(&client) {
            Ok(agent) => self.pool.set_agent(agent),
            Err(e) => pgrx::warning!("cot webhooks: {e}; keeping the previous client"),
        }
        self.pool.ensure_threads(config.concurrency);
        self.config = config;
    }

    fn run(&mut self) {
        let mut wait = Duration::ZERO;
        loop {
            let woke = wait_for(self.pool.wake_fd(), wait);
            if woke.postmaster_died {
                return;
            }
            if BackgroundWorker::sigterm_received() {
                self.shutdown();
                return;
            }
            if BackgroundWorker::sighup_received() {
                // SAFETY: what a backend does on SIGHUP, on the main thread.
                unsafe {
                    pg_sys::ConfigReloadPending = 0;
                    pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP);
                }
                self.reconfigure();
            }
            if woke.socket {
                self.gather();
            }
            wait = self.round();
        }
    }

    /// Called when outcomes have arrived and others may follow: while
    /// requests are still in flight, waits up to [`GATHER_WINDOW`] for them,
    /// so that one round records several outcomes and refills several
    /// places, instead of one each (a round costs about the same for one
    /// outcome as for sixteen). A signal ends the wait.
    fn gather(&mut self) {
        let start = Instant::now();
        loop {
            self.take_outcomes();
            let left = GATHER_WINDOW.saturating_sub(start.elapsed());
            if self.busy.is_empty() || left.is_zero() {
                return;
            }
            let woke = wait_for(self.pool.wake_fd(), left);
            if !woke.socket {
                return;
            }
        }
    }

    /// Moves the outcomes that arrived from the pool to `unrecorded`.
    fn take_outcomes(&mut self) {
        for o in self.pool.take_outcomes() {
            self.busy.remove(&o.delivery);
            let row = self.outcome_row(&o);
            self.unrecorded.push(Unrecorded {
                id: o.delivery,
                row,
                tries: 0,
            });
        }
    }

    /// One round, one transaction: record the outcomes, read new changes
    /// into deliveries, pick the deliveries due, and hand them to the
    /// threads; returns how long to wait before the next round (an outcome
    /// arriving ends the wait early).
    fn round(&mut self) -> Duration {
        self.take_outcomes();
        let room = self.config.concurrency.saturating_sub(self.busy.len());
        let read_due = self.read_more || self.last_read.elapsed() >= READ_AT_LEAST_EVERY;
        let prune_due = Instant::now() >= self.next_prune;
        let unrecorded_ids: Vec<uuid::Uuid> = self.unrecorded.iter().map(|u| u.id).collect();
        // In flight or not recorded yet: not due again.
        let busy: Vec<uuid::Uuid> = self
            .busy
            .keys()
            .copied()
            .chain(unrecorded_ids.iter().copied())
            .collect();
        let mut in_flight: HashMap<uuid::Uuid, i32> = HashMap::new();
        for w in self.busy.values() {
            *in_flight.entry(*w).or_default() += 1;
        }
        let in_flight: Vec<(uuid::Uuid, i32)> = in_flight.into_iter().collect();
        let per_webhook = self.config.per_webhook as i32;
        let unrecorded = Value::Array(self.unrecorded.iter().map(|u| u.row.clone()).collect());
        let last_position = self.last_position;
        let retention = self.config.retention_s;
        let step = transaction(AssertUnwindSafe(|| {
            if !queue::installed() {
                return None;
            }
            let recorded = if unrecorded_ids.is_empty() {
                Vec::new()
            } else {
                queue::record(&unrecorded_ids, unrecorded)
            };
            let position = queue::change_position();
            let mut read = None;
            if (read_due || position != last_position) && queue::change_log_exists() {
                let mut n = 0;
                for slug in queue::tenants_to_read() {
                    match subxact::run(|| ingest::tenant(&slug)) {
                        Ok(k) => n += k,
                        Err(e) => pgrx::warning!("cot webhooks: changes of tenant {slug} not read: {e}"),
                    }
                }
                read = Some(n);
            }
            let due = if room > 0 {
                queue::due(&busy, per_webhook, &in_flight)
            } else {
                Vec::new()
            };
            let pruned = prune_due.then(|| queue::prune(retention));
            Some((recorded, position, read, due, pruned))
        }));
        let Some((recorded, position, read, due, pruned)) = step else {
            // Not installed here (yet): look again in a second.
            return Duration::from_secs(1);
        };
        let recorded: HashSet<uuid::Uuid> = recorded.into_iter().collect();
        self.unrecorded.retain_mut(|u| {
            u.tries += 1;
            !recorded.contains(&u.id) && u.tries < RECORD_TRIES
        });
        self.last_position = position;
        if let Some(n) = read {
            self.last_read = Instant::now();
            self.read_more = n > 0;
        }
        if pruned.is_some() {
            self.next_prune = Instant::now() + PRUNE_EVERY;
        }
        self.dispatch(due);
        if self.read_more || !self.unrecorded.is_empty() {
            Duration::from_millis(1)
        } else {
            self.config.poll
        }
    }

    /// Hands due deliveries to the threads, within the bounds: in all, and
    /// per webhook.
    fn dispatch(&mut self, due: Vec<queue::Due>) {
        let mut per: HashMap<uuid::Uuid, usize> = HashMap::new();
        for w in self.busy.values() {
            *per.entry(*w).or_default() += 1;
        }
        for d in due {
            if self.busy.len() >= self.config.concurrency {
                break;
            }
            let n = per.entry(d.webhook).or_default();
            if *n >= self.config.per_webhook || self.busy.contains_key(&d.id) {
                continue;
            }
            let (Ok(key), Ok(headers)) = (
                signature::secret_key(&d.secret),
                serde_json::from_str::<BTreeMap<String, String>>(&d.headers),
            ) else {
                let o = Outcome {
                    delivery: d.id,
                    attempts: d.attempts,
                    attempt: Attempt::Refused,
                    status: None,
                    error: Some("the webhook's stored secret or headers cannot be read".into()),
                    latency: Duration::ZERO,
                };
                let row = self.outcome_row(&o);
                self.unrecorded.push(Unrecorded {
                    id: d.id,
                    row,
                    tries: 0,
                });
                continue;
            };
            *n += 1;
            self.busy.insert(d.id, d.webhook);
            self.pool.submit(Job {
                delivery: d.id,
                attempts: d.attempts,
                url: d.url,
                key,
                headers: headers.into_iter().collect(),
                body: d.payload,
            });
        }
    }

    fn outcome_row(&mut self, o: &Outcome) -> Value {
        let unit = self.unit();
        let verdict = self.config.policy.verdict(o.attempts + 1, &o.attempt, unit);
        let delay_ms = match verdict {
            Verdict::RetryAfter(d) => d.as_millis().min(i64::MAX as u128) as i64,
            _ => 0,
        };
        json!({
            "id": o.delivery,
            "state": verdict.state(),
            "delay_ms": delay_ms,
            "status": o.status,
            "error": o.error,
            "latency_ms": o.latency.as_millis().min(i32::MAX as u128) as i64,
        })
    }

    /// A uniform draw in [0, 1) (xorshift64*: jitter needs spread, not secrecy).
    fn unit(&mut self) -> f64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Awaits the requests in flight for a moment and records what they got,
    /// so that a restart sends as little as possible twice.
    fn shutdown(&mut self) {
        let until = Instant::now() + SHUTDOWN_GRACE;
        while !self.busy.is_empty() && Instant::now() < until {
            self.take_outcomes();
            std::thread::sleep(Duration::from_millis(10));
        }
        self.take_outcomes();
        if self.unrecorded.is_empty() {
            return;
        }
        let ids: Vec<uuid::Uuid> = self.unrecorded.iter().map(|u| u.id).collect();
        let rows = Value::Array(self.unrecorded.drain(..).map(|u| u.row).collect());
        transaction(AssertUnwindSafe(|| {
            if queue::installed() {
                queue::record(&ids, rows);
            }
        }));
    }
}

fn read_settings() -> (Config, ClientSettings) {
    let config = Config {
        poll: Duration::from_millis(settings::POLL_INTERVAL_MS.get().max(1) as u64),
        concurrency: settings::CONCURRENCY.get().max(1) as usize,
        per_webhook: settings::ENDPOINT_CONCURRENCY.get().max(1) as usize,
        policy: settings::policy(),
        retention_s: settings::RETENTION_S.get(),
    };
    let client = ClientSettings {
        timeout: Duration::from_millis(settings::TIMEOUT_MS.get().max(1) as u64),
        allow_private: settings::ALLOW_PRIVATE.get(),
        ca_file: settings::ca_file(),
    };
    (config, client)
}

/// One transaction of the worker, then its table statistics reported (at
/// most once a second), as a backend does when it goes idle: without it
/// autovacuum never learns of the worker's inserts and updates, and never
/// vacuums or analyzes `cot.webhook_deliveries`.
fn transaction<R>(f: impl FnOnce() -> R + std::panic::UnwindSafe + std::panic::RefUnwindSafe) -> R {
    let r = BackgroundWorker::transaction(f);
    // SAFETY: outside any transaction, on the main thread, as PostgresMain
    // and the logical replication workers call it.
    unsafe { pg_sys::pgstat_report_stat(false) };
    r
}

struct Woke {
    postmaster_died: bool,
    /// The threads' socket is readable: an outcome arrived.
    socket: bool,
}

/// Waits on the latch (signals), the threads' socket (an outcome) or the
/// timeout, whichever comes first.
fn wait_for(fd: std::os::fd::RawFd, timeout: Duration) -> Woke {
    let events =
        pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_POSTMASTER_DEATH | pg_sys::WL_SOCKET_READABLE;
    // SAFETY: the process latch, a socket that lives as long as the pool,
    // and the wait every background worker makes.
    let rc = unsafe {
        let rc = pg_sys::WaitLatchOrSocket(
            pg_sys::MyLatch,
            events as i32,
            fd,
            timeout.as_millis().min(i32::MAX as u128) as std::ffi::c_long,
            pg_sys::PG_WAIT_EXTENSION,
        );
        pg_sys::ResetLatch(pg_sys::MyLatch);
        rc
    };
    pgrx::check_for_interrupts!();
    Woke {
        postmaster_died: rc & pg_sys::WL_POSTMASTER_DEATH as i32 != 0,
        socket: rc & pg_sys::WL_SOCKET_READABLE as i32 != 0,
    }
}
