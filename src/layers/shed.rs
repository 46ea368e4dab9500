//! Load shedding and the response byte budget, before any work is done.
//!
//! - In flight: at most `max_in_flight` PasswordService calls run at once;
//!   one more is answered `RESOURCE_EXHAUSTED` at once (not queued). The
//!   place is held until the response body is dropped, so a client that
//!   does not read its replies keeps using its places.
//! - Bytes: response bytes count against a global budget and their
//!   connection's budget until the body is dropped (hyper holds a response
//!   as long as the peer's flow-control window stays at 0, and no timer can
//!   fire meanwhile: the budget is what bounds that memory). A handler that
//!   knows its reply's size reserves it up front ([`ResponseBudget`]) and
//!   answers `RESOURCE_EXHAUSTED` before any work when it does not fit;
//!   other bodies (streams, reflection) are charged chunk by chunk, the
//!   chunk in hand at a time, and end with `RESOURCE_EXHAUSTED` in their
//!   trailers when a chunk does not fit. A call arriving while either
//!   budget is spent is refused.
//!
//! Health is exempt from both: a loaded server must still answer probes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;
use tower::{Layer, Service};

use super::grpc::{status_response, status_trailers};
use crate::accept::ConnectionInfo;

/// The gRPC path prefix of the calls that are shed.
const SHED_PREFIX: &str = "/giropops.v1.PasswordService/";
/// Calls never shed nor budgeted.
const EXEMPT_PREFIX: &str = "/grpc.health.v1.Health/";

/// The global response byte budget, shared by the layer and the handlers
/// that reserve their reply's size up front.
#[derive(Debug, Clone)]
pub struct ResponseBudget {
    global: Arc<Semaphore>,
}

impl ResponseBudget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> Self {
        ResponseBudget {
            global: Arc::new(Semaphore::new(bytes)),
        }
    }

    /// Reserves `bytes` for the reply to `request`, from the global budget
    /// and its connection's; `None` when either cannot hold them.
    pub fn reserve<T>(&self, request: &tonic::Request<T>, bytes: usize) -> Option<Reservation> {
        let n = u32::try_from(bytes).ok()?;
        let global = self.global.clone().try_acquire_many_owned(n).ok()?;
        let connection = match request.extensions().get::<ConnectionInfo>() {
            Some(info) => Some(info.budget.clone().try_acquire_many_owned(n).ok()?),
            None => None,
        };
        Some(Reservation {
            permits: Arc::new(std::sync::Mutex::new(Some((global, connection)))),
        })
    }
}

/// Response bytes reserved by a handler. Put it in the response's
/// extensions: the layer keeps it until the response body is dropped.
#[derive(Debug, Clone)]
pub struct Reservation {
    permits: Arc<std::sync::Mutex<Option<Permits>>>,
}

type Permits = (OwnedSemaphorePermit, Option<OwnedSemaphorePermit>);

impl Reservation {
    fn take(&self) -> Option<Permits> {
        self.permits.lock().ok()?.take()
    }
}

/// The message a caller gets when the byte budget is spent.
pub fn budget_exhausted() -> Status {
    Status::resource_exhausted(
        "server busy: too many response bytes not yet read by clients; retry with backoff",
    )
}

/// Applies the in-flight limit and the byte budget.
#[derive(Debug, Clone)]
pub struct ShedLayer {
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
    budget: ResponseBudget,
}

impl ShedLayer {
    /// At most `max_in_flight` calls, within `budget`.
    pub fn new(max_in_flight: usize, budget: ResponseBudget) -> Self {
        ShedLayer {
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            max_in_flight,
            budget,
        }
    }
}

impl<S> Layer<S> for ShedLayer {
    type Service = Shed<S>;

    fn layer(&self, inner: S) -> Shed<S> {
        Shed {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`ShedLayer`] makes.
#[derive(Debug, Clone)]
pub struct Shed<S> {
    inner: S,
    layer: ShedLayer,
}

impl<S, B> Service<http::Request<B>> for Shed<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = ShedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        if path.starts_with(EXEMPT_PREFIX) {
            return ShedFuture::admitted(self.inner.call(request), None);
        }
        let place = if path.starts_with(SHED_PREFIX) {
            match self.layer.in_flight.clone().try_acquire_owned() {
                Ok(place) => Some(place),
                Err(_) => {
                    return ShedFuture::rejected(Status::resource_exhausted(format!(
                        "server busy: {} calls in flight, the most it runs at once; retry with backoff",
                        self.layer.max_in_flight
                    )));
                }
            }
        } else {
            None
        };
        let connection = request
            .extensions()
            .get::<ConnectionInfo>()
            .map(|info| info.budget.clone());
        let spent = |budget: &Semaphore| budget.available_permits() == 0;
        if spent(&self.layer.budget.global) || connection.as_deref().is_some_and(spent) {
            return ShedFuture::rejected(budget_exhausted());
        }
        let held = Held {
            _place: place,
            global: self.layer.budget.global.clone(),
            connection,
            reserved: None,
            global_bytes: None,
            connection_bytes: None,
        };
        ShedFuture::admitted(self.inner.call(request), Some(held))
    }
}

/// What an admitted call holds until its response body is dropped.
struct Held {
    _place: Option<OwnedSemaphorePermit>,
    global: Arc<Semaphore>,
    connection: Option<Arc<Semaphore>>,
    global_bytes: Option<OwnedSemaphorePermit>,
    connection_bytes: Option<OwnedSemaphorePermit>,
    /// What the handler reserved: covers the whole body.
    reserved: Option<Permits>,
}

impl Held {
    /// Counts the `n` bytes of the chunk in hand (the previous chunk has
    /// been handed on); false (and nothing counted) when a budget cannot
    /// hold them.
    fn charge(&mut self, n: usize) -> bool {
        if self.reserved.is_some() {
            return true;
        }
        self.global_bytes = None;
        self.connection_bytes = None;
        let Ok(n) = u32::try_from(n) else {
            return false;
        };
        let Ok(global) = self.global.clone().try_acquire_many_owned(n) else {
            return false;
        };
        if let Some(connection) = &self.connection {
            let Ok(permit) = connection.clone().try_acquire_many_owned(n) else {
                return false;
            };
            self.connection_bytes = Some(permit);
        }
        self.global_bytes = Some(global);
        true
    }
}

pin_project! {
    /// The response future of [`Shed`].
    pub struct ShedFuture<F> {
        #[pin]
        inner: Option<F>,
        rejected: Option<Status>,
        held: Option<Held>,
    }
}

impl<F> ShedFuture<F> {
    fn admitted(inner: F, held: Option<Held>) -> Self {
        ShedFuture {
            inner: Some(inner),
            rejected: None,
            held,
        }
    }

    fn rejected(status: Status) -> Self {
        ShedFuture {
            inner: None,
            rejected: Some(status),
            held: None,
        }
    }
}

impl<F, E> Future for ShedFuture<F>
where
    F: Future<Output = Result<http::Response<tonic::body::Body>, E>>,
{
    type Output = Result<http::Response<tonic::body::Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(inner) = this.inner.as_pin_mut() else {
            let status = this.rejected.take().expect("polled after completion");
            return Poll::Ready(Ok(status_response(status)));
        };
        let result = ready!(inner.poll(cx));
        let Some(mut held) = this.held.take() else {
            return Poll::Ready(result);
        };
        Poll::Ready(result.map(|mut response| {
            held.reserved = response
                .extensions_mut()
                .remove::<Reservation>()
                .and_then(|reservation| reservation.take());
            response.map(|body| {
                tonic::body::Body::new(BudgetedBody {
                    inner: body,
                    held,
                    done: false,
                })
            })
        }))
    }
}

pin_project! {
    /// A response body whose bytes are counted until it is dropped.
    struct BudgetedBody {
        #[pin]
        inner: tonic::body::Body,
        held: Held,
        done: bool,
    }
}

impl Body for BudgetedBody {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let frame = ready!(this.inner.poll_frame(cx));
        let data = frame.as_ref().and_then(|f| f.as_ref().ok()?.data_ref());
        if data.is_some_and(|data| !this.held.charge(data.remaining())) {
            *this.done = true;
            return Poll::Ready(Some(Ok(status_trailers(&budget_exhausted()))));
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
