//! The filters body templates get beyond Jinja2's built-ins: cutting text to a
//! receiver's limit, slugs, and escaping for chat markup.

use minijinja::{Environment, Value as JValue};

/// Adds the body filters to `env`.
pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("truncate", truncate);
    env.add_filter("slug", |v: JValue| slug(&text_of(&v), 200));
    env.add_filter("printable", |v: JValue| printable(&text_of(&v)));
    env.add_filter("entities", |v: JValue| entities(&text_of(&v)));
}

/// A value as text: strings as they are, anything else as it renders.
fn text_of(v: &JValue) -> String {
    match v.as_str() {
        Some(s) => s.to_owned(),
        None if v.is_undefined() || v.is_none() => String::new(),
        None => v.to_string(),
    }
}

/// `value | truncate(n, end="…")`: at most `n` characters (Unicode scalar values), the
/// last being `end` when something was cut. Receivers count characters, not bytes; a
/// cut never splits a character, so the JSON stays valid.
fn truncate(value: JValue, length: usize, end: Option<String>) -> String {
    let text = text_of(&value);
    cut(&text, length, end.as_deref().unwrap_or("…"))
}

pub(super) fn cut(text: &str, length: usize, end: &str) -> String {
    if text.chars().count() <= length {
        return text.to_owned();
    }
    let keep = length.saturating_sub(end.chars().count());
    let mut out: String = text.chars().take(keep).collect();
    if keep > 0 || length >= end.chars().count() {
        out.push_str(end);
    }
    out.chars().take(length).collect()
}

/// Lower-case ASCII letters and digits, runs of anything else as one `-`, at most `max`
/// characters, no `-` at either end: `Stop the DB!` → `stop-the-db`.
pub(super) fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if out.len() >= max {
                break;
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Control characters (C0, DEL, C1) removed: CloudEvents attribute strings may not hold
/// them.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// `&`, `<` and `>` as `&amp;`, `&lt;`, `&gt;`: what Slack mrkdwn and Google Chat text
/// need so user text cannot form links or mentions.
fn entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}
