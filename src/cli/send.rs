//! `notifier send`: one event through the configured channels.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use notifier::schema::{FileKind, ReadError, SourceFile};
use notifier::{Envelope, Event, LoadError, Outcome};

use super::channels::Channels;
use serde_json::Value;

use super::SendArgs;
use super::summary::Summary;

/// Why `send` could not start.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The `--payload @FILE` (or `@-`) cannot be read, is too large or is not UTF-8.
    #[error("--payload: {0}")]
    PayloadFile(#[from] ReadError),
    /// `--payload` is not JSON.
    #[error("--payload: not valid JSON: {0}")]
    PayloadJson(#[from] serde_json::Error),
    /// The settings file is unusable.
    #[error(transparent)]
    Settings(#[from] LoadError),
}

/// Reads `--payload`: inline JSON, `@file` or `@-` (stdin), files and stdin through the
/// bounded reader ([`FileKind::Payload`]: 16 MiB at most).
pub fn read_payload(arg: Option<&str>) -> Result<Value, SendError> {
    let Some(arg) = arg else { return Ok(Value::Null) };
    let source = match arg.strip_prefix('@') {
        Some("-") => SourceFile::read_from(Path::new("<stdin>"), io::stdin().lock(), FileKind::Payload)?,
        Some(path) => SourceFile::read_as(Path::new(path), FileKind::Payload)?,
        None => return Ok(serde_json::from_str(arg)?),
    };
    Ok(serde_json::from_str(&source.text)?)
}

/// Runs `notifier send`; returns the exit code (0 delivered, 1 a channel failed).
pub fn run(args: &SendArgs, settings: &Path, explicit: bool, log_file: Option<&PathBuf>) -> Result<u8, SendError> {
    let payload = read_payload(args.payload.as_deref())?;
    let error = args.error.as_ref().map(|msg| match &args.error_kind {
        Some(kind) => notifier::exception(kind, msg),
        None => Value::String(msg.clone()),
    });
    if args.delivery.replay_outbox && !args.dry_run {
        super::outbox::replay_first(&args.delivery);
    }
    // A dry run sends nothing, so it keeps nothing either.
    let mut delivery = args.delivery.clone();
    delivery.outbox.no_outbox |= args.dry_run;
    let channels = Channels::load(settings, explicit, &delivery)?;
    let notifier = channels.notifier();
    let envelope = Envelope::new(args.event, payload, error);
    if notifier.is_empty() {
        println!("no notification channel in {}", channels.source(settings));
        return Ok(0);
    }
    if args.dry_run {
        let mut out = io::stdout().lock();
        for (index, text) in notifier.describe(&envelope) {
            let _ = writeln!(out, "--- channel #{} ---\n{}", index + 1, text.trim_end());
        }
        return Ok(0);
    }
    let event: Event = envelope.event;
    let report = channels.notify(envelope);
    let mut summary = Summary::default();
    let mut outcomes = report.channels;
    if args.delivery.background {
        let (queued, mut done): (Vec<_>, Vec<_>) =
            outcomes.into_iter().partition(|o| matches!(o.outcome, Outcome::Queued));
        let queued = queued.into_iter().map(|o| (event, o)).collect();
        done.extend(channels.settle(queued, args.delivery.flush_cap()).into_iter().map(|(_, o)| o));
        done.sort_by_key(|o| o.channel);
        outcomes = done;
    }
    // Not locked while delivering: a plugin may write to stdout (`notifier.jsonl` with `-`).
    let mut out = io::stdout().lock();
    for o in &outcomes {
        let _ = writeln!(out, "{o}");
    }
    summary.add(event, outcomes);
    let _ = out.flush();
    let _ = summary.print(&mut io::stderr(), log_file.map(PathBuf::as_path));
    channels.outbox_hint(summary.attempted_and_failed(), &mut io::stderr());
    Ok(if summary.failed() > 0 { 1 } else { 0 })
}
