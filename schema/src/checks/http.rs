//! Http channels: their keys, booleans and the combinations of fields.

use serde_json::{Map, Value};

use super::bodies::check_body;
use super::describe::describe;
use super::headers::check_headers;
use super::numbers::check_retries;
use super::secrets::check_signing_secret;
use super::urls::check_url;
use crate::code::Code;
use crate::located::escape_pointer;
use crate::report::Report;
use crate::schema::channel_keys;
use crate::suggest::did_you_mean;

/// Checks an http channel: only its own keys, a usable `url`, booleans, headers,
/// `retries`, `signing_secret`, and credentials sent over plain `http://`.
pub(super) fn check_http(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) {
    check_unknown_keys(ptr, entry, channel_keys("http").unwrap_or_default(), "http", r);
    let url_ptr = format!("{ptr}/url");
    let mut plain_http = false;
    match entry.get("url") {
        None | Some(Value::Null) => r.error(Code::MissingUrl, ptr, "http channel has no `url`").help(
            "add `url: https://…`; Chaos Toolkit only logs \"missing url in notification channel\" and sends nothing",
        ),
        Some(Value::String(url)) => plain_http = check_url(&url_ptr, url, r),
        Some(other) => r
            .error(Code::InvalidUrl, &url_ptr, format!("`url` must be a string, found {}", describe(other)))
            .help("write an absolute URL such as `https://example.com/hooks/chaos`"),
    }
    check_bool(ptr, entry, "verify_tls", "Chaos Toolkit would take the string as the path of a CA bundle file", r);
    if entry.get("verify_tls") == Some(&Value::Bool(false)) {
        r.warning(
            Code::TlsVerificationOff,
            &format!("{ptr}/verify_tls"),
            "TLS certificate verification is disabled for this channel",
        )
        .help(
            "anyone on the network path can read and change these notifications; \
             keep it for self-signed test endpoints",
        );
    }
    check_bool(
        ptr,
        entry,
        "forward_event_payload",
        "Chaos Toolkit treats any non-empty string as true and would still POST the event",
        r,
    );
    let has_credentials = check_headers(ptr, entry, r);
    if plain_http && has_credentials {
        r.warning(Code::CredentialsOverHttp, &url_ptr, "credentials are sent over plain `http://`")
            .help("use an `https://` endpoint so the credential headers are encrypted");
    }
    check_retries(ptr, entry, r);
    check_signing_secret(ptr, entry, r);
    check_body(ptr, entry, r);
}

fn check_unknown_keys(ptr: &str, entry: &Map<String, Value>, known: &[String], kind: &str, r: &mut Report<'_>) {
    for key in entry.keys().filter(|k| !known.contains(k)) {
        let suggestion = did_you_mean(key, known.iter().map(String::as_str));
        let reported = r
            .error(
                Code::UnknownKey,
                &format!("{ptr}/{}", escape_pointer(key)),
                format!("unknown key `{key}` in {kind} channel"),
            )
            .at_key();
        match suggestion {
            Some(s) => reported.fix(s).help(format!("did you mean `{s}`?")),
            None => reported.help(format!("{kind} channels accept: {}", known[1..].join(", "))),
        }
    }
}

fn check_bool(ptr: &str, entry: &Map<String, Value>, key: &str, string_consequence: &str, r: &mut Report<'_>) {
    let value = match entry.get(key) {
        None | Some(Value::Bool(_)) => return,
        Some(v) => v,
    };
    let mut fix = None;
    let help = match value {
        Value::String(s) => {
            let lowered = s.trim().to_ascii_lowercase();
            let suggestion = match lowered.as_str() {
                "false" | "no" | "off" | "0" => "false",
                "true" | "yes" | "on" | "1" => "true",
                _ => "true` or `false",
            };
            if !suggestion.contains('`') {
                fix = Some(suggestion);
            }
            format!("write `{key}: {suggestion}` without quotes; {string_consequence}")
        }
        Value::Null => format!("remove `{key}` to use the default, or write `true` or `false`"),
        _ => format!("write `{key}: true` or `{key}: false`"),
    };
    let reported = r.error(
        Code::NotABoolean,
        &format!("{ptr}/{key}"),
        format!("`{key}` must be a boolean, found {}", describe(value)),
    );
    match fix {
        Some(fix) => reported.fix(fix).help(help),
        None => reported.help(help),
    }
}
