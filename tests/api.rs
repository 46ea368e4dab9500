//! PasswordService through the real server and a real Redis: generation,
//! history, validation.

mod support;

use giropops_senhas::auth::Scopes;
use giropops_senhas::config::{Limits, ServerConfig, TrustConfig};
use giropops_senhas::proto::v1::{GeneratePasswordRequest, ListPasswordsRequest};
use support::{ANONYMOUS_LIST, RedisServer, TestServer, stateless_config};
use tonic::Code;
use tonic_types::StatusExt;

const KEY: &str = ANONYMOUS_LIST;

fn request(length: u32, numbers: bool, specials: bool) -> GeneratePasswordRequest {
    GeneratePasswordRequest {
        length,
        include_numbers: numbers,
        include_special_chars: specials,
        ..Default::default()
    }
}

#[tokio::test]
async fn generates_with_the_classes_asked_for_and_stores_it() {
    let redis = RedisServer::start();
    let server = TestServer::with_redis(&redis.url()).await;
    let mut client = server.client().await;

    let default = client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("generate")
        .into_inner();
    assert_eq!(default.password.len(), 16, "length 0 means 16");
    assert!(default.password.bytes().all(|c| c.is_ascii_alphabetic()));
    assert!(default.password.bytes().any(|c| c.is_ascii_lowercase()));
    assert!(default.password.bytes().any(|c| c.is_ascii_uppercase()));
    assert!(default.stored);
    assert!(default.created_at.is_some());
    // Exact: 16 letters of both cases, 52^16 - 2·26^16 strings.
    let exact = 16.0 * 52f64.log2() + (1.0 - 2.0 * 0.5f64.powi(16)).log2();
    assert!(
        (default.entropy_bits - exact).abs() < 1e-9,
        "{} vs {exact}",
        default.entropy_bits
    );

    let all = client
        .generate_password(request(8, true, true))
        .await
        .expect("generate")
        .into_inner();
    assert_eq!(all.password.len(), 8);
    assert!(all.password.bytes().any(|c| c.is_ascii_digit()));
    assert!(all.password.bytes().any(|c| c.is_ascii_punctuation()));

    let stored = redis.list(KEY);
    assert_eq!(stored.len(), 2);
    for (entry, password) in stored.iter().zip([&all.password, &default.password]) {
        assert!(entry.starts_with("g1:"), "encrypted: {entry}");
        assert!(!entry.contains(password.as_str()), "no plaintext in redis");
    }
    let listed = client
        .list_passwords(ListPasswordsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .passwords;
    let listed: Vec<&str> = listed.iter().map(|r| r.password.as_str()).collect();
    assert_eq!(listed, [&all.password, &default.password], "newest first");
    server.shutdown().await;
}

#[tokio::test]
async fn lists_newest_first_and_the_cap_holds() {
    let redis = RedisServer::start();
    let cap = 10;
    let server = TestServer::with_redis(&redis.url()).await;
    let mut client = server.client().await;
    let mut generated = Vec::new();
    for _ in 0..cap + 5 {
        let response = client
            .generate_password(request(12, true, false))
            .await
            .expect("generate")
            .into_inner();
        generated.push(response.password);
    }
    assert_eq!(
        redis.list(KEY).len(),
        cap,
        "LTRIM keeps the list at the cap"
    );

    let listed = client
        .list_passwords(ListPasswordsRequest { page_size: 100 })
        .await
        .expect("list")
        .into_inner()
        .passwords;
    let listed: Vec<String> = listed.into_iter().map(|r| r.password).collect();
    let newest_first: Vec<String> = generated.iter().rev().take(cap).cloned().collect();
    assert_eq!(listed, newest_first);

    let default_page = client
        .list_passwords(ListPasswordsRequest { page_size: 0 })
        .await
        .expect("list")
        .into_inner()
        .passwords;
    assert_eq!(default_page.len(), 10, "page_size 0 means 10");
    let three = client
        .list_passwords(ListPasswordsRequest { page_size: 3 })
        .await
        .expect("list")
        .into_inner()
        .passwords;
    assert_eq!(three.len(), 3);
    assert_eq!(three[0].password, generated[generated.len() - 1]);
    let times: Vec<_> = default_page
        .iter()
        .map(|r| r.created_at.expect("timestamp"))
        .map(|t| (t.seconds, t.nanos))
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "timestamps descend");
    server.shutdown().await;
}

#[tokio::test]
async fn bad_input_is_rejected_with_the_field_and_range_and_writes_nothing() {
    let redis = RedisServer::start();
    let server = TestServer::with_redis(&redis.url()).await;
    let mut client = server.client().await;

    for length in [3, 1025, 10_000_000, u32::MAX] {
        let status = client
            .generate_password(request(length, true, true))
            .await
            .expect_err("out of range");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.message(),
            format!("length must be between 4 and 1024, got {length}")
        );
        let details = status
            .get_details_bad_request()
            .expect("BadRequest details");
        assert_eq!(details.field_violations.len(), 1);
        assert_eq!(details.field_violations[0].field, "length");
    }
    let status = client
        .list_passwords(ListPasswordsRequest { page_size: 1001 })
        .await
        .expect_err("page too big");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status
            .message()
            .contains("page_size must be between 0 and 1000")
    );
    assert!(redis.keys().is_empty(), "nothing written to redis");

    // Boundaries are accepted.
    for length in [4, 1024] {
        let response = client
            .generate_password(request(length, true, true))
            .await
            .expect("in range")
            .into_inner();
        assert_eq!(response.password.len(), length as usize);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn oversized_requests_are_refused() {
    let server = TestServer::start(ServerConfig {
        limits: Limits {
            max_request_bytes: 1024,
            ..Limits::default()
        },
        trust: TrustConfig {
            anonymous_scopes: Scopes::all(),
            ..TrustConfig::default()
        },
        ..stateless_config()
    })
    .await;
    // A ListPasswordsRequest padded with an unknown field (2) of `padding` bytes.
    let send = |padding: usize| {
        let uri = server.uri();
        async move {
            let channel = tonic::transport::Channel::from_shared(uri)
                .unwrap()
                .connect()
                .await
                .unwrap();
            let mut grpc = tonic::client::Grpc::new(channel);
            grpc.ready().await.unwrap();
            let path = tonic::codegen::http::uri::PathAndQuery::from_static(
                "/giropops.v1.PasswordService/ListPasswords",
            );
            let padded = prost_types::Any {
                type_url: String::new(),
                value: vec![0; padding],
            };
            let codec = tonic_prost::ProstCodec::<
                prost_types::Any,
                giropops_senhas::proto::v1::ListPasswordsResponse,
            >::default();
            grpc.unary(tonic::Request::new(padded), path, codec).await
        }
    };
    let small = send(100).await.expect_err("history is off");
    assert_eq!(
        small.code(),
        Code::FailedPrecondition,
        "a small request is decoded"
    );
    let big = send(4096).await.expect_err("too large");
    // RESOURCE_EXHAUSTED, as the gRPC spec prescribes (tonic alone would
    // answer OUT_OF_RANGE), read from the length prefix.
    assert_eq!(big.code(), Code::ResourceExhausted, "{big:?}");
    assert!(
        big.message().contains("over the limit of 1024 bytes"),
        "{}",
        big.message()
    );
    server.shutdown().await;
}

/// There is no plaintext fallback: an entry that is not ours (the original
/// app's plain strings, anything written by hand) is skipped, never
/// returned as a password.
#[tokio::test]
async fn entries_that_are_not_ours_are_skipped_never_returned() {
    let redis = RedisServer::start();
    redis.run(&["LPUSH", KEY, "old-flask-password"]);
    redis.run(&["LPUSH", KEY, r#"{"password":"forged","created_at_ms":1}"#]);
    let server = TestServer::with_redis(&redis.url()).await;
    let mut client = server.client().await;
    let mine = client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("generate")
        .into_inner()
        .password;
    let listed = client
        .list_passwords(ListPasswordsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .passwords;
    let listed: Vec<&str> = listed.iter().map(|r| r.password.as_str()).collect();
    assert_eq!(listed, [mine.as_str()]);
    server.shutdown().await;
}
