//! init-secrets: sets written once, kept, refused half; modes; owner.

use std::fs;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;

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
        repair: false,
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
        "TLS: ca.pem, server-key.pem exist(s) but server.pem do(es) not; remove the rest of the set to renew it, or run with --repair"
    );
    let repaired = init_secrets(&InitSecretsArgs {
        repair: true,
        ..args(dir.path())
    })
    .unwrap();
    assert_eq!(repaired[0], SetOutcome::Repaired("TLS"));
    assert!(
        repaired[1..]
            .iter()
            .all(|o| matches!(o, SetOutcome::Kept(_)))
    );
    assert!(dir.path().join("server.pem").is_file());
}

/// A file an attacker planted (or loosened) before a run, for each way it
/// can be untrustworthy: the run stops, naming the file and what is wrong,
/// and writes nothing through it; `--repair` rewrites the set in place
/// (a link is replaced, never followed).
#[test]
fn nothing_planted_is_trusted() {
    let attacker_key = "attacker AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    type Plant = fn(&Path, &Path);
    let cases: [(&str, &str, Plant); 5] = [
        ("history-keys", "is a symbolic link", |dir, bait| {
            fs::remove_file(dir.join("history-keys")).unwrap();
            std::os::unix::fs::symlink(bait, dir.join("history-keys")).unwrap();
        }),
        ("tokens", "is a symbolic link", |dir, bait| {
            fs::remove_file(dir.join("tokens")).unwrap();
            std::os::unix::fs::symlink(bait, dir.join("tokens")).unwrap();
        }),
        (
            "server-key.pem",
            "has mode 0644, looser than 0600",
            |dir, _| {
                fs::set_permissions(
                    dir.join("server-key.pem"),
                    fs::Permissions::from_mode(0o644),
                )
                .unwrap();
            },
        ),
        (
            "redis-users.acl",
            "has mode 0660, looser than 0640",
            |dir, _| {
                fs::set_permissions(
                    dir.join("redis-users.acl"),
                    fs::Permissions::from_mode(0o660),
                )
                .unwrap();
            },
        ),
        ("token", "is not a regular file", |dir, _| {
            fs::remove_file(dir.join("token")).unwrap();
            fs::create_dir(dir.join("token")).unwrap();
        }),
    ];
    for (name, problem, plant) in cases {
        let dir = tempfile::tempdir().unwrap();
        let bait = dir.path().join("bait");
        let secrets = dir.path().join("secrets");
        init_secrets(&args(&secrets)).unwrap();
        fs::write(&bait, attacker_key).unwrap();
        fs::set_permissions(&bait, fs::Permissions::from_mode(0o644)).unwrap();
        plant(&secrets, &bait);
        let error = init_secrets(&args(&secrets)).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{}: {problem}; remove it, or run with --repair to rewrite its set",
                secrets.join(name).display()
            )
        );
        if name == "token" {
            // A directory: rename cannot replace it; the operator removes it.
            continue;
        }
        let repaired = init_secrets(&InitSecretsArgs {
            repair: true,
            ..args(&secrets)
        })
        .unwrap();
        assert_eq!(
            repaired
                .iter()
                .filter(|o| matches!(o, SetOutcome::Repaired(_)))
                .count(),
            1,
            "{name}: {repaired:?}"
        );
        let metadata = fs::symlink_metadata(secrets.join(name)).unwrap();
        assert!(metadata.file_type().is_file(), "{name}");
        assert!(
            metadata.mode() & 0o077 & !0o040 == 0,
            "{name}: {:o}",
            metadata.mode()
        );
        assert_eq!(
            fs::read_to_string(&bait).unwrap(),
            attacker_key,
            "the bait untouched"
        );
        // And the repaired set is trusted from now on.
        let again = init_secrets(&args(&secrets)).unwrap();
        assert!(
            again.iter().all(|o| matches!(o, SetOutcome::Kept(_))),
            "{again:?}"
        );
    }
}

#[test]
fn files_of_another_owner_are_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    init_secrets(&args(dir.path())).unwrap();
    let me = fs::metadata(dir.path().join("token")).unwrap().uid();
    // The files are this user's; a run for another owner refuses them.
    let error = init_secrets(&InitSecretsArgs {
        owner: Some((me + 4242, 4242)),
        ..args(dir.path())
    })
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: is owned by uid {me}, not {}; remove it, or run with --repair to rewrite its set",
            dir.path().join("ca.pem").display(),
            me + 4242
        )
    );
}

#[test]
fn the_lock_is_not_followed_and_the_directory_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    fs::create_dir(&secrets).unwrap();
    let target = dir.path().join("created-by-root");
    std::os::unix::fs::symlink(&target, secrets.join(".init-secrets.lock")).unwrap();
    let error = init_secrets(&args(&secrets)).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with(".init-secrets.lock: is a symbolic link: remove it"),
        "{error}"
    );
    assert!(!target.exists(), "nothing created through the link");
    assert_eq!(
        fs::read_dir(&secrets).unwrap().count(),
        1,
        "nothing written"
    );

    let open = dir.path().join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    let error = init_secrets(&args(&open)).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: is world-writable (mode 0777): anyone could plant files in it",
            open.display()
        )
    );
    assert_eq!(fs::read_dir(&open).unwrap().count(), 0, "nothing written");
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
             +ping +unwatch +eval +hget +hset +hmget +lpush +ltrim +lrange +expire +sadd +smembers +wait +role\n"
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
