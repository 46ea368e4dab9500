//! Log output: human lines by default, JSON on request.
//!
//! Handlers record only non-secret fields (`#[instrument(skip_all, …)]`):
//! no request or response is ever logged whole.

use tracing_subscriber::EnvFilter;

use crate::config::{LogArgs, LogFormat};

/// Installs the global subscriber. Logs go to stderr.
pub fn init(args: &LogArgs) {
    let LogArgs {
        log_format,
        log_level,
    } = args;
    let filter = EnvFilter::try_new(log_level).unwrap_or_else(|error| {
        eprintln!("invalid LOG_LEVEL {log_level:?} ({error}); using info");
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match log_format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
