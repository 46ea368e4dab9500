//! Why the history could not be read or written.

use std::sync::Arc;
use std::time::Duration;

use deadpool_redis::PoolError;
use deadpool_redis::redis;

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
