//! API keys through the real server on a real socket: GenerateToken and
//! CheckToken over gRPC (tonic), Connect JSON and gRPC-Web (curl), their
//! errors with field details, their scopes, and nothing kept in the
//! history.

mod support;

use giropops_senhas::auth::Scopes;
use giropops_senhas::config::{ServerConfig, TrustConfig};
use giropops_senhas::proto::v1::{
    CheckTokenRequest, GenerateTokenRequest, GenerateTokenResponse, TokenFormat,
};
use prost::Message as _;
use support::http::{curl, envelope, envelopes};
use support::{ANONYMOUS_LIST, RedisServer, TestServer, redis_config, stateless_config};
use tonic::Code;
use tonic_types::StatusExt;

const SERVICE: &str = "giropops.v1.PasswordService";

#[tokio::test]
async fn every_format_over_grpc_checked_back_and_never_stored() {
    let redis = RedisServer::start();
    let server = TestServer::start(redis_config(&redis.url(), 10)).await;
    let mut client = server.client().await;
    for (format, bits, prefix, len, entropy) in [
        (TokenFormat::Unspecified, 0, "", 28, 22.0 * 62f64.log2()),
        (
            TokenFormat::Base62,
            256,
            "gps_",
            4 + 43 + 6,
            43.0 * 62f64.log2(),
        ),
        (TokenFormat::Hex, 128, "acme_", 5 + 32 + 6, 128.0),
        (TokenFormat::Base64url, 256, "k_", 2 + 43 + 6, 258.0),
        (TokenFormat::Base32Crockford, 128, "gps_", 4 + 26 + 6, 130.0),
        (TokenFormat::Uuid, 0, "", 36, 122.0),
    ] {
        let reply = client
            .generate_token(GenerateTokenRequest {
                bits,
                prefix: prefix.into(),
                format: format.into(),
                policy: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(reply.token.len(), len, "{format:?}: {}", reply.token.len());
        assert!(reply.token.starts_with(prefix));
        assert_eq!(reply.entropy_bits, entropy, "{format:?}");
        let minted = if format == TokenFormat::Unspecified {
            TokenFormat::Base62
        } else {
            format
        };
        assert_eq!(reply.format, i32::from(minted));
        let check = client
            .check_token(CheckTokenRequest {
                token: reply.token.clone(),
                format: minted.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(check.valid, "{format:?}: {check:?}");
        assert_eq!(
            (check.prefix.as_str(), check.format),
            (prefix, reply.format)
        );
        assert_eq!(check.entropy_bits, entropy);
        assert_eq!(check.checksummed, minted != TokenFormat::Uuid);
        assert_eq!(check.reason, "");
        if minted != TokenFormat::Uuid {
            // One character changed: an answer, not an error.
            let mut changed = reply.token.into_bytes();
            let at = changed.len() / 2;
            changed[at] = if changed[at] == b'0' { b'1' } else { b'0' };
            let check = client
                .check_token(CheckTokenRequest {
                    token: String::from_utf8(changed).unwrap(),
                    format: 0,
                })
                .await
                .unwrap()
                .into_inner();
            assert!(!check.valid && !check.checksummed);
            assert!(check.reason.starts_with("checksum mismatch"), "{check:?}");
        }
    }
    assert!(
        redis.list(ANONYMOUS_LIST).is_empty(),
        "tokens are never kept"
    );
}

#[tokio::test]
async fn bad_requests_name_every_field() {
    let server = TestServer::stateless().await;
    let mut client = server.client().await;
    let status = client
        .generate_token(GenerateTokenRequest {
            bits: 32,
            prefix: "Acme".into(),
            format: 9,
            policy: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let violations = status.get_details_bad_request().unwrap().field_violations;
    let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(fields, ["format", "bits", "prefix"]);
    assert_eq!(
        violations[1].description,
        "bits must be between 64 and 1024, got 32"
    );
    let status = client
        .generate_token(GenerateTokenRequest {
            bits: 128,
            prefix: "gps_".into(),
            format: TokenFormat::Uuid.into(),
            policy: String::new(),
        })
        .await
        .unwrap_err();
    let fields: Vec<String> = status
        .get_details_bad_request()
        .unwrap()
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["bits", "prefix"]);
    for token in [String::new(), "g".repeat(513)] {
        let status = client
            .check_token(CheckTokenRequest { token, format: 0 })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().starts_with("token must be 1 to 512 bytes"),
            "{status:?}"
        );
        assert!(!status.message().contains("ggggg"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_json_and_grpc_web() {
    let server = TestServer::start(stateless_config()).await;
    let url = |method: &str| format!("http://{}/{SERVICE}/{method}", server.addr);
    let json = ["-H", "content-type: application/json"];
    let generated = curl(
        &[json[0], json[1], &url("GenerateToken")],
        Some(
            br#"{"bits": 256, "prefix": "gps_", "format": "TOKEN_FORMAT_BASE32_CROCKFORD"}"#
                .to_vec(),
        ),
    )
    .await;
    assert_eq!(generated.status, 200, "{generated:?}");
    let reply = generated.json();
    let token = reply["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 4 + 52 + 6, "{reply}");
    assert_eq!(reply["entropyBits"], 260.0);
    assert_eq!(reply["format"], "TOKEN_FORMAT_BASE32_CROCKFORD");
    let body = serde_json::json!({ "token": token }).to_string();
    let checked = curl(
        &[json[0], json[1], &url("CheckToken")],
        Some(body.into_bytes()),
    )
    .await;
    assert_eq!(checked.status, 200, "{checked:?}");
    let check = checked.json();
    assert_eq!(check["valid"], true, "{check}");
    assert_eq!(check["prefix"], "gps_");
    assert_eq!(check["format"], "TOKEN_FORMAT_BASE32_CROCKFORD");
    assert_eq!(check["checksummed"], true);
    // A bad token: 200 and valid false (proto3 JSON leaves false out).
    let bad = curl(
        &[json[0], json[1], &url("CheckToken")],
        Some(br#"{"token": "gps_0000000000000000000000000000"}"#.to_vec()),
    )
    .await;
    assert_eq!(bad.status, 200, "{bad:?}");
    assert!(bad.json().get("valid").is_none(), "{}", bad.json());
    assert!(bad.json()["reason"].as_str().unwrap().contains("checksum"));
    // Every violation, as Connect's error with BadRequest details.
    let refused = curl(
        &[json[0], json[1], &url("GenerateToken")],
        Some(br#"{"bits": 4096, "prefix": "x"}"#.to_vec()),
    )
    .await;
    assert_eq!(refused.status, 400);
    let error = refused.json();
    assert_eq!(error["code"], "invalid_argument");
    let fields: Vec<&str> = error["details"][0]["debug"]["fieldViolations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["bits", "prefix"]);

    // gRPC-Web binary.
    let request = envelope(
        0,
        &GenerateTokenRequest {
            bits: 128,
            format: TokenFormat::Hex.into(),
            ..Default::default()
        }
        .encode_to_vec(),
    );
    let response = curl(
        &[
            "-H",
            "content-type: application/grpc-web+proto",
            "-H",
            "x-grpc-web: 1",
            &url("GenerateToken"),
        ],
        Some(request),
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    let frames = envelopes(&response.body);
    let reply = GenerateTokenResponse::decode(&frames[0].1[..]).unwrap();
    assert_eq!(reply.token.len(), 32 + 6);
    assert!(String::from_utf8_lossy(&frames[1].1).contains("grpc-status:0"));
}

#[tokio::test]
async fn generating_needs_generate_and_checking_check() {
    // Policy scopes reach the generating calls, but mint no API key.
    let policy_only = TestServer::start(ServerConfig {
        trust: TrustConfig {
            anonymous_scopes: Scopes::parse("policy:pin").unwrap(),
            ..TrustConfig::default()
        },
        ..stateless_config()
    })
    .await;
    let status = policy_only
        .client()
        .await
        .generate_token(GenerateTokenRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("`generate`"), "{status:?}");

    let server = TestServer::start(ServerConfig {
        trust: TrustConfig {
            anonymous_scopes: Scopes::parse("check").unwrap(),
            ..TrustConfig::default()
        },
        ..stateless_config()
    })
    .await;
    let mut client = server.client().await;
    let status = client
        .generate_token(GenerateTokenRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("generate"), "{status:?}");
    let check = client
        .check_token(CheckTokenRequest {
            token: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
            format: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(check.valid && !check.checksummed);
}
