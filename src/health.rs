//! grpc.health.v1 status, kept true by a background Redis check.
//!
//! Both `""` (the whole server) and `giropops.v1.PasswordService` report
//! SERVING only while Redis answers a PING; the check runs on its own
//! schedule, so health recovers when Redis does, without any request.

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

/// Sets both the server's and the PasswordService's status.
pub async fn set_status(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    reporter.set_service_status(PASSWORD_SERVICE, status).await;
}

/// Sets the initial status: SERVING without history; with history,
/// NOT_SERVING until the watcher started here sees Redis answer.
pub async fn start(
    reporter: &HealthReporter,
    history: Option<History>,
    metrics: &Metrics,
    interval: Duration,
) -> Option<JoinHandle<()>> {
    match history {
        Some(history) => {
            set_status(reporter, ServingStatus::NotServing).await;
            Some(tokio::spawn(watch_redis(
                reporter.clone(),
                history,
                metrics.clone(),
                interval,
            )))
        }
        None => {
            set_status(reporter, ServingStatus::Serving).await;
            None
        }
    }
}

/// Pings Redis every `interval` and reports the result, logging only
/// changes. Runs until its task is aborted.
async fn watch_redis(
    reporter: HealthReporter,
    history: History,
    metrics: Metrics,
    interval: Duration,
) {
    let mut last: Option<bool> = None;
    let mut ticks = tokio::time::interval(interval);
    // A slow PING delays the next one instead of bunching them up.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let healthy = match history.ping().await {
            Ok(()) => true,
            Err(error) => {
                if last != Some(false) {
                    tracing::warn!(%error, "redis unreachable: health NOT_SERVING");
                }
                false
            }
        };
        if healthy && last != Some(true) {
            tracing::info!("redis reachable: health SERVING");
        }
        metrics.set_redis_up(healthy);
        if last != Some(healthy) {
            let status = if healthy {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            set_status(&reporter, status).await;
            last = Some(healthy);
        }
    }
}
