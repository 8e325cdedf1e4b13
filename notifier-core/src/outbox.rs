//! The hook of a durable outbox: what the dispatcher tells a store about each
//! notification, so that nothing is lost when an endpoint is down or the process dies.
//!
//! The dispatcher writes an [`OutboxOp::Record`] before the first attempt of a
//! background delivery (and when a sequential delivery has failed), then an
//! [`OutboxOp::Delivered`] after a 2xx (or a plugin's success) or an
//! [`OutboxOp::Failed`] with the last error. The store itself (SQLite, in the
//! `notifier-outbox` crate) is plugged in with [`NotifierBuilder::outbox`](crate::NotifierBuilder::outbox);
//! this crate does not depend on it.
//!
//! What is recorded never holds a resolved secret: the envelope (the event and its
//! payload, as chaostoolkit-lib sends it) and the channel's identity (settings file,
//! position, label with credentials masked, a fingerprint of the definition as
//! written, `${VAR}` unresolved). Replaying loads the settings file again, so `${VAR}`
//! are resolved from the environment of the replay.

use sha2::{Digest, Sha256};

use crate::channel::{ChannelDef, ChannelKind};
use crate::event::Event;

/// The channel a stored notification is for: enough to find it again in its settings file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRef {
    /// The settings file that declared it (as the loader was given it).
    pub file: String,
    /// Its 0-based position in `notifications`.
    pub index: usize,
    /// A secret-free label (`http POST https://host/path`).
    pub label: String,
    /// [`fingerprint`] of its definition as written.
    pub fingerprint: String,
}

/// One notification for one channel, as the outbox keeps it.
#[derive(Debug, Clone)]
pub struct OutboxRecord {
    /// Stable id of this notification on this channel: the event's message id and the
    /// channel's number (`msg_…-2`).
    pub id: String,
    /// The event's message id, sent as `webhook-id` by signing channels (first send and
    /// replays alike), so receivers can drop duplicates.
    pub message_id: String,
    /// The event.
    pub event: Event,
    /// The envelope's wire bytes, exactly what chaostoolkit-lib would POST.
    pub envelope: bytes::Bytes,
    /// The channel.
    pub channel: ChannelRef,
    /// Unix time (seconds) the notification was made.
    pub created: f64,
    /// Until when (seconds from now) the recording process may still be attempting
    /// it: a replay leaves it alone until then, unless that process is gone.
    /// `None` when no attempt is running (sequential mode records after the failure).
    pub lease_secs: Option<f64>,
    /// Set when the record is written after a failed attempt: the last error.
    pub failed: Option<String>,
    /// Attempts made so far.
    pub attempts: u32,
}

/// One write to the outbox. The dispatcher hands them over in batches, in order.
#[derive(Debug, Clone)]
pub enum OutboxOp {
    /// A notification about to be attempted (or that just failed).
    Record(OutboxRecord),
    /// The notification was delivered (a 2xx, a plugin's success, or nothing to send).
    Delivered {
        /// [`OutboxRecord::id`].
        id: String,
        /// Attempts made.
        attempts: u32,
    },
    /// Its delivery failed; it stays pending for a replay.
    Failed {
        /// [`OutboxRecord::id`].
        id: String,
        /// The reason, secrets masked (the text the delivery report shows).
        reason: String,
        /// Attempts made.
        attempts: u32,
    },
}

/// What [`Outbox::write`] did with a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Records not kept because the outbox is full (after pruning delivered entries).
    pub refused: u64,
}

/// Why the outbox could not be written. The notification is still attempted.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct OutboxError(pub String);

/// A durable store of notifications. Implemented by `notifier-outbox` (SQLite).
///
/// `write` is called from one thread at a time per notifier (the background journal
/// thread, or the caller in sequential mode), possibly from several notifiers and
/// processes at once. It must never panic on bad data and should return quickly; a
/// failure is logged once as a warning and counted, and delivery goes on without it.
pub trait Outbox: Send + Sync {
    /// Applies `ops` in order, durably, in one transaction if possible.
    fn write(&self, ops: &[OutboxOp]) -> Result<Written, OutboxError>;
}

/// A fingerprint of a channel's definition as written (`${VAR}` unresolved), 16 hex
/// digits of SHA-256: equal for the same entry whatever its place in the file, different
/// as soon as anything that changes what the channel sends changes (URL, headers,
/// body, signing, events, timeouts, plugin entry). Replays use it to refuse to guess
/// when a channel was edited.
pub fn fingerprint(def: &ChannelDef) -> String {
    let mut text = format!("events={:?};timeout={:?};retries={};", def.events, def.timeout, def.retries);
    match &def.kind {
        ChannelKind::Http(h) => {
            text.push_str(&format!(
                "http;url={:?};verify_tls={};forward={};signing={:?};body={:?};headers=",
                h.url.source_text(),
                h.verify_tls,
                h.forward_event_payload,
                h.signing_secret.as_ref().map(|s| s.source_text()),
                h.body,
            ));
            for (name, value) in h.headers.iter() {
                text.push_str(&format!("{name:?}:{:?},", value.source_text()));
            }
        }
        ChannelKind::Plugin(p) => text.push_str(&format!("plugin;{:?};{:?};{:?}", p.module, p.func, p.config_json)),
        ChannelKind::Python(p) => text.push_str(&format!("python;{:?};{:?};{:?}", p.module, p.func, p.entry_json)),
        ChannelKind::Skipped(s) => text.push_str(&format!("skipped;{:?}", s.label)),
    }
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The [`ChannelRef`] of a channel definition at `index`.
pub fn channel_ref(index: usize, def: &ChannelDef) -> ChannelRef {
    ChannelRef { file: def.origin.file.to_string(), index, label: def.label(), fingerprint: fingerprint(def) }
}
