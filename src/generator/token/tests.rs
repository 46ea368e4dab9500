use rand::SeedableRng;
use rand::rngs::StdRng;

use super::check::reads_as_prefixed;
use super::*;

const RANDOM_FORMATS: [TokenFormat; 4] = [
    TokenFormat::Base62,
    TokenFormat::Hex,
    TokenFormat::Base64Url,
    TokenFormat::Base32Crockford,
];

fn policy(bits: u32, prefix: &str, format: TokenFormat) -> TokenPolicy {
    TokenPolicy::new(TokenOptions {
        bits: Some(bits),
        prefix: prefix.to_owned(),
        format,
    })
    .unwrap()
}

fn token(bits: u32, prefix: &str, format: TokenFormat, rng: &mut StdRng) -> String {
    generate_token(&policy(bits, prefix, format), rng)
        .token
        .into_exposed()
}

/// The random part of a token of `policy`.
fn body<'a>(token: &'a str, prefix: &str) -> &'a str {
    &token[prefix.len()..token.len() - CHECKSUM_CHARS]
}

#[test]
fn every_format_and_size_has_its_alphabet_length_and_checksum() {
    let mut rng = StdRng::seed_from_u64(1);
    for format in RANDOM_FORMATS {
        let alphabet = format.alphabet().unwrap();
        for bits in MIN_TOKEN_BITS..=MAX_TOKEN_BITS {
            let prefix = if bits % 2 == 0 { "gps_" } else { "" };
            let policy = policy(bits, prefix, format);
            let generated = generate_token(&policy, &mut rng);
            let token = generated.token.expose();
            let body = body(token, prefix);
            let per_char = format.bits_per_char();
            // Rounded up to whole characters, never less than asked.
            assert_eq!(body.len(), (f64::from(bits) / per_char).ceil() as usize);
            assert!(generated.entropy_bits >= f64::from(bits), "{format} {bits}");
            assert!(generated.entropy_bits < f64::from(bits) + per_char);
            // Net of the redrawn parts for unprefixed base64url only.
            let ideal = body.len() as f64 * per_char;
            if format == TokenFormat::Base64Url && prefix.is_empty() {
                let lost = ideal - generated.entropy_bits;
                assert!((0.0..0.03).contains(&lost), "{bits}: {lost}");
            } else {
                assert_eq!(generated.entropy_bits, ideal);
            }
            assert_eq!(token.len(), policy.token_len());
            assert!(token.starts_with(prefix));
            assert!(body.bytes().all(|b| alphabet.contains(&b)), "{token}");
            let (text, sum) = token.split_at(token.len() - CHECKSUM_CHARS);
            assert_eq!(checksum(text), sum.as_bytes());
            // Its own format named: exactly what was minted.
            let check = check_token(token, Some(format));
            assert_eq!(
                (check.valid, check.format, check.prefix.as_str()),
                (true, Some(format), prefix),
                "{format} {bits}"
            );
            assert_eq!(check.entropy_bits, generated.entropy_bits);
            assert!(check.checksummed && check.problem.is_none());
            // No format named: valid all the same.
            assert!(check_token(token, None).valid, "{format} {bits}");
        }
    }
}

#[test]
fn bits_round_up_to_whole_characters() {
    let mut rng = StdRng::seed_from_u64(2);
    for (format, bits, chars, entropy) in [
        (TokenFormat::Base32Crockford, 128, 26, 130.0),
        (TokenFormat::Hex, 128, 32, 128.0),
        (TokenFormat::Base64Url, 256, 43, 258.0),
        (TokenFormat::Base62, 128, 22, 22.0 * 62f64.log2()),
        (TokenFormat::Base62, 256, 43, 43.0 * 62f64.log2()),
        (TokenFormat::Hex, 1024, 256, 1024.0),
    ] {
        let policy = policy(bits, "k_", format);
        assert_eq!(policy.entropy_bits(), entropy, "{format} {bits}");
        let token = token(bits, "k_", format, &mut rng);
        assert_eq!(token.len(), 2 + chars + CHECKSUM_CHARS, "{format} {bits}");
    }
    // Unprefixed base64url: 2% of parts are drawn again (they would read
    // as prefixed): 22 characters hold 131.97 bits, so 132 bits take 23.
    let bare = policy(128, "", TokenFormat::Base64Url).entropy_bits();
    assert!((131.97..131.98).contains(&bare), "{bare}");
    assert_eq!(policy(132, "", TokenFormat::Base64Url).token_len(), 23 + 6);
    assert_eq!(
        policy(132, "k_", TokenFormat::Base64Url).token_len(),
        2 + 22 + 6
    );
    // The defaults: 128 bits of base62.
    let default = TokenPolicy::new(TokenOptions::default()).unwrap();
    assert_eq!(default.format(), TokenFormat::Base62);
    assert!((default.entropy_bits() - 130.99).abs() < 0.01);
}

#[test]
fn the_checksum_is_crc32_in_base62() {
    // The CRC-32 check value: crc32("123456789") = 0xCBF43926.
    assert_eq!(&checksum("123456789"), b"3jZRME");
    assert_eq!(&checksum(""), b"000000");
    // python3 -c 'import zlib; print(hex(zlib.crc32(b"gps_abc")))'
    assert_eq!(&checksum("gps_abc"), b"19hZHj");
}

#[test]
fn any_changed_character_fails_the_check() {
    let mut rng = StdRng::seed_from_u64(3);
    for format in RANDOM_FORMATS {
        let token = token(128, "gps_", format, &mut rng);
        let alphabet = format.alphabet().unwrap();
        for position in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            let original = bytes[position];
            // Another character of the alphabet (or of base62, in the
            // checksum), so only the checksum can tell.
            let pool = if position < token.len() - CHECKSUM_CHARS {
                alphabet
            } else {
                &format::BASE62[..]
            };
            bytes[position] = *pool.iter().find(|&&c| c != original).unwrap();
            let changed = String::from_utf8(bytes).unwrap();
            let check = check_token(&changed, None);
            assert!(!check.valid, "{format}: {changed}");
            assert_eq!(check.problem, Some(TokenProblem::ChecksumMismatch));
            assert_eq!((check.format, check.prefix.as_str()), (None, ""));
        }
        // A character dropped, or one added.
        assert!(!check_token(&token[1..], None).valid);
        assert!(!check_token(&format!("{token}0"), None).valid);
    }
}

#[test]
fn prefixes_are_validated_naming_the_field_and_the_form() {
    for good in ["gps_", "a_", "x1_", "0_", "abcdefghijklmno_"] {
        assert!(
            TokenPolicy::new(TokenOptions {
                prefix: good.into(),
                ..TokenOptions::default()
            })
            .is_ok(),
            "{good}"
        );
    }
    for (bad, says) in [
        ("GPS_", "only a-z and 0-9 before its _, got 'G'"),
        ("gps", "a final _"),
        ("_", "a character before its _"),
        ("gps-_", "got '-'"),
        ("a_b_", "got '_'"),
        ("é_", "got 'é'"),
        ("abcdefghijklmnop_", "at most 16 characters, got 17"),
    ] {
        let violations = TokenPolicy::new(TokenOptions {
            prefix: bad.into(),
            ..TokenOptions::default()
        })
        .unwrap_err();
        assert_eq!(violations.len(), 1, "{bad}");
        assert_eq!(violations[0].field, "prefix");
        let description = &violations[0].description;
        assert!(
            description.starts_with(
                "prefix must be 1 to 15 characters a-z or 0-9, then one _ (like gps_), or empty"
            ),
            "{description}"
        );
        assert!(description.contains(says), "{bad}: {description}");
    }
}

#[test]
fn bits_are_bounded_and_every_violation_is_reported() {
    for bits in [0, 63, 1025, u32::MAX] {
        let violations = TokenPolicy::new(TokenOptions {
            bits: Some(bits),
            prefix: "Bad".into(),
            format: TokenFormat::Hex,
        })
        .unwrap_err();
        let fields: Vec<_> = violations.iter().map(|v| v.field).collect();
        assert_eq!(fields, ["bits", "prefix"]);
        assert_eq!(
            violations[0].description,
            format!("bits must be between 64 and 1024, got {bits}")
        );
    }
}

#[test]
fn uuids_are_version_4_with_122_bits_and_nothing_else() {
    let uuid = |bits, prefix: &str| {
        TokenPolicy::new(TokenOptions {
            bits,
            prefix: prefix.into(),
            format: TokenFormat::Uuid,
        })
    };
    for bits in [None, Some(UUID_BITS)] {
        assert_eq!(uuid(bits, "").unwrap().entropy_bits(), 122.0);
    }
    let violations = uuid(Some(128), "gps_").unwrap_err();
    let fields: Vec<_> = violations.iter().map(|v| v.field).collect();
    assert_eq!(fields, ["bits", "prefix"]);
    assert!(
        violations[0]
            .description
            .starts_with("bits must be 0 or 122 with format uuid")
    );
    assert!(violations[0].description.ends_with("got 128"));

    let policy = uuid(None, "").unwrap();
    let mut rng = StdRng::seed_from_u64(4);
    // The 30 random hex digits (all but version and variant) are uniform.
    let mut counts = [0u32; 16];
    for _ in 0..4000 {
        let generated = generate_token(&policy, &mut rng);
        let text = generated.token.expose();
        assert_eq!(text.len(), 36);
        assert_eq!(text.as_bytes()[14], b'4', "{text}");
        assert!(b"89ab".contains(&text.as_bytes()[19]), "{text}");
        assert_eq!(text, text.to_ascii_lowercase());
        let check = check_token(text, None);
        assert!(check.valid && !check.checksummed);
        assert_eq!(
            (check.format, check.entropy_bits),
            (Some(TokenFormat::Uuid), 122.0)
        );
        for (i, c) in text.char_indices() {
            if !matches!(i, 8 | 13 | 14 | 18 | 19 | 23) {
                counts[c.to_digit(16).unwrap() as usize] += 1;
            }
        }
    }
    assert!(chi_square(&counts) < bound(16), "{counts:?}");
    // Upper case is read too (RFC 9562); other versions are not ours.
    let upper = "0F8FAD5B-D9CB-469F-A165-70867728950E";
    assert!(check_token(upper, Some(TokenFormat::Uuid)).valid);
    let v1 = "c232ab00-9414-11ec-b3c8-9f6bdeced846";
    assert_eq!(check_token(v1, None).problem, Some(TokenProblem::NotUuidV4));
    let wrong_variant = "0f8fad5b-d9cb-469f-c165-70867728950e";
    assert!(!check_token(wrong_variant, None).valid);
    assert_eq!(
        check_token("not-a-uuid", Some(TokenFormat::Uuid)).problem,
        Some(TokenProblem::NotUuid)
    );
}

/// Pearson's chi-square of `counts` against the uniform distribution.
fn chi_square(counts: &[u32]) -> f64 {
    let total: u32 = counts.iter().sum();
    let expected = f64::from(total) / counts.len() as f64;
    counts
        .iter()
        .map(|&c| (f64::from(c) - expected).powi(2) / expected)
        .sum()
}

/// A bound a uniform sample passes but for one time in millions: the mean
/// (k - 1) plus seven standard deviations.
fn bound(k: usize) -> f64 {
    let df = (k - 1) as f64;
    df + 7.0 * (2.0 * df).sqrt()
}

/// The characters of `tokens`' random parts, counted by alphabet index:
/// every position, then the first and the last alone.
fn tally(format: TokenFormat, tokens: &[String]) -> [Vec<u32>; 3] {
    let alphabet = format.alphabet().unwrap();
    let index = |c: u8| alphabet.iter().position(|&a| a == c).unwrap();
    let mut counts = [(); 3].map(|()| vec![0u32; alphabet.len()]);
    for token in tokens {
        let body = body(token, "").as_bytes();
        for &c in body {
            counts[0][index(c)] += 1;
        }
        counts[1][index(body[0])] += 1;
        counts[2][index(body[body.len() - 1])] += 1;
    }
    counts
}

#[test]
fn characters_are_uniform_in_every_format_and_position() {
    let mut rng = StdRng::seed_from_u64(5);
    for format in RANDOM_FORMATS {
        let tokens: Vec<String> = (0..20_000)
            .map(|_| token(128, "", format, &mut rng))
            .collect();
        let k = format.alphabet().unwrap().len();
        for (counts, what) in tally(format, &tokens).iter().zip(["all", "first", "last"]) {
            let chi = chi_square(counts);
            assert!(
                chi < bound(k),
                "{format}, {what} positions: chi-square {chi}"
            );
        }
    }
}

#[test]
fn the_uniformity_test_catches_modulo_bias() {
    // `byte % 62` favours the first 8 characters (5/256 against 4/256):
    // the same test, on as many characters, must fail it.
    let mut rng = StdRng::seed_from_u64(6);
    let mut counts = vec![0u32; 62];
    for _ in 0..20_000 * 22 {
        let mut byte = [0u8];
        rand::Rng::fill_bytes(&mut rng, &mut byte);
        counts[usize::from(byte[0]) % 62] += 1;
    }
    assert!(chi_square(&counts) > bound(62), "{}", chi_square(&counts));
}

#[test]
fn a_check_reports_what_it_can_and_never_errs_on_a_bad_token() {
    let mut rng = StdRng::seed_from_u64(7);
    let hex = token(128, "gps_", TokenFormat::Hex, &mut rng);
    // Checked as another format: the checksum matches, the shape does not.
    let check = check_token(&hex, Some(TokenFormat::Base32Crockford));
    assert_eq!(check.problem, Some(TokenProblem::NoFormat));
    assert!(!check.valid);
    assert_eq!(
        check_token(&"a".repeat(MAX_TOKEN_BYTES + 1), None).problem,
        Some(TokenProblem::TooLong)
    );
    assert_eq!(
        check_token("gps_abc19hZHj", None).problem,
        Some(TokenProblem::TooShort)
    );
    assert_eq!(
        check_token(&"x".repeat(40), None).problem,
        Some(TokenProblem::ChecksumMismatch)
    );
    // Not ASCII: a mismatch, not a panic on a character boundary.
    assert!(!check_token(&format!("{}é", "a".repeat(30)), None).valid);
    // Reasons never quote the token.
    for problem in [TokenProblem::TooLong, TokenProblem::ChecksumMismatch] {
        assert!(!problem.to_string().contains("gps_"));
    }
    assert!(TokenProblem::TooLong.to_string().contains("278 bytes"));
}

#[test]
fn a_base64url_part_may_hold_underscores_with_or_without_a_prefix() {
    let sealed = |text: &str| format!("{text}{}", std::str::from_utf8(&checksum(text)).unwrap());
    // No prefix, a `_` that no prefix can end at (upper case before it):
    // read whole.
    let check = check_token(&sealed(&format!("AB_{}", "Z".repeat(19))), None);
    assert!(check.valid, "{check:?}");
    assert_eq!(
        (check.prefix.as_str(), check.format),
        ("", Some(TokenFormat::Base64Url))
    );
    assert!((131.97..131.98).contains(&check.entropy_bits));
    // a-z then `_`: read as prefixed. Never minted so without a prefix:
    // such parts are drawn again.
    let ambiguous = sealed(&format!("ab_{}", "Z".repeat(19)));
    let check = check_token(&ambiguous, Some(TokenFormat::Base64Url));
    assert!(check.valid);
    assert_eq!((check.prefix.as_str(), check.entropy_bits), ("ab_", 114.0));
    assert!(reads_as_prefixed(&format!("ab_{}", "Z".repeat(19))));
    let mut rng = StdRng::seed_from_u64(10);
    for _ in 0..2000 {
        let token = token(128, "", TokenFormat::Base64Url, &mut rng);
        let check = check_token(&token, Some(TokenFormat::Base64Url));
        assert_eq!(check.prefix, "", "{token}");
    }
    // Too short to split: read whole.
    let check = check_token(&sealed(&format!("ab_{}", "Z".repeat(9))), None);
    assert_eq!((check.valid, check.prefix.as_str()), (true, ""));
    // Minted with a prefix: its `_` is always the first one.
    let mut rng = StdRng::seed_from_u64(8);
    for _ in 0..200 {
        let token = token(128, "gps_", TokenFormat::Base64Url, &mut rng);
        let check = check_token(&token, Some(TokenFormat::Base64Url));
        assert_eq!(check.prefix, "gps_", "{token}");
        assert_eq!(check.entropy_bits, 132.0);
    }
}

#[test]
fn without_a_format_the_narrowest_alphabet_is_reported() {
    // A base62 part of hex digits only reads as hex (documented): named,
    // the format is what the caller says.
    let body = format!("gps_{}", "a1".repeat(11));
    let token = format!("{body}{}", std::str::from_utf8(&checksum(&body)).unwrap());
    assert_eq!(check_token(&token, None).format, Some(TokenFormat::Hex));
    let named = check_token(&token, Some(TokenFormat::Base62));
    assert_eq!(named.format, Some(TokenFormat::Base62));
    assert!((named.entropy_bits - 130.99).abs() < 0.01);
}

#[test]
fn the_check_input_is_bounded() {
    for (token, ok) in [
        (String::new(), false),
        ("a".repeat(MAX_CHECK_TOKEN_BYTES), true),
        ("a".repeat(MAX_CHECK_TOKEN_BYTES + 1), false),
    ] {
        let result = validate_token(&token);
        assert_eq!(result.is_ok(), ok, "{}", token.len());
        if let Err(violations) = result {
            assert_eq!(violations[0].field, "token");
            assert_eq!(
                violations[0].description,
                format!("token must be 1 to 512 bytes, got {}", token.len())
            );
        }
    }
}

#[test]
fn debug_never_shows_a_token() {
    let mut rng = StdRng::seed_from_u64(9);
    let generated = generate_token(&policy(128, "gps_", TokenFormat::Base62), &mut rng);
    let token = generated.token.expose().to_owned();
    let shown = format!("{generated:?}");
    assert!(!shown.contains(&token[4..20]), "{shown}");
    let check = check_token(&token, None);
    assert!(!format!("{check:?}").contains(&token[4..20]));
}

#[test]
fn formats_have_names() {
    for format in TokenFormat::ALL {
        assert_eq!(TokenFormat::from_name(format.name()), Some(format));
    }
    assert_eq!(TokenFormat::from_name("base58"), None);
}
