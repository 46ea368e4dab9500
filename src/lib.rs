//! giropops-senhas: a gRPC service that mints passwords from a CSPRNG and
//! keeps a capped history of them in Redis.
//!
//! Layers, each in its own module: [`generator`] (pure generation),
//! [`history`] (Redis storage), [`grpc`] (the API surface), and the wiring:
//! [`config`], [`server`], [`health`], [`metrics`], [`telemetry`], [`healthcheck`], [`cli`];
//! and for callers: [`client`] (a connect helper over the generated client)
//! and [`commands`] (the terminal subcommands).
#![forbid(unsafe_code)]

pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod generator;
pub mod grpc;
pub mod health;
pub mod healthcheck;
pub mod history;
pub mod metrics;
pub mod proto;
pub mod server;
pub mod telemetry;
