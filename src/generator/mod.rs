//! Pure secret generation: character classes, password policies, the
//! generator itself and its entropy. No I/O, no gRPC or Redis types, so every
//! rule here is unit-tested in isolation.
//!
//! Randomness comes from the caller as `&mut impl CryptoRng`: the type system
//! refuses a non-cryptographic RNG. Sampling only uses rand's unbiased
//! primitives (`choose`, `shuffle`), never `% len`.

mod charset;
mod entropy;
mod password;
mod policy;
mod secret;

pub use charset::{CharClass, DIGITS, LOWERCASE, SPECIALS, UPPERCASE};
pub use entropy::entropy_bits;
pub use password::{GeneratedPassword, generate_password};
pub use policy::{
    DEFAULT_LENGTH, MAX_LENGTH, MIN_LENGTH, PasswordOptions, PasswordPolicy, PolicyViolation,
};
pub use secret::Secret;
