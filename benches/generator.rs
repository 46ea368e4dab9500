//! Generator throughput: `cargo bench --bench generator`.
//!
//! Targets (a 2-core machine): a 16-character password in well under 5 µs,
//! a 1024-character one under 100 µs, a six-word passphrase under 5 µs — so
//! generation is never what limits the service (Redis and gRPC are). The
//! zxcvbn check is the costly call; its 256-character worst case is measured
//! here because it bounds CheckPassword's CPU per request. API keys: a
//! 128-bit key (and its check) in well under 5 µs too. Building a policy
//! now counts its passwords exactly: the "with validation" cases measure
//! that, up to ~2 ms at 1024 characters with middle minimums (BENCHMARKS.md).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use giropops_senhas::generator::{
    PassphraseOptions, PassphrasePolicy, PasswordOptions, PasswordPolicy, TokenFormat,
    TokenOptions, TokenPolicy, WORST_CHECK_INPUT, check_password, check_token, generate_passphrase,
    generate_password, generate_token,
};
use rand::CryptoRng;
use rand::seq::{IndexedRandom, SliceRandom};

/// The generator before exact-uniform sampling (forced picks for each
/// class's minimum, the rest from the whole alphabet, a shuffle), kept here
/// so that both are measured in one run on one machine. No exclusions in
/// these cases, so a class's characters are its defaults.
fn forced_picks_and_shuffle<R: CryptoRng>(policy: &PasswordPolicy, rng: &mut R) -> String {
    let mut chars = Vec::with_capacity(policy.length());
    for (class, min) in policy.required_classes() {
        for _ in 0..min {
            chars.push(*class.chars().choose(rng).unwrap());
        }
    }
    while chars.len() < policy.length() {
        chars.push(*policy.alphabet().choose(rng).unwrap());
    }
    chars.shuffle(rng);
    String::from_utf8(chars).unwrap()
}

/// Every class on, each with at least `min` characters.
fn all_classes(length: u64, min: u64) -> PasswordOptions {
    PasswordOptions {
        include_numbers: true,
        include_special_chars: true,
        min_lowercase: min,
        min_uppercase: min,
        min_digits: min,
        min_specials: min,
        ..PasswordOptions::with_length(length)
    }
}

/// The policies measured: typical ones, and the costliest for the exact
/// count (1024 characters, four classes, large minimums).
fn cases() -> Vec<(String, PasswordOptions)> {
    let mut cases = Vec::new();
    for length in [16u64, 128, 1024] {
        cases.push((
            format!("length {length}, all classes"),
            PasswordOptions {
                include_numbers: true,
                include_special_chars: true,
                min_digits: 2,
                ..PasswordOptions::with_length(length)
            },
        ));
    }
    cases.push((
        "length 16, all classes, min 2 each".into(),
        all_classes(16, 2),
    ));
    cases.push((
        "length 128, all classes, min 8 each".into(),
        all_classes(128, 8),
    ));
    for min in [16u64, 64, 128, 250] {
        cases.push((
            format!("length 1024, all classes, min {min} each"),
            all_classes(1024, min),
        ));
    }
    cases.push((
        "length 1024, all classes, min_digits 600".into(),
        PasswordOptions {
            min_digits: 600,
            ..all_classes(1024, 1)
        },
    ));
    cases
}

fn passwords(c: &mut Criterion) {
    let mut group = c.benchmark_group("password");
    for (name, options) in cases() {
        let policy = PasswordPolicy::new(options.clone()).unwrap();
        group.throughput(Throughput::Bytes(options.length));
        group.bench_function(name.clone(), |b| {
            let mut rng = rand::rng();
            b.iter(|| generate_password(black_box(&policy), &mut rng))
        });
        group.bench_function(format!("{name}, forced picks and shuffle (before)"), |b| {
            let mut rng = rand::rng();
            b.iter(|| forced_picks_and_shuffle(black_box(&policy), &mut rng))
        });
        // What a request pays: validation (and any per-policy work) too.
        group.bench_function(format!("{name}, with validation"), |b| {
            let mut rng = rand::rng();
            b.iter(|| {
                let policy = PasswordPolicy::new(black_box(options.clone())).unwrap();
                generate_password(&policy, &mut rng)
            })
        });
    }
    group.finish();
    c.bench_function("policy/validation", |b| {
        b.iter(|| {
            PasswordPolicy::new(black_box(PasswordOptions {
                include_numbers: true,
                exclude_ambiguous: true,
                exclude_chars: "{}[]".into(),
                ..PasswordOptions::with_length(16)
            }))
        })
    });
}

fn passphrases(c: &mut Criterion) {
    let policy = PassphrasePolicy::new(PassphraseOptions {
        capitalize: true,
        include_number: true,
        ..PassphraseOptions::default()
    })
    .unwrap();
    c.bench_function("passphrase/six words", |b| {
        let mut rng = rand::rng();
        b.iter(|| generate_passphrase(black_box(&policy), &mut rng))
    });
}

fn strength(c: &mut Criterion) {
    c.bench_function("check/zxcvbn 24 chars", |b| {
        b.iter(|| check_password(black_box("correct-horse-42-Battery"), &[]))
    });
    // The longest password CheckPassword accepts (only its first 32
    // characters are scored).
    let longest: String = "Tr0ub4dor&3-correct-horse-".repeat(10)[..256].to_owned();
    c.bench_function("check/zxcvbn 256 chars", |b| {
        b.iter(|| check_password(black_box(&longest), &[]))
    });
    // The costliest input found: every l33t character, repeated.
    let mut group = c.benchmark_group("check");
    group.sample_size(10);
    group.bench_function("zxcvbn worst case (crafted l33t)", |b| {
        b.iter(|| check_password(black_box(WORST_CHECK_INPUT), &[]))
    });
    group.finish();
}

fn tokens(c: &mut Criterion) {
    let mut group = c.benchmark_group("token");
    for (format, bits) in [
        (TokenFormat::Base62, 128),
        (TokenFormat::Base62, 1024),
        (TokenFormat::Hex, 256),
        (TokenFormat::Base64Url, 256),
        (TokenFormat::Base32Crockford, 256),
        (TokenFormat::Uuid, 122),
    ] {
        let policy = TokenPolicy::new(TokenOptions {
            bits: Some(bits),
            prefix: if format == TokenFormat::Uuid {
                ""
            } else {
                "gps_"
            }
            .to_owned(),
            format,
        })
        .unwrap();
        group.bench_function(format!("{format} {bits} bits"), |b| {
            let mut rng = rand::rng();
            b.iter(|| generate_token(black_box(&policy), &mut rng))
        });
    }
    let policy = TokenPolicy::new(TokenOptions {
        prefix: "gps_".into(),
        ..TokenOptions::default()
    })
    .unwrap();
    let token = generate_token(&policy, &mut rand::rng()).token;
    group.bench_function("check, base62 128 bits, any format", |b| {
        b.iter(|| check_token(black_box(token.expose()), None))
    });
    group.finish();
}

criterion_group!(benches, passwords, passphrases, strength, tokens);
criterion_main!(benches);
