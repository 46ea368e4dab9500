//! The decision for every scope × every path, and the layer as a tower
//! service over a trivial inner service.

use std::convert::Infallible;

use http::{HeaderMap, HeaderValue};
use tonic::Code;
use tower::{Layer, ServiceExt, service_fn};

use super::*;
use crate::accept::ConnectionInfo;
use crate::layers::grpc::status_code;
use crate::tls::ClientScopes;

const SERVICE: &str = "/giropops.v1.PasswordService/";
const GENERATE_PATHS: [&str; 3] = ["GeneratePassword", "GeneratePassphrase", "StreamPasswords"];
const REFLECTION_PATHS: [&str; 2] = [
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];
const HEALTH_PATHS: [&str; 3] = [
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.health.v1.Health/List",
];
const UNKNOWN_PATHS: [&str; 4] = [
    "/giropops.v1.PasswordService/DeletePasswords",
    "/giropops.v1.Admin/Shutdown",
    "/",
    "/grpc.reflection.v1.ServerReflection/Other",
];

/// Tokens of every single scope, none, and all, and their table.
struct Fixture {
    tokens: Vec<(&'static str, String)>,
    table: TokenTable,
}

impl Fixture {
    fn new() -> Fixture {
        let mut tokens = Vec::new();
        let mut lines = Vec::new();
        for (name, scopes) in [
            ("gen", "generate"),
            ("chk", "check"),
            ("hist", "history"),
            ("histall", "history:all"),
            ("nothing", "none"),
            ("everything", "all"),
        ] {
            let (token, digest) = new_token();
            lines.push(format_line(name, Scopes::parse(scopes).unwrap(), &digest).unwrap());
            tokens.push((name, token));
        }
        let table = TokenTable::parse(&lines.join("\n")).unwrap();
        Fixture { tokens, table }
    }

    fn token(&self, name: &str) -> &str {
        &self.tokens.iter().find(|(n, _)| *n == name).unwrap().1
    }
}

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    headers
}

/// The code a call gets: `Code::Ok` when allowed.
fn code(result: &Result<Option<Principal>, Status>) -> Code {
    match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// The token names allowed on each PasswordService method.
fn allowed_tokens(method: &str) -> &'static [&'static str] {
    match method {
        "GeneratePassword" | "GeneratePassphrase" | "StreamPasswords" => &["gen", "everything"],
        "CheckPassword" => &["chk", "everything"],
        "ListPasswords" => &["hist", "histall", "everything"],
        _ => unreachable!(),
    }
}

fn password_methods() -> impl Iterator<Item = &'static str> {
    GENERATE_PATHS
        .into_iter()
        .chain(["CheckPassword", "ListPasswords"])
}

#[test]
fn every_token_scope_on_every_method() {
    let fixture = Fixture::new();
    let auth = Authenticator::new(Some(fixture.table.clone()), Scopes::anonymous_default());
    for method in password_methods() {
        let path = format!("{SERVICE}{method}");
        for (name, token) in &fixture.tokens {
            let result = auth.authorize(&path, &bearer(token), None);
            if allowed_tokens(method).contains(name) {
                let principal = result.unwrap().unwrap();
                assert_eq!(&*principal.name, *name);
                assert_eq!(principal.kind, PrincipalKind::Token);
            } else {
                let status = result.unwrap_err();
                assert_eq!(status.code(), Code::PermissionDenied, "{name} on {method}");
                let scope = requirement(&path);
                let Requirement::Scope(scope) = scope else {
                    unreachable!()
                };
                let expected = format!("this call needs the `{scope}` scope; token `{name}` has ");
                assert!(
                    status.message().starts_with(&expected),
                    "{}",
                    status.message()
                );
            }
        }
    }
}

#[test]
fn the_denial_names_the_scope_and_what_the_token_has() {
    let fixture = Fixture::new();
    let auth = Authenticator::new(Some(fixture.table.clone()), Scopes::anonymous_default());
    let status = auth
        .authorize(
            "/giropops.v1.PasswordService/ListPasswords",
            &bearer(fixture.token("gen")),
            None,
        )
        .unwrap_err();
    assert_eq!(
        status.message(),
        "this call needs the `history` scope; token `gen` has generate"
    );
}

#[test]
fn anonymous_callers_when_tokens_are_configured() {
    let fixture = Fixture::new();
    for anonymous in [
        Scopes::anonymous_default(),
        Scopes::none(),
        Scopes::all(),
        Scopes::parse("history").unwrap(),
    ] {
        let auth = Authenticator::new(Some(fixture.table.clone()), anonymous);
        for method in password_methods() {
            let path = format!("{SERVICE}{method}");
            let result = auth.authorize(&path, &HeaderMap::new(), None);
            let Requirement::Scope(scope) = requirement(&path) else {
                unreachable!()
            };
            if anonymous.grants(scope) {
                let principal = result.unwrap().unwrap();
                assert_eq!(principal, Principal::anonymous(anonymous));
            } else {
                let status = result.unwrap_err();
                assert_eq!(status.code(), Code::Unauthenticated, "{anonymous} {method}");
                assert!(
                    status.message().starts_with("a token is required")
                        && status.message().contains("authorization: Bearer gps_"),
                    "{}",
                    status.message()
                );
            }
        }
    }
}

#[test]
fn anonymous_callers_without_tokens() {
    let auth = Authenticator::new(None, Scopes::anonymous_default());
    assert!(!auth.tokens_configured());
    for method in password_methods() {
        let path = format!("{SERVICE}{method}");
        let result = auth.authorize(&path, &HeaderMap::new(), None);
        if method == "ListPasswords" {
            let status = result.unwrap_err();
            assert_eq!(status.code(), Code::PermissionDenied);
            assert!(
                status.message().contains("no tokens"),
                "{}",
                status.message()
            );
        } else {
            assert!(result.unwrap().unwrap().is_anonymous());
        }
    }
    let open = Authenticator::new(None, Scopes::all());
    for method in password_methods() {
        let path = format!("{SERVICE}{method}");
        assert_eq!(
            code(&open.authorize(&path, &HeaderMap::new(), None)),
            Code::Ok
        );
    }
}

#[test]
fn an_invalid_token_is_never_anonymous() {
    let fixture = Fixture::new();
    let (unknown, _) = new_token();
    let malformed = [
        "gps_short".to_owned(),
        format!("gps_{}", "A".repeat(44)),
        format!("xyz_{}", "A".repeat(43)),
        format!("gps_{}!", "A".repeat(42)),
    ];
    // Anonymous could do everything: an invalid token still cannot.
    for auth in [
        Authenticator::new(Some(fixture.table.clone()), Scopes::all()),
        Authenticator::new(None, Scopes::all()),
    ] {
        let paths = password_methods()
            .map(|method| format!("{SERVICE}{method}"))
            .chain(REFLECTION_PATHS.map(str::to_owned));
        for path in paths {
            let status = auth.authorize(&path, &bearer(&unknown), None).unwrap_err();
            assert_eq!(status.code(), Code::Unauthenticated);
            assert!(status.message().starts_with("unknown or revoked token"));
            assert!(!status.message().contains(&unknown));
            for token in &malformed {
                let status = auth.authorize(&path, &bearer(token), None).unwrap_err();
                assert_eq!(status.code(), Code::Unauthenticated);
                assert!(status.message().starts_with("malformed token"));
            }
            // A certificate does not rescue an invalid token either.
            let certificate = Principal::certificate("host", Scopes::all());
            let result = auth.authorize(&path, &bearer(&unknown), Some(&certificate));
            assert_eq!(code(&result), Code::Unauthenticated);
        }
    }
}

#[test]
fn malformed_authorization_headers_are_unauthenticated() {
    let auth = Authenticator::new(None, Scopes::all());
    let path = "/giropops.v1.PasswordService/GeneratePassword";
    let (token, _) = new_token();
    for value in [
        "".to_owned(),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        format!("Basic {token}"),
        format!("Token {token}"),
        token.clone(),
        format!("Bearer {token} extra"),
    ] {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_str(&value).unwrap());
        let result = auth.authorize(path, &headers, None);
        assert_eq!(code(&result), Code::Unauthenticated, "{value:?}");
        assert!(!result.unwrap_err().message().contains(&token));
    }
    let mut twice = bearer(&token);
    twice.append(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    assert_eq!(
        code(&auth.authorize(path, &twice, None)),
        Code::Unauthenticated
    );
    let mut binary = HeaderMap::new();
    binary.insert(
        "authorization",
        HeaderValue::from_bytes(b"Bearer \xff").unwrap(),
    );
    assert_eq!(
        code(&auth.authorize(path, &binary, None)),
        Code::Unauthenticated
    );
}

#[test]
fn the_bearer_scheme_is_case_insensitive() {
    let fixture = Fixture::new();
    let auth = Authenticator::new(Some(fixture.table.clone()), Scopes::none());
    let token = fixture.token("gen");
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        for spaces in [" ", "  "] {
            let mut headers = HeaderMap::new();
            let value = format!("{scheme}{spaces}{token}");
            headers.insert("authorization", HeaderValue::from_str(&value).unwrap());
            let principal = auth
                .authorize(
                    "/giropops.v1.PasswordService/GeneratePassword",
                    &headers,
                    None,
                )
                .unwrap()
                .unwrap();
            assert_eq!(&*principal.name, "gen");
        }
    }
}

#[test]
fn health_is_always_open() {
    let fixture = Fixture::new();
    let (unknown, _) = new_token();
    for auth in [
        Authenticator::new(Some(fixture.table.clone()), Scopes::none()),
        Authenticator::new(None, Scopes::none()),
    ] {
        for path in HEALTH_PATHS {
            for headers in [
                HeaderMap::new(),
                bearer(&unknown),
                bearer("garbage"),
                bearer(fixture.token("nothing")),
            ] {
                assert_eq!(auth.authorize(path, &headers, None).unwrap(), None);
            }
        }
    }
}

#[test]
fn reflection_rules() {
    let fixture = Fixture::new();
    let configured = Authenticator::new(Some(fixture.table.clone()), Scopes::all());
    let unconfigured = Authenticator::new(None, Scopes::none());
    let certificate = Principal::certificate("host.example", Scopes::none());
    for path in REFLECTION_PATHS {
        // Tokens configured: any valid token, even one without scopes.
        for (name, token) in &fixture.tokens {
            let principal = configured
                .authorize(path, &bearer(token), None)
                .unwrap()
                .unwrap();
            assert_eq!(&*principal.name, *name);
        }
        let status = configured
            .authorize(path, &HeaderMap::new(), None)
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(
            status.message(),
            "a token is required: send authorization: Bearer gps_…"
        );
        // A client certificate is authenticated too.
        let principal = configured
            .authorize(path, &HeaderMap::new(), Some(&certificate))
            .unwrap()
            .unwrap();
        assert_eq!(principal, certificate);
        // No tokens configured: anonymous, whatever its scopes.
        let principal = unconfigured
            .authorize(path, &HeaderMap::new(), None)
            .unwrap()
            .unwrap();
        assert!(principal.is_anonymous());
    }
}

#[test]
fn unknown_paths_are_denied() {
    let fixture = Fixture::new();
    let certificate = Principal::certificate("host", Scopes::all());
    for auth in [
        Authenticator::new(Some(fixture.table.clone()), Scopes::all()),
        Authenticator::new(None, Scopes::all()),
    ] {
        for path in UNKNOWN_PATHS {
            for headers in [HeaderMap::new(), bearer(fixture.token("everything"))] {
                for certificate in [None, Some(&certificate)] {
                    let status = auth.authorize(path, &headers, certificate).unwrap_err();
                    assert_eq!(status.code(), Code::PermissionDenied, "{path}");
                    assert!(status.message().contains("not in the scope map"));
                }
            }
        }
    }
}

#[test]
fn certificates_are_used_without_a_token() {
    let fixture = Fixture::new();
    let auth = Authenticator::new(Some(fixture.table.clone()), Scopes::none());
    let certificate = Principal::certificate("host.example", Scopes::parse("check").unwrap());
    let check = "/giropops.v1.PasswordService/CheckPassword";
    let list = "/giropops.v1.PasswordService/ListPasswords";
    let principal = auth
        .authorize(check, &HeaderMap::new(), Some(&certificate))
        .unwrap()
        .unwrap();
    assert_eq!(principal, certificate);
    let status = auth
        .authorize(list, &HeaderMap::new(), Some(&certificate))
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(
        status.message(),
        "this call needs the `history` scope; certificate `host.example` has check"
    );
    // A token wins over the certificate.
    let principal = auth
        .authorize(list, &bearer(fixture.token("hist")), Some(&certificate))
        .unwrap()
        .unwrap();
    assert_eq!(&*principal.name, "hist");
    // Only a certificate principal is honoured.
    let forged = Principal {
        kind: PrincipalKind::Token,
        ..Principal::certificate("forged", Scopes::all())
    };
    let status = auth
        .authorize(check, &HeaderMap::new(), Some(&forged))
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

#[test]
fn reload_swaps_the_table_for_every_clone() {
    let (old, old_digest) = new_token();
    let (new, new_digest) = new_token();
    let table = |digest: &str| {
        TokenTable::parse(&format_line("ci", Scopes::all(), digest).unwrap()).unwrap()
    };
    let auth = Authenticator::new(Some(table(&old_digest)), Scopes::none());
    let clone = auth.clone();
    let path = "/giropops.v1.PasswordService/GeneratePassword";
    assert_eq!(code(&clone.authorize(path, &bearer(&old), None)), Code::Ok);
    assert_eq!(
        code(&clone.authorize(path, &bearer(&new), None)),
        Code::Unauthenticated
    );
    auth.reload(table(&new_digest));
    assert_eq!(
        code(&clone.authorize(path, &bearer(&old), None)),
        Code::Unauthenticated
    );
    assert_eq!(code(&clone.authorize(path, &bearer(&new), None)), Code::Ok);
    assert_eq!(clone.token_count(), 1);
    // Emptied: tokens stay required for reflection.
    auth.reload(TokenTable::new());
    assert!(clone.tokens_configured());
    let status = clone
        .authorize(REFLECTION_PATHS[0], &HeaderMap::new(), None)
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

/// The metric label: configured names as themselves (after a reload
/// too), an unlisted certificate as `other`, no principal as `-`.
#[test]
fn principal_labels_are_bounded_by_the_configuration() {
    let (ci, ci_digest) = new_token();
    let (deploy, deploy_digest) = new_token();
    let line = |name: &str, digest: &str| format_line(name, Scopes::all(), digest).unwrap();
    let auth = Authenticator::new(
        Some(TokenTable::parse(&line("ci", &ci_digest)).unwrap()),
        Scopes::anonymous_default(),
    );
    auth.reload_client_scopes(
        ClientScopes::parse("spiffe://giropops.test/ci generate\nHost.Example check\n").unwrap(),
    );
    let label = |principal: Option<&Principal>| auth.principal_label(principal);
    let named = |name: &str| PrincipalLabel::Named(Arc::from(name));

    let token = auth.authenticate(&ci).unwrap();
    assert_eq!(label(Some(&token)), named("ci"));
    assert_eq!(label(Some(auth.anonymous())), named("anonymous"));
    assert_eq!(label(None), PrincipalLabel::NoPrincipal);
    assert_eq!(PrincipalLabel::NoPrincipal.as_str(), "-");

    // Listed SANs (DNS names lowercased, as certificates' are read).
    for sans in [
        vec![ClientSan::Uri("spiffe://giropops.test/ci".into())],
        vec![ClientSan::Dns("host.example".into())],
        vec![
            ClientSan::Dns("unlisted.example".into()),
            ClientSan::Uri("spiffe://giropops.test/ci".into()),
        ],
    ] {
        let principal = auth.certificate_principal(&sans);
        assert_eq!(
            label(Some(&principal)),
            named(&principal.name),
            "{principal}"
        );
    }
    // A SAN the file does not list, whatever the certificate says
    // (another principal's name included): the anonymous principal, never
    // a name of the certificate's choosing.
    for sans in [
        vec![ClientSan::Dns("anything.example".into())],
        vec![ClientSan::Uri("spiffe://giropops.test/ci/x".into())],
        vec![ClientSan::Dns("ci".into())],
        vec![ClientSan::Dns("spiffe://giropops.test/ci".into())],
    ] {
        let principal = auth.certificate_principal(&sans);
        assert_eq!(principal.kind, PrincipalKind::Anonymous, "{principal}");
        assert_eq!(principal.name.as_ref() as &str, Principal::ANONYMOUS);
        assert_eq!(label(Some(&principal)), named("anonymous"));
    }
    // Defensive: a certificate principal the file does not list.
    let stray = Principal::certificate("stray.example", Scopes::none());
    assert_eq!(label(Some(&stray)), PrincipalLabel::Other);
    assert_eq!(PrincipalLabel::Other.as_str(), "other");

    // Reloaded files are honoured: a new token, a newly listed SAN, a SAN
    // no longer listed.
    auth.reload(
        TokenTable::parse(&[line("ci", &ci_digest), line("deploy", &deploy_digest)].join("\n"))
            .unwrap(),
    );
    let token = auth.authenticate(&deploy).unwrap();
    assert_eq!(label(Some(&token)), named("deploy"));
    auth.reload_client_scopes(ClientScopes::parse("anything.example check\n").unwrap());
    let newly_listed = auth.certificate_principal(&[ClientSan::Dns("anything.example".into())]);
    assert_eq!(label(Some(&newly_listed)), named("anything.example"));
    let no_longer =
        auth.certificate_principal(&[ClientSan::Uri("spiffe://giropops.test/ci".into())]);
    assert_eq!(label(Some(&no_longer)), named("anonymous"));
}

#[test]
fn debug_shows_no_secret() {
    let (token, digest) = new_token();
    let table = TokenTable::parse(&format_line("ci", Scopes::all(), &digest).unwrap()).unwrap();
    let auth = Authenticator::new(Some(table), Scopes::none());
    let layer = AuthLayer::new(auth.clone());
    for debug in [format!("{auth:?}"), format!("{layer:?}")] {
        assert!(!debug.contains(&digest[..8]), "{debug}");
        assert!(!debug.contains(&token[4..12]), "{debug}");
    }
}

/// What the request's extensions hold before the layer: a principal put
/// there by something else, or the connection of a mutual TLS client with
/// these SANs.
enum Extension {
    Forged(Principal),
    Connection(Vec<ClientSan>),
}

/// The layer over an inner service that answers OK, with the principal it
/// saw in `x-principal` (`kind:name`).
async fn call(
    auth: &Authenticator,
    path: &str,
    headers: HeaderMap,
    extension: Option<Extension>,
) -> http::Response<tonic::body::Body> {
    let inner = service_fn(|request: http::Request<()>| async move {
        let mut response = http::Response::new(tonic::body::Body::empty());
        if let Some(principal) = request.extensions().get::<Principal>() {
            let seen = format!("{}:{}", principal.kind.noun(), principal.name);
            response
                .headers_mut()
                .insert("x-principal", HeaderValue::from_str(&seen).unwrap());
        }
        Ok::<_, Infallible>(response)
    });
    let service = AuthLayer::new(auth.clone()).layer(inner);
    let mut request = http::Request::builder().uri(path).body(()).unwrap();
    *request.headers_mut() = headers;
    match extension {
        None => {}
        Some(Extension::Forged(principal)) => {
            request.extensions_mut().insert(principal);
        }
        Some(Extension::Connection(sans)) => {
            request.extensions_mut().insert(ConnectionInfo {
                tcp: tonic::transport::server::TcpConnectInfo {
                    local_addr: None,
                    remote_addr: None,
                },
                budget: std::sync::Arc::new(tokio::sync::Semaphore::new(1)),
                client_sans: Some(sans.into()),
            });
        }
    }
    service.oneshot(request).await.unwrap()
}

fn seen(response: &http::Response<tonic::body::Body>) -> Option<&str> {
    response
        .headers()
        .get("x-principal")
        .map(|value| value.to_str().unwrap())
}

#[tokio::test]
async fn the_layer_puts_the_principal_in_the_extensions() {
    let fixture = Fixture::new();
    let auth = Authenticator::new(Some(fixture.table.clone()), Scopes::anonymous_default());
    let generate = "/giropops.v1.PasswordService/GeneratePassword";
    let list = "/giropops.v1.PasswordService/ListPasswords";

    let response = call(&auth, generate, bearer(fixture.token("gen")), None).await;
    assert_eq!(status_code(response.headers()), None);
    assert_eq!(seen(&response), Some("token:gen"));

    let response = call(&auth, generate, HeaderMap::new(), None).await;
    assert_eq!(seen(&response), Some("anonymous:anonymous"));

    // A mutual TLS connection: its certificate's SAN, with the scopes the
    // client scopes file grants (the first listed SAN, in certificate
    // order), or the anonymous ones.
    auth.reload_client_scopes(
        ClientScopes::parse("spiffe://giropops.test/ci history,generate\n").unwrap(),
    );
    let sans = vec![
        ClientSan::Dns("host.example".into()),
        ClientSan::Uri("spiffe://giropops.test/ci".into()),
    ];
    let response = call(
        &auth,
        list,
        HeaderMap::new(),
        Some(Extension::Connection(sans.clone())),
    )
    .await;
    assert_eq!(status_code(response.headers()), None);
    assert_eq!(
        seen(&response),
        Some("certificate:spiffe://giropops.test/ci")
    );
    let unlisted = vec![ClientSan::Dns("host.example".into())];
    let response = call(
        &auth,
        list,
        HeaderMap::new(),
        Some(Extension::Connection(unlisted.clone())),
    )
    .await;
    assert_eq!(
        status_code(response.headers()),
        Some(Code::Unauthenticated),
        "an unlisted SAN is anonymous: history needs a token or a listed SAN"
    );
    let response = call(
        &auth,
        generate,
        HeaderMap::new(),
        Some(Extension::Connection(unlisted)),
    )
    .await;
    assert_eq!(seen(&response), Some("anonymous:anonymous"));
    // A token wins over the certificate.
    let response = call(
        &auth,
        generate,
        bearer(fixture.token("gen")),
        Some(Extension::Connection(sans)),
    )
    .await;
    assert_eq!(seen(&response), Some("token:gen"));
    // A certificate without a DNS or URI SAN is anonymous.
    let response = call(
        &auth,
        generate,
        HeaderMap::new(),
        Some(Extension::Connection(Vec::new())),
    )
    .await;
    assert_eq!(seen(&response), Some("anonymous:anonymous"));

    // A principal already in the extensions is never trusted, whatever its
    // kind.
    for forged in [
        Principal::certificate("forged", Scopes::all()),
        Principal {
            kind: PrincipalKind::Token,
            ..Principal::certificate("forged", Scopes::all())
        },
    ] {
        let response = call(
            &auth,
            generate,
            HeaderMap::new(),
            Some(Extension::Forged(forged)),
        )
        .await;
        assert_eq!(seen(&response), Some("anonymous:anonymous"));
    }
    let forged = Principal::certificate("forged", Scopes::all());

    // Health: answered by the inner service whatever the token.
    let response = call(
        &auth,
        HEALTH_PATHS[0],
        bearer("garbage"),
        Some(Extension::Forged(forged)),
    )
    .await;
    assert_eq!(status_code(response.headers()), None);
    assert_eq!(seen(&response), None);
}

#[tokio::test]
async fn the_layer_refuses_with_trailers_only_responses() {
    let fixture = Fixture::new();
    let auth = Authenticator::new(Some(fixture.table.clone()), Scopes::anonymous_default());
    let list = "/giropops.v1.PasswordService/ListPasswords";
    let (unknown, _) = new_token();
    for (path, headers, expected) in [
        (list, HeaderMap::new(), Code::Unauthenticated),
        (list, bearer(&unknown), Code::Unauthenticated),
        (list, bearer("gps_nope"), Code::Unauthenticated),
        (list, bearer(fixture.token("gen")), Code::PermissionDenied),
        (REFLECTION_PATHS[1], HeaderMap::new(), Code::Unauthenticated),
        (
            UNKNOWN_PATHS[0],
            bearer(fixture.token("everything")),
            Code::PermissionDenied,
        ),
    ] {
        let response = call(&auth, path, headers, None).await;
        assert_eq!(status_code(response.headers()), Some(expected), "{path}");
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/grpc"
        );
        assert_eq!(seen(&response), None, "the inner service saw {path}");
    }
    let response = call(&auth, list, bearer(fixture.token("histall")), None).await;
    assert_eq!(status_code(response.headers()), None);
    assert_eq!(seen(&response), Some("token:histall"));
}

#[tokio::test]
async fn the_layer_follows_reloads() {
    let (token, digest) = new_token();
    let auth = Authenticator::new(Some(TokenTable::new()), Scopes::none());
    let path = "/giropops.v1.PasswordService/CheckPassword";
    let response = call(&auth, path, bearer(&token), None).await;
    assert_eq!(status_code(response.headers()), Some(Code::Unauthenticated));
    auth.reload(TokenTable::parse(&format_line("late", Scopes::all(), &digest).unwrap()).unwrap());
    let response = call(&auth, path, bearer(&token), None).await;
    assert_eq!(seen(&response), Some("token:late"));
}
