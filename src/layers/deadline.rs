//! Every call's deadline: the client's `grpc-timeout` or the server's
//! `--request-timeout`, whichever is shorter. Past it, a call still
//! computing its reply gets a trailers-only `DEADLINE_EXCEEDED`, and a
//! stream still sending ends with `DEADLINE_EXCEEDED` in its trailers —
//! never `OK` after fewer messages than asked.
//!
//! tonic's own `grpc-timeout` handling sits outside every layer and answers
//! `CANCELLED`: this deadline fires [`MARGIN`] earlier, so it is always the
//! one a client sees.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep, sleep_until};
use tonic::Status;
use tower::{Layer, Service};

use super::grpc::{call_deadline, status_response, status_trailers};

/// How much earlier than the client's deadline this layer answers, so that
/// tonic's `grpc-timeout` timer (same deadline, answering `CANCELLED`)
/// never wins the race: more than the timer's 1 ms resolution.
pub const MARGIN: Duration = Duration::from_millis(2);

/// Applies the call deadline.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineLayer {
    request_timeout: Duration,
}

impl DeadlineLayer {
    /// Calls run at most `request_timeout` (a client may ask for less).
    pub fn new(request_timeout: Duration) -> Self {
        DeadlineLayer { request_timeout }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline {
            inner,
            request_timeout: self.request_timeout,
        }
    }
}

/// The service [`DeadlineLayer`] makes.
#[derive(Debug, Clone)]
pub struct Deadline<S> {
    inner: S,
    request_timeout: Duration,
}

impl<S, B> Service<http::Request<B>> for Deadline<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = DeadlineFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let timeout = call_deadline(request.headers(), self.request_timeout);
        let deadline = Instant::now() + timeout.saturating_sub(MARGIN);
        DeadlineFuture {
            inner: self.inner.call(request),
            sleep: sleep_until(deadline),
            timeout,
        }
    }
}

fn exceeded(timeout: Duration) -> Status {
    Status::deadline_exceeded(format!(
        "deadline exceeded: the call took longer than {}ms",
        timeout.as_millis()
    ))
}

pin_project! {
    /// The response future of [`Deadline`].
    pub struct DeadlineFuture<F> {
        #[pin]
        inner: F,
        #[pin]
        sleep: Sleep,
        timeout: Duration,
    }
}

impl<F, E> Future for DeadlineFuture<F>
where
    F: Future<Output = Result<http::Response<tonic::body::Body>, E>>,
{
    type Output = Result<http::Response<tonic::body::Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(result) = this.inner.poll(cx) {
            let deadline = this.sleep.deadline();
            let timeout = *this.timeout;
            return Poll::Ready(result.map(|response| {
                response.map(|body| {
                    tonic::body::Body::new(DeadlineBody {
                        inner: body,
                        sleep: sleep_until(deadline),
                        timeout,
                        done: false,
                    })
                })
            }));
        }
        ready!(this.sleep.poll(cx));
        Poll::Ready(Ok(status_response(exceeded(*this.timeout))))
    }
}

pin_project! {
    /// A response body cut at the deadline with `DEADLINE_EXCEEDED`
    /// trailers.
    struct DeadlineBody {
        #[pin]
        inner: tonic::body::Body,
        #[pin]
        sleep: Sleep,
        timeout: Duration,
        done: bool,
    }
}

impl Body for DeadlineBody {
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
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            if frame
                .as_ref()
                .is_none_or(|frame| frame.as_ref().is_ok_and(Frame::is_trailers))
            {
                *this.done = true;
            }
            return Poll::Ready(frame);
        }
        ready!(this.sleep.poll(cx));
        *this.done = true;
        Poll::Ready(Some(Ok(status_trailers(&exceeded(*this.timeout)))))
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
