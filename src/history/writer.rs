//! Group commit: concurrent pushes to one history key are written together.
//!
//! One writer task per key takes whatever jobs are waiting (a batch bounded
//! by [`MAX_BATCH_JOBS`] and [`MAX_BATCH_BYTES`]), writes them in one
//! `MULTI`/`LPUSH e1 … en`/`LTRIM`/`EXPIRE`/`SADD`/`EXEC` on one pooled
//! connection, and
//! only then completes every job of the batch: an OK still means stored.
//! With nothing in flight a push is written at once; while a batch is being
//! written, the next one gathers. Entries keep their order (each job's
//! oldest first, jobs in arrival order), so the list stays newest first,
//! and `LTRIM` keeps the cap exact.
//!
//! A job whose caller has gone (cancelled, or timed out while queued) when
//! its batch is taken is skipped: it is never written after its caller was
//! told it failed. A caller whose deadline passes while its batch is being
//! written was told DEADLINE_EXCEEDED: its entry may be stored, as with any
//! timeout. A failed write fails every job of its batch. The queue is
//! bounded: full → [`HistoryError::QueueFull`].
//!
//! A `READONLY` reply (the server was a master, and a failover demoted it)
//! drops that connection instead of returning it to the pool, and the batch
//! is written once more on a new connection, to the master the Sentinels
//! name now. With replicated acknowledgements on, `WAIT` follows `EXEC` on
//! the same connection, once per batch, and a batch is OK only when enough
//! replicas have it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_redis::redis;
use tokio::sync::{mpsc, oneshot};

use super::connect::is_read_only;
use super::{Connection, HistoryError, Pool};

/// Most jobs written in one batch.
pub(super) const MAX_BATCH_JOBS: usize = 256;
/// Most entry bytes written in one batch (a job is never split).
pub(super) const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

type Outcome = Result<(), Arc<HistoryError>>;

/// Entries to push, and who waits for the outcome.
struct Job {
    /// Oldest first.
    entries: Vec<String>,
    done: oneshot::Sender<Outcome>,
}

/// A principal's list, and the set that records it has one.
#[derive(Debug, Clone)]
pub(super) struct ListTarget {
    pub(super) list: String,
    pub(super) principals: String,
    pub(super) principal: String,
}

/// How many replicas must acknowledge each batch (`WAIT`), and how long
/// to wait for them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Replication {
    /// 0: no `WAIT`.
    pub(super) replicas: u32,
    pub(super) timeout: Duration,
}

/// The writer tasks, one per key, started on first use.
pub(super) struct Writers {
    pool: Pool,
    cap: usize,
    command_timeout: Duration,
    ttl: Duration,
    queue: usize,
    replication: Replication,
    senders: Mutex<HashMap<String, mpsc::Sender<Job>>>,
}

impl Writers {
    pub(super) fn new(
        pool: Pool,
        cap: usize,
        command_timeout: Duration,
        ttl: Duration,
        queue: usize,
        replication: Replication,
    ) -> Self {
        Writers {
            pool,
            cap,
            command_timeout,
            ttl,
            queue,
            replication,
            senders: Mutex::new(HashMap::new()),
        }
    }

    /// Queues `entries` (oldest first) for `key` and waits until they are
    /// stored, or their batch failed.
    pub(super) async fn push(
        &self,
        target: ListTarget,
        entries: Vec<String>,
    ) -> Result<(), HistoryError> {
        let (done, outcome) = oneshot::channel();
        self.sender(target)
            .try_send(Job { entries, done })
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => HistoryError::QueueFull,
                mpsc::error::TrySendError::Closed(_) => {
                    HistoryError::Config("the history writer stopped".to_owned())
                }
            })?;
        match outcome.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(HistoryError::Batch(error)),
            Err(_) => Err(HistoryError::Config(
                "the history writer stopped".to_owned(),
            )),
        }
    }

    fn sender(&self, target: ListTarget) -> mpsc::Sender<Job> {
        let mut senders = self.senders.lock().expect("no panic while held");
        if let Some(sender) = senders.get(&target.list).filter(|s| !s.is_closed()) {
            return sender.clone();
        }
        let (sender, jobs) = mpsc::channel(self.queue);
        senders.insert(target.list.clone(), sender.clone());
        tokio::spawn(write_batches(
            Target {
                pool: self.pool.clone(),
                list: target,
                cap: self.cap,
                command_timeout: self.command_timeout,
                ttl_secs: i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX),
                replication: self.replication,
            },
            jobs,
        ));
        sender
    }
}

/// Where a writer writes.
struct Target {
    pool: Pool,
    list: ListTarget,
    cap: usize,
    command_timeout: Duration,
    ttl_secs: i64,
    replication: Replication,
}

/// The writer task of one key: until every sender is gone.
async fn write_batches(target: Target, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut bytes = size(&first);
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH_JOBS && bytes < MAX_BATCH_BYTES {
            match jobs.try_recv() {
                Ok(job) => {
                    bytes += size(&job);
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        // Callers that have gone are never written after the fact.
        batch.retain(|job| !job.done.is_closed());
        if batch.is_empty() {
            continue;
        }
        let entries: Vec<&String> = batch.iter().flat_map(|job| &job.entries).collect();
        // Only the newest `cap` entries can survive the trim: send no more.
        let kept = &entries[entries.len().saturating_sub(target.cap)..];
        let outcome = tokio::time::timeout(target.command_timeout, target.write(kept))
            .await
            .unwrap_or(Err(HistoryError::Timeout(target.command_timeout)))
            .map_err(Arc::new);
        for job in batch {
            // A caller that left meanwhile does not need the answer.
            let _ = job.done.send(outcome.clone());
        }
    }
}

fn size(job: &Job) -> usize {
    job.entries.iter().map(String::len).sum()
}

impl Target {
    /// Writes the batch; once more on a new connection if the server
    /// turned out to be a demoted master.
    async fn write(&self, entries: &[&String]) -> Result<(), HistoryError> {
        match self.write_once(entries).await {
            Err(HistoryError::Redis(error)) if is_read_only(&error) => {
                tracing::warn!(
                    "redis answered READONLY (a demoted master): writing on the current master"
                );
                self.write_once(entries).await
            }
            outcome => outcome,
        }
    }

    /// One transaction for the whole batch, then the hook after `EXEC`.
    async fn write_once(&self, entries: &[&String]) -> Result<(), HistoryError> {
        let mut connection = self.pool.get().await?;
        let last = isize::try_from(self.cap).unwrap_or(isize::MAX) - 1;
        let ListTarget {
            list,
            principals,
            principal,
        } = &self.list;
        let written = redis::pipe()
            .atomic()
            .lpush(list, entries)
            .ignore()
            .ltrim(list, 0, last)
            .ignore()
            .expire(list, self.ttl_secs)
            .ignore()
            .sadd(principals, principal)
            .ignore()
            .expire(principals, self.ttl_secs)
            .ignore()
            .exec_async(&mut *connection)
            .await;
        if let Err(error) = written {
            if is_read_only(&error) {
                // Never back into the pool: it leads to a replica.
                drop(deadpool::managed::Object::take(connection));
            }
            return Err(error.into());
        }
        after_exec(&mut connection, self.replication).await
    }
}

/// Runs after a batch's `EXEC`, on the same exclusively held connection,
/// before any of its callers is answered: `WAIT numreplicas timeout` for
/// replicated acknowledgements (`WAIT` does nothing inside `MULTI`; on a
/// shared multiplexed connection it would block everything behind it).
async fn after_exec(
    connection: &mut Connection,
    replication: Replication,
) -> Result<(), HistoryError> {
    let Replication { replicas, timeout } = replication;
    if replicas == 0 {
        return Ok(());
    }
    let millis = u64::try_from(timeout.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    let acked: u32 = redis::cmd("WAIT")
        .arg(replicas)
        .arg(millis)
        .query_async(&mut **connection)
        .await?;
    if acked < replicas {
        return Err(HistoryError::NotReplicated {
            acked,
            wanted: replicas,
        });
    }
    Ok(())
}
