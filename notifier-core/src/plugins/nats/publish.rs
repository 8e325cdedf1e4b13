//! The JetStream publish of `notifier.nats` (feature `nats`): settings read from the
//! channel entry, one shared connection per server list and credentials, a publish that
//! waits for the PubAck, retries with the same `Nats-Msg-Id`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use async_nats::{ConnectErrorKind, ConnectOptions, ServerAddr};
use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use super::{FORMATS, Subject, TlsFailure, check_servers};
use crate::body::Body;
use crate::channel::{CONNECT_TIMEOUT, DEFAULT_TIMEOUT, MAX_RETRIES};
use crate::envelope::Envelope;
use crate::plugin::{PluginConfig, PluginError};

/// The `Content-Type` of a message holding the envelope.
const ENVELOPE_CONTENT_TYPE: &str = "application/json";

/// The channel entry, checked. Made per call (a few microseconds); the connection and the
/// compiled CloudEvents body are what is shared between calls.
struct Settings {
    servers: Vec<ServerAddr>,
    /// The server list and credentials: the key of the shared connection.
    key: String,
    tls: bool,
    subject: Subject,
    stream: Option<String>,
    auth: Auth,
    tls_ca: Option<PathBuf>,
    tls_client: Option<(PathBuf, PathBuf)>,
    /// `format: cloudevents`, with the channel's `options` as JSON text.
    cloudevents: Option<String>,
    timeout: Duration,
    retries: u8,
}

enum Auth {
    None,
    Token(String),
    UserPassword(String, String),
    Creds(PathBuf),
}

fn config_err(message: impl Into<String>) -> PluginError {
    PluginError::Config(message.into())
}

fn optional_str<'a>(config: &'a PluginConfig, key: &str) -> Result<Option<&'a str>, PluginError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(config_err(format!("`{key}` must be a string"))),
    }
}

impl Settings {
    fn from_config(config: &PluginConfig) -> Result<Settings, PluginError> {
        let url = optional_str(config, "url")?.ok_or_else(|| config_err("`notifier.nats` needs a `url`"))?;
        let checked = check_servers(url).map_err(|e| config_err(format!("`url`: {}", config.redact(&e.message))))?;
        if checked.is_empty() {
            return Err(config_err("`url` names no server"));
        }
        let servers = checked
            .iter()
            .map(|s| s.url.parse::<ServerAddr>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| config_err(format!("`url`: {}", config.redact(&e.to_string()))))?;
        let subject =
            optional_str(config, "subject")?.ok_or_else(|| config_err("`notifier.nats` needs a `subject`"))?;
        let subject = Subject::parse(subject).map_err(|e| config_err(format!("`subject`: {e}")))?;
        let stream = optional_str(config, "stream")?.map(str::to_owned);
        let token = optional_str(config, "token")?;
        let user = optional_str(config, "user")?;
        let password = optional_str(config, "password")?;
        let creds = optional_str(config, "creds")?;
        let auth = match (token, user, password, creds) {
            // `nats://user:password@host` or `nats://token@host`: the client does not read
            // credentials from the URL, so they are taken from it here.
            (None, None, None, None) => match servers.iter().find(|s| s.has_user_pass()) {
                Some(s) => match (s.username(), s.password()) {
                    (Some(u), Some(p)) => Auth::UserPassword(u.to_owned(), p.to_owned()),
                    (Some(t), None) => Auth::Token(t.to_owned()),
                    _ => Auth::None,
                },
                None => Auth::None,
            },
            (Some(t), None, None, None) => Auth::Token(t.to_owned()),
            (None, Some(u), Some(p), None) => Auth::UserPassword(u.to_owned(), p.to_owned()),
            (None, None, None, Some(c)) => Auth::Creds(PathBuf::from(c)),
            (None, Some(_), None, None) | (None, None, Some(_), None) => {
                return Err(config_err("`user` and `password` go together"));
            }
            _ => return Err(config_err("give one of `token`, `user` + `password` or `creds`")),
        };
        let tls_ca = optional_str(config, "tls_ca")?.map(PathBuf::from);
        let tls_client = match (optional_str(config, "tls_cert")?, optional_str(config, "tls_key")?) {
            (Some(c), Some(k)) => Some((PathBuf::from(c), PathBuf::from(k))),
            (None, None) => None,
            _ => return Err(config_err("`tls_cert` and `tls_key` go together")),
        };
        let tls = checked.iter().any(|s| s.scheme == "tls") || tls_ca.is_some() || tls_client.is_some();
        let cloudevents = match optional_str(config, "format")? {
            None | Some("chaostoolkit") => None,
            Some("cloudevents") => Some(match config.get("options") {
                None | Some(Value::Null) => "{}".to_owned(),
                Some(Value::Object(o)) => Value::Object(o.clone()).to_string(),
                Some(_) => return Err(config_err("`options` must be a mapping")),
            }),
            Some(other) => {
                return Err(config_err(format!(
                    "`format: {other}` is not a NATS format: use {}",
                    FORMATS.join(" or ")
                )));
            }
        };
        let timeout = config
            .get("timeout")
            .and_then(Value::as_f64)
            .filter(|t| t.is_finite() && *t > 0.0)
            .map_or(DEFAULT_TIMEOUT, |t| Duration::from_secs_f64(t.min(3600.0)));
        let retries = config.get("retries").and_then(Value::as_u64).map_or(0, |r| r.min(u64::from(MAX_RETRIES)) as u8);
        let key = format!(
            "{}|{}|{}|{:?}|{:?}",
            checked.iter().map(|s| s.url.as_str()).collect::<Vec<_>>().join(","),
            tls,
            match &auth {
                Auth::None => String::new(),
                Auth::Token(t) => format!("token:{t}"),
                Auth::UserPassword(u, p) => format!("user:{u}:{p}"),
                Auth::Creds(c) => format!("creds:{}", c.display()),
            },
            tls_ca,
            tls_client,
        );
        Ok(Settings { servers, key, tls, subject, stream, auth, tls_ca, tls_client, cloudevents, timeout, retries })
    }

    async fn connect(&self) -> Result<async_nats::Client, Failure> {
        let mut options = match &self.auth {
            Auth::Creds(path) => ConnectOptions::with_credentials_file(path)
                .await
                .map_err(|e| Failure::permanent(format!("cannot read the creds file {}: {e}", path.display())))?,
            _ => ConnectOptions::new(),
        };
        options = match &self.auth {
            Auth::Token(t) => options.token(t.clone()),
            Auth::UserPassword(u, p) => options.user_and_password(u.clone(), p.clone()),
            Auth::None | Auth::Creds(_) => options,
        };
        if self.tls {
            options = options.require_tls(true);
        }
        if let Some(ca) = &self.tls_ca {
            options = options.add_root_certificates(ca.clone());
        }
        if let Some((cert, key)) = &self.tls_client {
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
        let options = options
            .name(concat!("notifier/", env!("CARGO_PKG_VERSION")))
            .connection_timeout(CONNECT_TIMEOUT.min(self.timeout))
            // A publisher never reads its own messages.
            .no_echo();
        options.connect(self.servers.clone()).await.map_err(|e| {
            let text = e.to_string();
            let hint = match TlsFailure::of(&text) {
                Some(TlsFailure::UntrustedServer) => {
                    "; the server's TLS certificate is not trusted: set `tls_ca` to the PEM file of the CA that \
                     signed it"
                }
                Some(TlsFailure::ClientCertificate) => {
                    "; the server wants a client certificate it trusts: set `tls_cert` and `tls_key`"
                }
                None => "",
            };
            // A TLS handshake failure is a setting to fix, not a network glitch.
            let retryable = hint.is_empty()
                && matches!(e.kind(), ConnectErrorKind::TimedOut | ConnectErrorKind::Io | ConnectErrorKind::Dns);
            Failure { message: format!("cannot connect to NATS: {text}{hint}"), retryable }
        })
    }
}

/// Why one attempt failed, and whether another may succeed.
struct Failure {
    message: String,
    retryable: bool,
}

impl Failure {
    fn permanent(message: String) -> Failure {
        Failure { message, retryable: false }
    }

    fn publish(e: &PublishError, timeout: Duration) -> Failure {
        let (message, retryable) = match e.kind() {
            PublishErrorKind::TimedOut => (
                format!(
                    "no PubAck within {:.1} s (stored or not is unknown; a retry is deduplicated)",
                    timeout.as_secs_f64()
                ),
                true,
            ),
            PublishErrorKind::StreamNotFound => {
                ("no stream captures the subject, or the stream has no leader (503 no responders)".to_owned(), true)
            }
            PublishErrorKind::BrokenPipe | PublishErrorKind::MaxAckPending => (e.to_string(), true),
            PublishErrorKind::Other => {
                let text = e.to_string();
                // A JetStream API error (wrong stream, no space, …) says so in its text.
                let permanent = text.contains("expected stream") || text.contains("10060");
                (text, !permanent)
            }
            _ => (e.to_string(), false),
        };
        Failure { message, retryable }
    }
}

/// A connection shared by every channel with the same servers and credentials.
type Shared = Arc<OnceCell<async_nats::Client>>;

fn connection(key: &str) -> Shared {
    static CONNECTIONS: OnceLock<Mutex<HashMap<String, Shared>>> = OnceLock::new();
    let mut map = CONNECTIONS.get_or_init(Mutex::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(key.to_owned()).or_default().clone()
}

/// The compiled CloudEvents body of a channel's `options` (compiled once per options).
fn cloudevents_body(options_json: &str) -> Result<Arc<Body>, String> {
    static BODIES: OnceLock<Mutex<HashMap<String, Arc<Body>>>> = OnceLock::new();
    let mut map = BODIES.get_or_init(Mutex::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(body) = map.get(options_json) {
        return Ok(body.clone());
    }
    let options: Map<String, Value> = serde_json::from_str(options_json).map_err(|e| e.to_string())?;
    let body = Arc::new(Body::format("cloudevents", options).map_err(|e| e.to_string())?);
    map.insert(options_json.to_owned(), body.clone());
    Ok(body)
}

/// What one event is published as.
struct Message {
    subject: String,
    id: String,
    content_type: String,
    payload: bytes::Bytes,
    stream: Option<String>,
}

/// What one event is published as, and within what time.
fn prepare(config: &PluginConfig, envelope: &Envelope) -> Result<(Settings, Message, Duration), PluginError> {
    let settings = Settings::from_config(config)?;
    let (payload, content_type) = match &settings.cloudevents {
        None => (envelope.to_wire_json(), ENVELOPE_CONTENT_TYPE.to_owned()),
        Some(options) => {
            let body = cloudevents_body(options).map_err(|e| config_err(config.redact(&format!("`options`: {e}"))))?;
            let rendered = body
                .render(&Arc::new(envelope.clone()))
                .map_err(|e| PluginError::failed(config.redact(&format!("the CloudEvents body failed: {e}"))))?;
            (rendered.unwrap_or_default(), body.content_type().to_owned())
        }
    };
    let message = Message {
        subject: settings.subject.render(envelope),
        id: crate::body::event_id(envelope),
        content_type,
        payload: payload.into(),
        stream: settings.stream.clone(),
    };
    let retries = settings.retries;
    let bound = settings.timeout.saturating_mul(u32::from(retries) + 1)
        + crate::transport::MAX_BACKOFF.saturating_mul(u32::from(retries));
    Ok((settings, message, bound))
}

fn outcome(
    config: &PluginConfig,
    envelope: &Envelope,
    subject: &str,
    result: Result<async_nats::jetstream::publish::PublishAck, (u32, Failure)>,
) -> Result<(), PluginError> {
    let what = format!("NATS publish of `{}` to `{subject}`", envelope.name());
    match result {
        Ok(ack) => {
            tracing::debug!(
                target: "chaostoolkit",
                "{what}: stored as {} #{}{}",
                ack.stream,
                ack.sequence,
                if ack.duplicate { " (a duplicate: already stored)" } else { "" }
            );
            Ok(())
        }
        Err((attempts, f)) => {
            let tries = if attempts > 1 { format!(" after {attempts} attempts") } else { String::new() };
            Err(PluginError::failed(config.redact(&format!("{what} failed{tries}: {}", f.message))))
        }
    }
}

/// The plugin function: blocks the calling thread (not a runtime worker) until the PubAck
/// or the channel's budget.
pub(super) fn notify(config: &PluginConfig, envelope: &Envelope) -> Result<(), PluginError> {
    let (settings, message, bound) = prepare(config, envelope)?;
    let subject = message.subject.clone();
    let deadline = crate::engine::deadline_in(bound);
    crate::engine::init();
    match crate::engine::run_until(
        publish_with_retries(settings, message, deadline),
        deadline + Duration::from_millis(250),
    ) {
        Some(result) => outcome(config, envelope, &subject, result),
        None => Err(PluginError::failed(format!(
            "NATS publish of `{}` to `{subject}` did not finish within {:.1} s",
            envelope.name(),
            bound.as_secs_f64()
        ))),
    }
}

/// The same, awaited on the delivery runtime by the dispatcher (no blocking thread and no
/// hand-over per event); the caller bounds it by the channel's budget.
pub(super) async fn notify_async(config: &PluginConfig, envelope: &Envelope) -> Result<(), PluginError> {
    let (settings, message, bound) = prepare(config, envelope)?;
    let subject = message.subject.clone();
    let result = publish_with_retries(settings, message, crate::engine::deadline_in(bound)).await;
    outcome(config, envelope, &subject, result)
}

async fn publish_with_retries(
    settings: Settings,
    message: Message,
    deadline: Instant,
) -> Result<async_nats::jetstream::publish::PublishAck, (u32, Failure)> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let timeout = settings.timeout.min(deadline.saturating_duration_since(Instant::now()));
        let result = match tokio::time::timeout(timeout, attempt(&settings, &message, timeout)).await {
            Ok(result) => result,
            Err(_) => Err(Failure {
                message: format!(
                    "no PubAck within {:.1} s (stored or not is unknown; a retry is deduplicated)",
                    timeout.as_secs_f64()
                ),
                retryable: true,
            }),
        };
        let failure = match result {
            Ok(ack) => return Ok(ack),
            Err(f) => f,
        };
        let last = attempts > u32::from(settings.retries) || !failure.retryable;
        match (!last).then(|| crate::transport::next_wait(attempts, None, deadline)).flatten() {
            Some(wait) => {
                tracing::debug!(
                    target: "chaostoolkit",
                    "NATS publish to `{}` failed ({}), retrying in {:.1} s",
                    message.subject,
                    failure.message,
                    wait.as_secs_f64()
                );
                tokio::time::sleep(wait).await;
            }
            None => return Err((attempts, failure)),
        }
    }
}

async fn attempt(
    settings: &Settings,
    message: &Message,
    timeout: Duration,
) -> Result<async_nats::jetstream::publish::PublishAck, Failure> {
    let cell = connection(&settings.key);
    let client = cell.get_or_try_init(|| settings.connect()).await?.clone();
    let mut js = async_nats::jetstream::new(client);
    js.set_timeout(timeout);
    let mut publish = PublishMessage::build()
        .payload(message.payload.clone())
        .message_id(&message.id)
        .header("Content-Type", message.content_type.as_str());
    if let Some(stream) = &message.stream {
        publish = publish.expected_stream(stream);
    }
    let ack = js.send_publish(message.subject.clone(), publish).await.map_err(|e| Failure::publish(&e, timeout))?;
    ack.await.map_err(|e| Failure::publish(&e, timeout))
}
