//! The history of generated passwords: a capped Redis list, newest first.
//!
//! Every push is `LPUSH` + `LTRIM` in one `MULTI`/`EXEC`, so the list can
//! never exceed its cap, even between two commands. Every operation is
//! bounded by a timeout: a slow or absent Redis gives an error, never a hang.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use deadpool_redis::redis::{self, AsyncConnectionConfig, AsyncTypedCommands};
use deadpool_redis::{Manager, Pool, PoolError, Runtime};
use serde::{Deserialize, Serialize};

use crate::generator::{GeneratedPassword, Secret};

/// Largest history cap accepted: bounds Redis memory and `ListPasswords`.
pub const MAX_CAP: usize = 10_000;

/// How to reach Redis and how much to keep.
#[derive(Debug, Clone)]
pub struct HistoryConfig {
    /// `redis://` or `rediss://` URL (may hold a password: never log it).
    pub url: String,
    /// Key of the Redis list.
    pub key: String,
    /// Most entries kept; 1..=[`MAX_CAP`].
    pub cap: usize,
    /// Most connections open at once.
    pub pool_size: usize,
    /// Bound on opening a connection and on waiting for a free one.
    pub connect_timeout: Duration,
    /// Bound on one whole operation, connection included.
    pub command_timeout: Duration,
}

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The operation took longer than the command timeout.
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    /// No connection could be had from the pool.
    #[error("no redis connection: {0}")]
    Pool(#[from] PoolError),
    /// Redis answered with an error, or the connection broke.
    #[error("redis error: {0}")]
    Redis(#[from] redis::RedisError),
    /// The configuration cannot work (bad URL, cap out of range).
    #[error("invalid history configuration: {0}")]
    Config(String),
}

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
    fn decode(entry: String) -> Record {
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

    fn encode(&self) -> String {
        serde_json::to_string(&StoredRecord::from(self)).expect("plain struct serializes")
    }
}

/// The Redis-backed history. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct History {
    pool: Pool,
    /// For [`Pinger`]: its own connection, never queued behind traffic.
    client: redis::Client,
    connection: AsyncConnectionConfig,
    key: String,
    cap: usize,
    command_timeout: Duration,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("key", &self.key)
            .field("cap", &self.cap)
            .finish_non_exhaustive()
    }
}

impl History {
    /// Builds the pool. Connects lazily: a Redis that is down at start is
    /// reported by [`History::ping`] and by each operation, not here.
    pub fn new(config: HistoryConfig) -> Result<Self, HistoryError> {
        let HistoryConfig {
            url,
            key,
            cap,
            pool_size,
            connect_timeout,
            command_timeout,
        } = config;
        if !(1..=MAX_CAP).contains(&cap) {
            return Err(HistoryError::Config(format!(
                "cap must be between 1 and {MAX_CAP}, got {cap}"
            )));
        }
        let connection = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(Some(command_timeout));
        let client = redis::Client::open(url.as_str())
            .map_err(|e| HistoryError::Config(format!("redis url: {e}")))?;
        let manager = Manager::new_with_config(url.as_str(), connection.clone())
            .map_err(|e| HistoryError::Config(format!("redis url: {e}")))?;
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .wait_timeout(Some(connect_timeout))
            .create_timeout(Some(connect_timeout))
            .recycle_timeout(Some(command_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| HistoryError::Config(e.to_string()))?;
        Ok(History {
            pool,
            client,
            connection,
            key,
            cap,
            command_timeout,
        })
    }

    /// Most entries kept.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Adds `records` (oldest first) and trims the list to the cap, in one
    /// transaction: either all are stored or none. Records that the cap
    /// would drop at once are not even sent.
    pub async fn push(&self, records: &[Record]) -> Result<(), HistoryError> {
        if records.is_empty() {
            return Ok(());
        }
        let kept = &records[records.len().saturating_sub(self.cap)..];
        let entries: Vec<String> = kept.iter().map(Record::encode).collect();
        let last = isize::try_from(self.cap).unwrap_or(isize::MAX) - 1;
        self.bounded(async {
            let mut conn = self.pool.get().await?;
            redis::pipe()
                .atomic()
                .lpush(&self.key, &entries)
                .ignore()
                .ltrim(&self.key, 0, last)
                .ignore()
                .exec_async(&mut *conn)
                .await?;
            Ok(())
        })
        .await
    }

    /// Up to `limit` most recent records, newest first.
    pub async fn recent(&self, limit: usize) -> Result<Vec<Record>, HistoryError> {
        let limit = limit.min(self.cap);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let stop = isize::try_from(limit).unwrap_or(isize::MAX) - 1;
        let entries = self
            .bounded(async {
                let mut conn = self.pool.get().await?;
                Ok(conn.lrange(&self.key, 0, stop).await?)
            })
            .await?;
        Ok(entries.into_iter().map(Record::decode).collect())
    }

    /// A pinger with its own connection, for health reporting.
    pub fn pinger(&self) -> Pinger {
        Pinger {
            history: self.clone(),
            connection: None,
        }
    }

    async fn bounded<T>(
        &self,
        operation: impl Future<Output = Result<T, HistoryError>>,
    ) -> Result<T, HistoryError> {
        tokio::time::timeout(self.command_timeout, operation)
            .await
            .map_err(|_| HistoryError::Timeout(self.command_timeout))?
    }
}

/// Checks that Redis answers, on a connection of its own: a PING never
/// waits behind the traffic in the pool.
pub struct Pinger {
    history: History,
    connection: Option<redis::aio::MultiplexedConnection>,
}

impl std::fmt::Debug for Pinger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pinger").finish_non_exhaustive()
    }
}

impl Pinger {
    /// PINGs Redis within the command timeout, (re)connecting as needed.
    pub async fn ping(&mut self) -> Result<(), HistoryError> {
        let history = self.history.clone();
        let result = history
            .bounded(async {
                let connection = match &mut self.connection {
                    Some(connection) => connection,
                    None => self.connection.insert(
                        history
                            .client
                            .get_multiplexed_async_connection_with_config(&history.connection)
                            .await?,
                    ),
                };
                connection.ping().await?;
                Ok(())
            })
            .await;
        if result.is_err() {
            // Reconnect next time: the connection may be the problem.
            self.connection = None;
        }
        result
    }
}

/// `url` with any password replaced by `***`, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
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

    #[test]
    fn redacts_credentials() {
        assert_eq!(
            redact_url("rediss://user:s3cret@redis:6380/0"),
            "rediss://***@redis:6380/0"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }

    #[test]
    fn rejects_caps_out_of_range() {
        for cap in [0, MAX_CAP + 1] {
            let config = HistoryConfig {
                url: "redis://127.0.0.1:1".to_owned(),
                key: "k".to_owned(),
                cap,
                pool_size: 1,
                connect_timeout: Duration::from_secs(1),
                command_timeout: Duration::from_secs(1),
            };
            assert!(matches!(History::new(config), Err(HistoryError::Config(_))));
        }
    }
}
