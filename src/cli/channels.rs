//! Which channels a command notifies: the settings file, or the embedded default.

use std::path::Path;

use notifier::{DeliveryReport, Envelope, LoadError, Notifier, PluginRegistry};

use super::DeliveryArgs;

notifier::settings! {
    /// The embedded default settings (`src/default_settings.yaml`): events as JSON lines
    /// on stdout. Used when no settings file is given or found.
    pub mod embedded {
        path: "src/default_settings.yaml",
    }
}

/// The channels of one command.
pub enum Channels {
    /// Loaded from a settings file at run time.
    Loaded(Notifier),
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
                "no settings file at {}; using the embedded default (events on stdout)",
                settings.display()
            );
            return Ok(Channels::Embedded(embedded::Notifications::with(|b| delivery.apply(b))));
        }
        let loaded = notifier::load_channels(settings, &PluginRegistry::new())?;
        for w in &loaded.warnings {
            tracing::warn!(target: "chaostoolkit", "{}", w.one_line());
        }
        Ok(Channels::Loaded(delivery.apply(Notifier::builder(loaded.channels)).build()))
    }

    /// The notifier (flush, stats, describe).
    pub fn notifier(&self) -> &Notifier {
        match self {
            Channels::Loaded(n) => n,
            Channels::Embedded(e) => e.notifier(),
        }
    }

    /// Sends one envelope (through the unrolled dispatch for the embedded table).
    pub fn notify(&self, envelope: Envelope) -> DeliveryReport {
        match self {
            Channels::Loaded(n) => n.notify_envelope(envelope),
            Channels::Embedded(e) => e.notify_envelope(envelope),
        }
    }

    /// Where the channels come from, for messages.
    pub fn source(&self, settings: &Path) -> String {
        match self {
            Channels::Loaded(_) => settings.display().to_string(),
            Channels::Embedded(_) => "the embedded default settings".into(),
        }
    }
}
