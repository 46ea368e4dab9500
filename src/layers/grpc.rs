//! What the layers read from and write into gRPC over HTTP/2: the
//! `grpc-timeout` header, `grpc-status` in headers or trailers, and
//! trailers-only error responses.

use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use http_body::Frame;
use tonic::{Code, Status};

/// The deadline a client asked for in `grpc-timeout` (`<1-8 digits><unit>`,
/// unit one of `H M S m u n`), or `None` when absent or malformed.
pub fn grpc_timeout(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// The call's deadline: the client's `grpc-timeout` if shorter than the
/// server's `request_timeout`.
pub fn call_deadline(headers: &HeaderMap, request_timeout: Duration) -> Duration {
    grpc_timeout(headers).map_or(request_timeout, |asked| asked.min(request_timeout))
}

/// The `grpc-status` in a header map (response headers of a trailers-only
/// response, or trailers), if any.
pub fn status_code(headers: &HeaderMap) -> Option<Code> {
    headers
        .get("grpc-status")
        .map(|value| Code::from_bytes(value.as_bytes()))
}

/// The trailers frame that ends a response with `status`.
pub fn status_trailers(status: &Status) -> Frame<Bytes> {
    let mut trailers = HeaderMap::new();
    status
        .add_header(&mut trailers)
        .expect("our statuses are plain ASCII");
    Frame::trailers(trailers)
}

/// A trailers-only gRPC response carrying `status`.
pub fn status_response(status: Status) -> http::Response<tonic::body::Body> {
    status.into_http()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(timeout: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-timeout", timeout.parse().unwrap());
        headers
    }

    #[test]
    fn reads_every_grpc_timeout_unit() {
        assert_eq!(
            grpc_timeout(&headers("2H")),
            Some(Duration::from_secs(7200))
        );
        assert_eq!(grpc_timeout(&headers("3M")), Some(Duration::from_secs(180)));
        assert_eq!(grpc_timeout(&headers("4S")), Some(Duration::from_secs(4)));
        assert_eq!(
            grpc_timeout(&headers("99999m")),
            Some(Duration::from_millis(99_999))
        );
        assert_eq!(grpc_timeout(&headers("5u")), Some(Duration::from_micros(5)));
        assert_eq!(grpc_timeout(&headers("6n")), Some(Duration::from_nanos(6)));
        for bad in ["", "S", "123456789S", "1x", "-1S", "1.5S"] {
            assert_eq!(grpc_timeout(&headers(bad)), None, "{bad:?}");
        }
        assert_eq!(grpc_timeout(&HeaderMap::new()), None);
    }

    #[test]
    fn the_shorter_deadline_wins() {
        let server = Duration::from_secs(10);
        assert_eq!(
            call_deadline(&headers("1S"), server),
            Duration::from_secs(1)
        );
        assert_eq!(call_deadline(&headers("1M"), server), server);
        assert_eq!(call_deadline(&HeaderMap::new(), server), server);
    }

    #[test]
    fn status_codes_come_from_headers() {
        let response = status_response(Status::resource_exhausted("full"));
        assert_eq!(
            status_code(response.headers()),
            Some(Code::ResourceExhausted)
        );
        assert_eq!(status_code(&HeaderMap::new()), None);
    }
}
