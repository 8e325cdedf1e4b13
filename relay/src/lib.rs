//! `notifier relay`: delivers the notifications that runners published to NATS JetStream
//! (the `notifier.nats` channel) through the channels of a central settings file.
//!
//! ```text
//! runners ──notifier.nats──▶ JetStream stream ──durable pull consumer──▶ relays ──▶ receivers
//! ```
//!
//! Every relay binds to the same durable pull consumer, so each message goes to one of
//! them. A message is acked only after every channel of the central settings took it
//! (delivered, or filtered out by its `events`); a failure is negatively acked with a
//! growing delay (`--nak-delay`, doubled per delivery, at most 60 s) so JetStream
//! redelivers it, to this relay or another; at the `--max-deliver`th failure the message is
//! copied to the dead-letter subject (with the reason and the delivery count in headers)
//! and then terminated. A relay that crashes leaves its messages un-acked: JetStream
//! redelivers them after `ack_wait`. Delivery is therefore at least once; see
//! docs/SCALE.md for where duplicates arise.
//!
//! Messages are handled by `--concurrency` lanes; all messages of one experiment run (the
//! key the `cloudevents` format calls `subject`) go to the same lane, so one relay delivers
//! them in the order it received them. Redeliveries, and several relays, can reorder.
//!
//! On shutdown (the future given to [`run`] completes, e.g. SIGTERM) the relay stops
//! pulling, lets the deliveries in progress finish within `--grace`, negatively acks what
//! it holds but has not started (for another relay to take now), flushes its acks, and
//! returns. Nothing is acked before its delivery finished.

mod metrics;

use std::collections::hash_map::DefaultHasher;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, AckKind, consumer::pull, message::PublishMessage, stream};
use futures_util::StreamExt;
use notifier_core::{Envelope, Event, Notifier};
use serde_json::Value;
use tokio::sync::{mpsc, watch};

pub use metrics::{Metrics, Snapshot};

/// Header of a dead-lettered message: why its last delivery failed.
pub const DEAD_REASON_HEADER: &str = "Notifier-Dead-Reason";
/// Header of a dead-lettered message: how many times it was delivered.
pub const DEAD_DELIVERIES_HEADER: &str = "Notifier-Deliveries";
/// Header of a dead-lettered message: its sequence in the source stream.
pub const DEAD_SEQUENCE_HEADER: &str = "Notifier-Stream-Sequence";

/// How long one pull waits for messages before the relay asks again.
const PULL_EXPIRES: Duration = Duration::from_secs(1);

/// The longest delay of a negative ack.
pub const MAX_NAK_DELAY: Duration = Duration::from_secs(60);

/// How a relay runs (the flags of `notifier relay`).
#[derive(Debug, Clone)]
pub struct Config {
    /// The NATS servers, comma-separated `nats://` or `tls://` URLs.
    pub url: String,
    /// The stream the runners publish into.
    pub stream: String,
    /// The subjects the stream captures when the relay has to create it.
    pub subjects: Vec<String>,
    /// The durable consumer every relay shares.
    pub consumer: String,
    /// Deliveries of one message before it is dead-lettered.
    pub max_deliver: i64,
    /// Where dead messages are published (a JetStream publish; the relay creates the
    /// stream `<stream>_DLQ` capturing it when no stream does).
    pub dead_letter_subject: String,
    /// Messages handled at once (lanes).
    pub concurrency: usize,
    /// The first negative-ack delay; doubled per delivery up to [`MAX_NAK_DELAY`].
    pub nak_delay: Duration,
    /// How long JetStream waits for an ack before redelivering (a crashed relay's
    /// messages come back after it). Longer than one message's delivery budget.
    pub ack_wait: Duration,
    /// Time the deliveries in progress get to finish on shutdown.
    pub grace: Duration,
    /// A summary line on stderr this often (`None`: never).
    pub summary_every: Option<Duration>,
    /// Serve Prometheus text on `http://ADDR/metrics`.
    pub metrics: Option<SocketAddr>,
    /// The client name the server shows.
    pub name: String,
    /// Credentials: a token, a user and password, or a `.creds` file (user JWT and NKey
    /// seed). Without them, `nats://user:password@host` or `nats://token@host` in `url`.
    pub auth: Auth,
    /// A PEM file of root certificates to trust for `tls://` servers (besides the system's).
    pub tls_ca: Option<std::path::PathBuf>,
    /// A client certificate and its private key (PEM files), for servers that verify
    /// clients (`--tlsverify`); implies TLS.
    pub tls_client: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

/// How a relay authenticates to NATS.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    /// No credentials (or those in the URL).
    #[default]
    None,
    /// A token.
    Token(String),
    /// A user and password.
    UserPassword(String, String),
    /// A `.creds` file.
    Creds(std::path::PathBuf),
}

impl Config {
    /// A configuration with the defaults of `notifier relay`.
    pub fn new(url: impl Into<String>, stream: impl Into<String>) -> Config {
        let stream = stream.into();
        Config {
            url: url.into(),
            subjects: vec!["chaos.>".to_owned()],
            consumer: "notifier-relay".to_owned(),
            max_deliver: 10,
            dead_letter_subject: format!("notifier.dead.{stream}"),
            concurrency: 16,
            nak_delay: Duration::from_secs(1),
            ack_wait: Duration::from_secs(60),
            grace: Duration::from_secs(10),
            summary_every: Some(Duration::from_secs(10)),
            metrics: None,
            name: "notifier-relay".to_owned(),
            auth: Auth::None,
            tls_ca: None,
            tls_client: None,
            stream,
        }
    }
}

/// Why a relay could not start or stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The NATS servers could not be reached.
    #[error("cannot connect to NATS at {url}: {message}")]
    Connect {
        /// The servers.
        url: String,
        /// The client's error.
        message: String,
    },
    /// The stream or consumer could not be found or created.
    #[error("JetStream: {0}")]
    JetStream(String),
    /// The metrics address could not be bound.
    #[error("--metrics {addr}: {message}")]
    Metrics {
        /// The address.
        addr: SocketAddr,
        /// Why.
        message: String,
    },
}

/// One message taken from the consumer, with what the lanes need.
struct Work {
    message: jetstream::Message,
    /// The envelope it carries (parsed once, for the lane and the delivery).
    envelope: Result<Envelope, String>,
    received: Instant,
}

/// Runs a relay until `shutdown` completes; returns the final counters.
///
/// `notifier` delivers each event (build it in sequential mode: the relay acks only what
/// its report says was delivered).
pub async fn run(
    config: Config,
    notifier: Arc<Notifier>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<Snapshot, RelayError> {
    let metrics = Arc::new(Metrics::default());
    let metrics_task = match config.metrics {
        Some(addr) => Some(
            metrics::serve(addr, metrics.clone())
                .await
                .map_err(|e| RelayError::Metrics { addr, message: e.to_string() })?,
        ),
        None => None,
    };
    let servers = config
        .url
        .split(',')
        .map(|s| s.trim().parse::<async_nats::ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| RelayError::Connect { url: config.url.clone(), message: e.to_string() })?;
    let connect_error = |message: String| RelayError::Connect { url: config.url.clone(), message };
    let mut options = match &config.auth {
        Auth::Creds(path) => async_nats::ConnectOptions::with_credentials_file(path.clone())
            .await
            .map_err(|e| connect_error(format!("cannot read {}: {e}", path.display())))?,
        _ => async_nats::ConnectOptions::new(),
    };
    // The client does not read credentials from the URL: take them from it here.
    let from_url = match servers.iter().find(|s| s.has_user_pass()).map(|s| (s.username(), s.password())) {
        Some((Some(u), Some(p))) => Auth::UserPassword(u.to_owned(), p.to_owned()),
        Some((Some(t), None)) => Auth::Token(t.to_owned()),
        _ => Auth::None,
    };
    let auth = if matches!(config.auth, Auth::None) { &from_url } else { &config.auth };
    options = match auth {
        Auth::Token(t) => options.token(t.clone()),
        Auth::UserPassword(u, p) => options.user_and_password(u.clone(), p.clone()),
        Auth::None | Auth::Creds(_) => options,
    };
    if let Some(ca) = &config.tls_ca {
        options = options.add_root_certificates(ca.clone()).require_tls(true);
    }
    if let Some((cert, key)) = &config.tls_client {
        options = options.add_client_certificate(cert.clone(), key.clone()).require_tls(true);
    }
    let client =
        options.name(&config.name).connection_timeout(Duration::from_secs(5)).connect(servers).await.map_err(|e| {
            let text = e.to_string();
            let hint = match notifier_core::plugins::nats::TlsFailure::of(&text) {
                Some(notifier_core::plugins::nats::TlsFailure::UntrustedServer) => {
                    "; the server's TLS certificate is not trusted: pass `--tls-ca` with the PEM file of the CA \
                     that signed it"
                }
                Some(notifier_core::plugins::nats::TlsFailure::ClientCertificate) => {
                    "; the server wants a client certificate it trusts: pass `--tls-cert` and `--tls-key`"
                }
                None => "",
            };
            RelayError::Connect { url: config.url.clone(), message: format!("{text}{hint}") }
        })?;
    let js = jetstream::new(client.clone());
    let stream = ensure_stream(&js, &config.stream, config.subjects.clone()).await?;
    ensure_dead_letter_stream(&js, &config).await?;
    let consumer: jetstream::consumer::PullConsumer = stream
        .get_or_create_consumer(
            &config.consumer,
            pull::Config {
                durable_name: Some(config.consumer.clone()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: config.ack_wait,
                // A last-resort cap: the relay dead-letters at `max_deliver` itself.
                max_deliver: config.max_deliver.saturating_add(1),
                max_ack_pending: 1000,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| RelayError::JetStream(format!("consumer `{}` on `{}`: {e}", config.consumer, config.stream)))?;
    // Operators (and tests) see when the relay is bound and pulling.
    eprintln!(
        "relay: delivering from stream `{}` (consumer `{}`) through {} channel(s)",
        config.stream,
        config.consumer,
        notifier.len()
    );

    // Lanes: one task each, fed by a small queue; `stopping` tells them to nak instead of
    // starting new work.
    let (stopping_tx, stopping) = watch::channel(false);
    let config = Arc::new(config);
    let mut lanes = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..config.concurrency.max(1) {
        let (tx, rx) = mpsc::channel::<Work>(2);
        lanes.push(tx);
        tasks.push(tokio::spawn(lane(
            rx,
            js.clone(),
            notifier.clone(),
            config.clone(),
            metrics.clone(),
            stopping.clone(),
        )));
    }
    let summary = summary_task(config.summary_every, metrics.clone());

    // Pulls of a bounded size that expire after a second, rather than a stream that pulls
    // ahead by itself: on shutdown the relay stops asking, and every message of the last
    // pull reaches it (and is negatively acked for another relay), none is left in a
    // client buffer until ack_wait.
    let batch = config.concurrency.clamp(1, 256) * 2;
    tokio::pin!(shutdown);
    let mut stopping_now = false;
    while !stopping_now {
        let mut messages = match consumer.batch().max_messages(batch).expires(PULL_EXPIRES).messages().await {
            Ok(m) => m,
            Err(e) => {
                // The server is away (restart, leader election): ask again shortly.
                tracing::warn!(target: "chaostoolkit", "pulling from `{}`: {e}", config.consumer);
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(Duration::from_millis(250)) => continue,
                }
            }
        };
        loop {
            let next = if stopping_now {
                messages.next().await
            } else {
                tokio::select! {
                    () = &mut shutdown => {
                        stopping_now = true;
                        continue;
                    }
                    next = messages.next() => next,
                }
            };
            let message = match next {
                Some(Ok(m)) => m,
                Some(Err(e)) => {
                    tracing::warn!(target: "chaostoolkit", "pulling: {e}");
                    continue;
                }
                None => break,
            };
            metrics.received();
            if message.info().is_ok_and(|i| i.delivered > 1) {
                metrics.redelivered();
            }
            if stopping_now {
                let _ = message.ack_with(AckKind::Nak(None)).await;
                continue;
            }
            let envelope = parse(&message);
            let lane_index = lane_of(envelope.as_ref().ok(), lanes.len());
            let work = Work { message, envelope, received: Instant::now() };
            let permit = tokio::select! {
                () = &mut shutdown => None,
                permit = lanes[lane_index].reserve() => permit.ok(),
            };
            match permit {
                Some(permit) => permit.send(work),
                None => {
                    stopping_now = true;
                    let _ = work.message.ack_with(AckKind::Nak(None)).await;
                }
            }
        }
    }
    tracing::info!(target: "chaostoolkit", "stopping: finishing the deliveries in progress");
    let _ = stopping_tx.send(true);
    drop(lanes);
    let all = futures_util::future::join_all(tasks);
    if tokio::time::timeout(config.grace, all).await.is_err() {
        tracing::warn!(
            target: "chaostoolkit",
            "deliveries still running after {:.1} s: left un-acked (redelivered after ack_wait)",
            config.grace.as_secs_f64()
        );
    }
    // Acks are fire-and-forget: make sure they left.
    let _ = tokio::time::timeout(Duration::from_secs(5), client.flush()).await;
    if let Some(task) = summary {
        task.abort();
    }
    if let Some(task) = metrics_task {
        task.abort();
    }
    let last = metrics.snapshot();
    eprintln!("{}", last.line());
    Ok(last)
}

async fn ensure_stream(
    js: &jetstream::Context,
    name: &str,
    subjects: Vec<String>,
) -> Result<jetstream::stream::Stream, RelayError> {
    js.get_or_create_stream(stream::Config {
        name: name.to_owned(),
        subjects,
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        max_age: Duration::from_secs(7 * 86_400),
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    })
    .await
    .map_err(|e| RelayError::JetStream(format!("stream `{name}`: {e}")))
}

/// Makes sure some stream stores the dead-letter subject.
async fn ensure_dead_letter_stream(js: &jetstream::Context, config: &Config) -> Result<(), RelayError> {
    if js.stream_by_subject(config.dead_letter_subject.clone()).await.is_ok() {
        return Ok(());
    }
    ensure_stream(js, &format!("{}_DLQ", config.stream), vec![config.dead_letter_subject.clone()]).await.map(drop)
}

/// The lane of a message: by experiment run, so one relay keeps their order.
fn lane_of(envelope: Option<&Envelope>, lanes: usize) -> usize {
    let key = envelope.map(notifier_core::body::experiment_key).unwrap_or_default();
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() % lanes.max(1) as u64) as usize
}

/// The envelope a message carries: the envelope itself, or the `data` of a CloudEvent.
pub fn parse(message: &jetstream::Message) -> Result<Envelope, String> {
    let value: Value = serde_json::from_slice(&message.payload).map_err(|e| format!("not JSON: {e}"))?;
    let cloudevent = message
        .headers
        .as_ref()
        .and_then(|h| h.get("Content-Type"))
        .is_some_and(|v| v.as_str().starts_with("application/cloudevents"));
    let envelope = if cloudevent { value.get("data").cloned().unwrap_or(Value::Null) } else { value };
    envelope_from_json(envelope)
}

/// An envelope from its JSON form (`{"name", "payload", "phase", "ts"[, "error"]}`).
pub fn envelope_from_json(value: Value) -> Result<Envelope, String> {
    let Value::Object(mut map) = value else { return Err("the envelope is not a JSON object".into()) };
    let name = map.get("name").and_then(Value::as_str).ok_or("the envelope has no `name`")?;
    let event: Event = name.parse().map_err(|_| format!("`{name}` is not a flow event"))?;
    let ts = map.get("ts").and_then(Value::as_f64).ok_or("the envelope has no numeric `ts`")?;
    let payload = map.remove("payload").unwrap_or(Value::Null);
    let error = map.remove("error");
    Ok(Envelope::at(event, payload, error, ts))
}

async fn lane(
    mut rx: mpsc::Receiver<Work>,
    js: jetstream::Context,
    notifier: Arc<Notifier>,
    config: Arc<Config>,
    metrics: Arc<Metrics>,
    stopping: watch::Receiver<bool>,
) {
    while let Some(work) = rx.recv().await {
        if *stopping.borrow() {
            // Held but not started: another relay takes it now.
            let _ = work.message.ack_with(AckKind::Nak(None)).await;
            continue;
        }
        handle(work, &js, &notifier, &config, &metrics).await;
    }
}

async fn handle(work: Work, js: &jetstream::Context, notifier: &Notifier, config: &Config, metrics: &Metrics) {
    let message = work.message;
    let (delivered, sequence) = message.info().map_or((1, 0), |i| (i.delivered, i.stream_sequence));
    let failure = match work.envelope {
        Err(e) => Some((format!("not a notification: {e}"), true)),
        Ok(envelope) => {
            let ts = envelope.ts;
            let report = notifier.notify_envelope_async(envelope).await;
            let failures: Vec<String> = report.failures().map(ToString::to_string).collect();
            if failures.is_empty() {
                let latency = (notifier_core::envelope::now_ts() - ts).max(0.0);
                if message.ack().await.is_ok() {
                    metrics.delivered(latency, work.received.elapsed());
                }
                None
            } else {
                Some((failures.join("; "), false))
            }
        }
    };
    let Some((reason, permanent)) = failure else { return };
    metrics.failed();
    if permanent || delivered >= config.max_deliver {
        dead_letter(js, &message, &reason, delivered, sequence, config, metrics).await;
    } else {
        let delay = nak_delay(config.nak_delay, delivered);
        tracing::warn!(
            target: "chaostoolkit",
            "message #{sequence} (delivery {delivered}) failed, again in {:.1} s: {reason}",
            delay.as_secs_f64()
        );
        let _ = message.ack_with(AckKind::Nak(Some(delay))).await;
    }
}

/// The nak delay after the `delivered`th failure: `first` doubled per delivery, capped.
pub fn nak_delay(first: Duration, delivered: i64) -> Duration {
    let doublings = u32::try_from(delivered.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    first.saturating_mul(1 << doublings).min(MAX_NAK_DELAY)
}

/// Copies the message to the dead-letter subject (with the reason), then terminates it.
/// If the copy is not stored, the message is negatively acked instead: never dropped.
async fn dead_letter(
    js: &jetstream::Context,
    message: &jetstream::Message,
    reason: &str,
    delivered: i64,
    sequence: u64,
    config: &Config,
    metrics: &Metrics,
) {
    // The original headers, less the publisher's expectations (`Nats-Expected-Stream: CHAOS`
    // would make the dead-letter stream refuse the copy).
    let mut headers = async_nats::HeaderMap::new();
    for (name, values) in message.headers.iter().flat_map(|h| h.iter()) {
        if !name.to_string().to_ascii_lowercase().starts_with("nats-expected-") {
            for value in values {
                headers.append(name.clone(), value.clone());
            }
        }
    }
    headers.insert(DEAD_REASON_HEADER, truncate(reason, 1000).as_str());
    headers.insert(DEAD_DELIVERIES_HEADER, delivered.to_string().as_str());
    headers.insert(DEAD_SEQUENCE_HEADER, sequence.to_string().as_str());
    let publish = PublishMessage::build().payload(message.payload.clone()).headers(headers);
    let stored = match js.send_publish(config.dead_letter_subject.clone(), publish).await {
        Ok(ack) => ack.await.map(drop).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match stored {
        Ok(()) => {
            tracing::error!(
                target: "chaostoolkit",
                "message #{sequence} dead-lettered to `{}` after {delivered} deliveries: {reason}",
                config.dead_letter_subject
            );
            let _ = message.ack_with(AckKind::Term).await;
            metrics.dead_lettered();
        }
        Err(e) => {
            tracing::error!(target: "chaostoolkit", "message #{sequence}: the dead-letter copy failed ({e}); kept");
            let _ = message.ack_with(AckKind::Nak(Some(MAX_NAK_DELAY))).await;
        }
    }
}

fn truncate(text: &str, max: usize) -> String {
    // Header values are one line.
    let one_line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    match one_line.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

fn summary_task(every: Option<Duration>, metrics: Arc<Metrics>) -> Option<tokio::task::JoinHandle<()>> {
    let every = every?;
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            eprintln!("{}", metrics.snapshot().line());
        }
    }))
}

/// Completes at the first SIGTERM or SIGINT (a thread waits for them, so no handler runs
/// code in signal context). Elsewhere than Unix: never.
pub fn termination_signal() -> impl Future<Output = ()> + Send + 'static {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        match signal_hook::iterator::Signals::new([SIGTERM, SIGINT]) {
            Ok(mut signals) => {
                std::thread::Builder::new()
                    .name("relay-signals".into())
                    .spawn(move || {
                        if let Some(signal) = signals.forever().next() {
                            eprintln!(
                                "relay: {} received: stopping (in-flight deliveries finish, nothing more is pulled)",
                                if signal == SIGTERM { "SIGTERM" } else { "SIGINT" }
                            );
                            let _ = tx.send(());
                        }
                    })
                    .map(drop)
                    .unwrap_or_else(|e| tracing::error!(target: "chaostoolkit", "cannot watch signals: {e}"));
            }
            Err(e) => tracing::error!(target: "chaostoolkit", "cannot watch SIGTERM/SIGINT: {e}"),
        }
    }
    #[cfg(not(unix))]
    std::mem::forget(tx);
    async move {
        // A dropped sender (no signal thread) means: run until killed.
        if rx.await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// [`run`] on a runtime of its own until SIGTERM/SIGINT ([`termination_signal`]), for a
/// program that has none (the `notifier relay` command).
pub fn run_until_signal(config: Config, notifier: Arc<Notifier>) -> Result<Snapshot, RelayError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("notifier-relay")
        .enable_all()
        .build()
        .map_err(|e| RelayError::JetStream(format!("cannot start the relay's runtime: {e}")))?;
    let stop = termination_signal();
    runtime.block_on(run(config, notifier, stop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nak_delays_double_up_to_the_cap() {
        let first = Duration::from_millis(500);
        assert_eq!(nak_delay(first, 1), first);
        assert_eq!(nak_delay(first, 2), Duration::from_secs(1));
        assert_eq!(nak_delay(first, 4), Duration::from_secs(4));
        assert_eq!(nak_delay(first, 40), MAX_NAK_DELAY);
        assert_eq!(nak_delay(first, -3), first);
    }

    #[test]
    fn envelopes_round_trip_byte_for_byte() {
        let env = Envelope::at(
            Event::RunFailed,
            serde_json::json!({"title": "é ✓", "n": [1, 2.5, null]}),
            Some(serde_json::json!("boom")),
            1_764_450_000.123_456,
        );
        let wire = env.to_wire_json();
        let back = envelope_from_json(serde_json::from_slice(&wire).unwrap()).unwrap();
        assert_eq!(back.to_wire_json(), wire);
        assert!(envelope_from_json(serde_json::json!({"name": "nope", "ts": 1})).is_err());
    }

    #[test]
    fn reasons_become_one_header_line() {
        assert_eq!(truncate("a\nb", 10), "a b");
        assert_eq!(truncate("abcdef", 3), "abc…");
    }
}
