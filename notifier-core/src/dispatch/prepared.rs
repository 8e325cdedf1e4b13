//! The event every channel gets, made once.

use std::sync::OnceLock;

use bytes::Bytes;

use crate::envelope::Envelope;

/// One event as every channel gets it: the envelope, plus its wire body and message id,
/// made once by the first HTTP channel that needs them. In background mode that is a
/// delivery worker, so serialising the payload (which grows with the journal) never
/// blocks the flow; an event only plugins or filters see is never serialised.
pub(super) struct Prepared {
    pub(super) env: Envelope,
    pub(super) wire: OnceLock<(Bytes, String)>,
}

impl Prepared {
    pub(super) fn new(env: Envelope) -> Prepared {
        Prepared { env, wire: OnceLock::new() }
    }

    pub(super) fn wire(&self) -> (Bytes, String) {
        let (body, id) =
            self.wire.get_or_init(|| (Bytes::from(self.env.to_wire_json()), crate::signing::new_message_id()));
        (body.clone(), id.clone())
    }
}
