//! The grammar, parsed without the environment: a variable exported in the
//! developer's shell cannot change these results.

use std::time::Duration;

use clap::{CommandFactory, FromArgMatches};

use super::serve::OptionalAddr;
use super::*;
use crate::history::HistoryMode;

/// The CLI with every `env = …` source removed.
fn hermetic() -> clap::Command {
    fn strip(command: clap::Command) -> clap::Command {
        command.mut_args(|arg| arg.env(None)).mut_subcommands(strip)
    }
    strip(Cli::command())
}

fn try_parse(args: &[&str]) -> Result<Cli, clap::Error> {
    let matches = hermetic()
        .try_get_matches_from(std::iter::once("giropops-senhas").chain(args.iter().copied()))?;
    Cli::from_arg_matches(&matches)
}

fn parse(args: &[&str]) -> Cli {
    try_parse(args).expect("valid arguments")
}

fn config(args: &[&str]) -> Result<ServerConfig, serve::ConfigErrors> {
    ServerConfig::try_from(parse(args).serve)
}

#[test]
fn cli_is_well_formed() {
    Cli::command().debug_assert();
}

#[test]
fn redis_url_wins_over_host_and_port() {
    let cli = parse(&[
        "--redis-url",
        "rediss://r:6380",
        "--redis-host",
        "h",
        "--redis-port",
        "1",
    ]);
    assert_eq!(cli.serve.redis.url(), "rediss://r:6380");
    let cli = parse(&["--redis-host", "cache", "--redis-port", "6390"]);
    assert_eq!(cli.serve.redis.url(), "redis://cache:6390");
}

#[test]
fn defaults_become_the_documented_config() {
    let cli = parse(&[]);
    assert_eq!(cli.serve.listen, "127.0.0.1:50051".parse().unwrap());
    let config = ServerConfig::try_from(cli.serve).unwrap();
    // Anonymous callers may generate and check only: nobody may keep a
    // history, so there is none, and no Redis is needed.
    assert!(config.history.is_none());
    assert_eq!(config.trust.anonymous_scopes.to_string(), "generate,check");
    assert!(config.trust.tokens.is_none() && config.trust.tls.is_none());
    assert_eq!(config.metrics_addr, Some("127.0.0.1:9090".parse().unwrap()));
    assert!(!config.metrics_principal_label);
    assert_eq!(config.health_addr, None);
    assert_eq!(config.limits.request_timeout, Duration::from_secs(10));
    assert_eq!(
        config.limits.max_connection_age,
        Some(Duration::from_secs(300))
    );
}

#[test]
fn a_history_when_a_caller_may_keep_one_encrypted() {
    let on = [
        "--anonymous-scopes",
        "all",
        "--history-keys-file",
        "ephemeral",
    ];
    let history = config(&on).unwrap().history.expect("history on");
    assert_eq!(history.cap, 10);
    assert_eq!(history.target.to_string(), "redis://127.0.0.1:6379/0");
    assert_eq!(history.key, "giropops-senhas:history");
    assert_eq!(history.ttl, Duration::from_secs(24 * 3600));
    let off = ["--history-cap", "0", "--anonymous-scopes", "all"];
    assert!(config(&off).unwrap().history.is_none());
    let errors = config(&["--anonymous-scopes", "generate,history"]).unwrap_err();
    assert!(
        errors
            .to_string()
            .contains("--history-keys-file/HISTORY_KEYS_FILE"),
        "{errors}"
    );
}

#[test]
fn the_metadata_mode_needs_no_keys_file() {
    let default = config(&[
        "--anonymous-scopes",
        "all",
        "--history-keys-file",
        "ephemeral",
    ]);
    assert_eq!(
        default.unwrap().history.unwrap().mode,
        HistoryMode::Encrypted
    );
    let metadata = config(&["--anonymous-scopes", "all", "--history-mode", "metadata"])
        .expect("no keys file needed: no secret is stored");
    assert_eq!(metadata.history.unwrap().mode, HistoryMode::Metadata);
    let errors = try_parse(&["--history-mode", "plain"]).unwrap_err();
    assert!(errors.to_string().contains("\"metadata\""), "{errors}");
}

#[test]
fn tokens_never_travel_in_plaintext_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    let (_token, digest) = crate::auth::new_token();
    std::fs::write(&tokens, format!("ci generate {digest}\n")).unwrap();
    let tokens = tokens.to_str().unwrap();
    let public = ["--listen", "0.0.0.0:50051", "--auth-tokens-file", tokens];
    let errors = config(&public).unwrap_err().to_string();
    assert!(
        errors.contains("tokens would travel in plaintext on 0.0.0.0:50051"),
        "{errors}"
    );
    let mesh = [&public[..], &["--allow-plaintext"]].concat();
    assert!(config(&mesh).is_ok());
    assert!(
        config(&["--auth-tokens-file", tokens]).is_ok(),
        "loopback is fine"
    );
}

#[test]
fn bounds_are_enforced() {
    assert!(try_parse(&["--history-cap", "10001"]).is_err());
    assert!(try_parse(&["--redis-pool-size", "0"]).is_err());
}

#[test]
fn every_invalid_setting_is_reported_at_once() {
    let errors = config(&[
        "--request-timeout",
        "0s",
        "--history-key",
        " ",
        "--redis-url",
        "http://user:hunter2@x",
        "--anonymous-scopes",
        "all",
        "--history-keys-file",
        "ephemeral",
    ])
    .unwrap_err();
    assert_eq!(errors.0.len(), 3, "{errors}");
    let text = errors.to_string();
    assert!(
        text.contains("--request-timeout/REQUEST_TIMEOUT must be above 0"),
        "{text}"
    );
    assert!(text.contains("--history-key/HISTORY_KEY"), "{text}");
    assert!(text.contains("--redis-url/REDIS_URL"), "{text}");
    assert!(!text.contains("hunter2"), "the password leaked: {text}");
}

#[test]
fn metrics_can_be_turned_off() {
    assert_eq!(
        parse(&["--metrics-listen", "off"]).serve.metrics_listen,
        OptionalAddr(None)
    );
    let error = try_parse(&["--metrics-listen", "nope"])
        .unwrap_err()
        .to_string();
    assert!(error.contains("expected host:port"), "{error}");
}

#[test]
fn the_principal_label_is_a_switch() {
    assert!(
        config(&["--metrics-principal-label"])
            .unwrap()
            .metrics_principal_label
    );
}

#[test]
fn healthcheck_is_a_subcommand() {
    let cli = parse(&["healthcheck", "--addr", "http://127.0.0.1:1"]);
    match cli.command {
        Some(Command::Healthcheck(args)) => {
            assert_eq!(args.addr.as_deref(), Some("http://127.0.0.1:1"))
        }
        other => panic!("expected healthcheck, got {other:?}"),
    }
}

#[test]
fn numbers_is_spelled_the_same_everywhere() {
    for command in ["generate", "passphrase"] {
        for flag in ["--numbers", "--number"] {
            assert!(try_parse(&[command, flag]).is_ok(), "{command} {flag}");
        }
    }
}

#[test]
fn client_scopes_need_mutual_tls_and_are_reported_with_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let scopes = dir.path().join("client-scopes");
    std::fs::write(&scopes, "spiffe://giropops.test/ci generate,history\n").unwrap();
    let scopes = scopes.to_str().unwrap();
    let errors = config(&["--tls-client-scopes", scopes, "--request-timeout", "0s"])
        .unwrap_err()
        .to_string();
    assert!(
        errors.contains("--tls-client-scopes/TLS_CLIENT_SCOPES_FILE needs mutual TLS"),
        "{errors}"
    );
    assert!(errors.contains("--request-timeout"), "{errors}");
    // A SAN granted `history` means a history, so keys are needed.
    let (cert, key, ca) = ("cert.pem", "key.pem", "ca.pem");
    let mutual = [
        "--tls-cert",
        cert,
        "--tls-key",
        key,
        "--tls-client-ca",
        ca,
        "--tls-client-scopes",
        scopes,
        "--anonymous-scopes",
        "none",
    ];
    let errors = config(&mutual).unwrap_err().to_string();
    assert!(errors.contains("--history-keys-file"), "{errors}");
    let with_keys = [&mutual[..], &["--history-keys-file", "ephemeral"]].concat();
    let trust = config(&with_keys).unwrap().trust;
    let (path, table) = trust.client_scopes.expect("client scopes");
    assert_eq!(path.to_str(), Some(scopes));
    assert_eq!(table.len(), 1);
    // A bad file is reported with its line.
    let bad = dir.path().join("bad");
    std::fs::write(&bad, "host.example teleport\n").unwrap();
    let bad_mutual = [
        "--tls-cert",
        cert,
        "--tls-key",
        key,
        "--tls-client-ca",
        ca,
        "--tls-client-scopes",
        bad.to_str().unwrap(),
    ];
    let errors = config(&bad_mutual).unwrap_err().to_string();
    assert!(
        errors.contains("--tls-client-scopes/TLS_CLIENT_SCOPES_FILE: client scopes file")
            && errors.contains("line 1: unknown scope \"teleport\""),
        "{errors}"
    );
}

#[test]
fn redis_url_or_sentinels_not_both_reported_with_the_rest() {
    let errors = config(&[
        "--anonymous-scopes",
        "all",
        "--history-keys-file",
        "ephemeral",
        "--redis-url",
        "redis://:s3cret@r:6379",
        "--redis-sentinels",
        "s1:26379,s2:26379",
        "--history-key",
        " ",
    ])
    .unwrap_err()
    .to_string();
    assert!(
        errors.contains("--redis-url/REDIS_URL")
            && errors.contains("--redis-sentinels/REDIS_SENTINELS, not both"),
        "{errors}"
    );
    assert!(errors.contains("--redis-sentinel-master"), "{errors}");
    assert!(errors.contains("--history-key/HISTORY_KEY"), "{errors}");
    assert!(!errors.contains("s3cret"), "{errors}");
}

#[test]
fn sentinels_and_a_password_file_make_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, "s3cret\n").unwrap();
    let history = config(&[
        "--anonymous-scopes",
        "all",
        "--history-keys-file",
        "ephemeral",
        "--redis-sentinels",
        "s1:26379, s2:26380",
        "--redis-sentinel-master",
        "mymaster",
        "--redis-password-file",
        password.to_str().unwrap(),
    ])
    .unwrap()
    .history
    .expect("history on");
    let target = history.target;
    assert_eq!(
        target.to_string(),
        "sentinel redis://s1:26379,s2:26380/0 master \"mymaster\""
    );
    let crate::history::RedisTarget::Sentinel(sentinel) = target else {
        panic!("a sentinel target")
    };
    assert_eq!(sentinel.auth.password(), Some("s3cret"));
}

#[test]
fn replicated_acks_need_nested_timeouts() {
    let base = [
        "--anonymous-scopes",
        "all",
        "--history-keys-file",
        "ephemeral",
        "--redis-min-replicas-ack",
        "1",
    ];
    let ok = [&base[..], &["--redis-response-timeout", "1s"]].concat();
    let history = config(&ok).unwrap().history.unwrap();
    assert_eq!(history.min_replicas_ack, 1);
    assert_eq!(history.wait_timeout, Duration::from_millis(500));
    for bad in [
        // WAIT not below the response timeout (default: the command timeout)
        &["--redis-wait-timeout", "2s"][..],
        // command timeout not below the request deadline
        &[
            "--redis-command-timeout",
            "10s",
            "--redis-wait-timeout",
            "1s",
        ][..],
    ] {
        let errors = config(&[&base[..], bad].concat()).unwrap_err().to_string();
        assert!(errors.contains("timeouts must nest"), "{errors}");
    }
}

#[test]
fn a_redis_ca_needs_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not checked here").unwrap();
    let args = [
        "--anonymous-scopes",
        "all",
        "--history-keys-file",
        "ephemeral",
        "--redis-ca-file",
        ca.to_str().unwrap(),
    ];
    let errors = config(&args).unwrap_err().to_string();
    assert!(
        errors.contains("--redis-ca-file/REDIS_CA_FILE needs TLS"),
        "{errors}"
    );
    let tls = [&args[..], &["--redis-url", "rediss://r:6380"]].concat();
    assert_eq!(
        config(&tls).unwrap().history.unwrap().tls_roots.as_deref(),
        Some(&b"not checked here"[..])
    );
}
