//! Request bodies of HTTP channels: the step between the envelope and the transport.
//!
//! A channel's body is one of three things ([`BodyDef`]):
//! * the **envelope** (the default, `format: chaostoolkit`): chaostoolkit-lib's
//!   `{"name", "payload", "phase", "ts"[, "error"]}`, encoded byte for byte as Python's
//!   `json.dumps` by [`crate::wire`], untouched by this module;
//! * a **template** (`template:`): a Jinja2 template rendered with minijinja;
//! * a built-in **format** (`format: teams`, `pagerduty`, …): a template shipped in the
//!   binary ([`formats::FORMATS`]), with its documented options.
//!
//! A [`Body`] is compiled once, when a notifier is built (or when the settings compiler
//! checks the file), and rendered once per notification. For a JSON content type
//! (`application/json`, `…+json`), every `{{ expression }}` is written as one complete
//! JSON value (a string with its quotes, a number, an object…), whatever it holds, so
//! no payload can break the document or add keys to it; the rendered text is still
//! parsed before it is sent, so a template whose literal text is not JSON fails with a
//! reason instead of reaching the receiver. A template that renders to nothing but
//! whitespace sends nothing for that event (the outcome is "filtered").
//!
//! Every render is bounded: a budget of template instructions ([`FUEL`]) and the
//! envelope's depth limit; an error is a [`RenderError`], never a panic.

mod context;
mod filters;
pub mod formats;
pub mod samples;
mod scan;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use minijinja::{Environment, UndefinedBehavior, Value as JValue};
use serde_json::{Map, Value};

use crate::envelope::Envelope;

/// A `'static`-or-owned string (as [`crate::channel::Str`], which names this module).
type Str = Cow<'static, str>;

pub use context::{CONTEXT, ContextEntry, event_id, experiment_key, iso_time};
pub use formats::{FORMATS, Format, OptionKind, OptionSpec};

/// The work one render may do, in minijinja's fuel: one per instruction, plus one per 64
/// bytes of data made or read. Far more than any body needs (a built-in format with a
/// megabyte payload uses a few hundred thousand), far less than a runaway loop would
/// (a few tenths of a second of work at most).
pub const FUEL: u64 = 5_000_000;

/// The content type of a `template:` without `content_type`.
pub const DEFAULT_CONTENT_TYPE: &str = "application/json";

/// The name of the default format (the envelope).
pub const DEFAULT_FORMAT: &str = "chaostoolkit";

/// What an HTTP channel posts, as written in the settings (static or owned, like the
/// rest of [`crate::channel`]). Strings may hold `${VAR}` references only inside
/// `options_json`, which is resolved when the notifier is built.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BodyDef {
    /// chaostoolkit-lib's envelope, byte for byte (the default).
    #[default]
    Envelope,
    /// A Jinja2 template.
    Template {
        /// The template text.
        source: Str,
        /// The `Content-Type` of the rendered body.
        content_type: Str,
        /// The channel's `options` as a JSON object (available as `options`).
        options_json: Str,
    },
    /// A built-in format.
    Format {
        /// Its name (`teams`, `pagerduty`, …).
        name: Str,
        /// The channel's `options` as a JSON object (merged over the format's defaults).
        options_json: Str,
    },
}

impl BodyDef {
    /// The `options` JSON text, if the body has options.
    pub fn options_json(&self) -> Option<&str> {
        match self {
            BodyDef::Envelope => None,
            BodyDef::Template { options_json, .. } | BodyDef::Format { options_json, .. } => Some(options_json),
        }
    }

    /// A short description for labels and messages: `format teams`, `template`.
    pub fn describe(&self) -> Cow<'static, str> {
        match self {
            BodyDef::Envelope => Cow::Borrowed("the chaostoolkit envelope"),
            BodyDef::Template { .. } => Cow::Borrowed("a template"),
            BodyDef::Format { name, .. } => Cow::Owned(format!("format `{name}`")),
        }
    }
}

/// Whether a content type is JSON (`application/json`, or any `…/…+json`), for which
/// interpolated values are written as JSON values and the body is checked as JSON.
pub fn is_json(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    media == "application/json" || (media.contains('/') && media.ends_with("+json"))
}

/// Whether `content_type` reads as a media type (`type/subtype`, optional parameters)
/// that an HTTP header can carry.
pub fn is_valid_content_type(content_type: &str) -> bool {
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b));
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or("").trim();
    let Some((kind, sub)) = media.split_once('/') else { return false };
    token(kind)
        && token(sub)
        && parts.all(|p| p.split_once('=').is_some_and(|(k, v)| token(k.trim()) && !v.trim().is_empty()))
        && content_type.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// Why a body cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// The template does not parse.
    Syntax {
        /// What is wrong (minijinja's words).
        message: String,
        /// Byte range in the template text of the offending part, when known.
        range: Option<std::ops::Range<usize>>,
    },
    /// No built-in format has this name.
    UnknownFormat(String),
    /// The options are not what the format needs.
    Options(Vec<formats::OptionProblem>),
    /// `options` is not a JSON object.
    OptionsNotObject,
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::Syntax { message, .. } => write!(f, "template syntax error: {message}"),
            BodyError::UnknownFormat(name) => write!(f, "unknown body format `{name}`"),
            BodyError::Options(problems) => {
                let texts: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
                write!(f, "{}", texts.join("; "))
            }
            BodyError::OptionsNotObject => f.write_str("`options` must be a mapping"),
        }
    }
}

impl std::error::Error for BodyError {}

/// Why one notification's body could not be made. The delivery fails with this reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    /// What went wrong.
    pub message: String,
    /// Byte range in the template text, when known.
    pub range: Option<std::ops::Range<usize>>,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RenderError {}

/// A compiled body: made once per channel, rendered once per notification. Cheap to
/// clone (shared).
#[derive(Clone, Default)]
pub struct Body {
    inner: Option<Arc<Compiled>>,
}

struct Compiled {
    env: Environment<'static>,
    content_type: String,
    json: bool,
    options: JValue,
    /// The built-in format, if the body is one.
    format: Option<&'static Format>,
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            None => f.write_str("Body::Envelope"),
            Some(c) => f
                .debug_struct("Body")
                .field("format", &c.format.map(|f| f.name))
                .field("content_type", &c.content_type)
                .finish_non_exhaustive(),
        }
    }
}

/// The name the template is stored under (and that minijinja prints in errors).
const NAME: &str = "body";

impl Body {
    /// The default body: chaostoolkit-lib's envelope.
    pub fn envelope() -> Body {
        Body { inner: None }
    }

    /// Whether this is the default envelope (whose bytes the dispatcher makes once per
    /// event for every channel).
    pub fn is_envelope(&self) -> bool {
        self.inner.is_none()
    }

    /// Compiles a body definition. `options` are the channel's `options` with `${VAR}`s
    /// already resolved (the dispatcher resolves them; the checks pass them as written).
    pub fn compile(def: &BodyDef, options: Map<String, Value>) -> Result<Body, BodyError> {
        match def {
            BodyDef::Envelope => Ok(Body::envelope()),
            BodyDef::Template { source, content_type, .. } => Body::template(source, content_type, options),
            BodyDef::Format { name, .. } => Body::format(name, options),
        }
    }

    /// Compiles a built-in format with `options` (merged over its defaults and checked).
    pub fn format(name: &str, options: Map<String, Value>) -> Result<Body, BodyError> {
        let format = formats::find(name).ok_or_else(|| BodyError::UnknownFormat(name.to_owned()))?;
        let options = format.resolve_options(&options).map_err(BodyError::Options)?;
        match format.template {
            None => Ok(Body::envelope()),
            Some(source) => {
                let mut body = Body::template(source, format.content_type, options)?;
                if let Some(inner) = body.inner.as_mut().and_then(Arc::get_mut) {
                    inner.format = Some(format);
                }
                Ok(body)
            }
        }
    }

    /// Compiles a Jinja2 template whose rendered body has `content_type`.
    pub fn template(source: &str, content_type: &str, options: Map<String, Value>) -> Result<Body, BodyError> {
        let json = is_json(content_type);
        let mut env = environment(json);
        env.add_template_owned(NAME, source.to_owned())
            .map_err(|e| BodyError::Syntax { message: describe_error(&e), range: e.range() })?;
        Ok(Body {
            inner: Some(Arc::new(Compiled {
                env,
                content_type: content_type.to_owned(),
                json,
                options: JValue::from(minijinja::value::Serde(Value::Object(options))),
                format: None,
            })),
        })
    }

    /// The `Content-Type` of the rendered body.
    pub fn content_type(&self) -> &str {
        match &self.inner {
            None => "application/json",
            Some(c) => &c.content_type,
        }
    }

    /// Whether the body is checked as JSON.
    pub fn is_json(&self) -> bool {
        self.inner.as_ref().is_none_or(|c| c.json)
    }

    /// The variables the template reads that the context does not have, with the byte
    /// range of their first use in `source` (for the settings compiler's warnings).
    /// Names bound by the template itself (`set`, loops, macros) are not reported.
    pub fn unknown_variables(&self) -> Vec<(String, Option<std::ops::Range<usize>>)> {
        let Some(c) = &self.inner else { return Vec::new() };
        let Ok(template) = c.env.get_template(NAME) else { return Vec::new() };
        let globals: Vec<String> = c.env.globals().map(|(n, _)| n.to_owned()).collect();
        let mut names: Vec<String> = template
            .undeclared_variables(true)
            .into_iter()
            .filter(|n| {
                let root = n.split('.').next().unwrap_or(n);
                !CONTEXT.iter().any(|e| e.name == root) && !globals.iter().any(|g| g == root)
            })
            .collect();
        names.sort();
        let source = template.source();
        names
            .into_iter()
            .map(|n| {
                let range = scan::find_identifier(source, &n);
                (n, range)
            })
            .collect()
    }

    /// Renders the body of one notification: `Ok(None)` when the template renders to
    /// nothing (no request for this event), `Err` with a reason when it cannot be made
    /// (a template error, a JSON body that does not parse).
    pub fn render(&self, envelope: &Arc<Envelope>) -> Result<Option<Vec<u8>>, RenderError> {
        let Some(c) = &self.inner else { return Ok(Some(envelope.to_wire_json())) };
        let (template, ctx) = c.prepare(envelope)?;
        let text = template.render(ctx).map_err(|e| render_failed(&e))?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        // Built-in formats are JSON by construction for any envelope (proved by the
        // property tests and the golden tests); a user's template is checked each time,
        // since its own text may leave a branch the samples never took.
        if c.json
            && c.format.is_none()
            && let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text)
        {
            return Err(RenderError {
                message: format!("the rendered body is not valid JSON (in the body, {e})"),
                range: None,
            });
        }
        Ok(Some(text.into_bytes()))
    }
}

impl Body {
    /// Like [`render`](Body::render), for the settings compiler: every body is parsed
    /// (built-in formats too), and the range of a body that is not valid JSON is the
    /// template text, or the `{{ expression }}`, that wrote the offending character, so
    /// the mistake can be shown in the settings file. Slower than `render`.
    pub fn render_located(&self, envelope: &Arc<Envelope>) -> Result<Option<Vec<u8>>, RenderError> {
        let Some(c) = &self.inner else { return Ok(Some(envelope.to_wire_json())) };
        let (template, ctx) = c.prepare(envelope)?;
        let (text, spans) = template.render_with_spans(ctx).map_err(|e| render_failed(&e))?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        if c.json
            && let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text)
        {
            // The byte of the rendered body the parser stopped at (its line and column
            // count from 1), and the template source that wrote it.
            let line_start: usize = text.split_inclusive('\n').take(e.line().saturating_sub(1)).map(str::len).sum();
            let at = (line_start + e.column().saturating_sub(1)).min(text.len().saturating_sub(1));
            let span = spans.iter().find(|s| s.output_range().contains(&at)).or_else(|| spans.last());
            let range = span.map(|s| match s.kind() {
                minijinja::OutputSpanKind::Raw => {
                    let start = s.source_range().start + (at - s.output_range().start.min(at));
                    let end = template.source()[start..].chars().next().map_or(start, |ch| start + ch.len_utf8());
                    start..end
                }
                _ => s.source_range(),
            });
            return Err(RenderError {
                message: format!("the rendered body is not valid JSON (in the body, {e})"),
                range,
            });
        }
        Ok(Some(text.into_bytes()))
    }
}

impl Compiled {
    /// The body template and the context it renders for `envelope` (both render paths).
    fn prepare(&self, envelope: &Arc<Envelope>) -> Result<(minijinja::Template<'_, '_>, JValue), RenderError> {
        let template =
            self.env.get_template(NAME).map_err(|e| RenderError { message: describe_error(&e), range: e.range() })?;
        Ok((template, JValue::from_object(context::Ctx::new(envelope.clone(), self.options.clone()))))
    }
}

/// A template that failed while rendering, at the template range minijinja names.
fn render_failed(e: &minijinja::Error) -> RenderError {
    RenderError { message: format!("the body template failed: {}", describe_error(e)), range: e.range() }
}

/// minijinja's error as one line: its kind and detail, and the template line.
fn describe_error(e: &minijinja::Error) -> String {
    let mut text = match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    };
    if let Some(line) = e.line() {
        text.push_str(&format!(" (template line {line})"));
    }
    text
}

/// The environment every body template runs in: Jinja2 syntax and defaults, undefined
/// attributes chain to `none` (payloads differ from event to event), a fuel budget, the
/// body filters, and for JSON bodies the formatter that writes every value as JSON.
fn environment(json: bool) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_debug(true);
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_fuel(Some(FUEL));
    filters::register(&mut env);
    if json {
        env.set_formatter(|out, _state, value| {
            // Strings, the most common value, are escaped straight into the output.
            if let Some(s) = value.as_str() {
                return context::write_json_str(out, s).map_err(minijinja::Error::from);
            }
            let text = context::to_json(value).map_err(|e| {
                minijinja::Error::new(minijinja::ErrorKind::BadSerialization, "cannot write this value as JSON")
                    .with_source(e)
            })?;
            out.write_str(&text).map_err(minijinja::Error::from)
        });
    }
    env
}

#[cfg(test)]
mod tests;
