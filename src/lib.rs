//! Chaos Toolkit flow notifications, compiled from the settings file.
//!
//! Three ways to use the same compiler and runtime:
//!
//! * **run time**: [`Notifier::from_settings_file`](FromSettings::from_settings_file)
//!   loads `~/.chaostoolkit/settings.yaml` (or any file), validates it exactly like
//!   `notifier check`, and delivers events:
//!
//!   ```no_run
//!   use notifier::{Event, FromSettings, Notifier};
//!   use serde_json::json;
//!
//!   let notifier = Notifier::from_settings_file("chaostoolkit/settings.yaml");
//!   let report = notifier.notify(Event::RunStarted, json!({"title": "my experiment"}), None);
//!   for failure in report.failures() {
//!       eprintln!("{failure}");
//!   }
//!   ```
//! * **compile time**: the [`settings!`] macro embeds a settings file as a typed dispatch
//!   table; a broken file is a compile error pointing at its line.
//! * **CI**: the `notifier check` command.
//!
//! The envelope, the HTTP requests and the plugin calls are those of chaostoolkit-lib
//! 1.45; see the README for what is deliberately different (bounded delivery times,
//! validation, no redirect downgrades, secrets from the environment).
//!
//! # Features
//!
//! A program compiles only what it uses (docs/EMBEDDING.md has the numbers):
//!
//! | feature | gives | default |
//! |---|---|---|
//! | (none) | [`Notifier`], the dispatcher, the HTTP transport, the built-in plugins | always |
//! | `macros` | [`settings!`]: settings compiled into the program | via `cli` |
//! | `loader` | `Notifier::from_settings_file`, `load_channels`, [`schema`] | via `cli` |
//! | `python` | Python notification plugins in the user's interpreter | via `cli` |
//! | `outbox` | [`outbox`]: the durable SQLite outbox (`NotifierBuilder::outbox`) | via `cli` |
//! | `cli` | the `notifier` command line (and the experiment runner) | yes |
//!
//! `notifier = { version = "0.1", default-features = false, features = ["macros"] }` is the
//! lean library: no command-line parser, log formatter, runner, code generator or JSON
//! Schema validator in the program.

#![warn(missing_docs)]

#[cfg(feature = "loader")]
mod load;

#[cfg(feature = "loader")]
pub use load::{FromSettings, LoadError, LoadedSettings, load_channels};
pub use notifier_core::channel::{ChannelDef, ChannelKind};
pub use notifier_core::dispatch::{Mode, Notifier, NotifierBuilder};
pub use notifier_core::envelope::{Envelope, error_value, exception, exception_text};
pub use notifier_core::event::{Event, EventSet, Phase, UnknownEvent};
pub use notifier_core::plugin::{PluginConfig, PluginError, PluginFn};
pub use notifier_core::registry::PluginRegistry;
pub use notifier_core::report::{ChannelOutcome, DeliveryReport, FailureKind, FlushReport, Outcome, Stats};
#[cfg(feature = "macros")]
pub use notifier_macros::settings;
/// The settings compiler (feature `loader`): what `notifier check` and the loader use.
#[cfg(feature = "loader")]
pub use notifier_schema as schema;

/// Request bodies: the default envelope, a `template:`, or a built-in `format:` (Teams,
/// Slack, PagerDuty, CloudEvents…), compiled once per notifier and rendered per event
/// (docs/TEMPLATES.md).
pub use notifier_core::body;

/// The durable outbox: notifications an endpoint did not take, or that a killed process
/// had not delivered, kept for a replay. [`outbox::Outbox`] is the hook the dispatcher
/// writes to ([`NotifierBuilder::outbox`]); with the `outbox` feature,
/// [`outbox::SqliteOutbox`] is the SQLite store the command line uses.
pub mod outbox {
    pub use notifier_core::dispatch::record_id;
    pub use notifier_core::outbox::{
        ChannelRef, Outbox, OutboxError, OutboxOp, OutboxRecord, Written, channel_ref, fingerprint,
    };
    #[cfg(feature = "outbox")]
    pub use notifier_outbox::{
        DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, Entry, Filter, Limits, SqliteOutbox, State, StoreError, default_path,
    };
}

/// Channel definitions, for programs that build a channel table by hand
/// ([`Notifier::builder`]) or read the one a settings file gives.
pub mod channel {
    pub use notifier_core::channel::{
        CONNECT_TIMEOUT, ChannelDef, ChannelKind, DEFAULT_TIMEOUT, HttpDef, MAX_RETRIES, Origin, PluginDef, PythonDef,
        SkippedDef, Str,
    };
    pub use notifier_core::template::{MissingVar, Segment, Template, TemplateError};
}

/// Built-in plugins, usable in the `plugins:` map of [`settings!`] or registered by
/// default in [`PluginRegistry::new`].
pub mod plugins {
    pub use notifier_core::plugins::*;
}

/// Re-exports for the code the [`settings!`] macro generates. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use notifier_core;
    pub use serde_json;
    pub use std;
}
