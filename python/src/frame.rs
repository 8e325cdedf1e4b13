//! Frames: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.

use std::io::{self, Read};
use std::time::{Duration, Instant};

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

/// What [`Inbox::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Polled {
    /// One whole frame's JSON.
    Frame(Vec<u8>),
    /// No whole frame within the time given (a partial one stays buffered).
    Nothing,
    /// The stream ended (possibly inside a frame) or failed.
    End,
    /// A frame announced more than the cap.
    TooLarge(usize),
}

/// The reading end of the response pipe, with the bytes read but not yet taken. Frames are
/// assembled across calls, so a reader can give up after its time slice without losing or
/// splitting anything, and the next reader carries on.
pub(crate) struct Inbox<R> {
    source: R,
    buf: Vec<u8>,
    /// `buf[start..]` is unread.
    start: usize,
    max: usize,
}

/// A source that can say whether reading would block.
pub(crate) trait Pollable: Read {
    /// Whether a read would return at once (data or end of stream) within `timeout`.
    fn readable(&self, timeout: Duration) -> bool;
}

impl<R: Pollable> Inbox<R> {
    pub(crate) fn new(source: R, max: usize) -> Inbox<R> {
        Inbox { source, buf: Vec::new(), start: 0, max }
    }

    /// The next whole frame, waiting at most `slice` for the bytes it still needs. Reads
    /// only after [`Pollable::readable`], so it never blocks past `slice`.
    pub(crate) fn next(&mut self, slice: Duration) -> Polled {
        let deadline = Instant::now() + slice;
        loop {
            let unread = &self.buf[self.start..];
            let mut need = 4;
            if let Some(head) = unread.get(..4) {
                let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
                if size > self.max {
                    return Polled::TooLarge(size);
                }
                need = 4 + size;
                if unread.len() >= need {
                    let frame = unread[4..need].to_vec();
                    self.start += need;
                    if self.start == self.buf.len() {
                        // Do not keep a large frame's memory for the life of the helper.
                        if self.buf.capacity() > 1 << 20 {
                            self.buf = Vec::new();
                        } else {
                            self.buf.clear();
                        }
                        self.start = 0;
                    }
                    return Polled::Frame(frame);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !self.source.readable(left) {
                return Polled::Nothing;
            }
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            let filled = self.buf.len();
            let chunk = (need.saturating_sub(filled)).max(64 * 1024);
            self.buf.resize(filled + chunk, 0);
            let read = self.source.read(&mut self.buf[filled..]);
            match read {
                Ok(n) if n > 0 => self.buf.truncate(filled + n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted || e.kind() == io::ErrorKind::WouldBlock => {
                    self.buf.truncate(filled);
                }
                _ => {
                    self.buf.truncate(filled);
                    return Polled::End;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted source: each read returns the next chunk; `readable` says whether one
    /// is left (an empty chunk is the end of the stream).
    struct Chunks(std::collections::VecDeque<Vec<u8>>);

    impl Read for Chunks {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let Some(mut chunk) = self.0.pop_front() else {
                return Ok(0);
            };
            let n = chunk.len().min(out.len());
            out[..n].copy_from_slice(&chunk[..n]);
            if n < chunk.len() {
                chunk.drain(..n);
                self.0.push_front(chunk);
            }
            Ok(n)
        }
    }

    impl Pollable for Chunks {
        fn readable(&self, _timeout: Duration) -> bool {
            !self.0.is_empty()
        }
    }

    fn inbox(chunks: &[&[u8]]) -> Inbox<Chunks> {
        Inbox::new(Chunks(chunks.iter().map(|c| c.to_vec()).collect()), 1 << 10)
    }

    // The scripted source answers `readable` at once, so this is never waited for.
    const SLICE: Duration = Duration::from_secs(10);

    #[test]
    fn frames_round_trip_through_the_inbox() {
        let frame = encode_request(7, "ping", false, &serde_json::json!({"x": "é"}), 1 << 10).unwrap();
        let size = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
        assert_eq!(size, frame.len() - 4);
        let body: serde_json::Value = serde_json::from_slice(&frame[4..]).unwrap();
        assert_eq!(body, serde_json::json!({"id": 7, "op": "ping", "bg": false, "x": "é"}));
        assert!(frame[4..].starts_with(br#"{"id":7,"op":"ping","bg":false,"#));

        // Two frames in one read, then the end.
        let mut two = frame.clone();
        two.extend_from_slice(&frame);
        let mut inbox = inbox(&[&two, b""]);
        assert_eq!(inbox.next(SLICE), Polled::Frame(frame[4..].to_vec()));
        assert_eq!(inbox.next(SLICE), Polled::Frame(frame[4..].to_vec()));
        assert_eq!(inbox.next(SLICE), Polled::End);
    }

    #[test]
    fn a_frame_split_across_reads_waits_for_its_end() {
        let mut inbox = inbox(&[&[0, 0], &[0, 2, b'{'], b"}"]);
        assert_eq!(inbox.next(SLICE), Polled::Frame(b"{}".to_vec()));
        assert_eq!(inbox.next(SLICE), Polled::Nothing);
    }

    #[test]
    fn oversized_and_truncated_frames() {
        assert!(matches!(
            encode_request(1, "ping", false, &serde_json::json!({"x": "y".repeat(100)}), 50),
            Err(BridgeError::RequestTooLarge { limit: 50, .. })
        ));
        assert_eq!(inbox(&[&[0x7f, 0, 0, 0]]).next(SLICE), Polled::TooLarge(0x7f00_0000));
        let mut cut = inbox(&[&[0, 0, 0, 9, b'{'], b""]);
        assert_eq!(cut.next(SLICE), Polled::End);
        // Nothing readable: nothing, and the partial frame stays for later.
        let mut partial = inbox(&[&[0, 0, 0, 2, b'{']]);
        assert_eq!(partial.next(SLICE), Polled::Nothing);
        partial.source.0.push_back(b"}".to_vec());
        assert_eq!(partial.next(SLICE), Polled::Frame(b"{}".to_vec()));
    }
}
