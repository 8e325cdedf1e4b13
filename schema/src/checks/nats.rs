//! The `notifier.nats` built-in plugin: its server URLs, subject, stream, format,
//! credentials and TLS files, with the functions the plugin itself runs
//! ([`check_servers`], [`Subject::parse`]), so `check` and run time agree.

use serde_json::{Map, Value};

use notifier_core::plugins::nats::{FORMATS, SpecError, Subject, check_servers};

use super::describe::describe;
use super::numbers::check_retries;
use crate::code::Code;
use crate::diagnostic::Severity;
use crate::report::Report;
use crate::suggest::did_you_mean;

/// Checks the keys of a `notifier.nats` channel at `ptr` (the required ones are already
/// known to be non-empty strings, or reported).
pub(super) fn check_nats(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) {
    if let Some(Value::String(url)) = entry.get("url")
        && let Err(e) = check_servers(url)
    {
        at_char(r, Code::InvalidNatsUrl, &format!("{ptr}/url"), url, &e)
            .help("write `nats://host:4222` (or `tls://host:4222` for TLS), several separated by commas");
    }
    if let Some(Value::String(subject)) = entry.get("subject")
        && !subject.trim().is_empty()
        && let Err(e) = Subject::parse(subject)
    {
        let help = match e.unknown_field.as_deref().and_then(|f| did_you_mean(f, ["event", "phase", "outcome"])) {
            Some(near) => format!("did you mean `{{{near}}}`?"),
            None => "write tokens separated by dots, e.g. `chaos.{event}`; `{event}`, `{phase}` and `{outcome}` \
                     are filled in per event"
                .to_owned(),
        };
        at_char(r, Code::InvalidSubject, &format!("{ptr}/subject"), subject, &e).help(help);
    }
    check_retries(ptr, entry, r);
    match entry.get("format") {
        None | Some(Value::Null) => {}
        Some(Value::String(f)) if FORMATS.contains(&f.as_str()) => {}
        Some(other) => r
            .error(
                Code::InvalidNatsSetting,
                &format!("{ptr}/format"),
                format!("`format` of `notifier.nats` must be {}, found {}", FORMATS.join(" or "), describe(other)),
            )
            .help("`chaostoolkit` publishes the envelope, `cloudevents` a CloudEvents 1.0 event (structured mode)"),
    }
    match entry.get("stream") {
        None | Some(Value::Null) => {}
        Some(Value::String(s))
            if !s.is_empty() && !s.contains("${") && s.chars().any(|c| ".*>".contains(c) || c.is_whitespace()) =>
        {
            r.error(Code::InvalidNatsSetting, &format!("{ptr}/stream"), format!("`{s}` is not a stream name"))
                .help("a stream name has no `.`, `*`, `>` or white space");
        }
        Some(Value::String(_)) => {}
        Some(other) => {
            r.error(
                Code::InvalidNatsSetting,
                &format!("{ptr}/stream"),
                format!("`stream` must be a stream name, found {}", describe(other)),
            );
        }
    }
    let has = |k: &str| matches!(entry.get(k), Some(v) if !v.is_null());
    let (token, user, password, creds) = (has("token"), has("user"), has("password"), has("creds"));
    if user != password {
        let missing = if user { "password" } else { "user" };
        r.error(Code::InvalidNatsSetting, ptr, format!("`user` and `password` go together: `{missing}` is missing"))
            .help(format!("add `{missing}: ${{…}}`, or remove the other"));
    }
    if [token, user || password, creds].iter().filter(|&&b| b).count() > 1 {
        r.error(Code::InvalidNatsSetting, ptr, "give one kind of credential: `token`, `user` + `password`, or `creds`")
            .help("remove the others");
    }
    if has("tls_cert") != has("tls_key") {
        r.error(Code::InvalidNatsSetting, ptr, "`tls_cert` and `tls_key` go together (a client certificate)")
            .help("add the missing one, or remove both");
    }
}

fn at_char<'r, 'a>(
    r: &'r mut Report<'a>,
    code: Code,
    pointer: &str,
    value: &str,
    e: &SpecError,
) -> crate::report::Reported<'r> {
    r.push_in_value(Severity::Error, code, pointer, value, e.range.clone(), e.message.clone())
}
