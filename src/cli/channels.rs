//! Which channels a command notifies: the settings file, or the embedded default.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use notifier::{
    ChannelOutcome, DeliveryReport, Envelope, Event, FailureKind, LoadError, Notifier, Outcome, PluginRegistry,
};

use super::DeliveryArgs;

notifier::settings! {
    /// The embedded default settings (`src/default_settings.yaml`): one short line per
    /// event on stderr (`notifier.console`), standard output untouched. Used when no
    /// settings file is given or found.
    pub mod embedded {
        path: "src/default_settings.yaml",
    }
}

/// The channels of one command.
pub enum Channels {
    /// Loaded from a settings file at run time, with the outbox file if there is one.
    Loaded(Notifier, Option<std::path::PathBuf>),
    /// The compiled-in default.
    Embedded(embedded::Notifications),
}

impl Channels {
    /// Loads the settings: `--settings FILE` strictly (a broken file is an error the user
    /// must see); else `~/.chaostoolkit/settings.yaml` if it exists; else the embedded default.
    pub fn load(settings: &Path, explicit: bool, delivery: &DeliveryArgs) -> Result<Channels, LoadError> {
        if !explicit && !settings.exists() {
            tracing::debug!(
                target: "chaostoolkit",
                "no settings file at {}; using the embedded default (one line per event on stderr)",
                settings.display()
            );
            return Ok(Channels::Embedded(embedded::Notifications::with(|b| delivery.apply(b))));
        }
        let loaded = notifier::load_channels(settings, &PluginRegistry::new())?;
        loaded.log_warnings();
        let mut builder = delivery.apply(Notifier::builder(loaded.channels));
        // The embedded default (lines on stderr) has nothing worth keeping.
        let mut path = None;
        if let Some(store) = delivery.outbox.open_for_delivery() {
            path = Some(store.path().to_owned());
            builder = builder.outbox(store);
        }
        Ok(Channels::Loaded(builder.build(), path))
    }

    /// The notifier (flush, stats, describe).
    pub fn notifier(&self) -> &Notifier {
        match self {
            Channels::Loaded(n, _) => n,
            Channels::Embedded(e) => e.notifier(),
        }
    }

    /// Sends one envelope (through the unrolled dispatch for the embedded table).
    pub fn notify(&self, envelope: Envelope) -> DeliveryReport {
        match self {
            Channels::Loaded(n, _) => n.notify_envelope(envelope),
            Channels::Embedded(e) => e.notify_envelope(envelope),
        }
    }

    /// Background mode, at the end of a command: waits up to `flush_cap` (once: dropping
    /// the notifier afterwards does not wait again) and returns what became of every
    /// `queued` outcome: its delivery report, or a failure when the cap cut it off.
    pub fn settle(&self, queued: Vec<(Event, ChannelOutcome)>, flush_cap: Duration) -> Vec<(Event, ChannelOutcome)> {
        let flushed = self.notifier().shutdown(flush_cap);
        let mut completed: HashMap<usize, usize> = HashMap::new();
        for (_, outcome) in &flushed.completed {
            *completed.entry(outcome.channel).or_default() += 1;
        }
        let mut settled = flushed.completed;
        // Each channel delivers in order: its first completions are its first queued
        // events, and the rest were cut off by the cap.
        for (event, mut outcome) in queued {
            let done = completed.entry(outcome.channel).or_default();
            if *done > 0 {
                *done -= 1;
                continue;
            }
            outcome.outcome = Outcome::Failed {
                kind: FailureKind::Abandoned,
                reason: format!(
                    "not delivered within --flush-cap {} s (still queued or in flight)",
                    flush_cap.as_secs_f64()
                ),
            };
            outcome.elapsed = flush_cap;
            settled.push((event, outcome));
        }
        settled
    }

    /// After the summary: where failed deliveries went, when some attempt failed and the
    /// outbox is on (a skipped channel is never attempted, so nothing of it is kept).
    pub fn outbox_hint(&self, failed: usize, err: &mut dyn std::io::Write) {
        if let (Channels::Loaded(_, Some(path)), true) = (self, failed > 0) {
            let _ = writeln!(
                err,
                "failed deliveries are kept in the outbox {}; `notifier outbox replay` sends them again",
                path.display()
            );
        }
    }

    /// Where the channels come from, for messages.
    pub fn source(&self, settings: &Path) -> String {
        match self {
            Channels::Loaded(..) => settings.display().to_string(),
            Channels::Embedded(_) => "the embedded default settings".into(),
        }
    }
}
