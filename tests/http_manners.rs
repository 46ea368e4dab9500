//! Plain HTTP on the gRPC port, as strangers and attackers meet it: clear
//! answers for unknown paths, wrong methods and content types; unknown gRPC
//! methods UNIMPLEMENTED; smuggling shapes refused; CORS only for the
//! configured origins; request bodies bounded; and connections that trickle
//! their headers cut without delaying anyone (on the gRPC port and on the
//! metrics port).

mod support;

use std::time::{Duration, Instant};

use giropops_senhas::config::{Limits, ServerConfig, WebConfig};
use support::http::{Response, curl, raw};
use support::{TestServer, scrape, stateless_config};
use tokio::io::AsyncWriteExt;
use tonic::Code;

const GENERATE: &str = "/giropops.v1.PasswordService/GeneratePassword";

fn url(server: &TestServer, path: &str) -> String {
    format!("http://{}{path}", server.addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_methods_and_types_get_clear_answers() {
    let server = TestServer::start(stateless_config()).await;
    let not_found = curl(&[&url(&server, "/nope")], None).await;
    assert_eq!(not_found.status, 404);
    assert_eq!(not_found.json()["code"], "not_found");
    assert_eq!(not_found.header("x-content-type-options"), "nosniff");
    let unknown_rpc = curl(
        &[
            "-H",
            "content-type: application/json",
            &url(&server, "/giropops.v1.PasswordService/Nope"),
        ],
        Some(b"{}".to_vec()),
    )
    .await;
    assert_eq!(unknown_rpc.status, 404);

    let get = curl(&[&url(&server, GENERATE)], None).await;
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), "POST");
    let list = curl(&["-X", "DELETE", &url(&server, "/api/senhas")], None).await;
    assert_eq!(list.status, 405);
    assert_eq!(list.header("allow"), "GET, HEAD");

    for (path, content_type) in [
        (GENERATE, "text/plain"),
        ("/api/gerar-senha", "application/x-www-form-urlencoded"),
    ] {
        let response = curl(
            &[
                "-H",
                &format!("content-type: {content_type}"),
                &url(&server, path),
            ],
            Some(b"tamanho=12".to_vec()),
        )
        .await;
        assert_eq!(response.status, 415, "{path}: {response:?}");
        assert!(
            response.json()["message"]
                .as_str()
                .unwrap()
                .contains("application/json")
        );
    }
    // A stream method asked for as unary says what it needs.
    let stream = curl(
        &[
            "-H",
            "content-type: application/json",
            &url(&server, "/giropops.v1.PasswordService/StreamPasswords"),
        ],
        Some(b"{}".to_vec()),
    )
    .await;
    assert_eq!(stream.status, 415);
    assert!(
        stream.json()["message"]
            .as_str()
            .unwrap()
            .contains("connect+json")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_grpc_methods_are_unimplemented_whoever_calls() {
    let server = TestServer::start(stateless_config()).await;
    let mut h2 = support::h2_client::H2Connection::connect(server.addr, None).await;
    let response = h2
        .unary(
            "/giropops.v1.PasswordService/DeleteEverything",
            support::h2_client::prefix(0),
        )
        .await
        .unwrap();
    let outcome = support::h2_client::finish(response).await.unwrap();
    assert_eq!(outcome.code, Code::Unimplemented);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_bounded_and_smuggling_shapes_refused() {
    let config = ServerConfig {
        limits: Limits {
            max_request_bytes: 4096,
            ..Limits::default()
        },
        ..stateless_config()
    };
    let server = TestServer::start(config).await;
    let mut big = b"{\"excludeChars\": \"".to_vec();
    big.extend(std::iter::repeat_n(b'a', 8192));
    big.extend_from_slice(b"\"}");
    let response = curl(
        &[
            "-H",
            "content-type: application/json",
            &url(&server, GENERATE),
        ],
        Some(big),
    )
    .await;
    assert_eq!(response.status, 429, "{response:?}");
    assert_eq!(response.json()["code"], "resource_exhausted");
    assert!(
        response.json()["message"]
            .as_str()
            .unwrap()
            .contains("4096")
    );

    let head = format!("POST {GENERATE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n");
    let honest = format!("{head}Content-Length: 2\r\n\r\n{{}}");
    // Smuggling shapes (RFC 9112 6.1, 11.2): two lengths, a length with
    // a transfer coding (either order, bare LF line ends too), a coding
    // that is not chunked: 400 and the connection closed, whether the
    // shape is the connection's first request or follows an honest one
    // on the same keep-alive connection (so nothing hides in a body).
    for (shape, first) in [
        ("Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", true),
        ("Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", true),
        ("Transfer-Encoding: gzip\r\n\r\n{}", true),
        (
            "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            true,
        ),
        (
            "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n0\r\n\r\n",
            false,
        ),
        (
            "Content-Length: 5\nTransfer-Encoding: chunked\n\n0\n\nGET / HTTP/1.1\n\n",
            false,
        ),
    ] {
        let request = if first {
            format!("{head}{shape}")
        } else {
            format!("{honest}{head}{shape}")
        };
        let started = Instant::now();
        let answer = raw(server.addr, request.as_bytes(), Duration::from_secs(3)).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{shape:?}: the connection stays open"
        );
        let text = String::from_utf8_lossy(&answer).into_owned();
        let statuses: Vec<&str> = text
            .match_indices("HTTP/1.1 ")
            .map(|(at, _)| &text[at + 9..at + 12])
            .collect();
        let expected = if first {
            vec!["400"]
        } else {
            vec!["200", "400"]
        };
        assert_eq!(statuses, expected, "{shape:?}: {text}");
    }
    // An honest chunked body still works (and keeps the connection).
    let chunked = raw(
        server.addr,
        format!("{head}Transfer-Encoding: chunked\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n").as_bytes(),
        Duration::from_millis(500),
    )
    .await;
    let chunked = Response::parse(&chunked);
    assert_eq!(chunked.status, 200, "{chunked:?}");
    assert!(chunked.json()["password"].as_str().is_some(), "{chunked:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_only_for_configured_origins() {
    let plain = TestServer::start(stateless_config()).await;
    let preflight = |server: &TestServer, origin: &str| {
        let url = url(server, GENERATE);
        let origin = format!("origin: {origin}");
        async move {
            curl(
                &[
                    "-X",
                    "OPTIONS",
                    "-H",
                    &origin,
                    "-H",
                    "access-control-request-method: POST",
                    "-H",
                    "access-control-request-headers: content-type,connect-protocol-version",
                    &url,
                ],
                None,
            )
            .await
        }
    };
    let response = preflight(&plain, "https://app.example.com").await;
    assert_eq!(
        response.header("access-control-allow-origin"),
        "",
        "{response:?}"
    );

    let config = ServerConfig {
        web: WebConfig {
            cors_allowed_origins: vec!["https://app.example.com".parse().unwrap()],
            ..WebConfig::default()
        },
        ..stateless_config()
    };
    let server = TestServer::start(config).await;
    let allowed = preflight(&server, "https://app.example.com").await;
    assert_eq!(allowed.status, 200, "{allowed:?}");
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        "https://app.example.com"
    );
    assert!(
        allowed
            .header("access-control-allow-headers")
            .contains("connect-protocol-version")
    );
    let other = preflight(&server, "https://evil.example.com").await;
    assert_eq!(other.header("access-control-allow-origin"), "");
    // A real call from the page: answered, with the origin allowed.
    let call = curl(
        &[
            "-H",
            "origin: https://app.example.com",
            "-H",
            "content-type: application/json",
            &url(&server, GENERATE),
        ],
        Some(b"{}".to_vec()),
    )
    .await;
    assert_eq!(call.status, 200);
    assert_eq!(
        call.header("access-control-allow-origin"),
        "https://app.example.com"
    );
}

/// Opens `count` connections that send part of a request head and then
/// nothing; returns them (held open until dropped).
async fn tricklers(port: u16, count: usize) -> Vec<tokio::net::TcpStream> {
    let mut held = Vec::new();
    for _ in 0..count {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        stream
            .write_all(b"POST /api/gerar-senha HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        held.push(stream);
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_headers_delay_no_one_and_are_cut() {
    let config = ServerConfig {
        limits: Limits {
            preface_timeout: Duration::from_secs(2),
            ..Limits::default()
        },
        metrics_addr: Some(([127, 0, 0, 1], support::redis_server::free_port()).into()),
        ..stateless_config()
    };
    let metrics_port = config.metrics_addr.unwrap().port();
    let server = TestServer::start(config).await;
    let held = tricklers(server.addr.port(), 200).await;
    let metrics_held = tricklers(metrics_port, 200).await;

    let started = Instant::now();
    let response = curl(
        &[
            "-H",
            "content-type: application/json",
            &url(&server, "/api/gerar-senha"),
        ],
        Some(b"{}".to_vec()),
    )
    .await;
    let call = started.elapsed();
    assert_eq!(response.status, 200);
    let started = Instant::now();
    let metrics = scrape(metrics_port).await;
    let scraped = started.elapsed();
    println!(
        "with 200 trickling connections on each port: a call in {call:?}, a scrape in {scraped:?}"
    );
    assert!(call < Duration::from_secs(1), "the call took {call:?}");
    assert!(
        scraped < Duration::from_secs(2),
        "the scrape took {scraped:?}"
    );
    assert!(metrics.contains("giropops_open_connections"), "{metrics}");

    // Cut at the preface timeout (and the metrics port's header timeout).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut cut = 0;
    for mut stream in held.into_iter().chain(metrics_held) {
        let mut buf = [0u8; 256];
        let read = tokio::time::timeout(Duration::from_millis(200), async {
            use tokio::io::AsyncReadExt;
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return true,
                    Ok(_) => {}
                }
            }
        })
        .await;
        cut += usize::from(read == Ok(true));
    }
    assert_eq!(
        cut, 400,
        "every trickling connection is closed by the server"
    );
}
