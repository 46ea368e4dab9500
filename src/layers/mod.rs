//! Cross-cutting tower layers: what every call crosses, applied once, to
//! every service on the port (PasswordService, health, reflection), by
//! [`stack`].
//!
//! The order, outermost first, and why:
//! 1. [`record`]: metrics of every call, with a drop guard, so a call that
//!    is rejected by a later layer, times out or is cancelled by its client
//!    is still counted, with its real code.
//! 2. authentication and scopes (the trust issue): goes here, so that a
//!    refused call is counted but costs no shedding permit.
//! 3. load shedding and the response byte budget (the hostile-load issue):
//!    goes here, before any work is done.
//! 4. [`deadline`]: the call's deadline (the client's `grpc-timeout` or
//!    `--request-timeout`, the shorter), ending it `DEADLINE_EXCEEDED`.
//! 5. the request length-prefix check (hostile-load issue), then tonic's
//!    router.

pub mod deadline;
pub mod grpc;
pub mod record;

use std::time::Duration;

use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};

use crate::metrics::Metrics;

/// The layer stack in the order above.
pub type Layers = Stack<deadline::DeadlineLayer, Stack<record::RecordLayer, Identity>>;

/// Builds the stack for a server whose calls may run `request_timeout`.
pub fn stack(metrics: &Metrics, request_timeout: Duration) -> Layers {
    ServiceBuilder::new()
        .layer(record::RecordLayer::new(metrics.clone(), request_timeout))
        // (auth goes here)
        // (shedding and the byte budget go here)
        .layer(deadline::DeadlineLayer::new(request_timeout))
        .into_inner()
}
