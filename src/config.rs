//! The server's runtime settings: a plain struct, independent of the
//! command-line grammar (`cli::serve` builds it from flags and environment;
//! tests build it directly, so the developer's environment cannot change
//! them).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::auth::{Scopes, TokenTable};
use crate::history::HistoryConfig;
use crate::policies::PolicySet;
use crate::tls::{ClientScopes, TlsFiles};

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
    /// Calls counted (and timed) by `principal` too: configured names only,
    /// `other` and `-` ([`crate::metrics::PrincipalLabel`]); off: no such
    /// label.
    pub metrics_principal_label: bool,
    /// Where to serve grpc.health.v1 alone, plaintext; `None` serves none.
    pub health_addr: Option<SocketAddr>,
    /// Who may call, over what.
    pub trust: TrustConfig,
    /// Browsers.
    pub web: WebConfig,
    /// Named policies and the file they were read from (re-read like the
    /// tokens); `None`: no policies.
    pub policies: Option<(PathBuf, PolicySet)>,
}

/// What browsers get.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The web page at `/`.
    pub web_ui: bool,
    /// Origins whose pages may call the port (CORS); empty: same origin
    /// only.
    pub cors_allowed_origins: Vec<http::HeaderValue>,
}

impl Default for WebConfig {
    /// The page on, same origin only.
    fn default() -> Self {
        WebConfig {
            web_ui: true,
            cors_allowed_origins: Vec::new(),
        }
    }
}

/// Transport security and who may do what.
#[derive(Debug, Clone)]
pub struct TrustConfig {
    /// The tokens, and the file they were read from (re-read on SIGHUP and
    /// every [`RELOAD_INTERVAL`]); `None`: no tokens.
    pub tokens: Option<(PathBuf, TokenTable)>,
    /// What callers without a token may do.
    pub anonymous_scopes: Scopes,
    /// Server TLS (and mutual TLS with a client CA); `None`: plaintext.
    pub tls: Option<TlsFiles>,
    /// With mutual TLS, the scopes of client certificates by SAN, and the
    /// file they were read from (re-read like the tokens); `None`: every
    /// client certificate gets the anonymous scopes.
    pub client_scopes: Option<(PathBuf, ClientScopes)>,
    /// Reflection served (needs a valid token when tokens are configured).
    pub reflection: bool,
}

/// How often reloadable files are checked for a new version (Kubernetes
/// swaps mounted Secrets by symlink, without a signal).
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(10);

impl Default for TrustConfig {
    /// Plaintext, no tokens, anonymous callers may generate and check.
    fn default() -> Self {
        TrustConfig {
            tokens: None,
            anonymous_scopes: Scopes::anonymous_default(),
            tls: None,
            client_scopes: None,
            reflection: true,
        }
    }
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
            metrics_principal_label: false,
            health_addr: None,
            trust: TrustConfig::default(),
            web: WebConfig::default(),
            policies: None,
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
    /// On shutdown, how long to keep serving (health NOT_SERVING) before
    /// draining, while load balancers stop sending new calls.
    pub shutdown_delay: Duration,
    /// Largest request message, in bytes.
    pub max_request_bytes: usize,
    /// Most concurrent calls on one connection.
    pub max_concurrent_streams: u32,
    /// Connections are closed gracefully after this long (`None`: never).
    pub max_connection_age: Option<Duration>,
    /// Most client connections open at once on the gRPC port.
    pub max_connections: usize,
    /// Time a new connection has to send the HTTP/2 preface (or, over
    /// HTTP/1.1, its first request head).
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
            shutdown_delay: Duration::ZERO,
            max_request_bytes: 64 * 1024,
            max_concurrent_streams: 100,
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
