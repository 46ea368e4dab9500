//! Server wiring: the one place that builds every service, layer, health,
//! reflection and the shutdown sequence.

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::config::{LimitArgs, MetricsAddr, ServeArgs};
use crate::grpc::{PasswordServiceImpl, PasswordServiceServer};
use crate::health;
use crate::history::{History, HistoryError, redact_url};
use crate::metrics::{self, Metrics};
use crate::proto::FILE_DESCRIPTOR_SET;

/// Why the server could not start or stopped badly.
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
    /// Binding the listen address failed.
    #[error("listen: {0}")]
    Io(#[from] std::io::Error),
    /// Binding the metrics address failed.
    #[error("metrics listen: {0}")]
    Metrics(std::io::Error),
}

/// Binds `args.listen` and serves until SIGTERM or SIGINT.
pub async fn run(args: ServeArgs) -> Result<(), ServeError> {
    let listener = TcpListener::bind(args.listen).await?;
    serve(listener, args, shutdown_signal()).await
}

/// Serves on `listener` until `shutdown` completes, then: health
/// NOT_SERVING, stop accepting, let in-flight calls finish within the
/// drain timeout.
pub async fn serve(
    listener: TcpListener,
    args: ServeArgs,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let history = args.history_config().map(History::new).transpose()?;
    // Every field is named: a new flag cannot be silently ignored here.
    let ServeArgs {
        listen: _, // already bound: `listener`
        redis,
        history: _, // read through `history_config`
        limits,
        log: _, // applied by `telemetry::init`
        metrics_listen,
    } = args;
    let drain_timeout = limits.drain_timeout;
    let metrics = Metrics::new();
    let metrics_server = start_metrics(metrics_listen, &metrics).await?;

    let (reporter, health_service) = tonic_health::server::health_reporter();
    let watcher = match &history {
        Some(history) => {
            tracing::info!(
                redis = %redact_url(&redis.url()),
                cap = history.cap(),
                "password history in redis"
            );
            health::set_status(&reporter, ServingStatus::NotServing).await;
            Some(tokio::spawn(health::watch_redis(
                reporter.clone(),
                history.clone(),
                metrics.clone(),
                redis.redis_check_interval,
            )))
        }
        None => {
            tracing::info!("history cap is 0: no history, no redis");
            health::set_status(&reporter, ServingStatus::Serving).await;
            None
        }
    };

    let passwords = PasswordServiceServer::new(PasswordServiceImpl::new(history, metrics))
        .max_decoding_message_size(limits.max_request_bytes as usize)
        .max_encoding_message_size(MAX_RESPONSE_BYTES);
    let router = server_builder(&limits)
        .add_service(health_service)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .add_service(passwords);
    let local_addr = listener.local_addr()?;
    let (drain_tx, drain_rx) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(router.serve_with_incoming_shutdown(
        TcpListenerStream::new(listener),
        async {
            drain_rx.await.ok();
        },
    ));
    tracing::info!(%local_addr, "giropops-senhas serving gRPC");

    let finished_early = tokio::select! {
        result = &mut server => Some(result),
        () = shutdown => None,
    };
    let stop_metrics = || metrics_server.as_ref().map(JoinHandle::abort);
    if let Some(result) = finished_early {
        stop_metrics();
        return result.expect("server task panicked").map_err(Into::into);
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
    health::set_status(&reporter, ServingStatus::NotServing).await;
    drain_tx.send(()).ok();
    let drained = tokio::time::timeout(drain_timeout, &mut server).await;
    stop_metrics();
    match drained {
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

/// Largest response message: a batch of 1000 passwords of 1024 characters
/// is about 1 MiB.
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// The transport with every limit applied once, for every service.
fn server_builder(limits: &LimitArgs) -> Server {
    let LimitArgs {
        request_timeout,
        drain_timeout: _,     // applied by `serve` on shutdown
        max_request_bytes: _, // applied per service (decoding limit)
        max_concurrent_streams,
        max_connection_age,
    } = *limits;
    let mut builder = Server::builder()
        .timeout(request_timeout)
        .max_concurrent_streams(max_concurrent_streams)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .tcp_keepalive(Some(Duration::from_secs(60)));
    if !max_connection_age.is_zero() {
        builder = builder.max_connection_age(max_connection_age);
    }
    builder
}

/// Binds and serves `/metrics`, unless metrics are off.
async fn start_metrics(
    addr: MetricsAddr,
    metrics: &Metrics,
) -> Result<Option<JoinHandle<std::io::Result<()>>>, ServeError> {
    let MetricsAddr(Some(addr)) = addr else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr).await.map_err(ServeError::Metrics)?;
    tracing::info!(addr = %listener.local_addr()?, "metrics on /metrics");
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
