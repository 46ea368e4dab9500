//! The costliest password policies (1024 characters with minimums: an exact
//! count of up to ~2 ms and ~1 MiB, see docs/BENCHMARKS.md) are built off
//! the reactor on the cores CPU-heavy work may use, and streams that hold
//! one are few at once: the ninth gets RESOURCE_EXHAUSTED naming the limit,
//! and a slot comes back when a stream ends.

mod support;

use std::time::Duration;

use giropops_senhas::grpc::{COSTLY_POLICY_LENGTH, MAX_COSTLY_STREAMS};
use giropops_senhas::proto::v1::{GeneratePasswordRequest, StreamPasswordsRequest};
use support::{TestServer, stateless_config, wait_until};
use tonic::Code;

/// The worst request the benchmarks found: 1024 characters, every class,
/// middle minimums.
fn worst() -> GeneratePasswordRequest {
    GeneratePasswordRequest {
        length: 1024,
        include_numbers: true,
        include_special_chars: true,
        min_lowercase: 16,
        min_uppercase: 16,
        min_digits: 16,
        min_specials: 16,
        store: Some(false),
        ..GeneratePasswordRequest::default()
    }
}

#[tokio::test]
async fn the_worst_policy_is_served_and_meets_its_rules() {
    let server = TestServer::start(stateless_config()).await;
    let mut client = server.client().await;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let mut client = client.clone();
        calls.spawn(async move { client.generate_password(worst()).await });
    }
    while let Some(reply) = calls.join_next().await {
        let reply = reply
            .unwrap()
            .expect("a costly policy is built, not refused")
            .into_inner();
        assert_eq!(reply.password.len(), 1024);
        for (class, count) in [
            (
                "lower",
                reply
                    .password
                    .bytes()
                    .filter(u8::is_ascii_lowercase)
                    .count(),
            ),
            (
                "upper",
                reply
                    .password
                    .bytes()
                    .filter(u8::is_ascii_uppercase)
                    .count(),
            ),
            (
                "digit",
                reply.password.bytes().filter(u8::is_ascii_digit).count(),
            ),
            (
                "special",
                reply
                    .password
                    .bytes()
                    .filter(u8::is_ascii_punctuation)
                    .count(),
            ),
        ] {
            assert!(count >= 16, "{class}: {count}");
        }
    }
    // Just under the line: built on the reactor, the same answer.
    let short = client
        .generate_password(GeneratePasswordRequest {
            length: u32::try_from(COSTLY_POLICY_LENGTH).unwrap(),
            ..worst()
        })
        .await
        .unwrap();
    assert_eq!(short.get_ref().password.len(), 256);
}

#[tokio::test]
async fn streams_of_long_passwords_are_few_at_once() {
    let server = TestServer::start(stateless_config()).await;
    let client = server.client().await;
    let long = StreamPasswordsRequest {
        options: Some(GeneratePasswordRequest {
            store: None,
            ..worst()
        }),
        count: 100_000,
    };
    // Open and never read: each stream holds its policy.
    let mut open = Vec::new();
    for _ in 0..MAX_COSTLY_STREAMS {
        let mut client = client.clone();
        open.push(client.stream_passwords(long.clone()).await.expect("a slot"));
    }
    let mut client = client.clone();
    let refused = client.stream_passwords(long.clone()).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused.message().contains(&format!(
            "{MAX_COSTLY_STREAMS} streams of passwords over 256 characters"
        )),
        "{}",
        refused.message()
    );
    // Short streams are not limited.
    let short = client
        .stream_passwords(StreamPasswordsRequest {
            options: None,
            count: 10,
        })
        .await
        .expect("a short stream");
    drop(short);
    // A stream that ends gives its slot back.
    open.pop();
    let again = wait_until(Duration::from_secs(5), || {
        let mut client = client.clone();
        let long = long.clone();
        async move { client.stream_passwords(long).await.is_ok() }
    })
    .await;
    assert!(again, "the slot of a closed stream came back");
}
