//! One history entry and the form it takes in Redis, in one of two modes
//! ([`HistoryMode`]):
//!
//! * `encrypted` (the default): JSON of the whole record, padded with
//!   spaces to the next of [`PADDED_SIZES`] bytes (so entries of one size
//!   class — every password up to about 100 characters — are the same size
//!   in Redis), encrypted with XChaCha20-Poly1305 (see [`crate::keyring`])
//!   and bound to its list: `g1:<key id>:<base64>`.
//! * `metadata`: no secret at all, only what an audit trail needs, as
//!   plain JSON behind the prefix `m1:`:
//!   `m1:{"created_at_ms":…,"length":…,"entropy_bits":…,"principal":"…"}`.
//!   No keys file is needed: there is nothing to encrypt.
//!
//! A reader in one mode skips the other mode's entries
//! ([`Skip::OtherMode`]), and anything else it does not recognize
//! ([`Skip::NotOurs`]): nothing that is not a password is ever returned as
//! one.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::mode::HistoryMode;
use super::skip::Skip;
use crate::generator::{GeneratedPassword, Secret};
use crate::keyring::{DecryptError, KeyRing, is_envelope};

/// The prefix of a metadata-only entry: never the start of an envelope
/// (`g1:`) nor of JSON.
const METADATA_PREFIX: &str = "m1:";

/// The plaintext sizes an encrypted entry is padded to (past the last, a
/// multiple of it): a reader of Redis learns only the size class.
pub(super) const PADDED_SIZES: [usize; 3] = [256, 1024, 4096];

/// `json` with spaces after it (JSON allows them: readers before padding
/// read these entries too) up to its size class.
fn pad(json: &mut Vec<u8>) {
    let last = PADDED_SIZES[PADDED_SIZES.len() - 1];
    let size = PADDED_SIZES
        .iter()
        .copied()
        .find(|&size| json.len() <= size)
        .unwrap_or_else(|| json.len().div_ceil(last) * last);
    json.resize(size, b' ');
}

/// One history entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The password; empty when read from a `metadata` history (the secret
    /// was never stored).
    pub password: Secret,
    /// Length of the secret in characters (generated secrets are ASCII).
    pub length: usize,
    /// Who generated it (token name, certificate SAN or "anonymous"): set
    /// when it is read back; empty before it is stored, and for entries
    /// written before the principal was recorded.
    pub principal: String,
    /// When it was generated; `None` for entries written by the original
    /// app (plain strings, no timestamp).
    pub created_at: Option<SystemTime>,
    /// Its strength when generated (0 when unknown).
    pub entropy_bits: f64,
}

/// The plaintext of an encrypted entry: small, explicit, versionable JSON.
#[derive(Serialize, Deserialize)]
struct StoredRecord {
    password: String,
    /// Absent when unknown (an entry converted from the original app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at_ms: Option<u64>,
    #[serde(default)]
    entropy_bits: f64,
    /// Absent in entries written before it was recorded: the password's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    length: Option<usize>,
    /// Absent in entries written before it was recorded.
    #[serde(default)]
    principal: String,
    /// The entry's number in its list (1, 2, …: one more per entry
    /// pushed, counted in Redis in the same script as the push). Sealed
    /// with the rest, so a copy is a copy: a list returns each number
    /// once, and only the newest `cap` numbers (an entry trimmed by the cap
    /// and pushed back stays out). Absent in entries written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
}

/// A metadata-only entry (after [`METADATA_PREFIX`]): no secret field at
/// all, so none can be filled by mistake.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at_ms: Option<u64>,
    length: usize,
    #[serde(default)]
    entropy_bits: f64,
    principal: String,
}

impl From<GeneratedPassword> for Record {
    /// A freshly generated password, stamped now.
    fn from(generated: GeneratedPassword) -> Self {
        Record::new(
            generated.password,
            generated.entropy_bits,
            SystemTime::now(),
        )
    }
}

fn unix_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn from_millis(ms: Option<u64>) -> Option<SystemTime> {
    ms.map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
}

impl Record {
    /// A secret generated at `created_at`, kept to the millisecond (the
    /// precision stored, so a listed record matches the response exactly).
    pub fn new(password: Secret, entropy_bits: f64, created_at: SystemTime) -> Record {
        Record {
            length: password.len(),
            password,
            principal: String::new(),
            created_at: Some(UNIX_EPOCH + Duration::from_millis(unix_millis(created_at))),
            entropy_bits,
        }
    }

    /// The entry stored for `principal` in `list_key` as its number `seq`,
    /// in `mode`: encrypted with `keys`' first key and bound to `list_key`
    /// (associated data), so an entry copied to another principal's list
    /// does not decrypt; or its metadata alone (`keys` and `seq` unused:
    /// metadata entries are not authenticated, so a number would prove
    /// nothing).
    pub(super) fn seal(
        &self,
        mode: HistoryMode,
        keys: &KeyRing,
        list_key: &str,
        principal: &str,
        seq: u64,
    ) -> String {
        match mode {
            HistoryMode::Encrypted => {
                let mut json = Zeroizing::new(
                    serde_json::to_vec(&StoredRecord {
                        password: self.password.expose().to_owned(),
                        created_at_ms: self.created_at.map(unix_millis),
                        entropy_bits: self.entropy_bits,
                        length: Some(self.length),
                        principal: principal.to_owned(),
                        seq: Some(seq),
                    })
                    .expect("plain struct serializes"),
                );
                pad(&mut json);
                String::from_utf8(keys.encrypt(list_key.as_bytes(), &json))
                    .expect("envelopes are ASCII")
            }
            HistoryMode::Metadata => {
                let json = serde_json::to_string(&StoredMetadata {
                    created_at_ms: self.created_at.map(unix_millis),
                    length: self.length,
                    entropy_bits: self.entropy_bits,
                    principal: principal.to_owned(),
                })
                .expect("plain struct serializes");
                format!("{METADATA_PREFIX}{json}")
            }
        }
    }

    /// Opens an entry of `list_key` as a reader in `mode`, with its number
    /// in the list (none for metadata entries and older ones). There is no
    /// plaintext fallback: an entry that is not ours, or of the other mode,
    /// is skipped, never returned as a password.
    pub(super) fn open(
        mode: HistoryMode,
        keys: &KeyRing,
        list_key: &str,
        entry: &str,
    ) -> Result<(Record, Option<u64>), Skip> {
        let metadata = entry.strip_prefix(METADATA_PREFIX);
        match (mode, metadata) {
            (HistoryMode::Encrypted, Some(_)) => Err(Skip::OtherMode),
            (HistoryMode::Encrypted, None) => Record::decrypt(keys, list_key, entry),
            (HistoryMode::Metadata, Some(json)) => {
                let stored: StoredMetadata =
                    serde_json::from_str(json).map_err(|_| Skip::NotOurs)?;
                let StoredMetadata {
                    created_at_ms,
                    length,
                    entropy_bits,
                    principal,
                } = stored;
                let record = Record {
                    password: Secret::new(String::new()),
                    length,
                    principal,
                    created_at: from_millis(created_at_ms),
                    entropy_bits,
                };
                Ok((record, None))
            }
            (HistoryMode::Metadata, None) if is_envelope(entry.as_bytes()) => Err(Skip::OtherMode),
            (HistoryMode::Metadata, None) => Err(Skip::NotOurs),
        }
    }

    fn decrypt(keys: &KeyRing, list_key: &str, entry: &str) -> Result<(Record, Option<u64>), Skip> {
        let json = keys
            .decrypt(list_key.as_bytes(), entry.as_bytes())
            .map_err(|error| match error {
                DecryptError::NotOurs => Skip::NotOurs,
                DecryptError::UnknownKeyId(_) => Skip::UnknownKeyId,
                DecryptError::AuthFailed => Skip::AuthFailed,
            })?;
        let json = Zeroizing::new(json);
        let stored: StoredRecord = serde_json::from_slice(&json).map_err(|_| Skip::AuthFailed)?;
        let StoredRecord {
            password,
            created_at_ms,
            entropy_bits,
            length,
            principal,
            seq,
        } = stored;
        let record = Record {
            length: length.unwrap_or(password.len()),
            password: Secret::new(password),
            principal,
            created_at: from_millis(created_at_ms),
            entropy_bits,
        };
        Ok((record, seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use HistoryMode::{Encrypted, Metadata};

    fn keys() -> KeyRing {
        KeyRing::ephemeral()
    }

    fn record(password: &str, created_at: Option<SystemTime>, entropy_bits: f64) -> Record {
        Record {
            password: Secret::new(password.to_owned()),
            length: password.len(),
            principal: String::new(),
            created_at,
            entropy_bits,
        }
    }

    #[test]
    fn records_round_trip_sealed_with_their_principal() {
        let keys = keys();
        let written = record(
            "p@ss\"w0rd",
            Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)),
            95.5,
        );
        let entry = written.seal(Encrypted, &keys, "list", "alice", 7);
        assert!(!entry.contains("p@ss"), "{entry}");
        assert!(!entry.contains("alice"), "{entry}");
        let (read, seq) = Record::open(Encrypted, &keys, "list", &entry).unwrap();
        assert_eq!(seq, Some(7));
        assert_eq!(
            read,
            Record {
                principal: "alice".to_owned(),
                ..written
            }
        );
        assert_eq!(read.length, 9);
    }

    /// The review's attack: passwords of 8, 20, 64 and 128 characters were
    /// 232, 248, 308 and 392 characters in Redis. Now one size class.
    #[test]
    fn entries_of_one_size_class_are_the_same_size() {
        let keys = keys();
        let sizes: Vec<usize> = [8, 20, 64, 100]
            .into_iter()
            .map(|length| {
                let written = record(&"x".repeat(length), Some(SystemTime::now()), 95.5);
                let entry = written.seal(Encrypted, &keys, "list", "spiffe://example.org/ns/ci", 1);
                assert_eq!(
                    Record::open(Encrypted, &keys, "list", &entry).map(|(r, _)| r.length),
                    Ok(length)
                );
                entry.len()
            })
            .collect();
        assert!(sizes.iter().all(|&size| size == sizes[0]), "{sizes:?}");
        // The worst a password can escape to: every character `"`.
        let quotes = record(&"\"".repeat(1024), Some(SystemTime::now()), 1.0);
        let entry = quotes.seal(Encrypted, &keys, "list", "alice", u64::MAX);
        assert_eq!(
            Record::open(Encrypted, &keys, "list", &entry).map(|(r, _)| r.length),
            Ok(1024)
        );
        let mut json = vec![b'{'; 5000];
        pad(&mut json);
        assert_eq!(json.len(), 8192);
        let mut json = b"{}".to_vec();
        pad(&mut json);
        assert_eq!(json.len(), 256);
    }

    #[test]
    fn an_unknown_time_round_trips_as_unknown() {
        let keys = keys();
        let written = record("x", None, 0.0);
        let read = Record::open(
            Encrypted,
            &keys,
            "k",
            &written.seal(Encrypted, &keys, "k", "", 1),
        );
        assert_eq!(read, Ok((written, Some(1))));
    }

    #[test]
    fn metadata_entries_hold_no_secret_and_read_back_without_one() {
        let keys = keys();
        let written = record(
            "Tr0ub4dor&3-unique",
            Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)),
            72.0,
        );
        let entry = written.seal(Metadata, &keys, "list", "alice", 1);
        assert!(!entry.contains("Tr0ub4dor"), "{entry}");
        assert_eq!(
            entry,
            r#"m1:{"created_at_ms":1700000000123,"length":18,"entropy_bits":72.0,"principal":"alice"}"#
        );
        let (read, seq) = Record::open(Metadata, &keys, "list", &entry).unwrap();
        assert_eq!(seq, None);
        assert_eq!(
            read,
            Record {
                password: Secret::new(String::new()),
                length: 18,
                principal: "alice".to_owned(),
                created_at: written.created_at,
                entropy_bits: 72.0,
            }
        );
    }

    #[test]
    fn each_mode_skips_the_others_entries() {
        let keys = keys();
        let written = record("s3cret-s3cret", Some(SystemTime::now()), 1.0);
        let encrypted = written.seal(Encrypted, &keys, "l", "p", 1);
        let metadata = written.seal(Metadata, &keys, "l", "p", 1);
        assert_eq!(
            Record::open(Metadata, &keys, "l", &encrypted),
            Err(Skip::OtherMode)
        );
        assert_eq!(
            Record::open(Encrypted, &keys, "l", &metadata),
            Err(Skip::OtherMode)
        );
    }

    #[test]
    fn entries_that_are_not_ours_are_skipped_never_returned() {
        let keys = keys();
        let written = Record::new(Secret::new("s".into()), 1.0, SystemTime::now());
        let entry = written.seal(Encrypted, &keys, "alice", "alice", 1);
        assert_eq!(
            Record::open(Encrypted, &keys, "bob", &entry),
            Err(Skip::AuthFailed)
        );
        assert_eq!(
            Record::open(Encrypted, &KeyRing::ephemeral(), "alice", &entry),
            Err(Skip::UnknownKeyId)
        );
        let json = r#"{"password":"plain","created_at_ms":1}"#;
        for mode in [Encrypted, Metadata] {
            for foreign in ["abc123", json] {
                assert_eq!(
                    Record::open(mode, &keys, "alice", foreign),
                    Err(Skip::NotOurs),
                    "{mode} {foreign}"
                );
            }
        }
        // A metadata entry carrying a password is not one of ours.
        let smuggled =
            r#"m1:{"length":5,"entropy_bits":1.0,"principal":"alice","password":"plain"}"#;
        assert_eq!(
            Record::open(Metadata, &keys, "alice", smuggled),
            Err(Skip::NotOurs)
        );
    }

    #[test]
    fn modes_parse_from_their_names() {
        for mode in [Encrypted, Metadata] {
            assert_eq!(mode.as_str().parse::<HistoryMode>(), Ok(mode));
        }
        assert!("plaintext".parse::<HistoryMode>().is_err());
        assert_eq!(HistoryMode::default(), Encrypted);
    }
}
