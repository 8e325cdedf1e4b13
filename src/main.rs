//! The `notifier` binary. All behaviour lives in the library's `cli` module tree; this
//! file only maps results to exit codes.

use std::process::ExitCode;

use clap::Parser;

mod cli;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = cli.global.settings.clone().unwrap_or_else(cli::default_settings_path);
    let result = match &cli.command {
        Command::Check(args) => cli::check::run(args, settings, cli.global.color),
        Command::Schema => {
            print!("{}", notifier_schema::settings_schema_text());
            Ok(0)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`notifier check | head`) is not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
