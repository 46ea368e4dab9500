//! The one gRPC call every other protocol becomes: a request built from a
//! translated message (carrying the caller's headers and the connection's
//! extensions, so auth, limits, metrics and logs see it as they see any
//! call), and the reply read back as messages and a final status.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::header::{self, HeaderValue};
use http_body::Body as _;
use tonic::Status;
use tonic::body::Body;

use crate::protocol::Protocol;

/// Headers of the caller's request that are the outer protocol's own, or
/// gRPC's (the deadline comes from the outer protocol's header), and must
/// not reach the gRPC call as sent.
const OUTER_HEADERS: &[&str] = &[
    "grpc-timeout",
    "grpc-encoding",
    "grpc-accept-encoding",
    "content-type",
    "content-length",
    "content-encoding",
    "accept-encoding",
    "transfer-encoding",
    "connection",
    "te",
    "host",
];

/// Largest `grpc-timeout` value: 8 digits.
const MAX_TIMEOUT_MILLIS: u128 = 99_999_999;

/// A gRPC request for `path` carrying one `message`, with the caller's
/// `parts` (headers and extensions) and, when given, the caller's deadline
/// as `grpc-timeout`.
pub(super) fn request(
    parts: http::request::Parts,
    path: &str,
    message: &[u8],
    deadline: Option<Duration>,
    protocol: Protocol,
) -> http::Request<Body> {
    let http::request::Parts {
        mut headers,
        mut extensions,
        ..
    } = parts;
    for name in OUTER_HEADERS {
        headers.remove(*name);
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    headers.insert(header::TE, HeaderValue::from_static("trailers"));
    if let Some(deadline) = deadline {
        let millis = deadline.as_millis().min(MAX_TIMEOUT_MILLIS);
        headers.insert(
            "grpc-timeout",
            HeaderValue::from_str(&format!("{millis}m")).expect("digits and a unit"),
        );
    }
    extensions.insert(protocol);
    let mut request = http::Request::new(Body::new(http_body_util::Full::new(frame(message))));
    *request.method_mut() = http::Method::POST;
    // gRPC is HTTP/2 (tonic-web, the next layer, refuses other versions).
    *request.version_mut() = http::Version::HTTP_2;
    *request.uri_mut() = path.parse().expect("a known method path");
    *request.headers_mut() = headers;
    *request.extensions_mut() = extensions;
    request
}

/// `message` with gRPC's 5-byte prefix (uncompressed, big-endian length).
pub(super) fn frame(message: &[u8]) -> Bytes {
    let mut framed = BytesMut::with_capacity(5 + message.len());
    framed.put_u8(0);
    framed.put_u32(u32::try_from(message.len()).expect("bounded by the request limit"));
    framed.put_slice(message);
    framed.freeze()
}

/// What a gRPC response body yields, in order.
#[derive(Debug)]
pub(super) enum Item {
    /// One response message.
    Message(Bytes),
    /// The call's end: OK or the error, and the trailers' metadata.
    End(Status),
}

/// Reads a gRPC response as messages and its final status, whether the
/// status came in trailers or in the headers of a trailers-only response.
#[derive(Debug)]
pub(super) struct Reply {
    body: Option<Body>,
    buffer: BytesMut,
    end: Option<Status>,
}

impl Reply {
    /// Starts reading `response`.
    pub(super) fn new(response: http::Response<Body>) -> Self {
        let (parts, body) = response.into_parts();
        match Status::from_header_map(&parts.headers) {
            Some(status) => Reply {
                body: None,
                buffer: BytesMut::new(),
                end: Some(status),
            },
            None => Reply {
                body: Some(body),
                buffer: BytesMut::new(),
                end: None,
            },
        }
    }

    /// The next message or the end; `None` after the end.
    pub(super) fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        loop {
            if let Some(message) = self.next_message() {
                return Poll::Ready(Some(message));
            }
            let Some(body) = self.body.as_mut() else {
                return Poll::Ready(self.end.take().map(Item::End));
            };
            match ready!(Pin::new(body).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => self.buffer.extend_from_slice(&data),
                    Err(frame) => {
                        let status = frame
                            .into_trailers()
                            .ok()
                            .and_then(|trailers| Status::from_header_map(&trailers))
                            .unwrap_or_else(|| Status::internal("the call ended without a status"));
                        self.finish(status);
                    }
                },
                Some(Err(status)) => self.finish(status),
                None => self.finish(Status::internal("the call ended without a status")),
            }
        }
    }

    /// The next message, and then the end, as a future.
    pub(super) async fn next(&mut self) -> Option<Item> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    fn finish(&mut self, status: Status) {
        self.body = None;
        if !self.buffer.is_empty() && status.code() == tonic::Code::Ok {
            self.buffer.clear();
            self.end = Some(Status::internal("the call ended inside a message"));
        } else {
            self.end = Some(status);
        }
    }

    fn next_message(&mut self) -> Option<Item> {
        if self.buffer.len() < 5 {
            return None;
        }
        let length = u32::from_be_bytes(self.buffer[1..5].try_into().expect("4 bytes")) as usize;
        if self.buffer.len() < 5 + length {
            return None;
        }
        let compressed = self.buffer[0] & 1 == 1;
        self.buffer.advance(5);
        let message = self.buffer.split_to(length).freeze();
        if compressed {
            // The server never compresses its responses.
            self.body = None;
            self.end = Some(Status::internal("a compressed response message"));
            return None;
        }
        Some(Item::Message(message))
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

    use super::*;

    fn response(frames: Vec<http_body::Frame<Bytes>>) -> http::Response<Body> {
        let stream = tokio_stream::iter(frames.into_iter().map(Ok::<_, Status>));
        http::Response::new(Body::new(http_body_util::StreamBody::new(stream)))
    }

    #[tokio::test]
    async fn messages_split_across_frames_then_the_status() {
        let mut framed = frame(b"hello").to_vec();
        framed.extend_from_slice(&frame(b"world"));
        let (first, second) = framed.split_at(3);
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static("0"));
        let mut reply = Reply::new(response(vec![
            http_body::Frame::data(Bytes::copy_from_slice(first)),
            http_body::Frame::data(Bytes::copy_from_slice(second)),
            http_body::Frame::trailers(trailers),
        ]));
        for expected in [&b"hello"[..], b"world"] {
            match reply.next().await {
                Some(Item::Message(message)) => assert_eq!(&message[..], expected),
                other => panic!("{other:?}"),
            }
        }
        match reply.next().await {
            Some(Item::End(status)) => assert_eq!(status.code(), tonic::Code::Ok),
            other => panic!("{other:?}"),
        }
        assert!(reply.next().await.is_none());
    }

    #[tokio::test]
    async fn trailers_only_and_truncated_replies_end_with_their_status() {
        let mut reply = Reply::new(Status::permission_denied("no").into_http());
        match reply.next().await {
            Some(Item::End(status)) => assert_eq!(status.code(), tonic::Code::PermissionDenied),
            other => panic!("{other:?}"),
        }
        let mut truncated = Reply::new(response(vec![http_body::Frame::data(Bytes::from_static(
            b"\0\0\0\0\x09abc",
        ))]));
        match truncated.next().await {
            Some(Item::End(status)) => assert_eq!(status.code(), tonic::Code::Internal),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_inner_request_carries_the_deadline_not_the_outer_headers() {
        let outer = http::Request::builder()
            .uri("/giropops.v1.PasswordService/GeneratePassword")
            .header("content-type", "application/json")
            .header("authorization", "Bearer x")
            .header("grpc-timeout", "99S")
            .body(())
            .unwrap();
        let (parts, ()) = outer.into_parts();
        let inner = request(
            parts,
            "/giropops.v1.PasswordService/GeneratePassword",
            b"",
            Some(Duration::from_millis(1500)),
            Protocol::Connect,
        );
        assert_eq!(inner.headers()["content-type"], "application/grpc");
        assert_eq!(inner.headers()["authorization"], "Bearer x");
        assert_eq!(inner.headers()["grpc-timeout"], "1500m");
        assert_eq!(Protocol::of(inner.extensions()), Protocol::Connect);
    }
}
