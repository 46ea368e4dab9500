//! Pure secret generation: character classes, password policies, the
//! password, passphrase and API key generators, their entropy, zxcvbn
//! strength checks of chosen passwords, and offline checks of API keys. No I/O, no gRPC or Redis types, so every
//! rule here is unit-tested in isolation.
//!
//! Randomness comes from the caller as `&mut impl CryptoRng`: the type system
//! refuses a non-cryptographic RNG. Sampling only uses rand's integer
//! primitives (`choose`, `shuffle`, `random_range`; exactly unbiased with
//! rand's `unbiased` feature, which Cargo.toml turns on) and uniform big
//! integers by rejection, never `% len` or floats. Passwords are exactly
//! uniform over the strings their policy allows (`uniform`).

mod charset;
mod entropy;
mod passphrase;
mod password;
mod policy;
mod secret;
mod strength;
mod token;
mod uniform;
mod violation;

pub use charset::{AMBIGUOUS, CharClass, DIGITS, LOWERCASE, SPECIALS, UPPERCASE};
pub use entropy::{passphrase_entropy_bits, password_entropy_bits};
pub use passphrase::{
    DEFAULT_SEPARATOR, DEFAULT_WORDS, GeneratedPassphrase, MAX_SEPARATOR_BYTES, MAX_WORDS,
    MIN_WORDS, PassphraseOptions, PassphrasePolicy, WORDLIST, generate_passphrase,
};
pub use password::{GeneratedPassword, generate_password};
pub use policy::{
    DEFAULT_LENGTH, LENGTH_RANGE, MAX_CHARSET_BYTES, MAX_LENGTH, MIN_LENGTH, PasswordOptions,
    PasswordPolicy,
};
pub use secret::Secret;
pub use strength::{
    MAX_CHECK_CHARS, MAX_SCORED_CHARS, MAX_USER_INPUT_CHARS, MAX_USER_INPUTS, Strength,
    WORST_CHECK_INPUT, check_password, score_password, validate_check,
};
pub use token::{
    CHECKSUM_CHARS, DEFAULT_TOKEN_BITS, DEFAULT_TOKEN_FORMAT, GeneratedToken,
    MAX_CHECK_TOKEN_BYTES, MAX_PREFIX_BYTES, MAX_TOKEN_BITS, MAX_TOKEN_BYTES, MIN_TOKEN_BITS,
    TokenCheck, TokenFormat, TokenOptions, TokenPolicy, TokenProblem, UUID_BITS, check_token,
    checksum, generate_token, validate_token,
};
pub use violation::FieldViolation;
