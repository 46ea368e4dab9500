//! init-secrets: sets written once, kept, refused half; modes; owner.

use std::os::unix::fs::PermissionsExt as _;

use super::generate::civil_from_days;
use super::*;
use crate::auth::TokenTable;

fn args(dir: &Path) -> InitSecretsArgs {
    InitSecretsArgs {
        dir: dir.to_owned(),
        owner: None,
        sans: vec!["senhas.example.com".to_owned()],
        token_name: "operator".to_owned(),
        token_scopes: Scopes::parse("generate,history").unwrap(),
        history_key: "giropops-senhas:history".to_owned(),
    }
}

#[test]
fn writes_every_set_once_with_private_modes() {
    let dir = tempfile::tempdir().unwrap();
    let written = init_secrets(&args(dir.path())).unwrap();
    assert_eq!(
        written,
        [
            SetOutcome::Written("TLS"),
            SetOutcome::Written("token"),
            SetOutcome::Written("history keys"),
            SetOutcome::Written("Redis"),
        ]
    );
    let mut modes: Vec<(String, u32)> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            (entry.file_name().into_string().unwrap(), mode)
        })
        .collect();
    modes.sort();
    let expected = [
        (".init-secrets.lock", 0o600),
        ("ca.pem", 0o640),
        ("history-keys", 0o600),
        ("redis-password", 0o600),
        ("redis-users.acl", 0o640),
        ("server-key.pem", 0o600),
        ("server.pem", 0o640),
        ("token", 0o600),
        ("tokens", 0o640),
    ]
    .map(|(name, mode)| (name.to_owned(), mode));
    assert_eq!(modes, expected);

    // The files are what the server loads.
    let read = |name: &str| fs::read_to_string(dir.path().join(name)).unwrap();
    let table = TokenTable::load(&dir.path().join("tokens")).unwrap();
    let principal = table.principals().next().unwrap();
    assert_eq!(&*principal.name, "operator");
    assert!(read("token").trim().starts_with("gps_"));
    assert!(KeyRing::load(dir.path().join("history-keys")).is_ok());
    let password = read("redis-password");
    let acl = read("redis-users.acl");
    assert!(!acl.contains(password.trim()), "only its digest");
    assert!(read("server.pem").starts_with("-----BEGIN CERTIFICATE-----"));

    // Idempotent: nothing is rewritten.
    let again = init_secrets(&args(dir.path())).unwrap();
    assert!(again.iter().all(|o| matches!(o, SetOutcome::Kept(_))));
    assert_eq!(read("redis-password"), password);
}

/// Two runs at once (two replicas of the job) produce one consistent
/// set: the token matches its tokens line, whoever won.
#[test]
fn concurrent_runs_write_one_consistent_set() {
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let args = args(dir.path());
            std::thread::spawn(move || init_secrets(&args))
        })
        .collect();
    let outcomes: Vec<Vec<SetOutcome>> = runs
        .into_iter()
        .map(|run| run.join().unwrap().unwrap())
        .collect();
    let written = outcomes
        .iter()
        .filter(|outcome| outcome.contains(&SetOutcome::Written("token")))
        .count();
    assert_eq!(written, 1, "{outcomes:?}");
    let token = fs::read_to_string(dir.path().join("token")).unwrap();
    let table = TokenTable::load(&dir.path().join("tokens")).unwrap();
    let principal = table
        .authenticate(token.trim())
        .expect("the token matches its line");
    assert_eq!(&*principal.name, "operator");
}

#[test]
fn a_partial_set_is_an_error_naming_the_files() {
    let dir = tempfile::tempdir().unwrap();
    init_secrets(&args(dir.path())).unwrap();
    fs::remove_file(dir.path().join("server.pem")).unwrap();
    let error = init_secrets(&args(dir.path())).unwrap_err();
    assert_eq!(
        error.to_string(),
        "TLS: ca.pem, server-key.pem exist(s) but server.pem do(es) not; remove the rest of the set to renew it"
    );
}

#[test]
fn the_acl_limits_the_user_to_the_history_keys_and_commands() {
    let acl = redis_acl("pw", "giropops-senhas:history").unwrap();
    let digest = "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4";
    assert_eq!(
        acl,
        format!(
            "user default off resetpass resetkeys resetchannels -@all\n\
             user giropops-senhas on #{digest} resetkeys ~{{giropops-senhas:history}}:* resetchannels -@all \
             +ping +unwatch +multi +exec +lpush +ltrim +lrange +expire +sadd +smembers +wait +role\n"
        )
    );
    let escaped = redis_acl("pw", "a*b").unwrap();
    assert!(escaped.contains(r"~{a\*b}:* "), "{escaped}");
    assert!(redis_acl("pw", "a b").is_err());
}

#[test]
fn dates_are_civil() {
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    assert_eq!(parse_owner("65532:1000"), Ok((65532, 1000)));
    assert!(parse_owner("nobody").is_err());
}
