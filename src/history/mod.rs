//! The history of generated passwords: one capped Redis list per
//! principal, newest first, every entry encrypted, or metadata only with
//! no secret at all ([`HistoryMode`], the `record` module).
//!
//! A principal's entries live under `{HISTORY_KEY}:<principal>` — the braces
//! are a hash tag: every list, and the set of principals
//! `{HISTORY_KEY}:principals`, land on one Redis Cluster slot. Lists and the
//! set expire after `ttl` without writes; older entries are never returned.
//!
//! Every push is one atomic script (`LPUSH`, `LTRIM`, `EXPIRE`, `SADD` and
//! the list's entry number), so the list can never exceed its cap, even
//! between two commands; concurrent pushes are written together (the
//! `writer` module: group commit). Every operation is bounded
//! by a timeout: a slow or absent Redis gives an error, never a hang.

mod connect;
mod error;
mod mode;
mod pinger;
mod read;
mod record;
mod skip;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use deadpool::Runtime;
use deadpool_redis::redis::AsyncConnectionConfig;

use connect::Connector;
pub use connect::{RedisTarget, SentinelTarget, is_read_only, parse_sentinels};
pub use error::HistoryError;
pub use mode::HistoryMode;
pub use pinger::Pinger;
pub use read::Listing;
pub use record::Record;
pub use skip::Skip;
use writer::{ListTarget, Writers};

use crate::keyring::KeyRing;

/// Largest history cap accepted: bounds Redis memory and `ListPasswords`.
pub const MAX_CAP: usize = 10_000;

/// The pool of connections to Redis.
type Pool = deadpool::managed::Pool<Connector>;
/// A connection checked out of the [`Pool`].
type Connection = deadpool::managed::Object<Connector>;

/// How to reach Redis and how much to keep.
#[derive(Debug, Clone)]
pub struct HistoryConfig {
    /// One server, or the master Sentinel names (may hold a password:
    /// log it with `Display`, which shows none).
    pub target: RedisTarget,
    /// PEM CA bundle trusted for TLS to Redis instead of the public roots.
    pub tls_roots: Option<Vec<u8>>,
    /// Key of the Redis list.
    pub key: String,
    /// Most entries kept; 1..=[`MAX_CAP`].
    pub cap: usize,
    /// Most connections open at once.
    pub pool_size: usize,
    /// Bound on opening a connection and on waiting for a free one.
    pub connect_timeout: Duration,
    /// Bound on one reply from Redis, on every connection.
    pub response_timeout: Duration,
    /// Bound on one whole operation, connection included.
    pub command_timeout: Duration,
    /// Replicas that must acknowledge each write (`WAIT`) before it is
    /// reported stored; 0: none.
    pub min_replicas_ack: u32,
    /// How long `WAIT` waits for them (below `response_timeout`).
    pub wait_timeout: Duration,
    /// Encrypts and decrypts the entries (unused in metadata mode).
    pub keys: KeyRing,
    /// What is kept of each secret: itself, encrypted, or metadata only.
    pub mode: HistoryMode,
    /// Entries older than this are never returned; a quiet list expires.
    pub ttl: Duration,
}

/// Pushes that may wait for the writer of one key: a bound on memory (the
/// in-flight limit keeps it far lower in practice).
const WRITE_QUEUE: usize = 1024;

/// The Redis-backed history. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct History {
    pool: Pool,
    key: String,
    cap: usize,
    command_timeout: Duration,
    keys: KeyRing,
    mode: HistoryMode,
    ttl: Duration,
    writers: Arc<Writers>,
    /// Reads at once: at most half the pool, so writes and the rest keep
    /// connections; past it, reads are shed instead of queueing on the pool.
    reads: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("key", &self.key)
            .field("cap", &self.cap)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl History {
    /// Builds the pool. Connects lazily: a Redis that is down at start is
    /// reported by [`Pinger::ping`] and by each operation, not here.
    pub fn new(config: HistoryConfig) -> Result<Self, HistoryError> {
        let HistoryConfig {
            target,
            tls_roots,
            key,
            cap,
            pool_size,
            connect_timeout,
            response_timeout,
            command_timeout,
            min_replicas_ack,
            wait_timeout,
            keys,
            mode,
            ttl,
        } = config;
        if min_replicas_ack > 0
            && !(wait_timeout > Duration::ZERO && wait_timeout < response_timeout)
        {
            return Err(HistoryError::Config(format!(
                "the WAIT timeout ({wait_timeout:?}) must be above 0 and below the response timeout ({response_timeout:?})"
            )));
        }
        if response_timeout.is_zero() || response_timeout > command_timeout {
            return Err(HistoryError::Config(format!(
                "the response timeout ({response_timeout:?}) must be above 0 and at most the command timeout ({command_timeout:?})"
            )));
        }
        if ttl < Duration::from_secs(1) {
            return Err(HistoryError::Config(format!(
                "the history TTL must be at least 1s, got {ttl:?}"
            )));
        }
        if !(1..=MAX_CAP).contains(&cap) {
            return Err(HistoryError::Config(format!(
                "cap must be between 1 and {MAX_CAP}, got {cap}"
            )));
        }
        let connection = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(Some(response_timeout));
        let manager = Connector::new(target, tls_roots.as_deref(), connection)
            .map_err(|e| HistoryError::Config(format!("redis target: {e}")))?;
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .wait_timeout(Some(connect_timeout))
            .create_timeout(Some(connect_timeout))
            .recycle_timeout(Some(command_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| HistoryError::Config(e.to_string()))?;
        Ok(History {
            writers: Arc::new(Writers::new(
                pool.clone(),
                cap,
                command_timeout,
                ttl,
                WRITE_QUEUE,
                writer::Replication {
                    replicas: min_replicas_ack,
                    timeout: wait_timeout,
                },
            )),
            keys,
            mode,
            ttl,
            reads: Arc::new(tokio::sync::Semaphore::new((pool_size / 2).max(1))),
            pool,
            key,
            cap,
            command_timeout,
        })
    }

    /// Most entries kept.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// The list of `principal`.
    fn list_key(&self, principal: &str) -> String {
        format!("{{{}}}:{principal}", self.key)
    }

    /// The set of principals with a list.
    fn principals_key(&self) -> String {
        format!("{{{}}}:principals", self.key)
    }

    /// The hash of each principal's last entry number.
    fn sequences_key(&self) -> String {
        format!("{{{}}}:sequences", self.key)
    }

    /// Adds `records` (oldest first) to `principal`'s list and trims it to
    /// the cap, in one transaction with whatever other pushes are waiting:
    /// either all of a batch is stored or none. Records that the cap would
    /// drop at once are not even sent. Returns once stored.
    pub async fn push(&self, principal: &str, records: &[Record]) -> Result<(), HistoryError> {
        if records.is_empty() {
            return Ok(());
        }
        let kept = &records[records.len().saturating_sub(self.cap)..];
        let target = ListTarget {
            list: self.list_key(principal),
            principals: self.principals_key(),
            sequences: self.sequences_key(),
            principal: principal.to_owned(),
            mode: self.mode,
            keys: self.keys.clone(),
        };
        self.bounded(self.writers.push(target, kept.to_vec())).await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_caps_out_of_range() {
        for cap in [0, MAX_CAP + 1] {
            let config = HistoryConfig {
                target: RedisTarget::url("redis://127.0.0.1:1").expect("url"),
                tls_roots: None,
                key: "k".to_owned(),
                cap,
                pool_size: 1,
                connect_timeout: Duration::from_secs(1),
                response_timeout: Duration::from_secs(1),
                command_timeout: Duration::from_secs(1),
                min_replicas_ack: 0,
                wait_timeout: Duration::from_millis(500),
                keys: KeyRing::ephemeral(),
                mode: HistoryMode::Encrypted,
                ttl: Duration::from_secs(60),
            };
            assert!(matches!(History::new(config), Err(HistoryError::Config(_))));
        }
    }
}
