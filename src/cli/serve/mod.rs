//! The server's command-line grammar: every flag is also an environment
//! variable, grouped under `--help` headings by concern (one file each).
//! [`ServeArgs`] is turned into the runtime [`crate::config::ServerConfig`]
//! by `TryFrom` (in `convert`), which reports every invalid setting at once.

mod convert;
mod limits;
mod redis;
mod trust;
mod web;

use std::net::SocketAddr;

use clap::Args;

pub use self::limits::{LimitArgs, LogArgs};
pub use self::redis::{HistoryArgs, RedisArgs, RedisUrl};
pub use self::trust::TrustArgs;
pub use self::web::WebArgs;

/// Everything the server needs.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on for gRPC. Loopback by default: set
    /// 0.0.0.0:50051 to serve other hosts (the image does).
    #[arg(
        long = "listen",
        help_heading = "Listening",
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
    /// Browsers and the web page.
    #[command(flatten)]
    pub web: WebArgs,
    /// Address of the Prometheus endpoint (GET /metrics), e.g.
    /// 0.0.0.0:9090 to be scraped from other hosts; "off" disables it.
    #[arg(
        long,
        env = "METRICS_ADDR",
        help_heading = "Logs and metrics",
        default_value = "127.0.0.1:9090"
    )]
    pub metrics_listen: OptionalAddr,
    /// Label the calls counter and latency histogram by principal too:
    /// token names, SANs listed in the client scopes file and "anonymous"
    /// as themselves, any other client certificate as "other", refused
    /// calls and health checks without a client certificate as "-" (never
    /// a token). Off: no principal label.
    #[arg(
        long,
        env = "METRICS_PRINCIPAL_LABEL",
        help_heading = "Logs and metrics"
    )]
    pub metrics_principal_label: bool,
    /// Address of a plaintext port serving grpc.health.v1 alone (for
    /// Kubernetes probes, which cannot present client certificates);
    /// "off" (the default) serves none.
    #[arg(
        long,
        env = "HEALTH_ADDR",
        default_value = "off",
        help_heading = "Listening"
    )]
    pub health_listen: OptionalAddr,
    /// Named policies callers ask for by name (ListPolicies): a
    /// giropops.v1.ListPoliciesResponse in JSON, e.g.
    /// {"policies": [{"name": "db-password", "password": {"length": 32}}]}.
    /// Re-read on SIGHUP and every 10s; a bad file keeps the previous
    /// policies. Unset: no policies
    #[arg(long, env = "POLICIES_FILE", help_heading = "Policies")]
    pub policies_file: Option<std::path::PathBuf>,
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

/// Every invalid server setting, each naming its flag and variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {}", .0.join("; "))]
pub struct ConfigErrors(pub Vec<String>);
