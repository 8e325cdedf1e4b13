//! The event every channel gets, made once.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use crate::envelope::Envelope;

/// One event as every channel gets it: the envelope (shared, so body templates read it
/// in place), plus its wire body and message id, made once by the first HTTP channel
/// that needs them. In background mode that is a delivery worker, so serialising the
/// payload (which grows with the journal) never blocks the flow; an event only plugins
/// or filters see is never serialised.
pub(super) struct Prepared {
    pub(super) env: Arc<Envelope>,
    wire: OnceLock<Bytes>,
    id: OnceLock<String>,
}

impl Prepared {
    pub(super) fn new(env: Envelope) -> Prepared {
        Prepared { env: Arc::new(env), wire: OnceLock::new(), id: OnceLock::new() }
    }

    /// A stored notification (outbox replay): its wire bytes and message id as they were.
    pub(super) fn stored(env: Envelope, wire: Bytes, id: String) -> Prepared {
        Prepared { env: Arc::new(env), wire: OnceLock::from(wire), id: OnceLock::from(id) }
    }

    /// The envelope's wire bytes (chaostoolkit-lib's body) and the event's message id.
    pub(super) fn wire(&self) -> (Bytes, String) {
        let body = self.wire.get_or_init(|| Bytes::from(self.env.to_wire_json()));
        (body.clone(), self.message_id())
    }

    /// The event's message id (`webhook-id` when signing), the same for every channel,
    /// every retry, and every process that sends this event again: derived from the event
    /// ([`crate::body::event_id`], also its `Nats-Msg-Id` and CloudEvents `id`), so a
    /// receiver drops what a relay redelivers.
    pub(super) fn message_id(&self) -> String {
        self.id.get_or_init(|| format!("msg_{}", crate::body::event_id(&self.env).replace('-', ""))).clone()
    }
}
