//! grpc.health.v1 status.
//!
//! - `""` (the whole server) and `giropops.v1.PasswordService` report the
//!   process: SERVING from start until shutdown begins. They do not depend
//!   on Redis: every replica shares one Redis, so a readiness probe that
//!   followed it would take every pod out of service at once, stateless
//!   calls included.
//! - `giropops.v1.History` reports the Redis history: SERVING while a
//!   background PING (on its own connection, never queued behind traffic)
//!   answers; it recovers by itself. Absent when the server keeps no
//!   history. The same state is the `giropops_redis_up` metric.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tonic::server::NamedService;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::grpc::{PasswordServiceImpl, PasswordServiceServer};
use crate::history::History;
use crate::metrics::Metrics;

/// The service name health reports for the PasswordService.
pub const PASSWORD_SERVICE: &str =
    <PasswordServiceServer<PasswordServiceImpl> as NamedService>::NAME;

/// The health name of the Redis history.
pub const HISTORY: &str = "giropops.v1.History";

/// Sets the process's status: the server's and the PasswordService's.
pub async fn set_status(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    reporter.set_service_status(PASSWORD_SERVICE, status).await;
}

/// Reports the process SERVING; with history, starts the watcher that
/// keeps [`HISTORY`] true (NOT_SERVING until Redis first answers).
pub async fn start(
    reporter: &HealthReporter,
    history: Option<History>,
    metrics: &Metrics,
    interval: Duration,
) -> Option<JoinHandle<()>> {
    set_status(reporter, ServingStatus::Serving).await;
    let history = history?;
    reporter
        .set_service_status(HISTORY, ServingStatus::NotServing)
        .await;
    Some(tokio::spawn(watch_redis(
        reporter.clone(),
        history,
        metrics.clone(),
        interval,
    )))
}

/// Pings Redis every `interval` and reports the result, logging only
/// changes. Runs until its task is aborted.
async fn watch_redis(
    reporter: HealthReporter,
    history: History,
    metrics: Metrics,
    interval: Duration,
) {
    let mut pinger = history.pinger();
    let mut last: Option<bool> = None;
    let mut ticks = tokio::time::interval(interval);
    // A slow PING delays the next one instead of bunching them up.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let healthy = match pinger.ping().await {
            Ok(()) => true,
            Err(error) => {
                if last != Some(false) {
                    tracing::warn!(%error, "redis unreachable: history NOT_SERVING");
                }
                false
            }
        };
        if healthy && last != Some(true) {
            tracing::info!("redis reachable: history SERVING");
        }
        metrics.set_redis_up(healthy);
        if last != Some(healthy) {
            let status = if healthy {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            reporter.set_service_status(HISTORY, status).await;
            last = Some(healthy);
        }
    }
}
