//! Plugin channels: Rust functions standing in for Chaos Toolkit's Python plugins.
//!
//! A plugin receives the whole channel entry (extras included, `${VAR}` resolved) and its
//! own reference to the envelope, like the reference's `func(channel, event_payload)`.
//! Plugins cannot change what other channels see: the envelope is shared immutably.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::envelope::Envelope;
use crate::redact::{MASK, Redactor, is_sensitive_name};

/// The signature of a plugin function.
pub type PluginFn = fn(&PluginConfig, &Envelope) -> Result<(), PluginError>;

/// A plugin channel's configuration: the whole `notifications:` entry.
///
/// `Debug` masks the values of credential-like keys and every value that came from a
/// `${VAR}` (see [`redacted`](PluginConfig::redacted)).
#[derive(Clone, Default, PartialEq)]
pub struct PluginConfig {
    entry: Map<String, Value>,
    redactor: Redactor,
}

impl PluginConfig {
    /// Wraps a channel entry.
    pub fn new(entry: Map<String, Value>) -> PluginConfig {
        PluginConfig { entry, redactor: Redactor::default() }
    }

    /// Wraps a channel entry whose resolved secrets (`${VAR}` values) `redactor` knows,
    /// so that [`redacted`](PluginConfig::redacted) and `Debug` mask them wherever they are.
    pub fn with_redactor(entry: Map<String, Value>, redactor: Redactor) -> PluginConfig {
        PluginConfig { entry, redactor }
    }

    /// Masks this channel's secrets in `text` (for a plugin's own messages).
    pub fn redact(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    /// The whole entry, including `type`, `module`, `func`, `events` and the extras.
    pub fn entry(&self) -> &Map<String, Value> {
        &self.entry
    }

    /// One key of the entry.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entry.get(key)
    }

    /// A string key of the entry.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.entry.get(key).and_then(Value::as_str)
    }

    /// The entry deserialised into a typed configuration.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_value(Value::Object(self.entry.clone())).map_err(|e| PluginError::Config(e.to_string()))
    }
}

impl PluginConfig {
    /// The entry as JSON with the values of credential-like keys (`token`, `*secret*`,
    /// `password`, …, at any depth) masked, and every resolved `${VAR}` value masked
    /// wherever it appears.
    pub fn redacted(&self) -> Value {
        redact_value(&Value::Object(self.entry.clone()), &self.redactor)
    }
}

fn redact_value(value: &Value, redactor: &Redactor) -> Value {
    match value {
        Value::String(s) => Value::String(redactor.redact(s)),
        Value::Array(items) => Value::Array(items.iter().map(|v| redact_value(v, redactor)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_sensitive_name(k) { Value::String(MASK.into()) } else { redact_value(v, redactor) };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

impl fmt::Debug for PluginConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PluginConfig({})", self.redacted())
    }
}

/// Why a plugin call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// The channel entry lacks something the plugin needs, or has a wrong type.
    #[error("invalid plugin configuration: {0}")]
    Config(String),
    /// The plugin could not deliver (its own transport failed, the remote refused…).
    #[error("{0}")]
    Failed(String),
}

impl PluginError {
    /// A delivery failure with a message.
    pub fn failed(message: impl fmt::Display) -> PluginError {
        PluginError::Failed(message.to_string())
    }
}
