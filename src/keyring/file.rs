//! The keys file: its lines parsed into keys, every bad line reported at
//! once by number and reason, never quoting what a line holds.

use std::io;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
use zeroize::Zeroizing;

use super::{KEY_LEN, Key, MAX_ID_LEN};

/// Why a key ID is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyIdError {
    /// The ID is empty.
    #[error("the key id is empty")]
    Empty,
    /// The ID is longer than [`MAX_ID_LEN`] bytes.
    #[error("the key id is {0} characters long, more than {MAX_ID_LEN}")]
    TooLong(usize),
    /// The ID holds a character outside `[A-Za-z0-9_.-]`.
    #[error("the key id may only hold A-Z, a-z, 0-9, '_', '.' and '-'")]
    BadCharacter,
}

/// Checks a key ID: 1 to [`MAX_ID_LEN`] characters of `[A-Za-z0-9_.-]`.
pub(super) fn check_id(id: &[u8]) -> Result<(), KeyIdError> {
    if id.is_empty() {
        return Err(KeyIdError::Empty);
    }
    if !id
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(KeyIdError::BadCharacter);
    }
    if id.len() > MAX_ID_LEN {
        return Err(KeyIdError::TooLong(id.len()));
    }
    Ok(())
}

/// What is wrong with one line of a keys file (never what the line holds).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    /// The line has an ID but no key after it.
    #[error("a key id without a key (expected `ID BASE64`)")]
    MissingKey,
    /// The line has more than two fields.
    #[error("unexpected text after the key (expected `ID BASE64`)")]
    TrailingText,
    /// The first field is not a valid key ID.
    #[error("invalid key id: {0}")]
    BadId(KeyIdError),
    /// The key is not valid standard base64 (with padding).
    #[error("the key is not valid standard base64 (with padding)")]
    BadBase64,
    /// The key does not decode to exactly [`KEY_LEN`] bytes.
    #[error("the key decodes to {0} bytes, not {KEY_LEN}")]
    WrongLength(usize),
    /// The key does not decode to exactly [`KEY_LEN`] bytes, and to too many
    /// to count.
    #[error("the key decodes to more than {KEY_LEN} bytes")]
    TooLong,
    /// The ID was already used by an earlier line.
    #[error("duplicate key id {id:?} (first on line {first_line})")]
    DuplicateId {
        /// The repeated ID (a valid ID is never key material).
        id: String,
        /// The line that used it first.
        first_line: usize,
    },
}

/// One bad line of a keys file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct LineError {
    /// Line number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub problem: LineProblem,
}

/// Why a keys file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    /// The file could not be read.
    #[error("cannot read the keys file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Some lines are invalid: every one of them, in file order.
    #[error("invalid keys file: {}", join_lines(.0))]
    Invalid(Vec<LineError>),
    /// The file holds no key (only blank lines and comments, or nothing).
    #[error("the keys file holds no key (expected lines `ID BASE64`)")]
    Empty,
}

fn join_lines(errors: &[LineError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads and parses a keys file (read whole, so a reload never sees half
/// of two versions; the bytes are zeroed after parsing).
pub(super) fn read_keys(path: &Path) -> Result<Vec<Key>, KeyRingError> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| KeyRingError::Read {
        path: path.to_owned(),
        source,
    })?);
    let text = std::str::from_utf8(&bytes).map_err(|_| KeyRingError::Read {
        path: path.to_owned(),
        source: io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"),
    })?;
    parse_keys(text)
}

/// The keys of the text of a keys file, in order (never empty), or every
/// bad line.
pub(super) fn parse_keys(text: &str) -> Result<Vec<Key>, KeyRingError> {
    let mut keys: Vec<(usize, Key)> = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(line) {
            Ok(key) => match keys.iter().find(|(_, k)| k.id == key.id) {
                Some(&(first_line, _)) => errors.push(LineError {
                    line: number,
                    problem: LineProblem::DuplicateId {
                        id: key.id,
                        first_line,
                    },
                }),
                None => keys.push((number, key)),
            },
            Err(problem) => errors.push(LineError {
                line: number,
                problem,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(KeyRingError::Invalid(errors));
    }
    if keys.is_empty() {
        return Err(KeyRingError::Empty);
    }
    Ok(keys.into_iter().map(|(_, key)| key).collect())
}

/// Parses one non-blank, non-comment line (already trimmed).
fn parse_line(line: &str) -> Result<Key, LineProblem> {
    let mut fields = line.split_ascii_whitespace();
    let id = fields.next().unwrap_or_default();
    // The ID is checked first: a line holding only a key is reported as a
    // bad ID, without quoting it.
    check_id(id.as_bytes()).map_err(LineProblem::BadId)?;
    let encoded = fields.next().ok_or(LineProblem::MissingKey)?;
    if fields.next().is_some() {
        return Err(LineProblem::TrailingText);
    }
    // Decoded into a fixed buffer (no reallocation leaves copies behind),
    // zeroed on drop.
    let mut buffer = Zeroizing::new([0u8; 2 * KEY_LEN]);
    let len = match BASE64.decode_slice(encoded, &mut *buffer) {
        Ok(len) => len,
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => return Err(LineProblem::TooLong),
        Err(base64::DecodeSliceError::DecodeError(_)) => return Err(LineProblem::BadBase64),
    };
    if len != KEY_LEN {
        return Err(LineProblem::WrongLength(len));
    }
    let cipher = XChaCha20Poly1305::new_from_slice(&buffer[..KEY_LEN])
        .map_err(|_| LineProblem::WrongLength(len))?;
    Ok(Key {
        id: id.to_owned(),
        cipher,
    })
}
