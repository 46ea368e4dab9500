//! Every protocol of the port besides gRPC, as one gRPC call each through
//! the same layer stack (auth, shedding, deadline, size limits, metrics,
//! call logs): the [`GatewayLayer`] sits outside the stack and sorts each
//! request by its content type and path:
//! - `application/grpc…`: gRPC, passed on untouched;
//! - `application/grpc-web…`: gRPC-Web, marked and passed on to tonic-web
//!   (the next layer), which makes it gRPC;
//! - `/package.Service/Method` with a Connect content type: `connect`;
//! - `/api/…`: the original app's API (`original`);
//! - `/` and `/assets/…`: the web page (`web`), unless it is off;
//! - anything else: 404 JSON.
//!
//! Every answer carries `X-Content-Type-Options: nosniff`, and every one
//! but the health service's `Cache-Control: no-store`.

pub mod codec;
mod connect;
mod grpc_call;
mod original;
mod reply;
mod web;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use pin_project_lite::pin_project;
use tonic::Status;
use tonic::body::Body;
use tower::{BoxError, Layer, Service, ServiceExt as _};

pub use codec::Codec;

use crate::config::Limits;
use crate::protocol::Protocol;

/// The service the gateway calls: the layer stack over the routes.
pub trait Inner:
    Service<Request<Body>, Response = Response<Body>, Error: Into<BoxError>, Future: Send>
    + Clone
    + Send
    + 'static
{
}

impl<S> Inner for S where
    S: Service<Request<Body>, Response = Response<Body>, Error: Into<BoxError>, Future: Send>
        + Clone
        + Send
        + 'static
{
}

/// What every translated call shares: the descriptors and the limits.
#[derive(Debug, Clone)]
pub struct Shared {
    codec: Codec,
    max_request_bytes: usize,
    request_timeout: Duration,
    web_ui: bool,
}

/// Puts the gateway in front of a service.
#[derive(Debug, Clone)]
pub struct GatewayLayer {
    shared: Shared,
}

impl GatewayLayer {
    /// A gateway reading request bodies within `limits`; `web_ui`: the
    /// page at `/` is served.
    pub fn new(limits: &Limits, web_ui: bool) -> Self {
        GatewayLayer {
            shared: Shared {
                codec: Codec::new(),
                max_request_bytes: limits.max_request_bytes,
                request_timeout: limits.request_timeout,
                web_ui,
            },
        }
    }
}

impl<S> Layer<S> for GatewayLayer {
    type Service = Gateway<S>;

    fn layer(&self, inner: S) -> Gateway<S> {
        Gateway {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service [`GatewayLayer`] makes.
#[derive(Debug, Clone)]
pub struct Gateway<S> {
    inner: S,
    shared: Shared,
}

type Translated = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

impl<S: Inner> Service<Request<Body>> for Gateway<S> {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = GatewayFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let cacheable = is_health(request.uri().path());
        let media_type = media_type(request.headers());
        if media_type.starts_with("application/grpc") {
            if media_type.starts_with("application/grpc-web") {
                request.extensions_mut().insert(Protocol::GrpcWeb);
            }
            return GatewayFuture::Passed {
                inner: self.inner.call(request),
                cacheable,
            };
        }
        let inner = self.inner.clone();
        let shared = self.shared.clone();
        GatewayFuture::Translated {
            inner: Box::pin(async move {
                let mut response = translate(inner, &shared, request).await;
                reply::harden(response.headers_mut(), cacheable);
                response
            }),
        }
    }
}

/// A request that is not gRPC or gRPC-Web.
async fn translate<S: Inner>(inner: S, shared: &Shared, request: Request<Body>) -> Response<Body> {
    let path = request.uri().path();
    if path.starts_with("/api/") {
        return original::serve(inner, shared, request).await;
    }
    if shared.web_ui && web::is_page(path) {
        return web::serve(inner, shared, request).await;
    }
    match shared.codec.method(path) {
        Some(method) => connect::serve(inner, shared, method, request).await,
        None => reply::not_found(),
    }
}

/// Health answers are the only ones a cache may keep.
fn is_health(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/")
}

/// The media type of `Content-Type`, lowercased, without parameters
/// (`application/json; charset=utf-8` → `application/json`); empty when
/// absent.
fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The whole request body, within the request size limit and the call's
/// deadline (the shorter of the caller's and `--request-timeout`).
async fn read_body(
    shared: &Shared,
    body: Body,
    deadline: Option<Duration>,
) -> Result<Bytes, Status> {
    let limit = shared.max_request_bytes;
    let within = deadline.map_or(shared.request_timeout, |asked| {
        asked.min(shared.request_timeout)
    });
    match tokio::time::timeout(within, Limited::new(body, limit).collect()).await {
        Err(_) => Err(Status::deadline_exceeded(
            "the request body did not arrive within the call's deadline",
        )),
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(Status::resource_exhausted(format!(
                "the request body is larger than the limit of {limit} bytes (--max-request-bytes)"
            )))
        }
        Ok(Err(_)) => Err(Status::cancelled("the request body could not be read")),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// Makes the one gRPC call.
async fn call<S: Inner>(inner: S, request: Request<Body>) -> Result<Response<Body>, Status> {
    inner.oneshot(request).await.map_err(|error| {
        let error: BoxError = error.into();
        tracing::warn!(%error, "a translated call failed in the transport");
        Status::internal("the call failed inside the server")
    })
}

/// Makes one unary gRPC call and decodes its one reply message.
async fn unary<S: Inner, M: prost::Message + Default>(
    inner: S,
    request: Request<Body>,
) -> Result<M, Status> {
    let message = unary_bytes(inner, request).await?;
    M::decode(message).map_err(|_| Status::internal("the reply is not a valid message"))
}

/// Makes one unary gRPC call and reads its one reply message.
async fn unary_bytes<S: Inner>(inner: S, request: Request<Body>) -> Result<Bytes, Status> {
    let mut reply = grpc_call::Reply::new(call(inner, request).await?);
    let message = match reply.next().await {
        Some(grpc_call::Item::Message(message)) => message,
        Some(grpc_call::Item::End(status)) => return Err(status),
        None => return Err(Status::internal("the call returned nothing")),
    };
    match reply.next().await {
        Some(grpc_call::Item::End(status)) if status.code() == tonic::Code::Ok => {}
        Some(grpc_call::Item::End(status)) => return Err(status),
        _ => return Err(Status::internal("the call returned two messages")),
    }
    Ok(message)
}

pin_project! {
    /// The response future of [`Gateway`] (`cacheable`: a health answer,
    /// with no `Cache-Control: no-store`): a gRPC or gRPC-Web call passed
    /// on (and given the headers every answer carries), or a translated
    /// one.
    #[project = GatewayProjection]
    #[allow(missing_docs)] // pin-project-lite takes no docs on fields
    pub enum GatewayFuture<F> {
        /// gRPC or gRPC-Web.
        Passed {
            #[pin]
            inner: F,
            cacheable: bool,
        },
        /// Connect, the original API, or a plain HTTP answer.
        Translated {
            inner: Translated,
        },
    }
}

impl<F> std::fmt::Debug for GatewayFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayFuture").finish_non_exhaustive()
    }
}

impl<F, E> Future for GatewayFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Response<Body>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            GatewayProjection::Passed { inner, cacheable } => {
                let mut response = std::task::ready!(inner.poll(cx)).map_err(Into::into)?;
                reply::harden(response.headers_mut(), *cacheable);
                Poll::Ready(Ok(response))
            }
            GatewayProjection::Translated { inner } => inner.as_mut().poll(cx).map(Ok),
        }
    }
}
