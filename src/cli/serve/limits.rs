//! Bounds on what the server accepts and how it stops; log output.

use std::time::Duration;

use clap::Args;

use crate::telemetry::LogFormat;

/// Bounds on what the server accepts and how it stops.
#[derive(Debug, Clone, Copy, Args)]
#[command(next_help_heading = "Limits")]
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
    /// Most concurrent calls on one connection. 100, as RFC 9113
    /// recommends: hyper-based clients (tonic) open up to 100 streams
    /// before they read the server's limit, and a lower one refuses the
    /// rest of a burst with REFUSED_STREAM.
    #[arg(long, env = "MAX_CONCURRENT_STREAMS", default_value_t = 100,
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
    /// Time a new connection has to send the HTTP/2 preface, or over
    /// HTTP/1.1 its first request's whole head, before it is closed.
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
#[command(next_help_heading = "Logs and metrics")]
pub struct LogArgs {
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// Log filter, in tracing's EnvFilter syntax (e.g. info,giropops_senhas=debug).
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}
