//! The tower layer that authenticates and authorizes every call before any
//! work is done ([`Authenticator::authorize`]), and hands the caller's
//! [`Principal`] to the handlers in the request's extensions.
//!
//! A refused call is answered at once with a trailers-only response
//! (`UNAUTHENTICATED` or `PERMISSION_DENIED`); the inner service never
//! sees it. With mutual TLS, the client certificate's SANs come from the
//! connection (the accept path's [`ConnectionInfo`], in the extensions)
//! and are mapped to a principal on every call
//! ([`Authenticator::certificate_principal`]), used when the call carries
//! no bearer token. A [`Principal`] already in the extensions is removed,
//! never trusted: the principal a handler reads is always this layer's
//! decision.
//!
//! Logs name the principal, never the token.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tonic::Status;
use tower::{Layer, Service};

use super::{Authenticator, Principal};
use crate::accept::ConnectionInfo;
use crate::layers::grpc::status_response;
use crate::layers::record::CallPrincipal;
use crate::metrics::Method;

/// Authenticates and authorizes every call with an [`Authenticator`].
#[derive(Debug, Clone)]
pub struct AuthLayer {
    authenticator: Authenticator,
}

impl AuthLayer {
    /// A layer deciding with `authenticator` (a clone: a reload of the
    /// original reaches the layer).
    pub fn new(authenticator: Authenticator) -> Self {
        AuthLayer { authenticator }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            authenticator: self.authenticator.clone(),
        }
    }
}

/// The service [`AuthLayer`] makes.
#[derive(Debug, Clone)]
pub struct Auth<S> {
    inner: S,
    authenticator: Authenticator,
}

impl<S, B> Service<http::Request<B>> for Auth<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = AuthFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        request.extensions_mut().remove::<Principal>();
        let certificate = request
            .extensions()
            .get::<ConnectionInfo>()
            .and_then(|connection| connection.client_sans.as_deref())
            .map(|sans| self.authenticator.certificate_principal(sans));
        let decision = self.authenticator.authorize(
            request.uri().path(),
            request.headers(),
            certificate.as_ref(),
        );
        // Only known method names reach the logs, never a client's path.
        let method = Method::from_path(request.uri().path());
        match decision {
            Ok(principal) => {
                if let Some(principal) = principal.or(certificate) {
                    tracing::trace!(
                        principal = &*principal.name,
                        kind = principal.kind.noun(),
                        service = method.service,
                        method = method.method,
                        "call authorized"
                    );
                    if let Some(slot) = request.extensions().get::<CallPrincipal>() {
                        slot.set(principal.clone());
                    }
                    request.extensions_mut().insert(principal);
                }
                AuthFuture::admitted(self.inner.call(request))
            }
            Err(status) => {
                tracing::debug!(
                    code = ?status.code(),
                    reason = status.message(),
                    service = method.service,
                    method = method.method,
                    "call refused"
                );
                AuthFuture::rejected(status)
            }
        }
    }
}

pin_project! {
    /// The response future of [`Auth`].
    pub struct AuthFuture<F> {
        #[pin]
        inner: Option<F>,
        rejected: Option<Status>,
    }
}

impl<F> std::fmt::Debug for AuthFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthFuture")
            .field("rejected", &self.rejected)
            .finish_non_exhaustive()
    }
}

impl<F> AuthFuture<F> {
    fn admitted(inner: F) -> Self {
        AuthFuture {
            inner: Some(inner),
            rejected: None,
        }
    }

    fn rejected(status: Status) -> Self {
        AuthFuture {
            inner: None,
            rejected: Some(status),
        }
    }
}

impl<F, E> Future for AuthFuture<F>
where
    F: Future<Output = Result<http::Response<tonic::body::Body>, E>>,
{
    type Output = Result<http::Response<tonic::body::Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.inner.as_pin_mut() {
            Some(inner) => inner.poll(cx),
            None => {
                let status = this.rejected.take().expect("polled after completion");
                Poll::Ready(Ok(status_response(status)))
            }
        }
    }
}
