//! One history entry and the form it takes in Redis.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::generator::{GeneratedPassword, Secret};

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

    /// Reads an entry; anything that is not our JSON is taken as a legacy
    /// plain password, so pointing the service at the old list works.
    pub(super) fn decode(entry: String) -> Record {
        match serde_json::from_str::<StoredRecord>(&entry) {
            Ok(stored) => Record {
                password: Secret::new(stored.password),
                created_at: stored
                    .created_at_ms
                    .map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
                entropy_bits: stored.entropy_bits,
            },
            Err(_) => Record {
                password: Secret::new(entry),
                created_at: None,
                entropy_bits: 0.0,
            },
        }
    }

    pub(super) fn encode(&self) -> String {
        serde_json::to_string(&StoredRecord::from(self)).expect("plain struct serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_their_stored_form() {
        let record = Record {
            password: Secret::new("p@ss\"w0rd".to_owned()),
            created_at: Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)),
            entropy_bits: 95.5,
        };
        assert_eq!(Record::decode(record.encode()), record);
    }

    #[test]
    fn an_unknown_time_round_trips_as_unknown() {
        let record = Record {
            password: Secret::new("x".to_owned()),
            created_at: None,
            entropy_bits: 0.0,
        };
        assert_eq!(Record::decode(record.encode()), record);
    }

    #[test]
    fn plain_entries_of_the_original_app_are_read_as_legacy_records() {
        let record = Record::decode("abc123".to_owned());
        assert_eq!(record.password.expose(), "abc123");
        assert_eq!(record.created_at, None);
    }
}
