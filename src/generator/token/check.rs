//! Checking a token someone holds: its checksum and its shape (prefix,
//! format, length), offline. A bad token is an answer, not an error; only
//! an input no token could be (empty, or beyond a bound) is refused.
//! Nothing here keeps, logs or echoes the token: what a check says about
//! it is fixed text and what was derived from its shape.

use super::format::TokenFormat;
use super::{
    CHECKSUM_CHARS, MAX_PREFIX_BYTES, MAX_TOKEN_BITS, MIN_TOKEN_BITS, UUID_BITS, checksum,
    entropy_bits, is_prefix,
};
use crate::generator::violation::FieldViolation;

/// Longest input a check accepts, in bytes: anything longer is refused as
/// a bad request, not checked.
pub const MAX_CHECK_TOKEN_BYTES: usize = 512;
/// The longest token minted here: the longest prefix, 1024 bits in hex,
/// the checksum.
pub const MAX_TOKEN_BYTES: usize =
    MAX_PREFIX_BYTES + MAX_TOKEN_BITS.div_ceil(4) as usize + CHECKSUM_CHARS;
/// The shortest checksummed token minted here: 64 bits in base64url, the
/// checksum.
const MIN_TOKEN_BYTES: usize = MIN_TOKEN_BITS.div_ceil(6) as usize + CHECKSUM_CHARS;

/// Why a token is not valid. Its text is the `reason` callers see: fixed,
/// never quoting the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenProblem {
    /// Longer than any token minted here.
    #[error("longer than any token this service mints ({} bytes)", MAX_TOKEN_BYTES)]
    TooLong,
    /// Shorter than any token minted here.
    #[error(
        "shorter than any token this service mints ({} bytes)",
        MIN_TOKEN_BYTES
    )]
    TooShort,
    /// Its last 6 characters are not the checksum of the rest.
    #[error("checksum mismatch: mistyped, truncated, or not minted by this service")]
    ChecksumMismatch,
    /// The checksum matches, but no prefix and format fit the rest.
    #[error("the checksum matches, but the rest fits no prefix and format (alphabet or length)")]
    NoFormat,
    /// A UUID, but not a version 4 one of the RFC 9562 variant.
    #[error("a UUID, but not version 4 of the RFC 9562 variant")]
    NotUuidV4,
    /// Checked as a UUID, and not shaped like one.
    #[error("not a UUID in the 8-4-4-4-12 hexadecimal form")]
    NotUuid,
}

/// What a check found.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenCheck {
    /// Whether the token is intact and shaped as tokens minted here.
    pub valid: bool,
    /// Its format, when valid.
    pub format: Option<TokenFormat>,
    /// Its prefix, `_` included, when valid (empty: none).
    pub prefix: String,
    /// Entropy of its random part, when valid (0 otherwise).
    pub entropy_bits: f64,
    /// Whether it carries a checksum that matched (false for UUIDs: they
    /// have none, so `valid` says only that the shape is right).
    pub checksummed: bool,
    /// Why it is not valid.
    pub problem: Option<TokenProblem>,
}

impl TokenCheck {
    fn invalid(problem: TokenProblem) -> TokenCheck {
        TokenCheck {
            valid: false,
            format: None,
            prefix: String::new(),
            entropy_bits: 0.0,
            checksummed: false,
            problem: Some(problem),
        }
    }
}

/// Refuses what no check should be asked about: an empty token, or one
/// above [`MAX_CHECK_TOKEN_BYTES`].
pub fn validate_token(token: &str) -> Result<(), Vec<FieldViolation>> {
    if (1..=MAX_CHECK_TOKEN_BYTES).contains(&token.len()) {
        return Ok(());
    }
    Err(vec![FieldViolation::new(
        "token",
        format!(
            "token must be 1 to {MAX_CHECK_TOKEN_BYTES} bytes, got {}",
            token.len()
        ),
    )])
}

/// Checks `token`: with `format`, as a token of that format only; without,
/// as a token of any format (a UUID-shaped one as a UUID), the narrowest
/// alphabet that holds its random part reported (a base62 part made only
/// of hex digits reports hex: say the format when its entropy matters).
/// Call [`validate_token`] first.
pub fn check_token(token: &str, format: Option<TokenFormat>) -> TokenCheck {
    if matches!(format, None | Some(TokenFormat::Uuid)) && uuid_shaped(token) {
        return check_uuid(token);
    }
    if format == Some(TokenFormat::Uuid) {
        return TokenCheck::invalid(TokenProblem::NotUuid);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return TokenCheck::invalid(TokenProblem::TooLong);
    }
    if token.len() < MIN_TOKEN_BYTES {
        return TokenCheck::invalid(TokenProblem::TooShort);
    }
    let split = token.len() - CHECKSUM_CHARS;
    if !token.is_char_boundary(split) || checksum(&token[..split]) != token.as_bytes()[split..] {
        return TokenCheck::invalid(TokenProblem::ChecksumMismatch);
    }
    let text = &token[..split];
    let formats: &[TokenFormat] = match &format {
        Some(format) => std::slice::from_ref(format),
        None => &TokenFormat::ALL,
    };
    for (prefix, body) in split_prefix(text).into_iter().chain([("", text)]) {
        if let Some(format) = formats.iter().copied().find(|f| fits(*f, body)) {
            return TokenCheck {
                valid: true,
                format: Some(format),
                prefix: prefix.to_owned(),
                entropy_bits: entropy_bits(format, !prefix.is_empty(), body.len()),
                checksummed: true,
                problem: None,
            };
        }
    }
    TokenCheck::invalid(TokenProblem::NoFormat)
}

/// `text` (a token without its checksum) split after its first `_`, when
/// what comes before is a valid prefix. The prefix holds no other `_`; a
/// base64url part may, so an unprefixed one is also tried whole.
fn split_prefix(text: &str) -> Option<(&str, &str)> {
    text.find('_')
        .map(|end| text.split_at(end + 1))
        .filter(|(prefix, _)| is_prefix(prefix))
}

/// Whether an unprefixed random part would read as prefix + part (then it
/// is drawn again: see the module's documentation).
pub(super) fn reads_as_prefixed(body: &str) -> bool {
    split_prefix(body).is_some_and(|(_, rest)| fits(TokenFormat::Base64Url, rest))
}

/// Whether `body` is a random part of `format`: its alphabet only, and a
/// length some allowed number of bits gives.
fn fits(format: TokenFormat, body: &str) -> bool {
    let Some(alphabet) = format.alphabet() else {
        return false;
    };
    let lengths = format.chars_for(MIN_TOKEN_BITS)..=format.chars_for(MAX_TOKEN_BITS);
    lengths.contains(&body.len()) && body.bytes().all(|byte| alphabet.contains(&byte))
}

/// 8-4-4-4-12 hexadecimal digits (either case, as RFC 9562 reads them).
fn uuid_shaped(token: &str) -> bool {
    token.len() == 36
        && token.bytes().enumerate().all(|(i, byte)| match i {
            8 | 13 | 18 | 23 => byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}

/// A UUID-shaped token: valid when version 4 of the RFC 9562 variant.
fn check_uuid(token: &str) -> TokenCheck {
    let bytes = token.as_bytes();
    let version_4 = bytes[14] == b'4';
    let variant = matches!(bytes[19], b'8' | b'9' | b'a' | b'b' | b'A' | b'B');
    if !(version_4 && variant) {
        return TokenCheck::invalid(TokenProblem::NotUuidV4);
    }
    TokenCheck {
        valid: true,
        format: Some(TokenFormat::Uuid),
        prefix: String::new(),
        entropy_bits: f64::from(UUID_BITS),
        checksummed: false,
        problem: None,
    }
}
