//! Domain errors as gRPC statuses: the one place that decides which code a
//! caller sees and what the message says.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

use crate::generator::PolicyViolation;
use crate::history::HistoryError;

/// One invalid request field and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidField {
    /// The field, named as in the proto.
    pub field: &'static str,
    /// What is wrong and what is allowed.
    pub description: String,
}

impl From<PolicyViolation> for InvalidField {
    fn from(violation: PolicyViolation) -> Self {
        InvalidField {
            field: violation.field,
            description: violation.description,
        }
    }
}

/// Everything a PasswordService call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request broke one or more rules; nothing was done.
    #[error("invalid request")]
    InvalidArgument(Vec<InvalidField>),
    /// The server runs with history off (cap 0).
    #[error("password history is off on this server (history cap is 0)")]
    HistoryDisabled,
    /// Redis could not be used.
    #[error(transparent)]
    History(#[from] HistoryError),
}

impl From<Vec<PolicyViolation>> for ApiError {
    fn from(violations: Vec<PolicyViolation>) -> Self {
        ApiError::InvalidArgument(violations.into_iter().map(InvalidField::from).collect())
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
                let violations: Vec<FieldViolation> = fields
                    .into_iter()
                    .map(|f| FieldViolation::new(f.field, f.description))
                    .collect();
                Status::with_error_details(
                    Code::InvalidArgument,
                    message,
                    ErrorDetails::with_bad_request(violations),
                )
            }
            ApiError::HistoryDisabled => {
                Status::failed_precondition(ApiError::HistoryDisabled.to_string())
            }
            ApiError::History(error) => history_status(error),
        }
    }
}

/// Redis details are logged for operators; callers get a short reason.
fn history_status(error: HistoryError) -> Status {
    match error {
        HistoryError::Timeout(after) => {
            tracing::warn!(?after, "password history timed out");
            Status::unavailable(format!(
                "password history (redis) did not answer within {}ms; try again",
                after.as_millis()
            ))
        }
        HistoryError::Pool(_) | HistoryError::Redis(_) => {
            tracing::warn!(error = %error, "password history unavailable");
            Status::unavailable("password history (redis) is unavailable; try again")
        }
        HistoryError::Config(_) => {
            tracing::error!(error = %error, "password history misconfigured");
            Status::internal("password history is misconfigured on the server")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn invalid_argument_lists_every_field_in_message_and_details() {
        let status = Status::from(ApiError::InvalidArgument(vec![
            InvalidField {
                field: "length",
                description: "length must be between 4 and 1024, got 3".into(),
            },
            InvalidField {
                field: "page_size",
                description: "page_size must be between 0 and 1000, got 5000".into(),
            },
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
    fn redis_trouble_is_unavailable_without_details() {
        let status = Status::from(ApiError::History(HistoryError::Timeout(
            Duration::from_millis(1500),
        )));
        assert_eq!(status.code(), Code::Unavailable);
        assert_eq!(
            status.message(),
            "password history (redis) did not answer within 1500ms; try again"
        );
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "10.0.0.7:6379");
        let status = Status::from(ApiError::History(HistoryError::Redis(io.into())));
        assert_eq!(status.code(), Code::Unavailable);
        assert!(
            !status.message().contains("10.0.0.7"),
            "{}",
            status.message()
        );
    }

    #[test]
    fn misconfiguration_is_internal() {
        let status = Status::from(ApiError::History(HistoryError::Config("x".into())));
        assert_eq!(status.code(), Code::Internal);
    }
}
