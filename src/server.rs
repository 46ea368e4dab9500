//! Server wiring: the one place that builds every service, the layer
//! stack, health, reflection, the accept path and the shutdown sequence.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::accept::{self, AcceptLimits};
use crate::config::{Limits, ServerConfig};
use crate::grpc::{PasswordServiceImpl, PasswordServiceServer, ReplyLimits};
use crate::health;
use crate::history::{History, HistoryError, redact_url};
use crate::layers::{self, shed::ResponseBudget};
use crate::metrics::{self, Metrics};
use crate::proto::FILE_DESCRIPTOR_SET;

/// Why the server could not start or stopped badly. Each start-up failure
/// names what failed, the address involved and the setting that changes it.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The history could not be set up.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// Reflection could not load the descriptor sets.
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Binding the gRPC address failed.
    #[error(
        "cannot listen for gRPC on {addr}: {source}; set --listen/LISTEN_ADDR to a free address"
    )]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why (in use, not permitted, …).
        source: std::io::Error,
    },
    /// Binding the metrics address failed.
    #[error(
        "cannot listen for metrics on {addr}: {source}; set --metrics-listen/METRICS_ADDR to a free address, or \"off\""
    )]
    Metrics {
        /// The address.
        addr: SocketAddr,
        /// Why (in use, not permitted, …).
        source: std::io::Error,
    },
}

/// Binds `listen` and serves until SIGTERM or SIGINT.
pub async fn run(listen: SocketAddr, config: ServerConfig) -> Result<(), ServeError> {
    raise_open_files_limit();
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: listen,
            source,
        })?;
    serve(listener, config, shutdown_signal()).await
}

/// Serves on `listener` until `shutdown` completes, then drains (see
/// [`drain`]).
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    // Every field is named: a new setting cannot be silently ignored here.
    let ServerConfig {
        history,
        redis_check_interval,
        limits,
        metrics_addr,
    } = config;
    let metrics = Metrics::new();
    let metrics_server = start_metrics(metrics_addr, &metrics).await?;
    let history = match history {
        Some(config) => {
            tracing::info!(redis = %redact_url(&config.url), cap = config.cap, "password history in redis");
            Some(History::new(config)?)
        }
        None => {
            tracing::info!("history cap is 0: no history, no redis");
            None
        }
    };
    let (reporter, health_service) = tonic_health::server::health_reporter();
    let watcher = health::start(&reporter, history.clone(), &metrics, redis_check_interval).await;
    let budget = ResponseBudget::new(limits.response_budget_bytes);
    let reply_limits = ReplyLimits {
        max_response_bytes: limits.max_response_bytes,
        budget: budget.clone(),
    };
    let passwords = PasswordServiceServer::new(PasswordServiceImpl::new(
        history,
        metrics.clone(),
        reply_limits,
    ))
    .max_decoding_message_size(limits.max_request_bytes)
    .max_encoding_message_size(MAX_ENCODED_RESPONSE_BYTES);
    // The same request limit on every service (the message-size layer
    // answers first, with RESOURCE_EXHAUSTED; this is the second line).
    let routes = Routes::new(health_service.max_decoding_message_size(limits.max_request_bytes))
        .add_service(
            reflection()
                .build_v1()?
                .max_decoding_message_size(limits.max_request_bytes),
        )
        .add_service(
            reflection()
                .build_v1alpha()?
                .max_decoding_message_size(limits.max_request_bytes),
        )
        .add_service(passwords);

    let local_addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })?;
    let incoming = accept::incoming(listener, accept_limits(&limits), metrics.clone());
    let (drain_tx, drain_rx) = tokio::sync::oneshot::channel::<()>();
    let mut builder = server_builder(&limits).layer(layers::stack(&metrics, &limits, &budget));
    let server = tokio::spawn(builder.add_routes(routes).serve_with_incoming_shutdown(
        incoming,
        async {
            drain_rx.await.ok();
        },
    ));
    tracing::info!(%local_addr, "giropops-senhas serving gRPC");

    let result = drain(
        server,
        shutdown,
        drain_tx,
        watcher,
        &reporter,
        limits.drain_timeout,
    )
    .await;
    if let Some(metrics_server) = metrics_server {
        metrics_server.abort();
    }
    result
}

/// Runs until `shutdown` completes (or the server fails), then: health
/// NOT_SERVING, stop accepting, let in-flight calls finish within
/// `drain_timeout`, cut the rest.
async fn drain(
    mut server: JoinHandle<Result<(), tonic::transport::Error>>,
    shutdown: impl Future<Output = ()>,
    stop_accepting: tokio::sync::oneshot::Sender<()>,
    watcher: Option<JoinHandle<()>>,
    reporter: &HealthReporter,
    drain_timeout: Duration,
) -> Result<(), ServeError> {
    tokio::select! {
        result = &mut server => return Ok(result.expect("server task panicked")?),
        () = shutdown => {}
    }
    tracing::info!(
        ?drain_timeout,
        "shutting down: NOT_SERVING, draining in-flight calls"
    );
    if let Some(watcher) = watcher {
        // Aborted, not awaited: it may be waiting on a Redis that hangs.
        watcher.abort();
        watcher.await.ok();
    }
    health::set_status(reporter, ServingStatus::NotServing).await;
    stop_accepting.send(()).ok();
    match tokio::time::timeout(drain_timeout, &mut server).await {
        Ok(result) => {
            result.expect("server task panicked")?;
            tracing::info!("stopped cleanly");
        }
        Err(_) => {
            server.abort();
            tracing::warn!(
                ?drain_timeout,
                "drain timeout: calls still in flight were cut"
            );
        }
    }
    Ok(())
}

/// Largest response message tonic will encode: a last line behind
/// `--max-response-bytes`, which the handlers check before any work.
const MAX_ENCODED_RESPONSE_BYTES: usize = 128 * 1024 * 1024;

/// The HTTP/2 transport with every limit applied once, for every service.
/// (The call deadline is a layer: tonic's `timeout` answers CANCELLED.)
fn server_builder(limits: &Limits) -> Server {
    let Limits {
        request_timeout: _,   // the deadline layer
        drain_timeout,        // also bounds the grace of an aged connection
        max_request_bytes: _, // applied per service (decoding limit)
        max_concurrent_streams,
        max_connection_age,
        max_connections: _,         // the accept path
        preface_timeout: _,         // the accept path
        connection_budget_bytes: _, // the accept path
        max_response_bytes: _,      // the PasswordService
        response_budget_bytes: _,   // the shedding layer
        max_in_flight: _,           // the shedding layer
    } = *limits;
    let builder = Server::builder()
        .max_concurrent_streams(max_concurrent_streams)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)));
    match max_connection_age {
        Some(age) => builder
            .max_connection_age(age)
            .max_connection_age_grace(drain_timeout),
        None => builder,
    }
}

fn accept_limits(limits: &Limits) -> AcceptLimits {
    AcceptLimits {
        max_connections: limits.max_connections,
        preface_timeout: limits.preface_timeout,
        connection_budget_bytes: limits.connection_budget_bytes,
    }
}

/// Each connection is a file descriptor: raise the soft limit (often 1024)
/// to the hard one, so the connection cap, not the kernel, is what binds.
fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open files limit"),
        Err(error) => tracing::warn!(%error, "cannot raise the open files limit"),
    }
}

/// Binds and serves `/metrics`, unless metrics are off.
async fn start_metrics(
    addr: Option<SocketAddr>,
    metrics: &Metrics,
) -> Result<Option<JoinHandle<std::io::Result<()>>>, ServeError> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Metrics { addr, source })?;
    let bound = listener.local_addr().unwrap_or(addr);
    tracing::info!(addr = %bound, "metrics on /metrics");
    Ok(Some(tokio::spawn(metrics::serve(
        listener,
        metrics.clone(),
    ))))
}

/// Reflection over our contract, grpc.health.v1 and google.rpc (so clients
/// can decode error details); the reflection services add themselves.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
}

/// Completes on SIGTERM (how containers are stopped) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}
