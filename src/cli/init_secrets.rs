//! `giropops-senhas init-secrets --dir DIR`: every secret a compose
//! deployment needs, written once into a directory (a named volume), so
//! that `docker compose up` needs nothing set by hand and no secret ever
//! sits in an environment variable.
//!
//! Files, by set; a set is written only when none of its files exists, kept
//! as it is when all exist, and an error when only some do (remove the
//! others to renew the set):
//!
//! | set     | file                | mode | holds                                  |
//! |---------|---------------------|------|----------------------------------------|
//! | TLS     | `ca.pem`            | 0640 | the CA certificate clients trust       |
//! |         | `server.pem`        | 0640 | the server certificate, signed by it   |
//! |         | `server-key.pem`    | 0600 | its private key                        |
//! | token   | `token`             | 0600 | a bearer token (`gps_…`), for callers  |
//! |         | `tokens`            | 0640 | its `AUTH_TOKENS_FILE` line (a digest) |
//! | history | `history-keys`      | 0600 | the `HISTORY_KEYS_FILE` key            |
//! | Redis   | `redis-password`    | 0600 | the service's Redis password           |
//! |         | `redis-users.acl`   | 0640 | the Redis ACL file (its SHA-256 only)  |
//!
//! The CA's private key is not kept: a renewed TLS set is a new CA. With
//! `--owner UID:GID` the files are given to that user and group (the
//! service's user reads them all; Redis, in the group, reads the 0640 ones).
//! Nothing secret is printed: only which files were written or kept.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Args;
use rand::Rng as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, date_time_ymd,
};
use sha2::{Digest as _, Sha256};

use crate::auth::{Scopes, format_line, new_token};
use crate::keyring::KeyRing;

/// The Redis user the service connects as.
pub const REDIS_USER: &str = "giropops-senhas";

/// Every Redis command the service sends: the history's `MULTI`/`LPUSH`/
/// `LTRIM`/`EXPIRE`/`SADD`/`EXEC` and `LRANGE`/`SMEMBERS`, the health
/// `PING`, deadpool's recycling `UNWATCH` + `PING`, and `WAIT`/`ROLE` for
/// replicated acknowledgements and Sentinel. (`AUTH` is always allowed.
/// The service skips redis-rs's `CLIENT SETINFO` on connections to a Redis
/// named by URL; through Sentinel redis-rs may still send it, and ignores
/// the refusal.)
pub const REDIS_COMMANDS: &[&str] = &[
    "ping", "unwatch", "multi", "exec", "lpush", "ltrim", "lrange", "expire", "sadd", "smembers",
    "wait", "role",
];

/// `init-secrets` options.
#[derive(Debug, Args)]
pub struct InitSecretsArgs {
    /// Directory to write into (created if missing), e.g. /run/secrets.
    #[arg(long)]
    pub dir: PathBuf,
    /// Give the files to this user and group (`UID:GID`, numeric); needs
    /// the right to chown (root with CAP_CHOWN in a container).
    #[arg(long, value_parser = parse_owner)]
    pub owner: Option<(u32, u32)>,
    /// Names the server certificate is valid for, besides localhost,
    /// 127.0.0.1, ::1, app and giropops-senhas (repeatable).
    #[arg(long = "san")]
    pub sans: Vec<String>,
    /// Name of the token (its principal).
    #[arg(long, default_value = "operator")]
    pub token_name: String,
    /// Scopes of the token.
    #[arg(long, default_value = "generate,check,history")]
    pub token_scopes: Scopes,
    /// The history key prefix the Redis user is limited to (as HISTORY_KEY).
    #[arg(long, env = "HISTORY_KEY", default_value = "giropops-senhas:history")]
    pub history_key: String,
}

fn parse_owner(value: &str) -> Result<(u32, u32), String> {
    let (uid, gid) = value
        .split_once(':')
        .ok_or_else(|| format!("expected UID:GID (numbers), got {value:?}"))?;
    let number = |n: &str| {
        n.parse::<u32>()
            .map_err(|_| format!("expected UID:GID (numbers), got {value:?}"))
    };
    Ok((number(uid)?, number(gid)?))
}

/// Why the secrets could not be written.
#[derive(Debug, thiserror::Error)]
pub enum InitSecretsError {
    /// A file could not be written, read or given away.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Some files of a set exist, others not: they would not match.
    #[error(
        "{set}: {present} exist(s) but {missing} do(es) not; remove the rest of the set to renew it"
    )]
    PartialSet {
        /// The set.
        set: &'static str,
        /// The files that exist.
        present: String,
        /// The files that do not.
        missing: String,
    },
    /// A setting cannot make a valid file.
    #[error("{0}")]
    Invalid(String),
}

/// What happened to a set of files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetOutcome {
    /// Written now.
    Written(&'static str),
    /// Already there, kept.
    Kept(&'static str),
}

/// One file to write: its name, mode and content.
struct File {
    name: &'static str,
    mode: u32,
    content: String,
}

/// Writes every missing set into `args.dir`; returns what was done, set by
/// set, in the table's order.
pub fn init_secrets(args: &InitSecretsArgs) -> Result<Vec<SetOutcome>, InitSecretsError> {
    let InitSecretsArgs {
        dir,
        owner,
        sans,
        token_name,
        token_scopes,
        history_key,
    } = args;
    fs::create_dir_all(dir).map_err(|source| InitSecretsError::Io {
        path: dir.clone(),
        source,
    })?;
    // One run at a time in a directory: two at once (two replicas of the
    // job) could otherwise both find a set missing and interleave their
    // files (a token that does not match its tokens line). Held until the
    // run returns.
    let lock_path = dir.join(".init-secrets.lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .and_then(|file| file.lock().map(|()| file))
        .map_err(|source| InitSecretsError::Io {
            path: lock_path,
            source,
        })?;
    type Make<'a> = Box<dyn Fn() -> Result<Vec<File>, InitSecretsError> + 'a>;
    let sets: [(&'static str, &[&'static str], Make<'_>); 4] = [
        (
            "TLS",
            &["ca.pem", "server.pem", "server-key.pem"],
            Box::new(|| tls_files(sans)),
        ),
        (
            "token",
            &["token", "tokens"],
            Box::new(|| token_files(token_name, *token_scopes)),
        ),
        (
            "history keys",
            &["history-keys"],
            Box::new(|| {
                let line = KeyRing::new_key_line(&key_id())
                    .map_err(|e| InitSecretsError::Invalid(e.to_string()))?;
                Ok(vec![File {
                    name: "history-keys",
                    mode: 0o600,
                    content: format!(
                        "# HISTORY_KEYS_FILE: the first key encrypts, all decrypt\n{line}\n"
                    ),
                }])
            }),
        ),
        (
            "Redis",
            &["redis-password", "redis-users.acl"],
            Box::new(|| redis_files(history_key)),
        ),
    ];
    let mut outcomes = Vec::new();
    for (set, names, make) in &sets {
        let (present, missing): (Vec<&str>, Vec<&str>) = names
            .iter()
            .partition(|name| dir.join(name).symlink_metadata().is_ok());
        if missing.is_empty() {
            outcomes.push(SetOutcome::Kept(set));
            continue;
        }
        if !present.is_empty() {
            return Err(InitSecretsError::PartialSet {
                set,
                present: present.join(", "),
                missing: missing.join(", "),
            });
        }
        write_set(dir, &make()?, *owner)?;
        outcomes.push(SetOutcome::Written(set));
    }
    drop(lock);
    Ok(outcomes)
}

/// Writes each file under a temporary name, then renames them all: a set
/// is never left half-written by a failure.
fn write_set(
    dir: &Path,
    files: &[File],
    owner: Option<(u32, u32)>,
) -> Result<(), InitSecretsError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| InitSecretsError::Io { path, source }
    };
    let mut staged = Vec::new();
    for file in files {
        let temporary = dir.join(format!(".{}.new", file.name));
        let _ = fs::remove_file(&temporary);
        let mut handle = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(file.mode)
            .open(&temporary)
            .map_err(io(&temporary))?;
        // The mode asked for, whatever the umask (0640 must stay readable
        // by Redis's group under umask 077).
        handle
            .set_permissions(fs::Permissions::from_mode(file.mode))
            .map_err(io(&temporary))?;
        handle
            .write_all(file.content.as_bytes())
            .and_then(|()| handle.sync_all())
            .map_err(io(&temporary))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&temporary, Some(uid), Some(gid)).map_err(io(&temporary))?;
        }
        staged.push((temporary, dir.join(file.name)));
    }
    for (temporary, path) in staged {
        fs::rename(&temporary, &path).map_err(io(&path))?;
    }
    Ok(())
}

/// A key ID naming today: `compose-YYYYMMDD`.
fn key_id() -> String {
    let (year, month, day) = today();
    format!("compose-{year:04}{month:02}{day:02}")
}

/// Today's UTC date (proleptic Gregorian), from the system clock.
fn today() -> (i32, u8, u8) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0))
}

/// Days since 1970-01-01 → (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(i32::MAX),
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

/// Valid from today for `years` (the day kept at most 28: no 29 February).
fn validity(params: &mut CertificateParams, years: i32) {
    let (year, month, day) = today();
    params.not_before = date_time_ymd(year, month, day);
    params.not_after = date_time_ymd(year + years, month, day.min(28));
}

fn cert_error(error: rcgen::Error) -> InitSecretsError {
    InitSecretsError::Invalid(format!("cannot make the certificates: {error}"))
}

/// A CA (10 years) and a server certificate signed by it (2 years) for
/// localhost, 127.0.0.1, ::1, app, giropops-senhas and `extra_sans`.
fn tls_files(extra_sans: &[String]) -> Result<Vec<File>, InitSecretsError> {
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "giropops-senhas init-secrets CA");
    ca.distinguished_name = name;
    validity(&mut ca, 10);
    let ca_key = KeyPair::generate().map_err(cert_error)?;
    let ca_pem = ca.self_signed(&ca_key).map_err(cert_error)?.pem();
    let issuer = Issuer::new(ca, ca_key);

    let mut server = CertificateParams::default();
    let mut sans = vec![
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    ];
    for name in ["localhost", "app", "giropops-senhas"]
        .into_iter()
        .chain(extra_sans.iter().map(String::as_str))
    {
        sans.push(match name.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(name.try_into().map_err(|_| {
                InitSecretsError::Invalid(format!("--san {name:?} is not a DNS name"))
            })?),
        });
    }
    server.subject_alt_names = sans;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "giropops-senhas");
    server.distinguished_name = name;
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut server, 2);
    let server_key = KeyPair::generate().map_err(cert_error)?;
    let server_pem = server.signed_by(&server_key, &issuer).map_err(cert_error)?;
    Ok(vec![
        File {
            name: "ca.pem",
            mode: 0o640,
            content: ca_pem,
        },
        File {
            name: "server.pem",
            mode: 0o640,
            content: server_pem.pem(),
        },
        File {
            name: "server-key.pem",
            mode: 0o600,
            content: server_key.serialize_pem(),
        },
    ])
}

/// A fresh token and its tokens-file line (as `token new`).
fn token_files(name: &str, scopes: Scopes) -> Result<Vec<File>, InitSecretsError> {
    let (token, digest) = new_token();
    let line = format_line(name, scopes, &digest)
        .map_err(|e| InitSecretsError::Invalid(format!("--token-name: {e}")))?;
    Ok(vec![
        File {
            name: "token",
            mode: 0o600,
            content: format!("{token}\n"),
        },
        File {
            name: "tokens",
            mode: 0o640,
            content: format!("# AUTH_TOKENS_FILE: NAME SCOPES SHA256_HEX\n{line}\n"),
        },
    ])
}

/// A random Redis password and the ACL file that admits it.
fn redis_files(history_key: &str) -> Result<Vec<File>, InitSecretsError> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let password = URL_SAFE_NO_PAD.encode(bytes);
    Ok(vec![
        File {
            name: "redis-password",
            mode: 0o600,
            content: format!("{password}\n"),
        },
        File {
            name: "redis-users.acl",
            mode: 0o640,
            content: redis_acl(&password, history_key)?,
        },
    ])
}

/// The Redis ACL file: `default` off; [`REDIS_USER`] with `password`
/// (stored as its SHA-256), limited to the keys under `{history_key}:` and
/// to [`REDIS_COMMANDS`], no Pub/Sub channels.
pub fn redis_acl(password: &str, history_key: &str) -> Result<String, InitSecretsError> {
    if history_key.is_empty()
        || history_key
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(InitSecretsError::Invalid(format!(
            "--history-key/HISTORY_KEY {history_key:?} cannot be an ACL key pattern (empty or with spaces)"
        )));
    }
    // The key pattern is a glob: its special characters are escaped.
    let mut pattern = String::from("{");
    for c in history_key.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push_str("}:*");
    let digest: String = Sha256::digest(password.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let commands: String = REDIS_COMMANDS.iter().map(|c| format!(" +{c}")).collect();
    Ok(format!(
        "user default off resetpass resetkeys resetchannels -@all\n\
         user {REDIS_USER} on #{digest} resetkeys ~{pattern} resetchannels -@all{commands}\n"
    ))
}

/// Runs `init-secrets`: one line per set on stderr, never a secret.
pub fn run(args: InitSecretsArgs) -> ExitCode {
    match init_secrets(&args) {
        Ok(outcomes) => {
            for outcome in outcomes {
                match outcome {
                    SetOutcome::Written(set) => {
                        eprintln!("{set}: written to {}", args.dir.display())
                    }
                    SetOutcome::Kept(set) => eprintln!("{set}: already there, kept"),
                }
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

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
}
