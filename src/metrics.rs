//! Prometheus metrics, served as text on `/metrics` (`--metrics-listen`).
//!
//! Labels are method names, status codes and secret kinds only — never
//! anything taken from a request, so no secret can reach a label.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tonic::Code;

/// What a finished call is counted under.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    method: &'static str,
    code: &'static str,
}

/// A method, for latencies.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    method: &'static str,
}

/// What kind of secret was generated.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

/// A kind of generated secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    /// From GeneratePassword or StreamPasswords.
    Password,
    /// From GeneratePassphrase.
    Passphrase,
}

type LatencyFamily = Family<MethodLabels, Histogram, fn() -> Histogram>;

struct Inner {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    latency: LatencyFamily,
    generated: Family<KindLabels, Counter>,
    redis_up: Gauge,
}

/// The service's metrics. Cheap to clone: all clones share one registry.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to ~4 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("giropops");
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "rpc_calls",
            "PasswordService calls finished, by method and gRPC status code",
            calls.clone(),
        );
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "rpc_duration_seconds",
            "PasswordService call latency (streams: until the stream starts)",
            latency.clone(),
        );
        let generated = Family::<KindLabels, Counter>::default();
        registry.register(
            "secrets_generated",
            "Secrets generated, by kind (the original app's password counter)",
            generated.clone(),
        );
        let redis_up = Gauge::default();
        registry.register(
            "redis_up",
            "1 while the history store (Redis) answers the health check, else 0",
            redis_up.clone(),
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                calls,
                latency,
                generated,
                redis_up,
            }),
        }
    }

    /// Records a finished call.
    pub fn observe_call(&self, method: &'static str, code: Code, elapsed: Duration) {
        let code = code_name(code);
        self.inner
            .calls
            .get_or_create(&CallLabels { method, code })
            .inc();
        self.inner
            .latency
            .get_or_create(&MethodLabels { method })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts `count` generated secrets of `kind`.
    pub fn generated(&self, kind: SecretKind, count: u64) {
        let kind = match kind {
            SecretKind::Password => "password",
            SecretKind::Passphrase => "passphrase",
        };
        self.inner
            .generated
            .get_or_create(&KindLabels { kind })
            .inc_by(count);
    }

    /// Records whether Redis answers.
    pub fn set_redis_up(&self, up: bool) {
        self.inner.redis_up.set(i64::from(up));
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.inner.registry).expect("writing to a String cannot fail");
        text
    }
}

/// The canonical gRPC name of a status code, e.g. `INVALID_ARGUMENT`.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Serves `GET /metrics` on `listener` until the task is aborted.
pub async fn serve(listener: TcpListener, metrics: Metrics) -> std::io::Result<()> {
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    metrics.render(),
                )
            }
        }),
    );
    axum::serve(listener, app).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_calls_latency_kinds_and_redis() {
        let metrics = Metrics::new();
        metrics.observe_call(
            "GeneratePassword",
            Code::InvalidArgument,
            Duration::from_millis(2),
        );
        metrics.observe_call("GeneratePassword", Code::Ok, Duration::from_millis(1));
        metrics.generated(SecretKind::Password, 5);
        metrics.set_redis_up(true);
        let text = metrics.render();
        assert!(text.contains(
            "giropops_rpc_calls_total{method=\"GeneratePassword\",code=\"INVALID_ARGUMENT\"} 1"
        ));
        assert!(
            text.contains("giropops_rpc_calls_total{method=\"GeneratePassword\",code=\"OK\"} 1")
        );
        assert!(text.contains("giropops_secrets_generated_total{kind=\"password\"} 5"));
        assert!(text.contains("giropops_redis_up 1"));
        assert!(
            text.contains("giropops_rpc_duration_seconds_count{method=\"GeneratePassword\"} 2")
        );
    }

    #[test]
    fn code_names_are_canonical() {
        assert_eq!(code_name(Code::Unavailable), "UNAVAILABLE");
        assert_eq!(code_name(Code::FailedPrecondition), "FAILED_PRECONDITION");
    }
}
