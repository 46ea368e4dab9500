//! What `init-secrets` writes runs the service for real: a redis-server
//! started with the generated ACL file (the `default` user off), the server
//! with the generated certificate, tokens file and history keys, connecting
//! as the generated Redis user. The service's real traffic (generate with
//! history, list, health) works under that user; anything else — `KEYS`,
//! `FLUSHALL`, other keys, `CONFIG` — is refused.

mod support;

use std::path::Path;

use giropops_senhas::auth::{Scopes, TokenTable};
use giropops_senhas::cli::init_secrets::{InitSecretsArgs, REDIS_USER, init_secrets};
use giropops_senhas::config::TrustConfig;
use giropops_senhas::keyring::KeyRing;
use giropops_senhas::proto::v1::{GeneratePasswordRequest, ListPasswordsRequest};
use giropops_senhas::tls::TlsFiles;
use giropops_senhas_client::{ClientOptions, channel_with, connect_with};
use support::{HISTORY_KEY, RedisServer, TestServer, redis_config};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// A command as `user`, expecting Redis to refuse it for lack of
/// permission.
fn assert_refused(redis_url: &str, args: &[&str]) {
    let client = redis::Client::open(redis_url).unwrap();
    let mut conn = client.get_connection().unwrap();
    let mut command = redis::cmd(args[0]);
    for arg in &args[1..] {
        command.arg(*arg);
    }
    let error = command.query::<redis::Value>(&mut conn).unwrap_err();
    assert_eq!(error.code(), Some("NOPERM"), "{args:?}: {error}");
}

#[tokio::test]
async fn the_generated_secrets_run_the_service_under_the_redis_acl() {
    let secrets = tempfile::tempdir().unwrap();
    let dir = secrets.path();
    init_secrets(&InitSecretsArgs {
        dir: dir.to_owned(),
        owner: None,
        sans: Vec::new(),
        token_name: "operator".to_owned(),
        token_scopes: Scopes::parse("generate,check,history").unwrap(),
        history_key: HISTORY_KEY.to_owned(),
        repair: false,
    })
    .unwrap();
    let password = read(dir, "redis-password").trim().to_owned();
    // The generated file, plus a test-only admin to read the ACL log with.
    let harness = tempfile::tempdir().unwrap();
    let acl = harness.path().join("users.acl");
    let admin = "user admin on >admin-pw ~* &* +@all\n";
    std::fs::write(&acl, read(dir, "redis-users.acl") + admin).unwrap();
    let redis = RedisServer::start_with(
        &["--aclfile", acl.to_str().unwrap()],
        Some(("admin", "admin-pw")),
    );
    let port = redis.port();
    let as_service = format!("redis://{REDIS_USER}:{password}@127.0.0.1:{port}");
    let as_admin = format!("redis://admin:admin-pw@127.0.0.1:{port}");

    // The default user is off: without credentials, nothing.
    let anonymous = redis::Client::open(redis.url()).unwrap();
    let error = redis::cmd("PING")
        .query::<String>(&mut anonymous.get_connection().unwrap())
        .unwrap_err();
    assert_eq!(error.code(), Some("NOAUTH"), "{error}");

    let tokens = dir.join("tokens");
    let mut config = redis_config(&as_service, 10);
    let history = config.history.as_mut().unwrap();
    history.keys = KeyRing::load(dir.join("history-keys")).unwrap();
    config.trust = TrustConfig {
        tokens: Some((tokens.clone(), TokenTable::load(&tokens).unwrap())),
        anonymous_scopes: Scopes::none(),
        tls: Some(TlsFiles {
            cert: dir.join("server.pem"),
            key: dir.join("server-key.pem"),
            client_ca: None,
        }),
        ..TrustConfig::default()
    };
    let server = TestServer::start(config).await;
    let https = format!("https://localhost:{}", server.addr.port());
    let options = ClientOptions {
        ca_pem: Some(read(dir, "ca.pem").into_bytes()),
        token: Some(read(dir, "token").trim().to_owned()),
        ..ClientOptions::default()
    };

    let mut client = connect_with(&https, &options).await.unwrap();
    let generated = client
        .generate_password(GeneratePasswordRequest {
            count: 3,
            ..Default::default()
        })
        .await
        .expect("generated and stored as the ACL user")
        .into_inner();
    assert!(generated.stored);
    let listed = client
        .list_passwords(ListPasswordsRequest { page_size: 10 })
        .await
        .expect("listed as the ACL user")
        .into_inner()
        .passwords;
    let listed: Vec<String> = listed.into_iter().map(|r| r.password).collect();
    let newest_first: Vec<String> = generated.passwords.into_iter().rev().collect();
    assert_eq!(listed, newest_first);
    // Health pings Redis on its own connection: SERVING.
    let mut health = HealthClient::new(channel_with(&https, &options).await.unwrap());
    let status = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .status();
    assert_eq!(status, ServingStatus::Serving);
    // Pooled connections are recycled (UNWATCH + PING) and reused.
    for _ in 0..3 {
        client
            .generate_password(GeneratePasswordRequest::default())
            .await
            .expect("again, on a recycled connection");
    }

    // Nothing the service sent was refused (redis-rs's CLIENT SETINFO
    // aside: it ignores the answer).
    let denied = acl_log(&as_admin);
    assert!(
        denied
            .iter()
            .all(|(_, command)| command == "client|setinfo"),
        "{denied:?}"
    );

    // Everything else is refused to the service's user.
    assert_refused(&as_service, &["KEYS", "*"]);
    assert_refused(&as_service, &["FLUSHALL"]);
    assert_refused(&as_service, &["CONFIG", "GET", "*"]);
    assert_refused(&as_service, &["LRANGE", "elsewhere", "0", "-1"]);
    assert_refused(
        &as_service,
        &["DEL", &format!("{{{HISTORY_KEY}}}:operator")],
    );
    assert_refused(
        &as_service,
        &["GET", &format!("{{{HISTORY_KEY}}}:operator")],
    );
    assert_refused(&as_service, &["SUBSCRIBE", "news"]);
    let denied = acl_log(&as_admin);
    assert!(
        denied.iter().any(|(_, command)| command == "flushall"),
        "{denied:?}"
    );
    server.shutdown().await;
}

/// The ACL log: (user, command) of every refused command.
fn acl_log(admin_url: &str) -> Vec<(String, String)> {
    let client = redis::Client::open(admin_url).unwrap();
    let entries: Vec<std::collections::HashMap<String, redis::Value>> = redis::cmd("ACL")
        .arg("LOG")
        .query(&mut client.get_connection().unwrap())
        .unwrap();
    let text = |value: Option<&redis::Value>| match value {
        Some(redis::Value::BulkString(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        other => format!("{other:?}"),
    };
    entries
        .iter()
        .map(|entry| (text(entry.get("username")), text(entry.get("object"))))
        .collect()
}

/// From outside, as an attacker who can write the volume before the job
/// runs meets it: a planted link to a key the attacker knows is refused by
/// the real binary (exit 1, the file named), and `--repair` replaces the
/// link with a fresh key, leaving the attacker's file as it was.
#[test]
fn the_binary_refuses_a_planted_history_keys_link_and_repairs_it() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("secrets");
    std::fs::create_dir(&dir).unwrap();
    let bait = root.path().join("attacker-keys");
    let attacker = "evil AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    std::fs::write(&bait, attacker).unwrap();
    std::os::unix::fs::symlink(&bait, dir.join("history-keys")).unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_giropops-senhas"))
            .args(["init-secrets", "--dir", dir.to_str().unwrap()])
            .args(extra)
            .env_remove("HISTORY_KEY")
            .output()
            .unwrap()
    };
    let refused = run(&[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("history-keys: is a symbolic link; remove it, or run with --repair"),
        "{stderr}"
    );
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| !name.starts_with('.'))
        .collect();
    assert_eq!(names, ["history-keys"], "nothing written by a refused run");
    let repaired = run(&["--repair"]);
    let stderr = String::from_utf8_lossy(&repaired.stderr);
    assert!(repaired.status.success(), "{stderr}");
    assert!(
        stderr.contains("history keys: rewritten (--repair)"),
        "{stderr}"
    );
    let kept = std::fs::symlink_metadata(dir.join("history-keys")).unwrap();
    assert!(kept.file_type().is_file());
    assert!(!read(&dir, "history-keys").contains("evil"));
    assert_eq!(std::fs::read_to_string(&bait).unwrap(), attacker);
}
