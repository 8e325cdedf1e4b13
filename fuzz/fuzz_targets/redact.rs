//! Redaction: the first bytes are a secret, the rest a text into which the secret is
//! spliced as is and percent-encoded; the redacted text never shows it, and `redact_url`
//! never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use notifier_core::redact::{Redactor, redact_url, url_secret_ranges};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = redact_url(text);
    for r in url_secret_ranges(text) {
        assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
    }
    let Some(split) = text.char_indices().map(|(i, _)| i).nth(6) else { return };
    let (secret, rest) = text.split_at(split);
    if secret.contains('*') || secret.len() < Redactor::MIN_SECRET_LEN {
        return;
    }
    let encoded: String = secret.bytes().map(|b| format!("%{b:02X}")).collect();
    let middle = rest.len() / 2;
    let middle = (0..=middle).rev().find(|i| rest.is_char_boundary(*i)).unwrap_or(0);
    let spliced = format!("{}{secret}{}{encoded}", &rest[..middle], &rest[middle..]);
    let mut r = Redactor::default();
    r.add(secret);
    let out = r.redact(&spliced);
    assert!(!out.contains(secret), "{secret:?} in {out:?}");
    assert!(!out.contains(&encoded), "{encoded:?} in {out:?}");
});
