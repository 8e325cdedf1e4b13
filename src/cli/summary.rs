//! The one-line notification summary printed on stderr at the end of a command.

use std::io::Write;
use std::path::Path;

use notifier::{ChannelOutcome, Event, Outcome};

/// Collects channel outcomes over a command and prints the summary.
#[derive(Debug, Default)]
pub struct Summary {
    outcomes: Vec<(Event, ChannelOutcome)>,
}

impl Summary {
    /// Adds the outcomes of one event.
    pub fn add(&mut self, event: Event, outcomes: impl IntoIterator<Item = ChannelOutcome>) {
        self.outcomes.extend(outcomes.into_iter().map(|o| (event, o)));
    }

    /// Number of notifications that failed.
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|(_, o)| o.is_failure()).count()
    }

    /// Channel/event pairs the filters let through.
    fn attempted(&self) -> usize {
        self.outcomes.iter().filter(|(_, o)| !matches!(o.outcome, Outcome::Filtered)).count()
    }

    /// `2 of 14 notifications failed: run-started → #1 http POST …: timed out; …`, or
    /// nothing when all went well. `log_file` is mentioned for the full reasons.
    pub fn print(&self, err: &mut dyn Write, log_file: Option<&Path>) -> std::io::Result<()> {
        let failed: Vec<String> = self
            .outcomes
            .iter()
            .filter_map(|(e, o)| match &o.outcome {
                Outcome::Failed { kind, .. } => {
                    Some(format!("{e} → #{} {}: {}", o.channel + 1, o.label, kind.describe()))
                }
                _ => None,
            })
            .collect();
        if failed.is_empty() {
            return Ok(());
        }
        let shown = failed.iter().take(5).cloned().collect::<Vec<_>>().join("; ");
        let more = if failed.len() > 5 { format!("; and {} more", failed.len() - 5) } else { String::new() };
        let log = log_file.map(|p| format!(" (full reasons in {})", p.display())).unwrap_or_default();
        writeln!(err, "{} of {} notifications failed: {shown}{more}{log}", failed.len(), self.attempted())
    }

    /// Like [`print`](Summary::print), and when nothing failed: `notifications: 4 of 4 delivered`.
    pub fn print_always(&self, err: &mut dyn Write, log_file: Option<&Path>) -> std::io::Result<()> {
        let attempted = self.attempted();
        if self.failed() == 0 {
            if attempted > 0 {
                writeln!(err, "notifications: {attempted} of {attempted} delivered")?;
            }
            return Ok(());
        }
        self.print(err, log_file)
    }
}
