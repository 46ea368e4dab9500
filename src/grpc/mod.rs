//! The gRPC layer: request validation, conversion between protobuf messages
//! and domain types, and the mapping of domain errors to `tonic::Status`.
//! Nothing here generates or stores anything itself.

mod convert;
mod cpu;
mod error;
mod password_service;
mod policy;
mod tokens;
mod violations;

pub(crate) use convert::token_options;
pub use cpu::{COSTLY_POLICY_LENGTH, MAX_COSTLY_STREAMS};
pub use error::{ApiError, BusyReason};
pub use password_service::{
    DEFAULT_PAGE_SIZE, MAX_BATCH, MAX_PAGE_SIZE, MAX_STREAM, PasswordServiceImpl,
    PasswordServiceServer, ReplyLimits,
};

/// Who is calling: the auth layer puts the principal in every request it
/// lets through; without one (no auth layer), a principal that may do
/// nothing that needs a scope here.
fn caller<T>(request: &tonic::Request<T>) -> crate::auth::Principal {
    request
        .extensions()
        .get::<crate::auth::Principal>()
        .cloned()
        .unwrap_or_else(|| crate::auth::Principal::anonymous(crate::auth::Scopes::none()))
}
