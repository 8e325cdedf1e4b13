//! Logs: everything at DEBUG to the log file (default `./chaostoolkit.log`, where the
//! Chaos Toolkit documentation tells users to look), warnings and errors on stderr
//! (everything with `--verbose`).

use std::fmt;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

/// `[2026-11-24 23:05:31 DEBUG] [chaostoolkit] message`, the reference's layout with our
/// target in place of its module:line.
struct LogLine;

impl<S, N> FormatEvent<S, N> for LogLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut w: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S");
        write!(w, "[{now} {}] [{}] ", meta.level(), meta.target())?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// Console lines: `warning: message`.
struct ConsoleLine;

impl<S, N> FormatEvent<S, N> for ConsoleLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut w: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warning",
            Level::INFO => "info",
            Level::DEBUG => "debug",
            Level::TRACE => "trace",
        };
        write!(w, "{level}: ")?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// Installs the logger and returns the log file actually in use. A log file that cannot
/// be opened is reported on stderr and the command goes on without it.
///
/// The console shows only the notifier's own warnings (target `chaostoolkit`): the
/// runner reports on stdout already, so its log lines would say everything twice.
/// `--verbose` shows everything of ours at DEBUG.
pub fn init(log_file: Option<&Path>, verbose: bool) -> Option<PathBuf> {
    let mut opened = None;
    let file_layer = log_file.and_then(|path| {
        match OpenOptions::new().create(true).append(true).open(path) {
            Ok(file) => Some({
                opened = Some(path.to_owned());
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .event_format(LogLine)
                    .with_writer(Mutex::new(file))
                    // Our own lines at DEBUG; the HTTP stack only when it has a problem.
                    .with_filter(
                        Targets::new()
                            .with_default(LevelFilter::WARN)
                            .with_target("chaostoolkit", LevelFilter::DEBUG)
                            .with_target("notifier", LevelFilter::DEBUG),
                    )
            }),
            Err(e) => {
                eprintln!("warning: cannot open log file {}: {e}", path.display());
                None
            }
        }
    });
    let console_level = if verbose {
        Targets::new()
            .with_default(LevelFilter::WARN)
            .with_target("chaostoolkit", LevelFilter::DEBUG)
            .with_target("notifier", LevelFilter::DEBUG)
    } else {
        Targets::new().with_default(LevelFilter::OFF).with_target("chaostoolkit", LevelFilter::WARN)
    };
    let console = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .event_format(ConsoleLine)
        .with_writer(std::io::stderr)
        .with_filter(console_level);
    let subscriber = Registry::default().with(file_layer).with(console);
    let _ = tracing::subscriber::set_global_default(subscriber);
    opened
}
