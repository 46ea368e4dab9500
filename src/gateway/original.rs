//! The original app's HTTP API, same paths and shapes, so its scripts work
//! unchanged — each request one GeneratePassword or ListPasswords call
//! under the trust model:
//! - `POST /api/gerar-senha` `{"tamanho": 12, "incluir_numeros": true,
//!   "incluir_caracteres_especiais": true}` → `{"senha": "…"}`. Missing
//!   fields take the original's defaults (8, false, false); values are read
//!   as the original read them (`int(tamanho)`: a number or a numeric
//!   string; the flags by truthiness); other fields are ignored, as there.
//! - `GET /api/senhas` → `[{"id": 1, "senha": "…"}, …]`: the caller's own
//!   last 10, newest first (never anyone else's).
//!
//! Errors are JSON `{"code", "message", "fields": [{"field",
//! "description"}]}`, fields named as the original named them; 401 carries
//! `WWW-Authenticate: Bearer`.

use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use prost::Message as _;
use serde_json::Value;
use tonic::body::Body;
use tonic::{Code, Status};

use super::grpc_call;
use super::{Inner, Shared, reply};
use crate::generator::LENGTH_RANGE;
use crate::proto::v1::{
    GeneratePasswordRequest, GeneratePasswordResponse, ListPasswordsRequest, ListPasswordsResponse,
};
use crate::protocol::Protocol;

/// `POST /api/gerar-senha`.
pub(super) const GENERATE: &str = "/api/gerar-senha";
/// `GET /api/senhas`.
pub(super) const LIST: &str = "/api/senhas";
/// The original's default length.
const DEFAULT_LENGTH: u32 = 8;
/// The original listed its last 10.
const LISTED: u32 = 10;
/// Our field names, and the original's.
const FIELD_NAMES: &[(&str, &str)] = &[
    ("length", "tamanho"),
    ("include_numbers", "incluir_numeros"),
    ("include_special_chars", "incluir_caracteres_especiais"),
];

/// Serves `request` on one of the original's paths.
pub(super) async fn serve<S: Inner>(
    inner: S,
    shared: &Shared,
    request: http::Request<Body>,
) -> Response<Body> {
    let method = request.method();
    match request.uri().path() {
        GENERATE if method == http::Method::POST => generate(inner, shared, request).await,
        GENERATE => reply::method_not_allowed("POST"),
        LIST if method == http::Method::GET || method == http::Method::HEAD => {
            list(inner, request).await
        }
        LIST => reply::method_not_allowed("GET, HEAD"),
        _ => reply::not_found(),
    }
}

async fn generate<S: Inner>(
    inner: S,
    shared: &Shared,
    request: http::Request<Body>,
) -> Response<Body> {
    let media_type = super::media_type(request.headers());
    if !(media_type.is_empty() || media_type == "application/json") {
        return reply::unsupported_media_type("application/json");
    }
    let (parts, body) = request.into_parts();
    let body = match super::read_body(shared, body, None).await {
        Ok(body) => body,
        Err(status) => return error(&status),
    };
    let message = match generate_request(&body) {
        Ok(message) => message,
        Err(fields) => {
            let message: Vec<&str> = fields
                .iter()
                .map(|(_, description)| description.as_str())
                .collect();
            return fields_error(&message.join("; "), &fields);
        }
    };
    let path = "/giropops.v1.PasswordService/GeneratePassword";
    let call = grpc_call::request(parts, path, &message.encode_to_vec(), None, Protocol::Http);
    match super::unary::<_, GeneratePasswordResponse>(inner, call).await {
        Ok(response) => reply::json(
            StatusCode::OK,
            &serde_json::json!({ "senha": response.password }),
        ),
        Err(status) => error(&status),
    }
}

async fn list<S: Inner>(inner: S, request: http::Request<Body>) -> Response<Body> {
    let (parts, _) = request.into_parts();
    let message = ListPasswordsRequest { page_size: LISTED };
    let path = "/giropops.v1.PasswordService/ListPasswords";
    let call = grpc_call::request(parts, path, &message.encode_to_vec(), None, Protocol::Http);
    match super::unary::<_, ListPasswordsResponse>(inner, call).await {
        Ok(ListPasswordsResponse { passwords }) => {
            let listed: Vec<Value> = passwords
                .into_iter()
                .zip(1..)
                .map(|(record, id)| serde_json::json!({ "id": id, "senha": record.password }))
                .collect();
            reply::json(StatusCode::OK, &Value::Array(listed))
        }
        Err(status) => error(&status),
    }
}

/// The GeneratePassword call the original's body asks for, or every field
/// that cannot be read.
fn generate_request(body: &[u8]) -> Result<GeneratePasswordRequest, Vec<(String, String)>> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_slice(body).map_err(|_| {
            vec![(
                "body".to_owned(),
                "the body must be a JSON object, e.g. {\"tamanho\": 12}".to_owned(),
            )]
        })?
    };
    let Value::Object(fields) = value else {
        return Err(vec![(
            "body".to_owned(),
            "the body must be a JSON object, e.g. {\"tamanho\": 12}".to_owned(),
        )]);
    };
    let length = match fields.get("tamanho").map(python_int) {
        None => DEFAULT_LENGTH,
        Some(Some(length))
            if usize::try_from(length).is_ok_and(|length| LENGTH_RANGE.contains(&length)) =>
        {
            u32::try_from(length).expect("within the length range")
        }
        Some(Some(length)) => {
            return Err(vec![(
                "tamanho".to_owned(),
                format!(
                    "tamanho must be between {} and {}, got {length}",
                    LENGTH_RANGE.start(),
                    LENGTH_RANGE.end()
                ),
            )]);
        }
        Some(None) => {
            return Err(vec![(
                "tamanho".to_owned(),
                "tamanho must be a whole number (or a string of one), e.g. 12".to_owned(),
            )]);
        }
    };
    Ok(GeneratePasswordRequest {
        length,
        include_numbers: fields.get("incluir_numeros").is_some_and(truthy),
        include_special_chars: fields
            .get("incluir_caracteres_especiais")
            .is_some_and(truthy),
        ..GeneratePasswordRequest::default()
    })
}

/// Python's `int(value)` for JSON values, as the original read `tamanho`:
/// an integer, a float (truncated), a bool, or a string of an integer
/// (saturating far outside any length).
fn python_int(value: &Value) -> Option<i64> {
    match value {
        Value::Bool(flag) => Some(i64::from(*flag)),
        Value::Number(number) => number
            .as_i64()
            .or_else(|| number.as_u64().map(|_| i64::MAX))
            // `as` saturates: a float far out of range stays out of range.
            .or_else(|| number.as_f64().map(|n| n.trunc() as i64)),
        Value::String(text) => {
            let text = text.trim();
            let (negative, digits) = match text.as_bytes().first() {
                Some(b'-') => (true, &text[1..]),
                Some(b'+') => (false, &text[1..]),
                _ => (false, text),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let magnitude = digits.parse::<i64>().unwrap_or(i64::MAX);
            Some(if negative { -magnitude } else { magnitude })
        }
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Python's truthiness, as the original read its flags.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(fields) => !fields.is_empty(),
    }
}

/// A failed call as the original API's JSON error, fields renamed to the
/// original's; 401 says how to authenticate.
fn error(status: &Status) -> Response<Body> {
    let fields: Vec<(String, String)> = reply::field_violations(status)
        .into_iter()
        .map(|(field, description)| {
            let renamed = FIELD_NAMES
                .iter()
                .find(|(ours, _)| *ours == field)
                .map_or(field, |(_, theirs)| (*theirs).to_owned());
            (renamed, description)
        })
        .collect();
    let mut response = if fields.is_empty() {
        reply::error(status.code(), status.message())
    } else {
        let mut response = fields_error(status.message(), &fields);
        *response.status_mut() = reply::http_status(status.code());
        response
    };
    if status.code() == Code::Unauthenticated {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"giropops-senhas\""),
        );
    }
    response
}

/// 400 naming every field that is wrong.
fn fields_error(message: &str, fields: &[(String, String)]) -> Response<Body> {
    let fields: Vec<Value> = fields
        .iter()
        .map(|(field, description)| serde_json::json!({ "field": field, "description": description }))
        .collect();
    reply::json(
        StatusCode::BAD_REQUEST,
        &serde_json::json!({
            "code": reply::code_name(Code::InvalidArgument),
            "message": message,
            "fields": fields,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_as_the_original_did() {
        let read = |body: &str| generate_request(body.as_bytes());
        let all = read(
            r#"{"tamanho": 12, "incluir_numeros": true, "incluir_caracteres_especiais": true}"#,
        )
        .unwrap();
        assert_eq!(
            (all.length, all.include_numbers, all.include_special_chars),
            (12, true, true)
        );
        let defaults = read("").unwrap();
        assert_eq!(
            (
                defaults.length,
                defaults.include_numbers,
                defaults.include_special_chars
            ),
            (8, false, false)
        );
        assert_eq!(read(r#"{"tamanho": "16"}"#).unwrap().length, 16);
        assert_eq!(read(r#"{"tamanho": " 20 "}"#).unwrap().length, 20);
        assert_eq!(read(r#"{"tamanho": 12.9}"#).unwrap().length, 12);
        assert_eq!(
            read(r#"{"tamanho": true, "x": 1}"#).unwrap_err()[0].1,
            "tamanho must be between 4 and 1024, got 1"
        );
        for (body, got) in [
            (r#"{"tamanho": -3}"#, "-3"),
            (r#"{"tamanho": "0"}"#, "0"),
            (r#"{"tamanho": 99999999999}"#, "99999999999"),
            (r#"{"tamanho": 1e300}"#, "9223372036854775807"),
        ] {
            let fields = read(body).unwrap_err();
            assert_eq!(fields[0].0, "tamanho");
            assert!(
                fields[0].1.ends_with(&format!("got {got}")),
                "{body}: {fields:?}"
            );
        }
        let truthy =
            read(r#"{"incluir_numeros": "sim", "incluir_caracteres_especiais": 1}"#).unwrap();
        assert!(truthy.include_numbers && truthy.include_special_chars);
        let falsy = read(r#"{"incluir_numeros": "", "incluir_caracteres_especiais": 0}"#).unwrap();
        assert!(!falsy.include_numbers && !falsy.include_special_chars);
        assert_eq!(read(r#"{"outro": 1, "tamanho": 9}"#).unwrap().length, 9);
    }

    #[test]
    fn unreadable_values_name_their_field() {
        for body in [
            r#"{"tamanho": "doze"}"#,
            r#"{"tamanho": null}"#,
            r#"{"tamanho": [12]}"#,
            r#"{"tamanho": "1.5"}"#,
        ] {
            let fields = generate_request(body.as_bytes()).unwrap_err();
            assert_eq!(fields[0].0, "tamanho", "{body}");
        }
        for body in ["[1]", "{", "12"] {
            assert_eq!(
                generate_request(body.as_bytes()).unwrap_err()[0].0,
                "body",
                "{body}"
            );
        }
    }
}
