//! Prometheus metrics, served as OpenMetrics text on `/metrics`
//! (`--metrics-listen`).
//!
//! Labels are service and method names from a fixed list, status codes and
//! secret kinds — never anything taken from a request, so no secret can
//! reach a label and no client can grow the label set. With
//! `--metrics-principal-label` the calls counter and the latency histogram
//! also carry `principal` ([`PrincipalLabel`]): only names the
//! configuration holds (token names, SANs of the client scopes file,
//! `anonymous`), `other` for any other caller and `-` for none; without
//! it the label is absent.

use std::sync::Arc;
use std::time::Duration;

use giropops_senhas_client::code_name;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tonic::Code;

use crate::protocol::Protocol;

type LatencyFamily = Family<LatencyLabels, Histogram, fn() -> Histogram>;

struct Inner {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    latency: LatencyFamily,
    in_flight: Family<Method, Gauge>,
    connections: Gauge,
    blocking_busy: Gauge,
    generated: Family<KindLabels, Counter>,
    senha_gerada: Counter,
    skipped: Family<ReasonLabels, Counter>,
    reload_failures: Family<FileLabels, Counter>,
    redis_up: Gauge,
    history_writes: Family<OutcomeLabels, Counter>,
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
        let mut root = Registry::default();
        let senha_gerada = Counter::default();
        root.register(
            "senha_gerada",
            "Passwords and passphrases generated, whatever the protocol: the original app's counter, under its name (giropops_secrets_generated_total splits it by kind)",
            senha_gerada.clone(),
        );
        let registry = root.sub_registry_with_prefix("giropops");
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "rpc_calls",
            "Calls finished, by service, method, status code and protocol (grpc, grpc_web, connect, http: every protocol becomes one gRPC call; cancelled and timed-out calls included); and principal with --metrics-principal-label",
            calls.clone(),
        );
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "rpc_duration_seconds",
            "gRPC call latency, until the end of the response (streams included); by principal too with --metrics-principal-label",
            latency.clone(),
        );
        let in_flight = Family::<Method, Gauge>::default();
        registry.register(
            "rpc_in_flight",
            "gRPC calls started and not yet finished, by service and method",
            in_flight.clone(),
        );
        let connections = Gauge::default();
        registry.register(
            "open_connections",
            "Client connections open on the gRPC port",
            connections.clone(),
        );
        let blocking_busy = Gauge::default();
        registry.register(
            "blocking_threads_busy",
            "Blocking threads running CPU-heavy work (strength checks) now",
            blocking_busy.clone(),
        );
        let generated = Family::<KindLabels, Counter>::default();
        registry.register(
            "secrets_generated",
            "Secrets generated, by kind (password, passphrase, token; senha_gerada, the original app's counter, counts the first two)",
            generated.clone(),
        );
        let skipped = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "history_entries_skipped",
            "History entries not returned, by reason (unknown_key_id: written with a removed key; auth_failed: tampered or moved; not_ours; other_mode: written in the other HISTORY_MODE; expired; duplicate: a copy of an entry already returned; replayed: an entry the cap trimmed, pushed back)",
            skipped.clone(),
        );
        let reload_failures = Family::<FileLabels, Counter>::default();
        registry.register(
            "reload_failures",
            "Reloads of a file (tokens, tls_cert, tls_key, tls_client_ca, tls_client_scopes, history_keys) that failed: the previous version stays in use",
            reload_failures.clone(),
        );
        let redis_up = Gauge::default();
        registry.register(
            "redis_up",
            "1 while the history store (Redis) answers the health check, else 0",
            redis_up.clone(),
        );
        let history_writes = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "history_writes",
            "Calls that asked to store their secrets in the history, by outcome (stored; failed: the call answered an error, UNAVAILABLE or RESOURCE_EXHAUSTED)",
            history_writes.clone(),
        );
        // Every label value present from the start, at 0: an alert on
        // `increase()` sees the first event (a series born at 1 shows none).
        for outcome in ["stored", "failed"] {
            let _ = history_writes.get_or_create(&OutcomeLabels { outcome });
        }
        for skip in crate::history::Skip::ALL {
            let _ = skipped.get_or_create(&ReasonLabels {
                reason: skip.label(),
            });
        }
        for file in RELOADED_FILES {
            let _ = reload_failures.get_or_create(&FileLabels { file });
        }
        root.register_collector(Box::new(process::ProcessCollector));
        for method in Method::KNOWN {
            // Present from the start, at 0.
            let _ = in_flight.get_or_create(method);
        }
        Metrics {
            inner: Arc::new(Inner {
                registry: root,
                senha_gerada,
                calls,
                latency,
                in_flight,
                connections,
                blocking_busy,
                generated,
                skipped,
                reload_failures,
                redis_up,
                history_writes,
            }),
        }
    }

    /// A call to `method` started.
    pub fn call_started(&self, method: Method) {
        self.inner.in_flight.get_or_create(&method).inc();
    }

    /// A call to `method` finished with `code` after `elapsed`: counted in
    /// `giropops_rpc_calls_total` and observed in
    /// `giropops_rpc_duration_seconds`, by service, method (and code), and
    /// by `principal` when one is given (`--metrics-principal-label`);
    /// with `None` the series have no `principal` label at all.
    pub fn call_finished(
        &self,
        method: Method,
        protocol: Protocol,
        code: Code,
        elapsed: Duration,
        principal: Option<PrincipalLabel>,
    ) {
        self.inner.in_flight.get_or_create(&method).dec();
        let principal = PrincipalLabels(principal);
        let Method { service, method } = method;
        self.inner
            .calls
            .get_or_create(&CallLabels {
                service,
                method,
                code: code_name(code),
                protocol: protocol.as_str(),
                principal: principal.clone(),
            })
            .inc();
        self.inner
            .latency
            .get_or_create(&LatencyLabels {
                method: Method { service, method },
                principal,
            })
            .observe(elapsed.as_secs_f64());
    }

    /// A connection opened; it counts until the guard is dropped.
    pub fn connection_opened(&self) -> GaugeGuard {
        GaugeGuard::new(&self.inner.connections)
    }

    /// A blocking thread is busy until the guard is dropped.
    pub fn blocking_started(&self) -> GaugeGuard {
        GaugeGuard::new(&self.inner.blocking_busy)
    }

    /// Counts `count` generated secrets of `kind`.
    pub fn generated(&self, kind: SecretKind, count: u64) {
        let (kind, senha) = match kind {
            SecretKind::Password => ("password", true),
            SecretKind::Passphrase => ("passphrase", true),
            SecretKind::Token => ("token", false),
        };
        self.inner
            .generated
            .get_or_create(&KindLabels { kind })
            .inc_by(count);
        if senha {
            self.inner.senha_gerada.inc_by(count);
        }
    }

    /// Counts a history write, stored or failed.
    pub fn history_write(&self, stored: bool) {
        let outcome = if stored { "stored" } else { "failed" };
        self.inner
            .history_writes
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Counts a history entry not returned, and why. A tampered entry is
    /// also one WARN.
    pub fn history_entry_skipped(&self, skip: crate::history::Skip) {
        if skip == crate::history::Skip::AuthFailed {
            tracing::warn!(
                "a history entry failed authentication: tampered with, moved between lists, or a key reused under another name"
            );
        }
        self.inner
            .skipped
            .get_or_create(&ReasonLabels {
                reason: skip.label(),
            })
            .inc();
    }

    /// Counts a failed reload of `file`.
    pub fn reload_failed(&self, file: &'static str) {
        self.inner
            .reload_failures
            .get_or_create(&FileLabels { file })
            .inc();
    }

    /// Records whether Redis answers.
    pub fn set_redis_up(&self, up: bool) {
        self.inner.redis_up.set(i64::from(up));
    }

    /// The OpenMetrics text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.inner.registry).expect("writing to a String cannot fail");
        text
    }
}

/// Holds a gauge one higher while it lives.
#[derive(Debug)]
pub struct GaugeGuard(Gauge);

impl GaugeGuard {
    fn new(gauge: &Gauge) -> Self {
        gauge.inc();
        GaugeGuard(gauge.clone())
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The content type of [`Metrics::render`]'s output (prometheus-client
/// writes OpenMetrics; with the classic text type Prometheus would drop
/// the type and help metadata).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

mod endpoint;
mod labels;
mod process;

pub use endpoint::serve;
use labels::{
    CallLabels, FileLabels, KindLabels, LatencyLabels, OutcomeLabels, PrincipalLabels,
    RELOADED_FILES, ReasonLabels,
};
pub use labels::{Method, PrincipalLabel, SecretKind};

#[cfg(test)]
mod tests;
