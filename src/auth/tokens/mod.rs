//! Bearer tokens: their format, their digests, and the tokens file.
//!
//! A token is `gps_` followed by 43 base64url characters (no padding): 256
//! random bits from a CSPRNG ([`new_token`]). The server never stores a
//! token, only the SHA-256 of the whole token string, as 64 lowercase hex
//! characters, in the tokens file (`--auth-tokens-file`), one line per
//! token:
//!
//! ```text
//! # NAME     SCOPES                  SHA256_HEX_OF_TOKEN
//! ci         generate,check          3f0c…(64 hex characters)
//! auditor    history:all             9a1e…
//! ```
//!
//! - NAME: 1 to 64 characters of `A-Z a-z 0-9 _ . @ -`, unique in the
//!   file; it becomes the principal's name (in logs, and as the owner of
//!   history). `anonymous` is reserved, and a name shaped like a token is
//!   refused (it would be logged).
//! - SCOPES: a list as [`Scopes::parse`] reads it (`generate,history`,
//!   `none`, `all`); an unknown scope name is an error.
//! - The digest: exactly 64 lowercase hex characters; two lines with the
//!   same digest are an error.
//!
//! `#` starts a comment, to the end of the line; blank lines are ignored.
//! [`TokenTable::parse`] reports every bad line at once, by line number,
//! and never echoes a field that may be a secret.
//!
//! A presented token's format is checked before it is hashed
//! ([`TokenDigest::of_token`]): a malformed token costs no hashing and is
//! refused as such.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Principal, PrincipalKind, Scopes};

mod token;

pub use self::token::{
    MalformedToken, TOKEN_BODY_LEN, TOKEN_LEN, TOKEN_PREFIX, TokenDigest, is_well_formed, new_token,
};

/// The longest principal name.
pub const MAX_NAME_LEN: usize = 64;

/// Whether `name` may name a token: 1 to 64 characters of
/// `A-Z a-z 0-9 _ . @ -`, not reserved ([`Principal::reserved`], any
/// case), not shaped like a token.
pub fn is_valid_name(name: &str) -> bool {
    name_problem(name).is_none()
}

/// What is wrong with `name`, without echoing it.
fn name_problem(name: &str) -> Option<&'static str> {
    let allowed = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'@' | b'-');
    if name.is_empty() || name.len() > MAX_NAME_LEN || !name.bytes().all(allowed) {
        Some("the name must be 1 to 64 characters of A-Z a-z 0-9 _ . @ -")
    } else if let Some(why) = Principal::reserved(name) {
        Some(why)
    } else if is_well_formed(name) {
        Some(
            "the name is shaped like a token (a token must never be written in this file: treat it as leaked)",
        )
    } else {
        None
    }
}

/// Why [`format_line`] cannot write a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatLineError {
    /// The name is not a valid name ([`is_valid_name`]).
    #[error("{0}")]
    Name(&'static str),
    /// The digest is not 64 lowercase hex characters.
    #[error("the digest must be 64 lowercase hex characters")]
    Digest,
}

/// The tokens-file line for a token named `name` with `scopes`, whose
/// digest is `digest_hex` (from [`new_token`]), without a newline.
pub fn format_line(
    name: &str,
    scopes: Scopes,
    digest_hex: &str,
) -> Result<String, FormatLineError> {
    if let Some(problem) = name_problem(name) {
        return Err(FormatLineError::Name(problem));
    }
    if TokenDigest::from_hex(digest_hex).is_none() {
        return Err(FormatLineError::Digest);
    }
    Ok(format!("{name} {scopes} {digest_hex}"))
}

/// The tokens of a tokens file, by digest. Its `Debug` shows how many,
/// not their digests.
#[derive(Clone, Default)]
pub struct TokenTable {
    by_digest: HashMap<TokenDigest, Principal>,
}

impl fmt::Debug for TokenTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenTable")
            .field("tokens", &self.by_digest.len())
            .finish_non_exhaustive()
    }
}

/// A problem on one line of a tokens file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    /// The line, from 1.
    pub line: usize,
    /// What is wrong (never the line's secrets).
    pub problem: String,
}

impl fmt::Display for LineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

/// Every problem of a tokens file, in line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokensFileError {
    /// At least one.
    pub problems: Vec<LineProblem>,
}

impl fmt::Display for TokensFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{n} problem{} (each line is NAME SCOPES SHA256_HEX_OF_TOKEN)",
            if n == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TokensFileError {}

/// Why a tokens file cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// It cannot be read.
    #[error("cannot read the tokens file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It has bad lines.
    #[error("the tokens file {} has {errors}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Every bad line.
        errors: TokensFileError,
    },
}

impl TokenTable {
    /// No tokens.
    pub fn new() -> TokenTable {
        TokenTable::default()
    }

    /// Reads the tokens file at `path` ([`TokenTable::parse`]).
    pub fn load(path: &Path) -> Result<TokenTable, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        TokenTable::parse(&text).map_err(|errors| LoadError::Parse {
            path: path.to_owned(),
            errors,
        })
    }

    /// Reads the text of a tokens file (format in the [module
    /// docs](self)), reporting every bad line.
    pub fn parse(text: &str) -> Result<TokenTable, TokensFileError> {
        let mut table = TokenTable::new();
        let mut problems = Vec::new();
        // Name → its line, and digest → its line, for duplicates.
        let mut names: HashMap<&str, usize> = HashMap::new();
        let mut digest_lines: HashMap<TokenDigest, usize> = HashMap::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let mut report = |problem: String| problems.push(LineProblem { line, problem });
            let content = raw.split_once('#').map_or(raw, |(before, _)| before);
            let fields: Vec<&str> = content.split_ascii_whitespace().collect();
            let [name, scopes, digest] = match fields[..] {
                [] => continue,
                [name, scopes, digest] => [name, scopes, digest],
                _ => {
                    report(format!(
                        "expected 3 fields separated by spaces, found {}",
                        fields.len()
                    ));
                    continue;
                }
            };
            let name_ok = match name_problem(name) {
                Some(problem) => {
                    report(problem.to_owned());
                    false
                }
                None => true,
            };
            let scopes = Scopes::parse(scopes)
                .map_err(|error| report(format!("scopes: {error}")))
                .ok();
            let digest = if is_well_formed(digest) || digest.starts_with(TOKEN_PREFIX) {
                report(
                    "the third field is a token, not its SHA-256: write the digest only \
                     (and treat this token as leaked)"
                        .to_owned(),
                );
                None
            } else {
                let digest_hex = TokenDigest::from_hex(digest);
                if digest_hex.is_none() {
                    report(format!(
                        "the digest must be 64 lowercase hex characters (the SHA-256 of the token), found {} characters",
                        digest.chars().count()
                    ));
                }
                digest_hex
            };
            if name_ok {
                if let Some(first) = names.get(name) {
                    report(format!("the name `{name}` is already used on line {first}"));
                } else {
                    names.insert(name, line);
                }
            }
            if let Some(digest) = digest {
                if let Some(first) = digest_lines.get(&digest) {
                    report(format!("the same token digest as line {first}"));
                } else {
                    digest_lines.insert(digest, line);
                }
            }
            let (true, Some(scopes), Some(digest)) = (name_ok, scopes, digest) else {
                continue;
            };
            if let Entry::Vacant(entry) = table.by_digest.entry(digest) {
                entry.insert(Principal {
                    name: Arc::from(name),
                    scopes,
                    kind: PrincipalKind::Token,
                });
            }
        }
        if problems.is_empty() {
            Ok(table)
        } else {
            Err(TokensFileError { problems })
        }
    }

    /// The principal whose token has `digest`.
    ///
    /// A hash-map lookup, whose equality check is not constant-time: that
    /// is safe here. The key is the SHA-256 of a token the caller sent, so
    /// a timing difference could at most tell the caller how many leading
    /// bytes of that *digest* match a stored one; steering a digest's
    /// bytes needs SHA-256 preimages, and knowing a stored digest does not
    /// yield its token (256 random bits). Digests are never compared
    /// directly anywhere else.
    pub fn lookup(&self, digest: &TokenDigest) -> Option<&Principal> {
        self.by_digest.get(digest)
    }

    /// The principal of `token`: `Err` when it is malformed (then it is
    /// not hashed) or unknown.
    pub fn authenticate(&self, token: &str) -> Result<&Principal, TokenError> {
        let digest = TokenDigest::of_token(token).map_err(|_| TokenError::Malformed)?;
        self.lookup(&digest).ok_or(TokenError::Unknown)
    }

    /// How many tokens.
    pub fn len(&self) -> usize {
        self.by_digest.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }

    /// The principals, in no order.
    pub fn principals(&self) -> impl Iterator<Item = &Principal> {
        self.by_digest.values()
    }
}

/// Why a presented token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token's format (not hashed).
    #[error("malformed token: expected gps_ followed by 43 base64url characters")]
    Malformed,
    /// Well formed, but in no line of the tokens file.
    #[error("unknown or revoked token")]
    Unknown,
}

#[cfg(test)]
mod tests;
