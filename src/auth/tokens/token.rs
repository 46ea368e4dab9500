//! A token itself: `gps_` and 256 random bits in base64url, its format
//! check and its SHA-256 digest (what the tokens file holds).

use std::fmt;

use rand::Rng;
use sha2::{Digest, Sha256};

/// What every token starts with.
pub const TOKEN_PREFIX: &str = "gps_";
/// The base64url characters after the prefix: 256 bits, unpadded.
pub const TOKEN_BODY_LEN: usize = 43;
/// A token's whole length.
pub const TOKEN_LEN: usize = TOKEN_PREFIX.len() + TOKEN_BODY_LEN;
/// The random bytes of a token.
const TOKEN_BYTES: usize = 32;

/// The base64url alphabet (RFC 4648 §5).
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The value of a base64url character, if it is one.
fn base64url_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

/// `bytes` in base64url, unpadded.
pub(super) fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(char::from(BASE64URL[((acc >> bits) & 63) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(BASE64URL[((acc << (6 - bits)) & 63) as usize]));
    }
    out
}

/// Whether `token` has a token's format: `gps_`, then 43 base64url
/// characters whose last one carries no bits beyond the 256 (the only
/// encoding [`new_token`] makes). Looks at the string only: no hashing.
pub fn is_well_formed(token: &str) -> bool {
    let Some(body) = token.strip_prefix(TOKEN_PREFIX) else {
        return false;
    };
    let body = body.as_bytes();
    if body.len() != TOKEN_BODY_LEN {
        return false;
    }
    let mut last = 0;
    for &c in body {
        match base64url_value(c) {
            Some(value) => last = value,
            None => return false,
        }
    }
    // 43 × 6 = 258 bits: the last character's two low bits are padding.
    last & 0b11 == 0
}

/// A presented token that does not have a token's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed token: expected gps_ followed by 43 base64url characters")]
pub struct MalformedToken;

/// The SHA-256 of a token. Its `Debug` does not show it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    /// The digest of `token`, after checking its format
    /// ([`is_well_formed`]): a malformed token is not hashed.
    pub fn of_token(token: &str) -> Result<TokenDigest, MalformedToken> {
        if !is_well_formed(token) {
            return Err(MalformedToken);
        }
        Ok(TokenDigest(Sha256::digest(token.as_bytes()).into()))
    }

    /// Reads 64 lowercase hex characters.
    pub fn from_hex(hex: &str) -> Option<TokenDigest> {
        let hex = hex.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Some(TokenDigest(bytes))
    }

    /// 64 lowercase hex characters, as in the tokens file.
    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        out
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenDigest(..)")
    }
}

/// A new token and the hex SHA-256 to put in the tokens file:
/// `(token, digest_hex)`. The 256 bits come from `rand::rng()`, a CSPRNG
/// (ChaCha12 seeded from the operating system).
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", base64url(&bytes));
    let digest = TokenDigest::of_token(&token).expect("a new token is well formed");
    (token, digest.to_hex())
}
