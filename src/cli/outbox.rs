//! `notifier outbox list | replay | drop`, `--replay-outbox`, and where the outbox is.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use notifier::outbox::{Entry, Filter, Limits, SqliteOutbox, State, StoreError, fingerprint};
use notifier::{Envelope, Event, Notifier, Outcome, PluginRegistry};
use serde_json::Value;

use super::DeliveryArgs;

/// The environment variable that chooses the outbox: a path, or `off`.
pub const OUTBOX_ENV: &str = "NOTIFIER_OUTBOX";
/// Most entries the outbox keeps (default 10 000).
pub const MAX_ENTRIES_ENV: &str = "NOTIFIER_OUTBOX_MAX_ENTRIES";
/// Most envelope bytes the outbox keeps (default 64 MiB).
pub const MAX_BYTES_ENV: &str = "NOTIFIER_OUTBOX_MAX_BYTES";

/// The caps from the environment, else the defaults (an unreadable value is a warning).
fn limits() -> Limits {
    let read = |name: &str, default: u64| match std::env::var(name) {
        Err(_) => default,
        Ok(v) => v.trim().parse::<u64>().unwrap_or_else(|_| {
            eprintln!("warning: {name}={v:?} is not a whole number; using {default}");
            default
        }),
    };
    Limits {
        max_entries: read(MAX_ENTRIES_ENV, notifier::outbox::DEFAULT_MAX_ENTRIES),
        max_bytes: read(MAX_BYTES_ENV, notifier::outbox::DEFAULT_MAX_BYTES),
    }
}

/// Where the outbox of `send`, `run` and `validate` is.
#[derive(Debug, Clone, Default, Args)]
pub struct OutboxLocation {
    /// Keep undelivered notifications in this SQLite file [default: $NOTIFIER_OUTBOX,
    /// else $XDG_STATE_HOME/notifier/outbox.sqlite3, else
    /// ~/.local/state/notifier/outbox.sqlite3]. Only for channels of a settings file.
    /// It keeps at most 10 000 entries and 64 MiB of envelopes
    /// ($NOTIFIER_OUTBOX_MAX_ENTRIES, $NOTIFIER_OUTBOX_MAX_BYTES); delivered entries are
    /// pruned first, then new ones are not recorded (with a warning).
    #[arg(long, value_name = "PATH", conflicts_with = "no_outbox")]
    pub outbox: Option<PathBuf>,
    /// Do not keep notifications in an outbox (or set NOTIFIER_OUTBOX=off).
    #[arg(long)]
    pub no_outbox: bool,
}

impl OutboxLocation {
    /// The outbox file, or `None` when it is turned off.
    pub fn path(&self) -> Option<Result<PathBuf, StoreError>> {
        if self.no_outbox {
            return None;
        }
        if let Some(path) = &self.outbox {
            return Some(Ok(path.clone()));
        }
        match std::env::var_os(OUTBOX_ENV) {
            Some(v) if matches!(v.to_str(), Some("off" | "0" | "false" | "no" | "")) => None,
            Some(v) => Some(Ok(PathBuf::from(v))),
            None => Some(notifier::outbox::default_path()),
        }
    }

    /// Opens the outbox for delivering: a problem (corrupt, locked, no location) is a
    /// warning and the notifications go on without it.
    pub fn open_for_delivery(&self) -> Option<Arc<SqliteOutbox>> {
        let opened = self.path()?.and_then(SqliteOutbox::open);
        match opened {
            Ok(store) => Some(Arc::new(store.with_limits(limits()))),
            Err(e) => {
                tracing::warn!(target: "chaostoolkit", "outbox unavailable, notifications go on without it: {e}");
                eprintln!("warning: outbox unavailable, notifications go on without it: {e}");
                None
            }
        }
    }
}

/// `notifier outbox` options.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  notifier outbox list
  notifier outbox list --format json | jq '.[] | .id'
  notifier outbox replay --dry-run
  notifier outbox replay --event run-failed
  notifier outbox drop --delivered

At-least-once: a notification is recorded before its first attempt (--background) or when
its delivery failed (sequential), and marked delivered after a 2xx. A receiver can get it
twice only if the process was killed after the receiver answered and before the mark, or
the answer was lost; signing channels send the same webhook-id every time, so receivers
can drop the duplicate.")]
pub struct OutboxCmd {
    /// The outbox file [default: $NOTIFIER_OUTBOX, else
    /// $XDG_STATE_HOME/notifier/outbox.sqlite3, else ~/.local/state/notifier/outbox.sqlite3].
    #[arg(long, global = true, value_name = "PATH")]
    pub outbox: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: OutboxCommand,
}

/// `notifier outbox` subcommands.
#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List stored notifications: the pending ones (undelivered, or being delivered by a
    /// running command), or all with --all.
    List {
        /// Output format: `human` (one line each) or `json` (an array of objects).
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        /// Also list delivered entries (kept until pruned or dropped).
        #[arg(long)]
        all: bool,
    },
    /// Send the pending notifications again, each to its channel, loaded again from its
    /// settings file (so ${VAR} are read from this environment). An entry whose channel
    /// changed or disappeared since is reported and left pending, never guessed.
    /// Exit status: 0 when every replayed entry was delivered, 1 otherwise.
    Replay {
        /// Only this channel: its number in the settings file, or a part of its label.
        #[arg(long, value_name = "N|TEXT")]
        channel: Option<String>,
        /// Only this event.
        #[arg(long, value_name = "EVENT")]
        event: Option<String>,
        /// Print what would be replayed, without sending.
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove entries: by id, the delivered ones, or all.
    Drop {
        /// Ids as `outbox list` shows them.
        #[arg(value_name = "ID", required_unless_present_any = ["delivered", "all"], conflicts_with_all = ["delivered", "all"])]
        ids: Vec<String>,
        /// Remove the delivered entries.
        #[arg(long, conflicts_with = "all")]
        delivered: bool,
        /// Remove every entry, pending ones included.
        #[arg(long)]
        all: bool,
    },
}

/// Output formats of `outbox list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// One line per entry, and a total.
    Human,
    /// A JSON array.
    Json,
}

/// Why an `outbox` command failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboxCmdError {
    /// The outbox cannot be opened or read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the output failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Runs `notifier outbox …`; returns the exit code.
pub fn run(cmd: &OutboxCmd, python: Option<PathBuf>) -> Result<u8, OutboxCmdError> {
    let location = OutboxLocation { outbox: cmd.outbox.clone(), no_outbox: false };
    let path = location.path().unwrap_or_else(notifier::outbox::default_path)?;
    let store = SqliteOutbox::open(path)?;
    let mut out = io::stdout().lock();
    match &cmd.command {
        OutboxCommand::List { format, all } => {
            let entries = store.list(&Filter::default(), *all)?;
            list(&store, &entries, *format, &mut out)?;
            Ok(0)
        }
        OutboxCommand::Replay { channel, event, dry_run } => {
            let filter = Filter { channel: channel.clone(), event: event.clone() };
            let summary = replay(&store, &filter, *dry_run, python, &mut out)?;
            Ok(if summary.failed > 0 { 1 } else { 0 })
        }
        OutboxCommand::Drop { ids, delivered: _, all } => {
            let n = if !ids.is_empty() { store.drop_ids(ids)? } else { store.drop_where(*all)? };
            writeln!(out, "dropped {n} entr{} from {}", if n == 1 { "y" } else { "ies" }, store.path().display())?;
            Ok(if !ids.is_empty() && n < ids.len() { 1 } else { 0 })
        }
    }
}

fn time(ts: f64) -> String {
    chrono::DateTime::from_timestamp_micros((ts * 1e6) as i64)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| format!("{ts}"))
}

fn list(store: &SqliteOutbox, entries: &[Entry], format: ListFormat, out: &mut impl Write) -> io::Result<()> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64();
    if format == ListFormat::Json {
        let values: Vec<Value> = entries
            .iter()
            .map(|e| {
                let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
                if let Value::Object(map) = &mut v {
                    map.insert("in_flight".into(), Value::Bool(e.in_flight(now)));
                    map.insert("envelope".into(), serde_json::from_slice(&e.envelope).unwrap_or(Value::Null));
                }
                v
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&values).unwrap_or_else(|_| "[]".into()))?;
        return Ok(());
    }
    for e in entries {
        let state = match e.state {
            State::Delivered => "delivered",
            State::Pending if e.in_flight(now) => "in flight",
            State::Pending => "pending",
        };
        let error = e.last_error.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
        // Only HTTP attempts are counted; a plugin channel's would read "0 attempts".
        let attempts = match e.attempts {
            0 => String::new(),
            n => format!(" ({n} HTTP attempt(s))"),
        };
        writeln!(
            out,
            "{}  {} UTC  {}  {state}  #{} {}{attempts}{error}",
            e.id,
            time(e.created),
            e.event,
            e.channel + 1,
            e.label,
        )?;
    }
    let pending = entries.iter().filter(|e| e.state == State::Pending).count();
    writeln!(out, "{pending} pending notification(s) in {}", store.path().display())
}

/// What a replay did.
#[derive(Debug, Default)]
pub struct ReplaySummary {
    /// Delivered now.
    pub delivered: usize,
    /// Still pending (failed again, channel changed or gone).
    pub failed: usize,
}

/// The channels of one settings file, for a replay.
struct Loaded {
    notifier: Notifier,
    fingerprints: Vec<String>,
}

fn load(settings: &Path, python: Option<PathBuf>) -> Result<Loaded, String> {
    let loaded = notifier::load_channels(settings, &PluginRegistry::new()).map_err(|e| e.to_string())?;
    let fingerprints = loaded.channels.iter().map(fingerprint).collect();
    let builder = Notifier::builder(loaded.channels).python(python);
    Ok(Loaded { notifier: builder.build(), fingerprints })
}

/// The stored wire bytes as an envelope.
fn envelope(wire: &[u8]) -> Option<Envelope> {
    let v: Value = serde_json::from_slice(wire).ok()?;
    let event: Event = v.get("name")?.as_str()?.parse().ok()?;
    let ts = v.get("ts")?.as_f64()?;
    Some(Envelope::at(event, v.get("payload").cloned().unwrap_or(Value::Null), v.get("error").cloned(), ts))
}

/// Replays the pending entries matching `filter`; prints one line per entry.
pub fn replay(
    store: &SqliteOutbox,
    filter: &Filter,
    dry_run: bool,
    python: Option<PathBuf>,
    out: &mut impl Write,
) -> Result<ReplaySummary, OutboxCmdError> {
    let entries = if dry_run {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64();
        store.list(filter, false)?.into_iter().filter(|e| !e.in_flight(now)).collect()
    } else {
        store.claim(filter)?
    };
    let mut by_file: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for e in entries {
        by_file.entry(e.settings.clone()).or_default().push(e);
    }
    let mut summary = ReplaySummary::default();
    for (settings, entries) in by_file {
        let loaded = load(Path::new(&settings), python.clone());
        for e in entries {
            let result = match &loaded {
                Err(reason) => Err(format!("{settings} cannot be loaded: {reason}")),
                Ok(l) => find(l, &e, &settings),
            };
            let (index, l) = match result {
                Ok(found) => found,
                Err(reason) => {
                    writeln!(out, "{} {} → #{} {}: not replayed: {reason}", e.id, e.event, e.channel + 1, e.label)?;
                    if !dry_run {
                        store.mark_failed(&e.id, &reason, 0)?;
                    }
                    summary.failed += 1;
                    continue;
                }
            };
            if dry_run {
                writeln!(out, "{} {} → #{} {}: would be replayed", e.id, e.event, index + 1, e.label)?;
                continue;
            }
            let Some(env) = envelope(&e.envelope) else {
                let reason = "the stored envelope is unreadable".to_owned();
                writeln!(out, "{} {}: not replayed: {reason}", e.id, e.event)?;
                store.mark_failed(&e.id, &reason, 0)?;
                summary.failed += 1;
                continue;
            };
            let outcome = l.notifier.redeliver(index, env, e.envelope.clone(), e.message_id.clone());
            let Some(outcome) = outcome else { continue };
            writeln!(out, "{} {} → {outcome}", e.id, e.event)?;
            match &outcome.outcome {
                Outcome::Delivered { .. } | Outcome::NoBody => {
                    store.mark_delivered(&e.id, outcome.attempts.max(1))?;
                    summary.delivered += 1;
                }
                Outcome::Failed { reason, .. } | Outcome::Skipped { reason } => {
                    store.mark_failed(&e.id, reason, outcome.attempts.max(1))?;
                    summary.failed += 1;
                }
                Outcome::Filtered | Outcome::Queued => {}
            }
        }
    }
    let verb = if dry_run { "would replay" } else { "replayed" };
    if !dry_run {
        writeln!(out, "{verb}: {} delivered, {} still pending", summary.delivered, summary.failed)?;
    }
    Ok(summary)
}

/// The channel of an entry: at its position if its fingerprint still matches, else the
/// one channel of the file with the same fingerprint (it moved); else why not.
fn find<'a>(l: &'a Loaded, e: &Entry, settings: &str) -> Result<(usize, &'a Loaded), String> {
    if l.fingerprints.get(e.channel) == Some(&e.fingerprint) {
        return Ok((e.channel, l));
    }
    let moved: Vec<usize> =
        l.fingerprints.iter().enumerate().filter(|(_, f)| **f == e.fingerprint).map(|(i, _)| i).collect();
    match moved[..] {
        [index] => Ok((index, l)),
        _ if e.channel < l.fingerprints.len() => Err(format!(
            "channel #{} of {settings} changed since the notification was recorded (drop it with \
             `notifier outbox drop {}`, or restore the channel)",
            e.channel + 1,
            e.id
        )),
        _ => Err(format!(
            "channel #{} is no longer in {settings} (drop it with `notifier outbox drop {}`)",
            e.channel + 1,
            e.id
        )),
    }
}

/// `--replay-outbox`: replays what is pending before the command sends anything new,
/// printing to stderr.
pub fn replay_first(delivery: &DeliveryArgs) {
    let Some(store) = delivery.outbox.open_for_delivery() else { return };
    let mut err = io::stderr().lock();
    if let Err(e) = replay(&store, &Filter::default(), false, delivery.python.clone(), &mut err) {
        let _ = writeln!(err, "warning: outbox replay failed: {e}");
    }
}
