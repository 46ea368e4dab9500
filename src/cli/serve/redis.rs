//! Where the history lives: Redis (one server or Sentinels) and what is
//! kept there.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::history::{HistoryMode, MAX_CAP, RedisTarget, SentinelTarget, parse_sentinels};

/// How to reach Redis: one server (REDIS_URL, REDIS_URL_FILE, or
/// REDIS_HOST and REDIS_PORT), or the master named by Sentinels
/// (REDIS_SENTINELS and REDIS_SENTINEL_MASTER).
#[derive(Debug, Args)]
#[command(next_help_heading = "History and Redis")]
pub struct RedisArgs {
    /// Redis URL: redis://, rediss:// (TLS) or redis+unix:///path/to.sock,
    /// with user:password@ if needed (or see --redis-password-file). When
    /// unset, built from REDIS_HOST and REDIS_PORT (default
    /// redis://127.0.0.1:6379).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<RedisUrl>,
    /// File holding the Redis URL (a mounted Secret), instead of REDIS_URL.
    #[arg(long, env = "REDIS_URL_FILE")]
    pub redis_url_file: Option<PathBuf>,
    /// File holding the Redis password; it replaces any password in the
    /// URL. With Sentinel, the master's password.
    #[arg(long, env = "REDIS_PASSWORD_FILE")]
    pub redis_password_file: Option<PathBuf>,
    /// Redis ACL username (with Sentinel: on the master; with a URL it
    /// replaces the URL's).
    #[arg(long, env = "REDIS_USERNAME")]
    pub redis_username: Option<String>,
    /// PEM CA bundle to verify Redis's TLS certificate with (a private CA),
    /// instead of the public roots. Needs rediss:// or --redis-sentinel-tls.
    #[arg(long, env = "REDIS_CA_FILE")]
    pub redis_ca_file: Option<PathBuf>,
    /// Redis Sentinels, host:port,host:port: the history goes to the master
    /// they name (--redis-sentinel-master), followed across failovers.
    /// Instead of --redis-url.
    #[arg(long, env = "REDIS_SENTINELS")]
    pub redis_sentinels: Option<String>,
    /// The master's name in the Sentinels' configuration.
    #[arg(long, env = "REDIS_SENTINEL_MASTER")]
    pub redis_sentinel_master: Option<String>,
    /// TLS to the Sentinels and to the master (see --redis-ca-file).
    #[arg(long, env = "REDIS_SENTINEL_TLS")]
    pub redis_sentinel_tls: bool,
    /// File holding the Sentinels' own password, when they require one.
    #[arg(long, env = "REDIS_SENTINEL_PASSWORD_FILE")]
    pub redis_sentinel_password_file: Option<PathBuf>,
    /// Redis host, used only when REDIS_URL is unset (compatibility with
    /// the original app).
    #[arg(long, env = "REDIS_HOST", default_value = "127.0.0.1")]
    pub redis_host: String,
    /// Redis port, used only when REDIS_URL is unset.
    #[arg(long, env = "REDIS_PORT", default_value_t = 6379)]
    pub redis_port: u16,
    /// Most Redis connections open at once.
    #[arg(long, env = "REDIS_POOL_SIZE", default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub redis_pool_size: u16,
    /// Bound on connecting to Redis and on waiting for a free connection.
    #[arg(long, env = "REDIS_CONNECT_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub redis_connect_timeout: Duration,
    /// Bound on one Redis reply (default: the command timeout).
    #[arg(long, env = "REDIS_RESPONSE_TIMEOUT", value_parser = humantime::parse_duration)]
    pub redis_response_timeout: Option<Duration>,
    /// Bound on one Redis operation; past it the call fails UNAVAILABLE.
    #[arg(long, env = "REDIS_COMMAND_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub redis_command_timeout: Duration,
    /// Replicas that must acknowledge each history write (Redis WAIT)
    /// before the call answers OK; fewer within --redis-wait-timeout:
    /// UNAVAILABLE (the write may exist). 0: no WAIT. Pair it with Redis's
    /// min-replicas-to-write.
    #[arg(long, env = "REDIS_MIN_REPLICAS_ACK", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=64))]
    pub redis_min_replicas_ack: u32,
    /// How long WAIT waits for the replicas; must be below the response
    /// timeout, itself below the command timeout, below the request timeout.
    #[arg(long, env = "REDIS_WAIT_TIMEOUT", default_value = "500ms", value_parser = humantime::parse_duration)]
    pub redis_wait_timeout: Duration,
    /// How often health pings Redis (NOT_SERVING while it fails).
    #[arg(long, env = "REDIS_CHECK_INTERVAL", default_value = "2s", value_parser = humantime::parse_duration)]
    pub redis_check_interval: Duration,
}

/// A Redis URL, which may hold a password: its `Debug` shows none.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(pub String);

impl std::str::FromStr for RedisUrl {
    type Err = std::convert::Infallible;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Ok(RedisUrl(url.trim().to_owned()))
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisUrl(<redacted>)")
    }
}

impl RedisArgs {
    /// The URL to connect to: REDIS_URL, else REDIS_HOST and REDIS_PORT.
    /// (REDIS_URL_FILE is read by the conversion to a config.)
    pub fn url(&self) -> String {
        match &self.redis_url {
            Some(RedisUrl(url)) if !url.is_empty() => url.clone(),
            _ => format!("redis://{}:{}", self.redis_host, self.redis_port),
        }
    }

    /// Where Redis is, and the CA to trust, reading the files named; every
    /// problem is added to `errors`, naming its flag and variable (never a
    /// password).
    pub(super) fn target(
        &self,
        errors: &mut Vec<String>,
    ) -> Option<(RedisTarget, Option<Vec<u8>>)> {
        let RedisArgs {
            redis_url,
            redis_url_file,
            redis_password_file,
            redis_username,
            redis_ca_file,
            redis_sentinels,
            redis_sentinel_master,
            redis_sentinel_tls,
            redis_sentinel_password_file,
            redis_host: _, // through `url()`
            redis_port: _,
            redis_pool_size: _,
            redis_connect_timeout: _,
            redis_response_timeout: _,
            redis_command_timeout: _,
            redis_min_replicas_ack: _,
            redis_wait_timeout: _,
            redis_check_interval: _,
        } = self;
        let before = errors.len();
        let read =
            |path: &PathBuf, flag: &str, errors: &mut Vec<String>| match std::fs::read_to_string(
                path,
            ) {
                Ok(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
                Ok(_) => {
                    errors.push(format!("{flag}: {} is empty", path.display()));
                    None
                }
                Err(error) => {
                    errors.push(format!("{flag}: cannot read {}: {error}", path.display()));
                    None
                }
            };
        let url_set = redis_url.as_ref().is_some_and(|url| !url.0.is_empty());
        if url_set && redis_url_file.is_some() {
            errors.push(
                "set one of --redis-url/REDIS_URL and --redis-url-file/REDIS_URL_FILE, not both"
                    .to_owned(),
            );
        }
        let password = redis_password_file
            .as_ref()
            .and_then(|path| read(path, "--redis-password-file/REDIS_PASSWORD_FILE", errors));
        let roots = redis_ca_file
            .as_ref()
            .and_then(|path| match std::fs::read(path) {
                Ok(pem) => Some(pem),
                Err(error) => {
                    errors.push(format!(
                        "--redis-ca-file/REDIS_CA_FILE: cannot read {}: {error}",
                        path.display()
                    ));
                    None
                }
            });
        let target = match redis_sentinels {
            Some(sentinels) => {
                if url_set || redis_url_file.is_some() {
                    errors.push("set either --redis-url/REDIS_URL (or --redis-url-file/REDIS_URL_FILE) or --redis-sentinels/REDIS_SENTINELS, not both".to_owned());
                }
                let sentinels = parse_sentinels(sentinels)
                    .map_err(|error| {
                        errors.push(format!(
                            "--redis-sentinels/REDIS_SENTINELS: {error}; expected host:port,host:port"
                        ))
                    })
                    .ok();
                let master = match redis_sentinel_master.as_deref().map(str::trim) {
                    Some(master) if !master.is_empty() => Some(master.to_owned()),
                    _ => {
                        errors.push("--redis-sentinels/REDIS_SENTINELS needs --redis-sentinel-master/REDIS_SENTINEL_MASTER, the master's name".to_owned());
                        None
                    }
                };
                let sentinel_password = redis_sentinel_password_file.as_ref().and_then(|path| {
                    read(
                        path,
                        "--redis-sentinel-password-file/REDIS_SENTINEL_PASSWORD_FILE",
                        errors,
                    )
                });
                sentinels.zip(master).map(|(sentinels, master)| {
                    RedisTarget::Sentinel(SentinelTarget {
                        sentinels,
                        master,
                        tls: *redis_sentinel_tls,
                        auth: Default::default(),
                        sentinel_password,
                    })
                })
            }
            None => {
                for (set, flag) in [
                    (
                        redis_sentinel_master.is_some(),
                        "--redis-sentinel-master/REDIS_SENTINEL_MASTER",
                    ),
                    (
                        *redis_sentinel_tls,
                        "--redis-sentinel-tls/REDIS_SENTINEL_TLS",
                    ),
                    (
                        redis_sentinel_password_file.is_some(),
                        "--redis-sentinel-password-file/REDIS_SENTINEL_PASSWORD_FILE",
                    ),
                ] {
                    if set {
                        errors.push(format!("{flag} needs --redis-sentinels/REDIS_SENTINELS"));
                    }
                }
                let url = match redis_url_file {
                    Some(path) => read(path, "--redis-url-file/REDIS_URL_FILE", errors),
                    None => Some(self.url()),
                };
                url.and_then(|url| match RedisTarget::url(&url) {
                    Ok(target) => Some(target),
                    Err(_) => {
                        // The URL may hold a password: show only its scheme.
                        let scheme = url.split_once("://").map_or("none", |(scheme, _)| scheme);
                        errors.push(format!(
                            "--redis-url/REDIS_URL (or REDIS_URL_FILE) is not a Redis URL (scheme {scheme:?}); expected redis://host:port, rediss://host:port or redis+unix:///path"
                        ));
                        None
                    }
                })
            }
        };
        let target = target.map(|target| {
            let target = match redis_username {
                Some(username) => target.set_username(username),
                None => target,
            };
            match &password {
                Some(password) => target.set_password(password),
                None => target,
            }
        });
        if roots.is_some() && target.as_ref().is_some_and(|t| !t.is_tls()) {
            errors.push("--redis-ca-file/REDIS_CA_FILE needs TLS: a rediss:// URL or --redis-sentinel-tls/REDIS_SENTINEL_TLS".to_owned());
        }
        if errors.len() > before {
            return None;
        }
        target.map(|target| (target, roots))
    }
}

/// What to keep.
#[derive(Debug, Args)]
#[command(next_help_heading = "History and Redis")]
pub struct HistoryArgs {
    /// Most passwords kept in the history. 0 turns history off: no Redis is
    /// used at all and ListPasswords answers FAILED_PRECONDITION.
    #[arg(long, env = "HISTORY_CAP", default_value_t = 10,
          value_parser = clap::value_parser!(u16).range(0..=MAX_CAP as i64))]
    pub history_cap: u16,
    /// Redis key of the history list.
    #[arg(long, env = "HISTORY_KEY", default_value = "giropops-senhas:history")]
    pub history_key: String,
    /// What the history keeps: "encrypted" (the secret, encrypted with
    /// --history-keys-file) or "metadata" (time, length, entropy and
    /// principal only — no secret at all, so no keys file; ListPasswords
    /// returns empty passwords).
    #[arg(long, env = "HISTORY_MODE", default_value_t = HistoryMode::Encrypted)]
    pub history_mode: HistoryMode,
}
