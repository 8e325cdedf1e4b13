//! A Standard Webhooks verifier written from the spec (<https://www.standardwebhooks.com/>),
//! sharing no code with `notifier_core::signing`: HMAC-SHA256 built by hand on the
//! `sha2` hash per RFC 2104, its own base64, constant-time comparison, a ±5 minute
//! timestamp window, `webhook-signature` parsed as space-separated `v1,<base64>` entries.

use sha2::{Digest, Sha256};

/// HMAC-SHA256 per RFC 2104: H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)), block size 64,
/// keys longer than a block hashed first.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer.finalize());
    out
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648 §4).
pub fn b64encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64, padding optional; `None` on any other character.
pub fn b64decode(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u32> = text
        .trim_end_matches('=')
        .bytes()
        .map(|c| ALPHABET.iter().position(|a| *a == c).map(|p| p as u32))
        .collect::<Option<_>>()?;
    if digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, d)| acc | d << (18 - 6 * i));
        out.extend((0..chunk.len() - 1).map(|i| (n >> (16 - 8 * i)) as u8));
    }
    Some(out)
}

/// Compares in time that depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    MissingHeaders,
    BadTimestamp,
    TooOld,
    TooNew,
    NoMatchingSignature,
}

/// The spec's tolerance on `webhook-timestamp`.
pub const TOLERANCE_SECS: i64 = 5 * 60;

pub struct Verifier {
    key: Vec<u8>,
}

impl Verifier {
    /// `whsec_` prefix optional, then base64.
    pub fn new(secret: &str) -> Verifier {
        let body = secret.strip_prefix("whsec_").unwrap_or(secret);
        Verifier { key: b64decode(body).expect("the secret is base64") }
    }

    /// The `v1` signature of a message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut content = format!("{id}.{timestamp}.").into_bytes();
        content.extend_from_slice(body);
        b64encode(&hmac_sha256(&self.key, &content))
    }

    /// Verifies a request received at `now` (Unix seconds).
    pub fn verify(&self, header: impl Fn(&str) -> Option<String>, body: &[u8], now: i64) -> Result<(), Rejected> {
        let (Some(id), Some(ts), Some(signatures)) =
            (header("webhook-id"), header("webhook-timestamp"), header("webhook-signature"))
        else {
            return Err(Rejected::MissingHeaders);
        };
        let ts: i64 = ts.trim().parse().map_err(|_| Rejected::BadTimestamp)?;
        if now - ts > TOLERANCE_SECS {
            return Err(Rejected::TooOld);
        }
        if ts - now > TOLERANCE_SECS {
            return Err(Rejected::TooNew);
        }
        let expected = self.sign(&id, ts, body);
        let matched = signatures
            .split(' ')
            .filter_map(|entry| entry.split_once(','))
            .filter(|(version, _)| *version == "v1")
            .any(|(_, sig)| constant_time_eq(sig.as_bytes(), expected.as_bytes()));
        if matched { Ok(()) } else { Err(Rejected::NoMatchingSignature) }
    }
}
