//! The server's command-line grammar: every flag is also an environment
//! variable. [`ServeArgs`] is turned into the runtime
//! [`crate::config::ServerConfig`] by `TryFrom`, which reports
//! every invalid setting at once.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::auth::{Scope, Scopes, TokenTable};
use crate::config::{Limits, ServerConfig, TrustConfig};
use crate::history::{
    HistoryConfig, HistoryMode, MAX_CAP, RedisTarget, SentinelTarget, parse_sentinels,
};
use crate::keyring::KeyRing;
use crate::telemetry::LogFormat;
use crate::tls::{ClientScopes, TlsFiles};

/// Everything the server needs.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on for gRPC. Loopback by default: set
    /// 0.0.0.0:50051 to serve other hosts (the image does).
    #[arg(
        long = "listen",
        env = "LISTEN_ADDR",
        default_value = "127.0.0.1:50051"
    )]
    pub listen: SocketAddr,
    /// Redis connection.
    #[command(flatten)]
    pub redis: RedisArgs,
    /// Password history.
    #[command(flatten)]
    pub history: HistoryArgs,
    /// Server limits and lifecycle.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Transport security, tokens and scopes.
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Logging.
    #[command(flatten)]
    pub log: LogArgs,
    /// Address of the Prometheus endpoint (GET /metrics), e.g.
    /// 0.0.0.0:9090 to be scraped from other hosts; "off" disables it.
    #[arg(long, env = "METRICS_ADDR", default_value = "127.0.0.1:9090")]
    pub metrics_listen: OptionalAddr,
    /// Label the calls counter and latency histogram by principal too:
    /// token names, SANs listed in the client scopes file and "anonymous"
    /// as themselves, any other client certificate as "other", refused
    /// calls and health checks without a client certificate as "-" (never
    /// a token). Off: no principal label.
    #[arg(long, env = "METRICS_PRINCIPAL_LABEL")]
    pub metrics_principal_label: bool,
    /// Address of a plaintext port serving grpc.health.v1 alone (for
    /// Kubernetes probes, which cannot present client certificates);
    /// "off" (the default) serves none.
    #[arg(long, env = "HEALTH_ADDR", default_value = "off")]
    pub health_listen: OptionalAddr,
}

/// An address, or "off".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionalAddr(pub Option<SocketAddr>);

impl std::str::FromStr for OptionalAddr {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim() {
            "off" | "" => Ok(OptionalAddr(None)),
            addr => addr
                .parse()
                .map(|addr| OptionalAddr(Some(addr)))
                .map_err(|_| {
                    format!("expected host:port (e.g. 127.0.0.1:9090) or \"off\", got {addr:?}")
                }),
        }
    }
}

/// How to reach Redis: one server (REDIS_URL, REDIS_URL_FILE, or
/// REDIS_HOST and REDIS_PORT), or the master named by Sentinels
/// (REDIS_SENTINELS and REDIS_SENTINEL_MASTER).
#[derive(Debug, Args)]
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
    fn target(&self, errors: &mut Vec<String>) -> Option<(RedisTarget, Option<Vec<u8>>)> {
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

/// Who may call, over what.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Tokens file: one line per token, `NAME SCOPES SHA256_HEX` (make one
    /// with `giropops-senhas token new`). Re-read on SIGHUP and every 10s.
    #[arg(long, env = "AUTH_TOKENS_FILE")]
    pub auth_tokens_file: Option<PathBuf>,
    /// What callers without a token may do: scopes (generate, check,
    /// history, history:all), comma-separated, or "none", or "all" (a laptop
    /// demo: "anonymous" is then a principal like any other).
    #[arg(long, env = "ANONYMOUS_SCOPES", default_value = "generate,check")]
    pub anonymous_scopes: Scopes,
    /// PEM certificate chain: serve gRPC over TLS (with --tls-key).
    #[arg(long, env = "TLS_CERT_FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "TLS_KEY_FILE")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA bundle: require client certificates signed by it (mutual
    /// TLS); others are refused at the handshake.
    #[arg(long, env = "TLS_CLIENT_CA_FILE")]
    pub tls_client_ca: Option<PathBuf>,
    /// Client scopes file, with --tls-client-ca: one line per client
    /// certificate SAN, `SAN SCOPES` (a DNS name, or a URI such as a SPIFFE
    /// ID). A certificate whose SANs are not listed gets the anonymous
    /// scopes. Re-read on SIGHUP and every 10s.
    #[arg(long, env = "TLS_CLIENT_SCOPES_FILE")]
    pub tls_client_scopes: Option<PathBuf>,
    /// Allow tokens over plaintext on a non-loopback address: only when TLS
    /// ends at a mesh sidecar in front of this process.
    #[arg(long, env = "ALLOW_PLAINTEXT")]
    pub allow_plaintext: bool,
    /// Serve gRPC reflection: "on" or "off".
    #[arg(long, env = "REFLECTION", default_value = "on", value_parser = ["on", "off"])]
    pub reflection: String,
    /// History encryption keys: a file of `ID BASE64_32_BYTES` lines (the
    /// first encrypts, all decrypt), or "ephemeral" (a random key: history
    /// unreadable after a restart and across replicas). Needed when any
    /// caller may keep a history in the encrypted mode; unused with
    /// HISTORY_MODE=metadata.
    #[arg(long, env = "HISTORY_KEYS_FILE")]
    pub history_keys_file: Option<String>,
    /// Entries older than this are never returned; a quiet history expires.
    #[arg(long, env = "HISTORY_TTL", default_value = "24h", value_parser = humantime::parse_duration)]
    pub history_ttl: Duration,
}

/// Bounds on what the server accepts and how it stops.
#[derive(Debug, Clone, Copy, Args)]
pub struct LimitArgs {
    /// Longest a single call may run; past it the call ends
    /// DEADLINE_EXCEEDED (a client's shorter grpc-timeout wins).
    #[arg(long, env = "REQUEST_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,
    /// On SIGTERM/SIGINT, how long in-flight calls may take to finish.
    #[arg(long, env = "DRAIN_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub drain_timeout: Duration,
    /// On SIGTERM, how long to keep serving first (health NOT_SERVING at
    /// once) while Kubernetes removes the pod from its endpoints; then the
    /// drain. The grace period must exceed delay + drain timeout.
    #[arg(long, env = "SHUTDOWN_DELAY", default_value = "0s", value_parser = humantime::parse_duration)]
    pub shutdown_delay: Duration,
    /// Largest request message accepted, in bytes.
    #[arg(long, env = "MAX_REQUEST_BYTES", default_value_t = 64 * 1024,
          value_parser = clap::value_parser!(u32).range(1024..=4 * 1024 * 1024))]
    pub max_request_bytes: u32,
    /// Most concurrent calls on one connection.
    #[arg(long, env = "MAX_CONCURRENT_STREAMS", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_concurrent_streams: u32,
    /// Connections are closed gracefully after this long, so clients
    /// reconnect and spread over new replicas (0s: never).
    #[arg(long, env = "MAX_CONNECTION_AGE", default_value = "5m", value_parser = humantime::parse_duration)]
    pub max_connection_age: Duration,
    /// Most client connections open at once; at the cap new clients wait
    /// in the listen backlog.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 4096,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// Time a new connection has to send the HTTP/2 preface before it is
    /// closed.
    #[arg(long, env = "PREFACE_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub preface_timeout: Duration,
    /// Largest unary response, in bytes (count × length, page_size ×
    /// entry); a request that would exceed it is INVALID_ARGUMENT.
    #[arg(long, env = "MAX_RESPONSE_BYTES", default_value_t = 1024 * 1024,
          value_parser = clap::value_parser!(u32).range(64 * 1024..=64 * 1024 * 1024))]
    pub max_response_bytes: u32,
    /// Response bytes all calls together may hold until the client has
    /// read them; past it calls get RESOURCE_EXHAUSTED.
    #[arg(long, env = "RESPONSE_BUDGET_BYTES", default_value_t = 64 * 1024 * 1024,
          value_parser = clap::value_parser!(u32).range(1024 * 1024..=4 * 1024 * 1024 * 1024 - 1))]
    pub response_budget_bytes: u32,
    /// Response bytes the calls of one connection may hold.
    #[arg(long, env = "CONNECTION_BUDGET_BYTES", default_value_t = 8 * 1024 * 1024,
          value_parser = clap::value_parser!(u32).range(64 * 1024..=4 * 1024 * 1024 * 1024 - 1))]
    pub connection_budget_bytes: u32,
    /// Most PasswordService calls in flight at once (health is never
    /// limited); past it calls get RESOURCE_EXHAUSTED at once.
    #[arg(long, env = "MAX_IN_FLIGHT", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_in_flight: u32,
}

/// Log output.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// Log filter, in tracing's EnvFilter syntax (e.g. info,giropops_senhas=debug).
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}

/// Every invalid server setting, each naming its flag and variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {}", .0.join("; "))]
pub struct ConfigErrors(pub Vec<String>);

impl TryFrom<ServeArgs> for ServerConfig {
    type Error = ConfigErrors;

    /// Checks every setting and reports all the invalid ones at once.
    fn try_from(args: ServeArgs) -> Result<Self, ConfigErrors> {
        // Every field is named: a new flag cannot be silently ignored here.
        let ServeArgs {
            listen,
            redis,
            history,
            trust,
            limits,
            log: _, // applied by `telemetry::init`
            metrics_listen: OptionalAddr(metrics_addr),
            metrics_principal_label,
            health_listen: OptionalAddr(health_addr),
        } = args;
        let mut errors = Vec::new();
        let RedisArgs {
            redis_url: _, // these through `target()`
            redis_url_file: _,
            redis_password_file: _,
            redis_username: _,
            redis_ca_file: _,
            redis_sentinels: _,
            redis_sentinel_master: _,
            redis_sentinel_tls: _,
            redis_sentinel_password_file: _,
            redis_host: _,
            redis_port: _,
            redis_pool_size,
            redis_connect_timeout,
            redis_response_timeout,
            redis_command_timeout,
            redis_min_replicas_ack,
            redis_wait_timeout,
            redis_check_interval,
        } = redis;
        let HistoryArgs {
            history_cap,
            history_key,
            history_mode,
        } = history;
        let LimitArgs {
            request_timeout,
            drain_timeout,
            shutdown_delay,
            max_request_bytes,
            max_concurrent_streams,
            max_connection_age,
            max_connections,
            preface_timeout,
            max_response_bytes,
            response_budget_bytes,
            connection_budget_bytes,
            max_in_flight,
        } = limits;
        for (value, flag) in [
            (request_timeout, "--request-timeout/REQUEST_TIMEOUT"),
            (preface_timeout, "--preface-timeout/PREFACE_TIMEOUT"),
            (
                redis_connect_timeout,
                "--redis-connect-timeout/REDIS_CONNECT_TIMEOUT",
            ),
            (
                redis_command_timeout,
                "--redis-command-timeout/REDIS_COMMAND_TIMEOUT",
            ),
            (
                redis_check_interval,
                "--redis-check-interval/REDIS_CHECK_INTERVAL",
            ),
        ] {
            if value.is_zero() {
                errors.push(format!("{flag} must be above 0"));
            }
        }
        let TrustArgs {
            auth_tokens_file,
            anonymous_scopes,
            tls_cert,
            tls_key,
            tls_client_ca,
            tls_client_scopes,
            allow_plaintext,
            reflection,
            history_keys_file,
            history_ttl,
        } = trust;
        let tokens = auth_tokens_file.and_then(|path| match TokenTable::load(&path) {
            Ok(table) => Some((path, table)),
            Err(error) => {
                errors.push(format!("--auth-tokens-file/AUTH_TOKENS_FILE: {error}"));
                None
            }
        });
        if tls_client_scopes.is_some() && tls_client_ca.is_none() {
            errors.push(
                "--tls-client-scopes/TLS_CLIENT_SCOPES_FILE needs mutual TLS: set --tls-client-ca/TLS_CLIENT_CA_FILE".to_owned(),
            );
        }
        let client_scopes = tls_client_scopes.and_then(|path| match ClientScopes::load(&path) {
            Ok(scopes) => Some((path, scopes)),
            Err(error) => {
                errors.push(format!(
                    "--tls-client-scopes/TLS_CLIENT_SCOPES_FILE: {error}"
                ));
                None
            }
        });
        let tls = match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert,
                key,
                client_ca: tls_client_ca,
            }),
            (None, None) if tls_client_ca.is_none() => None,
            _ => {
                errors.push(
                    "TLS needs both --tls-cert/TLS_CERT_FILE and --tls-key/TLS_KEY_FILE (and --tls-client-ca/TLS_CLIENT_CA_FILE needs them too)".to_owned(),
                );
                None
            }
        };
        if tokens.is_some() && tls.is_none() && !listen.ip().is_loopback() && !allow_plaintext {
            errors.push(format!(
                "tokens would travel in plaintext on {listen}: set --tls-cert/--tls-key, listen on loopback, or --allow-plaintext/ALLOW_PLAINTEXT when TLS ends at a mesh sidecar"
            ));
        }
        // A history only when some caller may keep one.
        let may_keep_history = anonymous_scopes.grants(Scope::History)
            || tokens.as_ref().is_some_and(|(_, table)| {
                table.principals().any(|p| p.scopes.grants(Scope::History))
            })
            || client_scopes.as_ref().is_some_and(|(_, scopes)| {
                scopes.grants_any("history") || scopes.grants_any("history:all")
            });
        let keys = match history_keys_file.as_deref() {
            _ if history_cap == 0 || !may_keep_history => None,
            // No secret is stored: nothing to encrypt, no keys file needed
            // (one given is not read).
            _ if history_mode == HistoryMode::Metadata => Some(KeyRing::ephemeral()),
            Some("ephemeral") => Some(KeyRing::ephemeral()),
            Some(path) => match KeyRing::load(path) {
                Ok(keys) => Some(keys),
                Err(error) => {
                    errors.push(format!("--history-keys-file/HISTORY_KEYS_FILE: {error}"));
                    None
                }
            },
            None => {
                errors.push(
                    "a caller may keep a history, so it is encrypted: set --history-keys-file/HISTORY_KEYS_FILE to a keys file, or to \"ephemeral\" (unreadable after a restart)".to_owned(),
                );
                None
            }
        };
        let history = keys.and_then(|keys| {
            if history_key.trim().is_empty() {
                errors.push("--history-key/HISTORY_KEY must not be empty".to_owned());
            }
            let response_timeout = redis_response_timeout.unwrap_or(redis_command_timeout);
            if response_timeout.is_zero() || response_timeout > redis_command_timeout {
                errors.push(format!(
                    "--redis-response-timeout/REDIS_RESPONSE_TIMEOUT ({response_timeout:?}) must be above 0 and at most --redis-command-timeout/REDIS_COMMAND_TIMEOUT ({redis_command_timeout:?})"
                ));
            }
            if redis_min_replicas_ack > 0
                && !(Duration::ZERO < redis_wait_timeout
                    && redis_wait_timeout < response_timeout
                    && response_timeout <= redis_command_timeout
                    && redis_command_timeout < request_timeout)
            {
                errors.push(format!(
                    "with --redis-min-replicas-ack/REDIS_MIN_REPLICAS_ACK the timeouts must nest: 0 < --redis-wait-timeout ({redis_wait_timeout:?}) < --redis-response-timeout ({response_timeout:?}) <= --redis-command-timeout ({redis_command_timeout:?}) < --request-timeout ({request_timeout:?})"
                ));
            }
            let (target, tls_roots) = redis.target(&mut errors)?;
            Some(HistoryConfig {
                target,
                tls_roots,
                key: history_key,
                cap: usize::from(history_cap),
                pool_size: usize::from(redis_pool_size),
                connect_timeout: redis_connect_timeout,
                response_timeout,
                command_timeout: redis_command_timeout,
                min_replicas_ack: redis_min_replicas_ack,
                wait_timeout: redis_wait_timeout,
                keys,
                mode: history_mode,
                ttl: history_ttl,
            })
        });
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        Ok(ServerConfig {
            history,
            redis_check_interval,
            limits: Limits {
                request_timeout,
                drain_timeout,
                shutdown_delay,
                max_request_bytes: max_request_bytes as usize,
                max_concurrent_streams,
                max_connection_age: (!max_connection_age.is_zero()).then_some(max_connection_age),
                max_connections: max_connections as usize,
                preface_timeout,
                max_response_bytes: max_response_bytes as usize,
                response_budget_bytes: response_budget_bytes as usize,
                connection_budget_bytes: connection_budget_bytes as usize,
                max_in_flight: max_in_flight as usize,
            },
            metrics_addr,
            metrics_principal_label,
            health_addr,
            trust: TrustConfig {
                tokens,
                anonymous_scopes,
                tls,
                client_scopes,
                reflection: reflection == "on",
            },
        })
    }
}
