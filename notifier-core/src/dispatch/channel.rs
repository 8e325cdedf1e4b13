//! A channel definition resolved once, when the notifier is built: its `${VAR}`s read,
//! its HTTP target checked or its plugin configuration parsed, or the reason it cannot
//! be used (then every event reports it as skipped).

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::channel::{ChannelDef, ChannelKind, MAX_RETRIES};
use crate::plugin::PluginConfig;
use crate::redact::Redactor;
use crate::report::{ChannelOutcome, FailureKind, Outcome};
use crate::transport::{HttpTarget, MAX_BACKOFF};

pub(super) struct Channel {
    pub(super) index: usize,
    pub(super) def: ChannelDef,
    /// Shared by every outcome of this channel (and freed with the last of them).
    pub(super) label: Arc<str>,
    pub(super) ready: Result<Ready, String>,
    /// Plugin calls of this channel still running, abandoned ones included.
    pub(super) plugin_calls: Arc<AtomicUsize>,
    /// Set when a delivery finds the channel unusable for good (its Python module or
    /// function went missing): from then on it is skipped like a channel that could not
    /// be built.
    pub(super) unusable: OnceLock<String>,
}

pub(super) enum Ready {
    Http(Arc<HttpTarget>),
    /// The configuration carries the channel's redactor (`PluginConfig::redact`).
    Plugin {
        config: Arc<PluginConfig>,
    },
    /// The entry as written, `${VAR}`s resolved, with its redactor.
    #[cfg(feature = "python")]
    Python {
        entry: Arc<PluginConfig>,
    },
}

impl Channel {
    pub(super) fn resolve(
        index: usize,
        def: ChannelDef,
        lookup: &(dyn Fn(&str) -> Option<String> + Send + Sync),
    ) -> Channel {
        let label: Arc<str> = def.label().into();
        let ready = match &def.kind {
            ChannelKind::Http(h) => {
                HttpTarget::resolve(h, lookup).map(|t| Ready::Http(Arc::new(t))).map_err(|e| e.to_string())
            }
            ChannelKind::Plugin(p) => {
                resolve_plugin_config(&p.config_json, lookup).map(|config| Ready::Plugin { config: Arc::new(config) })
            }
            #[cfg(feature = "python")]
            ChannelKind::Python(p) => {
                resolve_plugin_config(&p.entry_json, lookup).map(|entry| Ready::Python { entry: Arc::new(entry) })
            }
            #[cfg(not(feature = "python"))]
            ChannelKind::Python(p) => Err(format!(
                "`{}` is a Python plugin, and this program is built without Python plugins \
                 (notifier-core's `python` feature)",
                p.module
            )),
            ChannelKind::Skipped(s) => Err(s.reason.to_string()),
        };
        let channel = Channel { index, def, label, ready, plugin_calls: Arc::default(), unusable: OnceLock::new() };
        if let Err(reason) = &channel.ready {
            channel.warn_skipped(reason);
        }
        channel
    }

    /// Makes the channel unusable for the life of the notifier (its Python module cannot
    /// be imported…): every event it would receive is reported as skipped.
    #[cfg_attr(not(feature = "python"), allow(dead_code))]
    pub(super) fn disable(&mut self, reason: String) {
        self.warn_skipped(&reason);
        self.ready = Err(reason);
    }

    /// Why the channel cannot be used, if it cannot: it could not be built, or a delivery
    /// found it unusable.
    pub(super) fn unusable(&self) -> Option<&str> {
        match &self.ready {
            Err(reason) => Some(reason),
            Ok(_) => self.unusable.get().map(String::as_str),
        }
    }

    /// Marks the channel unusable from now on (once; the first reason wins), with the
    /// warning a channel that could not be built gets.
    #[cfg_attr(not(feature = "python"), allow(dead_code))]
    pub(super) fn became_unusable(&self, reason: &str) {
        if self.unusable.set(reason.to_owned()).is_ok() {
            self.warn_skipped(reason);
        }
    }

    /// Says once, at WARN on the `chaostoolkit` target and naming its position, that the
    /// channel is skipped.
    fn warn_skipped(&self, reason: &str) {
        let o = &self.def.origin;
        tracing::warn!(
            target: "chaostoolkit",
            "{}:{}:{}: notification channel #{} ({}) is skipped: {reason}; the other channels still deliver",
            o.file,
            o.line,
            o.column,
            self.index + 1,
            self.label,
        );
    }

    /// The outcome of a delivery that did not report back by its deadline.
    pub(super) fn overran(&self, started: Instant) -> ChannelOutcome {
        self.outcome(
            Outcome::Failed { kind: FailureKind::Timeout, reason: "delivery did not finish within its budget".into() },
            0,
            started.elapsed(),
        )
    }

    /// The outcome of a channel that cannot be used, for every event it would receive.
    pub(super) fn skipped(&self, reason: &str) -> ChannelOutcome {
        let o = &self.def.origin;
        let reason = format!("{}:{}:{}: {reason}", o.file, o.line, o.column);
        self.outcome(Outcome::Skipped { reason }, 0, Duration::ZERO)
    }

    /// Upper bound of one delivery on this channel, all attempts included.
    pub(super) fn bound(&self) -> Duration {
        let retries = u32::from(self.def.retries.min(MAX_RETRIES));
        self.def.timeout.saturating_mul(retries + 1) + MAX_BACKOFF.saturating_mul(retries)
    }

    pub(super) fn outcome(&self, outcome: Outcome, attempts: u32, elapsed: Duration) -> ChannelOutcome {
        ChannelOutcome { channel: self.index, label: self.label.clone(), outcome, attempts, elapsed }
    }
}

/// Parses a plugin's channel entry and resolves `${VAR}` in its string values (not in
/// `type`, `module`, `func` and `events`).
pub(super) fn resolve_plugin_config(
    json: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<PluginConfig, String> {
    let entry: Map<String, Value> =
        serde_json::from_str(json).map_err(|e| format!("invalid plugin configuration: {e}"))?;
    let mut redactor = Redactor::default();
    let mut resolved = Map::new();
    for (key, value) in entry {
        let value = if matches!(key.as_str(), "type" | "module" | "func" | "events") {
            value
        } else {
            crate::template::resolve_json(value, &key, lookup, &mut redactor)?
        };
        resolved.insert(key, value);
    }
    Ok(PluginConfig::with_redactor(resolved, redactor))
}
