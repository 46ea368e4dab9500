//! The gRPC port's own accept path, over real sockets: no Nagle stall for
//! clients that wait for each reply, connections that never speak HTTP/2
//! are closed, and the connection count is visible.

mod support;

use std::time::{Duration, Instant};

use giropops_senhas::config::{Limits, ServerConfig};
use giropops_senhas::proto::v1::{GeneratePasswordRequest, StreamPasswordsRequest};
use support::{TestServer, stateless_config};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_stream::StreamExt;
use tonic_health::pb::HealthCheckRequest;

/// 50 calls one after the other on one connection: with Nagle's algorithm
/// on the server's socket each waits ~40 ms for the client's delayed ACK
/// (about 2 s in all); with TCP_NODELAY they take a few milliseconds.
#[tokio::test]
async fn sequential_calls_are_not_stalled_by_nagle() {
    let server = TestServer::stateless().await;
    let mut health = server.health().await;
    let mut passwords = server.client().await;
    // Warm up the connection.
    health.check(HealthCheckRequest::default()).await.unwrap();

    let started = Instant::now();
    for _ in 0..25 {
        health.check(HealthCheckRequest::default()).await.unwrap();
        let mut stream = passwords
            .stream_passwords(StreamPasswordsRequest {
                options: None,
                count: 1,
            })
            .await
            .unwrap()
            .into_inner();
        while stream.next().await.transpose().unwrap().is_some() {}
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(750),
        "50 sequential calls took {took:?} (Nagle would make it ~2 s)"
    );
}

/// A client that connects and never sends the HTTP/2 preface is closed
/// after the preface timeout.
#[tokio::test]
async fn silent_connections_are_closed_after_the_preface_timeout() {
    let server = TestServer::start(ServerConfig {
        limits: Limits {
            preface_timeout: Duration::from_millis(300),
            ..Limits::default()
        },
        ..stateless_config()
    })
    .await;
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    // The server sends its SETTINGS, then closes: read until EOF.
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the silent connection stayed open");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(250),
        "closed too early: {took:?}"
    );

    // A real client on another connection is served meanwhile.
    let mut client = server.client().await;
    client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .unwrap();
}

/// At the connection cap, a further client waits until one closes.
#[tokio::test]
async fn connections_are_capped() {
    let server = TestServer::start(ServerConfig {
        limits: Limits {
            max_connections: 1,
            ..Limits::default()
        },
        ..stateless_config()
    })
    .await;
    let first = server.client().await;
    let second = tokio::time::timeout(Duration::from_millis(300), async {
        let mut client = server.client().await;
        client
            .generate_password(GeneratePasswordRequest::default())
            .await
    })
    .await;
    assert!(
        second.is_err(),
        "a second connection was served at a cap of 1"
    );
    drop(first);
    let mut client = tokio::time::timeout(Duration::from_secs(5), server.client())
        .await
        .expect("served once the first connection closed");
    client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .unwrap();
}
