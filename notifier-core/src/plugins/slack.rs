//! `chaosslack.notification`: posts the chaostoolkit-slack 0.10.0 message to Slack.
//!
//! ```yaml
//! notifications:
//!   - type: plugin
//!     module: chaosslack.notification
//!     token: ${SLACK_BOT_TOKEN}   # required: a Slack API token
//!     channel: chaos-runs         # required: with or without the leading `#`
//!     base_url: https://slack.com/api/   # optional, our extension (see below)
//! ```
//!
//! Each event becomes one `POST {base_url}chat.postMessage` with
//! `Authorization: Bearer <token>`, `Content-Type: application/json;charset=utf-8` (as
//! slackclient sends it) and the body
//! chaostoolkit-slack 0.10.0 sends through slackclient 2.9.4, byte for byte (Python's
//! `json.dumps` encoding, keys in the same order):
//!
//! ```json
//! {"text": "New Chaos Experiment Event", "attachments": [...], "channel": "#chaos-runs"}
//! ```
//!
//! * The first attachment has the fields `Source` (the phase), `Event` (the event name) and,
//!   when the payload has one, `Experiment` (its `title`, else `experiment.title`).
//! * For an object payload, a `Steady State` attachment follows: `Hypothesis` (the title of
//!   `steady-state-hypothesis`, of the payload or of its `experiment`, else `N/A`), then
//!   `Before` and `After` (`ok` / `not met`) from a journal's `steady_states`. A hypothesis
//!   that was not met adds `Tolerance Output`: the last probe's output as Python prints it
//!   (`str()`, so a dict looks like `{'status': 1}`) inside triple backticks, or the last
//!   line of its exception when the output is empty. Its colour becomes `warning` (before)
//!   or `danger` (after).
//! * `Failed Activities` and `Failed Rollbacks` attachments list the journal's `run` and
//!   `rollbacks` entries whose status is `failed`, titled by activity name, rendered the
//!   same way.
//! * Only the last attachment carries `ts` (the envelope's), `footer` and `footer_icon`.
//!
//! Keys:
//!
//! * `token` (required): leading and trailing whitespace is removed, as the reference does.
//!   It is never written into an error message.
//! * `channel` (required): normalised like the reference, `"#" + channel.lstrip("#").strip()`.
//! * `base_url` (optional, **our extension**, chaostoolkit-slack has no such key): the Slack
//!   Web API root, default [`DEFAULT_BASE_URL`]. A missing trailing `/` is added. Point it at
//!   a proxy, a Slack-compatible server or a test server.
//! * `timeout` (optional): seconds for the HTTP call, default 5. The dispatcher's budget for
//!   the channel bounds the call in any case.
//!
//! Differences from the reference, on purpose:
//!
//! * Failures are errors of the channel (they show in the delivery report) instead of debug
//!   lines: a missing token or channel is [`PluginError::Config`]; a transport error, a
//!   non-2xx status or a Slack answer without `"ok": true` (for instance
//!   `{"ok": false, "error": "invalid_auth"}`) is [`PluginError::Failed`].
//! * Payload shapes that make chaostoolkit-slack raise (and send nothing) still produce a
//!   message here: a `steady-state-hypothesis`, `experiment`, `steady_states`, hypothesis
//!   state, probe, run or activity that is not an object, a `run`/`rollbacks` that is not a
//!   list, or a hypothesis state without probes, are treated as absent, and a hypothesis
//!   state without `steady_state_met` counts as not met.
//! * No `DeprecationWarning`, and no `User-Agent` of slackclient's (ours is the notifier's).

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::envelope::{Envelope, is_truthy};
use crate::plugin::{PluginConfig, PluginError};

use crate::pyvalue::{python_str, python_strip};

/// The Slack Web API root used when the channel entry has no `base_url`.
pub const DEFAULT_BASE_URL: &str = "https://slack.com/api/";

/// The message's `text`, the same for every event.
pub const MESSAGE_TEXT: &str = "New Chaos Experiment Event";

/// The default colour of the first and the steady-state attachments.
const COLOR: &str = "#439FE0";
const FOOTER: &str = "Chaos Toolkit";
const FOOTER_ICON: &str = "https://avatars1.githubusercontent.com/u/32068152?s=16&v=4";
/// The HTTP timeout when the entry has no usable `timeout`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest Slack error text kept in an error message.
const MAX_ERROR_CHARS: usize = 200;

/// The plugin function: posts the message for `envelope` with `chat.postMessage`.
///
/// # Errors
///
/// [`PluginError::Config`] when `token` or `channel` is missing, empty or not a string, or
/// `base_url` is not an `http(s)` URL; [`PluginError::Failed`] when the request fails, Slack
/// answers with a non-2xx status, or its answer is not `{"ok": true, …}`.
pub fn notify(config: &PluginConfig, envelope: &Envelope) -> Result<(), PluginError> {
    let settings = Settings::from_config(config)?;
    let body = crate::wire::to_python_json(&message(envelope, &settings.channel));
    let url = format!("{}chat.postMessage", settings.base_url);
    let authorization = format!("Bearer {}", settings.token);
    // slackclient's Content-Type, which replaces the transport's `application/json`.
    let mut headers = Vec::with_capacity(2);
    headers.push(("Content-Type", "application/json;charset=utf-8"));
    // slackclient sends no Authorization header for an empty token; neither do we.
    if !settings.token.is_empty() {
        headers.push(("Authorization", authorization.as_str()));
    }
    let result = crate::transport::post_json_blocking(&url, &headers, body, settings.timeout);
    check_answer(result).map_err(|message| PluginError::Failed(settings.scrub(&message)))
}

/// `"#" + channel.lstrip("#").strip()`, as chaostoolkit-slack normalises channel names.
///
/// `"chaos"`, `"#chaos"` and `"## chaos "` all give `"#chaos"`; `" #chaos"` gives
/// `"##chaos"`, because the hashes are stripped before the whitespace.
pub fn normalise_channel(channel: &str) -> String {
    format!("#{}", python_strip(channel.trim_start_matches('#')))
}

/// The `chat.postMessage` body for `envelope`, posted to `channel` (already normalised, see
/// [`normalise_channel`]), with the keys in the reference's order.
pub fn message(envelope: &Envelope, channel: &str) -> Value {
    let mut main_fields =
        vec![field("Source", json!(envelope.phase().as_str()), true), field("Event", json!(envelope.name()), true)];
    let mut steady = Attachment::new(Some("Steady State"), COLOR);
    let mut activities = Attachment::new(Some("Failed Activities"), "danger");
    let mut rollbacks = Attachment::new(Some("Failed Rollbacks"), "danger");

    if let Some(payload) = envelope.payload.as_object().filter(|p| !p.is_empty()) {
        // The payload's own keys win; a journal keeps them under `experiment`.
        let experiment = payload.get("experiment").and_then(Value::as_object);
        let lookup = |key: &str| {
            payload
                .get(key)
                .filter(|v| is_truthy(v))
                .or_else(|| experiment.and_then(|e| e.get(key)))
                .filter(|v| is_truthy(v))
        };
        if let Some(title) = lookup("title") {
            main_fields.push(field("Experiment", title.clone(), false));
        }
        let hypothesis = match lookup("steady-state-hypothesis").and_then(Value::as_object) {
            Some(h) => h.get("title").cloned().unwrap_or(Value::Null),
            None => json!("N/A"),
        };
        steady.fields.push(field("Hypothesis", hypothesis, false));

        if let Some(states) = payload.get("steady_states").and_then(Value::as_object) {
            for (key, label, color) in [("before", "Before", "warning"), ("after", "After", "danger")] {
                let Some(state) = states.get(key).and_then(Value::as_object).filter(|s| !s.is_empty()) else {
                    continue;
                };
                let met = state.get("steady_state_met").is_some_and(is_truthy);
                steady.fields.push(field(label, json!(if met { "ok" } else { "not met" }), false));
                if !met {
                    steady.color = color;
                    let probe = state.get("probes").and_then(Value::as_array).and_then(|p| p.last());
                    let probe = probe.and_then(Value::as_object);
                    steady.fields.push(field("Tolerance Output", json!(output_text(probe)), false));
                }
            }
        }

        for (key, into) in [("run", &mut activities), ("rollbacks", &mut rollbacks)] {
            for record in payload.get(key).and_then(Value::as_array).into_iter().flatten() {
                let Some(record) = record.as_object() else { continue };
                if record.get("status").and_then(Value::as_str) != Some("failed") {
                    continue;
                }
                let name = record.get("activity").and_then(|a| a.get("name")).cloned().unwrap_or(Value::Null);
                into.fields.push(field(name, json!(output_text(Some(record))), false));
            }
        }
    }

    // The reference drops `ts` and the footer from an attachment when one follows it.
    let mut main = Attachment::new(None, COLOR);
    main.fields = main_fields;
    main.footer = steady.fields.is_empty();
    steady.footer = activities.fields.is_empty() && rollbacks.fields.is_empty();
    activities.footer = rollbacks.fields.is_empty();

    let mut attachments = vec![main.into_value(envelope.ts)];
    for attachment in [steady, activities, rollbacks] {
        if !attachment.fields.is_empty() {
            attachments.push(attachment.into_value(envelope.ts));
        }
    }
    json!({"text": MESSAGE_TEXT, "attachments": attachments, "channel": channel})
}

/// One attachment while the message is being built.
struct Attachment {
    text: Option<&'static str>,
    fields: Vec<Value>,
    color: &'static str,
    footer: bool,
}

impl Attachment {
    fn new(text: Option<&'static str>, color: &'static str) -> Attachment {
        Attachment { text, fields: Vec::new(), color, footer: true }
    }

    fn into_value(self, ts: f64) -> Value {
        let mut map = Map::new();
        if let Some(text) = self.text {
            map.insert("text".into(), json!(text));
        }
        map.insert("fields".into(), Value::Array(self.fields));
        map.insert("color".into(), json!(self.color));
        if self.footer {
            map.insert("ts".into(), json!(ts));
            map.insert("footer_icon".into(), json!(FOOTER_ICON));
            map.insert("footer".into(), json!(FOOTER));
        }
        Value::Object(map)
    }
}

fn field(title: impl Into<Value>, value: Value, short: bool) -> Value {
    json!({"title": title.into(), "value": value, "short": short})
}

/// `"```{msg}```"` for a probe or activity record: `str(output)`, or the last exception
/// line stripped when the output is falsy and there is an exception.
fn output_text(record: Option<&Map<String, Value>>) -> String {
    let output = record.and_then(|r| r.get("output")).unwrap_or(&Value::Null);
    let exception = record.and_then(|r| r.get("exception")).filter(|e| is_truthy(e));
    let text = match (is_truthy(output), exception) {
        (false, Some(Value::Array(lines))) => match lines.last() {
            Some(Value::String(line)) => python_strip(line).to_owned(),
            Some(other) => python_str(other),
            None => python_str(output),
        },
        // Python indexes a string by character: `"boom\n"[-1]` is `"\n"`.
        (false, Some(Value::String(text))) => {
            text.chars().last().map(|c| python_strip(c.encode_utf8(&mut [0; 4])).to_owned()).unwrap_or_default()
        }
        _ => python_str(output),
    };
    format!("```{text}```")
}

/// The channel entry, checked.
struct Settings {
    token: String,
    channel: String,
    base_url: String,
    timeout: Duration,
}

impl Settings {
    fn from_config(config: &PluginConfig) -> Result<Settings, PluginError> {
        let token = required_str(config, "token")?;
        let channel = required_str(config, "channel")?;
        let token = python_strip(token).to_owned();
        if token.chars().any(|c| c.is_control()) {
            return Err(PluginError::Config("Slack token contains characters not allowed in an HTTP header".into()));
        }
        let mut base_url = match config.get("base_url") {
            None | Some(Value::Null) => DEFAULT_BASE_URL.to_owned(),
            Some(Value::String(url)) => url.trim().to_owned(),
            Some(_) => return Err(PluginError::Config("`base_url` must be a string".into())),
        };
        let lower = base_url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) || base_url.contains(['?', '#']) {
            // Not echoed: a base URL may carry credentials.
            return Err(PluginError::Config(
                "`base_url` must be an http:// or https:// URL without query or fragment".into(),
            ));
        }
        if !base_url.ends_with('/') {
            base_url.push('/');
        }
        let timeout = config
            .get("timeout")
            .and_then(Value::as_f64)
            .filter(|t| t.is_finite() && *t > 0.0)
            .map_or(DEFAULT_TIMEOUT, |t| Duration::from_secs_f64(t.min(3600.0)));
        Ok(Settings { token, channel: normalise_channel(channel), base_url, timeout })
    }

    /// `message` with the token masked, in case a server echoes it back.
    fn scrub(&self, message: &str) -> String {
        if self.token.is_empty() { message.to_owned() } else { message.replace(&self.token, "***") }
    }
}

/// A required string key: missing, `null` or any falsy value gets the reference's message.
fn required_str<'a>(config: &'a PluginConfig, key: &str) -> Result<&'a str, PluginError> {
    match config.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(v) if is_truthy(v) => Err(PluginError::Config(format!("Slack notifier requires `{key}` to be a string"))),
        _ => Err(PluginError::Config(format!("Slack notifier requires a {key}"))),
    }
}

/// Accepts a 2xx answer whose JSON body has `"ok": true`, like slackclient's `validate()`.
fn check_answer(result: Result<(u16, Vec<u8>), String>) -> Result<(), String> {
    let (status, body) = result.map_err(|reason| format!("Slack API call failed: {reason}"))?;
    let answer: Option<Value> = serde_json::from_slice(&body).ok();
    let error = answer.as_ref().and_then(|a| a.get("error")).and_then(Value::as_str).map(shorten);
    if !(200..300).contains(&status) {
        return Err(match error {
            Some(error) => format!("Slack API answered HTTP {status}: {error}"),
            None => format!("Slack API answered HTTP {status}"),
        });
    }
    match answer.as_ref().map(|a| a.get("ok")) {
        Some(Some(Value::Bool(true))) => Ok(()),
        Some(Some(_)) => Err(format!("Slack API error: {}", error.unwrap_or_else(|| "unknown error".into()))),
        Some(None) => Err("Slack API answered without an `ok` field".into()),
        None => Err(format!("Slack API answered HTTP {status} with a body that is not JSON")),
    }
}

fn shorten(text: &str) -> String {
    let mut chars = text.chars();
    let mut short: String = chars.by_ref().take(MAX_ERROR_CHARS).collect();
    if chars.next().is_some() {
        short.push('…');
    }
    short.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    fn config(entry: Value) -> PluginConfig {
        PluginConfig::new(entry.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn channel_normalisation_matches_the_reference() {
        for (raw, want) in
            [("chaos", "#chaos"), ("#chaos", "#chaos"), ("## chaos \t", "#chaos"), (" #chaos", "##chaos"), ("###", "#")]
        {
            assert_eq!(normalise_channel(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn missing_or_wrong_keys_are_config_errors() {
        let err = |entry: Value| Settings::from_config(&config(entry)).err().map(|e| e.to_string());
        assert_eq!(
            err(json!({"channel": "c"})).as_deref(),
            Some("invalid plugin configuration: Slack notifier requires a token")
        );
        assert_eq!(
            err(json!({"token": "", "channel": "c"})).as_deref(),
            Some("invalid plugin configuration: Slack notifier requires a token")
        );
        assert_eq!(
            err(json!({"token": "t", "channel": null})).as_deref(),
            Some("invalid plugin configuration: Slack notifier requires a channel")
        );
        assert_eq!(
            err(json!({"token": 5, "channel": "c"})).as_deref(),
            Some("invalid plugin configuration: Slack notifier requires `token` to be a string")
        );
        assert!(err(json!({"token": "t", "channel": "c", "base_url": "ftp://x/"})).unwrap().contains("base_url"));
        assert!(err(json!({"token": "t", "channel": "c", "base_url": 3})).unwrap().contains("base_url"));
        let e = err(json!({"token": "secret\nvalue", "channel": "c"})).unwrap();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn base_url_gets_a_trailing_slash() {
        let s = Settings::from_config(&config(json!({"token": " t ", "channel": "c", "base_url": "http://h:1/api"})))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s.base_url.as_str(), s.token.as_str(), s.channel.as_str()), ("http://h:1/api/", "t", "#c"));
        let s = Settings::from_config(&config(json!({"token": "t", "channel": "c"}))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.base_url, DEFAULT_BASE_URL);
        assert_eq!(s.timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn answers() {
        assert_eq!(check_answer(Ok((200, br#"{"ok": true}"#.to_vec()))), Ok(()));
        assert_eq!(
            check_answer(Ok((200, br#"{"ok": false, "error": "invalid_auth"}"#.to_vec()))),
            Err("Slack API error: invalid_auth".into())
        );
        assert_eq!(check_answer(Ok((500, b"oops".to_vec()))), Err("Slack API answered HTTP 500".into()));
        assert_eq!(
            check_answer(Ok((429, br#"{"ok": false, "error": "ratelimited"}"#.to_vec()))),
            Err("Slack API answered HTTP 429: ratelimited".into())
        );
        assert_eq!(check_answer(Ok((200, b"{}".to_vec()))), Err("Slack API answered without an `ok` field".into()));
        assert!(check_answer(Ok((200, b"<html>".to_vec()))).unwrap_err().contains("not JSON"));
        assert_eq!(check_answer(Err("refused".into())), Err("Slack API call failed: refused".into()));
    }

    #[test]
    fn non_object_payload_has_only_the_main_attachment() {
        let env = Envelope::at(Event::DiscoveryStarted, json!("chaostoolkit-slack"), None, 1.5);
        assert_eq!(
            message(&env, "#c"),
            json!({"text": MESSAGE_TEXT, "attachments": [{"fields": [
                {"title": "Source", "value": "discovery", "short": true},
                {"title": "Event", "value": "discovery-started", "short": true}],
                "color": COLOR, "ts": 1.5, "footer_icon": FOOTER_ICON, "footer": FOOTER}], "channel": "#c"})
        );
    }

    #[test]
    fn output_text_falls_back_to_the_exception() {
        let text = |r: Value| output_text(r.as_object());
        assert_eq!(text(json!({"output": {"a": 1}})), "```{'a': 1}```");
        assert_eq!(text(json!({"output": null, "exception": ["x\n", " last \n"]})), "```last```");
        assert_eq!(text(json!({"output": 0, "exception": []})), "```0```");
        assert_eq!(text(json!({"output": "", "exception": "boom \n"})), "``````");
        assert_eq!(output_text(None), "```None```");
    }
}
