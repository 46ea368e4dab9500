//! Reading the history: one principal's list or every list, in one
//! pipelined round trip, then opened (decrypted and checked: expired,
//! replayed and duplicated entries are skipped and counted, never
//! returned).

use std::time::{Duration, SystemTime};

use deadpool_redis::redis::{self, AsyncTypedCommands};

use super::{History, HistoryError, Record, Skip};

/// What a read returns: the records, and why others were left out.
#[derive(Debug, Default)]
pub struct Listing {
    /// Newest first.
    pub records: Vec<Record>,
    /// One reason per entry not returned.
    pub skipped: Vec<Skip>,
}

/// Most entries a read decrypts on the reactor itself (about 2 µs each,
/// ~60 µs in all); past it the page is opened on a blocking thread.
const INLINE_OPENS: usize = 32;

/// Longest a read waits for a slot before it is shed.
const READ_QUEUE_WAIT: Duration = Duration::from_millis(250);

impl History {
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
}
