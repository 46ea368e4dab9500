//! Server wiring: the one place that builds every service, the layer
//! stack, health, reflection, the accept path and the shutdown sequence.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

mod services;

use self::services::{
    accept_limits, cors, routes, server_builder, start_health_port, start_metrics,
};
use crate::accept;
use crate::auth::Authenticator;
use crate::config::{ServerConfig, TrustConfig, WebConfig};
use crate::gateway::GatewayLayer;
use crate::health;
use crate::history::{History, HistoryConfig, HistoryError};
use crate::layers::{self, shed::ResponseBudget};
use crate::metrics::Metrics;
use crate::policies::Policies;
use crate::reload::Reloadable;
use crate::tls::{ReloadableTls, TlsError};

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
    /// The TLS files could not be loaded.
    #[error("{0}")]
    Tls(TlsError),
    /// Binding the health port failed.
    #[error(
        "cannot listen for health checks on {addr}: {source}; set --health-listen/HEALTH_ADDR to a free address, or \"off\""
    )]
    HealthListen {
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
    let listener = bind(listen, |addr, source| ServeError::Listen { addr, source }).await?;
    serve(listener, config, shutdown_signal()).await
}

/// Serves on `listener` until `shutdown` completes, then drains (see
/// `drain`).
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
        metrics_principal_label,
        health_addr,
        trust,
        web,
        policies,
    } = config;
    let WebConfig {
        web_ui,
        cors_allowed_origins,
    } = web;
    let TrustConfig {
        tokens,
        anonymous_scopes,
        tls,
        client_scopes,
        reflection,
    } = trust;
    let metrics = Metrics::new();
    let tls = tls
        .map(ReloadableTls::new)
        .transpose()
        .map_err(ServeError::Tls)?
        .map(Arc::new);
    let (tokens_file, tokens) = tokens.unzip();
    let authenticator = Authenticator::new(tokens, anonymous_scopes);
    let (client_scopes_file, client_scopes) = client_scopes.unzip();
    if let Some(scopes) = client_scopes {
        authenticator.reload_client_scopes(scopes);
    }
    log_trust(&authenticator, tls.as_deref());
    let metrics_server = start_metrics(metrics_addr, &metrics).await?;
    // A ring read from a file is reloaded; clones share its keys.
    let keys = history
        .as_ref()
        .map(|history| history.keys.clone())
        .filter(|keys| keys.path().is_some());
    let history = open_history(history)?;
    let (reporter, health_service) = tonic_health::server::health_reporter();
    let health_server = start_health_port(health_addr, &health_service, &limits, &metrics).await?;
    let watcher = health::start(&reporter, history.clone(), &metrics, redis_check_interval).await;
    let budget = ResponseBudget::new(limits.response_budget_bytes);
    let (policies_file, policies) = policies.unzip();
    let policies = Policies::new(policies.unwrap_or_default());
    let routes = routes(
        history,
        &policies,
        health_service,
        &metrics,
        &limits,
        &budget,
        reflection,
    )?;
    let reloadable = Reloadable {
        tokens: tokens_file.map(|path| (path, authenticator.clone())),
        tls: tls.clone(),
        client_scopes: client_scopes_file.map(|path| (path, authenticator.clone())),
        keys,
        policies: policies_file.map(|path| (path, policies.clone())),
        metrics: metrics.clone(),
    };
    let reloader = (!reloadable.is_empty()).then(|| tokio::spawn(reloadable.watch()));

    let local_addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })?;
    let incoming = accept::incoming(listener, accept_limits(&limits, tls), metrics.clone());
    let (drain_tx, drain_rx) = tokio::sync::oneshot::channel::<()>();
    let mut builder = server_builder(&limits)
        .layer(tower::util::option_layer(cors(cors_allowed_origins)))
        .layer(GatewayLayer::new(&limits, web_ui))
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(layers::stack(
            &metrics,
            &limits,
            &budget,
            &authenticator,
            metrics_principal_label,
        ));
    let server = tokio::spawn(builder.add_routes(routes).serve_with_incoming_shutdown(
        incoming,
        async {
            drain_rx.await.ok();
        },
    ));
    tracing::info!(%local_addr, "giropops-senhas serving gRPC, gRPC-Web, Connect and the original HTTP API");

    let result = drain(
        server,
        shutdown,
        drain_tx,
        watcher,
        &reporter,
        limits.shutdown_delay,
        limits.drain_timeout,
    )
    .await;
    for task in [metrics_server, health_server, reloader]
        .into_iter()
        .flatten()
    {
        task.abort();
    }
    result
}

/// The history, when configured.
fn open_history(config: Option<HistoryConfig>) -> Result<Option<History>, ServeError> {
    let Some(config) = config else {
        tracing::info!("no history: no redis");
        return Ok(None);
    };
    // `Display` shows scheme, host:port or socket path and db: no credentials.
    tracing::info!(redis = %config.target, cap = config.cap, "password history in redis");
    Ok(Some(History::new(config)?))
}

/// One line saying who may call, over what.
fn log_trust(authenticator: &Authenticator, tls: Option<&ReloadableTls>) {
    let transport = match tls {
        Some(tls) if tls.is_mutual() => "mutual TLS",
        Some(_) => "TLS",
        None => "plaintext",
    };
    tracing::info!(
        transport,
        tokens = authenticator.token_count(),
        anonymous = %authenticator.anonymous().scopes,
        "who may call"
    );
}

/// Runs until `shutdown` completes (or the server fails), then: health
/// NOT_SERVING, keep serving for `shutdown_delay` (endpoints and load
/// balancers catch up), stop accepting, let in-flight calls finish within
/// `drain_timeout`, cut the rest.
async fn drain(
    mut server: JoinHandle<Result<(), tonic::transport::Error>>,
    shutdown: impl Future<Output = ()>,
    stop_accepting: tokio::sync::oneshot::Sender<()>,
    watcher: Option<JoinHandle<()>>,
    reporter: &HealthReporter,
    shutdown_delay: Duration,
    drain_timeout: Duration,
) -> Result<(), ServeError> {
    tokio::select! {
        result = &mut server => return Ok(result.expect("server task panicked")?),
        () = shutdown => {}
    }
    tracing::info!(
        ?shutdown_delay,
        ?drain_timeout,
        "shutting down: NOT_SERVING, serving on for the shutdown delay, then draining in-flight calls"
    );
    if let Some(watcher) = watcher {
        // Aborted, not awaited: it may be waiting on a Redis that hangs.
        watcher.abort();
        watcher.await.ok();
    }
    health::set_status(reporter, ServingStatus::NotServing).await;
    if !shutdown_delay.is_zero() {
        tokio::select! {
            result = &mut server => return Ok(result.expect("server task panicked")?),
            () = tokio::time::sleep(shutdown_delay) => {}
        }
    }
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

/// Each connection is a file descriptor: raise the soft limit (often 1024)
/// to the hard one, so the connection cap, not the kernel, is what binds.
fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open files limit"),
        Err(error) => tracing::warn!(%error, "cannot raise the open files limit"),
    }
}

/// Binds `addr`; a failure becomes the error that names its setting.
async fn bind(
    addr: SocketAddr,
    error: fn(SocketAddr, std::io::Error) -> ServeError,
) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| error(addr, source))
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
