//! The settings file as serde + schemars types.
//!
//! These types are the single source of the JSON Schema (`schema/settings.schema.json`
//! is generated from them) and of the typed model the compiler lowers to the channel
//! table. They are strict inside `notifications` and open everywhere else: Chaos Toolkit
//! keeps `controls`, `auths`, `runtime`… in the same file and those are none of our
//! business.
//!
//! The semantic checks take nothing from elsewhere: the limits below are used by the
//! schemars attributes and the checks alike, and the keys each channel type interprets
//! and the channel types themselves are read from the generated schema
//! (`schema::channel_keys`, `schema::channel_types`).

use std::borrow::Cow;

use notifier_core::Event;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

/// The `$id` of the settings schema: where the checked-in copy
/// (`schema/settings.schema.json`) is served from the repository's main branch. It names
/// no version, so a modeline or an editor setting that uses it never needs changing.
pub const SCHEMA_ID: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/raw/main/schema/settings.schema.json");

/// Gives the `type` key of each channel type (the serde tag, which has no field of its
/// own to carry attributes) a title, a description and an example, for editors' hover
/// text and completion.
fn describe_type_tag(schema: &mut Schema) {
    let Some(branches) = schema.get_mut("oneOf").and_then(Value::as_array_mut) else { return };
    for branch in branches {
        let Some(tag) = branch.pointer_mut("/properties/type").and_then(Value::as_object_mut) else { continue };
        let Some(name) = tag.get("const").and_then(Value::as_str).map(str::to_owned) else { continue };
        let what = match name.as_str() {
            "http" => "sends each event to an HTTP(S) endpoint",
            "plugin" => "calls a plugin function with the channel entry and the event",
            _ => "a channel type",
        };
        tag.insert("title".into(), json!("Channel type"));
        tag.insert("description".into(), json!(format!("`{name}`: {what}.")));
        tag.insert("examples".into(), json!([name]));
    }
}

/// A Chaos Toolkit settings file (`~/.chaostoolkit/settings.yaml`).
///
/// Only `notifications` is checked; every other top-level key is accepted as is.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(title = "Chaos Toolkit settings", extend("$id" = SCHEMA_ID))]
pub struct Settings {
    /// Notification channels, run in this order for every flow event. Missing or `null`
    /// means no notifications.
    #[schemars(
        title = "Notification channels",
        example = json!([{"type": "http", "url": "https://hooks.example.com/chaos/${HOOK_ID}", "events": ["run-failed"]}])
    )]
    pub notifications: Option<Vec<Channel>>,
    /// Every other top-level key (controls, auths, runtime, …), left untouched.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One notification channel.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "type")]
#[schemars(title = "Notification channel", transform = describe_type_tag)]
pub enum Channel {
    /// Sends each event to an HTTP(S) endpoint.
    #[serde(rename = "http")]
    Http(HttpChannel),
    /// Calls a plugin function with the channel entry and the event.
    #[serde(rename = "plugin")]
    Plugin(PluginChannel),
}

impl Channel {
    /// The channel's `events` filter, if any.
    pub fn events(&self) -> Option<&[EventName]> {
        match self {
            Channel::Http(c) => c.events.as_deref(),
            Channel::Plugin(c) => c.events.as_deref(),
        }
    }
}

fn yes() -> bool {
    true
}

fn notify() -> String {
    "notify".to_owned()
}

/// An HTTP notification channel (`type: http`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "HTTP channel")]
pub struct HttpChannel {
    /// Endpoint address, `http://` or `https://`. `${VAR}` is replaced by the
    /// environment variable at run time.
    #[schemars(regex(pattern = r"^(?:[Hh][Tt][Tt][Pp][Ss]?://|\$\{)"))]
    #[schemars(title = "Endpoint URL", example = "https://hooks.example.com/chaos/${HOOK_ID}")]
    pub url: String,
    /// Verify the endpoint's TLS certificate. `false` accepts self-signed certificates.
    #[serde(default = "yes")]
    #[schemars(title = "Verify TLS certificates", example = true)]
    pub verify_tls: bool,
    /// Extra request headers; they override the defaults. Values may use `${VAR}`.
    #[schemars(title = "Request headers", example = json!({"Authorization": "Bearer ${HOOK_TOKEN}"}))]
    pub headers: Option<Headers>,
    /// `true`: `POST` the event as JSON. `false`: `GET` the URL with no body.
    #[serde(default = "yes")]
    #[schemars(title = "Forward the event payload", example = true)]
    pub forward_event_payload: bool,
    /// Only these events are sent. Missing, `null` or empty means every event.
    #[schemars(title = "Events to send", example = json!(["run-failed", "run-deviated"]))]
    pub events: Option<Vec<EventName>>,
    /// Total time allowed for one attempt, in seconds (connect, send and response).
    /// Default 5. An extension of this implementation; Chaos Toolkit ignores it.
    #[schemars(range(min = MIN_TIMEOUT_SECS, max = MAX_TIMEOUT_SECS))]
    #[schemars(title = "Timeout per attempt (seconds)", example = 5, example = 2.5, extend("default" = 5))]
    pub timeout: Option<f64>,
    /// Extra attempts after a connection error, 408, 429 or 5xx, with exponential
    /// backoff and jitter. Default 0. An extension; Chaos Toolkit ignores it.
    #[schemars(range(max = MAX_RETRIES))]
    #[schemars(title = "Retries", example = 2, extend("default" = 0))]
    pub retries: Option<u8>,
    /// Signs each request following Standard Webhooks (`webhook-id`,
    /// `webhook-timestamp`, `webhook-signature`). Use `${VAR}`. An extension.
    #[schemars(length(min = 1))]
    #[schemars(title = "Signing secret", example = "${WEBHOOK_SECRET}")]
    pub signing_secret: Option<String>,
    /// The request body as a Jinja2 template (docs/TEMPLATES.md): `{{ expression }}`
    /// writes one JSON value when the content type is JSON. Context: `event`, `phase`,
    /// `ts`, `time`, `payload`, `error`, `title`, `status`, `summary`, `options`, … An
    /// extension; Chaos Toolkit ignores it.
    #[schemars(length(min = 1))]
    #[schemars(title = "Body template", example = "{\"text\": {{ headline }}}")]
    pub template: Option<String>,
    /// `Content-Type` of the `template`'s body. Default `application/json`.
    #[schemars(length(min = 3))]
    #[schemars(title = "Body content type", example = "application/json", example = "text/plain; charset=utf-8")]
    pub content_type: Option<String>,
    /// A built-in body: `chaostoolkit` (the envelope, the default), `cloudevents`,
    /// `slack`, `teams`, `discord`, `google-chat`, `mattermost`, `pagerduty`,
    /// `opsgenie`. `notifier formats` lists them. An extension.
    #[schemars(title = "Built-in body format", example = &"teams", example = &"pagerduty")]
    pub format: Option<FormatName>,
    /// Options of the `format` (`routing_key`, `severity`, …; `notifier formats show
    /// NAME` lists them) or values a `template` reads as `options`. Strings may use
    /// `${VAR}`. An extension.
    #[schemars(title = "Body format options", example = serde_json::json!({"routing_key": "${PAGERDUTY_ROUTING_KEY}"}))]
    pub options: Option<Map<String, Value>>,
}

/// The name of a built-in body format.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct FormatName(pub String);

impl JsonSchema for FormatName {
    fn schema_name() -> Cow<'static, str> {
        "FormatName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = notifier_core::body::formats::names().collect();
        json_schema!({
            "title": "Body format",
            "description": "A built-in body format.",
            "type": "string",
            "enum": names,
        })
    }
}

/// A plugin notification channel (`type: plugin`). Every key other than those listed is
/// passed as is to the plugin, which receives the whole entry.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(title = "Plugin channel")]
pub struct PluginChannel {
    /// Dotted module path, e.g. `chaosslack.notification`.
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"))]
    #[schemars(title = "Plugin module", example = "chaosslack.notification", example = "notifier.jsonl")]
    pub module: String,
    /// Function of the module to call. Default `notify`.
    #[serde(default = "notify")]
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    #[schemars(title = "Plugin function", example = &"notify")]
    pub func: String,
    /// Only these events are sent. Missing, `null` or empty means every event.
    #[schemars(title = "Events to send", example = json!(["run-failed", "run-deviated"]))]
    pub events: Option<Vec<EventName>>,
    /// Time budget of one call, in seconds. Default 5. An extension; Chaos Toolkit
    /// ignores it (and passes it to the plugin like any other key).
    #[schemars(range(min = MIN_TIMEOUT_SECS, max = MAX_TIMEOUT_SECS))]
    #[schemars(title = "Time budget per call (seconds)", example = 5, extend("default" = 5))]
    pub timeout: Option<f64>,
    /// Plugin-specific keys (`token`, `channel`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A flow event name, e.g. `run-failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct EventName(pub Event);

impl JsonSchema for EventName {
    fn schema_name() -> Cow<'static, str> {
        "EventName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Event::names().collect();
        json_schema!({
            "title": "Flow event",
            "description": "A Chaos Toolkit flow event.",
            "type": "string",
            "enum": names,
            "examples": ["run-failed"],
        })
    }
}

/// HTTP headers in file order (a mapping of names to string values).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(d)?;
        map.into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, s)),
                other => Err(serde::de::Error::custom(format_args!("header `{k}` is not a string: {other}"))),
            })
            .collect::<Result<_, _>>()
            .map(Headers)
    }
}

impl JsonSchema for Headers {
    fn schema_name() -> Cow<'static, str> {
        "Headers".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "title": "HTTP headers",
            "description": "Header names mapped to string values.",
            "examples": [{"Authorization": "Bearer ${HOOK_TOKEN}", "X-Team": "sre"}],
            "type": "object",
            "additionalProperties": { "type": "string" },
        })
    }
}

/// Smallest `timeout` accepted, in seconds (one millisecond).
pub const MIN_TIMEOUT_SECS: f64 = 0.001;

/// Largest `timeout` accepted, in seconds.
pub const MAX_TIMEOUT_SECS: u16 = 300;

/// Most `retries` accepted: the run time's own limit.
pub use notifier_core::channel::MAX_RETRIES;
