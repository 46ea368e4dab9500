//! What the port serves and how: the services and their size limits,
//! reflection, the transport's HTTP/2 and HTTP/1.1 settings, CORS, the
//! accept limits, and the two side ports (health alone, metrics).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic_health::pb::health_server::{Health, HealthServer};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::{ServeError, bind};
use crate::accept::{self, AcceptLimits};
use crate::config::Limits;
use crate::grpc::{PasswordServiceImpl, PasswordServiceServer, ReplyLimits};
use crate::history::History;
use crate::layers::shed::ResponseBudget;
use crate::metrics::{self, Metrics};
use crate::policies::Policies;
use crate::proto::FILE_DESCRIPTOR_SET;
use crate::tls::ReloadableTls;

/// Every service of the gRPC port, each with the request size limit (the
/// message-size layer answers first, with RESOURCE_EXHAUSTED; this is the
/// second line).
pub(super) fn routes(
    history: Option<History>,
    policies: &Policies,
    health: HealthServer<impl Health>,
    metrics: &Metrics,
    limits: &Limits,
    budget: &ResponseBudget,
    reflection: bool,
) -> Result<Routes, ServeError> {
    let reply_limits = ReplyLimits {
        max_response_bytes: limits.max_response_bytes,
        budget: budget.clone(),
    };
    let passwords = PasswordServiceServer::new(
        PasswordServiceImpl::new(history, metrics.clone(), reply_limits)
            .with_policies(policies.clone()),
    )
    .max_decoding_message_size(limits.max_request_bytes)
    .max_encoding_message_size(MAX_ENCODED_RESPONSE_BYTES);
    let routes = Routes::new(health.max_decoding_message_size(limits.max_request_bytes))
        .add_service(passwords);
    if !reflection {
        return Ok(routes);
    }
    Ok(routes
        .add_service(
            reflection_builder()
                .build_v1()?
                .max_decoding_message_size(limits.max_request_bytes),
        )
        .add_service(
            reflection_builder()
                .build_v1alpha()?
                .max_decoding_message_size(limits.max_request_bytes),
        ))
}

/// Serves grpc.health.v1 alone, plaintext, on `addr` (for kubelet probes,
/// which cannot present client certificates), unless none is configured.
pub(super) async fn start_health_port(
    addr: Option<SocketAddr>,
    health: &HealthServer<impl Health>,
    limits: &Limits,
    metrics: &Metrics,
) -> Result<Option<JoinHandle<()>>, ServeError> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let listener = bind(addr, |addr, source| ServeError::HealthListen {
        addr,
        source,
    })
    .await?;
    tracing::info!(addr = %listener.local_addr().unwrap_or(addr), "grpc.health.v1 alone, plaintext");
    let incoming = accept::incoming(listener, accept_limits(limits, None), metrics.clone());
    let server = Server::builder()
        .max_concurrent_streams(limits.max_concurrent_streams)
        .add_service(health.clone().max_decoding_message_size(1024))
        .serve_with_incoming(incoming);
    Ok(Some(tokio::spawn(async move {
        if let Err(error) = server.await {
            tracing::error!(%error, "the health port failed");
        }
    })))
}

/// Largest response message tonic will encode: a last line behind
/// `--max-response-bytes`, which the handlers check before any work.
const MAX_ENCODED_RESPONSE_BYTES: usize = 128 * 1024 * 1024;

/// The HTTP/2 transport with every limit applied once, for every service.
/// (The call deadline is a layer: tonic's `timeout` answers CANCELLED.)
pub(super) fn server_builder(limits: &Limits) -> Server {
    let Limits {
        request_timeout: _,   // the deadline layer
        drain_timeout,        // also bounds the grace of an aged connection
        shutdown_delay: _,    // `drain`
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
        // HTTP/1.1 too (gRPC-Web, Connect, the original API, browsers).
        .accept_http1(true)
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

/// CORS for the pages of `origins` (none: no CORS layer, same origin
/// only): the methods, request headers and response headers gRPC-Web and
/// Connect need. Preflights are answered here, before auth.
pub(super) fn cors(origins: Vec<http::HeaderValue>) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    tracing::info!(
        origins = origins.len(),
        "CORS: pages of the configured origins may call"
    );
    let names = |names: &[&'static str]| -> Vec<http::HeaderName> {
        names
            .iter()
            .map(|name| http::HeaderName::from_static(name))
            .collect()
    };
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([http::Method::POST, http::Method::GET])
            .allow_headers(names(&[
                "content-type",
                "authorization",
                "connect-protocol-version",
                "connect-timeout-ms",
                "grpc-timeout",
                "x-grpc-web",
                "x-user-agent",
            ]))
            .expose_headers(names(&[
                "grpc-status",
                "grpc-message",
                "grpc-status-details-bin",
            ]))
            .max_age(Duration::from_secs(7200)),
    )
}

pub(super) fn accept_limits(limits: &Limits, tls: Option<Arc<ReloadableTls>>) -> AcceptLimits {
    AcceptLimits {
        tls,
        max_connections: limits.max_connections,
        preface_timeout: limits.preface_timeout,
        connection_budget_bytes: limits.connection_budget_bytes,
    }
}

/// Binds and serves `/metrics`, unless metrics are off.
pub(super) async fn start_metrics(
    addr: Option<SocketAddr>,
    metrics: &Metrics,
) -> Result<Option<JoinHandle<()>>, ServeError> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let listener = bind(addr, |addr, source| ServeError::Metrics { addr, source }).await?;
    let bound = listener.local_addr().unwrap_or(addr);
    tracing::info!(addr = %bound, "metrics on /metrics");
    let metrics = metrics.clone();
    Ok(Some(tokio::spawn(async move {
        if let Err(error) = metrics::serve(listener, metrics).await {
            tracing::error!(%error, "the metrics endpoint failed");
        }
    })))
}

/// Reflection over our contract, grpc.health.v1 and google.rpc (so clients
/// can decode error details); the reflection services add themselves.
fn reflection_builder() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
}
