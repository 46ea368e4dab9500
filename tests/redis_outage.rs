//! Redis trouble is visible, never silent: UNAVAILABLE for the calls that
//! need it, health `giropops.v1.History` NOT_SERVING, and recovery on its
//! own once Redis is back — while the process's health (`""`, the
//! PasswordService: what readiness probes watch) and the calls that need
//! no Redis stay up.

mod support;

use std::time::{Duration, Instant};

use giropops_senhas::proto::v1::{GeneratePasswordRequest, ListPasswordsRequest};
use support::{RedisServer, TestServer, wait_until};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

const SERVICE: &str = "giropops.v1.PasswordService";
const HISTORY: &str = "giropops.v1.History";

/// The process's health names stay SERVING.
async fn process_serving(server: &TestServer) -> bool {
    is(server, "", ServingStatus::Serving).await
        && is(server, SERVICE, ServingStatus::Serving).await
}

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
    assert!(becomes(&server, HISTORY, ServingStatus::Serving).await);
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
    assert!(
        becomes(&server, HISTORY, ServingStatus::NotServing).await,
        "the history's health turns NOT_SERVING"
    );
    assert!(
        process_serving(&server).await,
        "readiness does not follow redis"
    );
    let stateless = client
        .generate_password(GeneratePasswordRequest {
            store: Some(false),
            ..Default::default()
        })
        .await
        .expect("calls that need no redis keep working");
    assert!(!stateless.into_inner().stored);

    redis.restart();
    assert!(
        becomes(&server, HISTORY, ServingStatus::Serving).await,
        "the history's health recovers without any request"
    );
    let response = client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("recovers by itself")
        .into_inner();
    assert!(response.stored);
    assert_eq!(redis.list(support::ANONYMOUS_LIST).len(), 1);
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
        becomes(&server, HISTORY, ServingStatus::NotServing).await,
        "the history's health turns NOT_SERVING while redis hangs"
    );
    assert!(
        process_serving(&server).await,
        "health checks answer at once: their PING has its own connection"
    );

    redis.resume();
    assert!(becomes(&server, HISTORY, ServingStatus::Serving).await);
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
        is(&server, HISTORY, ServingStatus::NotServing).await,
        "the history is not serving before redis is seen"
    );
    assert!(process_serving(&server).await);
    redis.restart();
    assert!(becomes(&server, HISTORY, ServingStatus::Serving).await);
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
    assert!(process_serving(&server).await);
    let unknown = server
        .health()
        .await
        .check(tonic_health::pb::HealthCheckRequest {
            service: HISTORY.to_owned(),
        })
        .await
        .expect_err("no history to report on");
    assert_eq!(unknown.code(), Code::NotFound);
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
    // By default anonymous callers may not keep a history: refused by scope.
    let status = client
        .list_passwords(ListPasswordsRequest::default())
        .await
        .expect_err("no history scope");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("`history`"),
        "{}",
        status.message()
    );
    server.shutdown().await;

    // With the scope but no history kept (cap 0): FAILED_PRECONDITION.
    let mut config = support::stateless_config();
    config.trust.anonymous_scopes = giropops_senhas::auth::Scopes::all();
    let server = TestServer::start(config).await;
    let status = server
        .client()
        .await
        .list_passwords(ListPasswordsRequest::default())
        .await
        .expect_err("no history");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("history is off"));
    server.shutdown().await;
}
