//! The history of generated passwords: one capped Redis list per
//! principal, newest first, every entry encrypted, or metadata only with
//! no secret at all ([`HistoryMode`], the `record` module).
//!
//! A principal's entries live under `{HISTORY_KEY}:<principal>` — the braces
//! are a hash tag: every list, and the set of principals
//! `{HISTORY_KEY}:principals`, land on one Redis Cluster slot. Lists and the
//! set expire after `ttl` without writes; older entries are never returned.
//!
//! Every push is `LPUSH` + `LTRIM` in one `MULTI`/`EXEC`, so the list can
//! never exceed its cap, even between two commands; concurrent pushes are
//! written together (the `writer` module: group commit). Every operation is bounded
//! by a timeout: a slow or absent Redis gives an error, never a hang.

mod connect;
mod pinger;
mod record;
mod writer;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use deadpool::Runtime;
use deadpool_redis::PoolError;
use deadpool_redis::redis::{self, AsyncConnectionConfig, AsyncTypedCommands};

use connect::Connector;
pub use connect::{RedisTarget, SentinelTarget, is_read_only, parse_sentinels};
pub use pinger::Pinger;
pub use record::{HistoryMode, Record, Skip};
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
    /// Too many pushes are waiting to be written.
    #[error("the history write queue is full")]
    QueueFull,
    /// Every read slot stayed busy for `READ_QUEUE_WAIT` (250 ms).
    #[error("too many history reads at once")]
    ReadsBusy,
    /// The batch this push was written in failed.
    #[error("{0}")]
    Batch(Arc<HistoryError>),
    /// Other writers of the same list (other replicas) took the list's
    /// next numbers this many times in a row.
    #[error("the history list was written by others {0} times in a row")]
    Contended(usize),
    /// Fewer replicas than required acknowledged a write within the WAIT
    /// timeout: it is on the master, and may or may not survive a failover.
    #[error("{acked} of {wanted} replicas acknowledged the write")]
    NotReplicated {
        /// Replicas that acknowledged.
        acked: u32,
        /// Replicas required.
        wanted: u32,
    },
}

impl HistoryError {
    /// The error itself, seen through a failed batch.
    pub fn cause(&self) -> &HistoryError {
        match self {
            HistoryError::Batch(inner) => inner.cause(),
            other => other,
        }
    }
}

/// What a read returns: the records, and why others were left out.
#[derive(Debug, Default)]
pub struct Listing {
    /// Newest first.
    pub records: Vec<Record>,
    /// One reason per entry not returned.
    pub skipped: Vec<Skip>,
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

/// Most entries a read decrypts on the reactor itself (about 2 µs each,
/// ~60 µs in all); past it the page is opened on a blocking thread.
const INLINE_OPENS: usize = 32;

/// Longest a read waits for a slot before it is shed.
const READ_QUEUE_WAIT: Duration = Duration::from_millis(250);

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

    /// Up to `limit` most recent records of `principal`, newest first.
    pub async fn recent(&self, principal: &str, limit: usize) -> Result<Listing, HistoryError> {
        let slot = self.read_slot().await?;
        let list = self.list_key(principal);
        let limit = limit.min(self.cap);
        let (entries, last) = self
            .bounded(async {
                let mut conn = self.pool.get().await?;
                if limit == 0 {
                    return Ok((Vec::new(), None));
                }
                // The entries and the list's last number, as of one moment.
                let stop = isize::try_from(limit).unwrap_or(isize::MAX) - 1;
                let (entries, last): (Vec<String>, Option<u64>) = redis::pipe()
                    .lrange(&list, 0, stop)
                    .hget(self.sequences_key(), principal)
                    .query_async(&mut *conn)
                    .await?;
                Ok::<_, HistoryError>((entries, last))
            })
            .await?;
        self.open(vec![(list, entries, last)], limit, slot).await
    }

    /// Up to `limit` most recent records of every principal, newest first.
    pub async fn recent_all(&self, limit: usize) -> Result<Listing, HistoryError> {
        let slot = self.read_slot().await?;
        let limit = limit.min(self.cap);
        let lists = self
            .bounded(async {
                let mut conn = self.pool.get().await?;
                let principals: Vec<String> = conn
                    .smembers(self.principals_key())
                    .await?
                    .into_iter()
                    .collect();
                if principals.is_empty() || limit == 0 {
                    return Ok(Vec::new());
                }
                // Every list and its last number in one round trip, not
                // one per principal.
                let keys: Vec<String> = principals.iter().map(|p| self.list_key(p)).collect();
                let stop = isize::try_from(limit).unwrap_or(isize::MAX) - 1;
                let mut pipe = redis::pipe();
                for key in &keys {
                    pipe.lrange(key, 0, stop);
                }
                pipe.cmd("HMGET").arg(self.sequences_key()).arg(&principals);
                // Each reply a list of (nullable) strings: the lists' entries,
                // then the numbers.
                let mut replies: Vec<Vec<Option<String>>> = pipe.query_async(&mut *conn).await?;
                let lasts: Vec<Option<u64>> = replies
                    .pop()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|last| last.and_then(|last| last.parse().ok()))
                    .collect();
                let mut lists: Vec<Vec<String>> = replies
                    .into_iter()
                    .map(|entries| entries.into_iter().flatten().collect())
                    .collect();
                lists.resize(keys.len(), Vec::new());
                Ok(keys
                    .into_iter()
                    .zip(lists)
                    .zip(lasts.into_iter().chain(std::iter::repeat(None)))
                    .map(|((key, entries), last)| (key, entries, last))
                    .collect())
            })
            .await?;
        self.open(lists, limit, slot).await
    }

    /// Decrypts the entries of `lists`, holding the read `slot` meanwhile;
    /// newest first, at most `limit`; the rest counted. A page of up to
    /// [`INLINE_OPENS`] entries is opened on the reactor (a few µs each: a
    /// hand-off to a blocking thread costs more than the work); larger ones
    /// — up to thousands of AEAD openings — on a blocking thread.
    async fn open(
        &self,
        lists: Vec<(String, Vec<String>, Option<u64>)>,
        limit: usize,
        slot: tokio::sync::OwnedSemaphorePermit,
    ) -> Result<Listing, HistoryError> {
        let (keys, mode, cap) = (self.keys.clone(), self.mode, self.cap);
        let oldest = SystemTime::now().checked_sub(self.ttl);
        let entries: usize = lists.iter().map(|(_, entries, _)| entries.len()).sum();
        let open_all = move || {
            let _slot = slot;
            let mut listing = Listing::default();
            for (list, entries, last) in &lists {
                let opened: Vec<_> = entries
                    .iter()
                    .map(|entry| Record::open(mode, &keys, list, entry))
                    .collect();
                // The list's newest number: Redis's, or a higher one found
                // (a counter lost or rolled back cannot widen the window).
                let newest = opened
                    .iter()
                    .filter_map(|opened| opened.as_ref().ok().and_then(|(_, seq)| *seq))
                    .chain(*last)
                    .max()
                    .unwrap_or(0);
                let window = newest.saturating_sub(cap as u64);
                let mut seen = std::collections::HashSet::new();
                for opened in opened {
                    match opened {
                        Ok((record, _)) if record.created_at < oldest => {
                            listing.skipped.push(Skip::Expired)
                        }
                        Ok((_, Some(seq))) if seq <= window => listing.skipped.push(Skip::Replayed),
                        Ok((_, Some(seq))) if !seen.insert(seq) => {
                            listing.skipped.push(Skip::Duplicate)
                        }
                        Ok((record, _)) => listing.records.push(record),
                        Err(skip) => listing.skipped.push(skip),
                    }
                }
            }
            listing
                .records
                .sort_by_key(|record| std::cmp::Reverse(record.created_at));
            listing.records.truncate(limit);
            listing
        };
        if entries <= INLINE_OPENS {
            return Ok(open_all());
        }
        tokio::task::spawn_blocking(open_all)
            .await
            .map_err(|_| HistoryError::Config("decrypting the history panicked".to_owned()))
    }

    /// A read slot, or [`HistoryError::ReadsBusy`] after [`READ_QUEUE_WAIT`].
    async fn read_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, HistoryError> {
        tokio::time::timeout(READ_QUEUE_WAIT, self.reads.clone().acquire_owned())
            .await
            .map_err(|_| HistoryError::ReadsBusy)?
            .map_err(|_| HistoryError::ReadsBusy)
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
