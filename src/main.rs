//! The `notifier` binary: parses the command line, sets up logging and maps each
//! subcommand's result to an exit code. The subcommands live in `cli/`.

use std::process::ExitCode;

use clap::Parser;

mod cli;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    let python = cli.global.python.clone();
    match &mut cli.command {
        Command::Send(args) => args.delivery.python = python,
        Command::Run(cmd) => cmd.delivery.python = python,
        Command::Validate(cmd) => cmd.delivery.python = python,
        Command::Check(_) | Command::Schema(_) | Command::Codegen(_) | Command::Formats(_) | Command::Outbox(_) => {}
        Command::Relay(args) => args.python = python,
        Command::Completions(_) | Command::Man(_) => {}
    }
    let explicit_settings = cli.global.settings.is_some();
    let settings = cli.global.settings.clone().unwrap_or_else(cli::default_settings_path);
    let wanted = (!cli.global.no_log_file).then(|| cli.global.log_file.clone());
    // `check`, `schema`, `codegen`, `completions` and `man` write no log file.
    let logs = matches!(cli.command, Command::Send(_) | Command::Run(_) | Command::Validate(_) | Command::Outbox(_));
    let log_file = cli::logging::init(if logs { wanted.as_deref() } else { None }, cli.global.verbose);
    let styled = cli.global.color.enabled_for_stdout();
    let result = match &cli.command {
        Command::Check(args) => cli::check::run(args, settings, cli.global.color),
        Command::Schema(args) => cli::generate::schema(args, &mut std::io::stdout().lock()),
        Command::Codegen(args) => cli::codegen::run(args, styled),
        Command::Formats(args) => cli::formats::run(args),
        Command::Send(args) => match cli::send::run(args, &settings, explicit_settings, log_file.as_ref()) {
            Ok(code) => Ok(code),
            Err(e) => {
                eprintln!("error: {e}");
                Ok(2)
            }
        },
        Command::Run(cmd) => {
            Ok(cli::flow::run(cmd, &settings, explicit_settings, log_file.as_ref(), cli.global.python.as_deref()))
        }
        Command::Validate(cmd) => {
            Ok(cli::flow::validate(cmd, &settings, explicit_settings, log_file.as_ref(), cli.global.python.as_deref()))
        }
        Command::Outbox(cmd) => match cli::outbox::run(cmd, cli.global.python.clone()) {
            Ok(code) => Ok(code),
            Err(e) => {
                eprintln!("error: {e}");
                Ok(2)
            }
        },
        Command::Completions(args) => cli::generate::completions(args, &mut std::io::stdout().lock()),
        Command::Man(args) => cli::generate::man(args, &mut std::io::stdout().lock()),
        Command::Relay(args) => Ok(cli::relay::run(args, &settings)),
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
