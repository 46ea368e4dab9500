//! Command line and environment: every flag is also an environment variable.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::history::{HistoryConfig, MAX_CAP};

/// giropops-senhas: passwords from a CSPRNG over gRPC, with a capped history
/// in Redis. Without a subcommand, serves.
#[derive(Debug, Parser)]
#[command(
    name = "giropops-senhas",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do; serving is the default.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Server settings (when serving).
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Subcommands besides serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe a running server with grpc.health.v1 Check: exit 0 when
    /// SERVING, 1 otherwise. For container health checks (no shell needed).
    Healthcheck(HealthcheckArgs),
    /// Generate passwords on a running server (printed one per line).
    Generate(GenerateArgs),
    /// Generate a passphrase on a running server.
    Passphrase(PassphraseArgs),
    /// List the most recent secrets of a running server, newest first.
    List(ListArgs),
    /// Check the strength of a password read from stdin (never stored).
    Check(CheckArgs),
}

/// Where and how a client subcommand talks to the server.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Server address: http://host:port, or https://host:port for TLS.
    #[arg(long, env = "GIROPOPS_ADDR", default_value = "http://127.0.0.1:50051")]
    pub addr: String,
    /// Print JSON instead of human text.
    #[arg(long)]
    pub json: bool,
    /// Bound on connecting and on the call.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// `generate` options (the server validates them).
#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Number of characters (4-1024; 0: 16).
    #[arg(long, default_value_t = 0)]
    pub length: u32,
    /// Use digits.
    #[arg(long)]
    pub numbers: bool,
    /// Use special characters.
    #[arg(long)]
    pub special: bool,
    /// Leave out lower-case letters.
    #[arg(long)]
    pub no_lowercase: bool,
    /// Leave out upper-case letters.
    #[arg(long)]
    pub no_uppercase: bool,
    /// Least number of digits.
    #[arg(long, default_value_t = 0)]
    pub min_digits: u32,
    /// Least number of special characters.
    #[arg(long, default_value_t = 0)]
    pub min_specials: u32,
    /// Leave out look-alike characters.
    #[arg(long)]
    pub exclude_ambiguous: bool,
    /// Characters never to use.
    #[arg(long)]
    pub exclude: Option<String>,
    /// Special characters to use instead of the 32 defaults.
    #[arg(long)]
    pub special_chars: Option<String>,
    /// How many passwords (1-1000).
    #[arg(long, default_value_t = 1)]
    pub count: u32,
    /// Do not add them to the history.
    #[arg(long)]
    pub no_store: bool,
}

/// `passphrase` options.
#[derive(Debug, Args)]
pub struct PassphraseArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Number of words (3-20; 0: 6).
    #[arg(long, default_value_t = 0)]
    pub words: u32,
    /// Between words (default "-").
    #[arg(long)]
    pub separator: Option<String>,
    /// Capitalize each word.
    #[arg(long)]
    pub capitalize: bool,
    /// Append a digit to one word.
    #[arg(long)]
    pub number: bool,
    /// Do not add it to the history.
    #[arg(long)]
    pub no_store: bool,
}

/// `list` options.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// How many (0: 10; at most 1000).
    #[arg(long, default_value_t = 0)]
    pub page_size: u32,
}

/// `check` options.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// A word the password should not be built from (repeatable).
    #[arg(long = "user-input")]
    pub user_inputs: Vec<String>,
}

/// `healthcheck` options.
#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// Server to probe. Default: this host at the port of LISTEN_ADDR
    /// (http://127.0.0.1:50051 unless LISTEN_ADDR says otherwise), so the
    /// image's HEALTHCHECK follows a changed listen address.
    #[arg(long, env = "HEALTHCHECK_ADDR")]
    pub addr: Option<String>,
    /// Service to ask about; "" is the whole server.
    #[arg(long, default_value = "")]
    pub service: String,
    /// Give up after this long (e.g. 2s, 500ms).
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// Everything the server needs.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on for gRPC.
    #[arg(long = "listen", env = "LISTEN_ADDR", default_value = "0.0.0.0:50051")]
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
    /// Logging.
    #[command(flatten)]
    pub log: LogArgs,
    /// Address of the Prometheus endpoint (GET /metrics); "off" disables it.
    #[arg(long, env = "METRICS_ADDR", default_value = "0.0.0.0:9090")]
    pub metrics_listen: MetricsAddr,
}

/// Where to serve metrics, if anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsAddr(pub Option<SocketAddr>);

impl std::str::FromStr for MetricsAddr {
    type Err = std::net::AddrParseError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim() {
            "off" | "" => Ok(MetricsAddr(None)),
            addr => addr.parse().map(|addr| MetricsAddr(Some(addr))),
        }
    }
}

/// How to reach Redis.
#[derive(Debug, Args)]
pub struct RedisArgs {
    /// Redis URL (redis:// or rediss:// for TLS, with user:password@ if
    /// needed). When unset, built from REDIS_HOST and REDIS_PORT
    /// (default redis://127.0.0.1:6379).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
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
    /// Bound on one Redis operation; past it the call fails UNAVAILABLE.
    #[arg(long, env = "REDIS_COMMAND_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub redis_command_timeout: Duration,
    /// How often health pings Redis (NOT_SERVING while it fails).
    #[arg(long, env = "REDIS_CHECK_INTERVAL", default_value = "2s", value_parser = humantime::parse_duration)]
    pub redis_check_interval: Duration,
}

impl RedisArgs {
    /// The URL to connect to: REDIS_URL, else REDIS_HOST and REDIS_PORT.
    pub fn url(&self) -> String {
        match &self.redis_url {
            Some(url) if !url.trim().is_empty() => url.trim().to_owned(),
            _ => format!("redis://{}:{}", self.redis_host, self.redis_port),
        }
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
}

/// Bounds on what the server accepts and how it stops.
#[derive(Debug, Clone, Copy, Args)]
pub struct LimitArgs {
    /// Longest a single call may run before the server cancels it.
    #[arg(long, env = "REQUEST_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,
    /// On SIGTERM/SIGINT, how long in-flight calls may take to finish.
    #[arg(long, env = "DRAIN_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub drain_timeout: Duration,
    /// Largest request message accepted, in bytes.
    #[arg(long, env = "MAX_REQUEST_BYTES", default_value_t = 64 * 1024,
          value_parser = clap::value_parser!(u32).range(1024..=4 * 1024 * 1024))]
    pub max_request_bytes: u32,
    /// Most concurrent calls on one connection.
    #[arg(long, env = "MAX_CONCURRENT_STREAMS", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_concurrent_streams: u32,
    /// Connections are closed gracefully after this long, so clients
    /// reconnect and spread over new replicas (0s: never).
    #[arg(long, env = "MAX_CONNECTION_AGE", default_value = "5m", value_parser = humantime::parse_duration)]
    pub max_connection_age: Duration,
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

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

impl ServeArgs {
    /// The history settings, or `None` when the cap is 0 (history off).
    pub fn history_config(&self) -> Option<HistoryConfig> {
        let HistoryArgs {
            history_cap,
            history_key,
        } = &self.history;
        (*history_cap > 0).then(|| HistoryConfig {
            url: self.redis.url(),
            key: history_key.clone(),
            cap: usize::from(*history_cap),
            pool_size: usize::from(self.redis.redis_pool_size),
            connect_timeout: self.redis.redis_connect_timeout,
            command_timeout: self.redis.redis_command_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("giropops-senhas").chain(args.iter().copied()))
            .expect("valid arguments")
    }

    #[test]
    fn redis_url_wins_over_host_and_port() {
        let cli = parse(&[
            "--redis-url",
            "rediss://r:6380",
            "--redis-host",
            "h",
            "--redis-port",
            "1",
        ]);
        assert_eq!(cli.serve.redis.url(), "rediss://r:6380");
        let cli = parse(&["--redis-host", "cache", "--redis-port", "6390"]);
        assert_eq!(cli.serve.redis.url(), "redis://cache:6390");
    }

    #[test]
    fn history_cap_zero_means_no_history() {
        assert!(
            parse(&["--history-cap", "0"])
                .serve
                .history_config()
                .is_none()
        );
        let config = parse(&[]).serve.history_config().unwrap();
        assert_eq!(config.cap, 10);
    }

    #[test]
    fn bounds_are_enforced() {
        let too_big = Cli::try_parse_from(["giropops-senhas", "--history-cap", "10001"]);
        assert!(too_big.is_err());
        let pool = Cli::try_parse_from(["giropops-senhas", "--redis-pool-size", "0"]);
        assert!(pool.is_err());
    }

    #[test]
    fn metrics_can_be_turned_off() {
        assert_eq!(
            parse(&[]).serve.metrics_listen,
            MetricsAddr(Some("0.0.0.0:9090".parse().unwrap()))
        );
        assert_eq!(
            parse(&["--metrics-listen", "off"]).serve.metrics_listen,
            MetricsAddr(None)
        );
        assert!(Cli::try_parse_from(["giropops-senhas", "--metrics-listen", "nope"]).is_err());
    }

    #[test]
    fn healthcheck_is_a_subcommand() {
        let cli = parse(&["healthcheck", "--addr", "http://127.0.0.1:1"]);
        match cli.command {
            Some(Command::Healthcheck(args)) => {
                assert_eq!(args.addr.as_deref(), Some("http://127.0.0.1:1"))
            }
            other => panic!("expected healthcheck, got {other:?}"),
        }
    }
}
