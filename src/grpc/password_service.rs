//! `giropops.v1.PasswordService`: validate → call the domain → convert.

use tonic::{Request, Response, Status};
use tracing::instrument;

use super::error::{ApiError, InvalidField};
use crate::generator::{PasswordOptions, PasswordPolicy, generate_password};
use crate::history::{History, Record};
use crate::proto::v1::password_service_server::PasswordService;
use crate::proto::v1::{
    GeneratePasswordRequest, GeneratePasswordResponse, ListPasswordsRequest, ListPasswordsResponse,
};

pub use crate::proto::v1::password_service_server::PasswordServiceServer;

/// `page_size` used when a request leaves it at 0.
pub const DEFAULT_PAGE_SIZE: usize = 10;
/// Largest `page_size` accepted.
pub const MAX_PAGE_SIZE: usize = 1000;

/// The PasswordService implementation. `history` is `None` when the server
/// keeps no history (cap 0): it then needs no Redis at all.
#[derive(Debug, Clone)]
pub struct PasswordServiceImpl {
    history: Option<History>,
}

impl PasswordServiceImpl {
    /// A service storing into `history`, or storing nothing when `None`.
    pub fn new(history: Option<History>) -> Self {
        PasswordServiceImpl { history }
    }
}

#[tonic::async_trait]
impl PasswordService for PasswordServiceImpl {
    #[instrument(skip_all, fields(
        length = request.get_ref().length,
        numbers = request.get_ref().include_numbers,
        specials = request.get_ref().include_special_chars,
    ))]
    async fn generate_password(
        &self,
        request: Request<GeneratePasswordRequest>,
    ) -> Result<Response<GeneratePasswordResponse>, Status> {
        let policy = PasswordPolicy::new(PasswordOptions::from(request.get_ref()))
            .map_err(ApiError::from)?;
        // The ThreadRng is a temporary: it is dropped before any `.await`.
        let record = Record::from(generate_password(&policy, &mut rand::rng()));
        let stored = match &self.history {
            Some(history) => {
                history
                    .push(std::slice::from_ref(&record))
                    .await
                    .map_err(ApiError::from)?;
                true
            }
            None => false,
        };
        tracing::debug!(stored, "password generated");
        Ok(Response::new(GeneratePasswordResponse::from((
            &record, stored,
        ))))
    }

    #[instrument(skip_all, fields(page_size = request.get_ref().page_size))]
    async fn list_passwords(
        &self,
        request: Request<ListPasswordsRequest>,
    ) -> Result<Response<ListPasswordsResponse>, Status> {
        let page_size = page_size(request.get_ref().page_size)?;
        let history = self.history.as_ref().ok_or(ApiError::HistoryDisabled)?;
        let records = history.recent(page_size).await.map_err(ApiError::from)?;
        tracing::debug!(returned = records.len(), "passwords listed");
        Ok(Response::new(ListPasswordsResponse {
            passwords: records.into_iter().map(Into::into).collect(),
        }))
    }
}

/// `page_size` 0 → the default; above the maximum → `INVALID_ARGUMENT`.
fn page_size(requested: u32) -> Result<usize, ApiError> {
    match usize::try_from(requested) {
        Ok(0) => Ok(DEFAULT_PAGE_SIZE),
        Ok(size) if size <= MAX_PAGE_SIZE => Ok(size),
        _ => Err(ApiError::InvalidArgument(vec![InvalidField {
            field: "page_size",
            description: format!(
                "page_size must be between 0 and {MAX_PAGE_SIZE} (0 means {DEFAULT_PAGE_SIZE}), got {requested}"
            ),
        }])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_defaults_and_bounds() {
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(1).unwrap(), 1);
        assert_eq!(page_size(1000).unwrap(), 1000);
        match page_size(1001) {
            Err(ApiError::InvalidArgument(fields)) => {
                assert_eq!(fields[0].field, "page_size");
                assert!(fields[0].description.contains("between 0 and 1000"));
            }
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }
}
