//! Prometheus metrics over a real socket: calls counted by method and
//! code (and principal, with `--metrics-principal-label`), secrets by kind,
//! Redis health — and never a secret nor a token in the text.

mod support;

use std::time::Duration;

use giropops_senhas::auth::{Scopes, TokenTable, format_line, new_token};
use giropops_senhas::config::{Limits, ServerConfig, TrustConfig};
use giropops_senhas::proto::v1::{
    CheckPasswordRequest, CheckTokenRequest, GeneratePassphraseRequest, GeneratePasswordRequest,
    GenerateTokenRequest, ListPasswordsRequest,
};
use giropops_senhas_client::{ClientOptions, connect_with};
use support::redis_server::free_port;
use support::{RedisServer, TestServer, redis_config, scrape, stateless_config, wait_until};
use tonic::Code;

/// A server with history in `redis` and metrics on a free port.
async fn server_with_metrics(redis: &RedisServer, limits: Limits) -> (TestServer, u16) {
    let port = free_port();
    let server = TestServer::start(ServerConfig {
        metrics_addr: Some(([127, 0, 0, 1], port).into()),
        limits,
        ..redis_config(&redis.url(), 10)
    })
    .await;
    let listening = wait_until(Duration::from_secs(5), || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    })
    .await;
    assert!(listening, "metrics port never opened");
    (server, port)
}

/// The value of `giropops_rpc_calls_total` for a PasswordService method and code.
async fn calls(port: u16, method: &str, code: &str) -> u64 {
    let wanted = format!(
        r#"giropops_rpc_calls_total{{service="giropops.v1.PasswordService",method="{method}",code="{code}",protocol="grpc"}} "#
    );
    scrape(port)
        .await
        .lines()
        .find_map(|line| line.strip_prefix(&wanted))
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test]
async fn served_as_openmetrics() {
    let redis = RedisServer::start();
    let (_server, port) = server_with_metrics(&redis, Limits::default()).await;
    let response = scrape(port).await.to_lowercase();
    assert!(
        response
            .contains("content-type: application/openmetrics-text; version=1.0.0; charset=utf-8"),
        "{response}"
    );
    assert!(
        response.trim_end().ends_with("# eof"),
        "OpenMetrics ends with # EOF"
    );
}

/// Calls cut before the handler answers — by the client, by a deadline —
/// and calls rejected before any handler runs are counted with the code
/// the client got.
#[tokio::test]
async fn cancelled_late_and_oversized_calls_are_counted_with_their_codes() {
    let redis = RedisServer::start();
    let limits = Limits {
        max_request_bytes: 1024,
        request_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let (server, port) = server_with_metrics(&redis, limits).await;
    let mut client = server.client().await;
    client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("redis answers");
    // Redis hangs: a GeneratePassword now waits for it.
    redis.pause();

    // The client gives up after 100 ms (no deadline sent): CANCELLED.
    let gave_up = tokio::time::timeout(
        Duration::from_millis(100),
        client.generate_password(GeneratePasswordRequest::default()),
    )
    .await;
    assert!(gave_up.is_err(), "the call was still waiting on redis");

    // The server's 300 ms request timeout passes: DEADLINE_EXCEEDED.
    let status = client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    // The client's own 150 ms deadline passes (tonic's client cuts the
    // call at the same instant as the server: the server counts it
    // DEADLINE_EXCEEDED either way).
    let mut request = tonic::Request::new(GeneratePasswordRequest::default());
    request.set_timeout(Duration::from_millis(150));
    client.generate_password(request).await.unwrap_err();
    redis.resume();

    // A request over the size limit never reaches the handler.
    let status = client
        .check_password(CheckPasswordRequest {
            password: "x".repeat(4096),
            user_inputs: Vec::new(),
        })
        .await
        .unwrap_err();
    let oversized = giropops_senhas_client::code_name(status.code());

    let counted = wait_until(Duration::from_secs(5), || async {
        calls(port, "GeneratePassword", "CANCELLED").await == 1
            && calls(port, "GeneratePassword", "DEADLINE_EXCEEDED").await == 2
            && calls(port, "CheckPassword", oversized).await == 1
    })
    .await;
    assert!(counted, "metrics:\n{}", scrape(port).await);
}

#[tokio::test]
async fn counts_calls_and_secrets_without_exposing_them() {
    let redis = RedisServer::start();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let server = TestServer::start(ServerConfig {
        metrics_addr: Some(listen.parse().unwrap()),
        ..redis_config(&redis.url(), 10)
    })
    .await;
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
    let api_key = client
        .generate_token(GenerateTokenRequest {
            prefix: "gps_".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    client
        .check_token(CheckTokenRequest {
            token: api_key.clone(),
            format: 0,
        })
        .await
        .unwrap();

    assert!(
        wait_until(Duration::from_secs(5), || async {
            scrape(port).await.contains("giropops_redis_up 1")
        })
        .await,
        "redis_up turns 1"
    );
    let text = scrape(port).await;
    for line in [
        r#"giropops_rpc_calls_total{service="giropops.v1.PasswordService",method="GeneratePassword",code="OK",protocol="grpc"} 1"#,
        r#"giropops_rpc_calls_total{service="giropops.v1.PasswordService",method="GeneratePassword",code="INVALID_ARGUMENT",protocol="grpc"} 1"#,
        r#"giropops_rpc_calls_total{service="giropops.v1.PasswordService",method="GeneratePassphrase",code="OK",protocol="grpc"} 1"#,
        r#"giropops_secrets_generated_total{kind="password"} 3"#,
        r#"giropops_secrets_generated_total{kind="passphrase"} 1"#,
        r#"giropops_secrets_generated_total{kind="token"} 1"#,
        r#"giropops_rpc_calls_total{service="giropops.v1.PasswordService",method="GenerateToken",code="OK",protocol="grpc"} 1"#,
        r#"giropops_rpc_calls_total{service="giropops.v1.PasswordService",method="CheckToken",code="OK",protocol="grpc"} 1"#,
        // The original's counter: passwords and passphrases, not API keys.
        "senha_gerada_total 4",
        r#"giropops_rpc_duration_seconds_count{service="giropops.v1.PasswordService",method="GeneratePassword"} 2"#,
        r#"giropops_rpc_in_flight{service="giropops.v1.PasswordService",method="GeneratePassword"} 0"#,
        "giropops_open_connections 1",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    for secret in batch.passwords.iter().chain([&phrase.passphrase, &api_key]) {
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

/// A stateless server with metrics on a free port, a tokens file holding
/// one token, `ci` (generate only), and the principal label on or off.
/// Returns the server, the metrics port, `ci`'s token and the tokens
/// file's directory (kept while the server runs).
async fn server_with_a_token(
    principal_label: bool,
) -> (TestServer, u16, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens");
    let (token, digest) = new_token();
    let line = format_line("ci", Scopes::parse("generate").unwrap(), &digest).unwrap();
    std::fs::write(&path, line + "\n").unwrap();
    let port = free_port();
    let server = TestServer::start(ServerConfig {
        metrics_addr: Some(([127, 0, 0, 1], port).into()),
        metrics_principal_label: principal_label,
        trust: TrustConfig {
            tokens: Some((path.clone(), TokenTable::load(&path).unwrap())),
            anonymous_scopes: Scopes::parse("generate").unwrap(),
            ..TrustConfig::default()
        },
        ..stateless_config()
    })
    .await;
    (server, port, token, dir)
}

/// One GeneratePassword as `token` (`None`: anonymous); its code.
async fn generate_as(server: &TestServer, token: Option<&str>) -> Code {
    let options = ClientOptions {
        token: token.map(str::to_owned),
        ..ClientOptions::default()
    };
    let mut client = connect_with(&server.uri(), &options).await.unwrap();
    match client
        .generate_password(GeneratePasswordRequest::default())
        .await
    {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// `--metrics-principal-label`: token names and `anonymous` as themselves,
/// refused calls as `-`, and never the token itself.
#[tokio::test]
async fn the_principal_label_names_configured_principals_only() {
    let (server, port, token, _dir) = server_with_a_token(true).await;
    assert_eq!(generate_as(&server, Some(&token)).await, Code::Ok);
    assert_eq!(generate_as(&server, Some(&token)).await, Code::Ok);
    assert_eq!(generate_as(&server, None).await, Code::Ok);
    // A token nobody issued: UNAUTHENTICATED, no principal.
    let (stranger, _) = new_token();
    assert_eq!(
        generate_as(&server, Some(&stranger)).await,
        Code::Unauthenticated
    );
    // ci without the history scope: PERMISSION_DENIED, no principal.
    let options = ClientOptions {
        token: Some(token.clone()),
        ..ClientOptions::default()
    };
    let mut ci = connect_with(&server.uri(), &options).await.unwrap();
    let status = ci
        .list_passwords(ListPasswordsRequest { page_size: 1 })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");

    let service = r#"service="giropops.v1.PasswordService""#;
    let generate = format!(r#"{service},method="GeneratePassword""#);
    let lines = [
        format!(
            r#"giropops_rpc_calls_total{{{generate},code="OK",protocol="grpc",principal="ci"}} 2"#
        ),
        format!(
            r#"giropops_rpc_calls_total{{{generate},code="OK",protocol="grpc",principal="anonymous"}} 1"#
        ),
        format!(
            r#"giropops_rpc_calls_total{{{generate},code="UNAUTHENTICATED",protocol="grpc",principal="-"}} 1"#
        ),
        format!(
            r#"giropops_rpc_calls_total{{{service},method="ListPasswords",code="PERMISSION_DENIED",protocol="grpc",principal="-"}} 1"#
        ),
        format!(r#"giropops_rpc_duration_seconds_count{{{generate},principal="ci"}} 2"#),
        format!(r#"giropops_rpc_duration_seconds_count{{{generate},principal="anonymous"}} 1"#),
        // Calls in flight are by method only.
        format!(r#"giropops_rpc_in_flight{{{generate}}} 0"#),
    ];
    let counted = wait_until(Duration::from_secs(5), || async {
        let text = scrape(port).await;
        lines.iter().all(|line| text.contains(line.as_str()))
    })
    .await;
    let text = scrape(port).await;
    assert!(counted, "missing one of {lines:#?} in:\n{text}");
    for secret in [&token, &stranger] {
        assert!(!text.contains(secret.as_str()), "a token in the metrics");
    }
    assert!(!text.contains("gps_"), "a token in the metrics:\n{text}");
    server.shutdown().await;
}

/// Without `--metrics-principal-label` there is no `principal` label at
/// all (not an empty one): the series are those of a server without tokens.
#[tokio::test]
async fn without_the_flag_there_is_no_principal_label() {
    let (server, port, token, _dir) = server_with_a_token(false).await;
    assert_eq!(generate_as(&server, Some(&token)).await, Code::Ok);
    assert_eq!(generate_as(&server, None).await, Code::Ok);
    let line = r#"giropops_rpc_calls_total{service="giropops.v1.PasswordService",method="GeneratePassword",code="OK",protocol="grpc"} 2"#;
    let counted = wait_until(Duration::from_secs(5), || async {
        scrape(port).await.contains(line)
    })
    .await;
    let text = scrape(port).await;
    assert!(counted, "missing {line} in:\n{text}");
    assert!(
        text.contains(r#"giropops_rpc_duration_seconds_count{service="giropops.v1.PasswordService",method="GeneratePassword"} 2"#),
        "{text}"
    );
    assert!(!text.contains("principal="), "{text}");
    assert!(!text.contains(token.as_str()), "a token in the metrics");
    server.shutdown().await;
}

/// The names a scrape exposes, from its `# TYPE` lines (so a family with no
/// series yet counts): counters as `_total`, histograms as `_bucket`,
/// `_sum` and `_count`.
fn exposed_names(scraped: &str) -> std::collections::BTreeSet<String> {
    scraped
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .flat_map(|line| {
            let (name, kind) = line.split_once(' ').unwrap_or((line, ""));
            let suffixes: &[&str] = match kind.trim() {
                "counter" => &["_total"],
                "histogram" => &["_bucket", "_sum", "_count"],
                _ => &[""],
            };
            suffixes
                .iter()
                .map(|suffix| format!("{name}{suffix}"))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every metric name the shipped alerts and dashboard use
/// (deploy/kubernetes/components/monitoring) is one a real server
/// exposes: a renamed metric fails here, not silently in production. The
/// only others allowed are Prometheus's `up` and cert-manager's expiry.
#[tokio::test]
async fn the_alerts_and_the_dashboard_use_only_metrics_that_exist() {
    const EXTERNAL: &[&str] = &["up", "certmanager_certificate_expiration_timestamp_seconds"];
    let redis = RedisServer::start();
    let (server, port) = server_with_metrics(&redis, Limits::default()).await;
    let reply = server
        .client()
        .await
        .generate_password(GeneratePasswordRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(reply.stored);
    let scraped = scrape(port).await;
    let exposed = exposed_names(&scraped);
    assert!(
        exposed.contains("process_resident_memory_bytes"),
        "{scraped}"
    );
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/kubernetes/components/monitoring");
    for file in ["prometheusrule.yaml", "dashboard.json"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let used: std::collections::BTreeSet<&str> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .filter(|word| {
                ["giropops_", "process_", "senha_", "certmanager_"]
                    .iter()
                    .any(|prefix| word.starts_with(prefix))
                    || *word == "up"
            })
            .collect();
        assert!(used.len() >= 6, "{file}: {used:?}");
        for name in used {
            assert!(
                EXTERNAL.contains(&name) || exposed.contains(name),
                "{file} uses {name}, which a real server does not expose: {exposed:?}"
            );
        }
    }
    // The history writes counter counts the stored call.
    assert!(
        scraped.contains("giropops_history_writes_total{outcome=\"stored\"} 1"),
        "{scraped}"
    );
}
