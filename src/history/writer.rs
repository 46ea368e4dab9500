//! Group commit: concurrent pushes to one history key are written together.
//!
//! One writer task per key takes whatever jobs are waiting (a batch bounded
//! by [`MAX_BATCH_JOBS`] and [`MAX_BATCH_BYTES`]), seals them with the
//! list's next numbers, writes them in one script ([`PUSH_SCRIPT`]: `LPUSH
//! e1 … en`, `LTRIM`, `EXPIRE`, `SADD`, and the list's number in the
//! sequences hash, atomically) on one pooled connection, and only then
//! completes every job of the batch: an OK still means stored.
//!
//! Numbering: the task keeps the list's last number; the script pushes
//! only if Redis still holds that number, and answers the current one
//! otherwise (another replica wrote the same list meanwhile): after a
//! random pause (growing, up to 4 ms) the batch is sealed again with the
//! next numbers and sent again, up to [`SEQUENCE_RETRIES`] times, all
//! within the command timeout. Each refusal means another writer stored
//! its batch: the list always makes progress. So a list's numbers have no gap and no
//! repeat, whichever replica wrote them.
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
//! name now. With replicated acknowledgements on, `WAIT` follows the script on
//! the same connection, once per batch, and a batch is OK only when enough
//! replicas have it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_redis::redis;
use tokio::sync::{mpsc, oneshot};

use super::connect::is_read_only;
use super::mode::HistoryMode;
use super::record::Record;
use super::{Connection, HistoryError, Pool};
use crate::keyring::KeyRing;

/// Most jobs written in one batch.
pub(super) const MAX_BATCH_JOBS: usize = 256;
/// Most entry bytes written in one batch (a job is never split).
pub(super) const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

type Outcome = Result<(), Arc<HistoryError>>;

/// Times a batch is sealed again after another writer took its numbers
/// (each time after a random pause: writers in lockstep would keep taking
/// each other's numbers). The command timeout bounds them all.
pub(super) const SEQUENCE_RETRIES: usize = 64;
/// The longest pause between two tries.
const MAX_RETRY_PAUSE: Duration = Duration::from_millis(4);

/// The push, atomic: `LPUSH` first (a failure there writes nothing),
/// then the trim, expiries, the principal's set and the list's new
/// number. Pushes only if the list's number in the sequences hash is
/// still `ARGV[2]`; answers `{1, new}` when pushed, `{0, current}` when
/// not. Entries go in slices of 1000 (Lua's stack).
///
/// KEYS: list, principals set, sequences hash. ARGV: principal, expected
/// number, last index kept (cap − 1), TTL seconds, entries oldest first.
pub(super) const PUSH_SCRIPT: &str = r"
local current = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
if current ~= tonumber(ARGV[2]) then
  return {0, current}
end
local count = #ARGV - 4
for first = 5, #ARGV, 1000 do
  redis.call('LPUSH', KEYS[1], unpack(ARGV, first, math.min(first + 999, #ARGV)))
end
redis.call('LTRIM', KEYS[1], 0, ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[1], current + count)
redis.call('EXPIRE', KEYS[3], ARGV[4])
return {1, current + count}
";

/// Records to push, and who waits for the outcome.
struct Job {
    /// Oldest first.
    records: Vec<Record>,
    done: oneshot::Sender<Outcome>,
}

/// A principal's list, the set that records it has one, the hash of the
/// lists' numbers, and how entries are sealed.
#[derive(Debug, Clone)]
pub(super) struct ListTarget {
    pub(super) list: String,
    pub(super) principals: String,
    pub(super) sequences: String,
    pub(super) principal: String,
    pub(super) mode: HistoryMode,
    pub(super) keys: KeyRing,
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

    /// Queues `records` (oldest first) for `key` and waits until they are
    /// stored, or their batch failed.
    pub(super) async fn push(
        &self,
        target: ListTarget,
        records: Vec<Record>,
    ) -> Result<(), HistoryError> {
        let (done, outcome) = oneshot::channel();
        self.sender(target)
            .try_send(Job { records, done })
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
    // The list's last number, as this task last saw it in Redis.
    let mut last_seq = None;
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
        let records: Vec<&Record> = batch.iter().flat_map(|job| &job.records).collect();
        // Only the newest `cap` entries can survive the trim: send no more.
        let kept = &records[records.len().saturating_sub(target.cap)..];
        let outcome =
            tokio::time::timeout(target.command_timeout, target.write(kept, &mut last_seq))
                .await
                .unwrap_or(Err(HistoryError::Timeout(target.command_timeout)))
                .map_err(Arc::new);
        if outcome.is_err() {
            // Whatever happened, ask Redis next time.
            last_seq = None;
        }
        for job in batch {
            // A caller that left meanwhile does not need the answer.
            let _ = job.done.send(outcome.clone());
        }
    }
}

/// About the bytes a job's entries take (a sealed entry is padded to at
/// least 256 bytes of plaintext, ~400 in base64).
fn size(job: &Job) -> usize {
    job.records
        .iter()
        .map(|record| 400 + 2 * record.password.len())
        .sum()
}

impl Target {
    /// Writes the batch; once more on a new connection if the server
    /// turned out to be a demoted master.
    async fn write(
        &self,
        records: &[&Record],
        last_seq: &mut Option<u64>,
    ) -> Result<(), HistoryError> {
        match self.write_once(records, last_seq).await {
            Err(HistoryError::Redis(error)) if is_read_only(&error) => {
                tracing::warn!(
                    "redis answered READONLY (a demoted master): writing on the current master"
                );
                self.write_once(records, last_seq).await
            }
            outcome => outcome,
        }
    }

    /// The batch sealed with the list's next numbers, pushed by one
    /// script (sealed again if another writer took those numbers), then
    /// the hook after it.
    async fn write_once(
        &self,
        records: &[&Record],
        last_seq: &mut Option<u64>,
    ) -> Result<(), HistoryError> {
        let mut connection = self.pool.get().await?;
        let last = isize::try_from(self.cap).unwrap_or(isize::MAX) - 1;
        let ListTarget {
            list,
            principals,
            sequences,
            principal,
            mode,
            keys,
        } = &self.list;
        let mut expected = match *last_seq {
            Some(seq) => seq,
            None => {
                let seq: Option<u64> = redis::cmd("HGET")
                    .arg(sequences)
                    .arg(principal)
                    .query_async(&mut *connection)
                    .await?;
                seq.unwrap_or(0)
            }
        };
        for attempt in 0..=SEQUENCE_RETRIES {
            if attempt > 0 {
                tokio::time::sleep(retry_pause(attempt)).await;
            }
            let entries: Vec<String> = (expected + 1..)
                .zip(records)
                .map(|(seq, record)| record.seal(*mode, keys, list, principal, seq))
                .collect();
            let pushed: Result<(u8, u64), _> = redis::cmd("EVAL")
                .arg(PUSH_SCRIPT)
                .arg(3)
                .arg(list)
                .arg(principals)
                .arg(sequences)
                .arg(principal)
                .arg(expected)
                .arg(last)
                .arg(self.ttl_secs)
                .arg(&entries)
                .query_async(&mut *connection)
                .await;
            match pushed {
                Ok((1, now)) => {
                    *last_seq = Some(now);
                    return after_exec(&mut connection, self.replication).await;
                }
                // Another writer of this list took the numbers.
                Ok((_, current)) => expected = current,
                Err(error) => {
                    if is_read_only(&error) {
                        // Never back into the pool: it leads to a replica.
                        drop(deadpool::managed::Object::take(connection));
                    }
                    return Err(error.into());
                }
            }
        }
        Err(HistoryError::Contended(SEQUENCE_RETRIES))
    }
}

/// A random pause before try `attempt` (1, 2, …): uniform up to 100 µs
/// doubled per try, at most [`MAX_RETRY_PAUSE`].
fn retry_pause(attempt: usize) -> Duration {
    let ceiling = Duration::from_micros(100)
        .saturating_mul(1 << attempt.min(10))
        .min(MAX_RETRY_PAUSE);
    ceiling.mul_f64(rand::random::<f64>())
}

/// Runs after a batch's script, on the same exclusively held connection,
/// before any of its callers is answered: `WAIT numreplicas timeout` for
/// replicated acknowledgements (`WAIT` does nothing inside a script; on a
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
