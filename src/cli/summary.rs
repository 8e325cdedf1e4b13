//! The one-line notification summary printed on stderr at the end of a command.

use std::io::Write;

use notifier::{ChannelOutcome, Event};

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

    /// `2 of 14 notifications failed: run-started → #1 http POST …: timed out; …`, or
    /// nothing when all went well. `log_file` is mentioned for the full reasons.
    pub fn print(&self, err: &mut dyn Write, log_file: Option<&std::path::Path>) -> std::io::Result<()> {
        let attempted = self.outcomes.iter().filter(|(_, o)| !matches!(o.outcome, notifier::Outcome::Filtered)).count();
        let failed: Vec<String> = self
            .outcomes
            .iter()
            .filter(|(_, o)| o.is_failure())
            .map(|(e, o)| {
                let kind = match &o.outcome {
                    notifier::Outcome::Failed { kind, .. } => kind.describe(),
                    _ => "",
                };
                format!("{e} → #{} {}: {kind}", o.channel + 1, o.label)
            })
            .collect();
        if failed.is_empty() {
            return Ok(());
        }
        self.print_failures(err, attempted, &failed, log_file)
    }

    /// Like [`print`](Summary::print), and when nothing failed: `notifications: 4 of 4 delivered`.
    pub fn print_always(&self, err: &mut dyn Write, log_file: Option<&std::path::Path>) -> std::io::Result<()> {
        let attempted = self.outcomes.iter().filter(|(_, o)| !matches!(o.outcome, notifier::Outcome::Filtered)).count();
        if self.failed() == 0 {
            if attempted > 0 {
                writeln!(err, "notifications: {attempted} of {attempted} delivered")?;
            }
            return Ok(());
        }
        self.print(err, log_file)
    }

    fn print_failures(
        &self,
        err: &mut dyn Write,
        attempted: usize,
        failed: &[String],
        log_file: Option<&std::path::Path>,
    ) -> std::io::Result<()> {
        let shown = failed.iter().take(5).cloned().collect::<Vec<_>>().join("; ");
        let more = if failed.len() > 5 { format!("; and {} more", failed.len() - 5) } else { String::new() };
        let log = log_file.map(|p| format!(" (full reasons in {})", p.display())).unwrap_or_default();
        writeln!(err, "{} of {attempted} notifications failed: {shown}{more}{log}", failed.len())
    }
}
