//! grpc.health.v1 status, kept true by a background Redis check.
//!
//! Both `""` (the whole server) and `giropops.v1.PasswordService` report
//! SERVING only while Redis answers a PING; the check runs on its own
//! schedule, so health recovers when Redis does, without any request.

use std::time::Duration;

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

/// Pings Redis every `interval` and reports the result, logging only
/// changes. Runs until its task is aborted.
pub async fn watch_redis(
    reporter: HealthReporter,
    history: History,
    metrics: Metrics,
    interval: Duration,
) {
    let mut last: Option<bool> = None;
    loop {
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
        tokio::time::sleep(interval).await;
    }
}
