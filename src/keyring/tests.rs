//! Tests of [`super`].

use super::*;

const AD: &[u8] = b"giropops:history";
// Test keys: 32 bytes of 0x01 and of 0x02.
const KEY_A: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const KEY_B: &str = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

fn ring(text: &str) -> KeyRing {
    KeyRing::parse(text).expect("valid keys file")
}

fn line_errors(text: &str) -> Vec<LineError> {
    match KeyRing::parse(text) {
        Err(KeyRingError::Invalid(errors)) => errors,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn round_trip() {
    let keys = ring(&format!("old {KEY_A}\n"));
    let plaintext = br#"{"password":"hunter2","entropy_bits":12.5}"#;
    let envelope = keys.encrypt(AD, plaintext);
    assert!(envelope.starts_with(b"g1:old:"), "{envelope:?}");
    assert!(envelope.is_ascii());
    assert!(is_envelope(&envelope));
    assert_eq!(keys.decrypt(AD, &envelope).unwrap(), plaintext);
    // The documented length: header + base64 of nonce, ciphertext, tag.
    let body = NONCE_LEN + plaintext.len() + TAG_LEN;
    assert_eq!(envelope.len(), "g1:old:".len() + body.div_ceil(3) * 4);
    // Empty plaintext too.
    let empty = keys.encrypt(AD, b"");
    assert_eq!(keys.decrypt(AD, &empty).unwrap(), b"");
}

#[test]
fn other_associated_data_fails() {
    let keys = ring(&format!("k {KEY_A}"));
    let envelope = keys.encrypt(b"list-a", b"secret");
    assert_eq!(
        keys.decrypt(b"list-b", &envelope),
        Err(DecryptError::AuthFailed)
    );
    assert_eq!(keys.decrypt(b"", &envelope), Err(DecryptError::AuthFailed));
}

#[test]
fn tampering_any_byte_fails() {
    let keys = ring(&format!("k {KEY_A}"));
    let envelope = keys.encrypt(AD, b"secret");
    let body = BASE64.decode(&envelope[b"g1:k:".len()..]).unwrap();
    for i in 0..body.len() {
        let mut tampered = body.clone();
        tampered[i] ^= 0x01;
        let mut forged = b"g1:k:".to_vec();
        forged.extend_from_slice(BASE64.encode(&tampered).as_bytes());
        assert_eq!(
            keys.decrypt(AD, &forged),
            Err(DecryptError::AuthFailed),
            "byte {i}"
        );
    }
    // Truncated, extended, or broken base64.
    let truncated = &envelope[..envelope.len() - 4];
    assert_eq!(keys.decrypt(AD, truncated), Err(DecryptError::AuthFailed));
    let short = b"g1:k:AAAA";
    assert_eq!(keys.decrypt(AD, short), Err(DecryptError::AuthFailed));
    let mut bad = envelope.clone();
    let last = bad.len() - 1;
    bad[last] = b'!';
    assert_eq!(keys.decrypt(AD, &bad), Err(DecryptError::AuthFailed));
    assert_eq!(keys.decrypt(AD, b"g1:k"), Err(DecryptError::AuthFailed));
    assert_eq!(
        keys.decrypt(AD, b"g1:bad id:AAAA"),
        Err(DecryptError::AuthFailed)
    );
}

#[test]
fn header_is_authenticated() {
    // Same key bytes under two IDs: editing the ID in the header still
    // fails, since the header is part of the associated data.
    let keys = ring(&format!("a {KEY_A}\nb {KEY_A}"));
    let envelope = keys.encrypt(AD, b"secret");
    let mut moved = b"g1:b:".to_vec();
    moved.extend_from_slice(&envelope[b"g1:a:".len()..]);
    assert_eq!(keys.decrypt(AD, &moved), Err(DecryptError::AuthFailed));
}

#[test]
fn wrong_key_bytes_under_the_same_id_fail() {
    let written = ring(&format!("k {KEY_A}")).encrypt(AD, b"secret");
    let other = ring(&format!("k {KEY_B}"));
    assert_eq!(other.decrypt(AD, &written), Err(DecryptError::AuthFailed));
}

#[test]
fn rotation_reads_old_entries_and_writes_with_the_new_key() {
    let before = ring(&format!("old {KEY_A}"));
    let old_entry = before.encrypt(AD, b"written before rotation");

    let after = ring(&format!("# rotated\nnew {KEY_B}\nold {KEY_A}\n"));
    assert_eq!(after.encrypting_key_id(), "new");
    assert_eq!(after.key_ids(), ["new", "old"]);
    assert_eq!(
        after.decrypt(AD, &old_entry).unwrap(),
        b"written before rotation"
    );
    let new_entry = after.encrypt(AD, b"written after rotation");
    assert!(new_entry.starts_with(b"g1:new:"));
    assert_eq!(
        after.decrypt(AD, &new_entry).unwrap(),
        b"written after rotation"
    );
    // The old ring cannot read what the new key wrote.
    assert_eq!(
        before.decrypt(AD, &new_entry),
        Err(DecryptError::UnknownKeyId("new".to_owned()))
    );
}

#[test]
fn removing_a_key_shreds_its_entries() {
    let both = ring(&format!("new {KEY_B}\nold {KEY_A}"));
    let old_only = ring(&format!("old {KEY_A}"));
    let old_entry = old_only.encrypt(AD, b"shred me");
    assert!(both.decrypt(AD, &old_entry).is_ok());
    let after_removal = ring(&format!("new {KEY_B}"));
    assert_eq!(
        after_removal.decrypt(AD, &old_entry),
        Err(DecryptError::UnknownKeyId("old".to_owned()))
    );
}

#[test]
fn plaintext_entries_are_not_ours() {
    let keys = ring(&format!("k {KEY_A}"));
    for entry in [
        &br#"{"password":"x","created_at_ms":1,"entropy_bits":3.0}"#[..],
        b"legacy-plain-password",
        b"",
        b"g1",
        b"G1:k:AAAA",
        b"\xff\xfe\x00garbage",
    ] {
        assert_eq!(keys.decrypt(AD, entry), Err(DecryptError::NotOurs));
        assert!(!is_envelope(entry));
    }
}

#[test]
fn nonces_differ_between_encryptions() {
    let keys = ring(&format!("k {KEY_A}"));
    let first = keys.encrypt(AD, b"same plaintext");
    let second = keys.encrypt(AD, b"same plaintext");
    assert_ne!(first, second);
    let nonce =
        |envelope: &[u8]| BASE64.decode(&envelope[b"g1:k:".len()..]).unwrap()[..NONCE_LEN].to_vec();
    assert_ne!(nonce(&first), nonce(&second));
    assert_eq!(keys.decrypt(AD, &first), keys.decrypt(AD, &second));
}

#[test]
fn parse_accepts_comments_blank_lines_tabs_and_crlf() {
    let keys = ring(&format!(
        "# keys\r\n\r\n   \n  first\t{KEY_A}  \r\n\t# old\nv2.old_key-1 {KEY_B}\n"
    ));
    assert_eq!(keys.key_ids(), ["first", "v2.old_key-1"]);
    let id = "a".repeat(MAX_ID_LEN);
    assert!(KeyRing::parse(&format!("{id} {KEY_A}")).is_ok());
}

#[test]
fn parse_reports_every_bad_line_without_the_key_text() {
    let long_id = "x".repeat(MAX_ID_LEN + 1);
    // A key that is valid base64 but 16 bytes long.
    let short_key = "ExMTExMTExMTExMTExMTEw==";
    // A 48-byte key, and one too long to decode at all.
    let long_key = BASE64.encode([7u8; 48]);
    let huge_key = BASE64.encode([9u8; 96]);
    let text = [
        format!("good {KEY_A}"),            // 1
        "# comment".to_owned(),             // 2
        format!("bad/id {KEY_B}"),          // 3
        "lonely".to_owned(),                // 4
        format!("{long_id} {KEY_B}"),       // 5
        format!("short {short_key}"),       // 6
        format!("notb64 {}", &KEY_B[..43]), // 7: padding removed
        format!("good {KEY_B}"),            // 8: duplicate
        format!("extra {KEY_B} trailing"),  // 9
        KEY_B.to_owned(),                   // 10: a key without an ID
        format!("long {long_key}"),         // 11
        String::new(),                      // 12
        format!("fine {KEY_B}"),            // 13
        format!("huge {huge_key}"),         // 14
    ]
    .join("\n");
    let errors = line_errors(&text);
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9, 10, 11, 14]);
    assert_eq!(
        errors.iter().map(|e| e.problem.clone()).collect::<Vec<_>>(),
        [
            LineProblem::BadId(KeyIdError::BadCharacter),
            LineProblem::MissingKey,
            LineProblem::BadId(KeyIdError::TooLong(MAX_ID_LEN + 1)),
            LineProblem::WrongLength(16),
            LineProblem::BadBase64,
            LineProblem::DuplicateId {
                id: "good".to_owned(),
                first_line: 1
            },
            LineProblem::TrailingText,
            LineProblem::BadId(KeyIdError::BadCharacter),
            LineProblem::WrongLength(48),
            LineProblem::TooLong,
        ]
    );
    let message = KeyRing::parse(&text).unwrap_err().to_string();
    for line in [3, 4, 5, 6, 7, 8, 9, 10, 11, 14] {
        assert!(message.contains(&format!("line {line}: ")), "{message}");
    }
    for secret in [KEY_A, KEY_B, &KEY_B[..43], short_key, &long_key, &huge_key] {
        assert!(!message.contains(secret), "{message}");
    }
    let debug = format!("{:?}", KeyRing::parse(&text));
    for secret in [KEY_A, KEY_B, &KEY_B[..43], short_key, &long_key, &huge_key] {
        assert!(!debug.contains(secret), "{debug}");
    }
}

#[test]
fn an_empty_file_is_an_error() {
    for text in ["", "\n\n", "# only a comment\n   \n"] {
        assert!(matches!(KeyRing::parse(text), Err(KeyRingError::Empty)));
    }
}

#[test]
fn load_reads_a_file_and_names_it_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys");
    std::fs::write(&path, format!("k {KEY_A}\n")).unwrap();
    let keys = KeyRing::load(&path).unwrap();
    assert_eq!(keys.encrypting_key_id(), "k");

    let missing = dir.path().join("missing");
    let error = KeyRing::load(&missing).unwrap_err();
    assert!(matches!(error, KeyRingError::Read { .. }));
    assert!(error.to_string().contains("missing"), "{error}");

    std::fs::write(&path, format!("k {KEY_A}\nk {KEY_B}\n")).unwrap();
    let error = KeyRing::load(&path).unwrap_err().to_string();
    assert!(error.contains("line 2: duplicate key id"), "{error}");
    assert!(!error.contains(KEY_B), "{error}");
}

#[test]
fn reload_reaches_every_clone_and_a_bad_file_keeps_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys");
    std::fs::write(&path, format!("old {KEY_A}\n")).unwrap();
    let keys = KeyRing::load(&path).unwrap();
    let clone = keys.clone();
    assert_eq!(keys.path().as_deref(), Some(path.as_path()));
    let old_entry = clone.encrypt(AD, b"before");
    assert!(!keys.reload().unwrap(), "same keys: no change");

    // Rotation: a new first key encrypts, the old one still decrypts.
    std::fs::write(&path, format!("new {KEY_B}\nold {KEY_A}\n")).unwrap();
    assert!(keys.reload().unwrap());
    assert_eq!(clone.key_ids(), ["new", "old"]);
    assert!(clone.encrypt(AD, b"after").starts_with(b"g1:new:"));
    assert_eq!(clone.decrypt(AD, &old_entry).unwrap(), b"before");

    // A bad file changes nothing, and its error quotes no key.
    std::fs::write(&path, format!("new {KEY_B}\nold {}\n", &KEY_A[..20])).unwrap();
    let error = keys.reload().unwrap_err().to_string();
    assert!(error.contains("line 2"), "{error}");
    assert!(!error.contains(&KEY_B[..20]), "{error}");
    assert_eq!(clone.key_ids(), ["new", "old"]);
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(keys.reload(), Err(KeyRingError::Read { .. })));
    assert_eq!(clone.decrypt(AD, &old_entry).unwrap(), b"before");

    // The old key removed: what it wrote is shredded.
    std::fs::write(&path, format!("new {KEY_B}\n")).unwrap();
    assert!(keys.reload().unwrap());
    assert_eq!(
        clone.decrypt(AD, &old_entry),
        Err(DecryptError::UnknownKeyId("old".into()))
    );
}

#[test]
fn debug_shows_ids_only() {
    let keys = ring(&format!("new {KEY_B}\nold {KEY_A}"));
    let printed = format!("{keys:?} {:?}", Some(keys.clone()));
    assert!(
        printed.contains("new") && printed.contains("old"),
        "{printed}"
    );
    for secret in [KEY_A, KEY_B, &KEY_A[..20], &KEY_B[..20]] {
        assert!(!printed.contains(secret), "{printed}");
    }
    // Nor the raw bytes, in any Debug rendering of them.
    assert!(!printed.contains("1, 1, 1, 1"), "{printed}");
    assert!(!printed.contains("2, 2, 2, 2"), "{printed}");
}

#[test]
fn ephemeral_keys_are_random_and_work() {
    let first = KeyRing::ephemeral();
    let second = KeyRing::ephemeral();
    let id = first.encrypting_key_id();
    assert_eq!(first.path(), None, "an ephemeral ring has no file");
    assert!(!first.reload().unwrap(), "nor ever changes");
    assert_eq!(first.encrypting_key_id(), id);
    assert!(id.starts_with("ephemeral-"), "{id}");
    let hex = &id["ephemeral-".len()..];
    assert!(
        hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    let envelope = first.encrypt(AD, b"gone after restart");
    assert_eq!(first.decrypt(AD, &envelope).unwrap(), b"gone after restart");
    // Another process's ephemeral key cannot read it.
    assert!(second.decrypt(AD, &envelope).is_err());
}

#[test]
fn new_key_lines_parse_and_differ() {
    let line = KeyRing::new_key_line("2025-06").unwrap();
    let (id, key) = line.split_once(' ').unwrap();
    assert_eq!(id, "2025-06");
    assert_eq!(key.len(), 44);
    let other = KeyRing::new_key_line("2025-06").unwrap();
    assert_ne!(line, other);
    let keys = ring(&format!("{line}\n"));
    let envelope = keys.encrypt(AD, b"x");
    assert_eq!(keys.decrypt(AD, &envelope).unwrap(), b"x");
    assert_eq!(KeyRing::new_key_line(""), Err(KeyIdError::Empty));
    assert_eq!(KeyRing::new_key_line("a b"), Err(KeyIdError::BadCharacter));
    assert_eq!(
        KeyRing::new_key_line(&"a".repeat(MAX_ID_LEN + 1)),
        Err(KeyIdError::TooLong(MAX_ID_LEN + 1))
    );
}

#[test]
fn keyring_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<KeyRing>();
    let keys = ring(&format!("k {KEY_A}"));
    let clone = keys.clone();
    assert!(Arc::ptr_eq(&keys.shared, &clone.shared));
}
