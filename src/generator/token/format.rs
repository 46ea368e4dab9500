//! The encodings an API key's random part is written in: their alphabets,
//! and how many characters a number of bits takes.

use std::fmt;

/// `0-9A-Za-z`, in ASCII order: base62 bodies and every checksum.
pub(super) const BASE62: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Lower-case hexadecimal.
const HEX: &[u8; 16] = b"0123456789abcdef";
/// RFC 4648 §5, the URL- and filename-safe alphabet (written without `=`
/// padding).
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// Crockford's base32: digits and upper-case letters without I, L, O, U.
const BASE32_CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// How the random part of a token is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenFormat {
    /// `0-9A-Za-z`, log2(62) ≈ 5.95 bits a character: no `-` or `_`, so
    /// a double click selects the whole token. The default.
    Base62,
    /// `0-9a-f`, 4 bits a character.
    Hex,
    /// RFC 4648 base64url without padding (`A-Za-z0-9-_`), 6 bits a
    /// character.
    Base64Url,
    /// Crockford base32 (`0-9A-Z` without I L O U), 5 bits a character:
    /// nothing to misread when it is read aloud or typed.
    Base32Crockford,
    /// An RFC 9562 version 4 UUID, canonical lower-case form: 122 random
    /// bits, no prefix and no checksum (it must stay a UUID).
    Uuid,
}

impl TokenFormat {
    /// Every format, narrowest alphabet first (the order a check without a
    /// format tries them in), then UUID.
    pub const ALL: [TokenFormat; 5] = [
        TokenFormat::Hex,
        TokenFormat::Base32Crockford,
        TokenFormat::Base62,
        TokenFormat::Base64Url,
        TokenFormat::Uuid,
    ];

    /// The format's name, as the CLI and messages write it.
    pub const fn name(self) -> &'static str {
        match self {
            TokenFormat::Base62 => "base62",
            TokenFormat::Hex => "hex",
            TokenFormat::Base64Url => "base64url",
            TokenFormat::Base32Crockford => "base32",
            TokenFormat::Uuid => "uuid",
        }
    }

    /// The format named `name` (as [`TokenFormat::name`] writes it).
    pub fn from_name(name: &str) -> Option<TokenFormat> {
        TokenFormat::ALL
            .into_iter()
            .find(|format| format.name() == name)
    }

    /// The characters of the random part, `None` for UUIDs (hex digits and
    /// dashes in a fixed shape).
    pub(super) const fn alphabet(self) -> Option<&'static [u8]> {
        match self {
            TokenFormat::Base62 => Some(BASE62),
            TokenFormat::Hex => Some(HEX),
            TokenFormat::Base64Url => Some(BASE64URL),
            TokenFormat::Base32Crockford => Some(BASE32_CROCKFORD),
            TokenFormat::Uuid => None,
        }
    }

    /// Bits of entropy one character of the random part carries (UUIDs:
    /// 0, their bits are fixed at 122).
    pub fn bits_per_char(self) -> f64 {
        self.alphabet()
            .map_or(0.0, |alphabet| (alphabet.len() as f64).log2())
    }

    /// The fewest characters holding at least `bits` bits: `bits` rounded
    /// up to whole characters.
    pub(super) fn chars_for(self, bits: u32) -> usize {
        let Some(alphabet) = self.alphabet() else {
            return 0;
        };
        let len = alphabet.len();
        if len.is_power_of_two() {
            let per_char = len.trailing_zeros();
            return bits.div_ceil(per_char) as usize;
        }
        // 62 is no power of two: the smallest n with 62^n ≥ 2^bits. n ·
        // log2(62) is never a whole number (n > 0), so the float comparison
        // has no tie to get wrong.
        let per_char = self.bits_per_char();
        let mut chars = (f64::from(bits) / per_char).ceil() as usize;
        while chars as f64 * per_char < f64::from(bits) {
            chars += 1;
        }
        chars
    }

    /// The entropy of a random part of `chars` characters.
    pub(super) fn entropy_bits(self, chars: usize) -> f64 {
        chars as f64 * self.bits_per_char()
    }
}

impl fmt::Display for TokenFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
