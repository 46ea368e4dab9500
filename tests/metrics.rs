//! Prometheus metrics over a real socket: calls counted by method and
//! code, secrets by kind, Redis health — and never a secret in the text.

mod support;

use std::time::Duration;

use giropops_senhas::proto::v1::{GeneratePassphraseRequest, GeneratePasswordRequest};
use support::redis_server::free_port;
use support::{RedisServer, TestServer, wait_until};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `GET /metrics` with a bare HTTP/1.1 request.
async fn scrape(port: u16) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("metrics port open");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

#[tokio::test]
async fn counts_calls_and_secrets_without_exposing_them() {
    let redis = RedisServer::start();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let server = TestServer::with_redis(&redis.url(), &["--metrics-listen", &listen]).await;
    let mut client = server.client().await;

    let batch = client
        .generate_password(GeneratePasswordRequest {
            count: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let phrase = client
        .generate_passphrase(GeneratePassphraseRequest::default())
        .await
        .unwrap()
        .into_inner();
    client
        .generate_password(GeneratePasswordRequest {
            length: 2,
            ..Default::default()
        })
        .await
        .expect_err("invalid");

    assert!(
        wait_until(Duration::from_secs(5), || async {
            scrape(port).await.contains("giropops_redis_up 1")
        })
        .await,
        "redis_up turns 1"
    );
    let text = scrape(port).await;
    for line in [
        "giropops_rpc_calls_total{method=\"GeneratePassword\",code=\"OK\"} 1",
        "giropops_rpc_calls_total{method=\"GeneratePassword\",code=\"INVALID_ARGUMENT\"} 1",
        "giropops_rpc_calls_total{method=\"GeneratePassphrase\",code=\"OK\"} 1",
        "giropops_secrets_generated_total{kind=\"password\"} 3",
        "giropops_secrets_generated_total{kind=\"passphrase\"} 1",
        "giropops_rpc_duration_seconds_count{method=\"GeneratePassword\"} 2",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    for secret in batch.passwords.iter().chain([&phrase.passphrase]) {
        assert!(!text.contains(secret.as_str()), "a secret in the metrics");
    }

    redis.pause();
    assert!(
        wait_until(Duration::from_secs(5), || async {
            scrape(port).await.contains("giropops_redis_up 0")
        })
        .await,
        "redis_up turns 0 while redis hangs"
    );
    redis.resume();
    server.shutdown().await;
}
