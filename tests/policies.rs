//! Named policies over real sockets: callers ask by name over gRPC and
//! Connect, `policy:NAME` scopes limit a token to its policies, options
//! beside a name are refused, and the real binary reloads the file on
//! SIGHUP (a bad file keeps the previous policies, counted).

mod support;

use std::time::Duration;

use giropops_senhas::auth::{Scopes, TokenTable, format_line, new_token};
use giropops_senhas::config::{ServerConfig, TrustConfig};
use giropops_senhas::policies::PolicySet;
use giropops_senhas::proto::v1::policy::Options;
use giropops_senhas::proto::v1::{
    GeneratePassphraseRequest, GeneratePasswordRequest, GenerateTokenRequest, ListPoliciesRequest,
    StreamPasswordsRequest,
};
use giropops_senhas_client::{ClientOptions, connect_with};
use support::process::ServerProcess;
use support::{TestServer, stateless_config, wait_until};
use tonic::Code;
use tonic_types::StatusExt;

const POLICIES: &str = r#"{"policies": [
  {"name": "db-password", "description": "Database users",
   "password": {"length": 32, "minDigits": 2, "minSpecials": 2, "excludeChars": "\"'\\"}},
  {"name": "pin", "password": {"length": 6, "includeLowercase": false, "includeUppercase": false, "includeNumbers": true}},
  {"name": "recovery", "passphrase": {"wordCount": 8, "separator": " "}},
  {"name": "api-key", "token": {"bits": 256, "prefix": "gps_", "format": "TOKEN_FORMAT_HEX"}}
]}"#;

struct Fixture {
    _dir: tempfile::TempDir,
    server: TestServer,
    tokens: Vec<(&'static str, String)>,
}

impl Fixture {
    async fn start() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let mut lines = String::new();
        let mut tokens = Vec::new();
        for (name, scopes) in [
            ("admin", "generate,check"),
            ("db", "policy:db-password"),
            ("ops", "policy:pin,policy:recovery,policy:api-key,check"),
            ("checker", "check"),
        ] {
            let (token, digest) = new_token();
            lines.push_str(&format_line(name, Scopes::parse(scopes).unwrap(), &digest).unwrap());
            lines.push('\n');
            tokens.push((name, token));
        }
        let path = dir.path().join("tokens");
        std::fs::write(&path, lines).unwrap();
        let config = ServerConfig {
            trust: TrustConfig {
                tokens: Some((path.clone(), TokenTable::load(&path).unwrap())),
                anonymous_scopes: Scopes::none(),
                ..TrustConfig::default()
            },
            policies: Some((
                dir.path().join("policies.json"),
                PolicySet::parse(POLICIES.as_bytes()).unwrap(),
            )),
            ..stateless_config()
        };
        Fixture {
            _dir: dir,
            server: TestServer::start(config).await,
            tokens,
        }
    }

    fn token(&self, name: &str) -> String {
        self.tokens
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1
            .clone()
    }

    async fn client(
        &self,
        name: &str,
    ) -> giropops_senhas_client::PasswordServiceClient<
        tonic::service::interceptor::InterceptedService<
            tonic::transport::Channel,
            giropops_senhas_client::BearerToken,
        >,
    > {
        let options = ClientOptions {
            token: Some(self.token(name)),
            ..ClientOptions::default()
        };
        connect_with(&self.server.uri(), &options).await.unwrap()
    }
}

fn named(policy: &str) -> GeneratePasswordRequest {
    GeneratePasswordRequest {
        policy: policy.to_owned(),
        ..GeneratePasswordRequest::default()
    }
}

#[tokio::test]
async fn callers_list_only_the_policies_they_may_use() {
    let fixture = Fixture::start().await;
    let names = |reply: giropops_senhas::proto::v1::ListPoliciesResponse| -> Vec<String> {
        reply.policies.into_iter().map(|p| p.name).collect()
    };
    let mut admin = fixture.client("admin").await;
    let all = admin
        .list_policies(ListPoliciesRequest {})
        .await
        .unwrap()
        .into_inner();
    let pin = all.policies.iter().find(|p| p.name == "pin").unwrap();
    assert!((pin.entropy_bits - 6.0 * 10f64.log2()).abs() < 1e-9);
    assert!(matches!(pin.options, Some(Options::Password(_))));
    assert_eq!(names(all), ["api-key", "db-password", "pin", "recovery"]);
    let mut db = fixture.client("db").await;
    let mine = db.list_policies(ListPoliciesRequest {}).await.unwrap();
    assert_eq!(names(mine.into_inner()), ["db-password"]);
    let mut checker = fixture.client("checker").await;
    let refused = checker
        .list_policies(ListPoliciesRequest {})
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
}

#[tokio::test]
async fn a_policy_name_generates_by_its_rules() {
    let fixture = Fixture::start().await;
    let mut db = fixture.client("db").await;
    let reply = db
        .generate_password(named("db-password"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.password.len(), 32);
    assert!(reply.password.bytes().filter(u8::is_ascii_digit).count() >= 2);
    assert!(
        reply
            .password
            .bytes()
            .filter(u8::is_ascii_punctuation)
            .count()
            >= 2
    );
    assert!(!reply.password.contains(['"', '\'', '\\']));
    // Per-call fields stay the caller's.
    let mut ops = fixture.client("ops").await;
    let batch = ops
        .generate_password(GeneratePasswordRequest {
            count: 3,
            ..named("pin")
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(batch.passwords.len(), 3);
    for pin in &batch.passwords {
        assert!(
            pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit()),
            "{pin}"
        );
    }
    let phrase = ops
        .generate_passphrase(GeneratePassphraseRequest {
            policy: "recovery".to_owned(),
            ..GeneratePassphraseRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        phrase.passphrase.split(' ').count(),
        8,
        "{}",
        phrase.passphrase
    );
    let mut stream = ops
        .stream_passwords(StreamPasswordsRequest {
            options: Some(named("pin")),
            count: 5,
        })
        .await
        .unwrap()
        .into_inner();
    let mut streamed = 0;
    while let Some(message) = stream.message().await.unwrap() {
        assert!(
            message.password.len() == 6 && message.password.bytes().all(|b| b.is_ascii_digit())
        );
        streamed += 1;
    }
    assert_eq!(streamed, 5);
    let key = ops
        .generate_token(GenerateTokenRequest {
            policy: "api-key".to_owned(),
            ..GenerateTokenRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(key.token.starts_with("gps_"), "{}", key.token);
    assert_eq!(
        key.token.len(),
        4 + 64 + 6,
        "256 bits of hex and a checksum"
    );
    assert_eq!(key.entropy_bits, 256.0);
    // An API key policy is no password policy, and options beside it are refused.
    let wrong = ops.generate_password(named("api-key")).await.unwrap_err();
    assert!(
        wrong
            .message()
            .contains("is a token policy: call GenerateToken"),
        "{wrong:?}"
    );
    let beside = ops
        .generate_token(GenerateTokenRequest {
            policy: "api-key".to_owned(),
            bits: 128,
            ..GenerateTokenRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(beside.code(), Code::InvalidArgument, "{beside:?}");
    // Policy scopes alone mint no ad hoc key.
    let ad_hoc = ops
        .generate_token(GenerateTokenRequest::default())
        .await
        .unwrap_err();
    assert_eq!(ad_hoc.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn policy_scopes_allow_their_policies_and_nothing_else() {
    let fixture = Fixture::start().await;
    let mut db = fixture.client("db").await;
    let ad_hoc = db
        .generate_password(GeneratePasswordRequest::default())
        .await
        .unwrap_err();
    assert_eq!(ad_hoc.code(), Code::PermissionDenied);
    assert!(
        ad_hoc
            .message()
            .contains("only with a named policy (db-password)"),
        "{}",
        ad_hoc.message()
    );
    for other in ["pin", "no-such-policy"] {
        let refused = db.generate_password(named(other)).await.unwrap_err();
        assert_eq!(
            refused.code(),
            Code::PermissionDenied,
            "{other}: {refused:?}"
        );
        assert!(
            refused.message().contains(&format!("`policy:{other}`")),
            "{}",
            refused.message()
        );
    }
    let phrase = db
        .generate_passphrase(GeneratePassphraseRequest::default())
        .await
        .unwrap_err();
    assert_eq!(phrase.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn options_beside_a_name_and_unknown_names_are_invalid_arguments() {
    let fixture = Fixture::start().await;
    let mut admin = fixture.client("admin").await;
    let status = admin
        .generate_password(GeneratePasswordRequest {
            length: 8,
            include_numbers: true,
            ..named("db-password")
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .expect("BadRequest")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["length", "include_numbers"], "{status:?}");
    for (policy, expected) in [
        (
            "recovery",
            "\"recovery\" is a passphrase policy: call GeneratePassphrase",
        ),
        ("nope", "no policy named \"nope\""),
        ("Not A Name", "not a policy name"),
    ] {
        let status = admin.generate_password(named(policy)).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{policy}");
        assert!(status.message().contains(expected), "{}", status.message());
    }
    let status = admin
        .generate_passphrase(GeneratePassphraseRequest {
            policy: "pin".to_owned(),
            word_count: 4,
            ..GeneratePassphraseRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn connect_json_asks_by_name_too() {
    let fixture = Fixture::start().await;
    let url = format!(
        "{}/giropops.v1.PasswordService/GeneratePassword",
        fixture.server.uri()
    );
    let auth = format!("authorization: Bearer {}", fixture.token("ops"));
    let response = support::http::curl(
        &["-H", "content-type: application/json", "-H", &auth, &url],
        Some(br#"{"policy": "pin"}"#.to_vec()),
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    let pin = response.json()["password"].as_str().unwrap().to_owned();
    assert!(
        pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit()),
        "{pin}"
    );
    let list = support::http::curl(
        &[
            "-H",
            "content-type: application/json",
            "-H",
            &auth,
            &url.replace("GeneratePassword", "ListPolicies"),
        ],
        Some(b"{}".to_vec()),
    )
    .await;
    let listed = list.json();
    let names: Vec<&str> = listed["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api-key", "pin", "recovery"]);
}

/// The real binary: the file is re-read on SIGHUP; a bad version keeps
/// the previous policies, with an ERROR and the reload failure counted.
#[tokio::test]
async fn the_policies_file_reloads_and_a_bad_one_keeps_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policies.json");
    std::fs::write(&path, POLICIES).unwrap();
    let path_str = path.to_str().unwrap();
    let server = ServerProcess::start_with(support::process::Options {
        args: &["--policies-file", path_str],
        metrics: true,
        ..support::process::Options::default()
    })
    .await;
    let mut client = connect_with(&server.uri, &ClientOptions::default())
        .await
        .unwrap();
    let names = |client: &mut giropops_senhas_client::PasswordServiceClient<_>| {
        let mut client = client.clone();
        async move {
            client
                .list_policies(ListPoliciesRequest {})
                .await
                .unwrap()
                .into_inner()
                .policies
                .into_iter()
                .map(|p| p.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        names(&mut client).await,
        ["api-key", "db-password", "pin", "recovery"]
    );
    let hangup = || {
        let status = std::process::Command::new("kill")
            .args(["-HUP", &server.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    std::fs::write(&path, r#"{"policies": [{"name": "pin", "password": {"length": 8, "includeLowercase": false, "includeUppercase": false, "includeNumbers": true}}]}"#).unwrap();
    hangup();
    let reloaded = wait_until(Duration::from_secs(10), || async {
        names(&mut client.clone()).await == ["pin"]
    })
    .await;
    assert!(reloaded, "{}", server.logs());
    let pin = client.generate_password(named("pin")).await.unwrap();
    assert_eq!(pin.get_ref().password.len(), 8);

    std::fs::write(
        &path,
        r#"{"policies": [{"name": "pin", "password": {"length": 2}}]}"#,
    )
    .unwrap();
    hangup();
    let port = server.metrics_port.unwrap();
    let counted = wait_until(Duration::from_secs(10), || async {
        support::scrape(port)
            .await
            .contains("giropops_reload_failures_total{file=\"policies\"} 1")
    })
    .await;
    assert!(counted, "{}", support::scrape(port).await);
    assert_eq!(
        names(&mut client).await,
        ["pin"],
        "the last good file stays"
    );
    // The log writer is a thread of its own: the line may trail the counter.
    let logged = wait_until(Duration::from_secs(5), || async {
        let logs = server.logs();
        logs.contains("reload failed")
            && logs.contains("password.length: length must be between 4 and 1024")
    })
    .await;
    assert!(logged, "{}", server.logs());
}

/// A bad file at start is a start-up error naming the flag and the problem.
#[test]
fn a_bad_file_at_start_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policies.json");
    std::fs::write(&path, r#"{"policies": [{"name": "x"}]}"#).unwrap();
    let output = support::process::binary()
        .args(["--listen", "127.0.0.1:0", "--metrics-listen", "off"])
        .args(["--policies-file", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--policies-file/POLICIES_FILE")
            && stderr.contains("policy \"x\": no options"),
        "{stderr}"
    );
}

/// The documented example file (clients/test.sh serves it) and the
/// Kubernetes component's copy load.
#[test]
fn the_example_files_load() {
    for file in [
        "docs/policies.example.json",
        "deploy/kubernetes/components/policies/policies.json",
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let set = PolicySet::load(&path).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(set.len(), 4, "{file}");
    }
}
