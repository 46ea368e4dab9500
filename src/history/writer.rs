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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_redis::Pool;
use deadpool_redis::redis;
use tokio::sync::{mpsc, oneshot};

use super::HistoryError;

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

/// The writer tasks, one per key, started on first use.
pub(super) struct Writers {
    pool: Pool,
    cap: usize,
    command_timeout: Duration,
    ttl: Duration,
    queue: usize,
    senders: Mutex<HashMap<String, mpsc::Sender<Job>>>,
}

impl Writers {
    pub(super) fn new(
        pool: Pool,
        cap: usize,
        command_timeout: Duration,
        ttl: Duration,
        queue: usize,
    ) -> Self {
        Writers {
            pool,
            cap,
            command_timeout,
            ttl,
            queue,
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
    /// One transaction for the whole batch, then the hook after `EXEC`.
    async fn write(&self, entries: &[&String]) -> Result<(), HistoryError> {
        let mut connection = self.pool.get().await?;
        let last = isize::try_from(self.cap).unwrap_or(isize::MAX) - 1;
        let ListTarget {
            list,
            principals,
            principal,
        } = &self.list;
        redis::pipe()
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
            .await?;
        after_exec(&mut connection).await
    }
}

/// Runs after a batch's `EXEC`, on the same exclusively held connection,
/// before any of its callers is answered: where `WAIT numreplicas timeout`
/// goes for replicated acknowledgements (`WAIT` does nothing inside
/// `MULTI`). Nothing to do yet.
async fn after_exec(_connection: &mut deadpool_redis::Connection) -> Result<(), HistoryError> {
    Ok(())
}
