//! Every GeneratePassword option, passphrases, strength checks and
//! streaming, through the real server and a real Redis.

mod support;

use giropops_senhas::proto::v1::{
    CheckPasswordRequest, GeneratePassphraseRequest, GeneratePasswordRequest, ListPasswordsRequest,
    StreamPasswordsRequest,
};
use support::{RedisServer, TestServer, constraints, redis_config};
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_types::StatusExt;

const KEY: &str = support::ANONYMOUS_LIST;

#[tokio::test]
async fn each_password_option_is_honoured() {
    let redis = RedisServer::start();
    let server = TestServer::start(redis_config(&redis.url(), 50)).await;
    let mut client = server.client().await;
    let requests = [
        GeneratePasswordRequest {
            include_lowercase: Some(false),
            ..Default::default()
        },
        GeneratePasswordRequest {
            include_uppercase: Some(false),
            include_numbers: true,
            ..Default::default()
        },
        GeneratePasswordRequest {
            include_lowercase: Some(false),
            include_uppercase: Some(false),
            include_numbers: true,
            length: 6,
            ..Default::default()
        },
        GeneratePasswordRequest {
            length: 12,
            min_digits: 5,
            ..Default::default()
        },
        GeneratePasswordRequest {
            length: 12,
            min_specials: 4,
            min_uppercase: 3,
            min_lowercase: 3,
            ..Default::default()
        },
        GeneratePasswordRequest {
            length: 40,
            include_numbers: true,
            include_special_chars: true,
            exclude_ambiguous: true,
            ..Default::default()
        },
        GeneratePasswordRequest {
            length: 40,
            include_numbers: true,
            exclude_chars: "aeiouAEIOU13579".into(),
            ..Default::default()
        },
        GeneratePasswordRequest {
            length: 20,
            special_chars: "-_.".into(),
            ..Default::default()
        },
        GeneratePasswordRequest {
            length: 1024,
            include_numbers: true,
            include_special_chars: true,
            ..Default::default()
        },
    ];
    for request in &requests {
        for _ in 0..20 {
            let response = client
                .generate_password(request.clone())
                .await
                .expect("valid")
                .into_inner();
            constraints::check(request, &response.password)
                .unwrap_or_else(|e| panic!("{request:?} gave a password breaking a rule: {e}"));
            assert!(response.entropy_bits > 0.0);
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn batches_and_the_store_flag() {
    let redis = RedisServer::start();
    let server = TestServer::start(redis_config(&redis.url(), 20)).await;
    let mut client = server.client().await;

    let unstored = client
        .generate_password(GeneratePasswordRequest {
            count: 5,
            store: Some(false),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unstored.passwords.len(), 5);
    assert_eq!(unstored.password, unstored.passwords[0]);
    assert!(!unstored.stored);
    assert!(redis.keys().is_empty(), "store=false writes nothing");

    let batch = client
        .generate_password(GeneratePasswordRequest {
            count: 1000,
            include_numbers: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(batch.passwords.len(), 1000);
    assert!(batch.stored);
    let unique: std::collections::HashSet<_> = batch.passwords.iter().collect();
    assert_eq!(unique.len(), 1000);
    assert_eq!(redis.list(KEY).len(), 20, "the cap holds for batches");
    let listed = client
        .list_passwords(ListPasswordsRequest { page_size: 20 })
        .await
        .unwrap()
        .into_inner()
        .passwords;
    let newest: Vec<&String> = batch.passwords.iter().rev().take(20).collect();
    let listed: Vec<&String> = listed.iter().map(|r| &r.password).collect();
    assert_eq!(listed, newest, "the batch's last passwords, newest first");

    let status = client
        .generate_password(GeneratePasswordRequest {
            count: 1001,
            ..Default::default()
        })
        .await
        .expect_err("too many");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status
            .message()
            .contains("count must be between 0 and 1000"),
        "{}",
        status.message()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn invalid_combinations_are_rejected_and_write_nothing() {
    let redis = RedisServer::start();
    let server = TestServer::with_redis(&redis.url()).await;
    let mut client = server.client().await;
    let cases: Vec<(GeneratePasswordRequest, &[&str], &str)> = vec![
        (
            GeneratePasswordRequest {
                length: 3,
                ..Default::default()
            },
            &["length"],
            "between 4 and 1024",
        ),
        (
            GeneratePasswordRequest {
                length: 8,
                min_digits: 5,
                min_specials: 3,
                ..Default::default()
            },
            &["length"],
            "at least 10 characters",
        ),
        (
            GeneratePasswordRequest {
                include_lowercase: Some(false),
                include_uppercase: Some(false),
                ..Default::default()
            },
            &["include_lowercase"],
            "every character class is off",
        ),
        (
            GeneratePasswordRequest {
                include_uppercase: Some(false),
                min_uppercase: 1,
                ..Default::default()
            },
            &["min_uppercase"],
            "include_uppercase is false",
        ),
        (
            GeneratePasswordRequest {
                include_numbers: true,
                exclude_chars: "0123456789".into(),
                ..Default::default()
            },
            &["exclude_chars"],
            "no digits",
        ),
        (
            GeneratePasswordRequest {
                special_chars: "abc".into(),
                ..Default::default()
            },
            &["special_chars"],
            "ASCII punctuation",
        ),
        (
            GeneratePasswordRequest {
                exclude_chars: "ñ".into(),
                ..Default::default()
            },
            &["exclude_chars"],
            "printable ASCII",
        ),
        (
            GeneratePasswordRequest {
                exclude_chars: "!".repeat(257),
                ..Default::default()
            },
            &["exclude_chars"],
            "at most 256 bytes",
        ),
        (
            GeneratePasswordRequest {
                length: 2000,
                count: 5000,
                special_chars: "x".into(),
                ..Default::default()
            },
            &["count", "length", "special_chars"],
            "count must be between 0 and 1000",
        ),
    ];
    for (request, fields, message) in cases {
        let status = client
            .generate_password(request.clone())
            .await
            .expect_err("invalid");
        assert_eq!(status.code(), Code::InvalidArgument, "{request:?}");
        assert!(
            status.message().contains(message),
            "{request:?}: {}",
            status.message()
        );
        let details = status.get_details_bad_request().expect("BadRequest");
        let got: Vec<&str> = details
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(got, fields, "{request:?}");
    }
    assert!(
        redis.keys().is_empty(),
        "nothing written for invalid requests"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn passphrases() {
    let redis = RedisServer::start();
    let server = TestServer::with_redis(&redis.url()).await;
    let mut client = server.client().await;
    let words = giropops_senhas::generator::WORDLIST.clone();

    let default = client
        .generate_passphrase(GeneratePassphraseRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(default.stored);
    assert!((default.entropy_bits - 6.0 * 7776f64.log2()).abs() < 1e-9);
    assert!(
        default
            .passphrase
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c == b'-')
    );

    let custom = client
        .generate_passphrase(GeneratePassphraseRequest {
            word_count: 4,
            separator: Some(" ".into()),
            capitalize: true,
            include_number: true,
            store: Some(false),
            policy: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let parts: Vec<&str> = custom.passphrase.split(' ').collect();
    assert_eq!(parts.len(), 4);
    assert_eq!(
        parts
            .iter()
            .filter(|w| w.ends_with(|c: char| c.is_ascii_digit()))
            .count(),
        1
    );
    for part in parts {
        assert!(part.starts_with(|c: char| c.is_ascii_uppercase()));
        let word = part
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_lowercase();
        assert!(words.contains(&word.as_str()));
    }
    assert!(!custom.stored);

    let joined = client
        .generate_passphrase(GeneratePassphraseRequest {
            separator: Some(String::new()),
            word_count: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        joined
            .passphrase
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c == b'-')
    );

    let stored = redis.list(KEY);
    assert_eq!(
        stored.len(),
        2,
        "default and joined were stored, custom was not"
    );

    for (request, field) in [
        (
            GeneratePassphraseRequest {
                word_count: 2,
                ..Default::default()
            },
            "word_count",
        ),
        (
            GeneratePassphraseRequest {
                word_count: 21,
                ..Default::default()
            },
            "word_count",
        ),
        (
            GeneratePassphraseRequest {
                separator: Some("123456789".into()),
                ..Default::default()
            },
            "separator",
        ),
        (
            GeneratePassphraseRequest {
                separator: Some("\n".into()),
                ..Default::default()
            },
            "separator",
        ),
    ] {
        let status = client
            .generate_passphrase(request)
            .await
            .expect_err("invalid");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.get_details_bad_request().unwrap().field_violations[0].field,
            field
        );
    }
    assert_eq!(redis.list(KEY).len(), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn check_password_scores_and_stores_nothing() {
    let redis = RedisServer::start();
    let server = TestServer::with_redis(&redis.url()).await;
    let mut client = server.client().await;
    let weak = client
        .check_password(CheckPasswordRequest {
            password: "password123".into(),
            user_inputs: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(weak.score <= 1, "{weak:?}");
    assert!(!weak.warning.is_empty() || !weak.suggestions.is_empty());
    let strong = client
        .check_password(CheckPasswordRequest {
            password: "x7#Kq!vR2m@Lp9$Wz".into(),
            user_inputs: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(strong.score, 4);
    assert_eq!(strong.crack_time_display, "centuries");
    let personal = client
        .check_password(CheckPasswordRequest {
            password: "jeferson1990".into(),
            user_inputs: vec!["jeferson".into()],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(personal.score <= 2, "{personal:?}");
    let status = client
        .check_password(CheckPasswordRequest {
            password: String::new(),
            user_inputs: vec![],
        })
        .await
        .expect_err("empty");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("between 1 and 256"));
    assert!(
        redis.keys().is_empty(),
        "checked passwords are never stored"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn streams_many_passwords_and_stops_when_the_client_leaves() {
    let redis = RedisServer::start();
    let server = TestServer::with_redis(&redis.url()).await;
    let mut client = server.client().await;
    let options = GeneratePasswordRequest {
        length: 24,
        min_digits: 2,
        include_special_chars: true,
        ..Default::default()
    };

    let mut stream = client
        .stream_passwords(StreamPasswordsRequest {
            options: Some(options.clone()),
            count: 5000,
        })
        .await
        .unwrap()
        .into_inner();
    let mut received = std::collections::HashSet::new();
    while let Some(message) = stream.next().await {
        let message = message.unwrap();
        constraints::check(&options, &message.password).unwrap();
        received.insert(message.password);
    }
    assert_eq!(received.len(), 5000);
    assert!(redis.keys().is_empty(), "streams are not stored");

    // A client that reads a few and leaves: the server stops and serves on.
    let mut stream = client
        .stream_passwords(StreamPasswordsRequest {
            options: None,
            count: 100_000,
        })
        .await
        .unwrap()
        .into_inner();
    for _ in 0..10 {
        stream.next().await.unwrap().unwrap();
    }
    drop(stream);
    client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("still serving");

    for (request, field) in [
        (
            StreamPasswordsRequest {
                options: None,
                count: 100_001,
            },
            "count",
        ),
        (
            StreamPasswordsRequest {
                options: Some(GeneratePasswordRequest {
                    count: 2,
                    ..Default::default()
                }),
                count: 10,
            },
            "options.count",
        ),
        (
            StreamPasswordsRequest {
                options: Some(GeneratePasswordRequest {
                    store: Some(true),
                    ..Default::default()
                }),
                count: 10,
            },
            "options.store",
        ),
        (
            StreamPasswordsRequest {
                options: Some(GeneratePasswordRequest {
                    length: 2,
                    ..Default::default()
                }),
                count: 10,
            },
            "length",
        ),
    ] {
        let status = client.stream_passwords(request).await.expect_err("invalid");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.get_details_bad_request().unwrap().field_violations[0].field,
            field
        );
    }
    server.shutdown().await;
}
