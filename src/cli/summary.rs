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

    /// Number of notifications that did not reach their channel (failed or skipped).
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|(_, o)| o.is_failure()).count()
    }

    /// Notifications attempted and not delivered (skipped channels are not attempted):
    /// the ones the outbox keeps.
    pub fn attempted_and_failed(&self) -> usize {
        self.outcomes.iter().filter(|(_, o)| matches!(o.outcome, Outcome::Failed { .. })).count()
    }

    /// Channel/event pairs the filters let through.
    fn attempted(&self) -> usize {
        self.outcomes.iter().filter(|(_, o)| !matches!(o.outcome, Outcome::Filtered | Outcome::NoBody)).count()
    }

    /// `2 of 14 notifications failed: run-started → #1 http POST …: timed out; …`, or
    /// nothing when all went well. Skipped channels (unusable settings entries) are
    /// listed once each, with the number of events they missed:
    /// `3 of 9 notifications not delivered: #2 plugin acme.notify skipped (3 events)`.
    /// `log_file` is mentioned for the full reasons.
    pub fn print(&self, err: &mut dyn Write, log_file: Option<&Path>) -> std::io::Result<()> {
        let mut parts: Vec<String> = Vec::new();
        // Skipped channels first, once each, in channel order: one cause, many events.
        let mut skipped: Vec<(usize, &str, usize)> = Vec::new();
        for (_, o) in &self.outcomes {
            if matches!(o.outcome, Outcome::Skipped { .. }) {
                match skipped.iter_mut().find(|(c, _, _)| *c == o.channel) {
                    Some(entry) => entry.2 += 1,
                    None => skipped.push((o.channel, &o.label, 1)),
                }
            }
        }
        skipped.sort_by_key(|(c, _, _)| *c);
        for (channel, label, events) in &skipped {
            let plural = if *events == 1 { "" } else { "s" };
            parts.push(format!("#{} {label}: skipped ({events} event{plural})", channel + 1));
        }
        for (e, o) in &self.outcomes {
            if let Outcome::Failed { kind, .. } = &o.outcome {
                parts.push(format!("{e} → #{} {}: {}", o.channel + 1, o.label, kind.describe()));
            }
        }
        if parts.is_empty() {
            return Ok(());
        }
        let shown = parts.iter().take(5).cloned().collect::<Vec<_>>().join("; ");
        let more = if parts.len() > 5 { format!("; and {} more", parts.len() - 5) } else { String::new() };
        let log = log_file.map(|p| format!(" (full reasons in {})", p.display())).unwrap_or_default();
        let verb = if skipped.is_empty() { "failed" } else { "not delivered" };
        writeln!(err, "{} of {} notifications {verb}: {shown}{more}{log}", self.failed(), self.attempted())
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
