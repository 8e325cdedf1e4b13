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
use serde_json::{Map, Value};

/// A Chaos Toolkit settings file (`~/.chaostoolkit/settings.yaml`).
///
/// Only `notifications` is checked; every other top-level key is accepted as is.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(title = "Chaos Toolkit settings", extend("$id" = "https://example.invalid/notifier/settings.schema.json"))]
pub struct Settings {
    /// Notification channels, run in this order for every flow event. Missing or `null`
    /// means no notifications.
    pub notifications: Option<Vec<Channel>>,
    /// Every other top-level key (controls, auths, runtime, …), left untouched.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One notification channel.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "type")]
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
pub struct HttpChannel {
    /// Endpoint address, `http://` or `https://`. `${VAR}` is replaced by the
    /// environment variable at run time.
    #[schemars(regex(pattern = r"^(?:[Hh][Tt][Tt][Pp][Ss]?://|\$\{)"))]
    pub url: String,
    /// Verify the endpoint's TLS certificate. `false` accepts self-signed certificates.
    #[serde(default = "yes")]
    pub verify_tls: bool,
    /// Extra request headers; they override the defaults. Values may use `${VAR}`.
    pub headers: Option<Headers>,
    /// `true`: `POST` the event as JSON. `false`: `GET` the URL with no body.
    #[serde(default = "yes")]
    pub forward_event_payload: bool,
    /// Only these events are sent. Missing, `null` or empty means every event.
    pub events: Option<Vec<EventName>>,
    /// Total time allowed for one attempt, in seconds (connect, send and response).
    /// Default 5. An extension of this implementation; Chaos Toolkit ignores it.
    #[schemars(range(min = MIN_TIMEOUT_SECS, max = MAX_TIMEOUT_SECS))]
    pub timeout: Option<f64>,
    /// Extra attempts after a connection error, 408, 429 or 5xx, with exponential
    /// backoff and jitter. Default 0. An extension; Chaos Toolkit ignores it.
    #[schemars(range(max = MAX_RETRIES))]
    pub retries: Option<u8>,
    /// Signs each request following Standard Webhooks (`webhook-id`,
    /// `webhook-timestamp`, `webhook-signature`). Use `${VAR}`. An extension.
    #[schemars(length(min = 1))]
    pub signing_secret: Option<String>,
    /// The request body as a Jinja2 template (docs/TEMPLATES.md): `{{ expression }}`
    /// writes one JSON value when the content type is JSON. Context: `event`, `phase`,
    /// `ts`, `time`, `payload`, `error`, `title`, `status`, `summary`, `options`, … An
    /// extension; Chaos Toolkit ignores it.
    #[schemars(length(min = 1))]
    pub template: Option<String>,
    /// `Content-Type` of the `template`'s body. Default `application/json`.
    #[schemars(length(min = 3))]
    pub content_type: Option<String>,
    /// A built-in body: `chaostoolkit` (the envelope, the default), `cloudevents`,
    /// `slack`, `teams`, `discord`, `google-chat`, `mattermost`, `pagerduty`,
    /// `opsgenie`. `notifier formats` lists them. An extension.
    pub format: Option<FormatName>,
    /// Options of the `format` (`routing_key`, `severity`, …; `notifier formats show
    /// NAME` lists them) or values a `template` reads as `options`. Strings may use
    /// `${VAR}`. An extension.
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
            "description": "A built-in body format.",
            "type": "string",
            "enum": names,
        })
    }
}

/// A plugin notification channel (`type: plugin`). Every key other than those listed is
/// passed as is to the plugin, which receives the whole entry.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct PluginChannel {
    /// Dotted module path, e.g. `chaosslack.notification`.
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"))]
    pub module: String,
    /// Function of the module to call. Default `notify`.
    #[serde(default = "notify")]
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub func: String,
    /// Only these events are sent. Missing, `null` or empty means every event.
    pub events: Option<Vec<EventName>>,
    /// Time budget of one call, in seconds. Default 5. An extension; Chaos Toolkit
    /// ignores it (and passes it to the plugin like any other key).
    #[schemars(range(min = MIN_TIMEOUT_SECS, max = MAX_TIMEOUT_SECS))]
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
            "description": "A Chaos Toolkit flow event.",
            "type": "string",
            "enum": names,
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
            "description": "Header names mapped to string values.",
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
