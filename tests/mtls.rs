//! Mutual TLS and the principals it names, over real sockets: a client
//! certificate's SAN mapped to its scopes (and reloaded), the plaintext
//! health port beside an mTLS gRPC port, the real binary's CLI and
//! `healthcheck` over mTLS and with a token, the principal in the per-call
//! log line and the metrics (never the token), and history keys rotated
//! without a restart.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use giropops_senhas::auth::{Scopes, TokenTable, format_line, new_token};
use giropops_senhas::config::TrustConfig;
use giropops_senhas::keyring::KeyRing;
use giropops_senhas::proto::v1::{
    CheckPasswordRequest, GeneratePasswordRequest, ListPasswordsRequest,
};
use giropops_senhas::tls::{ClientScopes, TlsFiles};
use giropops_senhas_client::{
    BearerToken, ClientOptions, PasswordServiceClient, channel_with, connect_with,
};
use rcgen::SanType;
use support::pki::Pki;
use support::process::{binary, health};
use support::redis_server::free_port;
use support::{ANONYMOUS_LIST, RedisServer, TestServer, scrape, stateless_config, wait_until};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

type Client = PasswordServiceClient<InterceptedService<Channel, BearerToken>>;

fn uri_san(uri: &str) -> SanType {
    SanType::URI(uri.try_into().unwrap())
}

fn dns_san(name: &str) -> SanType {
    SanType::DnsName(name.try_into().unwrap())
}

/// Mutual TLS with `pki`, tokens and client scopes from those files, and
/// `anonymous` scopes.
fn mutual_tls_trust(
    pki: &Pki,
    tokens_file: &Path,
    scopes_file: &Path,
    anonymous: &str,
) -> TrustConfig {
    TrustConfig {
        tokens: Some((
            tokens_file.to_owned(),
            TokenTable::load(tokens_file).unwrap(),
        )),
        anonymous_scopes: Scopes::parse(anonymous).unwrap(),
        tls: Some(pki.server_files(true)),
        client_scopes: Some((
            scopes_file.to_owned(),
            ClientScopes::load(scopes_file).unwrap(),
        )),
        ..TrustConfig::default()
    }
}

fn https(port: u16) -> String {
    format!("https://localhost:{port}")
}

async fn generate(client: &mut Client) -> Result<String, tonic::Status> {
    Ok(client
        .generate_password(GeneratePasswordRequest::default())
        .await?
        .into_inner()
        .password)
}

async fn check(client: &mut Client) -> Result<(), tonic::Status> {
    client
        .check_password(CheckPasswordRequest {
            password: "correct horse battery".into(),
            user_inputs: vec![],
        })
        .await
        .map(drop)
}

async fn list(client: &mut Client) -> Result<Vec<String>, tonic::Status> {
    Ok(client
        .list_passwords(ListPasswordsRequest { page_size: 100 })
        .await?
        .into_inner()
        .passwords
        .into_iter()
        .map(|record| record.password)
        .collect())
}

/// A certificate whose SAN the client scopes file lists gets those scopes;
/// one it does not list gets the anonymous scopes; the file is reloaded
/// (a bad version keeps the old) and a live connection follows it.
#[tokio::test]
async fn a_client_certificate_san_maps_to_its_scopes() {
    let pki = Pki::new();
    let scopes_file = pki.path("client-scopes");
    std::fs::write(
        &scopes_file,
        "# SAN SCOPES\nspiffe://giropops.test/ns/ci generate\n",
    )
    .unwrap();
    let (token, digest) = new_token();
    let tokens_file = pki.path("tokens");
    std::fs::write(
        &tokens_file,
        format_line("alice", Scopes::parse("check").unwrap(), &digest).unwrap() + "\n",
    )
    .unwrap();
    let mut config = stateless_config();
    config.trust = mutual_tls_trust(&pki, &tokens_file, &scopes_file, "check");
    let server = TestServer::start(config).await;
    let addr = https(server.addr.port());

    let ci = pki.client("ci", uri_san("spiffe://giropops.test/ns/ci"));
    let mut ci = connect_with(&addr, &ci.options).await.unwrap();
    generate(&mut ci)
        .await
        .expect("the SAN is granted generate");
    let status = list(&mut ci).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(
        status.message(),
        "this call needs the `history` scope; certificate `spiffe://giropops.test/ns/ci` has generate"
    );
    let status = check(&mut ci).await.unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "the file's scopes, not the anonymous ones: {status:?}"
    );

    // Not in the file: the anonymous principal (check), never a name the
    // certificate chose; tokens are configured, so more needs a token.
    let other = pki.client("other", dns_san("other.giropops.test"));
    let mut other = connect_with(&addr, &other.options).await.unwrap();
    check(&mut other)
        .await
        .expect("anonymous callers may check");
    let status = generate(&mut other).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(
        status
            .message()
            .starts_with("a token is required: this call needs the `generate` scope"),
        "{status:?}"
    );

    // A token wins over the certificate; an invalid one is refused, never
    // replaced by the certificate.
    let ci_cert = pki.client("ci2", uri_san("spiffe://giropops.test/ns/ci"));
    let with_token = ClientOptions {
        token: Some(token),
        ..ci_cert.options.clone()
    };
    let mut as_alice = connect_with(&addr, &with_token).await.unwrap();
    check(&mut as_alice).await.expect("alice may check");
    let status = generate(&mut as_alice).await.unwrap_err();
    assert_eq!(
        status.message(),
        "this call needs the `generate` scope; token `alice` has check"
    );
    let (stranger, _) = new_token();
    let with_stranger = ClientOptions {
        token: Some(stranger),
        ..ci_cert.options.clone()
    };
    let mut stranger = connect_with(&addr, &with_stranger).await.unwrap();
    let status = generate(&mut stranger).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    // A broken file keeps the old grants.
    std::fs::write(&scopes_file, "other.giropops.test teleport\n").unwrap();
    tokio::time::sleep(Duration::from_secs(11)).await;
    generate(&mut ci)
        .await
        .expect("the old grants stay when the new file is bad");
    assert_eq!(
        generate(&mut other).await.unwrap_err().code(),
        Code::Unauthenticated
    );

    // A good one replaces them, for live connections too.
    std::fs::write(&scopes_file, "other.giropops.test generate\n").unwrap();
    let reloaded = wait_until(Duration::from_secs(15), || {
        let mut other = other.clone();
        async move { generate(&mut other).await.is_ok() }
    })
    .await;
    assert!(reloaded, "the new grant reaches a live connection");
    let status = generate(&mut ci).await.unwrap_err();
    assert_eq!(
        status.code(),
        Code::Unauthenticated,
        "no longer listed: anonymous"
    );
}

/// With `--metrics-principal-label`, a certificate is labelled by its SAN
/// only when the client scopes file lists it, `other` otherwise; refused
/// calls are `-`; files reloaded while serving are honoured (a new token's
/// name, a newly listed SAN).
#[tokio::test]
async fn the_principal_label_names_listed_sans_only_and_follows_reloads() {
    let pki = Pki::new();
    let scopes_file = pki.path("client-scopes");
    std::fs::write(&scopes_file, "spiffe://giropops.test/ns/ci generate\n").unwrap();
    let tokens_file = pki.path("tokens");
    let (alice, alice_digest) = new_token();
    let (deploy, deploy_digest) = new_token();
    let line = |name: &str, digest: &str| {
        format_line(name, Scopes::parse("generate").unwrap(), digest).unwrap() + "\n"
    };
    std::fs::write(&tokens_file, line("alice", &alice_digest)).unwrap();
    let metrics_port = free_port();
    let mut config = stateless_config();
    config.metrics_addr = Some(([127, 0, 0, 1], metrics_port).into());
    config.metrics_principal_label = true;
    config.trust = mutual_tls_trust(&pki, &tokens_file, &scopes_file, "generate");
    let server = TestServer::start(config).await;
    let addr = https(server.addr.port());

    let ci_cert = pki.client("ci", uri_san("spiffe://giropops.test/ns/ci"));
    let mut ci = connect_with(&addr, &ci_cert.options).await.unwrap();
    generate(&mut ci).await.expect("listed: generate");
    let stranger = pki.client("stranger", dns_san("stranger.giropops.test"));
    let mut stranger = connect_with(&addr, &stranger.options).await.unwrap();
    generate(&mut stranger)
        .await
        .expect("unlisted: the anonymous scopes, generate");
    let as_token = |token: &str| ClientOptions {
        token: Some(token.to_owned()),
        ..ci_cert.options.clone()
    };
    let mut as_alice = connect_with(&addr, &as_token(&alice)).await.unwrap();
    generate(&mut as_alice).await.expect("alice may generate");
    // Not in the tokens file yet.
    let mut as_deploy = connect_with(&addr, &as_token(&deploy)).await.unwrap();
    let status = generate(&mut as_deploy).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    let calls = |code: &str, principal: &str| {
        format!(
            r#"giropops_rpc_calls_total{{service="giropops.v1.PasswordService",method="GeneratePassword",code="{code}",protocol="grpc",principal="{principal}"}} 1"#
        )
    };
    let counted = |lines: Vec<String>| async move {
        let found = wait_until(Duration::from_secs(15), || async {
            let text = scrape(metrics_port).await;
            lines.iter().all(|line| text.contains(line.as_str()))
        })
        .await;
        let text = scrape(metrics_port).await;
        assert!(found, "missing one of {lines:#?} in:\n{text}");
        text
    };
    let text = counted(vec![
        calls("OK", "spiffe://giropops.test/ns/ci"),
        calls("OK", "anonymous"),
        calls("OK", "alice"),
        calls("UNAUTHENTICATED", "-"),
    ])
    .await;
    assert!(
        !text.contains("stranger.giropops.test"),
        "an unlisted SAN in the metrics:\n{text}"
    );

    // Reloaded (polled every 10 s): a newly listed SAN, a new token
    // (written last: once it is accepted, the SAN is listed too).
    std::fs::write(
        &scopes_file,
        "spiffe://giropops.test/ns/ci generate\nstranger.giropops.test generate\n",
    )
    .unwrap();
    std::fs::write(
        &tokens_file,
        line("alice", &alice_digest) + &line("deploy", &deploy_digest),
    )
    .unwrap();
    let reloaded = wait_until(Duration::from_secs(15), || {
        let mut as_deploy = as_deploy.clone();
        async move { generate(&mut as_deploy).await.is_ok() }
    })
    .await;
    assert!(reloaded, "the new token is accepted after the reload");
    generate(&mut stranger).await.expect("now listed");
    let text = counted(vec![
        calls("OK", "deploy"),
        calls("OK", "stranger.giropops.test"),
        calls("OK", "anonymous"),
    ])
    .await;
    for token in [&alice, &deploy] {
        assert!(!text.contains(token.as_str()), "a token in the metrics");
    }
    server.shutdown().await;
}

/// Kubelet probes present no certificate: the plaintext health port answers
/// them, while the gRPC port refuses any client without one.
#[tokio::test]
async fn the_health_port_answers_without_a_client_certificate() {
    let pki = Pki::new();
    let health_port = free_port();
    let mut config = stateless_config();
    config.trust.tls = Some(pki.server_files(true));
    config.health_addr = Some(([127, 0, 0, 1], health_port).into());
    let server = TestServer::start(config).await;

    let plain = format!("http://127.0.0.1:{health_port}");
    let serving = wait_until(Duration::from_secs(5), || async {
        health(&plain, "", Duration::from_secs(1)).await == Ok(ServingStatus::Serving)
    })
    .await;
    assert!(
        serving,
        "{:?}",
        health(&plain, "", Duration::from_secs(1)).await
    );
    // Health alone: the password service is not on that port.
    let mut on_health_port = connect_with(&plain, &ClientOptions::default())
        .await
        .unwrap();
    let status = generate(&mut on_health_port).await.unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");

    // The gRPC port: no certificate, no answer, not even health.
    let addr = https(server.addr.port());
    let without = async {
        let channel = channel_with(&addr, &pki.trusting()).await?;
        HealthClient::new(channel)
            .check(HealthCheckRequest::default())
            .await
            .map_err(|status| status.to_string())?;
        Ok::<_, Box<dyn std::error::Error>>(())
    }
    .await;
    assert!(
        without.is_err(),
        "the gRPC port answered without a certificate"
    );
    let client = pki.client("probe", dns_san("probe.giropops.test"));
    let channel = channel_with(&addr, &client.options).await.unwrap();
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .expect("with a certificate")
        .into_inner()
        .status();
    assert_eq!(status, ServingStatus::Serving);
}

/// The real binary serving, its log (stderr) in a file. Readiness is read
/// from its plaintext health port, which needs no credentials.
struct Served {
    child: Child,
    port: u16,
    metrics_port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Served {
    async fn start(args: &[&str]) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let (port, health_port, metrics_port) = (free_port(), free_port(), free_port());
        let child = binary()
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--health-listen", &format!("127.0.0.1:{health_port}")])
            .args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")])
            .args(["--log-format", "json"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let served = Served {
            child,
            port,
            metrics_port,
            log,
            _dir: dir,
        };
        let health_uri = format!("http://127.0.0.1:{health_port}");
        let serving = wait_until(Duration::from_secs(20), || async {
            health(&health_uri, "", Duration::from_millis(500)).await == Ok(ServingStatus::Serving)
        })
        .await;
        assert!(serving, "never SERVING; log:\n{}", served.logs());
        served
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The per-call log lines, parsed.
    fn call_lines(&self) -> Vec<serde_json::Value> {
        self.logs()
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|line| line["target"] == "giropops_senhas::calls")
            .collect()
    }

    fn hangup(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    async fn metrics(&self) -> String {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.metrics_port))
            .await
            .unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Runs the binary as a client (`args` after the subcommand), hermetic.
fn run_client(args: &[&str]) -> Output {
    binary().args(args).stdin(Stdio::null()).output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The server's flags for mutual TLS: its certificate and key, the client
/// CA and the client scopes file.
fn mutual_tls_flags<'a>(files: &'a TlsFiles, ca: &'a Path, scopes: &'a Path) -> [&'a str; 8] {
    [
        "--tls-cert",
        path_str(&files.cert),
        "--tls-key",
        path_str(&files.key),
        "--tls-client-ca",
        path_str(ca),
        "--tls-client-scopes",
        path_str(scopes),
    ]
}

/// The CLI and `healthcheck` over mutual TLS (`--ca-file --cert --key`)
/// and over TLS with a token (`--token-file`); without the client
/// certificate or the token they fail, saying why. The per-call log line
/// names the principal — the certificate's SAN, the token's name — and
/// never holds the token.
#[tokio::test]
async fn the_cli_and_healthcheck_over_mutual_tls_and_with_a_token() {
    let pki = Pki::new();
    let files = pki.server_files(true);
    let scopes_file = pki.path("client-scopes");
    std::fs::write(
        &scopes_file,
        "spiffe://giropops.test/ns/cli generate,check\n",
    )
    .unwrap();
    let client = pki.client("cli", uri_san("spiffe://giropops.test/ns/cli"));
    let (ca, cert, key) = (pki.path("ca.pem"), client.cert.clone(), client.key.clone());
    let mutual = Served::start(
        &[
            &mutual_tls_flags(&files, &ca, &scopes_file)[..],
            &["--anonymous-scopes", "none"],
        ]
        .concat(),
    )
    .await;
    let addr = https(mutual.port);
    let with_cert = [
        "--addr",
        &addr,
        "--ca-file",
        path_str(&ca),
        "--cert",
        path_str(&cert),
        "--key",
        path_str(&key),
    ];
    let output = run_client(&[&["healthcheck"][..], &with_cert].concat());
    assert!(output.status.success(), "{}", text(&output));
    let output = run_client(&[&["generate"][..], &with_cert].concat());
    assert!(output.status.success(), "{}", text(&output));
    let password = String::from_utf8(output.stdout.clone()).unwrap();
    assert_eq!(password.trim().chars().count(), 16, "{}", text(&output));

    // Without the client certificate: refused at the handshake, and said so.
    let without = ["--addr", &addr, "--ca-file", path_str(&ca)];
    for command in ["healthcheck", "generate"] {
        let output = run_client(&[&[command][..], &without].concat());
        assert!(!output.status.success(), "{}", text(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("client certificate") && stderr.contains("pass --cert and --key"),
            "{command} says what is missing: {}",
            text(&output)
        );
    }
    let lines = mutual.call_lines();
    assert!(
        lines
            .iter()
            .any(|line| line["principal"] == "spiffe://giropops.test/ns/cli"
                && line["auth"] == "certificate"
                && line["method"] == "GeneratePassword"
                && line["code"] == "OK"),
        "{}",
        mutual.logs()
    );
    drop(mutual);

    // TLS with a token.
    let (token, digest) = new_token();
    let tokens = pki.path("tokens");
    std::fs::write(
        &tokens,
        format_line("ci", Scopes::parse("generate").unwrap(), &digest).unwrap() + "\n",
    )
    .unwrap();
    let token_file = pki.path("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let tls = pki.server_files(false);
    let served = Served::start(&[
        "--tls-cert",
        path_str(&tls.cert),
        "--tls-key",
        path_str(&tls.key),
        "--auth-tokens-file",
        path_str(&tokens),
        "--anonymous-scopes",
        "none",
    ])
    .await;
    let addr = https(served.port);
    let trusting = ["--addr", &addr, "--ca-file", path_str(&ca)];
    let output = run_client(&[&["healthcheck"][..], &trusting].concat());
    assert!(
        output.status.success(),
        "health needs no token: {}",
        text(&output)
    );
    let output = run_client(
        &[
            &["generate"][..],
            &trusting,
            &["--token-file", path_str(&token_file)],
        ]
        .concat(),
    );
    assert!(output.status.success(), "{}", text(&output));
    let output = run_client(&[&["generate"][..], &trusting].concat());
    assert!(!output.status.success(), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("UNAUTHENTICATED") && stderr.contains("a token is required"),
        "{}",
        text(&output)
    );
    let (stranger, _) = new_token();
    let stranger_file = pki.path("stranger");
    std::fs::write(&stranger_file, &stranger).unwrap();
    let output = run_client(
        &[
            &["generate"][..],
            &trusting,
            &["--token-file", path_str(&stranger_file)],
        ]
        .concat(),
    );
    assert!(!output.status.success(), "{}", text(&output));

    let lines = served.call_lines();
    assert!(
        lines.iter().any(|line| line["principal"] == "ci"
            && line["auth"] == "token"
            && line["method"] == "GeneratePassword"
            && line["code"] == "OK"),
        "{}",
        served.logs()
    );
    assert!(
        lines
            .iter()
            .any(|line| line["principal"] == "-" && line["code"] == "UNAUTHENTICATED"),
        "a refused call is logged too: {}",
        served.logs()
    );
    let logs = served.logs();
    for secret in [&token, &stranger] {
        assert!(!logs.contains(&secret[4..]), "a token leaked into the logs");
    }
    assert!(
        !logs.contains(&digest),
        "a token digest leaked into the logs"
    );
}

/// `--history-keys-file` is re-read on SIGHUP: a new first key encrypts
/// what comes next while the old one still decrypts; a bad file keeps the
/// keys (one ERROR, `giropops_reload_failures_total{file="history_keys"}`);
/// removing a key shreds what it wrote (`unknown_key_id`).
#[tokio::test]
async fn history_keys_rotate_and_shred_without_a_restart() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let old = KeyRing::new_key_line("old").unwrap();
    let new = KeyRing::new_key_line("new").unwrap();
    std::fs::write(&keys, format!("{old}\n")).unwrap();
    let served = Served::start(&[
        "--redis-url",
        &redis.url(),
        "--anonymous-scopes",
        "all",
        "--history-keys-file",
        path_str(&keys),
    ])
    .await;
    let mut client = connect_with(
        &format!("http://127.0.0.1:{}", served.port),
        &ClientOptions::default(),
    )
    .await
    .unwrap();
    let first = generate(&mut client).await.unwrap();
    let entries = redis.list(ANONYMOUS_LIST);
    assert!(
        entries.len() == 1 && entries[0].starts_with("g1:old:"),
        "{entries:?}"
    );

    // Rotation: the new key first, the old one kept to decrypt.
    std::fs::write(&keys, format!("{new}\n{old}\n")).unwrap();
    served.hangup();
    let redis_ref = &redis;
    let rotated = wait_until(Duration::from_secs(10), || {
        let mut client = client.clone();
        async move {
            generate(&mut client).await.unwrap();
            redis_ref.list(ANONYMOUS_LIST)[0].starts_with("g1:new:")
        }
    })
    .await;
    assert!(rotated, "{}", served.logs());
    let listed = list(&mut client).await.unwrap();
    assert_eq!(listed.last(), Some(&first), "the old key still decrypts");

    // A bad file: the keys stay, one ERROR, counted.
    std::fs::write(&keys, "new not-base64\n").unwrap();
    served.hangup();
    let counted = wait_until(Duration::from_secs(10), || async {
        served
            .metrics()
            .await
            .contains("giropops_reload_failures_total{file=\"history_keys\"} 1")
    })
    .await;
    assert!(counted, "{}", served.metrics().await);
    served.hangup();
    let failed_twice = wait_until(Duration::from_secs(10), || async {
        served
            .metrics()
            .await
            .contains("giropops_reload_failures_total{file=\"history_keys\"} 2")
    })
    .await;
    assert!(failed_twice, "{}", served.metrics().await);
    let errors: Vec<_> = served
        .logs()
        .lines()
        .filter(|line| line.contains("\"ERROR\"") && line.contains("history_keys"))
        .map(str::to_owned)
        .collect();
    assert_eq!(errors.len(), 1, "one ERROR until fixed: {errors:?}");
    assert!(!errors[0].contains(&new[4..]), "no key material in the log");
    assert_eq!(list(&mut client).await.unwrap(), listed, "the keys stayed");

    // The old key removed: what it wrote is skipped, never returned.
    std::fs::write(&keys, format!("{new}\n")).unwrap();
    served.hangup();
    let shredded = wait_until(Duration::from_secs(10), || {
        let mut client = client.clone();
        let first = first.clone();
        async move { !list(&mut client).await.unwrap().contains(&first) }
    })
    .await;
    assert!(shredded, "{}", served.logs());
    let under_new = redis
        .list(ANONYMOUS_LIST)
        .iter()
        .filter(|entry| entry.starts_with("g1:new:"))
        .count();
    assert!(under_new >= 1 && under_new < listed.len());
    assert_eq!(
        list(&mut client).await.unwrap().len(),
        under_new,
        "every entry under the removed key is skipped"
    );
    let metrics = served.metrics().await;
    assert!(
        metrics.lines().any(|line| line
            .strip_prefix("giropops_history_entries_skipped_total{reason=\"unknown_key_id\"} ")
            .is_some_and(|count| count.trim() != "0")),
        "{metrics}"
    );
}

/// The attack: a certificate with the SAN `ANONYMOUS` (lowercased on
/// match) shared the anonymous callers' history. A client scopes file that
/// names a reserved principal (`anonymous`, `principals`, any case) is now
/// refused: at start-up the server exits naming the line; on a reload the
/// previous grants stay and the failure is counted.
#[tokio::test]
async fn a_scopes_file_naming_a_reserved_principal_is_refused() {
    let pki = Pki::new();
    let files = pki.server_files(true);
    let scopes_file = pki.path("client-scopes");
    let ca = pki.path("ca.pem");
    let args = mutual_tls_flags(&files, &ca, &scopes_file);
    let good = "spiffe://giropops.test/ns/ci generate\n";
    std::fs::write(&scopes_file, format!("{good}ANONYMOUS history\n")).unwrap();
    let output = binary()
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--health-listen", "off", "--metrics-listen", "off"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{}", text(&output));
    assert!(
        stderr.contains("line 2")
            && stderr.contains("\"ANONYMOUS\"")
            && stderr.contains("is reserved"),
        "names the line and the name: {}",
        text(&output)
    );

    std::fs::write(&scopes_file, good).unwrap();
    let served = Served::start(&args).await;
    let addr = https(served.port);
    let ci = pki.client("ci", uri_san("spiffe://giropops.test/ns/ci"));
    let mut ci = connect_with(&addr, &ci.options).await.unwrap();
    generate(&mut ci).await.expect("granted generate");
    std::fs::write(&scopes_file, format!("{good}Principals history\n")).unwrap();
    served.hangup();
    let counted = wait_until(Duration::from_secs(15), || async {
        served
            .metrics()
            .await
            .contains("giropops_reload_failures_total{file=\"tls_client_scopes\"} 1")
    })
    .await;
    assert!(counted, "the refused reload is counted:\n{}", served.logs());
    generate(&mut ci)
        .await
        .expect("the previous grants stay after a refused reload");
    // Logs are written by a thread of their own: the line may trail the
    // counter by a moment.
    let logged = wait_until(Duration::from_secs(5), || async {
        let logs = served.logs();
        logs.contains("line 2") && logs.contains("is reserved")
    })
    .await;
    assert!(logged, "{}", served.logs());
}
