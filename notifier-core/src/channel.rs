//! Channel definitions: the compiled form of one `notifications:` entry.
//!
//! Every field is a `Cow<'static, …>` or a plain value, so the same types serve as
//! `static` data emitted by the `settings!` macro and as owned data built by the run-time
//! loader. Strings that may hold `${VAR}` references are [`Template`]s, resolved when a
//! dispatcher is built, never earlier.

use std::borrow::Cow;
use std::time::Duration;

use crate::body::BodyDef;
use crate::event::EventSet;
use crate::plugin::PluginFn;
use crate::template::Template;

/// A `'static`-or-owned string.
pub type Str = Cow<'static, str>;

/// Default total time for one HTTP attempt or one plugin call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Connect timeout of the HTTP transport (the reference's).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Most retries a channel may ask for.
pub const MAX_RETRIES: u8 = 10;

/// Where a channel was declared, for messages ("channel #2 (settings.yaml:14:5)").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The settings file.
    pub file: Str,
    /// 1-based line of the channel entry.
    pub line: u32,
    /// 1-based column of the channel entry.
    pub column: u32,
}

/// One notification channel.
#[derive(Debug, Clone)]
pub struct ChannelDef {
    /// The events this channel receives.
    pub events: EventSet,
    /// Where it was declared.
    pub origin: Origin,
    /// Time budget of one attempt (HTTP) or call (plugin).
    pub timeout: Duration,
    /// Extra attempts on retryable HTTP failures (0 = the reference's single attempt).
    pub retries: u8,
    /// HTTP or plugin specifics.
    pub kind: ChannelKind,
}

/// What a channel does.
#[derive(Debug, Clone)]
pub enum ChannelKind {
    /// An HTTP endpoint.
    Http(HttpDef),
    /// A plugin function.
    Plugin(PluginDef),
    /// A plugin with no Rust function: called in the user's Python interpreter, as
    /// chaostoolkit-lib calls it (feature `python`).
    Python(PythonDef),
    /// A channel that cannot be used (errors in its entry, a plugin nothing provides):
    /// it is reported as skipped for every event it would receive, and never stops the
    /// other channels.
    Skipped(SkippedDef),
}

/// A Python notification plugin channel.
#[derive(Debug, Clone)]
pub struct PythonDef {
    /// The Python module (`chaoshumio.notification`).
    pub module: Str,
    /// Its function (`notify` by default).
    pub func: Str,
    /// The channel entry exactly as written, as JSON (`${VAR}` references unresolved):
    /// the plugin receives it as its `channel` argument.
    pub entry_json: Str,
}

/// A channel that cannot be used, and why.
#[derive(Debug, Clone)]
pub struct SkippedDef {
    /// A secret-free label made from what the entry says.
    pub label: Str,
    /// Why it cannot be used (with the settings file's line:col when there is one).
    pub reason: Str,
}

/// An HTTP channel.
#[derive(Debug, Clone)]
pub struct HttpDef {
    /// The endpoint.
    pub url: Template,
    /// Extra headers, in file order; they override the defaults.
    pub headers: Cow<'static, [(Str, Template)]>,
    /// Verify the server certificate.
    pub verify_tls: bool,
    /// POST the envelope (true) or GET without a body (false).
    pub forward_event_payload: bool,
    /// Standard Webhooks signing secret, if the channel signs its requests.
    pub signing_secret: Option<Template>,
    /// What the POST carries: the envelope (default), a template or a built-in format.
    pub body: BodyDef,
}

/// A plugin channel.
#[derive(Clone)]
pub struct PluginDef {
    /// The Chaos Toolkit module name (`chaosslack.notification`).
    pub module: Str,
    /// The function name (`notify` by default).
    pub func: Str,
    /// The whole channel entry as JSON text, `${VAR}` references unresolved.
    pub config_json: Str,
    /// The Rust function implementing the plugin.
    pub call: PluginFn,
}

impl std::fmt::Debug for PluginDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config may hold plain-text secrets: show only the plugin's name.
        f.debug_struct("PluginDef").field("module", &self.module).field("func", &self.func).finish_non_exhaustive()
    }
}

impl ChannelDef {
    /// A short, secret-free label: `http POST https://host/path` or `plugin chaosslack.notification.notify`.
    pub fn label(&self) -> String {
        match &self.kind {
            ChannelKind::Http(h) => {
                let method = if h.forward_event_payload { "POST" } else { "GET" };
                format!("http {method} {}", crate::redact::redact_url(&h.url.source_text()))
            }
            ChannelKind::Plugin(p) => format!("plugin {}.{}", p.module, p.func),
            ChannelKind::Python(p) => format!("plugin {}.{} (Python)", p.module, p.func),
            ChannelKind::Skipped(s) => s.label.to_string(),
        }
    }
}
