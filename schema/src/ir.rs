//! The channel table: the compiled, validated form of `notifications:`.
//!
//! One IR feeds both back ends: `codegen` turns it into Rust tokens for the
//! `settings!` macro, and [`ChannelTable::to_defs`] turns it into the run-time table
//! of `notifier_core` channel definitions. Both carry exactly the same data, which is
//! what makes a compiled-in table and a loaded file behave the same.

use std::borrow::Cow;
use std::time::Duration;

use serde_json::{Map, Value};

use notifier_core::channel::{
    ChannelDef, ChannelKind, DEFAULT_TIMEOUT, HttpDef, Origin, PluginDef, PythonDef, SkippedDef,
};
use notifier_core::{BodyDef, EventSet, PluginFn, Template};

use crate::located::PositionIndex;
use crate::model::Channel;

/// The compiled channels of one settings file, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelTable {
    /// The settings file the table came from.
    pub file: String,
    /// The channels without errors, in file order.
    pub channels: Vec<ChannelIr>,
    /// The channels with errors, which the lenient run-time loader skips (each alone),
    /// in file order. Always empty when the file has no error.
    pub skipped: Vec<SkippedChannel>,
}

/// A channel with errors: what the run-time loader needs to skip it visibly.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedChannel {
    /// Position in the `notifications` list (0-based).
    pub index: usize,
    /// 1-based line of the entry.
    pub line: u32,
    /// 1-based column of the entry.
    pub column: u32,
    /// A secret-free label made from what the entry says (`http POST https://…`,
    /// `plugin acme.hooks.notify`), for reports.
    pub label: String,
    /// The events it would have received (every event when `events` is unusable).
    pub events: EventSet,
    /// The errors, `line:col: message` each.
    pub reasons: Vec<String>,
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
        /// The request body: the envelope, a template or a built-in format.
        body: BodyDef,
    },
    /// A plugin function.
    Plugin {
        /// Module name.
        module: String,
        /// Function name.
        func: String,
        /// The whole channel entry, with the defaults (`func`) filled in: what a Rust
        /// plugin receives.
        config: Map<String, Value>,
        /// The entry exactly as written (no defaults): what a Python plugin receives, as
        /// under chaostoolkit-lib.
        entry: Map<String, Value>,
    },
}

/// A plugin channel whose module and function map to no Rust function: at run time no
/// function is registered for them, at build time (`settings!`, `notifier codegen`) the
/// module has no Rust mapping. Every front door says it with [`UnresolvedPlugin::reason`]
/// and [`UnresolvedPlugin::help`]. Displayed as `file:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {}", self.message())]
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

impl UnresolvedPlugin {
    /// What is wrong, without the channel: "plugin module `acme.hooks` (function
    /// `notify`) is not mapped to Rust".
    pub fn reason(&self) -> String {
        format!("plugin module `{}` (function `{}`) is not mapped to Rust", self.module, self.func)
    }

    /// [`reason`](Self::reason) and the channel number.
    pub fn message(&self) -> String {
        format!("{} (channel #{})", self.reason(), self.number)
    }

    /// How to map it, in each front door.
    pub fn help(&self) -> String {
        let (module, func) = (&self.module, &self.func);
        format!(
            "map it to Rust: `plugins: {{ \"{module}\" => crate::path::to::module }}` in `settings!`, \
             `--plugin {module}=crate::path::to::module` for `notifier codegen`, \
             `PluginRegistry::register(\"{module}\", \"{func}\", …)` for a program that loads the file"
        )
    }
}

impl ChannelIr {
    /// This channel as an [`UnresolvedPlugin`] of `file`, if it is a plugin channel.
    pub fn as_unresolved_plugin(&self, file: &str) -> Option<UnresolvedPlugin> {
        let IrKind::Plugin { module, func, .. } = &self.kind else { return None };
        Some(UnresolvedPlugin {
            file: file.to_owned(),
            line: self.line,
            column: self.column,
            number: self.index + 1,
            module: module.clone(),
            func: func.clone(),
        })
    }
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

/// The body of a validated http channel: its `template`, else its `format` (the
/// default `chaostoolkit` is the envelope), with its `options` as JSON text.
fn body(h: &crate::model::HttpChannel) -> BodyDef {
    let options_json = || Cow::Owned(Value::Object(h.options.clone().unwrap_or_default()).to_string());
    match (&h.template, &h.format) {
        (Some(source), _) => BodyDef::Template {
            source: Cow::Owned(source.clone()),
            content_type: Cow::Owned(
                h.content_type.clone().unwrap_or_else(|| notifier_core::body::DEFAULT_CONTENT_TYPE.to_owned()),
            ),
            options_json: options_json(),
        },
        (None, Some(name)) if name.0 != notifier_core::body::DEFAULT_FORMAT => {
            BodyDef::Format { name: Cow::Owned(name.0.clone()), options_json: options_json() }
        }
        _ => BodyDef::Envelope,
    }
}

fn seconds(t: Option<f64>) -> Duration {
    t.and_then(|s| Duration::try_from_secs_f64(s).ok()).unwrap_or(DEFAULT_TIMEOUT)
}

/// Lowers one validated channel (entry `i` of `notifications`, `entry` as written) to the IR.
pub fn lower_channel(i: usize, channel: &Channel, entry: &Value, index: &PositionIndex) -> ChannelIr {
    let (line, column) = position(i, index);
    let (timeout, retries, kind) = match channel {
        Channel::Http(h) => (
            seconds(h.timeout),
            h.retries.unwrap_or(0),
            IrKind::Http {
                url: template(&h.url),
                headers: h.headers.iter().flat_map(|hs| hs.0.iter()).map(|(k, v)| (k.clone(), template(v))).collect(),
                verify_tls: h.verify_tls,
                forward_event_payload: h.forward_event_payload,
                signing_secret: h.signing_secret.as_deref().map(template),
                body: body(h),
            },
        ),
        Channel::Plugin(p) => {
            let mut config = Map::new();
            config.insert("type".into(), Value::String("plugin".into()));
            config.insert("module".into(), Value::String(p.module.clone()));
            config.insert("func".into(), Value::String(p.func.clone()));
            if let Some(events) = &p.events {
                config.insert("events".into(), events.iter().map(|e| Value::String(e.0.name().into())).collect());
            }
            if let Some(t) = p.timeout {
                config.insert("timeout".into(), serde_json::json!(t));
            }
            config.extend(p.extra.clone());
            let entry = entry.as_object().cloned().unwrap_or_default();
            // A built-in plugin that retries by itself (`notifier.nats`) gets the channel's
            // `retries`, which widens its budget as for http channels.
            let retries = notifier_core::plugins::builtin(&p.module)
                .filter(|b| b.retries)
                .and_then(|_| p.extra.get("retries"))
                .and_then(Value::as_u64)
                .map_or(0, |r| r.min(u64::from(notifier_core::channel::MAX_RETRIES)) as u8);
            (
                seconds(p.timeout),
                retries,
                IrKind::Plugin { module: p.module.clone(), func: p.func.clone(), config, entry },
            )
        }
    };
    ChannelIr { index: i, line, column, events: events(channel.events()), timeout, retries, kind }
}

/// 1-based line and column of entry `i` of `notifications`.
fn position(i: usize, index: &PositionIndex) -> (u32, u32) {
    let pos = index.get(&format!("/notifications/{i}")).map(|p| p.value.start).unwrap_or_default();
    (u32::try_from(pos.line).unwrap_or(u32::MAX), u32::try_from(pos.col + 1).unwrap_or(u32::MAX))
}

/// Describes entry `i` of `notifications`, which has errors, from what it says.
pub fn skipped_channel(i: usize, entry: &Value, index: &PositionIndex, reasons: Vec<String>) -> SkippedChannel {
    let (line, column) = position(i, index);
    let text = |key: &str| entry.get(key).and_then(Value::as_str);
    let label = match text("type") {
        Some("http") => {
            let method = if entry.get("forward_event_payload") == Some(&Value::Bool(false)) { "GET" } else { "POST" };
            match text("url") {
                Some(url) => format!("http {method} {}", notifier_core::redact::redact_url(url)),
                None => format!("http {method} (no url)"),
            }
        }
        Some("plugin") => match text("module") {
            Some(module) => format!("plugin {module}.{}", text("func").unwrap_or("notify")),
            None => "plugin (no module)".to_owned(),
        },
        _ => "channel".to_owned(),
    };
    // A filter with a mistake in it still says which events the user meant.
    let events = match entry.get("events").and_then(Value::as_array) {
        Some(names) if !names.is_empty() => {
            let set: EventSet = names.iter().filter_map(|n| n.as_str()?.parse().ok()).collect();
            if set.is_empty() { EventSet::ALL } else { set }
        }
        _ => EventSet::ALL,
    };
    SkippedChannel { index: i, line, column, label, events, reasons }
}

/// What [`ChannelTable::to_defs`] makes of a plugin channel no Rust function is
/// registered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unresolved {
    /// A [`ChannelKind::Python`] channel: the dispatcher calls the module's function in
    /// the user's Python interpreter, as chaostoolkit-lib does, and skips the channel if
    /// the module cannot be imported there.
    Python,
    /// A [`ChannelKind::Skipped`] channel.
    Skip,
}

/// The run-time form of a [`ChannelTable`]: every channel in file order, those that
/// cannot be used as [`ChannelKind::Skipped`].
#[derive(Debug)]
pub struct RunTimeChannels {
    /// One definition per entry of `notifications`, in file order.
    pub defs: Vec<ChannelDef>,
    /// Plugin channels whose module and function map to no Rust function (they are
    /// among `defs` too, as Python or skipped channels).
    pub unresolved: Vec<UnresolvedPlugin>,
}

impl RunTimeChannels {
    /// Whether every channel is usable as Rust code (no error in the file, every plugin
    /// resolved to a Rust function).
    pub fn is_complete(&self) -> bool {
        self.unresolved.is_empty() && !self.defs.iter().any(|d| matches!(d.kind, ChannelKind::Skipped(_)))
    }
}

impl ChannelTable {
    /// Builds the run-time channel definitions, mapping each plugin's module and function
    /// to a Rust function with `resolve`. A plugin `resolve` does not know becomes what
    /// `unresolved` says: a [`ChannelKind::Python`] channel, called through the user's
    /// Python interpreter like chaostoolkit-lib calls it, or a [`ChannelKind::Skipped`]
    /// one. A channel with errors in the file is skipped too, at its place, so channel
    /// numbers stay those of the file.
    pub fn to_defs(
        &self,
        resolve: &dyn Fn(&str, &str) -> Option<PluginFn>,
        unresolved_as: Unresolved,
    ) -> RunTimeChannels {
        let mut defs = Vec::with_capacity(self.channels.len() + self.skipped.len());
        let mut unresolved = Vec::new();
        let origin = |line, column| Origin { file: Cow::Owned(self.file.clone()), line, column };
        for c in &self.channels {
            let kind = match &c.kind {
                IrKind::Http { url, headers, verify_tls, forward_event_payload, signing_secret, body } => {
                    ChannelKind::Http(HttpDef {
                        url: url.clone(),
                        headers: Cow::Owned(headers.iter().map(|(k, v)| (Cow::Owned(k.clone()), v.clone())).collect()),
                        verify_tls: *verify_tls,
                        forward_event_payload: *forward_event_payload,
                        signing_secret: signing_secret.clone(),
                        body: body.clone(),
                    })
                }
                IrKind::Plugin { module, func, config, entry } => match (resolve(module, func), unresolved_as) {
                    (Some(call), _) => ChannelKind::Plugin(PluginDef {
                        module: Cow::Owned(module.clone()),
                        func: Cow::Owned(func.clone()),
                        config_json: Cow::Owned(Value::Object(config.clone()).to_string()),
                        call,
                    }),
                    (None, how) => {
                        let missing = c.as_unresolved_plugin(&self.file).expect("a plugin channel");
                        let kind = match how {
                            Unresolved::Python => ChannelKind::Python(PythonDef {
                                module: Cow::Owned(module.clone()),
                                func: Cow::Owned(func.clone()),
                                entry_json: Cow::Owned(Value::Object(entry.clone()).to_string()),
                            }),
                            Unresolved::Skip => ChannelKind::Skipped(SkippedDef {
                                label: Cow::Owned(format!("plugin {module}.{func}")),
                                reason: Cow::Owned(missing.reason()),
                            }),
                        };
                        unresolved.push(missing);
                        kind
                    }
                },
            };
            defs.push((
                c.index,
                ChannelDef {
                    events: c.events,
                    origin: origin(c.line, c.column),
                    timeout: c.timeout,
                    retries: c.retries,
                    kind,
                },
            ));
        }
        for s in &self.skipped {
            let reason = match s.reasons.as_slice() {
                [one] => one.clone(),
                many => format!("{} errors: {}", many.len(), many.join("; ")),
            };
            let kind =
                ChannelKind::Skipped(SkippedDef { label: Cow::Owned(s.label.clone()), reason: Cow::Owned(reason) });
            defs.push((
                s.index,
                ChannelDef {
                    events: s.events,
                    origin: origin(s.line, s.column),
                    timeout: DEFAULT_TIMEOUT,
                    retries: 0,
                    kind,
                },
            ));
        }
        defs.sort_by_key(|(index, _)| *index);
        RunTimeChannels { defs: defs.into_iter().map(|(_, d)| d).collect(), unresolved }
    }
}
