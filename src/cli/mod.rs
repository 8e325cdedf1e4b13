//! The `notifier` command line: flags (clap) and one module per subcommand.

pub mod check;

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Chaos Toolkit flow notifications, compiled from the settings file.";

const LONG_ABOUT: &str = "\
Chaos Toolkit flow notifications, compiled from the settings file.

notifier reads the `notifications:` section of a Chaos Toolkit settings file \
(~/.chaostoolkit/settings.yaml), validates it against a JSON Schema, and delivers \
every flow event (run-started, run-failed, ...) to the declared HTTP and plugin \
channels exactly as chaostoolkit-lib would, but with bounded delivery times.

The same compiler front end checks settings files in CI (`notifier check`), \
generates the Rust dispatch table the `settings!` macro embeds (`notifier codegen`), \
and loads settings at run time (`notifier send`, `notifier run`).";

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "notifier", version, about = ABOUT, long_about = LONG_ABOUT, propagate_version = true)]
pub struct Cli {
    /// Options shared by every subcommand.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Settings file to read [default: ~/.chaostoolkit/settings.yaml].
    #[arg(long, global = true, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// When to use colours in human output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate settings files: every problem at once, with file:line:col.
    ///
    /// Exit status: 0 when no file has errors (warnings are allowed unless
    /// --deny-warnings), 1 when a file has errors, 2 when a file cannot be read
    /// (missing, a directory, larger than 8 MiB, or not UTF-8 text).
    #[command(long_about = None)]
    Check(CheckArgs),
    /// Print the JSON Schema of the settings file (draft 2020-12).
    Schema,
}

/// `notifier check` options.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  notifier check                                  # ~/.chaostoolkit/settings.yaml
  notifier check settings.yaml other.yaml
  notifier check --format github --deny-warnings ci/settings.yaml
  notifier check --format json settings.yaml | jq '.[] | select(.severity == \"error\")'")]
pub struct CheckArgs {
    /// Settings files to check [default: the --settings file, else ~/.chaostoolkit/settings.yaml].
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format: `human` (rustc-style with source lines), `json` (an array of
    /// {file, line, column, pointer, severity, code, message, help}) or `github`
    /// (workflow annotations for GitHub Actions).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Fail (exit 1) on warnings too.
    #[arg(long, short = 'D')]
    pub deny_warnings: bool,
    /// Do not print the summary line of the human format.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style diagnostics with the source line and a caret.
    Human,
    /// A JSON array of diagnostic objects.
    Json,
    /// GitHub Actions workflow commands (`::error file=…,line=…,col=…::…`).
    Github,
}

/// Colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// Colour when writing to a terminal and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl Color {
    /// Whether stdout output should be coloured.
    pub fn enabled_for_stdout(self) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// `~/.chaostoolkit/settings.yaml`, as Chaos Toolkit computes it (from `HOME`).
pub fn default_settings_path() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".chaostoolkit").join("settings.yaml")
}
