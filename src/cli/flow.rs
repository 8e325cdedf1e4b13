//! `notifier run` and `notifier validate`: the runner (crate `notifier-runner`) emitting
//! its flow events through the dispatcher.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notifier::{ChannelOutcome, Envelope, Event, FailureKind, Notifier, Outcome};
use notifier_runner::FlowNotifier;
use serde_json::Value;

use super::channels::Channels;
use super::summary::Summary;
use super::{DeliveryArgs, RunCmd, ValidateCmd};

/// The dispatcher as the runner sees it; collects every outcome for the summary.
struct CliNotifier<'a> {
    channels: &'a Channels,
    summary: RefCell<Summary>,
    /// Background mode: what was queued, in order, to tell what the final flush did not
    /// deliver.
    queued: RefCell<Vec<(Event, ChannelOutcome)>>,
}

impl FlowNotifier for CliNotifier<'_> {
    fn notify(&self, event: Event, payload: &Value, error: Option<&Value>) {
        let report = self.channels.notify(Envelope::new(event, payload.clone(), error.cloned()));
        // Queued outcomes are replaced by the flush report at the end.
        let (queued, done): (Vec<_>, Vec<_>) =
            report.channels.into_iter().partition(|c| matches!(c.outcome, Outcome::Queued));
        self.summary.borrow_mut().add(event, done);
        self.queued.borrow_mut().extend(queued.into_iter().map(|c| (event, c)));
    }
}

fn finish(cli: CliNotifier<'_>, delivery: &DeliveryArgs, log_file: Option<&PathBuf>) {
    let mut summary = cli.summary.into_inner();
    if delivery.background {
        // Bounded by the cap alone: dropping the notifier afterwards does not wait again.
        // What is left is logged as a warning (on stderr too) by `shutdown`.
        let flushed = cli.channels.notifier().shutdown(Duration::from_secs_f64(delivery.flush_cap));
        let mut completed: HashMap<usize, usize> = HashMap::new();
        for (event, outcome) in flushed.completed {
            *completed.entry(outcome.channel).or_default() += 1;
            summary.add(event, [outcome]);
        }
        // Each channel delivers in order: its first completions are its first queued
        // events, and the rest were abandoned at the cap.
        for (event, mut outcome) in cli.queued.into_inner() {
            let done = completed.entry(outcome.channel).or_default();
            if *done > 0 {
                *done -= 1;
                continue;
            }
            outcome.outcome = Outcome::Failed {
                kind: FailureKind::Abandoned,
                reason: format!(
                    "not delivered within --flush-cap {} s (still queued or in flight)",
                    delivery.flush_cap
                ),
            };
            outcome.elapsed = Duration::from_secs_f64(delivery.flush_cap);
            summary.add(event, [outcome]);
        }
    }
    let _ = summary.print_always(&mut io::stderr(), log_file.map(PathBuf::as_path));
}

/// Like Chaos Toolkit: broken settings mean no notifications (said loudly), not no run.
fn load(settings: &Path, explicit: bool, delivery: &DeliveryArgs) -> Channels {
    Channels::load(settings, explicit, delivery).unwrap_or_else(|e| {
        eprintln!("error: notifications are disabled: {e}");
        Channels::Loaded(Notifier::empty())
    })
}

/// Runs `notifier run`; returns the exit code.
pub fn run(cmd: &RunCmd, settings: &Path, explicit: bool, log_file: Option<&PathBuf>) -> u8 {
    let channels = load(settings, explicit, &cmd.delivery);
    let cli = CliNotifier { channels: &channels, summary: RefCell::default(), queued: RefCell::default() };
    let result = notifier_runner::cli::run(&cmd.run, &cli, &mut io::stdout());
    finish(cli, &cmd.delivery, log_file);
    match result {
        Ok(outcome) => u8::try_from(outcome.exit_code).unwrap_or(1),
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// Runs `notifier validate`; returns the exit code.
pub fn validate(cmd: &ValidateCmd, settings: &Path, explicit: bool, log_file: Option<&PathBuf>) -> u8 {
    let channels = load(settings, explicit, &cmd.delivery);
    let cli = CliNotifier { channels: &channels, summary: RefCell::default(), queued: RefCell::default() };
    let result = notifier_runner::cli::validate(&cmd.validate, &cli, &mut io::stdout());
    finish(cli, &cmd.delivery, log_file);
    match result {
        Ok(outcome) => u8::try_from(outcome.exit_code).unwrap_or(1),
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
