//! giropops-senhas: a gRPC service that mints passwords from a CSPRNG and
//! keeps a capped history of them in Redis.
#![forbid(unsafe_code)]
pub mod generator;
pub mod proto;
