//! Redis trouble is visible, never silent: UNAVAILABLE for calls, health
//! NOT_SERVING, and recovery on its own once Redis is back.

mod support;

use std::time::{Duration, Instant};

use giropops_senhas::proto::v1::{GeneratePasswordRequest, ListPasswordsRequest};
use support::{RedisServer, TestServer, wait_until};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

const SERVICE: &str = "giropops.v1.PasswordService";

async fn is(server: &TestServer, service: &str, status: ServingStatus) -> bool {
    server.health_status(service).await == status as i32
}

/// Whether health reaches `status` within 5 s (the watcher runs every 100 ms).
async fn becomes(server: &TestServer, service: &str, status: ServingStatus) -> bool {
    wait_until(Duration::from_secs(5), || is(server, service, status)).await
}

#[tokio::test]
async fn redis_down_then_back() {
    let mut redis = RedisServer::start();
    let server = TestServer::with_redis(&redis.url()).await;
    let mut client = server.client().await;
    assert!(becomes(&server, SERVICE, ServingStatus::Serving).await);
    client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("works while redis is up");

    redis.stop();
    let status = client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect_err("redis is down");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains("history"), "{}", status.message());
    let status = client
        .list_passwords(ListPasswordsRequest::default())
        .await
        .expect_err("redis is down");
    assert_eq!(status.code(), Code::Unavailable);
    for service in ["", SERVICE] {
        assert!(
            becomes(&server, service, ServingStatus::NotServing).await,
            "health of {service:?} turns NOT_SERVING"
        );
    }

    redis.restart();
    for service in ["", SERVICE] {
        assert!(
            becomes(&server, service, ServingStatus::Serving).await,
            "health of {service:?} recovers without any request"
        );
    }
    let response = client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("recovers by itself")
        .into_inner();
    assert!(response.stored);
    assert_eq!(redis.list("giropops-senhas:history").len(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn redis_hanging_fails_fast_instead_of_hanging() {
    let redis = RedisServer::start();
    let server = TestServer::with_redis(&redis.url()).await;
    let mut client = server.client().await;
    client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("works while redis answers");

    redis.pause();
    let started = Instant::now();
    let status = client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect_err("redis does not answer");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        status.message().contains("did not answer within 500ms"),
        "{}",
        status.message()
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by the command timeout"
    );
    assert!(
        becomes(&server, "", ServingStatus::NotServing).await,
        "health turns NOT_SERVING while redis hangs"
    );

    redis.resume();
    assert!(becomes(&server, "", ServingStatus::Serving).await);
    client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("works again");
    server.shutdown().await;
}

#[tokio::test]
async fn redis_absent_at_start_is_reported_then_picked_up() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    redis.stop();
    let server = TestServer::with_redis(&url).await;
    assert!(
        is(&server, "", ServingStatus::NotServing).await,
        "not serving before redis is seen"
    );
    redis.restart();
    assert!(becomes(&server, "", ServingStatus::Serving).await);
    server
        .client()
        .await
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("serves once redis is up");
    server.shutdown().await;
}

#[tokio::test]
async fn history_off_needs_no_redis() {
    // No redis anywhere: the URL points at a closed port.
    let server = TestServer::stateless().await;
    assert!(is(&server, "", ServingStatus::Serving).await);
    assert!(is(&server, SERVICE, ServingStatus::Serving).await);
    let mut client = server.client().await;
    let response = client
        .generate_password(GeneratePasswordRequest {
            length: 32,
            include_numbers: true,
            include_special_chars: false,
            ..Default::default()
        })
        .await
        .expect("stateless generation")
        .into_inner();
    assert_eq!(response.password.len(), 32);
    assert!(!response.stored);
    let status = client
        .list_passwords(ListPasswordsRequest::default())
        .await
        .expect_err("no history");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("history is off"));
    server.shutdown().await;
}
