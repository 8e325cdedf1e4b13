//! Request bodies of http channels: `template`, `content_type`, `format`, `options`.
//!
//! A template is parsed with the run time's own engine (`notifier_core::body`); its
//! syntax errors and unknown variables are reported at the offending character's line
//! and column in the file (through the YAML scalar, block scalars included), and the
//! body is rendered against a sample envelope of every event the channel takes
//! (`notifier_core::body::samples`) and checked against its content type, so a template
//! that cannot make a valid body is found before anything runs.

use std::sync::Arc;

use serde_json::{Map, Value};

use notifier_core::body::{self, Body, BodyError, CONTEXT, DEFAULT_CONTENT_TYPE, FORMATS, samples};
use notifier_core::redact::is_sensitive_name;
use notifier_core::template::Template;
use notifier_core::{Event, EventSet};

use super::describe::describe;
use super::secrets::plain_text_secret;
use super::templates::check_template;
use crate::code::Code;
use crate::diagnostic::Severity;
use crate::located::escape_pointer;
use crate::report::Report;
use crate::suggest::did_you_mean;

const TEMPLATE_HELP: &str = "Jinja2 syntax: `{{ expression }}`, `{% if … %}…{% endif %}`, `{# comment #}`; \
                             see docs/TEMPLATES.md";

/// Checks the body keys of http channel `ptr`.
pub(super) fn check_body(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) {
    let template = entry.get("template");
    let format = entry.get("format");
    let sends_body = entry.get("forward_event_payload") != Some(&Value::Bool(false));
    let options = check_options_shape(ptr, entry, r);
    check_conflicts(ptr, entry, r);
    let content_type = check_content_type(ptr, entry, r);
    let events = subscribed(entry);
    match (template, format) {
        (Some(_), Some(_)) => {}
        (Some(t), None) if sends_body => {
            if let Some(ct) = content_type {
                check_template_body(ptr, t, &ct, options.unwrap_or_default(), events, r);
            }
        }
        (None, Some(f)) => check_format(ptr, f, options.unwrap_or_default(), events, sends_body, r),
        _ => {}
    }
}

/// `options` must be a mapping; its strings may use `${VAR}`; credentials in it should.
fn check_options_shape(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) -> Option<Map<String, Value>> {
    let options_ptr = format!("{ptr}/options");
    match entry.get("options") {
        None | Some(Value::Null) => Some(Map::new()),
        Some(Value::Object(map)) => {
            let mut stack: Vec<(String, &str, &Value)> =
                map.iter().map(|(k, v)| (format!("{options_ptr}/{}", escape_pointer(k)), k.as_str(), v)).collect();
            while let Some((p, key, v)) = stack.pop() {
                match v {
                    Value::String(s) => {
                        let parsed = check_template(&p, s, r);
                        if is_sensitive_name(key) && parsed.is_some_and(|t: Template| t.is_literal()) && !s.is_empty() {
                            plain_text_secret(&p, &format!("`options.{key}`"), r);
                        }
                    }
                    Value::Array(items) => {
                        stack.extend(items.iter().enumerate().map(|(i, item)| (format!("{p}/{i}"), key, item)));
                    }
                    Value::Object(m) => {
                        stack.extend(m.iter().map(|(k, v)| (format!("{p}/{}", escape_pointer(k)), k.as_str(), v)));
                    }
                    _ => {}
                }
            }
            Some(map.clone())
        }
        Some(other) => {
            r.error(
                Code::InvalidFormatOption,
                &options_ptr,
                format!("`options` must be a mapping, found {}", describe(other)),
            )
            .help("write `options: {routing_key: ${PAGERDUTY_KEY}}`, one option per key");
            None
        }
    }
}

/// Keys that cannot go together.
fn check_conflicts(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) {
    let has = |k: &str| entry.get(k).is_some_and(|v| !v.is_null());
    let default_format = entry.get("format").and_then(Value::as_str) == Some(body::DEFAULT_FORMAT);
    if has("template") && has("format") {
        r.error(
            Code::BodyConflict,
            &format!("{ptr}/format"),
            "a channel has either a `template` or a `format`, not both",
        )
        .at_key()
        .help("keep `template` (a copy of a format is `notifier formats show NAME`) or `format`");
    }
    if entry.get("forward_event_payload") == Some(&Value::Bool(false)) {
        for key in ["template", "format"] {
            if has(key) && !(key == "format" && default_format) {
                r.error(
                    Code::BodyConflict,
                    &format!("{ptr}/{key}"),
                    format!(
                        "`{key}` on a channel with `forward_event_payload: false`, which sends a GET without a body"
                    ),
                )
                .at_key()
                .help(
                    "remove `forward_event_payload: false` to POST the body, or remove `{key}`".replace("{key}", key),
                );
            }
        }
    }
    let has_options = entry.get("options").is_some_and(|o| o.as_object().is_none_or(|m| !m.is_empty()));
    if has_options && !has("template") && !has("format") {
        r.error(Code::BodyConflict, &format!("{ptr}/options"), "`options` without a `format` or a `template`")
            .at_key()
            .help("`options` are read by a `format` (`notifier formats show NAME` lists its options) or a `template`");
    }
    if has("content_type") && !has("template") {
        r.error(Code::BodyConflict, &format!("{ptr}/content_type"), "`content_type` without a `template`")
            .at_key()
            .help("`content_type` is the type of a `template`'s body; a `format` sets its own");
    }
}

/// The content type of the template's body: `content_type` or the default.
fn check_content_type(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) -> Option<String> {
    let ct_ptr = format!("{ptr}/content_type");
    match entry.get("content_type") {
        None | Some(Value::Null) => Some(DEFAULT_CONTENT_TYPE.to_owned()),
        Some(Value::String(ct)) if body::is_valid_content_type(ct) => Some(ct.clone()),
        Some(Value::String(ct)) => {
            r.error(Code::InvalidContentType, &ct_ptr, format!("`{ct}` is not a media type"))
                .help("write `type/subtype`, e.g. `application/json`, `text/plain; charset=utf-8`");
            None
        }
        Some(other) => {
            r.error(
                Code::InvalidContentType,
                &ct_ptr,
                format!("`content_type` must be a string, found {}", describe(other)),
            )
            .help("write e.g. `content_type: text/plain`");
            None
        }
    }
}

/// The events the channel takes (every event when `events` is missing, empty or has a
/// mistake, which its own check reports).
fn subscribed(entry: &Map<String, Value>) -> EventSet {
    match entry.get("events").and_then(Value::as_array) {
        Some(names) if !names.is_empty() => {
            let set: EventSet = names.iter().filter_map(|n| n.as_str()?.parse().ok()).collect();
            if set.is_empty() { EventSet::ALL } else { set }
        }
        _ => EventSet::ALL,
    }
}

fn check_template_body(
    ptr: &str,
    template: &Value,
    content_type: &str,
    options: Map<String, Value>,
    events: EventSet,
    r: &mut Report<'_>,
) {
    let t_ptr = format!("{ptr}/template");
    let source = match template {
        Value::String(s) if !s.trim().is_empty() => s,
        other => {
            r.error(
                Code::TemplateSyntax,
                &t_ptr,
                format!("`template` must be a non-empty string, found {}", describe(other)),
            )
            .help("write the body as a YAML block: `template: |` and the template indented below");
            return;
        }
    };
    let body = match Body::template(source, content_type, options) {
        Ok(body) => body,
        Err(BodyError::Syntax { message, range }) => {
            r.push_in_value(
                Severity::Error,
                Code::TemplateSyntax,
                &t_ptr,
                source,
                range,
                format!("template syntax error: {message}"),
            )
            .help(TEMPLATE_HELP);
            return;
        }
        Err(other) => {
            r.error(Code::TemplateSyntax, &t_ptr, other.to_string());
            return;
        }
    };
    for (name, range) in body.unknown_variables() {
        let root = name.split('.').next().unwrap_or(&name);
        let help = match did_you_mean(root, CONTEXT.iter().map(|e| e.name)) {
            Some(s) => format!("did you mean `{s}{}`?", &name[root.len()..]),
            None => {
                let names: Vec<&str> = CONTEXT.iter().map(|e| e.name).collect();
                format!("the template context has: {}", names.join(", "))
            }
        };
        r.push_in_value(
            Severity::Warning,
            Code::UnknownTemplateVariable,
            &t_ptr,
            source,
            range,
            format!("the template reads `{name}`, which is not in the template context (it renders as none)"),
        )
        .help(help);
    }
    check_renders(&t_ptr, Some(source), &body, events, r);
}

fn check_format(
    ptr: &str,
    format: &Value,
    options: Map<String, Value>,
    events: EventSet,
    sends_body: bool,
    r: &mut Report<'_>,
) {
    let f_ptr = format!("{ptr}/format");
    let names = || FORMATS.iter().map(|f| f.name);
    let Some(name) = format.as_str() else {
        r.error(Code::UnknownFormat, &f_ptr, format!("`format` must be a string, found {}", describe(format)))
            .help(format!("one of: {}", names().collect::<Vec<_>>().join(", ")));
        return;
    };
    let Some(spec) = body::formats::find(name) else {
        let help = match did_you_mean(name, names()) {
            Some(s) => format!("did you mean `{s}`? (`notifier formats` lists the built-in formats)"),
            None => format!("the built-in formats are: {}", names().collect::<Vec<_>>().join(", ")),
        };
        r.error(Code::UnknownFormat, &f_ptr, format!("unknown body format `{name}`")).help(help);
        return;
    };
    let resolved = match spec.resolve_options(&options) {
        Ok(resolved) => resolved,
        Err(problems) => {
            for p in problems {
                let at = if p.key.is_empty() { f_ptr.clone() } else { format!("{ptr}/options/{}", p.key) };
                let reported = r.error(Code::InvalidFormatOption, &at, p.message);
                let reported = if p.key.is_empty() || p.key.contains('/') { reported } else { reported.at_key() };
                if let Some(help) = p.help {
                    reported.help(help);
                }
            }
            return;
        }
    };
    if !sends_body {
        return;
    }
    match Body::template(spec.template_text(), spec.content_type, resolved) {
        Ok(body) => check_renders(&f_ptr, None, &body, events, r),
        Err(e) => {
            r.error(Code::Internal, &f_ptr, format!("internal error: format `{name}` does not compile: {e}"));
        }
    }
}

/// Whether a `{{` of the template opens inside a JSON string of its text (an odd number
/// of unescaped `"` before it on its line): the usual way to get an invalid JSON body.
fn expression_in_a_string(source: &str) -> bool {
    source.lines().any(|line| {
        let mut quotes = 0;
        let mut escaped = false;
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\\' if !escaped => {
                    escaped = true;
                    continue;
                }
                b'"' if !escaped => quotes += 1,
                b'{' if bytes.get(i + 1) == Some(&b'{') && quotes % 2 == 1 => return true,
                _ => {}
            }
            escaped = false;
        }
        false
    })
}

/// Renders `body` for a sample of every event in `events` and reports, once, the events
/// whose body fails to render or is not valid for its content type.
fn check_renders(pointer: &str, source: Option<&str>, body: &Body, events: EventSet, r: &mut Report<'_>) {
    let mut failing: Vec<(Event, notifier_core::body::RenderError)> = Vec::new();
    for event in Event::ALL.into_iter().filter(|e| events.contains(*e)) {
        if let Err(e) = body.render_located(&Arc::new(samples::envelope(event))) {
            failing.push((event, e));
        }
    }
    let Some((first, error)) = failing.first() else { return };
    let also = match failing.len() {
        1 => String::new(),
        2 => format!(" (and for `{}`)", failing[1].0),
        n => format!(" (and for {} other events)", n - 1),
    };
    let what = if source.is_some() { "the template" } else { "this format" };
    let message = format!("{what} does not make a valid body for a sample `{first}` event{also}: {}", error.message);
    let help = if source.is_some_and(expression_in_a_string) && body.is_json() {
        "`{{ … }}` writes a complete JSON value, quotes included: write `\"key\": {{ value }}`, \
         and build longer strings inside the expression: `{{ \"Run \" ~ title ~ \" failed\" }}`"
    } else if body.is_json() {
        "the content type is JSON: the template's own text (braces, commas, quotes) must make a JSON document \
         around the `{{ … }}` values; `notifier send EVENT --dry-run` shows the rendered body"
    } else {
        "`notifier send EVENT --dry-run` shows the rendered body"
    };
    match source {
        Some(s) => r.push_in_value(Severity::Error, Code::InvalidBody, pointer, s, error.range.clone(), message),
        None => r.error(Code::InvalidBody, pointer, message),
    }
    .help(help);
}
