//! API keys: `[prefix]` + a random part + a 6-character checksum, as
//! GitHub's token format (`ghp_…`), so that a secret scanner can tell a
//! leaked key of ours from random text offline, without calling us.
//!
//! - The random part is `bits` of entropy (64 to 1024, default 128) in a
//!   [`TokenFormat`], rounded up to whole characters; the entropy reported
//!   is the real one (base32, 128 bits: 26 characters, 130 bits). Every
//!   character is drawn exactly uniformly from its alphabet.
//! - The prefix is optional: 1 to 15 of `a-z 0-9`, then `_` (`gps_`).
//!   base64url is the one alphabet holding `_`: a base64url part minted
//!   without a prefix that would read as one (`ab_…`, about 2% of them) is
//!   drawn again, so a check reads back every token as it was minted; its
//!   entropy is reported net of those (128 bits: 131.97, not 132).
//! - The checksum is the CRC-32 (IEEE, as zlib's) of prefix + random part,
//!   in base62 (`0-9A-Za-z`), 6 characters, zero-padded on the left.
//! - UUIDs (RFC 9562 version 4) are the exception: 122 random bits, no
//!   prefix and no checksum, since they must stay UUIDs.
//!
//! Pure: no I/O, no gRPC types; randomness comes from the caller.

mod check;
mod format;

use rand::CryptoRng;

pub use check::{
    MAX_CHECK_TOKEN_BYTES, MAX_TOKEN_BYTES, TokenCheck, TokenProblem, check_token, validate_token,
};
pub use format::TokenFormat;

use check::reads_as_prefixed;

use super::secret::Secret;
use super::violation::FieldViolation;
use format::BASE62;

/// Entropy of a token when the caller does not choose (UUIDs: 122).
pub const DEFAULT_TOKEN_BITS: u32 = 128;
/// Least entropy accepted.
pub const MIN_TOKEN_BITS: u32 = 64;
/// Most entropy accepted.
pub const MAX_TOKEN_BITS: u32 = 1024;
/// The random bits of a version 4 UUID (128 less 4 of version, 2 of
/// variant).
pub const UUID_BITS: u32 = 122;
/// The format used when the caller does not choose.
pub const DEFAULT_TOKEN_FORMAT: TokenFormat = TokenFormat::Base62;
/// Longest prefix, its final `_` included.
pub const MAX_PREFIX_BYTES: usize = 16;
/// Characters of the checksum.
pub const CHECKSUM_CHARS: usize = 6;

/// Options as a caller states them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOptions {
    /// Entropy wanted, in bits; `None`: the format's default.
    pub bits: Option<u32>,
    /// Written before the random part; empty: none.
    pub prefix: String,
    /// How the random part is written.
    pub format: TokenFormat,
}

impl Default for TokenOptions {
    fn default() -> Self {
        TokenOptions {
            bits: None,
            prefix: String::new(),
            format: DEFAULT_TOKEN_FORMAT,
        }
    }
}

/// Validated token options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPolicy {
    format: TokenFormat,
    prefix: String,
    /// Characters of the random part (0 for UUIDs).
    chars: usize,
}

impl TokenPolicy {
    /// Validates `options`, reporting every violation.
    pub fn new(options: TokenOptions) -> Result<Self, Vec<FieldViolation>> {
        let TokenOptions {
            bits,
            prefix,
            format,
        } = options;
        let mut violations = Vec::new();
        let mut chars = 0;
        if format == TokenFormat::Uuid {
            if bits.is_some_and(|bits| bits != UUID_BITS) {
                violations.push(FieldViolation::new(
                    "bits",
                    format!(
                        "bits must be 0 or {UUID_BITS} with format uuid (a version 4 UUID holds {UUID_BITS} random bits; choose another format for more), got {}",
                        bits.unwrap_or_default()
                    ),
                ));
            }
            if !prefix.is_empty() {
                violations.push(FieldViolation::new(
                    "prefix",
                    "prefix must be empty with format uuid: a UUID has a fixed shape, with no prefix and no checksum",
                ));
            }
        } else {
            let bits = bits.unwrap_or(DEFAULT_TOKEN_BITS);
            if (MIN_TOKEN_BITS..=MAX_TOKEN_BITS).contains(&bits) {
                chars = chars_for(format, !prefix.is_empty(), bits);
            } else {
                violations.push(FieldViolation::out_of_range(
                    "bits",
                    MIN_TOKEN_BITS,
                    MAX_TOKEN_BITS,
                    bits,
                ));
            }
            if let Err(violation) = validate_prefix(&prefix) {
                violations.push(violation);
            }
        }
        if violations.is_empty() {
            Ok(TokenPolicy {
                format,
                prefix,
                chars,
            })
        } else {
            Err(violations)
        }
    }

    /// The format of every token this policy produces.
    pub fn format(&self) -> TokenFormat {
        self.format
    }

    /// Entropy of every token this policy produces: the random part's
    /// characters times the bits of each (122 for UUIDs).
    pub fn entropy_bits(&self) -> f64 {
        match self.format {
            TokenFormat::Uuid => f64::from(UUID_BITS),
            format => entropy_bits(format, !self.prefix.is_empty(), self.chars),
        }
    }

    /// Length in bytes of every token this policy produces.
    pub fn token_len(&self) -> usize {
        match self.format {
            TokenFormat::Uuid => 36,
            _ => self.prefix.len() + self.chars + CHECKSUM_CHARS,
        }
    }
}

/// The prefix rule: empty, or 1 to 15 of `a-z 0-9` and then one `_`.
fn validate_prefix(prefix: &str) -> Result<(), FieldViolation> {
    const FORM: &str = "1 to 15 characters a-z or 0-9, then one _ (like gps_), or empty";
    if prefix.is_empty() {
        return Ok(());
    }
    let problem = if prefix.len() > MAX_PREFIX_BYTES {
        format!(
            "at most {MAX_PREFIX_BYTES} characters, got {}",
            prefix.chars().count()
        )
    } else if !prefix.ends_with('_') {
        "a final _".to_owned()
    } else if prefix == "_" {
        "a character before its _".to_owned()
    } else if let Some(bad) = prefix[..prefix.len() - 1]
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
    {
        format!("only a-z and 0-9 before its _, got {bad:?}")
    } else {
        return Ok(());
    };
    Err(FieldViolation::new(
        "prefix",
        format!("prefix must be {FORM}: it needs {problem}"),
    ))
}

/// Whether `prefix` is a valid, non-empty prefix.
fn is_prefix(prefix: &str) -> bool {
    !prefix.is_empty() && validate_prefix(prefix).is_ok()
}

/// The fewest characters of `format` holding at least `bits` bits, in a
/// token with a prefix or without.
fn chars_for(format: TokenFormat, prefixed: bool, bits: u32) -> usize {
    let mut chars = format.chars_for(bits);
    while entropy_bits(format, prefixed, chars) < f64::from(bits) {
        chars += 1;
    }
    chars
}

/// The entropy of a random part of `chars` characters of `format`, in a
/// token with a prefix or without: `chars` × bits per character, less,
/// for an unprefixed base64url part, the parts drawn again because they
/// would read as prefixed. Those are the ones whose first `_` comes after
/// k = 1 to 15 of the 36 characters a-z 0-9 and before at least the
/// shortest part (11 characters): a share of Σ 36^k / 64^(k+1).
pub(super) fn entropy_bits(format: TokenFormat, prefixed: bool, chars: usize) -> f64 {
    let ideal = format.entropy_bits(chars);
    if prefixed || format != TokenFormat::Base64Url {
        return ideal;
    }
    let shortest = format.chars_for(MIN_TOKEN_BITS);
    let longest_prefix = (MAX_PREFIX_BYTES - 1).min(chars.saturating_sub(shortest + 1));
    let redrawn: f64 = (1..=longest_prefix)
        .map(|k| (36f64 / 64.0).powi(k as i32) / 64.0)
        .sum();
    ideal + (1.0 - redrawn).log2()
}

/// A token and what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedToken {
    /// The token (redacted in `Debug`).
    pub token: Secret,
    /// Bits of entropy of its random part (see [`TokenPolicy::entropy_bits`]).
    pub entropy_bits: f64,
    /// Its format.
    pub format: TokenFormat,
}

/// Generates one token of `policy`.
pub fn generate_token<R: CryptoRng + ?Sized>(policy: &TokenPolicy, rng: &mut R) -> GeneratedToken {
    let token = match policy.format.alphabet() {
        None => uuid_v4(rng),
        Some(alphabet) => {
            let mut token = String::with_capacity(policy.token_len());
            let mut draws = Draws::new(rng);
            loop {
                token.push_str(&policy.prefix);
                token.extend(
                    (0..policy.chars).map(|_| char::from(alphabet[draws.index(alphabet.len())])),
                );
                // Only an unprefixed base64url part can read as prefixed.
                if !policy.prefix.is_empty() || !reads_as_prefixed(&token) {
                    break;
                }
                token.clear();
            }
            let sum = checksum(&token);
            token.push_str(std::str::from_utf8(&sum).expect("base62 is ASCII"));
            token
        }
    };
    GeneratedToken {
        token: Secret::new(token),
        entropy_bits: policy.entropy_bits(),
        format: policy.format,
    }
}

/// The checksum of `text` (prefix + random part): its CRC-32 in base62,
/// 6 characters, zero-padded on the left (62^6 > 2^32).
pub fn checksum(text: &str) -> [u8; CHECKSUM_CHARS] {
    let mut crc = crc32fast::hash(text.as_bytes());
    let mut out = [b'0'; CHECKSUM_CHARS];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(crc % 62) as usize];
        crc /= 62;
    }
    out
}

/// A version 4 UUID from 16 random bytes, its version and variant bits
/// set (RFC 9562 §5.4), in the canonical lower-case 8-4-4-4-12 form.
fn uuid_v4<R: CryptoRng + ?Sized>(rng: &mut R) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut text = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        for nibble in [byte >> 4, byte & 0x0f] {
            text.push(char::from(b"0123456789abcdef"[usize::from(nibble)]));
        }
    }
    text
}

/// Exactly uniform indices below a length of at most 256, from random
/// bytes: a byte's low bits under the next power of two (uniform, since
/// that power divides 256), rejected when not below the length. No modulo
/// bias; for the power-of-two alphabets nothing is ever rejected.
struct Draws<'a, R: ?Sized> {
    rng: &'a mut R,
    buffer: [u8; 64],
    next: usize,
}

impl<'a, R: CryptoRng + ?Sized> Draws<'a, R> {
    fn new(rng: &'a mut R) -> Self {
        Draws {
            rng,
            buffer: [0; 64],
            next: 64,
        }
    }

    fn index(&mut self, len: usize) -> usize {
        debug_assert!((2..=256).contains(&len));
        let mask = len.next_power_of_two() - 1;
        loop {
            if self.next == self.buffer.len() {
                self.rng.fill_bytes(&mut self.buffer);
                self.next = 0;
            }
            let candidate = usize::from(self.buffer[self.next]) & mask;
            self.next += 1;
            if candidate < len {
                return candidate;
            }
        }
    }
}

#[cfg(test)]
mod tests;
