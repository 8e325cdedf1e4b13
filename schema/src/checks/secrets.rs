//! Credentials: plain-text secrets (warnings, and the spans `check` masks) and the
//! Standard Webhooks signing secret.

use serde_json::{Map, Value};

use notifier_core::redact::is_sensitive_name;
use notifier_core::signing::decode_secret;
use notifier_core::template::Template;

use super::describe::describe_secret;
use super::templates::check_template;
use crate::code::Code;
use crate::located::escape_pointer;
use crate::report::Report;

/// Warns that `what`, at `ptr`, holds a credential written in the file.
pub(super) fn plain_text_secret(ptr: &str, what: &str, r: &mut Report<'_>) {
    r.warning(Code::PlainTextSecret, ptr, format!("{what} holds a plain-text credential")).help(
        "move it to an environment variable and write `${VARIABLE}` here, so the file can be shared and committed",
    );
}

/// Byte ranges of the source text that hold plain-text credentials, for renderers that
/// show source lines (`notifier check`'s human format masks them): every scalar under a
/// credential-like key (`Authorization`, `token`, `*secret*`, `password`, `auths`…, at
/// any depth of the document) unless it only references variables, and the password
/// and credential-like query values of URLs in `notifications` (as `url`, or as a
/// channel written as a bare string). Quotes are left out of the ranges.
pub(crate) fn secret_spans(
    root: &Value,
    index: &crate::located::PositionIndex,
    source: &crate::source::SourceFile,
) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let span_of = |pointer: &str| -> Option<std::ops::Range<usize>> {
        let pos = index.get(pointer)?.value;
        if pos.start.line == 0 {
            return None;
        }
        let start = source.byte_offset(pos.start.line, pos.start.col);
        let end = source.byte_offset(pos.end.line, pos.end.col).max(start);
        let text = &source.text[start..end];
        // Inside the quotes of a quoted scalar.
        match text.chars().next() {
            Some(q @ ('"' | '\'')) if text.len() >= 2 && text.ends_with(q) => Some(start + 1..end - 1),
            _ => Some(start..end),
        }
    };
    let mut stack: Vec<(String, &Value, bool)> = vec![(String::new(), root, false)];
    while let Some((pointer, value, sensitive)) = stack.pop() {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let child = format!("{pointer}/{}", escape_pointer(k));
                    let is_url = k == "url" && pointer.starts_with("/notifications/");
                    if is_url && let Value::String(u) = v {
                        out.extend(url_secret_spans(span_of(&child), u, source));
                        continue;
                    }
                    stack.push((child, v, sensitive || is_sensitive_name(k)));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let child = format!("{pointer}/{i}");
                    if pointer == "/notifications"
                        && let Value::String(u) = v
                    {
                        out.extend(url_secret_spans(span_of(&child), u, source));
                        continue;
                    }
                    stack.push((child, v, sensitive));
                }
            }
            Value::String(text)
                if sensitive && !text.trim().is_empty() && Template::parse(text).is_ok_and(|t| t.is_literal()) =>
            {
                out.extend(span_of(&pointer));
            }
            Value::Number(_) | Value::Bool(_) if sensitive => out.extend(span_of(&pointer)),
            _ => {}
        }
    }
    out.sort_by_key(|r| r.start);
    out
}

/// The credential parts of a URL written at `span`: the user information's password
/// (or the whole user information without one) and credential-like query values.
/// Only when the URL is written plainly (its text in the file is the value).
fn url_secret_spans(
    span: Option<std::ops::Range<usize>>,
    url: &str,
    source: &crate::source::SourceFile,
) -> Vec<std::ops::Range<usize>> {
    let Some(span) = span else { return Vec::new() };
    if source.text.get(span.clone()) != Some(url) {
        // Escapes or folding: the text differs from the value; mask the whole line part.
        return vec![span];
    }
    notifier_core::redact::url_secret_ranges(url)
        .into_iter()
        .map(|r| span.start + r.start..span.start + r.end)
        .collect()
}

/// `signing_secret`: a non-empty string; when written as is, a Standard Webhooks secret
/// (and a plain-text credential).
pub(super) fn check_signing_secret(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) {
    match entry.get("signing_secret") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if !s.is_empty() => {
            let sp = format!("{ptr}/signing_secret");
            if check_template(&sp, s, r).is_some_and(|t| t.is_literal()) {
                if decode_secret(s).is_err() {
                    r.error(
                        Code::InvalidSigningSecret,
                        &sp,
                        "`signing_secret` is not a Standard Webhooks secret (base64, optionally prefixed with `whsec_`)",
                    )
                    .help("generate one with `echo whsec_$(head -c 32 /dev/urandom | base64)`");
                }
                plain_text_secret(&sp, "`signing_secret`", r);
            }
        }
        Some(other) => r
            .error(
                Code::InvalidSigningSecret,
                &format!("{ptr}/signing_secret"),
                format!("`signing_secret` must be a non-empty string, found {}", describe_secret(other)),
            )
            .help("write `signing_secret: ${WEBHOOK_SECRET}` and set the variable at run time"),
    }
}
