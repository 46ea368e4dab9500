//! `giropops-senhas init-secrets --dir DIR`: every secret a compose
//! deployment needs, written once into a directory (a named volume), so
//! that `docker compose up` needs nothing set by hand and no secret ever
//! sits in an environment variable.
//!
//! Files, by set; a set is written only when none of its files exists, kept
//! as it is when all exist and can be trusted, and an error when only some
//! do or one cannot be trusted — a symbolic link, not a regular file, owned
//! by someone else, or a mode looser than the table's (`files.rs`). The
//! error names the file and what is wrong; `--repair` rewrites such a set
//! whole instead (a renewed TLS set is a new CA, a renewed token set a new
//! token):
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

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::auth::Scopes;
use crate::keyring::KeyRing;

mod files;
mod generate;

use self::files::{Found, SecretsDir};
pub use self::generate::redis_acl;
use self::generate::{key_id, redis_files, tls_files, token_files};

/// The Redis user the service connects as.
pub const REDIS_USER: &str = "giropops-senhas";

/// Every Redis command the service sends: the history's push script
/// (`EVAL`, which calls `HGET`/`LPUSH`/`LTRIM`/`EXPIRE`/`SADD`/`HSET`: Redis
/// checks those against the ACL too) and `HGET`, `LRANGE`/`SMEMBERS`/
/// `HMGET` to read, the health
/// `PING`, deadpool's recycling `UNWATCH` + `PING`, and `WAIT`/`ROLE` for
/// replicated acknowledgements and Sentinel. (`AUTH` is always allowed.
/// The service skips redis-rs's `CLIENT SETINFO` on connections to a Redis
/// named by URL; through Sentinel redis-rs may still send it, and ignores
/// the refusal.)
pub const REDIS_COMMANDS: &[&str] = &[
    "ping", "unwatch", "eval", "hget", "hset", "hmget", "lpush", "ltrim", "lrange", "expire",
    "sadd", "smembers", "wait", "role",
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
    /// Rewrite, whole, every set with a file missing or not to be trusted
    /// (a symbolic link, not a regular file, another owner, a looser mode)
    /// instead of stopping at it.
    #[arg(long)]
    pub repair: bool,
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
        "{set}: {present} exist(s) but {missing} do(es) not; remove the rest of the set to renew it, or run with --repair"
    )]
    PartialSet {
        /// The set.
        set: &'static str,
        /// The files that exist.
        present: String,
        /// The files that do not.
        missing: String,
    },
    /// A file found cannot be trusted.
    #[error("{}: {problem}; remove it, or run with --repair to rewrite its set", path.display())]
    Untrusted {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The directory, or the run's lock file in it, lets others in.
    #[error("{}: {problem}", path.display())]
    Unsafe {
        /// The directory or the lock file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
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
    /// Missing in part or not to be trusted, rewritten (`--repair`).
    Repaired(&'static str),
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
        repair,
    } = args;
    let dir = SecretsDir::open(dir, *owner)?;
    // One run at a time in a directory: two at once (two replicas of the
    // job) could otherwise both find a set missing and interleave their
    // files (a token that does not match its tokens line). Held until the
    // run returns.
    let lock = dir.lock()?;
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
            Box::new(|| token_files(token_name, token_scopes.clone())),
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
    // Every set is judged before any is written: a file that cannot be
    // trusted stops the run with nothing changed.
    let mut plan = Vec::new();
    for (set, names, make) in &sets {
        // Made first, used only if written: its modes are what a kept file
        // is held to.
        let files = make()?;
        let mut present = Vec::new();
        let mut missing = Vec::new();
        let mut untrusted = None;
        for name in *names {
            let mode = files
                .iter()
                .find(|file| file.name == *name)
                .map_or(0o600, |file| file.mode);
            match dir.inspect(name, mode)? {
                Found::Missing => missing.push(*name),
                Found::Trusted => present.push(*name),
                Found::Untrusted(problem) => {
                    present.push(*name);
                    untrusted.get_or_insert((*name, problem));
                }
            }
        }
        let outcome = match (missing.is_empty(), present.is_empty(), untrusted) {
            (true, _, None) => SetOutcome::Kept(set),
            (false, true, _) => SetOutcome::Written(set),
            _ if *repair => SetOutcome::Repaired(set),
            (_, _, Some((name, problem))) => {
                return Err(InitSecretsError::Untrusted {
                    path: dir.path().join(name),
                    problem,
                });
            }
            _ => {
                return Err(InitSecretsError::PartialSet {
                    set,
                    present: present.join(", "),
                    missing: missing.join(", "),
                });
            }
        };
        plan.push((outcome, files));
    }
    let mut outcomes = Vec::new();
    for (outcome, files) in plan {
        if !matches!(outcome, SetOutcome::Kept(_)) {
            dir.write_set(&files)?;
        }
        outcomes.push(outcome);
    }
    drop(lock);
    Ok(outcomes)
}

/// A key ID naming today: `compose-YYYYMMDD`.
pub fn run(args: InitSecretsArgs) -> ExitCode {
    match init_secrets(&args) {
        Ok(outcomes) => {
            for outcome in outcomes {
                match outcome {
                    SetOutcome::Written(set) => {
                        eprintln!("{set}: written to {}", args.dir.display())
                    }
                    SetOutcome::Kept(set) => eprintln!("{set}: already there, kept"),
                    SetOutcome::Repaired(set) => {
                        eprintln!("{set}: rewritten (--repair) in {}", args.dir.display())
                    }
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
mod tests;
