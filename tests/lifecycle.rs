//! The real binary as a process: SIGTERM handling, the `healthcheck`
//! subcommand, and logs that never carry a password.

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use clap::CommandFactory;
use giropops_senhas::cli::Cli;
use giropops_senhas::cli::healthcheck::probe;
use giropops_senhas::proto::v1::password_service_client::PasswordServiceClient;
use giropops_senhas::proto::v1::{
    CheckTokenRequest, GeneratePasswordRequest, GenerateTokenRequest, ListPasswordsRequest,
    TokenFormat,
};
use support::redis_server::free_port;
use support::{RedisServer, wait_until};
use tempfile::TempDir;
use tonic_health::pb::health_check_response::ServingStatus;

const BINARY: &str = env!("CARGO_BIN_EXE_giropops-senhas");

/// Probe options: plaintext, no token, 500 ms.
fn quick_probe() -> giropops_senhas_client::ClientOptions {
    giropops_senhas_client::ClientOptions {
        timeout: Some(Duration::from_millis(500)),
        ..Default::default()
    }
}

/// The binary, with every environment variable it reads removed: a
/// variable exported in the developer's shell cannot change a test.
fn binary() -> Command {
    fn variables(command: &clap::Command, into: &mut Vec<std::ffi::OsString>) {
        into.extend(
            command
                .get_arguments()
                .filter_map(|arg| arg.get_env().map(Into::into)),
        );
        for sub in command.get_subcommands() {
            variables(sub, into);
        }
    }
    let mut names = Vec::new();
    variables(&Cli::command(), &mut names);
    assert!(names.len() > 20, "the CLI reads {} variables", names.len());
    let mut command = Command::new(BINARY);
    for name in names {
        command.env_remove(name);
    }
    command
}

/// The binary running as a child process, its stderr kept in a file.
struct ServerProcess {
    child: Child,
    uri: String,
    log: PathBuf,
    _dir: TempDir,
}

impl ServerProcess {
    fn start(args: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let port = free_port();
        let child = binary()
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--metrics-listen", "off"])
            // Anonymous callers may keep a history, encrypted.
            .args([
                "--anonymous-scopes",
                "all",
                "--history-keys-file",
                "ephemeral",
            ])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start the binary");
        ServerProcess {
            child,
            uri: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        }
    }

    async fn wait_serving(&self) {
        let serving = wait_until(Duration::from_secs(10), || async {
            matches!(
                probe(&self.uri, "", &quick_probe()).await,
                Ok(ServingStatus::Serving)
            )
        })
        .await;
        assert!(
            serving,
            "server never became SERVING; log:\n{}",
            self.logs()
        );
    }

    async fn client(&self) -> PasswordServiceClient<tonic::transport::Channel> {
        PasswordServiceClient::connect(self.uri.clone())
            .await
            .unwrap()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit, up to `timeout`. Async, so that the
    /// test's own client connections keep answering the server's GOAWAY.
    async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// What a GeneratePassword call in flight returns.
type InFlight = tokio::task::JoinHandle<
    Result<tonic::Response<giropops_senhas::proto::v1::GeneratePasswordResponse>, tonic::Status>,
>;

/// A served binary with one GeneratePassword call stuck in flight: Redis
/// is frozen (SIGSTOP) so the call waits inside the server.
async fn call_in_flight(
    command_timeout: &str,
    drain_timeout: &str,
) -> (RedisServer, ServerProcess, InFlight) {
    let redis = RedisServer::start();
    let server = ServerProcess::start(
        &[
            "--redis-url",
            &redis.url(),
            "--redis-command-timeout",
            command_timeout,
            "--drain-timeout",
            drain_timeout,
        ],
        &[],
    );
    server.wait_serving().await;
    let mut client = server.client().await;
    client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("warm the pool");
    redis.pause();
    let in_flight = tokio::spawn(async move {
        client
            .generate_password(GeneratePasswordRequest::default())
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!in_flight.is_finished(), "the call waits on redis");
    (redis, server, in_flight)
}

#[tokio::test]
async fn sigterm_lets_the_call_in_flight_finish_and_exits_0() {
    let (redis, mut server, in_flight) = call_in_flight("20s", "20s").await;

    server.signal("-TERM");
    // Shutdown has begun: no new connections are accepted.
    let refused = wait_until(Duration::from_secs(5), || async {
        probe(
            &server.uri,
            "",
            &giropops_senhas_client::ClientOptions {
                timeout: Some(Duration::from_millis(300)),
                ..Default::default()
            },
        )
        .await
        .is_err()
    })
    .await;
    assert!(refused, "the server stops accepting after SIGTERM");
    assert!(server.child.try_wait().unwrap().is_none(), "still draining");

    redis.resume();
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight call completes")
        .into_inner();
    assert!(response.stored);
    let status = server
        .wait_exit(Duration::from_secs(5))
        .await
        .expect("exits after draining");
    assert!(
        status.success(),
        "exit status {status:?}; log:\n{}",
        server.logs()
    );
    assert!(server.logs().contains("SIGTERM received"));
}

#[tokio::test]
async fn drain_timeout_bounds_shutdown() {
    let (_redis, mut server, in_flight) = call_in_flight("60s", "1s").await;
    let signalled = Instant::now();
    server.signal("-TERM");
    let status = server
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("exits");
    let took = signalled.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(5),
        "bounded by the drain timeout, took {took:?}"
    );
    assert!(in_flight.await.unwrap().is_err(), "the stuck call was cut");
    assert!(server.logs().contains("drain timeout"), "{}", server.logs());
}

#[tokio::test]
async fn healthcheck_subcommand_exit_codes() {
    let mut redis = RedisServer::start();
    let server = ServerProcess::start(
        &[
            "--redis-url",
            &redis.url(),
            "--redis-check-interval",
            "100ms",
        ],
        &[],
    );
    server.wait_serving().await;
    let healthcheck = |uri: &str| {
        let started = Instant::now();
        let output = binary()
            .args(["healthcheck", "--addr", uri])
            .output()
            .unwrap();
        (output, started.elapsed())
    };

    let (output, _) = healthcheck(&server.uri);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "SERVING");

    // Without --addr it probes the port of LISTEN_ADDR, as the image's
    // HEALTHCHECK does when the listen address is changed.
    let listen = server
        .uri
        .trim_start_matches("http://")
        .replace("127.0.0.1", "0.0.0.0");
    let output = binary()
        .arg("healthcheck")
        .env("LISTEN_ADDR", &listen)
        .output()
        .unwrap();
    assert!(output.status.success(), "LISTEN_ADDR={listen}: {output:?}");

    // Redis down: the history's health name fails, the process's does not
    // (readiness must not follow a Redis every replica shares).
    let history = |uri: &str| {
        binary()
            .args([
                "healthcheck",
                "--addr",
                uri,
                "--service",
                "giropops.v1.History",
            ])
            .output()
            .unwrap()
    };
    assert!(history(&server.uri).status.success());
    redis.stop();
    let not_serving = wait_until(Duration::from_secs(5), || async {
        !history(&server.uri).status.success()
    })
    .await;
    assert!(not_serving, "the history check fails while redis is down");
    assert_eq!(
        String::from_utf8_lossy(&history(&server.uri).stdout).trim(),
        "NOT_SERVING"
    );
    let (output, _) = healthcheck(&server.uri);
    assert!(
        output.status.success(),
        "the process stays SERVING: {output:?}"
    );

    let nobody = format!("http://127.0.0.1:{}", free_port());
    let (output, took) = healthcheck(&nobody);
    assert!(!output.status.success());
    assert!(
        took < Duration::from_secs(3),
        "answers within 2s, took {took:?}"
    );
}

#[tokio::test]
async fn logs_never_contain_a_password() {
    let redis = RedisServer::start();
    let mut server = ServerProcess::start(
        &["--redis-url", &redis.url()],
        &[("LOG_LEVEL", "trace"), ("LOG_FORMAT", "json")],
    );
    server.wait_serving().await;
    let mut client = server.client().await;
    let mut passwords = Vec::new();
    for length in [4, 16, 64] {
        let response = client
            .generate_password(GeneratePasswordRequest {
                length,
                include_numbers: true,
                include_special_chars: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        passwords.push(response.password);
    }
    client
        .list_passwords(ListPasswordsRequest::default())
        .await
        .unwrap();
    client
        .generate_password(GeneratePasswordRequest {
            length: 3,
            ..Default::default()
        })
        .await
        .expect_err("invalid");
    let checked = "Tr0ub4dor&3-checked-not-logged".to_owned();
    client
        .check_password(giropops_senhas::proto::v1::CheckPasswordRequest {
            password: checked.clone(),
            user_inputs: vec![],
        })
        .await
        .unwrap();
    passwords.push(checked);
    let phrase = client
        .generate_passphrase(giropops_senhas::proto::v1::GeneratePassphraseRequest::default())
        .await
        .unwrap()
        .into_inner()
        .passphrase;
    passwords.push(phrase);
    // API keys: minted, checked (valid, and one character off), refused.
    for format in [
        TokenFormat::Base62,
        TokenFormat::Base64url,
        TokenFormat::Uuid,
    ] {
        let token = client
            .generate_token(GenerateTokenRequest {
                format: format.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .token;
        let mut off_by_one = token.clone().into_bytes();
        off_by_one[3] = if off_by_one[3] == b'a' { b'b' } else { b'a' };
        let off_by_one = String::from_utf8(off_by_one).unwrap();
        for candidate in [&token, &off_by_one] {
            client
                .check_token(CheckTokenRequest {
                    token: candidate.clone(),
                    format: 0,
                })
                .await
                .unwrap();
        }
        passwords.extend([token, off_by_one]);
    }
    let oversized = "gps_oversized".repeat(50);
    client
        .check_token(CheckTokenRequest {
            token: oversized.clone(),
            format: 0,
        })
        .await
        .expect_err("too long");
    passwords.push(oversized);
    server.signal("-TERM");
    server
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("exits");
    let logs = server.logs();
    assert!(
        logs.lines().count() > 5,
        "trace logging produced lines:\n{logs}"
    );
    assert!(
        logs.lines().all(|l| l.starts_with('{')),
        "JSON lines:\n{logs}"
    );
    for password in &passwords {
        // JSON logs would escape quotes and backslashes: look for both forms.
        let escaped = serde_json::to_string(password).unwrap();
        let escaped = &escaped[1..escaped.len() - 1];
        assert!(
            !logs.contains(password.as_str()) && !logs.contains(escaped),
            "a password or token leaked into the logs"
        );
    }
}

/// Human logs written to a file (not a terminal) carry no ANSI colour
/// codes: a collector or `less` gets plain text.
#[tokio::test]
async fn human_logs_to_a_file_have_no_colour_codes() {
    let mut server = ServerProcess::start(&[], &[("LOG_FORMAT", "human")]);
    server.wait_serving().await;
    server.signal("-TERM");
    server
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("exits");
    let logs = server.logs();
    assert!(logs.contains("serving"), "logs written:\n{logs}");
    assert!(
        !logs.contains('\u{1b}'),
        "ANSI escape codes in a log file:\n{logs:?}"
    );
}

/// A port that is taken (Prometheus often holds :9090) is one line naming
/// the address and the setting that changes it, and exit code 1.
#[test]
fn a_taken_port_is_one_actionable_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let free = format!("127.0.0.1:{}", free_port());
    for (args, flag) in [
        (
            ["--listen", free.as_str(), "--metrics-listen", addr.as_str()],
            "--metrics-listen/METRICS_ADDR",
        ),
        (
            ["--listen", addr.as_str(), "--metrics-listen", "off"],
            "--listen/LISTEN_ADDR",
        ),
    ] {
        let output = binary()
            .args(args)
            .args(["--history-cap", "0"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("ERROR")).collect();
        assert_eq!(errors.len(), 1, "{stderr}");
        for needed in [addr.as_str(), "Address already in use", flag] {
            assert!(errors[0].contains(needed), "{needed:?} missing: {stderr}");
        }
    }
}

/// The CLI names the gRPC code and the cause of a connection failure, and
/// takes host:port as grpcurl does.
#[test]
fn cli_errors_name_the_code_and_the_cause() {
    let nobody = format!("127.0.0.1:{}", free_port());
    let output = binary()
        .args(["generate", "--addr", &nobody])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(&format!("error: cannot connect to http://{nobody}/: "))
            && stderr.contains("refused"),
        "{stderr}"
    );
}
