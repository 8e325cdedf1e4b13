//! `notifier.nats`: publishes each event to NATS JetStream and waits for its PubAck.
//!
//! ```yaml
//! notifications:
//!   - type: plugin
//!     module: notifier.nats
//!     url: nats://n1:4222,nats://n2:4222,nats://n3:4222   # required: one or more servers
//!     subject: chaos.{event}      # required: {event}, {phase} and {outcome} are filled in
//!     stream: CHAOS               # optional: the stream that must store it
//!     token: ${NATS_TOKEN}        # or user + password, or creds: /path/to/user.creds
//!     format: cloudevents         # optional: chaostoolkit (the envelope, default) or cloudevents
//!     timeout: 5                  # seconds per attempt, PubAck included
//!     retries: 3                  # extra attempts with the same Nats-Msg-Id
//! ```
//!
//! Each event is one JetStream publish on the rendered subject. The channel counts it as
//! delivered only when JetStream's PubAck is in (within `timeout`): the stream has stored
//! it, so it survives the publisher. `Nats-Msg-Id` is the event's stable id
//! ([`crate::body::event_id`], the CloudEvents `id` too): a retry, or a second channel
//! publishing the same event into the same stream, is dropped by the server as a
//! duplicate within the stream's `duplicate_window`.
//!
//! The message is the envelope, byte for byte as an http channel posts it
//! (`Content-Type: application/json`), or with `format: cloudevents` a CloudEvents 1.0
//! event in structured mode, as the CloudEvents NATS protocol binding says
//! (`Content-Type: application/cloudevents+json; charset=UTF-8`, the JSON event format as
//! the payload; `options: {source, type_prefix}` as for http channels).
//!
//! Keys:
//! * `url` (required): `nats://host[:port]` or `tls://host[:port]`, several separated by
//!   commas (a cluster); `${VAR}` allowed. `tls://` (or any `tls_*` key) requires TLS.
//! * `subject` (required): the subject, with `{event}` (`run-failed`), `{phase}` (`run`)
//!   and `{outcome}` (`failed`) filled in per event; no wildcards, no spaces.
//! * `stream` (optional): the stream that must capture the subject (`Nats-Expected-Stream`):
//!   a publish another stream would store is refused instead.
//! * credentials, from `${VAR}`s: `token`; or `user` and `password`; or `creds` (the path of
//!   a `.creds` file, user JWT and NKey seed).
//! * TLS: `tls_ca` (PEM file of the roots to trust, besides the system's), `tls_cert` and
//!   `tls_key` (a client certificate, PEM files).
//! * `timeout` (seconds per attempt, default 5), `retries` (0–10, default 0): retries are
//!   made for connection failures, a missing PubAck and a stream that has no leader (or
//!   does not exist yet), with the http channels' exponential backoff and jitter, inside
//!   the channel's budget.
//!
//! One connection per distinct server list and credentials, made at the first event and
//! reused by every later one (and reconnected by the client when a server goes away).
//! Publishing runs on the delivery runtime, like HTTP; a program built without the
//! `nats` feature of `notifier-core` still knows the plugin (the settings compiler checks
//! it, `settings!` maps it) and fails each of its events with that reason.
//!
//! The settings compiler checks channels with [`check_servers`] and [`Subject::parse`],
//! the same functions the plugin runs, so `notifier check` and run time agree.

#[cfg(feature = "nats")]
mod publish;

use std::ops::Range;

use crate::envelope::Envelope;
#[cfg(feature = "http")]
use crate::plugin::{PluginConfig, PluginError};

/// The Chaos Toolkit module name of the plugin.
pub const MODULE: &str = "notifier.nats";

/// The placeholders a subject may use.
pub const SUBJECT_FIELDS: [&str; 3] = ["event", "phase", "outcome"];

/// The URL schemes of NATS servers.
pub const SCHEMES: [&str; 2] = ["nats", "tls"];

/// The message formats: the envelope (default) and CloudEvents in structured mode.
pub const FORMATS: [&str; 2] = ["chaostoolkit", "cloudevents"];

/// Keys of the channel entry that hold credentials (their values should be `${VAR}`s).
pub const CREDENTIAL_KEYS: [&str; 3] = ["token", "user", "password"];

/// Keys of the channel entry that name files (credentials and TLS).
pub const FILE_KEYS: [&str; 4] = ["creds", "tls_ca", "tls_cert", "tls_key"];

/// Every key the plugin reads (besides `type`, `module`, `func`, `events`).
pub const KEYS: [&str; 14] = [
    "url", "subject", "stream", "token", "user", "password", "creds", "tls_ca", "tls_cert", "tls_key", "format",
    "options", "timeout", "retries",
];

/// What a TLS handshake failure (in a connect error's text) means to the user, if it is
/// one: the server's certificate is not trusted, or the server wants a client
/// certificate. Neither goes away by trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailure {
    /// The client does not trust the server's certificate (unknown CA, wrong name, expired).
    UntrustedServer,
    /// The server requires (or rejected) the client's certificate.
    ClientCertificate,
}

impl TlsFailure {
    /// Recognises the handshake errors of the NATS client (rustls) in `text`.
    pub fn of(text: &str) -> Option<TlsFailure> {
        if text.contains("invalid peer certificate") {
            Some(TlsFailure::UntrustedServer)
        } else if ["CertificateRequired", "BadCertificate", "UnknownCA", "CertificateUnknown"]
            .iter()
            .any(|alert| text.contains(&format!("received fatal alert: {alert}")))
        {
            Some(TlsFailure::ClientCertificate)
        } else {
            None
        }
    }
}

/// The default NATS client port.
pub const DEFAULT_PORT: u16 = 4222;

/// A problem in a setting's text, with the byte range of the offending part (when there
/// is one), for `file:line:col` messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// Bytes of the value the problem is about.
    pub range: Option<Range<usize>>,
    /// What is wrong.
    pub message: String,
    /// An unknown placeholder's name (for "did you mean").
    pub unknown_field: Option<String>,
}

impl SpecError {
    fn at(range: Range<usize>, message: impl Into<String>) -> SpecError {
        SpecError { range: Some(range), message: message.into(), unknown_field: None }
    }
}

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// One server of `url`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// `nats` or `tls`.
    pub scheme: String,
    /// The URL as written (trimmed), for the client.
    pub url: String,
    /// Whether the URL carries user information (a credential in the URL).
    pub has_userinfo: bool,
}

/// Checks `url`: one or more `nats://` or `tls://` URLs separated by commas. A part
/// holding a `${VAR}` is checked only up to it (what it holds is known at run time).
pub fn check_servers(text: &str) -> Result<Vec<Server>, SpecError> {
    let mut servers = Vec::new();
    let mut offset = 0;
    for part in text.split(',') {
        let start = offset + (part.len() - part.trim_start().len());
        offset += part.len() + 1;
        let url = part.trim();
        let range = start..start + url.len();
        if url.is_empty() {
            return Err(SpecError::at(range, "an empty server in `url` (two commas, or a comma at an end)"));
        }
        if url.starts_with("${") {
            // A variable holding a whole URL (or several): checked when it is resolved.
            continue;
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(SpecError::at(
                range,
                format!("`{}` is not a NATS URL: write `nats://host:4222` or `tls://host:4222`", short(url)),
            ));
        };
        if !SCHEMES.contains(&scheme) {
            return Err(SpecError::at(
                start..start + scheme.len(),
                format!("`{scheme}://` is not a NATS server URL: use `nats://` or `tls://`"),
            ));
        }
        let rest_start = start + scheme.len() + 3;
        let cut = rest.find("${").unwrap_or(rest.len());
        let authority = rest[..cut].trim_end_matches('/');
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if cut < rest.len() {
            servers.push(Server { scheme: scheme.into(), url: url.into(), has_userinfo: userinfo.is_some() });
            continue;
        }
        if rest[authority.len()..].chars().any(|c| c != '/') || rest.contains(['?', '#']) {
            return Err(SpecError::at(range, "a NATS URL has no path, query or fragment: `nats://host:port`"));
        }
        let (host, port) = match hostport.strip_prefix('[') {
            // `[::1]:4222`
            Some(v6) => v6.split_once(']').map_or(("", None), |(h, p)| (h, p.strip_prefix(':'))),
            None => hostport.rsplit_once(':').map_or((hostport, None), |(h, p)| (h, Some(p))),
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(SpecError::at(rest_start..rest_start + rest.len(), "the NATS URL has no valid host"));
        }
        if let Some(port) = port
            && port.parse::<u16>().map_or(true, |p| p == 0)
        {
            let at = rest_start + authority.len() - port.len();
            return Err(SpecError::at(at..at + port.len().max(1), format!("`{port}` is not a port number")));
        }
        servers.push(Server { scheme: scheme.into(), url: url.into(), has_userinfo: userinfo.is_some() });
    }
    Ok(servers)
}

fn short(text: &str) -> String {
    let mut s: String = text.chars().take(60).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

/// A subject with placeholders, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Event,
    Phase,
    Outcome,
}

impl Subject {
    /// Parses a subject: `.`-separated tokens, none empty, no white space, no wildcard
    /// (`*`, `>`), placeholders `{event}`, `{phase}`, `{outcome}`. A `${VAR}` is taken as
    /// part of a token (its value is checked at run time, when the text is parsed again).
    pub fn parse(text: &str) -> Result<Subject, SpecError> {
        if text.is_empty() {
            return Err(SpecError::at(0..0, "`subject` is empty"));
        }
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut token_start = 0;
        let mut token_len = 0;
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < text.len() {
            let c = text[i..].chars().next().unwrap_or_default();
            let len = c.len_utf8();
            match c {
                '$' if bytes.get(i + 1) == Some(&b'{') => {
                    let end = text[i..].find('}').map_or(text.len(), |e| i + e + 1);
                    lit.push_str(&text[i..end]);
                    token_len += end - i;
                    i = end;
                    continue;
                }
                '{' => {
                    let Some(close) = text[i..].find('}') else {
                        return Err(SpecError::at(i..text.len(), "`{` is not closed with `}`"));
                    };
                    let name = &text[i + 1..i + close];
                    let part = match name {
                        "event" => Part::Event,
                        "phase" => Part::Phase,
                        "outcome" => Part::Outcome,
                        _ => {
                            return Err(SpecError {
                                range: Some(i..i + close + 1),
                                message: format!(
                                    "`{{{name}}}` is not a subject placeholder: use {{event}}, {{phase}} or {{outcome}}"
                                ),
                                unknown_field: Some(name.to_owned()),
                            });
                        }
                    };
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(part);
                    token_len += close + 1;
                    i += close + 1;
                    continue;
                }
                '}' => return Err(SpecError::at(i..i + 1, "`}` without a `{`")),
                '.' => {
                    if token_len == 0 {
                        return Err(SpecError::at(
                            token_start..i + 1,
                            "an empty token in the subject (`..`, or a dot at an end)",
                        ));
                    }
                    token_start = i + 1;
                    token_len = 0;
                }
                '*' | '>' => {
                    return Err(SpecError::at(
                        i..i + 1,
                        format!("`{c}` is a wildcard: a message is published to one concrete subject"),
                    ));
                }
                c if c.is_whitespace() || c.is_control() => {
                    return Err(SpecError::at(i..i + len, "a subject has no spaces, tabs or line breaks"));
                }
                _ => token_len += len,
            }
            lit.push(c);
            i += len;
        }
        if token_len == 0 {
            return Err(SpecError::at(token_start..text.len(), "an empty token in the subject (a dot at the end)"));
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Subject { parts })
    }

    /// The subject for `envelope`.
    pub fn render(&self, envelope: &Envelope) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Event => out.push_str(envelope.name()),
                Part::Phase => out.push_str(envelope.phase().as_str()),
                Part::Outcome => out.push_str(envelope.name().rsplit('-').next().unwrap_or_default()),
            }
        }
        out
    }
}

/// The plugin function. Built without the `nats` feature, it fails every event with the
/// reason (the settings are still checked).
#[cfg(feature = "http")]
pub fn notify(config: &PluginConfig, envelope: &Envelope) -> Result<(), PluginError> {
    #[cfg(feature = "nats")]
    {
        publish::notify(config, envelope)
    }
    #[cfg(not(feature = "nats"))]
    {
        let _ = (config, envelope);
        Err(PluginError::Config(
            "this program is built without NATS support (the `nats` feature of `notifier` / `notifier-core`)".into(),
        ))
    }
}

/// The dispatcher's way to run the plugin: awaited on the delivery runtime instead of a
/// blocking thread (same result as [`notify`]).
#[cfg(feature = "nats")]
pub(crate) async fn notify_async(config: &PluginConfig, envelope: &Envelope) -> Result<(), PluginError> {
    publish::notify_async(config, envelope).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use serde_json::json;

    #[test]
    fn tls_failures_are_recognised_in_the_client_errors() {
        assert_eq!(
            TlsFailure::of("IO error: invalid peer certificate: UnknownIssuer"),
            Some(TlsFailure::UntrustedServer)
        );
        assert_eq!(
            TlsFailure::of("IO error: received fatal alert: CertificateRequired"),
            Some(TlsFailure::ClientCertificate)
        );
        assert_eq!(TlsFailure::of("IO error: Connection refused (os error 111)"), None);
    }

    #[test]
    fn subjects_render_their_placeholders() {
        let env = Envelope::at(Event::RunFailed, json!(null), None, 1.0);
        let s = Subject::parse("chaos.{phase}.{outcome}.{event}").unwrap();
        assert_eq!(s.render(&env), "chaos.run.failed.run-failed");
        assert_eq!(Subject::parse("a.${ENV}.{event}").unwrap().render(&env), "a.${ENV}.run-failed");
    }

    #[test]
    fn bad_subjects_point_at_the_offending_part() {
        let err = |t: &str| Subject::parse(t).unwrap_err();
        assert_eq!(err("chaos.>").range, Some(6..7));
        assert_eq!(err("chaos.*.x").range, Some(6..7));
        assert_eq!(err("chaos..x").range, Some(6..7));
        assert_eq!(err("chaos.").range, Some(6..6));
        assert_eq!(err(".chaos").range, Some(0..1));
        assert_eq!(err("chaos x").range, Some(5..6));
        assert_eq!(err("chaos.{evnt}").range, Some(6..12));
        assert_eq!(err("chaos.{evnt}").unknown_field.as_deref(), Some("evnt"));
        assert_eq!(err("chaos.{event").range, Some(6..12));
        assert_eq!(err("").range, Some(0..0));
    }

    #[test]
    fn servers() {
        let ok = check_servers("nats://a:4222, tls://b , nats://u:p@c:1").unwrap();
        assert_eq!(ok.iter().map(|s| s.scheme.as_str()).collect::<Vec<_>>(), ["nats", "tls", "nats"]);
        assert!(ok[2].has_userinfo && !ok[0].has_userinfo);
        assert_eq!(check_servers("${NATS_URL}").unwrap(), vec![]);
        assert!(check_servers("nats://${HOST}:4222").is_ok());
        assert_eq!(check_servers("http://a:4222").unwrap_err().range, Some(0..4));
        assert_eq!(check_servers("nats://a:4222,,nats://b").unwrap_err().range, Some(14..14));
        assert_eq!(check_servers("nats://a:99999").unwrap_err().range, Some(9..14));
        assert!(check_servers("nats://a:4222/path").is_err());
        assert!(check_servers("localhost:4222").is_err());
        assert!(check_servers("nats://:4222").is_err());
        assert!(check_servers("nats://[::1]:4222").is_ok() && check_servers("nats://[::1]").is_ok());
    }
}
