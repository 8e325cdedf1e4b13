//! The kinds of problems a settings file can have: one [`Code`] per rule.
//!
//! Each variant is written once, with its stable kebab-case name (what `notifier check`
//! prints in `error[unknown-event]`, `--format json` and `--format github`); the enum,
//! [`Code::ALL`] and [`Code::as_str`] are generated from that one list.

use std::fmt;

use serde::{Serialize, Serializer};

macro_rules! codes {
    ($( $(#[doc = $doc:literal])+ $variant:ident = $text:literal, )+) => {
        /// What rule a [`Diagnostic`](crate::Diagnostic) is about. Displayed and
        /// serialised as its kebab-case name, e.g. `unknown-event`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[doc = $doc])+ $variant, )+
        }

        impl Code {
            /// Every code, in the order of this list.
            pub const ALL: &'static [Code] = &[$(Code::$variant),+];

            /// The stable kebab-case name, e.g. `"unknown-event"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)+
                }
            }

            /// What the rule is about, as documented on its variant (one line per doc
            /// line; [`Code::description`] joins them).
            const fn doc(self) -> &'static str {
                match self {
                    $(Code::$variant => concat!($($doc, "\n"),+),)+
                }
            }
        }
    };
}

codes! {
    // The file as a whole.
    /// The file could not be read as text (missing, a directory, too large, not UTF-8).
    /// Only `notifier check` reports it as a diagnostic; the compiler gets no text.
    Unreadable = "unreadable",
    /// The text is not one loadable YAML document (syntax error, a second document, an
    /// alias bomb, nesting too deep, an unsupported tag).
    Yaml = "yaml",
    /// The document is not a mapping of keys.
    SettingsNotMapping = "settings-not-mapping",
    /// `notifications` is not a list of channels.
    NotificationsNotList = "notifications-not-list",
    /// A key written twice in one mapping (PyYAML keeps the last one silently); an
    /// error inside `notifications`, a warning elsewhere.
    DuplicateKey = "duplicate-key",
    /// `.inf` or `.nan` inside `notifications`, which JSON cannot hold.
    NotFinite = "not-finite",
    /// The JSON Schema rejects something no semantic check explains (a safety net).
    Schema = "schema",
    /// The checks accepted an entry serde then refused: a bug of this compiler.
    Internal = "internal",

    // Channels.
    /// An entry of `notifications` is not a mapping.
    ChannelNotMapping = "channel-not-mapping",
    /// A channel has no `type`.
    MissingType = "missing-type",
    /// A channel's `type` is neither `http` nor `plugin`.
    UnknownType = "unknown-type",
    /// A key an http channel does not accept.
    UnknownKey = "unknown-key",
    /// Two channels would send the same thing to the same place (a warning).
    DuplicateChannel = "duplicate-channel",
    /// `timeout` is not a number of seconds within the limits.
    InvalidTimeout = "invalid-timeout",

    // HTTP channels.
    /// An http channel has no `url`.
    MissingUrl = "missing-url",
    /// `url` is not an absolute `http://` or `https://` URL.
    InvalidUrl = "invalid-url",
    /// `verify_tls` or `forward_event_payload` is not a boolean.
    NotABoolean = "not-a-boolean",
    /// `verify_tls: false` (a warning).
    TlsVerificationOff = "tls-verification-off",
    /// Credential headers sent to a plain `http://` URL (a warning).
    CredentialsOverHttp = "credentials-over-http",
    /// `retries` is not a whole number within the limit.
    InvalidRetries = "invalid-retries",
    /// `signing_secret` is not a Standard Webhooks secret.
    InvalidSigningSecret = "invalid-signing-secret",
    /// `headers` is not a mapping.
    HeadersNotMapping = "headers-not-mapping",
    /// A header name HTTP does not allow.
    InvalidHeaderName = "invalid-header-name",
    /// A header value that is not a string, or has characters HTTP does not allow.
    InvalidHeaderValue = "invalid-header-value",
    /// A header value with a line break (it would inject headers).
    HeaderInjection = "header-injection",

    // Bodies (`template`, `format`, `content_type`, `options`).
    /// A `template` that does not parse as a Jinja2 template.
    TemplateSyntax = "template-syntax",
    /// A `template` reads a variable the context does not have (a warning).
    UnknownTemplateVariable = "unknown-template-variable",
    /// A `template` or `format` that renders, for an event the channel takes, a body
    /// that is not valid for its content type, or that fails to render.
    InvalidBody = "invalid-body",
    /// A `format` that is not a built-in format.
    UnknownFormat = "unknown-format",
    /// An `options` entry the format does not take, or of the wrong type or value, or a
    /// required option missing.
    InvalidFormatOption = "invalid-format-option",
    /// Body keys that cannot go together (`template` and `format`, a body on a channel
    /// that sends none, `content_type` without `template`).
    BodyConflict = "body-conflict",
    /// A `content_type` that is not a media type.
    InvalidContentType = "invalid-content-type",

    // Events.
    /// `events` is not a list of event names.
    EventsNotList = "events-not-list",
    /// A name in `events` that is not a flow event.
    UnknownEvent = "unknown-event",
    /// `events: []`, which sends every event (a warning).
    EmptyEvents = "empty-events",
    /// An event listed twice in one filter (a warning).
    DuplicateEvent = "duplicate-event",

    // Plugin channels.
    /// A plugin channel has no `module`.
    MissingModule = "missing-module",
    /// `module` is not a dotted module path.
    InvalidModule = "invalid-module",
    /// `func` is not a function name.
    InvalidFunc = "invalid-func",
    /// `func` is a word Rust reserves and cannot name a function even as a raw
    /// identifier (`_`, `self`, `Self`, `super`, `crate`).
    ReservedFunc = "reserved-func",
    /// A built-in plugin has no function of that name.
    UnknownFunc = "unknown-func",
    /// A built-in plugin's required key is missing.
    MissingPluginKey = "missing-plugin-key",
    /// A built-in plugin's required key is not a non-empty string.
    InvalidPluginKey = "invalid-plugin-key",
    /// A module that is not a built-in plugin (a warning): the program must provide it.
    UnknownPlugin = "unknown-plugin",
    /// A plugin module `settings!` or `notifier codegen` has no Rust mapping for.
    UnmappedPlugin = "unmapped-plugin",

    // Values.
    /// A malformed `${VAR}` reference.
    InvalidVariable = "invalid-variable",
    /// A `${VAR}` reference to a variable unset where the file was checked (a warning).
    UnsetVariable = "unset-variable",
    /// A credential written in plain text (a warning).
    PlainTextSecret = "plain-text-secret",

    // The `notifier.nats` plugin.
    /// A `url` of `notifier.nats` that is not one or more `nats://` or `tls://` server
    /// URLs separated by commas.
    InvalidNatsUrl = "invalid-nats-url",
    /// A `subject` of `notifier.nats` that is not a concrete NATS subject: an empty token, a
    /// wildcard, white space, or a placeholder other than `{event}`, `{phase}`, `{outcome}`.
    InvalidSubject = "invalid-subject",
    /// Another key of `notifier.nats` that cannot work: an unknown `format`, a `stream` name
    /// NATS refuses, credentials that do not go together, half a client certificate.
    InvalidNatsSetting = "invalid-nats-setting",
}

impl Code {
    /// Whether the problem depends on where the file is used rather than on the file: an
    /// environment variable unset here, a plugin module the program must provide. At run
    /// time such a channel *may* be skipped; at build time (`settings!`, `notifier
    /// codegen`) these warnings say nothing and are not shown.
    pub const fn depends_on_where_it_runs(self) -> bool {
        matches!(self, Code::UnsetVariable | Code::UnknownPlugin)
    }
}

impl Code {
    /// What the rule checks, in a few sentences (the variant's documentation): the help
    /// text of the rule in `notifier check --format sarif`.
    pub fn description(self) -> String {
        self.doc().lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
    }

    /// The first sentence of [`Code::description`].
    pub fn summary(self) -> String {
        let description = self.description();
        match description.find(". ") {
            Some(end) => description[..=end].to_owned(),
            None => description,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_serialised_as_displayed() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "`{name}` is used twice");
            assert!(
                !name.is_empty() && name.split('-').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())),
                "`{name}` is not kebab-case"
            );
            assert_eq!(code.to_string(), name);
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::Value::String(name.into()));
            let description = code.description();
            assert!(description.ends_with('.') && !description.contains("  "), "{name}: {description:?}");
            assert!(code.summary().ends_with('.') && description.starts_with(&code.summary()), "{name}");
        }
    }
}
