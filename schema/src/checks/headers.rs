//! The `headers` of an http channel.

use serde_json::{Map, Value};

use notifier_core::redact::is_sensitive_name;

use super::describe::{describe, describe_secret};
use super::secrets::plain_text_secret;
use super::templates::check_template;
use crate::code::Code;
use crate::located::escape_pointer;
use crate::report::Report;

/// Checks `headers`; returns whether they carry credentials.
pub(super) fn check_headers(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) -> bool {
    let hp = format!("{ptr}/headers");
    let headers = match entry.get("headers") {
        None | Some(Value::Null) => return false,
        Some(Value::Object(h)) => h,
        Some(other) => {
            r.error(
                Code::HeadersNotMapping,
                &hp,
                format!("`headers` must be a mapping of header names to values, found {}", describe(other)),
            )
            .help("write `headers: {X-Name: value}`; Chaos Toolkit would fail on every event");
            return false;
        }
    };
    let mut credentials = false;
    for (name, value) in headers {
        let vp = format!("{hp}/{}", escape_pointer(name));
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            r.error(Code::InvalidHeaderName, &vp, format!("`{}` is not a valid HTTP header name", name.escape_debug()))
                .at_key()
                .help("header names are letters, digits and `!#$%&'*+-.^_`|~`, with no spaces or colons");
        }
        let sensitive = is_sensitive_name(name);
        credentials |= sensitive;
        match value {
            Value::String(v) => {
                if v.contains(['\r', '\n']) {
                    r.error(Code::HeaderInjection, &vp, format!("the value of header `{name}` contains a line break"))
                        .help("a CR or LF in a header value would inject extra headers; remove it");
                    continue;
                }
                let Some(t) = check_template(&vp, v, r) else { continue };
                if t.is_literal() {
                    if http::HeaderValue::from_str(v).is_err() {
                        r.error(
                            Code::InvalidHeaderValue,
                            &vp,
                            format!("the value of header `{name}` has characters not allowed in HTTP headers"),
                        )
                        .help("header values are visible ASCII, spaces and tabs");
                    } else if sensitive && !v.trim().is_empty() {
                        plain_text_secret(&vp, &format!("header `{name}`"), r);
                    }
                }
            }
            other => r
                .error(
                    Code::InvalidHeaderValue,
                    &vp,
                    format!(
                        "the value of header `{name}` must be a string, found {}",
                        if sensitive { describe_secret(other).to_owned() } else { describe(other) }
                    ),
                )
                .help(match other {
                    Value::Number(n) if !sensitive => {
                        format!("quote it: `{name}: \"{n}\"`; Chaos Toolkit fails on non-string header values")
                    }
                    _ => "quote the value; Chaos Toolkit fails on non-string header values".into(),
                }),
        }
    }
    credentials
}
