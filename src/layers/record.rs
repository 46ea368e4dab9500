//! Per-call metrics and the per-call log line, as a tower layer: calls by
//! service, method and status code, latency, and calls in flight; and one
//! line per call (target `giropops_senhas::calls`, INFO; WARN for server
//! faults; DEBUG for health checks) with the service, method, code, duration and the principal —
//! the token's name, the client certificate's SAN or `anonymous`; `-` for
//! a call the auth layer refused or that needs no one (health); never a
//! token. The
//! auth layer names the principal through the [`CallPrincipal`] slot this
//! layer puts in the request's extensions.
//!
//! With `--metrics-principal-label` the calls counter and the latency
//! histogram also carry `principal`: the configured name (token name, SAN
//! listed in the client scopes file, `anonymous`), `other` for a caller
//! the configuration does not name (a certificate with no listed SAN), and
//! `-` for no principal, as in the log line
//! ([`Authenticator::principal_label`]). Without it there is no
//! `principal` label at all.
//!
//! The code comes from `grpc-status`: in the response headers (a
//! trailers-only response: errors, rejections by later layers) or in the
//! trailers at the end of the body (unary replies and streams, counted
//! when they end). A [`CallGuard`] that is dropped before it saw a status —
//! the client went away, or the call was cut by a timeout outside this
//! layer — counts the call as `CANCELLED`, or `DEADLINE_EXCEEDED` when its
//! deadline had passed.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use giropops_senhas_client::code_name;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::Code;
use tower::{Layer, Service};

use super::grpc::{call_deadline, status_code};
use crate::auth::{Authenticator, Principal};
use crate::metrics::{Method, Metrics};
use crate::protocol::Protocol;

/// The log target of the per-call line (`LOG_LEVEL=info,giropops_senhas::calls=warn`
/// keeps only server faults).
pub const CALLS_TARGET: &str = "giropops_senhas::calls";

/// Health checks are logged at DEBUG only (probes come every few seconds).
const HEALTH_SERVICE: &str = "grpc.health.v1.Health";

/// Where the auth layer leaves the caller's [`Principal`] for the per-call
/// log line (in the request's extensions; clones share the slot). Set
/// once; later values are ignored.
#[derive(Debug, Clone, Default)]
pub struct CallPrincipal(Arc<OnceLock<Principal>>);

impl CallPrincipal {
    /// Names the caller.
    pub fn set(&self, principal: Principal) {
        let _ = self.0.set(principal);
    }

    /// The caller, once named.
    pub fn get(&self) -> Option<&Principal> {
        self.0.get()
    }
}

/// Records every call into [`Metrics`].
#[derive(Debug, Clone)]
pub struct RecordLayer {
    metrics: Metrics,
    request_timeout: Duration,
    principal_labels: Option<Authenticator>,
}

impl RecordLayer {
    /// Records into `metrics`; `request_timeout` tells a cut call's code.
    /// No `principal` label (see [`RecordLayer::with_principal_label`]).
    pub fn new(metrics: Metrics, request_timeout: Duration) -> Self {
        RecordLayer {
            metrics,
            request_timeout,
            principal_labels: None,
        }
    }

    /// Also labels calls by principal (`--metrics-principal-label`), as
    /// `authenticator`'s current tables name it
    /// ([`Authenticator::principal_label`]; a clone: reloads reach it).
    pub fn with_principal_label(self, authenticator: Authenticator) -> Self {
        RecordLayer {
            principal_labels: Some(authenticator),
            ..self
        }
    }
}

impl<S> Layer<S> for RecordLayer {
    type Service = Record<S>;

    fn layer(&self, inner: S) -> Record<S> {
        Record {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`RecordLayer`] makes.
#[derive(Debug, Clone)]
pub struct Record<S> {
    inner: S,
    layer: RecordLayer,
}

impl<S, B, RB> Service<http::Request<B>> for Record<S>
where
    S: Service<http::Request<B>, Response = http::Response<RB>>,
    RB: Body,
{
    type Response = http::Response<RecordedBody<RB>>;
    type Error = S::Error;
    type Future = RecordedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let principal = CallPrincipal::default();
        request.extensions_mut().insert(principal.clone());
        let guard = CallGuard {
            metrics: self.layer.metrics.clone(),
            principal_labels: self.layer.principal_labels.clone(),
            method: Method::from_path(request.uri().path()),
            protocol: Protocol::of(request.extensions()),
            started: Instant::now(),
            deadline: call_deadline(request.headers(), self.layer.request_timeout),
            principal,
            finished: false,
        };
        guard.metrics.call_started(guard.method);
        RecordedFuture {
            inner: self.inner.call(request),
            guard: Some(guard),
        }
    }
}

/// One call being recorded; records exactly once, at the latest when
/// dropped.
#[derive(Debug)]
pub struct CallGuard {
    metrics: Metrics,
    principal_labels: Option<Authenticator>,
    method: Method,
    protocol: Protocol,
    started: Instant,
    deadline: Duration,
    principal: CallPrincipal,
    finished: bool,
}

impl CallGuard {
    fn finish(&mut self, code: Code) {
        if self.finished {
            return;
        }
        self.finished = true;
        let elapsed = self.started.elapsed();
        let label = self
            .principal_labels
            .as_ref()
            .map(|authenticator| authenticator.principal_label(self.principal.get()));
        self.metrics
            .call_finished(self.method, self.protocol, code, elapsed, label);
        let (principal, auth) = match self.principal.get() {
            Some(principal) => (&*principal.name, principal.kind.noun()),
            None => ("-", "-"),
        };
        log_call(self.method, self.protocol, code, elapsed, principal, auth);
    }
}

/// The per-call line: WARN for server faults, DEBUG for health checks,
/// INFO otherwise (public for benches/log_line.rs, which measures it).
pub fn log_call(
    method: Method,
    protocol: Protocol,
    code: Code,
    elapsed: Duration,
    principal: &str,
    auth: &str,
) {
    let Method { service, method } = method;
    let code_name = code_name(code);
    let protocol = protocol.as_str();
    // Milliseconds, to the microsecond.
    let elapsed_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3;
    if matches!(code, Code::Internal | Code::Unknown | Code::DataLoss) {
        tracing::warn!(target: CALLS_TARGET, service, method, code = code_name, protocol, elapsed_ms, principal, auth, "call");
    } else if service == HEALTH_SERVICE {
        // Probes every few seconds: not worth a line by default.
        tracing::debug!(target: CALLS_TARGET, service, method, code = code_name, protocol, elapsed_ms, principal, auth, "call");
    } else {
        tracing::info!(target: CALLS_TARGET, service, method, code = code_name, protocol, elapsed_ms, principal, auth, "call");
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        let code = if self.started.elapsed() >= self.deadline {
            Code::DeadlineExceeded
        } else {
            Code::Cancelled
        };
        self.finish(code);
    }
}

pin_project! {
    /// The response future of [`Record`].
    pub struct RecordedFuture<F> {
        #[pin]
        inner: F,
        guard: Option<CallGuard>,
    }
}

impl<F, RB, E> Future for RecordedFuture<F>
where
    F: Future<Output = Result<http::Response<RB>, E>>,
    RB: Body,
{
    type Output = Result<http::Response<RecordedBody<RB>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let mut guard = this.guard.take().expect("polled after completion");
        Poll::Ready(match result {
            Ok(response) => {
                let guard = match status_code(response.headers()) {
                    // Trailers-only: the call is over.
                    Some(code) => {
                        guard.finish(code);
                        None
                    }
                    None => Some(guard),
                };
                Ok(response.map(|inner| RecordedBody { inner, guard }))
            }
            Err(error) => {
                guard.finish(Code::Internal);
                Err(error)
            }
        })
    }
}

pin_project! {
    /// A response body that records its call when the trailers pass, or
    /// when it is dropped first.
    pub struct RecordedBody<B> {
        #[pin]
        inner: B,
        guard: Option<CallGuard>,
    }
}

impl<B: Body> Body for RecordedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if let Some(guard) = this.guard.as_mut() {
            match &frame {
                Some(Ok(frame)) => {
                    if let Some(code) = frame.trailers_ref().and_then(status_code) {
                        guard.finish(code);
                    }
                }
                Some(Err(_)) => guard.finish(Code::Internal),
                // Ended without a status: the response was cut (the
                // client went away mid-reply); it never got a status.
                None => guard.finish(Code::Cancelled),
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
