//! The gRPC layer: request validation, conversion between protobuf messages
//! and domain types, and the mapping of domain errors to `tonic::Status`.
//! Nothing here generates or stores anything itself.

mod convert;
mod error;
mod password_service;
mod policy;
mod violations;

pub use error::{ApiError, BusyReason};
pub use password_service::{
    DEFAULT_PAGE_SIZE, MAX_BATCH, MAX_PAGE_SIZE, MAX_STREAM, PasswordServiceImpl,
    PasswordServiceServer, ReplyLimits,
};
