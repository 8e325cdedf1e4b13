//! Runs (or validates) an experiment with the runner alone, printing each flow event
//! instead of sending it: `cargo run -p notifier-runner --example run_experiment --
//! run examples/experiments/local-health.json`.
//!
//! `notifier run` / `notifier validate` do the same with the settings' channels.

use clap::Parser;
use notifier_core::{Envelope, Event};
use notifier_runner::{FlowNotifier, RunArgs, ValidateArgs};
use serde_json::Value;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Run an experiment.
    Run(RunArgs),
    /// Validate an experiment.
    Validate(ValidateArgs),
}

/// Prints one line per event on stderr.
struct PrintEvents;

impl FlowNotifier for PrintEvents {
    fn notify(&self, event: Event, payload: &Value, error: Option<&Value>) {
        let envelope = Envelope::new(event, payload.clone(), error.cloned());
        let bytes = envelope.to_wire_json().len();
        match error {
            Some(e) => eprintln!("event: {} ({bytes} bytes) error: {e}", event.name()),
            None => eprintln!("event: {} ({bytes} bytes)", event.name()),
        }
    }
}

fn main() {
    let cli = Cli::parse();
    let mut out = std::io::stdout();
    let code = match &cli.command {
        Command::Run(args) => {
            // Ctrl-C and SIGTERM interrupt the run (journal status "interrupted").
            let interrupt = notifier_runner::Interrupt::new();
            #[cfg(unix)]
            let _signals = notifier_runner::interrupt::forward_signals(&interrupt).ok();
            notifier_runner::run_interruptible(args, &PrintEvents, &mut out, &interrupt).map(|o| o.exit_code)
        }
        Command::Validate(args) => notifier_runner::validate(args, &PrintEvents, &mut out).map(|o| o.exit_code),
    };
    match code {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
