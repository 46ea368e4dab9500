//! The Connect protocol (connectrpc.com/docs/protocol) for every method of
//! the contract: unary as `application/json` or `application/proto`,
//! server streaming as `application/connect+json` / `+proto` envelopes
//! ending with the end-of-stream message; `Connect-Timeout-Ms` becomes the
//! call's deadline; errors are Connect's JSON error with the HTTP status
//! of its code, every error detail included.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, Response, StatusCode};
use http_body::Frame;
use prost_reflect::{MessageDescriptor, MethodDescriptor};
use tonic::body::Body;
use tonic::{Code, Status};

use super::grpc_call::{self, Item, Reply};
use super::{Inner, Shared, reply};
use crate::protocol::Protocol;

/// The four content types, as the method's kind needs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Json,
    Proto,
}

/// Serves one Connect call of `method`.
pub(super) async fn serve<S: Inner>(
    inner: S,
    shared: &Shared,
    method: MethodDescriptor,
    request: http::Request<Body>,
) -> Response<Body> {
    if request.method() != http::Method::POST {
        return reply::method_not_allowed("POST");
    }
    let streaming = method.is_server_streaming();
    if method.is_client_streaming() {
        return reply::error(
            Code::Unimplemented,
            "client and bidirectional streaming are gRPC only",
        );
    }
    let (encoding, enveloped) = match super::media_type(request.headers()).as_str() {
        "application/json" if !streaming => (Encoding::Json, false),
        "application/proto" if !streaming => (Encoding::Proto, false),
        "application/connect+json" if streaming => (Encoding::Json, true),
        "application/connect+proto" if streaming => (Encoding::Proto, true),
        _ if streaming => {
            return reply::unsupported_media_type(
                "application/connect+json or application/connect+proto (a server stream)",
            );
        }
        _ => return reply::unsupported_media_type("application/json or application/proto"),
    };
    let answer = |status: Status| {
        if enveloped {
            stream_response(encoding, reply::full(end_of_stream(Some(&status), shared)))
        } else {
            unary_error(&status, shared)
        }
    };
    let encoding_header = if enveloped {
        "connect-content-encoding"
    } else {
        "content-encoding"
    };
    if let Some(value) = request.headers().get(encoding_header)
        && value != "identity"
    {
        return answer(Status::unimplemented(
            "compressed requests are not supported: send them uncompressed (identity)",
        ));
    }
    let deadline = match timeout(request.headers()) {
        Ok(deadline) => deadline,
        Err(status) => return answer(status),
    };
    let path = request.uri().path().to_owned();
    let (parts, body) = request.into_parts();
    let message =
        match read_message(shared, &method.input(), body, encoding, enveloped, deadline).await {
            Ok(message) => message,
            Err(status) => return answer(status),
        };
    let call = grpc_call::request(parts, &path, &message, deadline, Protocol::Connect);
    if enveloped {
        let response = match super::call(inner, call).await {
            Ok(response) => response,
            Err(status) => return answer(status),
        };
        let body = ConnectStream {
            reply: Reply::new(response),
            shared: shared.clone(),
            output: method.output(),
            encoding,
        };
        return stream_response(encoding, Body::new(body));
    }
    let message = match super::unary_bytes(inner, call).await {
        Ok(message) => message,
        Err(status) => return unary_error(&status, shared),
    };
    match encoding {
        Encoding::Proto => reply::with_body(StatusCode::OK, "application/proto", message),
        Encoding::Json => match shared.codec.proto_to_json(&method.output(), &message) {
            Ok(json) => reply::with_body(StatusCode::OK, reply::JSON, json),
            Err(_) => unary_error(
                &Status::internal("the reply is not a valid message"),
                shared,
            ),
        },
    }
}

/// `Connect-Timeout-Ms`: at most 10 digits (the spec), else an error.
fn timeout(headers: &HeaderMap) -> Result<Option<Duration>, Status> {
    let Some(value) = headers.get("connect-timeout-ms") else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .filter(|digits| {
            !digits.is_empty() && digits.len() <= 10 && digits.bytes().all(|b| b.is_ascii_digit())
        })
        .and_then(|digits| digits.parse().ok())
        .map(|millis| Some(Duration::from_millis(millis)))
        .ok_or_else(|| {
            Status::invalid_argument(
                "Connect-Timeout-Ms must be a whole number of milliseconds, 1 to 10 digits",
            )
        })
}

/// The request's one message, as protobuf bytes.
async fn read_message(
    shared: &Shared,
    input: &MessageDescriptor,
    body: Body,
    encoding: Encoding,
    enveloped: bool,
    deadline: Option<Duration>,
) -> Result<Vec<u8>, Status> {
    let bytes = super::read_body(shared, body, deadline).await?;
    let message = if enveloped {
        unenvelope(&bytes)?
    } else {
        bytes
    };
    let invalid = |error: super::codec::BadMessage| Status::invalid_argument(error.0);
    match encoding {
        Encoding::Json => shared.codec.json_to_proto(input, &message).map_err(invalid),
        Encoding::Proto => {
            shared.codec.check_proto(input, &message).map_err(invalid)?;
            Ok(message.to_vec())
        }
    }
}

/// The single message of a streaming request: one uncompressed envelope.
fn unenvelope(bytes: &[u8]) -> Result<Bytes, Status> {
    let invalid = || {
        Status::invalid_argument(
            "a server-streaming request is one envelope: a flags byte of 0, a 4-byte big-endian length, and the message",
        )
    };
    let (head, message) = bytes.split_at_checked(5).ok_or_else(invalid)?;
    let length = u32::from_be_bytes(head[1..5].try_into().expect("4 bytes")) as usize;
    match head[0] {
        0 if message.len() == length => Ok(Bytes::copy_from_slice(message)),
        1 => Err(Status::unimplemented(
            "compressed messages are not supported",
        )),
        _ => Err(invalid()),
    }
}

/// A unary call's error: Connect's JSON error with its code's HTTP status.
fn unary_error(status: &Status, shared: &Shared) -> Response<Body> {
    reply::json(
        reply::http_status(status.code()),
        &reply::connect_error(status, &shared.codec),
    )
}

/// A streaming response (always 200: errors end the stream).
fn stream_response(encoding: Encoding, body: Body) -> Response<Body> {
    let content_type = match encoding {
        Encoding::Json => "application/connect+json",
        Encoding::Proto => "application/connect+proto",
    };
    let mut response = Response::new(body);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response
}

/// An envelope: `flags`, the length, `message`.
fn envelope(flags: u8, message: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(5 + message.len());
    out.put_u8(flags);
    out.put_u32(u32::try_from(message.len()).expect("bounded by the response limit"));
    out.put_slice(message);
    out.freeze()
}

/// The end-of-stream envelope (flag 0x02): `{}` or `{"error": …}`.
fn end_of_stream(status: Option<&Status>, shared: &Shared) -> Bytes {
    let end = match status {
        Some(status) if status.code() != Code::Ok => {
            serde_json::json!({ "error": reply::connect_error(status, &shared.codec) })
        }
        _ => serde_json::json!({}),
    };
    envelope(
        2,
        &serde_json::to_vec(&end).expect("a JSON value serializes"),
    )
}

/// A gRPC response stream, as Connect envelopes, as it arrives.
struct ConnectStream {
    reply: Reply,
    shared: Shared,
    output: MessageDescriptor,
    encoding: Encoding,
}

impl http_body::Body for ConnectStream {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        let item = std::task::ready!(this.reply.poll_item(cx));
        let data = match item {
            None => return Poll::Ready(None),
            Some(Item::Message(message)) => match this.encoding {
                Encoding::Proto => envelope(0, &message),
                Encoding::Json => match this.shared.codec.proto_to_json(&this.output, &message) {
                    Ok(json) => envelope(0, &json),
                    Err(_) => end_of_stream(
                        Some(&Status::internal("a reply is not a valid message")),
                        &this.shared,
                    ),
                },
            },
            Some(Item::End(status)) => end_of_stream(Some(&status), &this.shared),
        };
        Poll::Ready(Some(Ok(Frame::data(data))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_digits_only() {
        let mut headers = HeaderMap::new();
        assert_eq!(timeout(&headers).unwrap(), None);
        headers.insert("connect-timeout-ms", "1500".parse().unwrap());
        assert_eq!(
            timeout(&headers).unwrap(),
            Some(Duration::from_millis(1500))
        );
        for bad in ["", "-1", "1.5", "12345678901", "1s"] {
            headers.insert("connect-timeout-ms", bad.parse().unwrap());
            assert_eq!(
                timeout(&headers).unwrap_err().code(),
                Code::InvalidArgument,
                "{bad}"
            );
        }
    }

    #[test]
    fn one_envelope_exactly() {
        assert_eq!(&unenvelope(&envelope(0, b"abc")).unwrap()[..], b"abc");
        let mut two = envelope(0, b"abc").to_vec();
        two.extend_from_slice(&envelope(0, b"d"));
        for bad in [&b""[..], b"\0\0\0", &two, &envelope(2, b"{}")] {
            assert_eq!(unenvelope(bad).unwrap_err().code(), Code::InvalidArgument);
        }
        assert_eq!(
            unenvelope(&envelope(1, b"x")).unwrap_err().code(),
            Code::Unimplemented
        );
    }
}
