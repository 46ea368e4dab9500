//! CPU-heavy work off the async reactor, on at most half the cores: the
//! strength checks (zxcvbn, up to ~0.12 s for a crafted input), the
//! largest batches, and building the costliest password policies (an exact
//! count of the passwords 1024 characters with minimums allow: up to ~2 ms
//! and ~1 MiB). Past the cores allowed, work waits up to
//! [`CPU_QUEUE_WAIT`], then is refused `RESOURCE_EXHAUSTED`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::{ApiError, BusyReason};
use crate::generator::{FieldViolation, PasswordOptions, PasswordPolicy};
use crate::metrics::Metrics;

/// Longest CPU-heavy work waits for a free core before it is refused.
pub(super) const CPU_QUEUE_WAIT: Duration = Duration::from_millis(500);

/// Passwords longer than this have their policy built off the reactor:
/// counting what 1024 characters with minimums allow takes up to ~2 ms
/// (`cargo bench --bench generator`); 256 takes well under 0.1 ms.
pub const COSTLY_POLICY_LENGTH: u64 = 256;

/// Streams of passwords longer than [`COSTLY_POLICY_LENGTH`] at once: each
/// holds its policy (up to ~1 MiB of exact weights) while it runs.
pub const MAX_COSTLY_STREAMS: usize = 8;

/// The cores CPU-heavy work may use, and where it is counted.
#[derive(Debug, Clone)]
pub(super) struct Cpu {
    cores: Arc<Semaphore>,
    costly_streams: Arc<Semaphore>,
    metrics: Metrics,
}

/// A password policy, with the core it was built on when it was costly
/// (held on for generating from it: a costly policy never outlives a core).
pub(super) struct Built {
    pub(super) policy: PasswordPolicy,
    pub(super) core: Option<OwnedSemaphorePermit>,
}

impl Cpu {
    /// Half the cores (at least one).
    pub(super) fn new(metrics: Metrics) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Cpu {
            cores: Arc::new(Semaphore::new((cores / 2).max(1))),
            costly_streams: Arc::new(Semaphore::new(MAX_COSTLY_STREAMS)),
            metrics,
        }
    }

    /// A core, within [`CPU_QUEUE_WAIT`].
    pub(super) async fn core(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        tokio::time::timeout(CPU_QUEUE_WAIT, self.cores.clone().acquire_owned())
            .await
            .map_err(|_| ApiError::Busy(BusyReason::StrengthChecks))?
            .map_err(|_| ApiError::Internal("the CPU semaphore closed"))
    }

    /// Runs `work` on a blocking thread, holding `core` until it is done
    /// (even if the caller goes away meanwhile).
    pub(super) async fn run<T: Send + 'static>(
        &self,
        core: OwnedSemaphorePermit,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let busy = self.metrics.blocking_started();
        tokio::task::spawn_blocking(move || {
            let _held = (core, busy);
            work()
        })
        .await
        .map_err(|_| ApiError::Internal("CPU-heavy work panicked"))
    }

    /// The policy of `options`: built here when cheap, on a core when long
    /// (the core is then kept in [`Built::core`]).
    pub(super) async fn password_policy(
        &self,
        options: PasswordOptions,
    ) -> Result<Result<Built, Vec<FieldViolation>>, ApiError> {
        if options.length <= COSTLY_POLICY_LENGTH {
            return Ok(PasswordPolicy::new(options).map(|policy| Built { policy, core: None }));
        }
        let core = self.core().await?;
        let busy = self.metrics.blocking_started();
        tokio::task::spawn_blocking(move || {
            let _busy = busy;
            PasswordPolicy::new(options).map(|policy| Built {
                policy,
                core: Some(core),
            })
        })
        .await
        .map_err(|_| ApiError::Internal("building a password policy panicked"))
    }

    /// A slot for a stream of long passwords, or `RESOURCE_EXHAUSTED` when
    /// [`MAX_COSTLY_STREAMS`] run already.
    pub(super) fn costly_stream(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.costly_streams
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Busy(BusyReason::CostlyStreams))
    }
}
