//! The tower layer: the principal in the extensions, trailers-only refusals, reloads.

use super::*;

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
                tls: true,
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
            Code::Unimplemented,
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
