//! The request size limit, read from each message's 5-byte gRPC length
//! prefix as it arrives: a message declared larger than the limit ends the
//! call with `RESOURCE_EXHAUSTED` (what the gRPC spec prescribes; tonic's
//! own check answers `OUT_OF_RANGE`) before its body is buffered, for every
//! service on the port, streams included: a handler that just stops when
//! its request stream fails (reflection does) would end `OK`, so the
//! response's status is replaced too.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::Status;
use tower::{Layer, Service};

use super::grpc::status_trailers;

/// Checks request messages against `max_bytes`.
#[derive(Debug, Clone, Copy)]
pub struct MessageSizeLayer {
    max_bytes: usize,
}

impl MessageSizeLayer {
    /// Request messages of at most `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        MessageSizeLayer { max_bytes }
    }
}

impl<S> Layer<S> for MessageSizeLayer {
    type Service = MessageSize<S>;

    fn layer(&self, inner: S) -> MessageSize<S> {
        MessageSize {
            inner,
            max_bytes: self.max_bytes,
        }
    }
}

/// The service [`MessageSizeLayer`] makes.
#[derive(Debug, Clone)]
pub struct MessageSize<S> {
    inner: S,
    max_bytes: usize,
}

impl<S> Service<http::Request<tonic::body::Body>> for MessageSize<S>
where
    S: Service<http::Request<tonic::body::Body>, Response = http::Response<tonic::body::Body>>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = MessageSizeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let max_bytes = self.max_bytes;
        let refused = Arc::new(OnceLock::new());
        let checked = refused.clone();
        MessageSizeFuture {
            inner: self.inner.call(request.map(|body| {
                tonic::body::Body::new(CheckedBody {
                    inner: body,
                    prefix: Prefix::new(max_bytes),
                    refused: checked,
                })
            })),
            refused,
        }
    }
}

/// The status of a request refused for its size, once it is.
type Refused = Arc<OnceLock<Status>>;

pin_project! {
    /// The response future of [`MessageSize`].
    pub struct MessageSizeFuture<F> {
        #[pin]
        inner: F,
        refused: Refused,
    }
}

impl<F, E> Future for MessageSizeFuture<F>
where
    F: Future<Output = Result<http::Response<tonic::body::Body>, E>>,
{
    type Output = Result<http::Response<tonic::body::Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let refused = this.refused.clone();
        Poll::Ready(result.map(|response| {
            response.map(|body| {
                tonic::body::Body::new(StatusOverride {
                    inner: body,
                    refused,
                })
            })
        }))
    }
}

pin_project! {
    /// A response body whose trailers carry the size refusal, if the
    /// request was refused (whatever the handler answered).
    struct StatusOverride {
        #[pin]
        inner: tonic::body::Body,
        refused: Refused,
    }
}

impl Body for StatusOverride {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        match (frame, this.refused.get()) {
            (Some(Ok(frame)), Some(status)) if frame.is_trailers() => {
                Poll::Ready(Some(Ok(status_trailers(status))))
            }
            (frame, _) => Poll::Ready(frame),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Where the reader is in the stream of length-prefixed messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Prefix {
    max_bytes: usize,
    /// Prefix bytes seen of the current message (0..5).
    header: [u8; 5],
    header_len: usize,
    /// Body bytes of the current message still to come.
    body_left: usize,
}

impl Prefix {
    fn new(max_bytes: usize) -> Self {
        Prefix {
            max_bytes,
            header: [0; 5],
            header_len: 0,
            body_left: 0,
        }
    }

    /// Follows `chunk`; the declared size of a message over the limit, if
    /// one starts in it.
    fn feed(&mut self, mut chunk: &[u8]) -> Option<usize> {
        while !chunk.is_empty() {
            if self.body_left > 0 {
                let skip = self.body_left.min(chunk.len());
                self.body_left -= skip;
                chunk = &chunk[skip..];
                continue;
            }
            let take = (5 - self.header_len).min(chunk.len());
            self.header[self.header_len..self.header_len + take].copy_from_slice(&chunk[..take]);
            self.header_len += take;
            chunk = &chunk[take..];
            if self.header_len == 5 {
                self.header_len = 0;
                let declared = u32::from_be_bytes([
                    self.header[1],
                    self.header[2],
                    self.header[3],
                    self.header[4],
                ]) as usize;
                if declared > self.max_bytes {
                    return Some(declared);
                }
                self.body_left = declared;
            }
        }
        None
    }
}

pin_project! {
    /// A request body that fails as soon as an oversized message is
    /// announced.
    struct CheckedBody {
        #[pin]
        inner: tonic::body::Body,
        prefix: Prefix,
        refused: Refused,
    }
}

impl Body for CheckedBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        let data = frame.as_ref().and_then(|f| f.as_ref().ok()?.data_ref());
        if let Some(declared) = data.and_then(|data| this.prefix.feed(data.chunk())) {
            let status = Status::resource_exhausted(format!(
                "request message of {declared} bytes is over the limit of {} bytes",
                this.prefix.max_bytes
            ));
            let _ = this.refused.set(status.clone());
            return Poll::Ready(Some(Err(status)));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn message(len: u32) -> Vec<u8> {
        let mut bytes = vec![0];
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend(std::iter::repeat_n(7, len as usize));
        bytes
    }

    #[test]
    fn follows_messages_across_any_chunking() {
        let mut stream = message(10);
        stream.extend(message(100));
        stream.extend(message(0));
        stream.extend(message(101));
        for chunk_size in [1, 2, 3, 5, 7, 64, 1000] {
            let mut prefix = Prefix::new(100);
            let found = stream
                .chunks(chunk_size)
                .find_map(|chunk| prefix.feed(chunk));
            assert_eq!(found, Some(101), "chunks of {chunk_size}");
        }
        let mut prefix = Prefix::new(100);
        assert_eq!(prefix.feed(&message(100)), None);
        assert_eq!(
            prefix.feed(&[0, 0xff, 0xff, 0xff, 0xff]),
            Some(u32::MAX as usize)
        );
    }
}
