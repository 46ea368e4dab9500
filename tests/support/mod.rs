//! Test harness: a real `redis-server` per test and the real gRPC server
//! over real sockets. Nothing is mocked, nothing is shared between tests.
#![allow(dead_code, unused_imports, unreachable_pub)] // each test binary uses a different part

pub mod constraints;
pub mod redis_server;
pub mod service;

pub use redis_server::RedisServer;
pub use service::{
    ANONYMOUS_LIST, HISTORY_KEY, TestServer, redis_config, scrape, stateless_config, wait_until,
};
pub mod h2_client;
pub mod http;
pub mod pki;
pub mod process;
pub mod webdriver;
