//! Plain HTTP answers of the gateway: JSON bodies, the HTTP status of each
//! gRPC code (the Connect protocol's table), Connect's error body, and the
//! headers every answer carries.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use prost::Message as _;
use tonic::body::Body;
use tonic::{Code, Status};

use super::codec::Codec;

/// `application/json`.
pub(super) const JSON: &str = "application/json";

/// The HTTP status Connect gives each code (connectrpc.com/docs/protocol).
pub(super) fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::Cancelled => StatusCode::from_u16(499).expect("valid"),
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
    }
}

/// Connect's name of a code: `invalid_argument`, `unavailable`, …
pub(super) fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "canceled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::PermissionDenied => "permission_denied",
        Code::ResourceExhausted => "resource_exhausted",
        Code::FailedPrecondition => "failed_precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out_of_range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data_loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

/// Connect's error object for `status`: code, message and every detail
/// (`type`, base64 `value`, and `debug`: the detail as JSON, so a client
/// without the types can still read the field violations).
pub(super) fn connect_error(status: &Status, codec: &Codec) -> serde_json::Value {
    let mut error = serde_json::json!({ "code": code_name(status.code()) });
    if !status.message().is_empty() {
        error["message"] = status.message().into();
    }
    let details: Vec<serde_json::Value> = tonic_types::pb::Status::decode(status.details())
        .map(|rpc| rpc.details)
        .unwrap_or_default()
        .into_iter()
        .map(|any| {
            let type_name = any
                .type_url
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            let mut detail = serde_json::json!({
                "type": type_name,
                "value": STANDARD_NO_PAD.encode(&any.value),
            });
            if let Some(debug) = codec.detail_json(&type_name, &any.value) {
                detail["debug"] = debug;
            }
            detail
        })
        .collect();
    if !details.is_empty() {
        error["details"] = details.into();
    }
    error
}

/// The field violations of `status` (its `google.rpc.BadRequest`), as
/// (field, description) pairs.
pub(super) fn field_violations(status: &Status) -> Vec<(String, String)> {
    let Ok(rpc) = tonic_types::pb::Status::decode(status.details()) else {
        return Vec::new();
    };
    rpc.details
        .iter()
        .filter(|any| any.type_url.ends_with("/google.rpc.BadRequest"))
        .filter_map(|any| tonic_types::pb::BadRequest::decode(&any.value[..]).ok())
        .flat_map(|request| request.field_violations)
        .map(|violation| (violation.field, violation.description))
        .collect()
}

/// A body of `bytes`, all at once.
pub(super) fn full(bytes: Bytes) -> Body {
    Body::new(http_body_util::Full::new(bytes))
}

/// A response with `status`, `content_type` and `body`, and the headers
/// every gateway answer carries.
pub(super) fn with_body(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut response = Response::new(full(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `value` as a JSON response with `status`.
pub(super) fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    with_body(
        status,
        JSON,
        serde_json::to_vec(value).expect("a JSON value serializes"),
    )
}

/// A JSON error: `{"code": …, "message": …}` with the HTTP status of
/// `code`.
pub(super) fn error(code: Code, message: impl Into<String>) -> Response<Body> {
    json(
        http_status(code),
        &serde_json::json!({ "code": code_name(code), "message": message.into() }),
    )
}

/// 404 for a path nothing here serves (not echoed: it is the caller's,
/// and may hold anything).
pub(super) fn not_found() -> Response<Body> {
    error(
        Code::NotFound,
        "no such path: the API is gRPC, gRPC-Web and Connect at /giropops.v1.PasswordService/<Method>, and the original app's /api/gerar-senha and /api/senhas (see docs/API.md)",
    )
}

/// 405 with `Allow`.
pub(super) fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut response = json(
        StatusCode::METHOD_NOT_ALLOWED,
        &serde_json::json!({
            "code": code_name(Code::Unimplemented),
            "message": format!("this path answers {allow} only"),
        }),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// 415, naming what the path accepts.
pub(super) fn unsupported_media_type(accepted: &str) -> Response<Body> {
    json(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &serde_json::json!({
            "code": code_name(Code::InvalidArgument),
            "message": format!("unsupported content type: this path accepts {accepted}"),
        }),
    )
}

/// The headers every response of the port carries: no MIME sniffing of
/// anything; no caching of anything but the health service's answers (a
/// response may hold a secret).
pub(super) fn harden(headers: &mut http::HeaderMap, cacheable: bool) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !cacheable {
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_connects_status_and_name() {
        let table = [
            (Code::InvalidArgument, 400, "invalid_argument"),
            (Code::Unauthenticated, 401, "unauthenticated"),
            (Code::PermissionDenied, 403, "permission_denied"),
            (Code::ResourceExhausted, 429, "resource_exhausted"),
            (Code::Unavailable, 503, "unavailable"),
            (Code::DeadlineExceeded, 504, "deadline_exceeded"),
            (Code::Unimplemented, 501, "unimplemented"),
            (Code::Cancelled, 499, "canceled"),
        ];
        for (code, status, name) in table {
            assert_eq!(http_status(code).as_u16(), status, "{code:?}");
            assert_eq!(code_name(code), name);
        }
    }

    #[test]
    fn connect_errors_carry_every_violation() {
        let mut details = tonic_types::ErrorDetails::new();
        details.add_bad_request_violation("length", "length must be between 4 and 1024, got 3");
        details.add_bad_request_violation("count", "count must be at most 100, got 101");
        let status = <Status as tonic_types::StatusExt>::with_error_details(
            Code::InvalidArgument,
            "2 invalid fields",
            details,
        );
        let error = connect_error(&status, &Codec::new());
        assert_eq!(error["code"], "invalid_argument");
        assert_eq!(error["message"], "2 invalid fields");
        assert_eq!(error["details"][0]["type"], "google.rpc.BadRequest");
        let violations = &error["details"][0]["debug"]["fieldViolations"];
        assert_eq!(violations[1]["field"], "count");
        assert_eq!(field_violations(&status).len(), 2);
    }
}
