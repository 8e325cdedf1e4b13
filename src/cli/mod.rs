//! The `notifier` command line: flags (clap) and one module per subcommand.

pub mod channels;
pub mod check;
pub mod codegen;
pub mod flow;
pub mod formats;
pub mod generate;
pub mod logging;
pub mod outbox;
pub mod relay;
pub mod sarif;
pub mod send;
pub mod summary;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::LazyLock;

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

/// What `notifier --version` prints after the name: this version and the chaostoolkit-lib
/// release whose wire (envelopes, requests, plugin calls) it follows.
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    format!("{} (wire: chaostoolkit-lib {})", env!("CARGO_PKG_VERSION"), notifier_core::wire::CHAOSTOOLKIT_LIB_VERSION)
});

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "notifier", version = VERSION.as_str(), about = ABOUT, long_about = LONG_ABOUT, propagate_version = true)]
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
    /// Where DEBUG logs go (every notification failure with its full reason).
    #[arg(long, global = true, value_name = "FILE", default_value = "chaostoolkit.log")]
    pub log_file: PathBuf,
    /// Do not write a log file.
    #[arg(long, global = true, conflicts_with = "log_file")]
    pub no_log_file: bool,
    /// Also print DEBUG logs on stderr.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// The Python interpreter for Python notification plugins, providers and controls
    /// [default: $NOTIFIER_PYTHON, else $VIRTUAL_ENV/bin/python, else python3 on PATH].
    /// Started only when the settings or the experiment need Python, once per command.
    #[arg(long, global = true, value_name = "PATH")]
    pub python: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate settings files: every problem at once, with file:line:col.
    ///
    /// Exit status: 0 when no file has errors (warnings are allowed unless
    /// --deny-warnings), 1 when a file has errors, 2 when a file cannot be read or is
    /// not YAML at all (missing, a directory, larger than 8 MiB, not UTF-8 text, a YAML
    /// syntax error, an alias bomb, nesting deeper than 128 levels).
    ///
    /// At run time (`send`, `run`, `validate`, `Notifier::from_settings_file`) the same
    /// file is loaded leniently, like Chaos Toolkit loads it: a channel with an error is
    /// skipped alone (a warning names its file:line:col) and every other channel
    /// delivers; only a file that is not YAML, or whose `notifications` is not a list,
    /// gives no notifications. The human format ends each file with a note saying which
    /// channels would be skipped; the json format gives each problem a `run_time` object:
    /// {"effect": "none"}, {"effect": "channel-skipped", "channel": N} or
    /// {"effect": "no-notifications"}.
    Check(CheckArgs),
    /// Print the JSON Schema of the settings file (draft 2020-12), or write it to a file.
    ///
    /// Editors use it for completion, hover text and validation: point the YAML language
    /// server at it with a `# yaml-language-server: $schema=…` first line, or map it to
    /// your settings files in the editor's settings (README, "Editor support").
    #[command(after_help = "\
Examples:
  notifier schema > settings.schema.json
  notifier schema --output .chaostoolkit/settings.schema.json")]
    Schema(SchemaArgs),
    /// Print the Rust code the `settings!` macro generates for a settings file.
    Codegen(CodegenArgs),
    /// List the built-in body formats (`format:` on http channels) and their options;
    /// `formats show NAME` prints a format's template, to copy into `template:`.
    Formats(FormatsArgs),
    /// Send one event through the configured channels.
    ///
    /// Prints one line per channel. A channel whose settings entry cannot be used is
    /// skipped alone (a warning names its file:line:col); the others still deliver.
    /// Exit status: 0 when every channel that takes the event got it, 1 when one failed
    /// or was skipped, 2 when the payload is unusable or the settings file gives no
    /// channels at all (not YAML, `notifications` not a list).
    #[command(after_help = "\
Examples:
  notifier send run-failed --payload '{\"title\": \"my experiment\"}' --error 'probe failed'
  notifier send validate-failed --payload @exp.json \\
      --error 'experiment requires a description' --error-kind InvalidExperiment
  notifier --settings ci/settings.yaml send run-started --dry-run")]
    Send(SendArgs),
    /// Run a Chaos Toolkit experiment (JSON or YAML), sending the flow events.
    ///
    /// Sends run-started, then run-completed or run-failed, then run-deviated when the
    /// steady state deviated, like `chaos run`. Exit status: 0 when the run completed
    /// without deviating, 1 otherwise.
    Run(RunCmd),
    /// Validate a Chaos Toolkit experiment, sending validate-started, then
    /// validate-completed or validate-failed.
    Validate(ValidateCmd),
    /// List, replay or drop the notifications kept in the outbox.
    ///
    /// `send`, `run` and `validate` keep every notification of a settings file's channels
    /// in a SQLite outbox until it is delivered: with --background it is recorded before
    /// its first attempt (so a killed process loses nothing), otherwise when its delivery
    /// failed. `outbox replay` sends the pending ones again; `--replay-outbox` on `send`
    /// and `run` does the same first. No resolved secret is stored: ${VAR} are read
    /// again from the environment of the replay.
    Outbox(outbox::OutboxCmd),
    /// Deliver the notifications runners publish to NATS JetStream (the `notifier.nats`
    /// channel) through the channels of the settings file, until SIGTERM or SIGINT.
    ///
    /// Every relay started with the same --nats, --stream and --consumer shares one
    /// durable pull consumer: each message goes to one of them. A message is acked only
    /// after every channel took it; a failure is negatively acked and redelivered later
    /// (--nak-delay, doubled per delivery, at most 60 s); after --max-deliver deliveries it
    /// is copied to the dead-letter subject and terminated. On SIGTERM/SIGINT the relay
    /// stops pulling, lets the deliveries in progress finish (--grace), and leaves the rest
    /// to another relay. Exit status: 0 after a graceful stop, 2 when it cannot start.
    #[command(after_help = "\
Examples:
  notifier --settings central.yaml relay --nats nats://n1:4222,nats://n2:4222 --stream CHAOS
  notifier --settings central.yaml relay --nats nats://127.0.0.1:4222 --stream CHAOS \\
      --consumer relays --max-deliver 5 --metrics 127.0.0.1:9464")]
    Relay(RelayArgs),
    /// Print a shell completion script, generated from these very definitions.
    #[command(after_help = "\
Examples:
  notifier completions bash > ~/.local/share/bash-completion/completions/notifier
  notifier completions zsh > ~/.zfunc/_notifier      # with fpath+=~/.zfunc before compinit
  notifier completions fish > ~/.config/fish/completions/notifier.fish
  notifier completions powershell >> $PROFILE
  echo 'eval (notifier completions elvish | slurp)' >> ~/.config/elvish/rc.elv")]
    Completions(CompletionsArgs),
    /// Print a manual page (roff), or write every page to a directory.
    ///
    /// Without arguments, notifier(1); with a subcommand's name, that subcommand's page
    /// (notifier-check(1), …).
    #[command(after_help = "\
Examples:
  notifier man | man -l -
  notifier man check | man -l -
  notifier man --dir /usr/local/share/man/man1")]
    Man(ManArgs),
}

/// `notifier relay` options.
#[derive(Debug, Args)]
pub struct RelayArgs {
    /// NATS servers: `nats://host:port` or `tls://host:port`, comma-separated.
    #[arg(long, value_name = "URL")]
    pub nats: String,
    /// The JetStream stream the runners publish into (created when missing, file storage).
    #[arg(long, value_name = "NAME")]
    pub stream: String,
    /// Subjects the stream captures when the relay creates it [default: chaos.>].
    #[arg(long = "subject", value_name = "SUBJECT")]
    pub subjects: Vec<String>,
    /// The durable consumer every relay shares.
    #[arg(long, value_name = "NAME", default_value = "notifier-relay")]
    pub consumer: String,
    /// Deliveries of one message before it is dead-lettered.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_deliver: u16,
    /// The dead-letter subject [default: notifier.dead.<STREAM>].
    #[arg(long, value_name = "SUBJECT")]
    pub dead_letter: Option<String>,
    /// Messages delivered at once (the events of one experiment run keep their order).
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// First delay before a failed message is redelivered, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0, value_parser = positive_seconds)]
    pub nak_delay: f64,
    /// How long JetStream waits for an ack before redelivering a message (a crashed
    /// relay's messages come back after it), in seconds [default: --event-budget + 30].
    #[arg(long, value_name = "SECONDS", value_parser = positive_seconds)]
    pub ack_wait: Option<f64>,
    /// Longest delivery of one message to every channel, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, value_parser = positive_seconds)]
    pub event_budget: f64,
    /// Time the deliveries in progress get to finish on SIGTERM/SIGINT, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = positive_seconds)]
    pub grace: f64,
    /// Print a summary line on stderr this often, in seconds (0: only at the end).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub summary_every: f64,
    /// A `.creds` file (user JWT and NKey seed). A token or a user and password come from
    /// $NATS_TOKEN, or $NATS_USER and $NATS_PASSWORD, or the URL (`nats://user:pass@host`).
    #[arg(long, value_name = "FILE")]
    pub creds: Option<PathBuf>,
    /// A PEM file of root certificates to trust for TLS (besides the system's); implies TLS.
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,
    /// A client certificate (PEM) for servers that verify clients; implies TLS.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve Prometheus metrics on http://ADDR/metrics.
    #[arg(long, value_name = "ADDR", value_parser = relay::parse_addr)]
    pub metrics: Option<std::net::SocketAddr>,
    /// The global `--python`, copied here by `main`.
    #[arg(skip)]
    pub python: Option<PathBuf>,
}

/// `notifier schema` options.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write the schema to this file (parent directories are created) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `notifier completions` options.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_name = "SHELL", value_enum)]
    pub shell: clap_complete::Shell,
}

/// `notifier man` options.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print, e.g. `check` [default: notifier(1) itself].
    #[arg(value_name = "SUBCOMMAND", conflicts_with = "dir")]
    pub subcommand: Option<String>,
    /// Write notifier.1 and one page per subcommand (notifier-check.1, …) into this
    /// directory (created if needed) instead of printing one page.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `notifier run` options.
#[derive(Debug, Args)]
pub struct RunCmd {
    /// What to run.
    #[command(flatten)]
    pub run: notifier_runner::cli::RunArgs,
    /// How to deliver the notifications.
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

/// `notifier validate` options.
#[derive(Debug, Args)]
pub struct ValidateCmd {
    /// What to validate.
    #[command(flatten)]
    pub validate: notifier_runner::cli::ValidateArgs,
    /// How to deliver the notifications.
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

/// Delivery options shared by `send`, `run` and `validate`.
#[derive(Debug, Clone, Args)]
pub struct DeliveryArgs {
    /// Deliver in the background: the flow never waits for a channel; what is still
    /// queued at the end gets up to --flush-cap seconds.
    #[arg(long)]
    pub background: bool,
    /// Longest time one event may block the flow in sequential mode, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, value_parser = positive_seconds)]
    pub event_budget: f64,
    /// Longest wait for queued notifications at the end (with --background), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = positive_seconds)]
    pub flush_cap: f64,
    /// Where undelivered notifications are kept.
    #[command(flatten)]
    pub outbox: outbox::OutboxLocation,
    /// First replay what the outbox holds as pending (`notifier outbox replay`), then
    /// send.
    #[arg(long, conflicts_with = "no_outbox")]
    pub replay_outbox: bool,
    /// The global `--python`, copied here by `main` for the commands that deliver.
    #[arg(skip)]
    pub python: Option<PathBuf>,
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err("expected a number of seconds greater than 0 and at most 3600".into()),
    }
}

impl DeliveryArgs {
    /// Applies the options to a notifier builder.
    pub fn apply(&self, builder: notifier::NotifierBuilder) -> notifier::NotifierBuilder {
        builder
            .background(self.background)
            .event_budget(std::time::Duration::from_secs_f64(self.event_budget))
            .flush_cap(self.flush_cap())
            .python(self.python.clone())
    }

    /// `--flush-cap` as a duration.
    pub fn flush_cap(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.flush_cap)
    }
}

/// `notifier send` options.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The event: run-started, run-completed, run-failed, run-deviated, validate-started,
    /// validate-completed, validate-failed, discovery-started, discovery-completed,
    /// discovery-failed, init-started, init-completed or init-failed.
    #[arg(value_name = "EVENT", value_parser = parse_event)]
    pub event: notifier::Event,
    /// The payload: JSON text, @FILE, or @- for stdin [default: null].
    #[arg(long, value_name = "JSON|@FILE")]
    pub payload: Option<String>,
    /// The error (the envelope's `error` key), as a string.
    #[arg(long, value_name = "MESSAGE")]
    pub error: Option<String>,
    /// Render --error as an exception of this kind: `An exception was raised: KIND('MESSAGE')`.
    #[arg(long, value_name = "KIND", requires = "error")]
    pub error_kind: Option<String>,
    /// Print each channel's request (method, URL, headers, and the body its template or
    /// format renders for this event; secrets masked) without sending.
    #[arg(long)]
    pub dry_run: bool,
    /// Delivery options.
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

fn parse_event(s: &str) -> Result<notifier::Event, String> {
    s.parse::<notifier::Event>().map_err(|e| {
        match notifier::schema::suggest::did_you_mean(s, notifier::Event::names()) {
            Some(m) => format!("unknown event `{s}`; did you mean `{m}`?"),
            None => e.to_string(),
        }
    })
}

/// `notifier formats` options.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  notifier formats
  notifier formats show teams > card.j2
  notifier formats show pagerduty --render run-failed")]
pub struct FormatsArgs {
    /// Without a subcommand: list the formats.
    #[command(subcommand)]
    pub command: Option<FormatsCommand>,
}

/// `notifier formats` subcommands.
#[derive(Debug, Subcommand)]
pub enum FormatsCommand {
    /// Print a format's template (Jinja2), to copy into a channel's `template:`.
    Show {
        /// The format: chaostoolkit, cloudevents, slack, teams, discord, google-chat,
        /// mattermost, pagerduty or opsgenie.
        #[arg(value_name = "NAME")]
        name: String,
        /// Print the body it makes for a sample of this event instead.
        #[arg(long, value_name = "EVENT", value_parser = parse_event)]
        render: Option<notifier::Event>,
    },
}

/// `notifier codegen` options.
#[derive(Debug, Args)]
pub struct CodegenArgs {
    /// The settings file.
    #[arg(value_name = "SETTINGS")]
    pub settings: PathBuf,
    /// Map a plugin module to a Rust module path, e.g. `acme.hooks=crate::hooks`
    /// (repeatable; built-in plugins are mapped already).
    #[arg(long = "plugin", value_name = "MODULE=RUST_PATH")]
    pub plugins: Vec<String>,
    /// Name of the generated module.
    #[arg(long, value_name = "NAME", default_value = "notifications")]
    pub module: String,
}

/// `notifier check` options.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  notifier check                                  # ~/.chaostoolkit/settings.yaml
  notifier check settings.yaml other.yaml
  notifier check --format github --deny-warnings ci/settings.yaml
  notifier check --format json settings.yaml | jq '.[] | select(.severity == \"error\")'
  notifier check --format sarif ci/settings.yaml > notifier.sarif")]
pub struct CheckArgs {
    /// Settings files to check [default: the --settings file, else ~/.chaostoolkit/settings.yaml].
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format: `human` (rustc-style with source lines), `json` (an array of
    /// {file, line, column, pointer, severity, code, message, help, run_time}), `github`
    /// (workflow annotations for GitHub Actions) or `sarif` (SARIF 2.1.0 for code scanning).
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
    /// SARIF 2.1.0: one rule per diagnostic code, results with their regions and fixes,
    /// for GitHub code scanning and other SARIF viewers.
    Sarif,
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
