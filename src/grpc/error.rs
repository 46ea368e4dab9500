//! Domain errors as gRPC statuses: the one place that decides which code a
//! caller sees and what the message says. Every `Status` a handler returns
//! is made here.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::generator::FieldViolation;
use crate::history::HistoryError;

/// Everything a PasswordService call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request broke one or more rules; nothing was done.
    #[error("invalid request")]
    InvalidArgument(Vec<FieldViolation>),
    /// The caller may not do this (a policy its scopes do not name).
    #[error("{0}")]
    PermissionDenied(String),
    /// The server runs with history off (cap 0).
    #[error("password history is off on this server (history cap is 0)")]
    HistoryDisabled,
    /// The history store could not be used.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The server is at a limit; the caller should retry with backoff.
    #[error("server busy")]
    Busy(BusyReason),
    /// A bug or a broken invariant on the server; the reason is for logs.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// Which limit a refused call met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusyReason {
    /// The response byte budget (global or the connection's) is spent.
    ResponseBytes,
    /// Every core allowed CPU-heavy work (strength checks, the largest
    /// batches) is busy, and the wait ran out.
    StrengthChecks,
    /// [`super::cpu::MAX_COSTLY_STREAMS`] streams of long passwords run.
    CostlyStreams,
}

impl From<Vec<FieldViolation>> for ApiError {
    fn from(violations: Vec<FieldViolation>) -> Self {
        ApiError::InvalidArgument(violations)
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::InvalidArgument(fields) => {
                let message = fields
                    .iter()
                    .map(|f| f.description.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                tracing::debug!(%message, "rejected invalid request");
                let violations: Vec<tonic_types::FieldViolation> = fields
                    .into_iter()
                    .map(|f| tonic_types::FieldViolation::new(f.field, f.description))
                    .collect();
                Status::with_error_details(
                    Code::InvalidArgument,
                    message,
                    ErrorDetails::with_bad_request(violations),
                )
            }
            ApiError::PermissionDenied(message) => Status::permission_denied(message),
            ApiError::HistoryDisabled => {
                Status::failed_precondition(ApiError::HistoryDisabled.to_string())
            }
            ApiError::History(error) => history_status(&error),
            ApiError::Busy(BusyReason::ResponseBytes) => crate::layers::shed::budget_exhausted(),
            ApiError::Busy(BusyReason::CostlyStreams) => Status::resource_exhausted(format!(
                "server busy: {} streams of passwords over {} characters run already; retry with backoff",
                super::cpu::MAX_COSTLY_STREAMS,
                super::cpu::COSTLY_POLICY_LENGTH
            )),
            ApiError::Busy(BusyReason::StrengthChecks) => Status::resource_exhausted(
                "server busy: every core allowed CPU-heavy work is busy; retry with backoff",
            ),
            ApiError::Internal(reason) => {
                tracing::error!(reason, "internal error");
                Status::internal("internal error; see the server's logs")
            }
        }
    }
}

/// Backend details are logged for operators; callers get a short reason
/// that does not name the store.
fn history_status(error: &HistoryError) -> Status {
    match error {
        HistoryError::Timeout(after) => {
            tracing::warn!(?after, "password history timed out");
            Status::unavailable(format!(
                "history did not answer within {}ms; try again",
                after.as_millis()
            ))
        }
        HistoryError::Pool(_) | HistoryError::Redis(_) => {
            tracing::warn!(error = %error, "password history unavailable");
            Status::unavailable("history is unavailable; try again")
        }
        HistoryError::NotReplicated { acked, wanted } => {
            tracing::warn!(acked, wanted, "history write not replicated in time");
            Status::unavailable(
                "history write not confirmed by enough replicas: it may or may not be stored; check the history before retrying",
            )
        }
        HistoryError::Config(_) => {
            tracing::error!(error = %error, "password history misconfigured");
            Status::internal("history is misconfigured on the server")
        }
        HistoryError::Contended(_) => {
            tracing::warn!(%error, "history list contended: call shed");
            Status::unavailable(
                "history busy: other writers of this list came first; nothing was stored, try again",
            )
        }
        HistoryError::QueueFull | HistoryError::ReadsBusy => {
            tracing::warn!(%error, "history busy: call shed");
            Status::resource_exhausted(
                "server busy: too many history operations at once; retry with backoff",
            )
        }
        // A write that reached Redis (or may have) and then failed: a
        // timeout, a broken connection or an error inside the push script
        // (Redis does not roll back what the script already did). Saying "try again"
        // would hide that the entry may exist.
        HistoryError::Batch(inner)
            if matches!(
                inner.cause(),
                HistoryError::Timeout(_) | HistoryError::Redis(_)
            ) =>
        {
            let status = history_status(inner.cause());
            Status::unavailable(format!(
                "{}; the write was sent: it may or may not be stored, check the history before retrying",
                status.message().trim_end_matches("; try again")
            ))
        }
        // `cause()` never returns a batch.
        HistoryError::Batch(inner) => history_status(inner.cause()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn invalid_argument_lists_every_field_in_message_and_details() {
        let status = Status::from(ApiError::InvalidArgument(vec![
            FieldViolation::out_of_range("length", 4, 1024, 3),
            FieldViolation::new(
                "page_size",
                "page_size must be between 0 and 1000, got 5000",
            ),
        ]));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "length must be between 4 and 1024, got 3; page_size must be between 0 and 1000, got 5000"
        );
        let bad_request = status
            .get_details_bad_request()
            .expect("BadRequest details");
        let fields: Vec<_> = bad_request
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["length", "page_size"]);
    }

    #[test]
    fn history_off_is_failed_precondition() {
        let status = Status::from(ApiError::HistoryDisabled);
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert!(status.message().contains("history is off"));
    }

    #[test]
    fn store_trouble_is_unavailable_without_details() {
        let status = Status::from(ApiError::History(HistoryError::Timeout(
            Duration::from_millis(1500),
        )));
        assert_eq!(status.code(), Code::Unavailable);
        assert_eq!(
            status.message(),
            "history did not answer within 1500ms; try again"
        );
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "10.0.0.7:6379");
        let status = Status::from(ApiError::History(HistoryError::Redis(io.into())));
        assert_eq!(status.code(), Code::Unavailable);
        assert_eq!(status.message(), "history is unavailable; try again");
        // Sent and then failed (timeout, broken connection, error inside
        // EXEC): the entry may exist, and the caller is told so.
        let status = Status::from(ApiError::History(HistoryError::Batch(
            HistoryError::Timeout(Duration::from_millis(800)).into(),
        )));
        assert_eq!(status.code(), Code::Unavailable);
        assert_eq!(
            status.message(),
            "history did not answer within 800ms; the write was sent: it may or may not be stored, check the history before retrying"
        );
        // Never sent (no connection): plainly try again.
        let status = Status::from(ApiError::History(HistoryError::Batch(
            HistoryError::Pool(deadpool_redis::PoolError::Closed).into(),
        )));
        assert_eq!(status.message(), "history is unavailable; try again");
        let status = Status::from(ApiError::History(HistoryError::Batch(
            HistoryError::NotReplicated {
                acked: 0,
                wanted: 1,
            }
            .into(),
        )));
        assert_eq!(status.code(), Code::Unavailable);
        assert!(status.message().contains("may or may not be stored"));
    }

    #[test]
    fn misconfiguration_and_bugs_are_internal() {
        let status = Status::from(ApiError::History(HistoryError::Config("x".into())));
        assert_eq!(status.code(), Code::Internal);
        let status = Status::from(ApiError::Internal("a strength check panicked"));
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("panicked"));
    }
}
