//! Limits that cover the whole call, through the real server: the size of
//! a reply, the calls in flight, the response byte budget — each refusal
//! made before any work, with the documented code, while health answers.

mod support;

use std::time::Duration;

use giropops_senhas::config::{Limits, ServerConfig};
use giropops_senhas::proto::v1::GeneratePasswordRequest;
use support::{RedisServer, TestServer, redis_config, stateless_config};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt;

fn batch(count: u32, length: u32) -> GeneratePasswordRequest {
    GeneratePasswordRequest {
        count,
        length,
        store: Some(false),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_reply_over_the_size_limit_is_invalid_argument_naming_count() {
    let server = TestServer::start(ServerConfig {
        limits: Limits {
            max_response_bytes: 64 * 1024,
            ..Limits::default()
        },
        ..stateless_config()
    })
    .await;
    let mut client = server.client().await;
    let status = client
        .generate_password(batch(100, 1024))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "count × length must be at most 65536 characters (the server's largest reply), got 100 × 1024 = 102400"
    );
    let fields = status.get_details_bad_request().unwrap().field_violations;
    assert_eq!(fields[0].field, "count");
    let reply = client.generate_password(batch(64, 1024)).await.unwrap();
    assert_eq!(reply.into_inner().passwords.len(), 64);
}

#[tokio::test]
async fn replies_that_do_not_fit_the_byte_budget_are_refused_before_any_work() {
    let server = TestServer::start(ServerConfig {
        limits: Limits {
            response_budget_bytes: 512 * 1024,
            ..Limits::default()
        },
        ..stateless_config()
    })
    .await;
    let mut client = server.client().await;
    // 1000 × 1024 characters: about 1 MiB, more than the whole budget.
    let status = client
        .generate_password(batch(1000, 1024))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("retry with backoff"),
        "{status:?}"
    );
    // What fits is served, and the budget is given back after each reply.
    for _ in 0..20 {
        let reply = client.generate_password(batch(400, 1024)).await.unwrap();
        assert_eq!(reply.into_inner().passwords.len(), 400);
    }
}

#[tokio::test]
async fn calls_over_the_in_flight_limit_are_shed_but_health_answers() {
    let redis = RedisServer::start();
    let server = TestServer::start(ServerConfig {
        limits: Limits {
            max_in_flight: 1,
            ..Limits::default()
        },
        ..redis_config(&redis.url(), 10)
    })
    .await;
    let mut client = server.client().await;
    client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("redis answers");
    // Redis hangs: one stored call waits for it (up to the 500 ms command
    // timeout) and holds the only place.
    redis.pause();
    let mut waiting = client.clone();
    let slow = tokio::spawn(async move {
        waiting
            .generate_password(GeneratePasswordRequest::default())
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let status = client
        .generate_password(batch(1, 16))
        .await
        .expect_err("no place left");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(status.message().contains("1 calls in flight"), "{status:?}");
    assert_eq!(
        server.health_status("").await,
        ServingStatus::Serving as i32,
        "health is never shed"
    );
    redis.resume();
    // Stored once redis woke, or UNAVAILABLE if that took over 500 ms.
    if let Err(status) = slow.await.unwrap() {
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    }
    client
        .generate_password(batch(1, 16))
        .await
        .expect("the place is free again");
}
