//! What the log looks like: plain sentences on stderr by default (`warning: ...`, and the
//! guest's lines as `guest: ...`), `-v`/`-q` for more or less; `DRIFT_LOG` takes a tracing
//! filter and switches to tracing's own format (times, levels, targets), for debugging.

use std::fmt;
use std::io::{self, IsTerminal};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// How much the log says, from `-v` (repeated) and `-q`.
pub fn filter(verbose: u8, quiet: bool) -> &'static str {
    match (quiet, verbose) {
        (true, _) => "error,drift_host=warn,guest=warn",
        (false, 0) => "warn,aws_config=error,drift_host=info,guest=info",
        (false, 1) => "warn,aws_config=error,drift_host=debug,guest=debug",
        (false, _) => "info,drift_host=trace,guest=trace",
    }
}

/// Starts the log: tracing's format under `DRIFT_LOG`, plain lines otherwise.
pub fn init(verbose: u8, quiet: bool) {
    let builder = tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal());
    match EnvFilter::try_from_env("DRIFT_LOG") {
        Ok(filter) => builder.with_env_filter(filter).init(),
        Err(_) => builder
            .with_env_filter(EnvFilter::new(filter(verbose, quiet)))
            .event_format(Plain)
            .init(),
    }
}

/// One sentence a line: the level only when it is not info, the target only for the guest.
struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        match *metadata.level() {
            Level::ERROR => write!(writer, "error: ")?,
            Level::WARN => write!(writer, "warning: ")?,
            Level::INFO => {}
            Level::DEBUG => write!(writer, "debug: ")?,
            Level::TRACE => write!(writer, "trace: ")?,
        }
        if metadata.target().starts_with("guest") {
            write!(writer, "guest: ")?;
        }
        context
            .field_format()
            .format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
