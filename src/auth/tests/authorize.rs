//! Decisions: every scope on every method, anonymous callers, bad tokens, open and unknown paths.

use super::*;

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
        let auth = Authenticator::new(Some(fixture.table.clone()), anonymous.clone());
        for method in password_methods() {
            let path = format!("{SERVICE}{method}");
            let result = auth.authorize(&path, &HeaderMap::new(), None);
            let Requirement::Scope(scope) = requirement(&path) else {
                unreachable!()
            };
            if anonymous.grants(scope) {
                let principal = result.unwrap().unwrap();
                assert_eq!(principal, Principal::anonymous(anonymous.clone()));
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
fn unknown_paths_are_unimplemented_for_everyone() {
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
                    assert_eq!(status.code(), Code::Unimplemented, "{path}");
                    assert!(status.message().contains("no such method"));
                }
            }
        }
    }
}
