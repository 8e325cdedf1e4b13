//! Frames: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.

use std::io::{self, Read};

use serde::Serialize;

use crate::error::BridgeError;
use crate::ops::protocol;

/// Default cap on a frame, both ways.
pub const DEFAULT_MAX_FRAME: usize = 64 << 20;

#[derive(Serialize)]
struct Request<'a, B: Serialize> {
    id: u64,
    op: &'a str,
    bg: bool,
    #[serde(flatten)]
    body: &'a B,
}

/// Encodes one request frame, refusing it when the JSON is over `max` bytes.
pub(crate) fn encode_request<B: Serialize>(
    id: u64,
    op: &str,
    background: bool,
    body: &B,
    max: usize,
) -> Result<Vec<u8>, BridgeError> {
    let mut frame = vec![0u8; 4];
    serde_json::to_writer(&mut frame, &Request { id, op, bg: background, body })
        .map_err(|e| protocol(format!("cannot encode the `{op}` request: {e}")))?;
    let size = frame.len() - 4;
    let length = u32::try_from(size).ok().filter(|_| size <= max);
    let Some(length) = length else {
        return Err(BridgeError::RequestTooLarge { size, limit: max });
    };
    frame[..4].copy_from_slice(&length.to_be_bytes());
    Ok(frame)
}

/// Why no frame could be read.
#[derive(Debug)]
pub(crate) enum FrameError {
    /// The pipe failed or ended inside a frame.
    Broken,
    /// The announced length is over the cap.
    TooLarge(usize),
}

/// Reads one frame; `Ok(None)` at a clean end of the stream (between frames).
pub(crate) fn read_frame(r: &mut impl Read, max: usize) -> Result<Option<Vec<u8>>, FrameError> {
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < head.len() {
        match r.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(FrameError::Broken),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(FrameError::Broken),
        }
    }
    let size = u32::from_be_bytes(head) as usize;
    if size > max {
        return Err(FrameError::TooLarge(size));
    }
    let mut body = vec![0u8; size];
    r.read_exact(&mut body).map_err(|_| FrameError::Broken)?;
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_end_cleanly() {
        let frame = encode_request(7, "ping", false, &serde_json::json!({"x": "é"}), 1 << 10).unwrap();
        let size = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
        assert_eq!(size, frame.len() - 4);
        let body: serde_json::Value = serde_json::from_slice(&frame[4..]).unwrap();
        assert_eq!(body, serde_json::json!({"id": 7, "op": "ping", "bg": false, "x": "é"}));
        assert!(frame[4..].starts_with(br#"{"id":7,"op":"ping","bg":false,"#));
        let mut two = frame.clone();
        two.extend_from_slice(&frame);
        let mut reader = two.as_slice();
        assert_eq!(read_frame(&mut reader, 1 << 10).unwrap().unwrap(), frame[4..]);
        assert_eq!(read_frame(&mut reader, 1 << 10).unwrap().unwrap(), frame[4..]);
        assert!(read_frame(&mut reader, 1 << 10).unwrap().is_none());
    }

    #[test]
    fn oversized_and_truncated_frames_are_errors() {
        assert!(matches!(
            encode_request(1, "ping", false, &serde_json::json!({"x": "y".repeat(100)}), 50),
            Err(BridgeError::RequestTooLarge { limit: 50, .. })
        ));
        let mut huge: &[u8] = &[0x7f, 0, 0, 0];
        assert!(matches!(read_frame(&mut huge, 1 << 20), Err(FrameError::TooLarge(0x7f00_0000))));
        let mut cut: &[u8] = &[0, 0, 0, 9, b'{'];
        assert!(matches!(read_frame(&mut cut, 1 << 20), Err(FrameError::Broken)));
        let mut half_head: &[u8] = &[0, 0];
        assert!(matches!(read_frame(&mut half_head, 1 << 20), Err(FrameError::Broken)));
    }
}
