//! The channel table: the compiled, validated form of `notifications:`.
//!
//! One IR feeds both back ends: `codegen` turns it into Rust tokens for the
//! `settings!` macro, and [`ChannelTable::to_defs`] turns it into the run-time table
//! of `notifier_core` channel definitions. Both carry exactly the same data, which is
//! what makes a compiled-in table and a loaded file behave the same.

use std::borrow::Cow;
use std::time::Duration;

use serde_json::{Map, Value};

use notifier_core::channel::{ChannelDef, ChannelKind, DEFAULT_TIMEOUT, HttpDef, Origin, PluginDef};
use notifier_core::{EventSet, PluginFn, Template};

use crate::located::PositionIndex;
use crate::model::{Channel, Settings};

/// The compiled channels of one settings file, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelTable {
    /// The settings file the table came from.
    pub file: String,
    /// The channels.
    pub channels: Vec<ChannelIr>,
}

/// One compiled channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelIr {
    /// Position in the `notifications` list (0-based).
    pub index: usize,
    /// 1-based line of the entry.
    pub line: u32,
    /// 1-based column of the entry.
    pub column: u32,
    /// Events the channel receives.
    pub events: EventSet,
    /// Time budget per attempt or call.
    pub timeout: Duration,
    /// Extra attempts on retryable failures.
    pub retries: u8,
    /// HTTP or plugin specifics.
    pub kind: IrKind,
}

/// What a compiled channel does.
#[derive(Debug, Clone, PartialEq)]
pub enum IrKind {
    /// An HTTP endpoint.
    Http {
        /// The URL.
        url: Template,
        /// Extra headers in file order.
        headers: Vec<(String, Template)>,
        /// Verify TLS certificates.
        verify_tls: bool,
        /// POST the envelope (true) or GET without body.
        forward_event_payload: bool,
        /// Standard Webhooks signing secret.
        signing_secret: Option<Template>,
    },
    /// A plugin function.
    Plugin {
        /// Module name.
        module: String,
        /// Function name.
        func: String,
        /// The whole channel entry.
        config: Map<String, Value>,
    },
}

/// A plugin channel whose module and function map to no Rust function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{file}:{line}:{column}: no plugin is registered for module `{module}` with function `{func}` (channel #{number})"
)]
pub struct UnresolvedPlugin {
    /// The settings file.
    pub file: String,
    /// Line of the channel.
    pub line: u32,
    /// Column of the channel.
    pub column: u32,
    /// 1-based channel number.
    pub number: usize,
    /// The module.
    pub module: String,
    /// The function.
    pub func: String,
}

fn events(filter: Option<&[crate::model::EventName]>) -> EventSet {
    match filter {
        None | Some([]) => EventSet::ALL,
        Some(names) => names.iter().map(|n| n.0).collect(),
    }
}

// The checks validated every template, so parsing cannot fail here; a literal is the
// harmless fallback if it ever did.
fn template(text: &str) -> Template {
    Template::parse(text).unwrap_or_else(|_| Template::literal(text.to_owned()))
}

fn seconds(t: Option<f64>) -> Duration {
    t.and_then(|s| Duration::try_from_secs_f64(s).ok()).unwrap_or(DEFAULT_TIMEOUT)
}

/// Lowers validated settings to the channel table.
pub fn lower(settings: &Settings, file: &str, index: &PositionIndex) -> ChannelTable {
    let channels = settings
        .notifications
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, channel)| {
            let pos = index.get(&format!("/notifications/{i}")).map(|p| p.value.start).unwrap_or_default();
            let (timeout, retries, kind) = match channel {
                Channel::Http(h) => (
                    seconds(h.timeout),
                    h.retries.unwrap_or(0),
                    IrKind::Http {
                        url: template(&h.url),
                        headers: h
                            .headers
                            .iter()
                            .flat_map(|hs| hs.0.iter())
                            .map(|(k, v)| (k.clone(), template(v)))
                            .collect(),
                        verify_tls: h.verify_tls,
                        forward_event_payload: h.forward_event_payload,
                        signing_secret: h.signing_secret.as_deref().map(template),
                    },
                ),
                Channel::Plugin(p) => {
                    let mut config = Map::new();
                    config.insert("type".into(), Value::String("plugin".into()));
                    config.insert("module".into(), Value::String(p.module.clone()));
                    config.insert("func".into(), Value::String(p.func.clone()));
                    if let Some(events) = &p.events {
                        config
                            .insert("events".into(), events.iter().map(|e| Value::String(e.0.name().into())).collect());
                    }
                    if let Some(t) = p.timeout {
                        config.insert("timeout".into(), serde_json::json!(t));
                    }
                    config.extend(p.extra.clone());
                    (seconds(p.timeout), 0, IrKind::Plugin { module: p.module.clone(), func: p.func.clone(), config })
                }
            };
            ChannelIr {
                index: i,
                line: u32::try_from(pos.line).unwrap_or(u32::MAX),
                column: u32::try_from(pos.col + 1).unwrap_or(u32::MAX),
                events: events(channel.events()),
                timeout,
                retries,
                kind,
            }
        })
        .collect();
    ChannelTable { file: file.to_owned(), channels }
}

impl ChannelTable {
    /// Builds the run-time channel definitions, mapping each plugin's module and function
    /// to a Rust function with `resolve`.
    pub fn to_defs(
        &self,
        resolve: &dyn Fn(&str, &str) -> Option<PluginFn>,
    ) -> Result<Vec<ChannelDef>, Vec<UnresolvedPlugin>> {
        let mut defs = Vec::with_capacity(self.channels.len());
        let mut missing = Vec::new();
        for c in &self.channels {
            let kind = match &c.kind {
                IrKind::Http { url, headers, verify_tls, forward_event_payload, signing_secret } => {
                    ChannelKind::Http(HttpDef {
                        url: url.clone(),
                        headers: Cow::Owned(headers.iter().map(|(k, v)| (Cow::Owned(k.clone()), v.clone())).collect()),
                        verify_tls: *verify_tls,
                        forward_event_payload: *forward_event_payload,
                        signing_secret: signing_secret.clone(),
                    })
                }
                IrKind::Plugin { module, func, config } => match resolve(module, func) {
                    Some(call) => ChannelKind::Plugin(PluginDef {
                        module: Cow::Owned(module.clone()),
                        func: Cow::Owned(func.clone()),
                        config_json: Cow::Owned(Value::Object(config.clone()).to_string()),
                        call,
                    }),
                    None => {
                        missing.push(UnresolvedPlugin {
                            file: self.file.clone(),
                            line: c.line,
                            column: c.column,
                            number: c.index + 1,
                            module: module.clone(),
                            func: func.clone(),
                        });
                        continue;
                    }
                },
            };
            defs.push(ChannelDef {
                events: c.events,
                origin: Origin { file: Cow::Owned(self.file.clone()), line: c.line, column: c.column },
                timeout: c.timeout,
                retries: c.retries,
                kind,
            });
        }
        if missing.is_empty() { Ok(defs) } else { Err(missing) }
    }
}
