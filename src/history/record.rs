//! One history entry and the form it takes in Redis: JSON, encrypted with
//! XChaCha20-Poly1305 (see [`crate::keyring`]) and bound to its list.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::generator::{GeneratedPassword, Secret};
use crate::keyring::{DecryptError, KeyRing};

/// One stored password.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The password.
    pub password: Secret,
    /// When it was generated; `None` for entries written by the original
    /// app (plain strings, no timestamp).
    pub created_at: Option<SystemTime>,
    /// Its strength when generated (0 when unknown).
    pub entropy_bits: f64,
}

/// The form an entry takes in Redis: small, explicit, versionable JSON.
#[derive(Serialize, Deserialize)]
struct StoredRecord {
    password: String,
    /// Absent when unknown (an entry converted from the original app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at_ms: Option<u64>,
    #[serde(default)]
    entropy_bits: f64,
}

impl From<&Record> for StoredRecord {
    fn from(record: &Record) -> Self {
        StoredRecord {
            password: record.password.expose().to_owned(),
            created_at_ms: record.created_at.map(unix_millis),
            entropy_bits: record.entropy_bits,
        }
    }
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

impl Record {
    /// A secret generated at `created_at`, kept to the millisecond (the
    /// precision stored, so a listed record matches the response exactly).
    pub fn new(password: Secret, entropy_bits: f64, created_at: SystemTime) -> Record {
        Record {
            password,
            created_at: Some(UNIX_EPOCH + Duration::from_millis(unix_millis(created_at))),
            entropy_bits,
        }
    }

    /// The entry stored in `list_key`: the record as JSON, encrypted with
    /// `keys`' first key, bound to `list_key` (associated data), so an entry
    /// copied to another principal's list does not decrypt.
    pub(super) fn seal(&self, keys: &KeyRing, list_key: &str) -> String {
        let json = Zeroizing::new(
            serde_json::to_vec(&StoredRecord::from(self)).expect("plain struct serializes"),
        );
        String::from_utf8(keys.encrypt(list_key.as_bytes(), &json)).expect("envelopes are ASCII")
    }

    /// Opens an entry of `list_key`. There is no plaintext fallback: an
    /// entry that is not ours is skipped, never returned as a password.
    pub(super) fn open(keys: &KeyRing, list_key: &str, entry: &str) -> Result<Record, Skip> {
        let json = keys
            .decrypt(list_key.as_bytes(), entry.as_bytes())
            .map_err(|error| match error {
                DecryptError::NotOurs => Skip::NotOurs,
                DecryptError::UnknownKeyId(_) => Skip::UnknownKeyId,
                DecryptError::AuthFailed => Skip::AuthFailed,
            })?;
        let json = Zeroizing::new(json);
        let stored: StoredRecord = serde_json::from_slice(&json).map_err(|_| Skip::AuthFailed)?;
        Ok(Record {
            password: Secret::new(stored.password),
            created_at: stored
                .created_at_ms
                .map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
            entropy_bits: stored.entropy_bits,
        })
    }
}

/// Why a stored entry was not returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Skip {
    /// Written with a key that has since been removed: crypto-shredded
    /// (expected after a key rotation).
    UnknownKeyId,
    /// Tampered with, moved from another list, or encrypted with another
    /// key of the same name.
    AuthFailed,
    /// Not an encrypted entry of ours (e.g. the original app's plain text).
    NotOurs,
    /// Older than the history's time to live.
    Expired,
}

impl Skip {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Skip::UnknownKeyId => "unknown_key_id",
            Skip::AuthFailed => "auth_failed",
            Skip::NotOurs => "not_ours",
            Skip::Expired => "expired",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> KeyRing {
        KeyRing::ephemeral()
    }

    #[test]
    fn records_round_trip_sealed() {
        let keys = keys();
        let record = Record {
            password: Secret::new("p@ss\"w0rd".to_owned()),
            created_at: Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)),
            entropy_bits: 95.5,
        };
        let entry = record.seal(&keys, "list");
        assert!(!entry.contains("p@ss"), "{entry}");
        assert_eq!(Record::open(&keys, "list", &entry), Ok(record));
    }

    #[test]
    fn an_unknown_time_round_trips_as_unknown() {
        let keys = keys();
        let record = Record {
            password: Secret::new("x".to_owned()),
            created_at: None,
            entropy_bits: 0.0,
        };
        assert_eq!(
            Record::open(&keys, "k", &record.seal(&keys, "k")),
            Ok(record)
        );
    }

    #[test]
    fn entries_that_are_not_ours_are_skipped_never_returned() {
        let keys = keys();
        let record = Record::new(Secret::new("s".into()), 1.0, SystemTime::now());
        let entry = record.seal(&keys, "alice");
        assert_eq!(Record::open(&keys, "bob", &entry), Err(Skip::AuthFailed));
        assert_eq!(
            Record::open(&KeyRing::ephemeral(), "alice", &entry),
            Err(Skip::UnknownKeyId)
        );
        assert_eq!(Record::open(&keys, "alice", "abc123"), Err(Skip::NotOurs));
        let json = r#"{"password":"plain","created_at_ms":1}"#;
        assert_eq!(Record::open(&keys, "alice", json), Err(Skip::NotOurs));
    }
}
