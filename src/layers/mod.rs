//! Cross-cutting tower layers: what every call crosses, applied once, to
//! every service on the port (PasswordService, health, reflection), by
//! [`stack`].
//!
//! The order, outermost first, and why:
//! 1. [`record`]: metrics of every call, with a drop guard, so a call that
//!    is rejected by a later layer, times out or is cancelled by its client
//!    is still counted, with its real code (and, with
//!    `--metrics-principal-label`, the principal the auth layer named).
//! 2. [`crate::auth`]: who is calling and whether they may (a refused call
//!    is counted, and costs no shedding permit).
//! 3. [`shed`]: the in-flight limit and the response byte budget, before
//!    any work is done.
//! 4. [`deadline`]: the call's deadline (the client's `grpc-timeout` or
//!    `--request-timeout`, the shorter), ending it `DEADLINE_EXCEEDED`.
//! 5. [`message_size`]: the request size limit, read from each message's
//!    length prefix; then tonic's router.

pub mod deadline;
pub mod grpc;
pub mod message_size;
pub mod record;
pub mod shed;

use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};

use crate::auth::{AuthLayer, Authenticator};
use crate::config::Limits;
use crate::metrics::Metrics;

/// The layer stack in the order above (tower's `Stack` nests inside out).
pub type Layers = Stack<
    message_size::MessageSizeLayer,
    Stack<
        deadline::DeadlineLayer,
        Stack<shed::ShedLayer, Stack<AuthLayer, Stack<record::RecordLayer, Identity>>>,
    >,
>;

/// Builds the stack for a server with `limits`, sharing `budget` with the
/// handlers; `principal_label`: calls are also counted by principal
/// (`--metrics-principal-label`).
pub fn stack(
    metrics: &Metrics,
    limits: &Limits,
    budget: &shed::ResponseBudget,
    authenticator: &Authenticator,
    principal_label: bool,
) -> Layers {
    let record = record::RecordLayer::new(metrics.clone(), limits.request_timeout);
    let record = if principal_label {
        record.with_principal_label(authenticator.clone())
    } else {
        record
    };
    ServiceBuilder::new()
        .layer(record)
        .layer(AuthLayer::new(authenticator.clone()))
        .layer(shed::ShedLayer::new(limits.max_in_flight, budget.clone()))
        .layer(deadline::DeadlineLayer::new(limits.request_timeout))
        .layer(message_size::MessageSizeLayer::new(
            limits.max_request_bytes,
        ))
        .into_inner()
}
