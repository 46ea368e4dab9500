//! Log output: human lines by default, JSON on request.
//!
//! Handlers record only non-secret fields (`#[instrument(level = "debug",
//! skip_all, …)]`: at the default `info` a call pays for its one line, not
//! for a span too):
//! no request or response is ever logged whole.
//!
//! Lines are formatted where they are logged and written to stderr by a
//! thread of their own (tracing-appender's non-blocking writer): a slow
//! stderr (a full pipe, a stalled collector) never blocks a tokio worker,
//! and lines queued together leave in one write.
//! Its queue holds [`QUEUED_LINES`] lines; past that, lines are dropped —
//! counted, never silently: `giropops_log_lines_dropped_total`.

use std::sync::OnceLock;

use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::util::SubscriberInitExt;

/// Lines waiting for the writer thread, at most (about 1 MiB of JSON).
pub const QUEUED_LINES: usize = 4096;

/// Bytes the writer thread gathers before a write(2), at most.
const WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// The writer's count of dropped lines, once logging is set up.
static DROPPED: OnceLock<ErrorCounter> = OnceLock::new();

/// Log lines dropped so far because the writer's queue was full.
pub fn dropped_lines() -> u64 {
    DROPPED
        .get()
        .map_or(0, |counter| counter.dropped_lines() as u64)
}

/// Keeps the writer thread; dropping it writes out what is queued.
#[must_use = "dropping the guard stops the log writer"]
#[derive(Debug)]
pub struct LogGuard {
    /// Held only to be dropped: it flushes and stops the writer.
    _writer: Option<WorkerGuard>,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the global subscriber, filtered by `level` (tracing's
/// `EnvFilter` syntax). Logs go to stderr, through the writer thread, until
/// the returned guard is dropped.
pub fn init(format: LogFormat, level: &str) -> LogGuard {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|error| {
        eprintln!("invalid LOG_LEVEL {level:?} ({error}); using info");
        EnvFilter::new("info")
    });
    let ansi = colour(
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
        std::env::var_os("NO_COLOR"),
    );
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(QUEUED_LINES)
        .thread_name("giropops-log-writer")
        // Buffered: the writer thread takes every line queued, then flushes
        // once (tracing-appender flushes when its queue is empty), so a
        // burst of calls costs one write(2), not one per line. Alone, a line
        // is still written at once.
        .finish(std::io::BufWriter::with_capacity(
            WRITE_BUFFER_BYTES,
            std::io::stderr(),
        ));
    let _ = DROPPED.set(writer.error_counter());
    // `try_init` also routes the `log` crate's records (dependencies') here.
    let installed = subscriber(format, filter, ansi, writer).try_init();
    // Already installed (tests that start servers in one process): keep
    // the first; this writer is not used.
    LogGuard {
        _writer: installed.is_ok().then_some(guard),
    }
}

/// The subscriber `init` installs, writing to `writer` (benches/log_line.rs
/// measures the call line through it).
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    ansi: bool,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    match format {
        LogFormat::Human => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().flatten_event(true).finish()),
    }
}

/// Colour codes only on a terminal, and never when `NO_COLOR` is set to
/// anything but the empty string (<https://no-color.org>): a log file or a
/// collector gets plain text.
fn colour(is_terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    is_terminal && no_color.is_none_or(|value| value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::colour;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some("".into())), "an empty NO_COLOR is unset");
        assert!(!colour(true, Some("1".into())));
        assert!(!colour(false, None), "a file or a pipe gets no ANSI codes");
        assert!(!colour(false, Some("1".into())));
    }
}
