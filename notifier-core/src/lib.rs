//! Runtime of the Chaos Toolkit notifier.
//!
//! Data flows one way: an [`Event`] and its payload become one [`Envelope`] (one
//! timestamp for every channel), the dispatcher walks the channel table in file order,
//! filters each channel with its [`EventSet`], and hands the envelope to the HTTP
//! transport or to a plugin function.
//!
//! Without the `http` feature this crate only holds the data types shared with the
//! settings compiler and the generated code (events, envelopes, channel definitions,
//! templates), which keeps the HTTP stack out of the proc-macro's dependency tree.

#![warn(missing_docs)]

pub mod body;
pub mod channel;
#[cfg(feature = "http")]
pub mod dispatch;
#[cfg(feature = "http")]
mod engine;
pub mod envelope;
pub mod event;
#[cfg(feature = "http")]
pub mod outbox;
pub mod plugin;
pub mod plugins;
pub mod pyvalue;
pub mod redact;
pub mod registry;
pub mod report;
pub mod signing;
pub mod template;
#[cfg(feature = "http")]
pub mod transport;
pub mod wire;

pub use body::{Body, BodyDef};
pub use channel::{ChannelDef, ChannelKind, HttpDef, Origin, PluginDef, PythonDef, SkippedDef, Str};
#[cfg(feature = "http")]
pub use dispatch::{Dispatch, Mode, Notifier, NotifierBuilder};
pub use envelope::{Envelope, error_value, exception, exception_text};
pub use event::{Event, EventSet, Phase, UnknownEvent};
#[cfg(feature = "http")]
pub use outbox::{ChannelRef, Outbox, OutboxError, OutboxOp, OutboxRecord};
pub use plugin::{PluginConfig, PluginError, PluginFn};
pub use registry::PluginRegistry;
pub use report::{ChannelOutcome, DeliveryReport, FailureKind, FlushReport, Outcome, Stats};
pub use template::{Segment, Template};
