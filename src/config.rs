//! The server's runtime settings: a plain struct, independent of the
//! command-line grammar (`cli::serve` builds it from flags and environment;
//! tests build it directly, so the developer's environment cannot change
//! them).

use std::net::SocketAddr;
use std::time::Duration;

use crate::history::HistoryConfig;

/// Everything [`crate::server::serve`] needs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The Redis history; `None` keeps no history and uses no Redis.
    pub history: Option<HistoryConfig>,
    /// How often health pings Redis.
    pub redis_check_interval: Duration,
    /// Bounds on calls and connections.
    pub limits: Limits,
    /// Where to serve `/metrics`; `None` serves none.
    pub metrics_addr: Option<SocketAddr>,
}

impl Default for ServerConfig {
    /// No history, no metrics endpoint, default limits: a server that needs
    /// nothing else running.
    fn default() -> Self {
        ServerConfig {
            history: None,
            redis_check_interval: Duration::from_secs(2),
            limits: Limits::default(),
            metrics_addr: None,
        }
    }
}

/// Bounds on what the server accepts and how it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest a call may run (a client's shorter `grpc-timeout` wins).
    pub request_timeout: Duration,
    /// On shutdown, how long in-flight calls may take to finish.
    pub drain_timeout: Duration,
    /// Largest request message, in bytes.
    pub max_request_bytes: usize,
    /// Most concurrent calls on one connection.
    pub max_concurrent_streams: u32,
    /// Connections are closed gracefully after this long (`None`: never).
    pub max_connection_age: Option<Duration>,
    /// Most client connections open at once on the gRPC port.
    pub max_connections: usize,
    /// Time a new connection has to send the HTTP/2 preface.
    pub preface_timeout: Duration,
    /// Largest unary response, in bytes, computed before any work
    /// (`count × length`, `page_size × entry`).
    pub max_response_bytes: usize,
    /// Response bytes all calls together may hold until their bodies are
    /// dropped; past it calls get RESOURCE_EXHAUSTED.
    pub response_budget_bytes: usize,
    /// Response bytes the calls of one connection may hold.
    pub connection_budget_bytes: usize,
    /// Most PasswordService calls in flight at once (health is never
    /// limited); past it calls get RESOURCE_EXHAUSTED at once.
    pub max_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_timeout: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(10),
            max_request_bytes: 64 * 1024,
            max_concurrent_streams: 64,
            max_connection_age: Some(Duration::from_secs(300)),
            max_connections: 4096,
            preface_timeout: Duration::from_secs(5),
            max_response_bytes: 1024 * 1024,
            response_budget_bytes: 64 * 1024 * 1024,
            connection_budget_bytes: 8 * 1024 * 1024,
            max_in_flight: 256,
        }
    }
}
