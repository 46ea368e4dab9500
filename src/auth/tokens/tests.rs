//! Tests of [`super`].

use super::super::Scope;
use super::token::base64url;
use super::*;

/// A valid token, its digest, and a file line.
fn minted(name: &str, scopes: &str) -> (String, String) {
    let (token, digest) = new_token();
    let line = format_line(name, Scopes::parse(scopes).unwrap(), &digest).unwrap();
    (token, line)
}

#[test]
fn base64url_encodes_known_values() {
    assert_eq!(base64url(b""), "");
    assert_eq!(base64url(b"f"), "Zg");
    assert_eq!(base64url(b"fo"), "Zm8");
    assert_eq!(base64url(b"foo"), "Zm9v");
    assert_eq!(base64url(b"foob"), "Zm9vYg");
    assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    assert_eq!(base64url(&[0; 32]), "A".repeat(43));
    assert_eq!(base64url(&[0xff; 32]), format!("{}8", "_".repeat(42)));
}

#[test]
fn new_tokens_are_well_formed_and_distinct() {
    let (a, a_digest) = new_token();
    let (b, b_digest) = new_token();
    assert_ne!(a, b);
    assert_ne!(a_digest, b_digest);
    for (token, digest) in [(&a, &a_digest), (&b, &b_digest)] {
        assert_eq!(token.len(), TOKEN_LEN);
        assert!(token.starts_with("gps_"));
        assert!(is_well_formed(token));
        assert_eq!(digest.len(), 64);
        assert_eq!(
            TokenDigest::of_token(token).unwrap().to_hex(),
            digest.as_str()
        );
    }
}

#[test]
fn the_digest_is_sha256_of_the_whole_token() {
    let token = format!("gps_{}", "A".repeat(43));
    // printf %s gps_AAA…A | sha256sum
    assert_eq!(
        TokenDigest::of_token(&token).unwrap().to_hex(),
        "0c1402c81080a649383a1c452f353b9f53cf280a4469014f4d3ea4ceef035da2"
    );
}

#[test]
fn the_format_is_checked_before_hashing() {
    let good = format!("gps_{}", "A".repeat(43));
    assert!(is_well_formed(&good));
    assert!(is_well_formed(&format!(
        "gps_{}",
        "a-_9".repeat(10) + "xyA"
    )));
    let bad = [
        String::new(),
        "gps_".to_owned(),
        format!("gps_{}", "A".repeat(42)),
        format!("gps_{}", "A".repeat(44)),
        format!("GPS_{}", "A".repeat(43)),
        format!("gpt_{}", "A".repeat(43)),
        "A".repeat(47),
        format!("gps_{}+", "A".repeat(42)),
        format!("gps_{}/", "A".repeat(42)),
        format!("gps_{}=", "A".repeat(42)),
        format!("gps_{} ", "A".repeat(42)),
        format!("gps_{}é", "A".repeat(41)),
        // Bits beyond the 256: only one encoding of the bytes is valid.
        format!("gps_{}B", "A".repeat(42)),
        format!("gps_{}_", "A".repeat(42)),
        format!(" gps_{}", "A".repeat(43)),
    ];
    for token in &bad {
        assert!(!is_well_formed(token), "{token:?}");
        assert_eq!(TokenDigest::of_token(token), Err(MalformedToken));
        assert_eq!(
            TokenTable::new().authenticate(token),
            Err(TokenError::Malformed)
        );
    }
}

#[test]
fn hex_round_trips_and_is_lowercase_only() {
    let (_, digest) = new_token();
    let parsed = TokenDigest::from_hex(&digest).unwrap();
    assert_eq!(parsed.to_hex(), digest);
    assert_eq!(TokenDigest::from_hex(&"0123456789ABCDEF".repeat(4)), None);
    assert_eq!(TokenDigest::from_hex(&"A".repeat(64)), None);
    assert_eq!(TokenDigest::from_hex(&"0".repeat(63)), None);
    assert_eq!(TokenDigest::from_hex(&"0".repeat(65)), None);
    assert_eq!(TokenDigest::from_hex(&"g".repeat(64)), None);
    assert!(TokenDigest::from_hex(&"0123456789abcdef".repeat(4)).is_some());
}

#[test]
fn looks_up_by_digest() {
    let (ci_token, ci_line) = minted("ci", "generate,check");
    let (audit_token, audit_line) = minted("auditor@example.org", "history:all");
    let table = TokenTable::parse(&format!("{ci_line}\n{audit_line}\n")).unwrap();
    assert_eq!(table.len(), 2);
    let ci = table.authenticate(&ci_token).unwrap();
    assert_eq!(&*ci.name, "ci");
    assert_eq!(ci.kind, PrincipalKind::Token);
    assert_eq!(ci.scopes, Scopes::anonymous_default());
    let digest = TokenDigest::of_token(&audit_token).unwrap();
    let auditor = table.lookup(&digest).unwrap();
    assert_eq!(&*auditor.name, "auditor@example.org");
    assert!(auditor.scopes.grants(Scope::HistoryAll));
    let (other, _) = new_token();
    assert_eq!(table.authenticate(&other), Err(TokenError::Unknown));
    assert!(
        table
            .lookup(&TokenDigest::of_token(&other).unwrap())
            .is_none()
    );
}

#[test]
fn parses_a_good_file() {
    let (a, a_line) = minted("a", "all");
    let (b, b_line) = minted("b.b-b_b@b", "none");
    let (c, c_line) = minted(&"c".repeat(64), "history");
    let text =
        format!("# tokens\n\n   \n{a_line}\n\t{b_line}   # reflection only\n{c_line}\r\n# end");
    let table = TokenTable::parse(&text).unwrap();
    assert_eq!(table.len(), 3);
    assert_eq!(table.authenticate(&a).unwrap().scopes, Scopes::all());
    assert_eq!(table.authenticate(&b).unwrap().scopes, Scopes::none());
    assert_eq!(
        &*table.authenticate(&c).unwrap().name,
        "c".repeat(64).as_str()
    );
    assert!(TokenTable::parse("").unwrap().is_empty());
    assert!(TokenTable::parse("# nothing\n\n").unwrap().is_empty());
}

#[test]
fn reports_every_bad_line_without_secrets() {
    let (_, good) = minted("good", "generate");
    let (leaked, leaked_digest) = new_token();
    let (_, digest) = new_token();
    let (_, digest2) = new_token();
    let text = [
        good.clone(),                                                // 1
        "# comment".to_owned(),                                      // 2
        format!("two-fields {digest}"),                              // 3
        format!("bad/name generate {digest2}"),                      // 4
        format!("x generate,admin {}", new_token().1),               // 5
        format!("y generate {}", digest.to_uppercase()),             // 6
        format!("z generate {}", &digest[..10]),                     // 7
        format!("leaky generate {leaked}"),                          // 8
        format!("good check {}", new_token().1),                     // 9
        format!("dup generate {}", good.split(' ').nth(2).unwrap()), // 10
        format!("anonymous generate {}", new_token().1),             // 11
        format!("{leaked} generate {}", new_token().1),              // 12
        format!("w {leaked} {}", new_token().1),                     // 13
        format!("{} generate {}", "n".repeat(65), new_token().1),    // 14
        format!("v generate {leaked_digest} extra"),                 // 15
        String::new(),                                               // 16
        format!("u ,generate {}", new_token().1),                    // 17
    ]
    .join("\n");
    let error = TokenTable::parse(&text).unwrap_err();
    let lines: Vec<usize> = error.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17]);
    let message = error.to_string();
    assert!(message.starts_with("14 problems"), "{message}");
    assert!(
        message.contains("line 5: scopes: unknown scope `admin`"),
        "{message}"
    );
    assert!(
        message.contains("line 9: the name `good` is already used on line 1"),
        "{message}"
    );
    assert!(
        message.contains("line 10: the same token digest as line 1"),
        "{message}"
    );
    assert!(
        message.contains("line 8: the third field is a token"),
        "{message}"
    );
    assert!(
        message.contains("line 12: the name is shaped like a token"),
        "{message}"
    );
    assert!(message.contains("reserved"), "{message}");
    assert!(!message.contains(&leaked), "{message}");
    assert!(!message.contains(&digest), "{message}");
    assert!(!message.contains(&digest.to_uppercase()), "{message}");
    assert!(!message.contains(&leaked_digest), "{message}");
    assert!(!message.contains("bad/name"), "{message}");
}

#[test]
fn loads_a_file_or_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens");
    let (token, line) = minted("file", "check");
    std::fs::write(&path, format!("{line}\n")).unwrap();
    let table = TokenTable::load(&path).unwrap();
    assert_eq!(&*table.authenticate(&token).unwrap().name, "file");
    std::fs::write(&path, "oops\n").unwrap();
    let error = TokenTable::load(&path).unwrap_err().to_string();
    assert!(
        error.contains("tokens file") && error.contains("line 1"),
        "{error}"
    );
    let missing = TokenTable::load(&dir.path().join("missing")).unwrap_err();
    assert!(matches!(missing, LoadError::Read { .. }));
}

#[test]
fn format_line_round_trips_and_validates() {
    let (token, digest) = new_token();
    let line = format_line("ops", Scopes::parse("check,generate").unwrap(), &digest).unwrap();
    assert_eq!(line, format!("ops generate,check {digest}"));
    let table = TokenTable::parse(&line).unwrap();
    assert_eq!(&*table.authenticate(&token).unwrap().name, "ops");
    assert!(matches!(
        format_line("bad name", Scopes::all(), &digest),
        Err(FormatLineError::Name(_))
    ));
    for reserved in [
        "anonymous",
        "Anonymous",
        "ANONYMOUS",
        "Principals",
        "PRINCIPALS",
    ] {
        assert!(
            matches!(
                format_line(reserved, Scopes::all(), &digest),
                Err(FormatLineError::Name(why)) if why.contains("is reserved")
            ),
            "{reserved}"
        );
        let errors = TokenTable::parse(&format!("{reserved} generate {digest}")).unwrap_err();
        assert!(format!("{errors:?}").contains("is reserved"), "{errors:?}");
    }
    // The history keeps its set of principals beside the lists: a principal
    // of that name would collide with it.
    assert_eq!(
        format_line("principals", Scopes::all(), &digest),
        Err(FormatLineError::Name(
            "the name `principals` is reserved (the history's set of principals)"
        ))
    );
    assert_eq!(
        format_line("ok", Scopes::all(), &token),
        Err(FormatLineError::Digest)
    );
    assert!(is_valid_name("a"));
    assert!(!is_valid_name(""));
    assert!(!is_valid_name(&token));
}

#[test]
fn debug_shows_no_digest() {
    let (_, digest) = new_token();
    let parsed = TokenDigest::from_hex(&digest).unwrap();
    assert!(!format!("{parsed:?}").contains(&digest[..8]));
    let table = TokenTable::parse(&format_line("t", Scopes::all(), &digest).unwrap()).unwrap();
    let debug = format!("{table:?}");
    assert!(!debug.contains(&digest[..8]), "{debug}");
    assert!(debug.contains("tokens: 1"), "{debug}");
}
