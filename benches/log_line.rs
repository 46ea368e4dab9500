//! The per-call log line at the default level (`info`), through the
//! subscriber the server installs (`telemetry::subscriber`), as CPU on the
//! calling thread, per line:
//!
//! - `human | json, non-blocking`: formatting and the hand-off to the
//!   writer thread (what a tokio worker pays; the writer writes to a sink);
//! - `human, blocking to /dev/null`: formatting and one write(2) per line
//!   (the whole cost when nothing batches the writes);
//! - `filtered out`: the line at `LOG_LEVEL=warn` (the callsite check only).
//!
//!   cargo bench --bench log_line

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use giropops_senhas::layers::record::log_call;
use giropops_senhas::metrics::Method;
use giropops_senhas::protocol::Protocol;
use giropops_senhas::telemetry::{LogFormat, QUEUED_LINES, subscriber};
use tonic::Code;
use tracing_appender::non_blocking::NonBlockingBuilder;
use tracing_subscriber::EnvFilter;

fn line() {
    log_call(
        Method::from_path("/giropops.v1.PasswordService/GeneratePassword"),
        Protocol::Grpc,
        Code::Ok,
        Duration::from_micros(123),
        "anonymous",
        "anonymous",
    );
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("call log line");
    for (name, format) in [("human", LogFormat::Human), ("json", LogFormat::Json)] {
        let (writer, _guard) = NonBlockingBuilder::default()
            .lossy(true)
            .buffered_lines_limit(QUEUED_LINES)
            .finish(std::io::sink());
        let dispatch = subscriber(format, EnvFilter::new("info"), false, writer);
        tracing::subscriber::with_default(dispatch, || {
            group.bench_function(format!("{name}, non-blocking"), |b| b.iter(line));
        });
    }
    let null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .expect("/dev/null");
    let blocking = subscriber(
        LogFormat::Human,
        EnvFilter::new("info"),
        false,
        std::sync::Mutex::new(null),
    );
    tracing::subscriber::with_default(blocking, || {
        group.bench_function("human, blocking to /dev/null", |b| b.iter(line));
    });
    let filtered = subscriber(
        LogFormat::Human,
        EnvFilter::new("warn"),
        false,
        std::io::sink,
    );
    tracing::subscriber::with_default(filtered, || {
        group.bench_function("filtered out (LOG_LEVEL=warn)", |b| b.iter(line));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
