//! Encryption at rest of history entries: XChaCha20-Poly1305 under a ring of
//! named keys.
//!
//! # Keys file
//!
//! One key per line, `ID BASE64`, fields separated by spaces or tabs:
//!
//! ```text
//! # newest first: the first key encrypts, every key decrypts
//! 2025-06 q0Zm0s7hG8ZP7mW1Yx3pR9l1tC2vB4nJ6kE8aD0fH2I=
//! 2024-12 7bXkz4b3T0g8U6y2w1Q9r5e3t7y1u9i0o2p4a6s8d0E=
//! ```
//!
//! * `ID`: 1 to 32 characters of `[A-Za-z0-9_.-]`; unique in the file.
//! * `BASE64`: 32 random bytes in standard base64 with its padding (44
//!   characters). [`KeyRing::new_key_line`] makes such a line; never reuse
//!   the example keys above.
//! * Lines whose first non-blank character is `#`, and blank lines, are
//!   ignored. A file without any key is an error.
//!
//! The **first** key encrypts every new entry; **all** keys decrypt. Rotation
//! is: add a new key at the top (no restart: a ring loaded from a file is
//! re-read by [`KeyRing::reload`], which the server calls on SIGHUP and every
//! 10 s, and which changes nothing unless the new file parses completely);
//! once the entries written under the
//! old key have aged out of the capped history, remove the old line. An entry
//! whose key was removed can no longer be read ([`DecryptError::UnknownKeyId`]):
//! removing a key is how its entries are crypto-shredded.
//!
//! Parsing reports every bad line at once, by line number and reason, and
//! never quotes what a line holds (it may be key material).
//!
//! # Envelope
//!
//! [`KeyRing::encrypt`] returns an ASCII envelope, safe to store as a Redis
//! string and to compare in tests:
//!
//! ```text
//! g1:<key id>:<base64(nonce || ciphertext || tag)>
//! ```
//!
//! * `g1:` names the format (version 1) and never starts a JSON record.
//! * `<key id>` names the key that encrypted it (it cannot contain `:`).
//! * The body is standard base64 with padding of the 24-byte random nonce
//!   (192 bits from the operating system's CSPRNG, so random nonces never
//!   realistically repeat), the ciphertext (as long as the plaintext) and
//!   the 16-byte Poly1305 tag: `3 + id + 1 + 4 * ceil((40 + n) / 3)` bytes for
//!   an `n`-byte plaintext.
//!
//! The associated data authenticated with each entry is the header
//! `g1:<key id>:` followed by the caller's associated data (for the history:
//! the name of the Redis list), so an entry copied to another list, or whose
//! header was edited, fails to decrypt ([`DecryptError::AuthFailed`]).
//!
//! # Secrets
//!
//! Key bytes never appear in `Debug` output nor in errors (`Debug` shows the
//! key IDs only), and are zeroed when the last holder of a version of the ring drops it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, Generate, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use rand::Rng as _;
use zeroize::Zeroizing;

mod file;

pub use self::file::{KeyIdError, KeyRingError, LineError, LineProblem};
use self::file::{check_id, parse_keys, read_keys};

/// The prefix of every envelope: format `g1`.
const PREFIX: &[u8] = b"g1:";
/// Length of a key, in bytes.
pub const KEY_LEN: usize = 32;
/// Longest key ID accepted.
pub const MAX_ID_LEN: usize = 32;
/// Length of the XChaCha20 nonce, in bytes.
const NONCE_LEN: usize = 24;
/// Length of the Poly1305 tag, in bytes.
const TAG_LEN: usize = 16;

/// Why an entry could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// Not an envelope of this format (it does not start with `g1:`): a
    /// plaintext entry, written before encryption was turned on.
    #[error("not an encrypted entry")]
    NotOurs,
    /// An envelope under a key the ring does not hold: expected for entries
    /// written under a key since removed (crypto-shredded).
    #[error("encrypted under key {0:?}, which is not in the keys file")]
    UnknownKeyId(String),
    /// An envelope that does not authenticate: malformed, truncated or
    /// tampered with, read with other associated data (another list), or
    /// encrypted under other key bytes with the same ID.
    #[error("the encrypted entry does not authenticate (tampered, moved, or another key)")]
    AuthFailed,
}

/// Whether `entry` is an envelope of this module's format (by its prefix
/// only: it may still fail to decrypt). Lets a reader without keys tell
/// encrypted entries from plaintext ones.
pub fn is_envelope(entry: &[u8]) -> bool {
    entry.starts_with(PREFIX)
}

/// One named key.
struct Key {
    id: String,
    /// Holds the key bytes; zeroes them on drop (`zeroize` feature).
    cipher: XChaCha20Poly1305,
}

/// A ring of named keys: the first encrypts, all decrypt.
///
/// Cheap to clone (clones share the keys, and a [reload](KeyRing::reload)
/// reaches every clone) and `Send + Sync`. `Debug` shows the
/// key IDs only.
///
/// ```
/// use giropops_senhas::keyring::{DecryptError, KeyRing};
///
/// let old = KeyRing::new_key_line("2024-12").unwrap();
/// let new = KeyRing::new_key_line("2025-06").unwrap();
/// let before = KeyRing::parse(&format!("{old}\n")).unwrap();
/// let entry = before.encrypt(b"history", b"secret");
/// assert!(entry.starts_with(b"g1:2024-12:"));
///
/// // Rotation: the new key first; entries under the old one still read.
/// let after = KeyRing::parse(&format!("# keys\n{new}\n{old}\n")).unwrap();
/// assert_eq!(after.decrypt(b"history", &entry).unwrap(), b"secret");
/// assert!(after.encrypt(b"history", b"x").starts_with(b"g1:2025-06:"));
///
/// // Another list, or the old key removed: unreadable.
/// assert_eq!(after.decrypt(b"other", &entry), Err(DecryptError::AuthFailed));
/// let shredded = KeyRing::parse(&new).unwrap();
/// assert!(matches!(
///     shredded.decrypt(b"history", &entry),
///     Err(DecryptError::UnknownKeyId(id)) if id == "2024-12"
/// ));
/// ```
#[derive(Clone)]
pub struct KeyRing {
    shared: Arc<Shared>,
}

/// What every clone of a [`KeyRing`] shares.
struct Shared {
    /// The current keys: never empty; the first encrypts.
    keys: ArcSwap<Vec<Key>>,
    /// The file they were read from (`None`: ephemeral or parsed text,
    /// never reloaded). The lock serializes reloads.
    source: Option<Mutex<PathBuf>>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("key_ids", &self.key_ids())
            .field("file", &self.path())
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Reads and parses a keys file (format in the [module docs](self)); the
    /// ring remembers the file, for [`KeyRing::reload`].
    ///
    /// # Errors
    /// [`KeyRingError::Read`] when the file cannot be read, otherwise as
    /// [`KeyRing::parse`].
    pub fn load(path: impl AsRef<Path>) -> Result<KeyRing, KeyRingError> {
        let path = path.as_ref();
        Ok(KeyRing::from_keys(read_keys(path)?, Some(path.to_owned())))
    }

    /// Parses the text of a keys file (format in the [module docs](self)).
    ///
    /// # Errors
    /// [`KeyRingError::Invalid`] listing every bad line (duplicate IDs
    /// included), or [`KeyRingError::Empty`] when there is no key at all.
    pub fn parse(text: &str) -> Result<KeyRing, KeyRingError> {
        Ok(KeyRing::from_keys(parse_keys(text)?, None))
    }

    fn from_keys(keys: Vec<Key>, source: Option<PathBuf>) -> KeyRing {
        KeyRing {
            shared: Arc::new(Shared {
                keys: ArcSwap::from_pointee(keys),
                source: source.map(Mutex::new),
            }),
        }
    }

    /// The file the ring was loaded from, which [`KeyRing::reload`]
    /// re-reads; `None` for an ephemeral or parsed ring.
    pub fn path(&self) -> Option<PathBuf> {
        let source = self.shared.source.as_ref()?;
        Some(
            source
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }

    /// Re-reads the keys file. If it parses completely, its keys replace
    /// the current ones for every clone at once (its first key encrypts
    /// from now on; entries under a key no longer listed become unreadable:
    /// crypto-shredded) and the answer is whether the key IDs changed.
    /// Otherwise the current keys stay and the error says why (never
    /// quoting key material). A ring without a file
    /// ([`KeyRing::ephemeral`], [`KeyRing::parse`]) never changes:
    /// `Ok(false)`.
    ///
    /// # Errors
    /// As [`KeyRing::load`].
    pub fn reload(&self) -> Result<bool, KeyRingError> {
        let Some(source) = &self.shared.source else {
            return Ok(false);
        };
        let path = source.lock().unwrap_or_else(PoisonError::into_inner);
        let keys = read_keys(&path)?;
        let current = self.shared.keys.load();
        let changed = !keys
            .iter()
            .map(|key| &key.id)
            .eq(current.iter().map(|key| &key.id));
        self.shared.keys.store(Arc::new(keys));
        Ok(changed)
    }

    /// A ring of one random key, named `ephemeral-<8 hex digits>`: what is
    /// encrypted under it is unreadable once the process exits. For an
    /// operator who opts in to a history that does not survive a restart.
    /// It has no file: it never reloads.
    ///
    /// # Panics
    /// If the operating system's random number generator fails.
    pub fn ephemeral() -> KeyRing {
        let id = format!("ephemeral-{:08x}", u32::generate());
        let bytes = Zeroizing::new(<[u8; KEY_LEN]>::generate());
        let key = Key {
            id,
            cipher: XChaCha20Poly1305::new((&*bytes).into()),
        };
        KeyRing::from_keys(vec![key], None)
    }

    /// A new keys-file line, `ID BASE64`, holding 32 fresh random bytes from
    /// the operating system's CSPRNG. The line is key material: write it to
    /// the keys file, never to a log.
    ///
    /// # Errors
    /// If `id` is not a valid key ID.
    ///
    /// # Panics
    /// If the operating system's random number generator fails.
    pub fn new_key_line(id: &str) -> Result<String, KeyIdError> {
        check_id(id.as_bytes())?;
        let bytes = Zeroizing::new(<[u8; KEY_LEN]>::generate());
        Ok(format!("{id} {}", BASE64.encode(bytes.as_slice())))
    }

    /// The ID of the key that encrypts now (a reload may change it).
    pub fn encrypting_key_id(&self) -> String {
        self.shared.keys.load()[0].id.clone()
    }

    /// The IDs of every key now, the encrypting one first.
    pub fn key_ids(&self) -> Vec<String> {
        let keys = self.shared.keys.load();
        keys.iter().map(|key| key.id.clone()).collect()
    }

    /// Encrypts `plaintext` under the first key, with a fresh random nonce,
    /// binding it to `associated_data` (for the history: the Redis key
    /// name). Returns an ASCII envelope (format in the [module docs](self)).
    ///
    /// # Panics
    /// If the operating system's random number generator fails (when the
    /// thread's generator is seeded).
    pub fn encrypt(&self, associated_data: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let keys = self.shared.keys.load();
        let key = &keys[0];
        let header = header(key.id.as_bytes());
        let aad = [header.as_slice(), associated_data].concat();
        // From the thread's CSPRNG (ChaCha12, seeded and reseeded from the
        // operating system), not a getrandom(2) system call per entry: the
        // profile of the history path showed that call at ~2% of the CPU.
        let mut nonce = XNonce::default();
        rand::rng().fill_bytes(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            // Only fails past ~256 GiB of plaintext (the ChaCha20 counter).
            .expect("XChaCha20-Poly1305 encrypts any message an entry can hold");
        let mut body = Vec::with_capacity(NONCE_LEN + sealed.len());
        body.extend_from_slice(&nonce);
        body.extend_from_slice(&sealed);
        let mut envelope = header;
        envelope.extend_from_slice(BASE64.encode(&body).as_bytes());
        envelope
    }

    /// Decrypts an envelope made by [`KeyRing::encrypt`] with the same
    /// `associated_data`, under whichever key of the ring its header names.
    ///
    /// # Errors
    /// [`DecryptError::NotOurs`] when `envelope` is not of this format,
    /// [`DecryptError::UnknownKeyId`] when its key is not in the ring, and
    /// [`DecryptError::AuthFailed`] when it is malformed, tampered with, or
    /// read with other associated data.
    pub fn decrypt(
        &self,
        associated_data: &[u8],
        envelope: &[u8],
    ) -> Result<Vec<u8>, DecryptError> {
        let rest = envelope.strip_prefix(PREFIX).ok_or(DecryptError::NotOurs)?;
        let separator = rest
            .iter()
            .position(|&b| b == b':')
            .ok_or(DecryptError::AuthFailed)?;
        let (id, body) = (&rest[..separator], &rest[separator + 1..]);
        check_id(id).map_err(|_| DecryptError::AuthFailed)?;
        let body = BASE64.decode(body).map_err(|_| DecryptError::AuthFailed)?;
        if body.len() < NONCE_LEN + TAG_LEN {
            return Err(DecryptError::AuthFailed);
        }
        let keys = self.shared.keys.load();
        let key = keys
            .iter()
            .find(|key| key.id.as_bytes() == id)
            .ok_or_else(|| {
                // `check_id` passed: the ID is ASCII.
                DecryptError::UnknownKeyId(String::from_utf8_lossy(id).into_owned())
            })?;
        let (nonce, sealed) = body.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| DecryptError::AuthFailed)?;
        let aad = [header(id).as_slice(), associated_data].concat();
        key.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| DecryptError::AuthFailed)
    }
}

/// `g1:<id>:`, the envelope's header, authenticated with every entry.
fn header(id: &[u8]) -> Vec<u8> {
    let mut header = Vec::with_capacity(PREFIX.len() + id.len() + 1);
    header.extend_from_slice(PREFIX);
    header.extend_from_slice(id);
    header.push(b':');
    header
}

#[cfg(test)]
mod tests;
