//! Redis over TLS with a private CA, against a real TLS `redis-server`
//! (certificates made here with rcgen), directly and through a TLS
//! Sentinel with passwords; and the Redis password kept out of
//! the binary's output for `redis://`, `rediss://` and `redis+unix://`
//! targets, and for `REDIS_PASSWORD_FILE`.

mod support;

use std::process::Stdio;
use std::time::Duration;

use giropops_senhas::history::{RedisTarget, SentinelTarget};
use giropops_senhas::proto::v1::password_service_client::PasswordServiceClient;
use giropops_senhas::proto::v1::{GeneratePasswordRequest, ListPasswordsRequest};
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, SanType,
};
use support::process::{binary, health};
use support::redis_server::{MASTER_NAME, Sentinel, free_port};
use support::{RedisServer, TestServer, redis_config, wait_until};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

/// A CA, and a server certificate for 127.0.0.1 signed by it, as files.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().unwrap();
        let ca_pem = params.self_signed(&ca_key).unwrap().pem();
        let ca = Issuer::new(params, ca_key);
        let mut params = CertificateParams::default();
        params.subject_alt_names = vec![
            SanType::IpAddress([127, 0, 0, 1].into()),
            SanType::DnsName("localhost".try_into().unwrap()),
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca_pem).unwrap();
        std::fs::write(dir.path().join("redis.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("redis.key"), key.serialize_pem()).unwrap();
        Pki { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }

    fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.path("ca.pem")).unwrap()
    }
}

/// A `redis-server` with a TLS port (and its plaintext one, for the
/// harness's readiness check); returns it and the TLS port.
fn tls_redis(pki: &Pki, extra: &[&str]) -> (RedisServer, u16) {
    let tls_port = free_port();
    let port = tls_port.to_string();
    let (cert, key, ca) = (
        pki.path("redis.pem"),
        pki.path("redis.key"),
        pki.path("ca.pem"),
    );
    let mut args = vec![
        "--tls-port",
        &port,
        "--tls-cert-file",
        &cert,
        "--tls-key-file",
        &key,
        "--tls-ca-cert-file",
        &ca,
        "--tls-auth-clients",
        "no",
    ];
    args.extend(extra);
    (RedisServer::start_with(&args, None), tls_port)
}

#[tokio::test]
async fn rediss_with_a_private_ca_works_and_without_it_is_unavailable() {
    let pki = Pki::new();
    let (redis, tls_port) = tls_redis(&pki, &[]);
    let url = format!("rediss://127.0.0.1:{tls_port}");

    let mut config = redis_config(&url, 10);
    let history = config.history.as_mut().unwrap();
    history.target = RedisTarget::url(&url).unwrap();
    history.tls_roots = Some(pki.ca_pem());
    let server = TestServer::start(config).await;
    let mut client = server.client().await;
    let generated = client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("stored over TLS")
        .into_inner();
    assert!(generated.stored);
    let listed = client
        .list_passwords(ListPasswordsRequest::default())
        .await
        .expect("listed over TLS")
        .into_inner();
    assert_eq!(listed.passwords[0].password, generated.password);
    assert_eq!(redis.list(support::ANONYMOUS_LIST).len(), 1);
    assert!(
        wait_until(Duration::from_secs(5), || async {
            server.health_status("giropops.v1.History").await == ServingStatus::Serving as i32
        })
        .await
    );
    server.shutdown().await;

    // The public roots do not know the private CA: the handshake fails.
    let server = TestServer::start(redis_config(&url, 10)).await;
    let status = server
        .client()
        .await
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect_err("the certificate is not trusted");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(
        server.health_status("giropops.v1.History").await,
        ServingStatus::NotServing as i32
    );
    assert_eq!(
        redis.list(support::ANONYMOUS_LIST).len(),
        1,
        "nothing written"
    );
    server.shutdown().await;
}

const PASSWORD: &str = "pw-9f2c1e7d-never-in-logs";

/// Runs the binary against `args`, checks a call is stored (so the
/// password was right), stops it, and returns stdout + stderr.
async fn output_of(args: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = binary()
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--metrics-listen", "off", "--log-level", "debug"])
        .args([
            "--anonymous-scopes",
            "all",
            "--history-keys-file",
            "ephemeral",
        ])
        .args(["--redis-check-interval", "100ms"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.path().join("out")).unwrap())
        .stderr(std::fs::File::create(dir.path().join("err")).unwrap())
        .spawn()
        .unwrap();
    let uri = format!("http://127.0.0.1:{port}");
    let serving = wait_until(Duration::from_secs(20), || async {
        health(&uri, "giropops.v1.History", Duration::from_millis(500)).await
            == Ok(ServingStatus::Serving)
    })
    .await;
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
    assert!(serving, "redis never reachable; log:\n{}", read("err"));
    let mut client = PasswordServiceClient::connect(uri).await.unwrap();
    let response = client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("stored: the password was right")
        .into_inner();
    assert!(response.stored);
    child.kill().ok();
    child.wait().ok();
    (read("out"), read("err"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_password_never_reaches_the_output() {
    let pki = Pki::new();
    let socket = pki.path("redis.sock");
    let (redis, tls_port) = tls_redis(&pki, &["--unixsocket", &socket, "--unixsocketperm", "700"]);
    // Only now: the harness's readiness PING has no password.
    redis.run(&["CONFIG", "SET", "requirepass", PASSWORD]);
    let password_file = redis.dir().join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let ca = pki.path("ca.pem");
    let plain = format!("redis://:{PASSWORD}@127.0.0.1:{}", redis.port());
    let tls = format!("rediss://:{PASSWORD}@127.0.0.1:{tls_port}/0");
    let unix = format!("redis+unix://{socket}?db=0&pass={PASSWORD}");
    let from_file = format!("redis://127.0.0.1:{}", redis.port());
    let cases: [(Vec<&str>, String); 4] = [
        (
            vec!["--redis-url", &plain],
            format!("redis://127.0.0.1:{}/0", redis.port()),
        ),
        (
            vec!["--redis-url", &tls, "--redis-ca-file", &ca],
            format!("rediss://127.0.0.1:{tls_port}/0"),
        ),
        (
            vec!["--redis-url", &unix],
            format!("redis+unix://{socket}?db=0"),
        ),
        (
            vec![
                "--redis-url",
                &from_file,
                "--redis-password-file",
                password_file.to_str().unwrap(),
            ],
            format!("redis://127.0.0.1:{}/0", redis.port()),
        ),
    ];
    for (args, shown) in cases {
        let (out, err) = output_of(&args).await;
        assert!(
            !out.contains(PASSWORD) && !err.contains(PASSWORD),
            "the password leaked with {shown}:\n{out}\n{err}"
        );
        assert!(err.contains(&shown), "the log names {shown}:\n{err}");
    }
}

/// Sentinel with TLS and passwords everywhere: a TLS master and replica
/// that require a password, a TLS Sentinel that requires its own; the
/// service trusts the private CA, authenticates to both, and works;
/// without the CA it is UNAVAILABLE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_over_tls_with_passwords() {
    const SENTINEL_PASSWORD: &str = "sentinel-pw-3b1d-never-in-logs";
    let pki = Pki::new();
    let (master, master_tls) = tls_redis(&pki, &[]);
    let master_tls = master_tls.to_string();
    let (replica, _) = tls_redis(
        &pki,
        &[
            "--replicaof",
            "127.0.0.1",
            &master_tls,
            "--tls-replication",
            "yes",
            "--masterauth",
            PASSWORD,
        ],
    );
    for server in [&master, &replica] {
        server.run(&["CONFIG", "SET", "requirepass", PASSWORD]);
    }
    let sentinel_tls = free_port();
    let extra = format!(
        "tls-port {sentinel_tls}\ntls-cert-file {}\ntls-key-file {}\ntls-ca-cert-file {}\n\
         tls-auth-clients no\ntls-replication yes\nrequirepass {SENTINEL_PASSWORD}\n\
         sentinel auth-pass {MASTER_NAME} {PASSWORD}",
        pki.path("redis.pem"),
        pki.path("redis.key"),
        pki.path("ca.pem"),
    );
    let sentinel = Sentinel::start_with(
        master_tls.parse().unwrap(),
        1,
        &extra,
        Some(SENTINEL_PASSWORD),
    );
    assert_eq!(
        sentinel.master_addr().unwrap().to_string(),
        master_tls,
        "the sentinel watches the TLS port"
    );
    let history = |roots: Option<Vec<u8>>| {
        let mut config = redis_config("redis://127.0.0.1:1", 10);
        let history = config.history.as_mut().unwrap();
        history.target = RedisTarget::Sentinel(SentinelTarget {
            sentinels: vec![("127.0.0.1".to_owned(), sentinel_tls)],
            master: MASTER_NAME.to_owned(),
            tls: true,
            auth: redis::RedisConnectionInfo::default().set_password(PASSWORD),
            sentinel_password: Some(SENTINEL_PASSWORD.to_owned()),
        });
        history.tls_roots = roots;
        history.connect_timeout = Duration::from_secs(2);
        history.response_timeout = Duration::from_secs(2);
        history.command_timeout = Duration::from_secs(3);
        config
    };

    let server = TestServer::start(history(Some(pki.ca_pem()))).await;
    let mut client = server.client().await;
    let generated = client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("stored through a TLS sentinel")
        .into_inner();
    assert!(generated.stored);
    let listed = client
        .list_passwords(ListPasswordsRequest::default())
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(listed.passwords[0].password, generated.password);
    let stored: usize = redis::cmd("LLEN")
        .arg(support::ANONYMOUS_LIST)
        .query(
            &mut redis::Client::open(format!("redis://:{PASSWORD}@127.0.0.1:{}", master.port()))
                .unwrap()
                .get_connection()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(stored, 1, "on the master");
    assert!(
        wait_until(Duration::from_secs(5), || async {
            server.health_status("giropops.v1.History").await == ServingStatus::Serving as i32
        })
        .await,
        "health follows the master through the sentinel"
    );
    server.shutdown().await;

    // The binary, from flags and files: no password in its output.
    let dir = tempfile::tempdir().unwrap();
    let (password, sentinel_password) = (dir.path().join("pw"), dir.path().join("spw"));
    std::fs::write(&password, PASSWORD).unwrap();
    std::fs::write(&sentinel_password, SENTINEL_PASSWORD).unwrap();
    let sentinels = format!("127.0.0.1:{sentinel_tls}");
    let (out, err) = output_of(&[
        "--redis-sentinels",
        &sentinels,
        "--redis-sentinel-master",
        MASTER_NAME,
        "--redis-sentinel-tls",
        "--redis-ca-file",
        &pki.path("ca.pem"),
        "--redis-password-file",
        password.to_str().unwrap(),
        "--redis-sentinel-password-file",
        sentinel_password.to_str().unwrap(),
    ])
    .await;
    for secret in [PASSWORD, SENTINEL_PASSWORD] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "a password leaked:\n{out}\n{err}"
        );
    }
    assert!(
        err.contains(&format!("sentinel rediss://{sentinels}/0 master")),
        "the log names the sentinels:\n{err}"
    );

    let server = TestServer::start(history(None)).await;
    let status = server
        .client()
        .await
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect_err("the sentinel's certificate is not trusted");
    assert_eq!(status.code(), Code::Unavailable);
    server.shutdown().await;
}
