//! Trust over real sockets: tokens and scopes on every RPC, a history only
//! its owner reads, ciphertext only in Redis, key rotation and
//! crypto-shredding, TLS and mutual TLS, and token rotation without
//! dropping a live connection.

mod support;

use std::time::Duration;

use giropops_senhas::auth::{Scopes, TokenTable, format_line, new_token};
use giropops_senhas::config::{ServerConfig, TrustConfig};
use giropops_senhas::history::HistoryConfig;
use giropops_senhas::keyring::KeyRing;
use giropops_senhas::proto::v1::{
    CheckPasswordRequest, GeneratePasswordRequest, ListPasswordsRequest,
};
use giropops_senhas_client::{ClientOptions, channel_with, connect_with};
use rcgen::SanType;
use support::pki::Pki;
use support::{HISTORY_KEY, RedisServer, TestServer, redis_config, stateless_config};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// Tokens by name, and the file that lists them.
struct Tokens {
    dir: tempfile::TempDir,
    tokens: Vec<(String, String)>,
}

impl Tokens {
    fn new(entries: &[(&str, &str)]) -> Tokens {
        let dir = tempfile::tempdir().unwrap();
        let mut tokens = Tokens {
            dir,
            tokens: Vec::new(),
        };
        tokens.write(entries);
        tokens
    }

    /// Mints a token per entry and (re)writes the file.
    fn write(&mut self, entries: &[(&str, &str)]) {
        let mut lines = String::new();
        self.tokens.clear();
        for (name, scopes) in entries {
            let (token, digest) = new_token();
            let line = format_line(name, Scopes::parse(scopes).unwrap(), &digest).unwrap();
            lines.push_str(&line);
            lines.push('\n');
            self.tokens.push(((*name).to_owned(), token));
        }
        std::fs::write(self.path(), lines).unwrap();
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("tokens")
    }

    fn token(&self, name: &str) -> String {
        self.tokens
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .clone()
    }

    fn trust(&self, anonymous: &str) -> TrustConfig {
        TrustConfig {
            tokens: Some((self.path(), TokenTable::load(&self.path()).unwrap())),
            anonymous_scopes: Scopes::parse(anonymous).unwrap(),
            ..TrustConfig::default()
        }
    }
}

fn options(token: Option<String>) -> ClientOptions {
    ClientOptions {
        token,
        ..ClientOptions::default()
    }
}

async fn generate(server: &TestServer, token: Option<String>) -> Result<String, tonic::Status> {
    let mut client = connect_with(&server.uri(), &options(token)).await.unwrap();
    let reply = client
        .generate_password(GeneratePasswordRequest::default())
        .await?;
    Ok(reply.into_inner().password)
}

async fn list(server: &TestServer, token: Option<String>) -> Result<Vec<String>, tonic::Status> {
    let mut client = connect_with(&server.uri(), &options(token)).await.unwrap();
    let reply = client
        .list_passwords(ListPasswordsRequest { page_size: 100 })
        .await?;
    Ok(reply
        .into_inner()
        .passwords
        .into_iter()
        .map(|r| r.password)
        .collect())
}

#[tokio::test]
async fn every_call_needs_its_scope_and_an_invalid_token_is_never_anonymous() {
    let redis = RedisServer::start();
    let tokens = Tokens::new(&[("ci", "generate"), ("alice", "generate,history")]);
    let server = TestServer::start(ServerConfig {
        trust: tokens.trust("check"),
        ..redis_config(&redis.url(), 10)
    })
    .await;

    // Anonymous: check only.
    let status = generate(&server, None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let mut anonymous = connect_with(&server.uri(), &options(None)).await.unwrap();
    anonymous
        .check_password(CheckPasswordRequest {
            password: "correct horse".into(),
            user_inputs: vec![],
        })
        .await
        .expect("anonymous may check");

    // A well-formed token nobody issued, and a malformed one: refused,
    // never treated as anonymous (anonymous may check).
    let (stranger, _) = new_token();
    for bad in [stranger, "gps_short".to_owned()] {
        let mut client = connect_with(&server.uri(), &options(Some(bad)))
            .await
            .unwrap();
        let status = client
            .check_password(CheckPasswordRequest {
                password: "x".into(),
                user_inputs: vec![],
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    }

    // Valid, without the scope: PERMISSION_DENIED naming it.
    let status = list(&server, Some(tokens.token("ci"))).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("`history`"),
        "{}",
        status.message()
    );
    // With it.
    let mine = generate(&server, Some(tokens.token("alice")))
        .await
        .unwrap();
    assert_eq!(
        list(&server, Some(tokens.token("alice"))).await.unwrap(),
        [mine]
    );

    // ci may generate but not keep a history: not stored.
    let mut ci = connect_with(&server.uri(), &options(Some(tokens.token("ci"))))
        .await
        .unwrap();
    let reply = ci
        .generate_password(GeneratePasswordRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(!reply.stored);

    // Health is always open.
    let channel = channel_with(&server.uri(), &options(None)).await.unwrap();
    HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .expect("health needs no token");
}

#[tokio::test]
async fn a_history_only_its_owner_reads_and_only_ciphertext_in_redis() {
    let redis = RedisServer::start();
    let tokens = Tokens::new(&[
        ("alice", "generate,history"),
        ("bob", "generate,history"),
        ("auditor", "history:all"),
    ]);
    let server = TestServer::start(ServerConfig {
        trust: tokens.trust("none"),
        ..redis_config(&redis.url(), 10)
    })
    .await;
    let alice = generate(&server, Some(tokens.token("alice")))
        .await
        .unwrap();
    let bob = generate(&server, Some(tokens.token("bob"))).await.unwrap();
    assert_eq!(
        list(&server, Some(tokens.token("alice"))).await.unwrap(),
        vec![alice.clone()]
    );
    assert_eq!(
        list(&server, Some(tokens.token("bob"))).await.unwrap(),
        vec![bob.clone()]
    );
    let all = list(&server, Some(tokens.token("auditor"))).await.unwrap();
    assert_eq!(
        all,
        [bob.clone(), alice.clone()],
        "history:all reads everyone's, newest first"
    );

    // Every key and value in Redis: no password anywhere.
    let keys = redis.keys();
    assert!(
        keys.contains(&format!("{{{HISTORY_KEY}}}:alice")),
        "{keys:?}"
    );
    for key in &keys {
        // The set of principals, and the hash of each list's last entry
        // number (numbers only).
        let values = if key.ends_with(":principals") || key.ends_with(":sequences") {
            Vec::new()
        } else {
            redis.list(key)
        };
        for value in values {
            assert!(value.starts_with("g1:"), "{value}");
            for secret in [&alice, &bob] {
                assert!(!value.contains(secret.as_str()), "plaintext in {key}");
            }
        }
    }
}

#[tokio::test]
async fn removing_a_key_crypto_shreds_what_it_wrote() {
    let redis = RedisServer::start();
    let old = KeyRing::parse(&KeyRing::new_key_line("old").unwrap()).unwrap();
    let new_line = KeyRing::new_key_line("new").unwrap();
    let with_keys = |keys: KeyRing| {
        let mut config = redis_config(&redis.url(), 10);
        let history: &mut HistoryConfig = config.history.as_mut().unwrap();
        history.keys = keys;
        config
    };
    let server = TestServer::start(with_keys(old.clone())).await;
    let written = generate(&server, None).await.unwrap();
    server.shutdown().await;

    // The old key removed: its entries are skipped, never an error.
    let server = TestServer::start(with_keys(KeyRing::parse(&new_line).unwrap())).await;
    assert!(list(&server, None).await.unwrap().is_empty());
    let fresh = generate(&server, None).await.unwrap();
    assert_eq!(list(&server, None).await.unwrap(), vec![fresh.clone()]);
    server.shutdown().await;

    // Keeping the old key to decrypt (rotation): both readable.
    let server = TestServer::start(with_keys(old)).await;
    assert_eq!(
        list(&server, None).await.unwrap(),
        vec![written.clone()],
        "the new key's entry is skipped"
    );
}

async fn tls_server(pki: &Pki, mutual: bool) -> TestServer {
    let mut config = stateless_config();
    config.trust.tls = Some(pki.server_files(mutual));
    TestServer::start(config).await
}

#[tokio::test]
async fn tls_only_and_mutual_tls() {
    let pki = Pki::new();
    let server = tls_server(&pki, false).await;
    let https = format!("https://localhost:{}", server.addr.port());
    let trusting = ClientOptions {
        ca_pem: Some(pki.ca_pem.clone().into_bytes()),
        ..ClientOptions::default()
    };
    let mut client = connect_with(&https, &trusting)
        .await
        .expect("TLS with our CA");
    client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("served over TLS");
    // Plaintext against TLS: refused.
    let plain = connect_with(&server.uri(), &options(None)).await;
    let refused = match plain {
        Err(_) => true,
        Ok(mut client) => client
            .generate_password(GeneratePasswordRequest::default())
            .await
            .is_err(),
    };
    assert!(refused, "plaintext is refused on a TLS port");
    server.shutdown().await;

    // Mutual TLS: no client certificate → refused at the handshake.
    let server = tls_server(&pki, true).await;
    let https = format!("https://localhost:{}", server.addr.port());
    let without = connect_with(&https, &trusting).await;
    let refused = match without {
        Err(_) => true,
        Ok(mut client) => client
            .generate_password(GeneratePasswordRequest::default())
            .await
            .is_err(),
    };
    assert!(refused, "no client certificate, no service");
    let with = pki
        .client(
            "client",
            SanType::DnsName("client.giropops.test".try_into().unwrap()),
        )
        .options;
    let mut client = connect_with(&https, &with).await.expect("mutual TLS");
    client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("served with a client certificate");
}

/// The tokens file is re-read every 10 s: a new token works, a removed one
/// stops working, and a connection opened before goes on.
#[tokio::test]
async fn tokens_rotate_without_dropping_a_live_connection() {
    let mut tokens = Tokens::new(&[("ci", "generate")]);
    let mut config = stateless_config();
    config.trust = tokens.trust("none");
    let server = TestServer::start(config).await;
    let old = tokens.token("ci");
    let channel = channel_with(&server.uri(), &options(None)).await.unwrap();
    let live = giropops_senhas_client::PasswordServiceClient::with_interceptor(
        channel,
        giropops_senhas_client::BearerToken::new(Some(&old)).unwrap(),
    );
    let mut live = live;
    live.generate_password(GeneratePasswordRequest::default())
        .await
        .unwrap();

    // A broken file keeps the old table.
    std::fs::write(tokens.path(), "this is not a tokens file\n").unwrap();
    tokio::time::sleep(Duration::from_secs(11)).await;
    live.generate_password(GeneratePasswordRequest::default())
        .await
        .expect("the old table stays when the new file is bad");

    tokens.write(&[("ci", "generate")]);
    let new = tokens.token("ci");
    let reloaded = support::wait_until(Duration::from_secs(15), || async {
        generate(&server, Some(new.clone())).await.is_ok()
    })
    .await;
    assert!(reloaded, "the new token works after a reload");
    let status = live
        .generate_password(GeneratePasswordRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::Unauthenticated,
        "the removed token stops working"
    );
}
