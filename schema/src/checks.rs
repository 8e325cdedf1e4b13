//! Semantic checks: everything the JSON Schema cannot say, or says badly.
//!
//! These run on the JSON form of the document and report with messages written for
//! people (what Chaos Toolkit would do with the mistake, and how to fix it). They cover
//! every way a `notifications:` entry can be wrong, so the schema's own errors are a
//! safety net that rarely fires (see `compile`).

use serde_json::{Map, Value};

use notifier_core::Event;
use notifier_core::plugins::builtin;
use notifier_core::redact::is_sensitive_name;
use notifier_core::template::Template;

use crate::code::Code;
use crate::diagnostic::Severity::{self, Error, Warning};
use crate::located::escape_pointer;
use crate::model::{CHANNEL_TYPES, HTTP_KEYS, MAX_TIMEOUT_SECS, PLUGIN_KEYS};
use crate::report::Report;
use crate::suggest::did_you_mean;

/// Checks a whole document.
pub(crate) fn check_document(root: &Value, r: &mut Report<'_>) {
    let map = match root {
        Value::Null => return,
        Value::Object(map) => map,
        other => {
            r.error(
                Code::SettingsNotMapping,
                "",
                format!("the settings file must be a mapping of keys, found {}", describe(other)),
            )
            .help("start with `notifications:` followed by a list of channels");
            return;
        }
    };
    let Some(notifications) = map.get("notifications") else {
        return;
    };
    match notifications {
        Value::Null => {}
        Value::Array(channels) => {
            for (i, channel) in channels.iter().enumerate() {
                check_channel(i, channel, r);
            }
            check_duplicate_channels(channels, r);
        }
        Value::Object(_) => r
            .error(
                Code::NotificationsNotList,
                "/notifications",
                "`notifications` must be a list of channels, found a mapping",
            )
            .help("start each channel with `- ` (Chaos Toolkit would iterate over the mapping's keys and crash)"),
        other => r
            .error(
                Code::NotificationsNotList,
                "/notifications",
                format!("`notifications` must be a list of channels, found {}", describe(other)),
            )
            .help("write one `- ` item per channel, e.g.\n  notifications:\n    - type: http\n      url: https://…"),
    }
}

fn check_channel(i: usize, channel: &Value, r: &mut Report<'_>) {
    let ptr = format!("/notifications/{i}");
    let Value::Object(entry) = channel else {
        let help = match channel {
            Value::String(s) if s.contains("://") => {
                let url = notifier_core::redact::redact_url(s);
                format!("write the channel as a mapping:\n  - type: http\n    url: {url}")
            }
            _ => "a channel is a mapping with a `type` (`http` or `plugin`) and its fields".into(),
        };
        r.error(
            Code::ChannelNotMapping,
            &ptr,
            format!("channel #{} must be a mapping, found {}", i + 1, describe(channel)),
        )
        .help(help);
        return;
    };
    check_events(&ptr, entry, r);
    check_timeout(&ptr, entry, r);
    match entry.get("type") {
        None => r.error(Code::MissingType, &ptr, "channel has no `type`").help(if entry.contains_key("url") {
            "add `type: http`; Chaos Toolkit silently ignores a channel without a type"
        } else if entry.contains_key("module") {
            "add `type: plugin`; Chaos Toolkit silently ignores a channel without a type"
        } else {
            "add `type: http` or `type: plugin`"
        }),
        Some(Value::String(t)) if t == "http" => check_http(&ptr, entry, r),
        Some(Value::String(t)) if t == "plugin" => check_plugin(&ptr, entry, r),
        Some(Value::String(t)) => {
            let help = match did_you_mean(t, CHANNEL_TYPES.iter().copied()) {
                Some(s) => format!(
                    "did you mean `{s}`? Chaos Toolkit matches the type exactly and silently ignores this channel"
                ),
                None => "expected `http` or `plugin`; Chaos Toolkit silently ignores other types".into(),
            };
            r.error(Code::UnknownType, &format!("{ptr}/type"), format!("unknown channel type `{t}`")).help(help);
        }
        Some(other) => r
            .error(
                Code::UnknownType,
                &format!("{ptr}/type"),
                format!("channel `type` must be `http` or `plugin`, found {}", describe(other)),
            )
            .help("write `type: http` or `type: plugin`"),
    }
}

fn check_unknown_keys(ptr: &str, entry: &Map<String, Value>, known: &[&str], kind: &str, r: &mut Report<'_>) {
    for key in entry.keys().filter(|k| !known.contains(&k.as_str())) {
        let help = match did_you_mean(key, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("{kind} channels accept: {}", known[1..].join(", ")),
        };
        r.error(
            Code::UnknownKey,
            &format!("{ptr}/{}", escape_pointer(key)),
            format!("unknown key `{key}` in {kind} channel"),
        )
        .at_key()
        .help(help);
    }
}

fn check_http(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) {
    check_unknown_keys(ptr, entry, HTTP_KEYS, "http", r);
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
        r.warning(Code::TlsVerificationOff, &format!("{ptr}/verify_tls"), "TLS certificate verification is disabled for this channel").help("anyone on the network path can read and change these notifications; keep it for self-signed test endpoints");
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
    match entry.get("retries") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n <= u64::from(notifier_core::channel::MAX_RETRIES)) => {}
        Some(other) => r
            .error(
                Code::InvalidRetries,
                &format!("{ptr}/retries"),
                format!(
                    "`retries` must be a whole number from 0 to {}, found {}",
                    notifier_core::channel::MAX_RETRIES,
                    describe(other)
                ),
            )
            .help("write a bare number, e.g. `retries: 2` (extra attempts after a retryable failure)"),
    }
    match entry.get("signing_secret") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if !s.is_empty() => {
            let sp = format!("{ptr}/signing_secret");
            if check_template(&sp, s, r).is_some_and(|t| t.is_literal()) {
                if !is_standard_webhooks_secret(s) {
                    r.error(Code::InvalidSigningSecret, &sp, "`signing_secret` is not a Standard Webhooks secret (base64, optionally prefixed with `whsec_`)").help("generate one with `echo whsec_$(head -c 32 /dev/urandom | base64)`");
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

/// Whether `s` decodes as a Standard Webhooks secret: optional `whsec_`, then canonical
/// padded base64 (what `notifier_core::signing::SigningKey::from_secret` accepts).
fn is_standard_webhooks_secret(s: &str) -> bool {
    let body = s.trim();
    let body = body.strip_prefix("whsec_").unwrap_or(body);
    let data = body.trim_end_matches('=');
    let padding = body.len() - data.len();
    !data.is_empty()
        && body.len().is_multiple_of(4)
        && padding <= 2
        && data.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// Checks a URL; returns whether it is a plain `http://` URL.
fn check_url(ptr: &str, url: &str, r: &mut Report<'_>) -> bool {
    let Some(template) = check_template(ptr, url, r) else {
        return false;
    };
    // With variables, only the literal prefix can be checked here.
    let text = match template.segments().first() {
        Some(notifier_core::Segment::Lit(prefix)) if template.is_literal() => prefix.to_string(),
        Some(notifier_core::Segment::Lit(prefix)) => {
            let prefix = prefix.to_string();
            let lower = prefix.to_ascii_lowercase();
            if lower.starts_with("http://") || lower.starts_with("https://") {
                return lower.starts_with("http://");
            }
            match prefix.split_once("://") {
                Some((scheme, _))
                    if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
                {
                    bad_scheme(ptr, &prefix, r)
                }
                _ => not_absolute(ptr, r),
            }
            return false;
        }
        _ => return false,
    };
    if text.trim() != text {
        r.error(Code::InvalidUrl, ptr, "the URL has spaces or line breaks around it").help("remove them");
        return false;
    }
    match url::Url::parse(&text) {
        Err(e) => {
            r.error(
                Code::InvalidUrl,
                ptr,
                format!("`{}` is not a valid URL: {e}", notifier_core::redact::redact_url(&text)),
            )
            .help("write an absolute URL such as `https://example.com/hooks/chaos`");
            false
        }
        Ok(u) if u.scheme() != "http" && u.scheme() != "https" => {
            bad_scheme(ptr, &text, r);
            false
        }
        Ok(u) if !text.to_ascii_lowercase().starts_with(&format!("{}://", u.scheme())) => {
            // `http:x.com` and `http:/x.com` parse (as `http://x.com/`), but nobody means them.
            r.error(
                Code::InvalidUrl,
                ptr,
                format!("`{}` is not written as `{}://host/…`", notifier_core::redact::redact_url(&text), u.scheme()),
            )
            .help("write an absolute URL such as `https://example.com/hooks/chaos`");
            false
        }
        Ok(u) => {
            if u.host_str().is_none_or(str::is_empty) {
                r.error(Code::InvalidUrl, ptr, "the URL has no host")
                    .help("write an absolute URL such as `https://example.com/hooks/chaos`");
            }
            if u.password().is_some() || !u.username().is_empty() {
                plain_text_secret(ptr, "URL user information", r);
            }
            if u.query_pairs().any(|(k, v)| is_sensitive_name(&k) && !v.is_empty()) {
                plain_text_secret(ptr, "URL query", r);
            }
            u.scheme() == "http"
        }
    }
}

fn not_absolute(ptr: &str, r: &mut Report<'_>) {
    r.error(
        Code::InvalidUrl,
        ptr,
        "the URL must start with `http://` or `https://`, or be one `${VARIABLE}` holding the whole URL",
    )
    .help("write an absolute URL such as `https://${HOOK_HOST}/chaos`");
}

fn bad_scheme(ptr: &str, text: &str, r: &mut Report<'_>) {
    let scheme = text.split(':').next().unwrap_or_default();
    r.error(
        Code::InvalidUrl,
        ptr,
        format!("`{scheme}` URLs are not supported; an http channel needs `http://` or `https://`"),
    )
    .help("Chaos Toolkit would only log the failure at debug level; to deliver elsewhere, use a plugin channel");
}

/// Checks `${VAR}` syntax and warns about variables unset in this environment.
fn check_template(ptr: &str, text: &str, r: &mut Report<'_>) -> Option<Template> {
    match Template::parse(text) {
        Err(e) => {
            r.error(Code::InvalidVariable, ptr, format!("malformed environment variable reference: {e}"))
                .help("write `${NAME}` or `${NAME:-default}`; `$$` is a literal `$`");
            None
        }
        Ok(t) => {
            for name in t.missing_vars(&|n| std::env::var(n).ok()) {
                r.warning(Code::UnsetVariable, ptr, format!("environment variable `{name}` is not set here")).help(
                    format!("the channel fails at run time unless `{name}` is set (or write `${{{name}:-default}}`)"),
                );
            }
            Some(t)
        }
    }
}

fn plain_text_secret(ptr: &str, what: &str, r: &mut Report<'_>) {
    r.warning(Code::PlainTextSecret, ptr, format!("{what} holds a plain-text credential")).help(
        "move it to an environment variable and write `${VARIABLE}` here, so the file can be shared and committed",
    );
}

fn check_bool(ptr: &str, entry: &Map<String, Value>, key: &str, string_consequence: &str, r: &mut Report<'_>) {
    let value = match entry.get(key) {
        None | Some(Value::Bool(_)) => return,
        Some(v) => v,
    };
    let help = match value {
        Value::String(s) => {
            let lowered = s.trim().to_ascii_lowercase();
            let suggestion = match lowered.as_str() {
                "false" | "no" | "off" | "0" => "false",
                "true" | "yes" | "on" | "1" => "true",
                _ => "true` or `false",
            };
            format!("write `{key}: {suggestion}` without quotes; {string_consequence}")
        }
        Value::Null => format!("remove `{key}` to use the default, or write `true` or `false`"),
        _ => format!("write `{key}: true` or `{key}: false`"),
    };
    r.error(
        Code::NotABoolean,
        &format!("{ptr}/{key}"),
        format!("`{key}` must be a boolean, found {}", describe(value)),
    )
    .help(help);
}

/// Checks `headers`; returns whether they carry credentials.
fn check_headers(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) -> bool {
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

fn check_events(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) {
    let ep = format!("{ptr}/events");
    let names = || Event::names();
    match entry.get("events") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if items.is_empty() => r
            .warning(Code::EmptyEvents, &ep, "`events: []` sends every event")
            .help("an empty filter means no filter; remove the key, or list the events you want"),
        Some(Value::Array(items)) => {
            let mut seen = Vec::new();
            for (j, item) in items.iter().enumerate() {
                let ip = format!("{ep}/{j}");
                match item {
                    Value::String(name) if Event::from_name(name).is_some() => {
                        if seen.contains(name) {
                            r.warning(Code::DuplicateEvent, &ip, format!("`{name}` is listed twice"));
                        }
                        seen.push(name.clone());
                    }
                    Value::String(name) => {
                        let help = match did_you_mean(name, names()) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("the events are: {}", names().collect::<Vec<_>>().join(", ")),
                        };
                        r.error(Code::UnknownEvent, &ip, format!("unknown event `{name}`")).help(help);
                    }
                    other => r
                        .error(
                            Code::UnknownEvent,
                            &ip,
                            format!("an event name must be a string, found {}", describe(other)),
                        )
                        .help(format!("the events are: {}", names().collect::<Vec<_>>().join(", "))),
                }
            }
        }
        Some(Value::String(s)) => {
            r.error(Code::EventsNotList, &ep, "`events` must be a list of event names, found a string").help(format!(
                "write `events: [{s}]`; with a string Chaos Toolkit matches any event whose name is a substring of it"
            ))
        }
        Some(other) => r
            .error(
                Code::EventsNotList,
                &ep,
                format!("`events` must be a list of event names, found {}", describe(other)),
            )
            .help("write `events: [run-failed, run-deviated]`"),
    }
}

fn check_timeout(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) {
    match entry.get("timeout") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_f64().is_some_and(|t| t > 0.0 && t <= MAX_TIMEOUT_SECS) => {}
        Some(other) => r
            .error(
                Code::InvalidTimeout,
                &format!("{ptr}/timeout"),
                format!(
                    "`timeout` must be a number of seconds greater than 0 and at most {MAX_TIMEOUT_SECS}, found {}",
                    describe(other)
                ),
            )
            .help("write a bare number of seconds, e.g. `timeout: 2.5` (no quotes, no unit)"),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

fn check_plugin(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) {
    let mp = format!("{ptr}/module");
    match entry.get("module") {
        None | Some(Value::Null) => r.error(Code::MissingModule, ptr, "plugin channel has no `module`").help("add `module: package.module` (e.g. `chaosslack.notification`); Chaos Toolkit crashes the whole command on this"),
        Some(Value::String(m)) if m.split('.').all(is_identifier) => {}
        Some(Value::String(m)) => r.error(Code::InvalidModule, &mp, if m.is_empty() { "`module` is empty".into() } else { format!("`{m}` is not a dotted module path") }).help("write identifiers separated by dots, e.g. `chaosslack.notification`"),
        Some(other) => r.error(Code::InvalidModule, &mp, format!("`module` must be a string, found {}", describe(other))).help("write the plugin's dotted module path, e.g. `chaosslack.notification`; Chaos Toolkit crashes the whole command on this"),
    }
    match entry.get("func") {
        None => {}
        Some(Value::String(f)) if is_identifier(f) => {}
        Some(other) => r
            .error(
                Code::InvalidFunc,
                &format!("{ptr}/func"),
                match other {
                    Value::String(f) => format!("`{f}` is not a function name"),
                    Value::Null => "`func` is null; Chaos Toolkit would look for a function named `None`".into(),
                    _ => format!("`func` must be a function name, found {}", describe(other)),
                },
            )
            .help("remove `func` to call `notify`, or name a function of the module"),
    }
    // Plugin-specific keys: secrets in plain text, and what built-in plugins require.
    for (key, value) in entry.iter().filter(|(k, _)| !PLUGIN_KEYS.contains(&k.as_str())) {
        let kp = format!("{ptr}/{}", escape_pointer(key));
        match value {
            Value::String(s) => {
                let Some(t) = check_template(&kp, s, r) else { continue };
                if t.is_literal() && is_sensitive_name(key) && !s.is_empty() {
                    plain_text_secret(&kp, &format!("`{key}`"), r);
                }
            }
            // `api_key: 123456`: still a credential in plain text.
            Value::Number(_) if is_sensitive_name(key) => plain_text_secret(&kp, &format!("`{key}`"), r),
            _ => {}
        }
    }
    // What the run-time loader can resolve: built-in plugins, their function, their keys.
    let Some(Value::String(module)) = entry.get("module") else { return };
    if !module.split('.').all(is_identifier) {
        return;
    }
    let Some(b) = builtin(module) else {
        r.warning(Code::UnknownPlugin, &mp, format!("`{module}` is not a built-in plugin")).help(
            "`notifier send/run` and `Notifier::from_settings_file` load only built-in plugins \
                 (chaosslack.notification, notifier.jsonl) and those a program registers; map it in \
                 `settings!` (`plugins: { … }`) or `PluginRegistry::register`",
        );
        return;
    };
    if let Some(Value::String(func)) = entry.get("func")
        && func != b.func
        && is_identifier(func)
    {
        r.error(
            Code::UnknownFunc,
            &format!("{ptr}/func"),
            format!("the built-in plugin `{module}` has no function `{func}`"),
        )
        .help(format!("its function is `{}`; remove `func` to use it", b.func));
    }
    for key in b.required {
        match entry.get(*key) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            None => r
                .error(Code::MissingPluginKey, ptr, format!("`{module}` needs `{key}`"))
                .help(format!("add `{key}: …` to this channel")),
            Some(other) => {
                r.error(
                    Code::InvalidPluginKey,
                    &format!("{ptr}/{key}"),
                    format!(
                        "`{key}` of `{module}` must be a non-empty string, found {}",
                        if is_sensitive_name(key) { describe_secret(other).to_owned() } else { describe(other) }
                    ),
                );
            }
        }
    }
}

/// Two channels that would send the same thing to the same place.
fn check_duplicate_channels(channels: &[Value], r: &mut Report<'_>) {
    let identity = |c: &Value| -> Option<String> {
        let m = c.as_object()?;
        let mut m = m.clone();
        // Channels differing only by filter order are the same.
        if let Some(Value::Array(ev)) = m.get_mut("events") {
            ev.sort_by_key(|v| v.to_string());
        }
        Some(Value::Object(m).to_string())
    };
    // Linear in the number of channels: first occurrence of each identity.
    let mut first_of: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, channel) in channels.iter().enumerate() {
        let Some(id) = identity(channel) else { continue };
        let first = *first_of.entry(id).or_insert(i);
        if first != i {
            let line = r.line_of(&format!("/notifications/{first}"));
            r.warning(
                Code::DuplicateChannel,
                &format!("/notifications/{i}"),
                format!("channel #{} is the same as channel #{} (line {line})", i + 1, first + 1),
            )
            .help("every event would be delivered twice; remove one");
        }
    }
}

/// Reports keys written twice in one mapping.
pub(crate) fn check_duplicate_keys(doc: &crate::located::LocatedDocument, r: &mut Report<'_>) {
    for dup in &doc.duplicates {
        // Inside `notifications`, or `notifications` itself written twice: a whole list of
        // channels would be dropped silently.
        let in_notifications =
            dup.parent.starts_with("/notifications") || (dup.parent.is_empty() && dup.key == "notifications");
        let severity: Severity = if in_notifications { Error } else { Warning };
        r.push_span(
            severity,
            Code::DuplicateKey,
            &format!("{}/{}", dup.parent, escape_pointer(&dup.key)),
            dup.span,
            format!("key `{}` appears twice in this mapping (first at line {})", dup.key, dup.first.start.line),
        )
        .help("Chaos Toolkit keeps the last value silently; remove one");
    }
}

/// Reports `.inf` and `.nan` inside `notifications` (JSON, and so the channels, cannot
/// hold them; elsewhere in the file they are none of our business).
pub(crate) fn check_non_finite(doc: &crate::located::LocatedDocument, r: &mut Report<'_>) {
    for (pointer, value) in doc.non_finite.iter().filter(|(p, _)| p.starts_with("/notifications/")) {
        let written = if value.is_nan() {
            ".nan"
        } else if *value > 0.0 {
            ".inf"
        } else {
            "-.inf"
        };
        r.error(
            Code::NotFinite,
            pointer,
            format!("`{written}` is not a usable number here: JSON has no infinity or NaN"),
        )
        .help(if pointer.ends_with("/timeout") {
            format!("write a number of seconds, at most {MAX_TIMEOUT_SECS}")
        } else {
            "write a finite number".into()
        });
    }
}

/// The type of a value that may be a credential, never its content.
fn describe_secret(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(s) if s.is_empty() => "an empty string",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
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

/// A short description of a JSON value's type for messages, without its content
/// (which may be a secret), except for booleans, null and short strings of small words.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.is_empty() => "an empty string".into(),
        Value::String(s) if s.trim().is_empty() => "a blank string".into(),
        Value::String(s) if s.len() <= 12 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
            format!("the string \"{s}\"")
        }
        Value::String(_) => "a string".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}
