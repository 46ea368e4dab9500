//! giropops-senhas: a gRPC service that mints passwords from a CSPRNG and
//! keeps a capped history of them in Redis.
//!
//! Layers, each in its own module: [`generator`] (pure generation),
//! [`history`] (Redis storage), [`grpc`] (the API surface), [`gateway`]
//! (gRPC-Web, Connect and the original app's API, each made one gRPC
//! call), [`layers`] (tower layers every call crosses), and the wiring: [`config`],
//! [`server`], [`accept`], [`health`], [`metrics`], [`telemetry`] and the
//! command line, [`cli`]. The contract and the Rust client live in their
//! own crate, `giropops-senhas-client`, re-exported here as [`proto`].
#![forbid(unsafe_code)]

pub mod accept;
pub mod auth;
pub mod cli;
pub mod config;
pub mod gateway;
pub mod generator;
pub mod grpc;
pub mod health;
pub mod history;
pub mod keyring;
pub mod layers;
pub mod metrics;
pub mod policies;
pub mod protocol;
pub mod reload;
pub mod server;
pub mod telemetry;
pub mod tls;

pub use giropops_senhas_client::proto;
