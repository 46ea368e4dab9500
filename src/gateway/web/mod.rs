//! The page for people at `/`: embedded in the binary (no CDN, no
//! external font, script or image), its two assets under content-hashed
//! paths with a year's cache, the HTML never cached. Without JavaScript
//! the form posts to `/` and the answer is the page with the result, as
//! the original's; with it, `app.js` does the same through the Connect
//! API. Every action is one gRPC call through the layer stack, with the
//! caller's headers: the page has no powers of its own.

mod form;
mod page;
mod text;

use std::sync::LazyLock;

use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use sha2::Digest as _;
use tonic::body::Body;
use tonic::{Code, Status};

use self::form::{Action, Values};
use self::page::{AssetPaths, Entry, History, Outcome, View};
use self::text::Lang;
use super::grpc_call;
use super::{Inner, Shared, reply};
use crate::proto::v1::{
    CheckPasswordResponse, GeneratePassphraseResponse, GeneratePasswordResponse,
    GenerateTokenResponse, ListPasswordsRequest, ListPasswordsResponse,
};
use crate::protocol::Protocol;

const CSS: &str = include_str!("assets/app.css");
const JS: &str = include_str!("assets/app.js");

/// The assets' paths, named by their content's hash.
struct Assets {
    css: String,
    js: String,
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| Assets {
    css: hashed("app", "css", CSS),
    js: hashed("app", "js", JS),
});

fn hashed(name: &str, extension: &str, content: &str) -> String {
    let digest = sha2::Sha256::digest(content.as_bytes());
    let hex: String = digest[..6]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("/assets/{name}.{hex}.{extension}")
}

/// The page's Content-Security-Policy: its own assets and API only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Whether `path` is the page's.
pub(super) fn is_page(path: &str) -> bool {
    path == "/" || path.starts_with("/assets/")
}

/// Serves the page and its assets.
pub(super) async fn serve<S: Inner>(
    inner: S,
    shared: &Shared,
    request: http::Request<Body>,
) -> Response<Body> {
    let path = request.uri().path();
    if let Some(asset) = path.strip_prefix("/assets/") {
        return asset_response(&format!("/assets/{asset}"), request.method());
    }
    let lang = Lang::pick(
        request.uri().query(),
        request
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok()),
    );
    let tls = request
        .extensions()
        .get::<crate::accept::ConnectionInfo>()
        .is_some_and(|connection| connection.tls);
    let method = request.method().clone();
    if method == http::Method::GET || method == http::Method::HEAD {
        let (parts, _) = request.into_parts();
        let history = history(inner, parts, lang).await;
        let view = View {
            lang,
            history,
            ..View::default()
        };
        return page(StatusCode::OK, &view, tls);
    }
    if method != http::Method::POST {
        return reply::method_not_allowed("GET, HEAD, POST");
    }
    if super::media_type(request.headers()) != "application/x-www-form-urlencoded" {
        return reply::unsupported_media_type(
            "application/x-www-form-urlencoded (the page's form)",
        );
    }
    let (parts, body) = request.into_parts();
    let body = match super::read_body(shared, body, None).await {
        Ok(body) => body,
        Err(status) => {
            let view = View {
                lang,
                outcome: Outcome::Failed(status.message().to_owned()),
                ..View::default()
            };
            return page(reply::http_status(status.code()), &view, tls);
        }
    };
    let values = Values::parse(&body);
    let (status, outcome, errors) = match form::action(&values) {
        Err(errors) => (StatusCode::BAD_REQUEST, Outcome::Nothing, errors),
        Ok(action) => match act(inner.clone(), parts.clone(), action).await {
            Ok(outcome) => (StatusCode::OK, outcome, Vec::new()),
            Err(status) => {
                let violations = reply::field_violations(&status);
                let outcome = if violations.is_empty() {
                    Outcome::Failed(status.message().to_owned())
                } else {
                    Outcome::Nothing
                };
                (reply::http_status(status.code()), outcome, violations)
            }
        },
    };
    let history = history(inner, parts, lang).await;
    let view = View {
        lang,
        values: values.without_secret(),
        outcome,
        errors,
        history,
    };
    page(status, &view, tls)
}

/// Makes the call the form asks for.
async fn act<S: Inner>(
    inner: S,
    parts: http::request::Parts,
    action: Action,
) -> Result<Outcome, Status> {
    const SERVICE: &str = "/giropops.v1.PasswordService/";
    match action {
        Action::Password(request) => {
            let GeneratePasswordResponse {
                password,
                entropy_bits,
                stored,
                passwords,
                created_at: _,
            } = call(
                inner,
                parts,
                &format!("{SERVICE}GeneratePassword"),
                &request,
            )
            .await?;
            let secrets = if passwords.is_empty() {
                vec![password]
            } else {
                passwords
            };
            Ok(Outcome::Generated {
                secrets,
                bits: entropy_bits,
                stored,
            })
        }
        Action::Passphrase(request) => {
            let GeneratePassphraseResponse {
                passphrase,
                entropy_bits,
                stored,
                created_at: _,
            } = call(
                inner,
                parts,
                &format!("{SERVICE}GeneratePassphrase"),
                &request,
            )
            .await?;
            Ok(Outcome::Generated {
                secrets: vec![passphrase],
                bits: entropy_bits,
                stored,
            })
        }
        Action::Token(request) => {
            let GenerateTokenResponse {
                token,
                entropy_bits,
                format: _,
            } = call(inner, parts, &format!("{SERVICE}GenerateToken"), &request).await?;
            Ok(Outcome::Generated {
                secrets: vec![token],
                bits: entropy_bits,
                stored: false,
            })
        }
        Action::Check(request) => {
            let CheckPasswordResponse {
                score,
                crack_time_display,
                warning,
                suggestions,
                guesses_log10: _,
                crack_time_seconds: _,
            } = call(inner, parts, &format!("{SERVICE}CheckPassword"), &request).await?;
            Ok(Outcome::Checked {
                score,
                crack_time: crack_time_display,
                warning,
                suggestions,
            })
        }
    }
}

/// The caller's last entries, or why they are not shown.
async fn history<S: Inner>(inner: S, parts: http::request::Parts, lang: Lang) -> History {
    let request = ListPasswordsRequest { page_size: 10 };
    match call::<_, ListPasswordsResponse>(
        inner,
        parts,
        "/giropops.v1.PasswordService/ListPasswords",
        &request,
    )
    .await
    {
        Ok(ListPasswordsResponse { passwords }) => History::Entries(
            passwords
                .into_iter()
                .map(|record| Entry {
                    created: record
                        .created_at
                        .map(|at| at.to_string())
                        .unwrap_or_default(),
                    bits: record.entropy_bits,
                    secret: record.password,
                })
                .collect(),
        ),
        Err(status) => History::Hidden(match status.code() {
            Code::Unauthenticated | Code::PermissionDenied => lang.t("need_token").to_owned(),
            Code::FailedPrecondition => lang.t("no_history").to_owned(),
            _ => format!("{} {}", lang.t("history_unavailable"), status.message()),
        }),
    }
}

/// One gRPC call with the caller's headers, and its one reply.
async fn call<S: Inner, M: prost::Message + Default>(
    inner: S,
    parts: http::request::Parts,
    path: &str,
    request: &impl prost::Message,
) -> Result<M, Status> {
    let call = grpc_call::request(parts, path, &request.encode_to_vec(), None, Protocol::Http);
    super::unary(inner, call).await
}

/// The page as a response: no caching, no framing, its own sources only,
/// no powerful features; HSTS when it came over TLS.
fn page(status: StatusCode, view: &View, tls: bool) -> Response<Body> {
    let assets = AssetPaths {
        css: &ASSETS.css,
        js: &ASSETS.js,
    };
    let html = page::render(view, &assets).into_string();
    let mut response = reply::with_body(status, "text/html; charset=utf-8", html);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static(
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
        ),
    );
    if tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    response
}

/// An asset, cached for a year (its path changes with its content).
fn asset_response(path: &str, method: &http::Method) -> Response<Body> {
    if method != http::Method::GET && method != http::Method::HEAD {
        return reply::method_not_allowed("GET, HEAD");
    }
    let (content_type, content) = if path == ASSETS.css {
        ("text/css; charset=utf-8", CSS)
    } else if path == ASSETS.js {
        ("text/javascript; charset=utf-8", JS)
    } else {
        return reply::not_found();
    };
    let mut response = reply::with_body(StatusCode::OK, content_type, content);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_have_content_hashed_paths() {
        assert!(ASSETS.js.starts_with("/assets/app.") && ASSETS.js.ends_with(".js"));
        assert_ne!(hashed("app", "js", "a"), hashed("app", "js", "b"));
        assert_eq!(
            asset_response("/assets/app.000000000000.js", &http::Method::GET).status(),
            404
        );
        let css = asset_response(&ASSETS.css, &http::Method::GET);
        assert_eq!(
            css.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
    }

    #[test]
    fn every_value_is_escaped() {
        let view = View {
            lang: Lang::Pt,
            values: Values::parse(b"excluir=%3Cscript%3E"),
            outcome: Outcome::Generated {
                secrets: vec!["<b>&\"'".to_owned()],
                bits: 50.0,
                stored: false,
            },
            errors: vec![("length".to_owned(), "<i>".to_owned())],
            history: History::Entries(vec![Entry {
                secret: "</li><script>".to_owned(),
                created: String::new(),
                bits: 1.0,
            }]),
        };
        let html = page::render(
            &view,
            &AssetPaths {
                css: "/c",
                js: "/j",
            },
        )
        .into_string();
        for raw in ["<b>", "<script>", "<i>", "</li><script>"] {
            assert!(!html.contains(raw), "{raw} unescaped in {html}");
        }
        assert!(html.contains("&lt;b&gt;&amp;&quot;'"), "{html}");
    }
}
