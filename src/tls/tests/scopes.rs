//! The client scopes file.

use super::*;

#[test]
fn scopes_file_parses_sans_and_scopes() {
    let scopes = ClientScopes::parse(
        "# SAN                            SCOPES\n\
         \n\
         Client.Example.COM               generate,check   # a comment\n\
         spiffe://example.org/ns/admin    generate, check, history, history:all\n\
         \t  batch.example.com history\n",
    )
    .unwrap();
    assert_eq!(scopes.len(), 3);
    assert_eq!(
        scopes.get(&ClientSan::Dns("client.example.com".into())),
        Some(&["generate".to_owned(), "check".to_owned()][..])
    );
    assert_eq!(
        scopes
            .get(&ClientSan::Uri("spiffe://example.org/ns/admin".into()))
            .unwrap(),
        ["generate", "check", "history", "history:all"]
    );
    // A DNS name never matches a URI line, nor the other way round.
    assert_eq!(
        scopes.get(&ClientSan::Dns("spiffe://example.org/ns/admin".into())),
        None
    );
    assert_eq!(
        scopes.get(&ClientSan::Uri("batch.example.com".into())),
        None
    );
    assert!(ClientScopes::parse("# nothing\n\n").unwrap().is_empty());
}

#[test]
fn reserved_names_are_no_san_in_any_case() {
    // `ANONYMOUS` would be lowercased into the anonymous callers' principal
    // and share their history; `principals` is the history's set.
    let errors = ClientScopes::parse(
        "Principals history\nanonymous generate\nANONYMOUS history\nok.example.com generate\n",
    )
    .unwrap_err();
    assert_eq!(errors.len(), 3, "{errors:?}");
    for (error, line) in errors.iter().zip([1, 2, 3]) {
        let text = error.to_string();
        assert!(text.contains(&format!("line {line}")), "{text}");
        assert!(text.contains("is reserved"), "{text}");
    }
    assert!(
        errors[1]
            .to_string()
            .contains("without a token or certificate")
    );
}

#[test]
fn scopes_file_reports_every_bad_line() {
    let errors = ClientScopes::parse(
        "good.example.com generate\n\
         no-scopes.example.com\n\
         # fine\n\
         bad.example.com generate,delete\n\
         GOOD.example.com check\n\
         ://x generate\n\
         twice.example.com check,check\n\
         under_score.example.com history:all\n",
    )
    .unwrap_err();
    let lines: Vec<usize> = errors.iter().map(|error| error.line).collect();
    assert_eq!(lines, [2, 4, 5, 6, 7], "{errors:?}");
    assert!(errors[0].problem.contains("no scopes"), "{errors:?}");
    assert!(errors[1].problem.contains("\"delete\""), "{errors:?}");
    assert!(errors[2].problem.contains("line 1"), "{errors:?}");
    assert!(errors[4].problem.contains("twice"), "{errors:?}");

    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "scopes",
        "a.example.com generate\nb.example.com nope\n",
    );
    let error = ClientScopes::load(&path).unwrap_err();
    assert_eq!(error.path(), path);
    let message = error.to_string();
    assert!(
        message.contains("line 2: unknown scope \"nope\""),
        "{message}"
    );
    assert!(matches!(
        ClientScopes::load(&dir.path().join("missing")),
        Err(ClientScopesError::Read { .. })
    ));
}
