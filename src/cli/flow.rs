//! `notifier run` and `notifier validate`: the runner (crate `notifier-runner`) emitting
//! its flow events through the dispatcher.

use std::cell::RefCell;
use std::io;
use std::path::{Path, PathBuf};

use notifier::{ChannelOutcome, Envelope, Event, Notifier, Outcome};
use notifier_runner::cli::Environment;
use notifier_runner::{FlowNotifier, Interrupt, RunnerError};
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
        for (event, outcome) in cli.channels.settle(cli.queued.into_inner(), delivery.flush_cap()) {
            summary.add(event, [outcome]);
        }
    }
    let _ = summary.print_always(&mut io::stderr(), log_file.map(PathBuf::as_path));
    cli.channels.outbox_hint(summary.attempted_and_failed(), &mut io::stderr());
}

/// Like Chaos Toolkit: broken settings mean no notifications (said loudly), not no run.
fn load(settings: &Path, explicit: bool, delivery: &DeliveryArgs) -> Channels {
    Channels::load(settings, explicit, delivery).unwrap_or_else(|e| {
        eprintln!("error: notifications are disabled: {e}");
        Channels::Loaded(Notifier::empty(), None)
    })
}

/// Runs a flow of the runner with the command's channels, prints the notification
/// summary, and returns the exit code (1 when the flow could not start).
fn drive(
    delivery: &DeliveryArgs,
    settings: &Path,
    explicit: bool,
    log_file: Option<&PathBuf>,
    flow: impl FnOnce(&CliNotifier<'_>) -> Result<i32, RunnerError>,
) -> u8 {
    if delivery.replay_outbox {
        super::outbox::replay_first(delivery);
    }
    let channels = load(settings, explicit, delivery);
    let cli = CliNotifier { channels: &channels, summary: RefCell::default(), queued: RefCell::default() };
    let result = flow(&cli);
    finish(cli, delivery, log_file);
    match result {
        Ok(code) => u8::try_from(code).unwrap_or(1),
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// What the runner gets besides its arguments: the settings file's document (its
/// `controls:` and `runtime:`) and `--python`. The interpreter starts only if the
/// experiment or the settings need it.
fn environment(settings: &Path, python: Option<&Path>) -> Environment {
    let environment = Environment::new().with_settings_file(settings);
    match python {
        Some(python) => environment.with_python(python),
        None => environment,
    }
}

/// Runs `notifier run`; returns the exit code.
///
/// SIGINT, SIGTERM, SIGUSR1 and SIGUSR2 interrupt the run from the start of the
/// command (one received while the settings or the experiment load, or while
/// `run-started` is sent, interrupts the run before its first activity) until its
/// rollbacks end; after that they are ignored until the journal is written and the
/// final events are sent, each delivery bounded by its deadline. A Python function
/// running when a signal arrives gets a `KeyboardInterrupt`.
pub fn run(cmd: &RunCmd, settings: &Path, explicit: bool, log_file: Option<&PathBuf>, python: Option<&Path>) -> u8 {
    let interrupt = Interrupt::new();
    #[cfg(unix)]
    let _signals = notifier_runner::interrupt::forward_signals(&interrupt)
        .map_err(|e| eprintln!("warning: signals will not interrupt the run: {e}"))
        .ok();
    let environment = environment(settings, python);
    drive(&cmd.delivery, settings, explicit, log_file, |cli| {
        notifier_runner::cli::run_with(&cmd.run, &environment, cli, &mut io::stdout(), &interrupt).map(|o| o.exit_code)
    })
}

/// Runs `notifier validate`; returns the exit code.
pub fn validate(
    cmd: &ValidateCmd,
    settings: &Path,
    explicit: bool,
    log_file: Option<&PathBuf>,
    python: Option<&Path>,
) -> u8 {
    let environment = environment(settings, python);
    drive(&cmd.delivery, settings, explicit, log_file, |cli| {
        notifier_runner::cli::validate_with(&cmd.validate, &environment, cli, &mut io::stdout()).map(|o| o.exit_code)
    })
}
