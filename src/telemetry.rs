//! Log output: human lines by default, JSON on request.
//!
//! Handlers record only non-secret fields (`#[instrument(skip_all, …)]`):
//! no request or response is ever logged whole.

use tracing_subscriber::EnvFilter;

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the global subscriber, filtered by `level` (tracing's
/// `EnvFilter` syntax). Logs go to stderr.
pub fn init(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|error| {
        eprintln!("invalid LOG_LEVEL {level:?} ({error}); using info");
        EnvFilter::new("info")
    });
    let ansi = colour(
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
        std::env::var_os("NO_COLOR"),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
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
