//! The webhook settings (GUCs). `cot.worker_databases` is read once, when
//! the server starts; the delivery settings are read by the worker at start
//! and again on every configuration reload (`pg_reload_conf()`).

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};
use std::ffi::CString;
use std::time::Duration;

/// `cot.worker_databases`: comma-separated databases that get a delivery
/// worker. Empty (the default): none.
pub static WORKER_DATABASES: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// `cot.webhook_allow_private`: allow targets at loopback, private,
/// link-local, ... addresses. Off.
pub static ALLOW_PRIVATE: GucSetting<bool> = GucSetting::<bool>::new(false);
/// `cot.webhook_ca_file`: a PEM file of CA certificates trusted instead of the
/// built-in Mozilla roots.
pub static CA_FILE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// `cot.webhook_timeout` (ms): one request, connection to last byte.
pub static TIMEOUT_MS: GucSetting<i32> = GucSetting::<i32>::new(10_000);
/// `cot.webhook_max_attempts`.
pub static MAX_ATTEMPTS: GucSetting<i32> = GucSetting::<i32>::new(15);
/// `cot.webhook_retry_base` (ms).
pub static RETRY_BASE_MS: GucSetting<i32> = GucSetting::<i32>::new(2_000);
/// `cot.webhook_retry_cap` (ms).
pub static RETRY_CAP_MS: GucSetting<i32> = GucSetting::<i32>::new(3_600_000);
/// `cot.webhook_concurrency`: requests in flight per worker.
pub static CONCURRENCY: GucSetting<i32> = GucSetting::<i32>::new(64);
/// `cot.webhook_endpoint_concurrency`: requests in flight per webhook.
pub static ENDPOINT_CONCURRENCY: GucSetting<i32> = GucSetting::<i32>::new(16);
/// `cot.webhook_poll_interval` (ms).
pub static POLL_INTERVAL_MS: GucSetting<i32> = GucSetting::<i32>::new(50);
/// `cot.webhook_retention` (s): how long delivered and failed deliveries are kept.
pub static RETENTION_S: GucSetting<i32> = GucSetting::<i32>::new(7 * 86_400);

/// Registers the settings when the library loads.
pub fn register() {
    // PostgreSQL refuses a PGC_POSTMASTER setting (FATAL) from a library
    // loaded after startup: it is one only when cot is preloaded, where it
    // is read; loaded later, the same setting is merely shown.
    // SAFETY: a plain global of the server, set while preloading.
    let preloading = unsafe { pgrx::pg_sys::process_shared_preload_libraries_in_progress };
    GucRegistry::define_string_guc(
        c"cot.worker_databases",
        c"Databases in which a Cot background worker delivers webhooks (comma-separated; empty: none).",
        c"Read at server start; needs cot in shared_preload_libraries. One worker per database.",
        &WORKER_DATABASES,
        if preloading {
            GucContext::Postmaster
        } else {
            GucContext::Sighup
        },
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"cot.webhook_allow_private",
        c"Allow webhook URLs that reach loopback, private, link-local, CGNAT, unique-local, unspecified or multicast addresses.",
        c"Off: such URLs are refused when a webhook is made and again, after name resolution, at each delivery. Superuser only.",
        &ALLOW_PRIVATE,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"cot.webhook_ca_file",
        c"PEM file of CA certificates that webhook HTTPS connections trust instead of the built-in Mozilla roots.",
        c"Empty (default): the Mozilla roots. Superuser only.",
        &CA_FILE,
        GucContext::Suset,
        GucFlags::default(),
    );
    let ms = |name, short, long, setting, min, max| {
        GucRegistry::define_int_guc(
            name,
            short,
            long,
            setting,
            min,
            max,
            GucContext::Sighup,
            GucFlags::UNIT_MS,
        )
    };
    ms(
        c"cot.webhook_timeout",
        c"Longest a webhook request may take, connection to last byte.",
        c"A request past it counts as a timeout, which is retried.",
        &TIMEOUT_MS,
        100,
        300_000,
    );
    ms(
        c"cot.webhook_retry_base",
        c"Ceiling of the wait before the second attempt of a webhook delivery; it doubles with each attempt.",
        c"The wait is drawn uniformly below the ceiling (full jitter); a Retry-After header is a floor under it.",
        &RETRY_BASE_MS,
        10,
        86_400_000,
    );
    ms(
        c"cot.webhook_retry_cap",
        c"The largest ceiling of the wait between two attempts of a webhook delivery.",
        c"",
        &RETRY_CAP_MS,
        10,
        i32::MAX,
    );
    ms(
        c"cot.webhook_poll_interval",
        c"How often the webhook worker looks for new changes and due deliveries.",
        c"",
        &POLL_INTERVAL_MS,
        10,
        60_000,
    );
    let count = |name, short, setting, default_max: (i32, i32)| {
        GucRegistry::define_int_guc(
            name,
            short,
            c"",
            setting,
            1,
            default_max.1,
            GucContext::Sighup,
            GucFlags::default(),
        )
    };
    count(
        c"cot.webhook_max_attempts",
        c"Attempts of a webhook delivery (the first included) before it is marked failed.",
        &MAX_ATTEMPTS,
        (15, 100),
    );
    count(
        c"cot.webhook_concurrency",
        c"Webhook requests in flight at once, per worker.",
        &CONCURRENCY,
        (64, 256),
    );
    count(
        c"cot.webhook_endpoint_concurrency",
        c"Webhook requests in flight at once to one webhook.",
        &ENDPOINT_CONCURRENCY,
        (16, 64),
    );
    GucRegistry::define_int_guc(
        c"cot.webhook_retention",
        c"How long delivered and failed webhook deliveries are kept, after their last attempt.",
        c"The worker deletes older ones in batches.",
        &RETENTION_S,
        60,
        i32::MAX,
        GucContext::Sighup,
        GucFlags::UNIT_S,
    );
}

/// The databases of `cot.worker_databases`, trimmed, without empties.
pub fn worker_databases() -> Vec<String> {
    WORKER_DATABASES
        .get()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
        .split(',')
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
        .collect()
}

/// `cot.webhook_ca_file`, when set.
pub fn ca_file() -> Option<String> {
    CA_FILE
        .get()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.trim().is_empty())
}

/// The retry policy the settings make.
pub fn policy() -> cot_engine::webhook::retry::Policy {
    let ms = |v: i32| Duration::from_millis(v.max(0) as u64);
    cot_engine::webhook::retry::Policy {
        max_attempts: MAX_ATTEMPTS.get().max(1) as u32,
        base: ms(RETRY_BASE_MS.get()),
        cap: ms(RETRY_CAP_MS.get()),
    }
}
