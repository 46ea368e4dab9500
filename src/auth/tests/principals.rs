//! Client certificates, reloads, metric labels and Debug output.

use super::*;

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
