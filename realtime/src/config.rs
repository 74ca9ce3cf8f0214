//! Configuration from the environment, like PostgREST's: every setting is a
//! `COT_REALTIME_*` variable (docs/realtime.md lists them).

use std::net::IpAddr;
use std::time::Duration;

/// The server's settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// libpq connection string or URI of the database (`COT_REALTIME_DB_URI`).
    pub db_uri: String,
    /// The JWT secret or JWK (set), as PostgREST's `jwt-secret`.
    pub jwt_secret: Option<String>,
    /// The secret is base64 (PostgREST's `jwt-secret-is-base64`).
    pub jwt_secret_is_base64: bool,
    /// The audience a token must name, when set (PostgREST's `jwt-aud`).
    pub jwt_aud: Option<String>,
    /// Seconds of clock skew allowed on `exp` and `nbf` (PostgREST 12 allows 30).
    pub jwt_leeway: u64,
    pub host: IpAddr,
    pub port: u16,
    /// Connections used to check joins and re-read changed records.
    pub db_pool: usize,
    /// Most changes read from one tenant's log at a time.
    pub batch_max: i32,
    /// How often tenants with subscribers are read without a wake-up.
    pub poll: Duration,
    /// Most subscriptions (joined channels) the server holds.
    pub max_channels: usize,
    /// Most channels one socket may join.
    pub max_channels_per_socket: usize,
    /// A socket silent for this long (no heartbeat) is closed.
    pub client_timeout: Duration,
    /// Channels joined with an API key check it again this often.
    pub key_recheck: Duration,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn parsed<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match var(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| format!("{name}: cannot read {v:?}")),
    }
}

impl Config {
    /// Reads the settings; the error names the variable that is wrong.
    pub fn from_env() -> Result<Config, String> {
        let db_uri = var("COT_REALTIME_DB_URI").ok_or("COT_REALTIME_DB_URI is not set")?;
        let secret = var("COT_REALTIME_JWT_SECRET");
        if let Some(s) = &secret {
            if !s.trim_start().starts_with('{') && s.len() < 32 {
                return Err("COT_REALTIME_JWT_SECRET: use 32 characters or more (as PostgREST)".into());
            }
        }
        let secs = |name, default| parsed::<u64>(name, default).map(Duration::from_secs);
        let config = Config {
            db_uri,
            jwt_secret: secret,
            jwt_secret_is_base64: parsed("COT_REALTIME_JWT_SECRET_IS_BASE64", false)?,
            jwt_aud: var("COT_REALTIME_JWT_AUD"),
            jwt_leeway: parsed("COT_REALTIME_JWT_LEEWAY", 30)?,
            host: parsed("COT_REALTIME_HOST", IpAddr::from([127, 0, 0, 1]))?,
            port: parsed("COT_REALTIME_PORT", 4000)?,
            db_pool: parsed("COT_REALTIME_DB_POOL", 4)?,
            batch_max: parsed("COT_REALTIME_BATCH_MAX", 1000)?,
            poll: Duration::from_millis(parsed("COT_REALTIME_POLL_MS", 1000)?),
            max_channels: parsed("COT_REALTIME_MAX_CHANNELS", 20_000)?,
            max_channels_per_socket: parsed("COT_REALTIME_MAX_CHANNELS_PER_SOCKET", 100)?,
            client_timeout: secs("COT_REALTIME_CLIENT_TIMEOUT", 75)?,
            key_recheck: secs("COT_REALTIME_KEY_RECHECK", 60)?,
        };
        if config.db_pool == 0 || !(1..=10_000).contains(&config.batch_max) {
            return Err("COT_REALTIME_DB_POOL must be 1 or more, COT_REALTIME_BATCH_MAX 1..10000".into());
        }
        if config.poll < Duration::from_millis(10) {
            return Err("COT_REALTIME_POLL_MS must be 10 or more".into());
        }
        Ok(config)
    }
}
