//! Every protocol of the one port, from clients nobody here wrote (curl):
//! Connect (JSON and binary, unary and server streaming) over HTTP/1.1, h2c
//! and TLS; gRPC-Web binary and text; the original app's API, its paths,
//! shapes and defaults, under the trust model; every call counted with its
//! protocol and in the original's `senha_gerada_total`.

mod support;

use base64::Engine as _;
use giropops_senhas::auth::{Scopes, TokenTable, format_line, new_token};
use giropops_senhas::config::{ServerConfig, TrustConfig};
use giropops_senhas::proto::v1::{GeneratePasswordRequest, GeneratePasswordResponse};
use prost::Message as _;
use support::http::{curl, envelope, envelopes};
use support::pki::Pki;
use support::{ANONYMOUS_LIST, RedisServer, TestServer, redis_config, scrape, stateless_config};

const GENERATE: &str = "giropops.v1.PasswordService/GeneratePassword";
const STREAM: &str = "giropops.v1.PasswordService/StreamPasswords";

fn url(server: &TestServer, path: &str) -> String {
    format!("http://{}/{path}", server.addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_json_and_binary_over_http1_and_h2c() {
    let redis = RedisServer::start();
    let server = TestServer::start(redis_config(&redis.url(), 10)).await;
    let generate = url(&server, GENERATE);
    for version in ["--http1.1", "--http2-prior-knowledge"] {
        let response = curl(
            &[version, "-H", "content-type: application/json", &generate],
            Some(br#"{"length": 20, "includeNumbers": true, "min_digits": 3}"#.to_vec()),
        )
        .await;
        assert_eq!(response.status, 200, "{response:?}");
        assert_eq!(response.header("content-type"), "application/json");
        assert_eq!(response.header("cache-control"), "no-store");
        assert_eq!(response.header("x-content-type-options"), "nosniff");
        let json = response.json();
        let password = json["password"].as_str().unwrap();
        assert_eq!(password.chars().count(), 20, "{json}");
        assert!(password.chars().filter(char::is_ascii_digit).count() >= 3);
        assert_eq!(json["stored"], true, "{json}");
        assert!(json["entropyBits"].as_f64().unwrap() > 50.0);
        assert!(
            json["createdAt"].as_str().unwrap().ends_with('Z'),
            "RFC 3339: {json}"
        );
    }
    assert!(redis.list(ANONYMOUS_LIST).len() == 2);

    // Binary: the body is the protobuf message itself.
    let request = GeneratePasswordRequest {
        length: 24,
        ..Default::default()
    };
    let response = curl(
        &["-H", "content-type: application/proto", &generate],
        Some(request.encode_to_vec()),
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.header("content-type"), "application/proto");
    let reply = GeneratePasswordResponse::decode(&response.body[..]).unwrap();
    assert_eq!(reply.password.chars().count(), 24);

    // Every violation at once, readable as JSON; nothing stored.
    let response = curl(
        &["-H", "content-type: application/json", &generate],
        Some(br#"{"length": 2, "count": 5000}"#.to_vec()),
    )
    .await;
    assert_eq!(response.status, 400, "{response:?}");
    let error = response.json();
    assert_eq!(error["code"], "invalid_argument", "{error}");
    assert_eq!(error["details"][0]["type"], "google.rpc.BadRequest");
    let fields: Vec<&str> = error["details"][0]["debug"]["fieldViolations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|violation| violation["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"length") && fields.contains(&"count"),
        "{error}"
    );
    assert!(redis.list(ANONYMOUS_LIST).len() == 3);

    // Unknown fields are refused (a typo is not silently a default), and
    // the value sent is not echoed.
    let response = curl(
        &["-H", "content-type: application/json", &generate],
        Some(br#"{"lenght": "hunter2-secret"}"#.to_vec()),
    )
    .await;
    assert_eq!(response.status, 400);
    let message = response.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("lenght") && !message.contains("hunter2"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_streams_deadlines_health_and_tls() {
    let pki = Pki::new();
    let config = ServerConfig {
        trust: TrustConfig {
            tls: Some(pki.server_files(false)),
            ..TrustConfig::default()
        },
        ..stateless_config()
    };
    let server = TestServer::start(config).await;
    let base = format!("https://localhost:{}", server.addr.port());
    let ca = pki.path("ca.pem");
    let ca = ca.to_str().unwrap();
    let tls = |version: &'static str| {
        [
            "--cacert",
            ca,
            version,
            "--resolve",
            "localhost:0:127.0.0.1",
        ]
    };
    let resolve = format!("localhost:{}:127.0.0.1", server.addr.port());

    for version in ["--http1.1", "--http2"] {
        let mut args = tls(version).to_vec();
        args[4] = &resolve;
        // A server stream: one envelope per password, then end-of-stream.
        let stream_url = format!("{base}/{STREAM}");
        let response = curl(
            &[
                &args[..],
                &["-H", "content-type: application/connect+json", &stream_url],
            ]
            .concat(),
            Some(envelope(0, br#"{"count": 3, "options": {"length": 10}}"#)),
        )
        .await;
        assert_eq!(response.status, 200, "{response:?}");
        let expected = if version == "--http2" {
            "HTTP/2"
        } else {
            "HTTP/1.1"
        };
        assert_eq!(response.version, expected, "ALPN offers both");
        assert_eq!(response.header("content-type"), "application/connect+json");
        let frames = envelopes(&response.body);
        assert_eq!(frames.len(), 4, "{frames:?}");
        for (flags, message) in &frames[..3] {
            assert_eq!(*flags, 0);
            let json: serde_json::Value = serde_json::from_slice(message).unwrap();
            assert_eq!(json["password"].as_str().unwrap().chars().count(), 10);
        }
        assert_eq!(frames[3], (2, b"{}".to_vec()), "end of stream, no error");

        // An error in a stream: HTTP 200, the error in the end-of-stream message.
        let response = curl(
            &[
                &args[..],
                &["-H", "content-type: application/connect+json", &stream_url],
            ]
            .concat(),
            Some(envelope(0, br#"{"count": 100001}"#)),
        )
        .await;
        assert_eq!(response.status, 200);
        let frames = envelopes(&response.body);
        let end: serde_json::Value = serde_json::from_slice(&frames.last().unwrap().1).unwrap();
        assert_eq!(frames.last().unwrap().0, 2);
        assert_eq!(end["error"]["code"], "invalid_argument", "{end}");

        // Health, for balancers that speak only HTTP.
        let health = format!("{base}/grpc.health.v1.Health/Check");
        let response = curl(
            &[
                &args[..],
                &["-H", "content-type: application/json", &health],
            ]
            .concat(),
            Some(b"{}".to_vec()),
        )
        .await;
        assert_eq!(response.json()["status"], "SERVING");
    }

    // Connect-Timeout-Ms becomes the deadline; a bad one is refused.
    let generate = format!("{base}/{GENERATE}");
    let args = tls("--http1.1");
    for (timeout, status) in [("5000", 200), ("soon", 400)] {
        let response = curl(
            &[
                &args[..],
                &["-H", "content-type: application/json", "-H"],
                &[&format!("connect-timeout-ms: {timeout}"), &generate],
            ]
            .concat(),
            Some(b"{}".to_vec()),
        )
        .await;
        assert_eq!(response.status, status, "{timeout}: {response:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_web_binary_and_text() {
    let server = TestServer::start(stateless_config()).await;
    let request = envelope(
        0,
        &GeneratePasswordRequest {
            length: 18,
            ..Default::default()
        }
        .encode_to_vec(),
    );
    for text in [false, true] {
        let content_type = if text {
            "application/grpc-web-text"
        } else {
            "application/grpc-web+proto"
        };
        let body = if text {
            base64::engine::general_purpose::STANDARD
                .encode(&request)
                .into_bytes()
        } else {
            request.clone()
        };
        let response = curl(
            &[
                "-H",
                &format!("content-type: {content_type}"),
                // As grpc-web clients do: the reply's encoding follows it.
                "-H",
                &format!("accept: {content_type}"),
                "-H",
                "x-grpc-web: 1",
                &url(&server, GENERATE),
            ],
            Some(body),
        )
        .await;
        assert_eq!(response.status, 200, "{response:?}");
        assert_eq!(response.header("x-content-type-options"), "nosniff");
        assert!(response.header("content-type").starts_with(content_type));
        let body = if text {
            // Each frame is its own padded base64 block.
            response
                .body
                .chunks(4)
                .flat_map(|quantum| {
                    base64::engine::general_purpose::STANDARD
                        .decode(quantum)
                        .unwrap()
                })
                .collect()
        } else {
            response.body.clone()
        };
        let frames = envelopes(&body);
        let reply = GeneratePasswordResponse::decode(&frames[0].1[..]).unwrap();
        assert_eq!(reply.password.chars().count(), 18);
        assert_eq!(frames[1].0, 0x80, "the trailers frame");
        assert!(String::from_utf8_lossy(&frames[1].1).contains("grpc-status:0"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_original_api_same_paths_shapes_and_defaults() {
    let redis = RedisServer::start();
    let mut config = redis_config(&redis.url(), 20);
    config.metrics_addr = Some(([127, 0, 0, 1], support::redis_server::free_port()).into());
    let metrics_port = config.metrics_addr.unwrap().port();
    let server = TestServer::start(config).await;
    let generate = url(&server, "api/gerar-senha");
    let json = ["-H", "content-type: application/json", generate.as_str()];
    let response = curl(
        &json,
        Some(
            br#"{"tamanho": 12, "incluir_numeros": true, "incluir_caracteres_especiais": true}"#
                .to_vec(),
        ),
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    let first = response.json()["senha"].as_str().unwrap().to_owned();
    assert_eq!(first.chars().count(), 12);
    assert!(
        first.chars().any(|c| c.is_ascii_digit()) && first.chars().any(|c| !c.is_alphanumeric())
    );
    // The original's defaults (8, letters only), and its value types.
    let defaults = curl(&json, Some(b"{}".to_vec())).await.json();
    let second = defaults["senha"].as_str().unwrap().to_owned();
    assert_eq!(second.chars().count(), 8);
    assert!(second.chars().all(|c| c.is_ascii_alphabetic()), "{second}");
    let typed = curl(
        &json,
        Some(br#"{"tamanho": "10", "incluir_numeros": "sim"}"#.to_vec()),
    )
    .await;
    let third = typed.json()["senha"].as_str().unwrap().to_owned();
    assert_eq!(third.chars().count(), 10);

    // Bad values: 400 naming the original's field, nothing stored.
    let before = redis.list(ANONYMOUS_LIST).len();
    for body in [&br#"{"tamanho": 2}"#[..], br#"{"tamanho": "doze"}"#, b"[]"] {
        let response = curl(&json, Some(body.to_vec())).await;
        assert_eq!(response.status, 400, "{response:?}");
        let field = &response.json()["fields"][0]["field"];
        assert!(field == "tamanho" || field == "body", "{}", response.json());
    }
    assert_eq!(redis.list(ANONYMOUS_LIST).len(), before);

    // The list: newest first, numbered from 1, the caller's own.
    let list = curl(&[url(&server, "api/senhas").as_str()], None).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.header("cache-control"), "no-store");
    let listed = list.json();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0], serde_json::json!({"id": 1, "senha": third}));
    assert_eq!(listed[2]["senha"], first.as_str());

    let metrics = scrape(metrics_port).await;
    assert!(metrics.contains("senha_gerada_total 3"), "{metrics}");
    assert!(
        metrics.contains("method=\"GeneratePassword\",code=\"OK\",protocol=\"http\"} 3"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_original_list_is_the_callers_own_and_says_how_to_authenticate() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens");
    let mut lines = String::new();
    let mut tokens = Vec::new();
    for (name, scopes) in [
        ("alice", "generate,history"),
        ("bob", "generate,history"),
        ("gen", "generate"),
    ] {
        let (token, digest) = new_token();
        lines.push_str(&format_line(name, Scopes::parse(scopes).unwrap(), &digest).unwrap());
        lines.push('\n');
        tokens.push(token);
    }
    std::fs::write(&path, lines).unwrap();
    let mut config = redis_config(&redis.url(), 20);
    config.trust.tokens = Some((path.clone(), TokenTable::load(&path).unwrap()));
    config.trust.anonymous_scopes = Scopes::anonymous_default();
    let server = TestServer::start(config).await;
    let bearer = |token: &str| format!("authorization: Bearer {token}");
    let generate = url(&server, "api/gerar-senha");
    let list = url(&server, "api/senhas");
    let alice = curl(
        &[
            "-H",
            &bearer(&tokens[0]),
            "-H",
            "content-type: application/json",
            &generate,
        ],
        Some(b"{}".to_vec()),
    )
    .await
    .json();
    curl(
        &[
            "-H",
            &bearer(&tokens[1]),
            "-H",
            "content-type: application/json",
            &generate,
        ],
        Some(b"{}".to_vec()),
    )
    .await;

    let own = curl(&["-H", &bearer(&tokens[0]), &list], None).await.json();
    assert_eq!(own, serde_json::json!([{"id": 1, "senha": alice["senha"]}]));
    let anonymous = curl(&[list.as_str()], None).await;
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    assert!(anonymous.header("www-authenticate").starts_with("Bearer"));
    let unscoped = curl(&["-H", &bearer(&tokens[2]), &list], None).await;
    assert_eq!(unscoped.status, 403, "{unscoped:?}");
    assert!(
        unscoped.json()["message"]
            .as_str()
            .unwrap()
            .contains("history")
    );
    let wrong = curl(
        &[
            "-H",
            "authorization: Bearer gps_nope",
            "-H",
            "content-type: application/json",
            &generate,
        ],
        Some(b"{}".to_vec()),
    )
    .await;
    assert_eq!(wrong.status, 401);
}
