//! The dispatcher: one envelope per event, channels in file order, each filtered by its
//! event set and delivered within its time budget.
//!
//! Two modes:
//! * **sequential** (default, the reference's semantics): `notify` returns when every
//!   channel has been tried, and never later than the per-event budget;
//! * **background**: `notify` only enqueues (one bounded queue and one worker per
//!   channel, so each channel keeps the order of events while channels proceed in
//!   parallel) and returns at once; [`Notifier::flush`] waits for the queues, and
//!   dropping the notifier flushes within a cap.
//!
//! Nothing a channel does changes the caller's flow: every failure becomes an
//! [`Outcome::Failed`] in the report, a DEBUG line on the `chaostoolkit` log target (with
//! the reference's wording) and a counter.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::channel::{ChannelDef, ChannelKind, MAX_RETRIES};
use crate::envelope::Envelope;
use crate::event::Event;
use crate::plugin::{PluginConfig, PluginFn};
use crate::redact::Redactor;
use crate::report::{ChannelOutcome, Counters, DeliveryReport, FailureKind, FlushReport, Outcome, Stats};
use crate::template::Template;
use crate::transport::{Clients, HttpTarget, MAX_BACKOFF};

/// Default bound on the time one event may block the flow in sequential mode.
pub const DEFAULT_EVENT_BUDGET: Duration = Duration::from_secs(30);
/// Default capacity of each channel's queue in background mode.
pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;
/// Default number of finished background deliveries kept for the next flush report.
pub const DEFAULT_REPORT_CAPACITY: usize = 4096;
/// Most calls of one plugin channel that may be running at once: the current one and
/// one that overran its budget. A plugin still stuck past that is reported as stuck
/// instead of being given one more thread per event.
pub const MAX_PLUGIN_CALLS_PER_CHANNEL: usize = 2;
/// Default time the final flush may take when a background notifier is dropped.
pub const DEFAULT_FLUSH_CAP: Duration = Duration::from_secs(5);

/// How `notify` delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Deliver before returning, channel after channel (Chaos Toolkit's behaviour).
    #[default]
    Sequential,
    /// Enqueue and return; workers deliver.
    Background,
}

type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Configures a [`Notifier`].
pub struct NotifierBuilder {
    channels: Vec<ChannelDef>,
    mode: Mode,
    event_budget: Duration,
    queue_capacity: usize,
    report_capacity: usize,
    flush_cap: Duration,
    lookup: Lookup,
}

impl NotifierBuilder {
    /// A builder over a channel table.
    pub fn new(channels: Vec<ChannelDef>) -> NotifierBuilder {
        NotifierBuilder {
            channels,
            mode: Mode::Sequential,
            event_budget: DEFAULT_EVENT_BUDGET,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            report_capacity: DEFAULT_REPORT_CAPACITY,
            flush_cap: DEFAULT_FLUSH_CAP,
            lookup: Arc::new(|name| std::env::var(name).ok()),
        }
    }

    /// Delivery mode (default sequential).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Background mode on or off.
    pub fn background(self, on: bool) -> Self {
        self.mode(if on { Mode::Background } else { Mode::Sequential })
    }

    /// Longest time one event may block the caller in sequential mode (default 30 s).
    /// Channels whose turn comes after it is used up are reported as failed.
    pub fn event_budget(mut self, budget: Duration) -> Self {
        self.event_budget = budget;
        self
    }

    /// Capacity of each channel's queue in background mode (default 1024).
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// Most finished background deliveries kept until the next [`Notifier::flush`]
    /// (default 4096): a long-running program that never flushes holds at most this
    /// many outcomes; older ones are only counted ([`FlushReport::unreported`], and
    /// always in [`Notifier::stats`]).
    pub fn report_capacity(mut self, capacity: usize) -> Self {
        self.report_capacity = capacity.max(1);
        self
    }

    /// Longest time dropping a background notifier waits for its queues (default 5 s).
    pub fn flush_cap(mut self, cap: Duration) -> Self {
        self.flush_cap = cap;
        self
    }

    /// Where `${VAR}` values come from (default: the process environment).
    pub fn env(mut self, lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.lookup = Arc::new(lookup);
        self
    }

    /// Resolves every channel and, in background mode, starts the workers.
    ///
    /// A channel that cannot be resolved (an unset `${VAR}`, …) does not fail the build:
    /// it is logged once here and reported as skipped for every event it would receive.
    pub fn build(self) -> Notifier {
        let channels: Vec<Channel> = self
            .channels
            .into_iter()
            .enumerate()
            .map(|(index, def)| Channel::resolve(index, def, &*self.lookup))
            .collect();
        let capacity = self.report_capacity;
        let background = (self.mode == Mode::Background).then(|| Background::new(capacity));
        let shared = Arc::new(Shared {
            channels,
            event_budget: self.event_budget,
            flush_cap: self.flush_cap,
            counters: Counters::default(),
            clients: Clients::default(),
            background,
        });
        if let Some(bg) = &shared.background {
            let mut senders = Vec::with_capacity(shared.channels.len());
            let mut workers = Vec::with_capacity(shared.channels.len());
            for index in 0..shared.channels.len() {
                let (tx, rx) = mpsc::channel(self.queue_capacity);
                senders.push(tx);
                workers.push(crate::engine::handle().spawn(worker(shared.clone(), index, rx)));
            }
            *lock(&bg.senders) = senders;
            *lock(&bg.workers) = workers;
        }
        Notifier { shared }
    }
}

/// Delivers flow events to a table of channels. See the [module docs](self).
pub struct Notifier {
    shared: Arc<Shared>,
}

struct Shared {
    channels: Vec<Channel>,
    event_budget: Duration,
    flush_cap: Duration,
    counters: Counters,
    clients: Clients,
    background: Option<Background>,
}

struct Channel {
    index: usize,
    def: ChannelDef,
    /// Shared by every outcome of this channel (and freed with the last of them).
    label: Arc<str>,
    ready: Result<Ready, String>,
    /// Plugin calls of this channel still running, abandoned ones included.
    plugin_calls: Arc<AtomicUsize>,
}

enum Ready {
    Http(Arc<HttpTarget>),
    /// The configuration carries the channel's redactor (`PluginConfig::redact`).
    Plugin {
        config: Arc<PluginConfig>,
    },
}

struct Job {
    event: Arc<Prepared>,
    call: Option<PluginFn>,
}

/// One event as every channel gets it: the envelope, plus its wire body and message id,
/// made once by the first HTTP channel that needs them. In background mode that is a
/// delivery worker, so serialising the payload (which grows with the journal) never
/// blocks the flow; an event only plugins or filters see is never serialised.
struct Prepared {
    env: Envelope,
    wire: OnceLock<(Bytes, String)>,
}

impl Prepared {
    fn new(env: Envelope) -> Prepared {
        Prepared { env, wire: OnceLock::new() }
    }

    fn wire(&self) -> (Bytes, String) {
        let (body, id) =
            self.wire.get_or_init(|| (Bytes::from(self.env.to_wire_json()), crate::signing::new_message_id()));
        (body.clone(), id.clone())
    }
}

struct Background {
    senders: Mutex<Vec<mpsc::Sender<Job>>>,
    workers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    pending: Mutex<usize>,
    drained: Condvar,
    /// The same wake-up as `drained`, for [`Notifier::flush_async`].
    drained_async: tokio::sync::Notify,
    /// The latest finished deliveries, for the next flush report: at most
    /// `report_capacity`; older ones are counted in `unreported` (and in the stats).
    completed: Mutex<VecDeque<(Event, ChannelOutcome)>>,
    report_capacity: usize,
    unreported: AtomicU64,
    closing: AtomicBool,
    shut_down: AtomicBool,
}

impl Background {
    fn new(report_capacity: usize) -> Background {
        Background {
            senders: Mutex::new(Vec::new()),
            workers: Mutex::new(Vec::new()),
            pending: Mutex::new(0),
            drained: Condvar::new(),
            drained_async: tokio::sync::Notify::new(),
            completed: Mutex::new(VecDeque::new()),
            report_capacity,
            unreported: AtomicU64::new(0),
            closing: AtomicBool::new(false),
            shut_down: AtomicBool::new(false),
        }
    }

    fn done(&self) {
        let mut pending = lock(&self.pending);
        *pending = pending.saturating_sub(1);
        if *pending == 0 {
            self.drained.notify_all();
            self.drained_async.notify_waiters();
        }
    }

    /// Keeps a finished delivery for the next flush report, within the capacity.
    fn complete(&self, event: Event, outcome: ChannelOutcome) {
        let mut completed = lock(&self.completed);
        if completed.len() >= self.report_capacity {
            completed.pop_front();
            self.unreported.fetch_add(1, Ordering::Relaxed);
        }
        completed.push_back((event, outcome));
    }

    /// The flush report: what finished since the last one, and what is left.
    fn report(&self, abandoned: u64) -> FlushReport {
        FlushReport {
            completed: std::mem::take(&mut *lock(&self.completed)).into(),
            abandoned,
            unreported: self.unreported.swap(0, Ordering::Relaxed),
        }
    }
}

/// A poisoned lock only means another thread panicked while holding it; the data (queues,
/// counters) is still usable, and notifications must go on.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Channel {
    fn resolve(index: usize, def: ChannelDef, lookup: &(dyn Fn(&str) -> Option<String> + Send + Sync)) -> Channel {
        let label: Arc<str> = def.label().into();
        let ready = match &def.kind {
            ChannelKind::Http(h) => {
                HttpTarget::resolve(h, lookup).map(|t| Ready::Http(Arc::new(t))).map_err(|e| e.to_string())
            }
            ChannelKind::Plugin(p) => {
                resolve_plugin_config(&p.config_json, lookup).map(|config| Ready::Plugin { config: Arc::new(config) })
            }
            ChannelKind::Skipped(s) => Err(s.reason.to_string()),
        };
        if let Err(reason) = &ready {
            tracing::warn!(
                target: "chaostoolkit",
                "{}:{}:{}: notification channel #{} ({label}) is skipped: {reason}; the other channels still deliver",
                def.origin.file,
                def.origin.line,
                def.origin.column,
                index + 1,
            );
        }
        Channel { index, def, label, ready, plugin_calls: Arc::default() }
    }

    /// The outcome of a delivery that did not report back by its deadline.
    fn overran(&self, started: Instant) -> ChannelOutcome {
        self.outcome(
            Outcome::Failed { kind: FailureKind::Timeout, reason: "delivery did not finish within its budget".into() },
            0,
            started.elapsed(),
        )
    }

    /// The outcome of a channel that cannot be used, for every event it would receive.
    fn skipped(&self, reason: &str) -> ChannelOutcome {
        let o = &self.def.origin;
        let reason = format!(
            "channel #{} ({}, {}:{}:{}) is skipped: {reason}",
            self.index + 1,
            self.label,
            o.file,
            o.line,
            o.column
        );
        self.outcome(Outcome::Skipped { reason }, 0, Duration::ZERO)
    }

    /// Upper bound of one delivery on this channel, all attempts included.
    fn bound(&self) -> Duration {
        let retries = u32::from(self.def.retries.min(MAX_RETRIES));
        self.def.timeout.saturating_mul(retries + 1) + MAX_BACKOFF.saturating_mul(retries)
    }

    fn outcome(&self, outcome: Outcome, attempts: u32, elapsed: Duration) -> ChannelOutcome {
        ChannelOutcome { channel: self.index, label: self.label.clone(), outcome, attempts, elapsed }
    }
}

/// Parses a plugin's channel entry and resolves `${VAR}` in its string values (not in
/// `type`, `module`, `func` and `events`).
fn resolve_plugin_config(json: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<PluginConfig, String> {
    let entry: Map<String, Value> =
        serde_json::from_str(json).map_err(|e| format!("invalid plugin configuration: {e}"))?;
    let mut redactor = Redactor::default();
    let mut resolved = Map::new();
    for (key, value) in entry {
        let value = if matches!(key.as_str(), "type" | "module" | "func" | "events") {
            value
        } else {
            resolve_value(value, &key, lookup, &mut redactor)?
        };
        resolved.insert(key, value);
    }
    Ok(PluginConfig::with_redactor(resolved, redactor))
}

fn resolve_value(
    value: Value,
    key: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    redactor: &mut Redactor,
) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => {
            let t = Template::parse(&s).map_err(|e| format!("`{key}`: {e}"))?;
            let out = t.resolve_with(lookup).map_err(|e| format!("`{key}`: {e}"))?;
            if !t.is_literal() || crate::redact::is_sensitive_name(key) {
                redactor.add(out.clone());
            }
            Value::String(out)
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| resolve_value(v, key, lookup, redactor)).collect::<Result<_, _>>()?)
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| resolve_value(v, &k, lookup, redactor).map(|v| (k, v)))
                .collect::<Result<_, _>>()?,
        ),
        other => other,
    })
}

impl Notifier {
    /// A builder over a channel table.
    pub fn builder(channels: Vec<ChannelDef>) -> NotifierBuilder {
        NotifierBuilder::new(channels)
    }

    /// A notifier with no channel (no settings, or settings without notifications).
    pub fn empty() -> Notifier {
        NotifierBuilder::new(Vec::new()).build()
    }

    /// The channel definitions, in order.
    pub fn channels(&self) -> impl ExactSizeIterator<Item = &ChannelDef> {
        self.shared.channels.iter().map(|c| &c.def)
    }

    /// Number of channels.
    pub fn len(&self) -> usize {
        self.shared.channels.len()
    }

    /// Whether there is no channel.
    pub fn is_empty(&self) -> bool {
        self.shared.channels.is_empty()
    }

    /// Counters since the notifier was built.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Sends one event to every channel whose filter accepts it.
    ///
    /// `error` is dropped when it is not truthy, like the reference does.
    pub fn notify(&self, event: Event, payload: Value, error: Option<Value>) -> DeliveryReport {
        self.notify_envelope(Envelope::new(event, payload, error))
    }

    /// Sends a prepared envelope (its `ts` is kept).
    pub fn notify_envelope(&self, envelope: Envelope) -> DeliveryReport {
        let mut dispatch = self.dispatch(envelope);
        let event = dispatch.event.env.event;
        for index in 0..self.shared.channels.len() {
            if self.shared.channels[index].def.events.contains(event) {
                dispatch.deliver(index);
            } else {
                dispatch.filtered(index);
            }
        }
        dispatch.finish()
    }

    /// Like [`notify`](Notifier::notify), for callers inside an async runtime (tokio, or
    /// any executor): the deliveries run on the notifier's own runtime and the caller's
    /// thread is never blocked, so a current-thread runtime keeps running its other tasks
    /// while this waits. Same channels, order, budgets, counters and report as `notify`.
    pub async fn notify_async(&self, event: Event, payload: Value, error: Option<Value>) -> DeliveryReport {
        self.notify_envelope_async(Envelope::new(event, payload, error)).await
    }

    /// The async form of [`notify_envelope`](Notifier::notify_envelope).
    pub async fn notify_envelope_async(&self, envelope: Envelope) -> DeliveryReport {
        let mut dispatch = self.dispatch(envelope);
        let event = dispatch.event.env.event;
        for index in 0..self.shared.channels.len() {
            if self.shared.channels[index].def.events.contains(event) {
                dispatch.deliver_async(index).await;
            } else {
                dispatch.filtered(index);
            }
        }
        dispatch.finish()
    }

    /// Starts dispatching one event channel by channel. The generated code of the
    /// `settings!` macro uses this to unroll the channel loop; prefer [`Notifier::notify`].
    ///
    /// Cheap until a channel takes the event: the body is serialised and the message id
    /// generated for the first HTTP channel that delivers it (by its worker in background
    /// mode), so an event every channel filters out costs a few nanoseconds per channel.
    pub fn dispatch(&self, envelope: Envelope) -> Dispatch<'_> {
        Dispatch {
            notifier: self,
            event: Arc::new(Prepared::new(envelope)),
            started: Instant::now(),
            outcomes: Vec::with_capacity(self.shared.channels.len()),
            filtered: 0,
        }
    }

    /// What each channel would send for this event, without sending anything: method,
    /// URL, headers and body for HTTP channels, the configuration for plugins, all with
    /// secrets masked.
    pub fn describe(&self, envelope: &Envelope) -> Vec<(usize, String)> {
        let body = envelope.to_wire_json();
        self.shared
            .channels
            .iter()
            .map(|c| {
                let text = if !c.def.events.contains(envelope.event) {
                    format!("{}: skipped (not in `events`)\n", c.label)
                } else {
                    match &c.ready {
                        Err(reason) => format!("{}: skipped: {reason}\n", c.label),
                        Ok(Ready::Http(t)) => t.describe_request(Some(&body)),
                        Ok(Ready::Plugin { config }) => config.redact(&format!("{} with {:?}\n", c.label, config)),
                    }
                };
                (c.index, text)
            })
            .collect()
    }

    /// Waits until every queued background notification is delivered or `deadline`
    /// passes, and returns what was delivered since the last flush. In sequential mode
    /// there is nothing to wait for.
    pub fn flush(&self, deadline: Duration) -> FlushReport {
        let Some(bg) = &self.shared.background else {
            return FlushReport::default();
        };
        let until = crate::engine::deadline_in(deadline);
        let mut pending = lock(&bg.pending);
        while *pending > 0 {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            pending = bg.drained.wait_timeout(pending, left).unwrap_or_else(std::sync::PoisonError::into_inner).0;
        }
        let abandoned = *pending as u64;
        drop(pending);
        bg.report(abandoned)
    }

    /// Like [`flush`](Notifier::flush), for callers inside an async runtime: waits
    /// without blocking the caller's thread, on the notifier's own timer.
    pub async fn flush_async(&self, deadline: Duration) -> FlushReport {
        if self.shared.background.is_none() {
            return FlushReport::default();
        }
        let until = crate::engine::deadline_in(deadline);
        let shared = self.shared.clone();
        let waited = crate::engine::handle().spawn(async move {
            let Some(bg) = &shared.background else { return };
            let drained = async {
                loop {
                    // Registered before the check, so a wake-up in between is not lost.
                    let notified = bg.drained_async.notified();
                    if *lock(&bg.pending) == 0 {
                        return;
                    }
                    notified.await;
                }
            };
            let _ = tokio::time::timeout_at(until.into(), drained).await;
        });
        let _ = waited.await;
        let Some(bg) = &self.shared.background else { return FlushReport::default() };
        let abandoned = *lock(&bg.pending) as u64;
        bg.report(abandoned)
    }

    /// Ends background delivery: waits until every queued notification is delivered or
    /// `deadline` passes, then stops the workers. What is still queued or in flight is
    /// given up: counted in [`Stats::abandoned`], logged, and reported in the returned
    /// [`FlushReport::abandoned`]. Dropping the notifier afterwards does not wait again,
    /// so a command that calls this at exit is bounded by `deadline` alone (dropping
    /// without it waits up to the flush cap). Later background `notify` calls report
    /// the channel as stopped. In sequential mode there is nothing to do.
    pub fn shutdown(&self, deadline: Duration) -> FlushReport {
        let Some(bg) = &self.shared.background else {
            return FlushReport::default();
        };
        if bg.shut_down.swap(true, Ordering::SeqCst) {
            return FlushReport::default();
        }
        let mut report = self.flush(deadline);
        bg.closing.store(true, Ordering::SeqCst);
        lock(&bg.senders).clear();
        for handle in lock(&bg.workers).drain(..) {
            handle.abort();
        }
        // A delivery may have finished between the deadline and the abort.
        let late = bg.report(0);
        report.completed.extend(late.completed);
        report.unreported += late.unreported;
        report.abandoned = std::mem::take(&mut *lock(&bg.pending)) as u64;
        if report.abandoned > 0 {
            self.shared.counters.abandoned.fetch_add(report.abandoned, Ordering::Relaxed);
            tracing::warn!(
                target: "chaostoolkit",
                "{} notification(s) not delivered within the {:.1} s shutdown cap",
                report.abandoned,
                deadline.as_secs_f64()
            );
        }
        report
    }
}

impl Drop for Notifier {
    /// In background mode, unless [`Notifier::shutdown`] was called: waits up to the
    /// flush cap for the queues, then gives up on what is left, logging and counting it.
    fn drop(&mut self) {
        self.shutdown(self.shared.flush_cap);
    }
}

/// One event being dispatched. Obtained from [`Notifier::dispatch`]; call one of
/// [`deliver`](Dispatch::deliver), [`deliver_plugin`](Dispatch::deliver_plugin) or
/// [`filtered`](Dispatch::filtered) per channel, in order, then [`finish`](Dispatch::finish).
pub struct Dispatch<'a> {
    notifier: &'a Notifier,
    event: Arc<Prepared>,
    started: Instant,
    outcomes: Vec<ChannelOutcome>,
    /// Channels that filtered the event out, added to the counters once, on drop.
    filtered: u64,
}

impl Drop for Dispatch<'_> {
    fn drop(&mut self) {
        if self.filtered > 0 {
            self.notifier.shared.counters.filtered.fetch_add(self.filtered, Ordering::Relaxed);
        }
    }
}

impl Dispatch<'_> {
    /// The envelope every channel receives.
    pub fn envelope(&self) -> &Envelope {
        &self.event.env
    }

    /// Records that channel `index` does not take this event.
    pub fn filtered(&mut self, index: usize) {
        let shared = &self.notifier.shared;
        let Some(channel) = shared.channels.get(index) else { return };
        self.filtered += 1;
        self.outcomes.push(channel.outcome(Outcome::Filtered, 0, Duration::ZERO));
    }

    /// When the per-event budget (sequential mode) runs out.
    fn deadline(&self) -> Instant {
        let budget = self.notifier.shared.event_budget;
        self.started.checked_add(budget).unwrap_or_else(|| crate::engine::deadline_in(budget))
    }

    /// Delivers (or, in background mode, enqueues) the event on channel `index`.
    pub fn deliver(&mut self, index: usize) {
        self.deliver_with(index, None);
    }

    /// Like [`deliver`](Dispatch::deliver) for a plugin channel, calling `call` directly
    /// (the generated code passes the plugin function it resolved at compile time).
    pub fn deliver_plugin(&mut self, index: usize, call: PluginFn) {
        self.deliver_with(index, Some(call));
    }

    fn deliver_with(&mut self, index: usize, call: Option<PluginFn>) {
        let outcome = match self.start(index, call) {
            None => return,
            Some(Start::Done(outcome)) => outcome,
            Some(Start::Deliver { deadline }) => {
                let fut = deliver_channel(self.notifier.shared.clone(), index, self.event.clone(), call, deadline);
                let started = Instant::now();
                // The future enforces `deadline` itself; the grace only covers scheduling.
                crate::engine::run_until(fut, deadline + SCHEDULING_GRACE)
                    .unwrap_or_else(|| self.notifier.shared.channels[index].overran(started))
            }
        };
        self.end(outcome);
    }

    /// Like [`deliver`](Dispatch::deliver), for callers inside an async runtime: the
    /// delivery runs on the notifier's own runtime and this future waits for it without
    /// blocking the caller's thread (a current-thread runtime keeps running its other
    /// tasks). Needs no timer or I/O driver from the caller's runtime.
    pub async fn deliver_async(&mut self, index: usize) {
        self.deliver_with_async(index, None).await;
    }

    /// The async form of [`deliver_plugin`](Dispatch::deliver_plugin).
    pub async fn deliver_plugin_async(&mut self, index: usize, call: PluginFn) {
        self.deliver_with_async(index, Some(call)).await;
    }

    async fn deliver_with_async(&mut self, index: usize, call: Option<PluginFn>) {
        let outcome = match self.start(index, call) {
            None => return,
            Some(Start::Done(outcome)) => outcome,
            Some(Start::Deliver { deadline }) => {
                let fut = deliver_channel(self.notifier.shared.clone(), index, self.event.clone(), call, deadline);
                let started = Instant::now();
                // The task bounds itself with the engine's timer, so awaiting its handle
                // is bounded too, whatever runtime (or none) polls this future.
                let task = crate::engine::handle().spawn(async move {
                    tokio::time::timeout_at((deadline + SCHEDULING_GRACE).into(), fut).await.ok()
                });
                match task.await {
                    Ok(Some(outcome)) => outcome,
                    _ => self.notifier.shared.channels[index].overran(started),
                }
            }
        };
        self.end(outcome);
    }

    /// What to do with channel `index`: an outcome known at once (skipped, queued,
    /// budget used up), or a delivery to run until a deadline. `None` for an index
    /// that is not a channel.
    fn start(&self, index: usize, call: Option<PluginFn>) -> Option<Start> {
        let shared = &self.notifier.shared;
        let channel = shared.channels.get(index)?;
        Some(if let Err(reason) = &channel.ready {
            Start::Done(channel.skipped(reason))
        } else if let Some(bg) = &shared.background {
            let job = Job { event: self.event.clone(), call };
            Start::Done(enqueue(bg, channel, job))
        } else if Instant::now() >= self.deadline() {
            let budget = shared.event_budget.as_secs_f64();
            Start::Done(channel.outcome(
                Outcome::Failed {
                    kind: FailureKind::Budget,
                    reason: format!(
                        "not attempted: the {budget:.1} s budget of this event was used up by earlier channels"
                    ),
                },
                0,
                Duration::ZERO,
            ))
        } else {
            Start::Deliver { deadline: self.deadline().min(crate::engine::deadline_in(channel.bound())) }
        })
    }

    fn end(&mut self, outcome: ChannelOutcome) {
        record(&self.notifier.shared, &self.event.env, &outcome);
        self.outcomes.push(outcome);
    }

    /// The report of this event.
    pub fn finish(mut self) -> DeliveryReport {
        DeliveryReport {
            event: self.event.env.event,
            ts: self.event.env.ts,
            channels: std::mem::take(&mut self.outcomes),
            elapsed: self.started.elapsed(),
        }
    }
}

/// The first step of delivering one event on one channel.
enum Start {
    /// Nothing to wait for.
    Done(ChannelOutcome),
    /// Run the delivery until this deadline.
    Deliver { deadline: Instant },
}

/// How long past its deadline a delivery may take to be scheduled and report back.
const SCHEDULING_GRACE: Duration = Duration::from_millis(250);

/// Background mode: hands `job` to the channel's worker, or reports why it could not.
fn enqueue(bg: &Background, channel: &Channel, job: Job) -> ChannelOutcome {
    *lock(&bg.pending) += 1;
    let sent = match lock(&bg.senders).get(channel.index) {
        Some(tx) => tx.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => "the channel's queue is full".to_owned(),
            mpsc::error::TrySendError::Closed(_) => "the delivery worker has stopped".to_owned(),
        }),
        None => Err("the delivery worker has stopped".to_owned()),
    };
    match sent {
        Ok(()) => channel.outcome(Outcome::Queued, 0, Duration::ZERO),
        Err(reason) => {
            bg.done();
            channel.outcome(Outcome::Failed { kind: FailureKind::Overflow, reason }, 0, Duration::ZERO)
        }
    }
}

/// Counts and logs an outcome (failures at DEBUG with the reference's wording,
/// overflows at WARN since they are our own doing).
fn record(shared: &Shared, env: &Envelope, outcome: &ChannelOutcome) {
    shared.counters.count(&outcome.outcome);
    match &outcome.outcome {
        Outcome::Failed { kind: FailureKind::Overflow, reason } => tracing::warn!(
            target: "chaostoolkit",
            "notification `{}` dropped for channel #{} ({}): {reason}",
            env.event,
            outcome.channel + 1,
            outcome.label
        ),
        Outcome::Failed { reason, .. } => tracing::debug!(target: "chaostoolkit", "{reason}"),
        Outcome::Skipped { reason } => {
            tracing::debug!(target: "chaostoolkit", "notification `{}` not sent: {reason}", env.event)
        }
        _ => {}
    }
}

async fn worker(shared: Arc<Shared>, index: usize, mut rx: mpsc::Receiver<Job>) {
    while let Some(job) = rx.recv().await {
        let Some(bg) = &shared.background else { return };
        let event = job.event.env.event;
        let outcome = if bg.closing.load(Ordering::SeqCst) {
            let channel = &shared.channels[index];
            channel.outcome(
                Outcome::Failed { kind: FailureKind::Abandoned, reason: "notifier shut down before delivery".into() },
                0,
                Duration::ZERO,
            )
        } else {
            let deadline = crate::engine::deadline_in(shared.channels[index].bound().min(shared.event_budget));
            deliver_channel(shared.clone(), index, job.event.clone(), job.call, deadline).await
        };
        record(&shared, &job.event.env, &outcome);
        bg.complete(event, outcome);
        bg.done();
    }
}

/// Delivers one envelope on one channel; never panics, never outlives `deadline` by more
/// than a plugin that ignores its budget keeps its own thread.
async fn deliver_channel(
    shared: Arc<Shared>,
    index: usize,
    event: Arc<Prepared>,
    call: Option<PluginFn>,
    deadline: Instant,
) -> ChannelOutcome {
    let channel = &shared.channels[index];
    let started = Instant::now();
    let ready = match &channel.ready {
        Ok(ready) => ready,
        Err(reason) => return channel.skipped(reason),
    };
    match ready {
        Ready::Http(target) => {
            let client = match shared.clients.get(target.verify_tls, &target.method) {
                Ok(c) => c.clone(),
                Err(reason) => {
                    return channel.outcome(
                        Outcome::Failed { kind: FailureKind::Transport, reason },
                        0,
                        started.elapsed(),
                    );
                }
            };
            let (body, message_id) = event.wire();
            let result = crate::transport::deliver(
                client,
                target.clone(),
                body,
                message_id,
                channel.def.timeout,
                channel.def.retries.min(MAX_RETRIES),
                deadline,
            )
            .await;
            let outcome = match result.result {
                Ok(status) => Outcome::Delivered { status: Some(status) },
                Err((kind, reason)) => Outcome::Failed { kind, reason },
            };
            channel.outcome(outcome, result.attempts, started.elapsed())
        }
        Ready::Plugin { config } => {
            let ChannelKind::Plugin(def) = &channel.def.kind else {
                unreachable!("a plugin target comes from a plugin definition")
            };
            let call = call.unwrap_or(def.call);
            let name = format!("{}.{}", def.module, def.func);
            let task_config = config.clone();
            let event = event.clone();
            let budget = deadline.saturating_duration_since(Instant::now());
            let running = channel.plugin_calls.fetch_add(1, Ordering::SeqCst);
            let calls = CallSlot(channel.plugin_calls.clone());
            if running >= MAX_PLUGIN_CALLS_PER_CHANNEL {
                drop(calls);
                let reason = format!(
                    "notification plugin {name} is stuck: {running} earlier call(s) have not returned past their \
                     budget, so it is not called again until one does"
                );
                return channel.outcome(Outcome::Failed { kind: FailureKind::Stuck, reason }, 0, started.elapsed());
            }
            let task = tokio::task::spawn_blocking(move || {
                let _calls = calls;
                std::panic::catch_unwind(AssertUnwindSafe(|| call(&task_config, &event.env)))
            });
            let outcome = match tokio::time::timeout(budget, task).await {
                Ok(Ok(Ok(Ok(())))) => Outcome::Delivered { status: None },
                Ok(Ok(Ok(Err(e)))) => Outcome::Failed {
                    kind: FailureKind::Plugin,
                    reason: config.redact(&format!("failed calling notification plugin {name}: {e}")),
                },
                Ok(Ok(Err(panic))) => Outcome::Failed {
                    kind: FailureKind::PluginPanic,
                    reason: config.redact(&format!(
                        "failed calling notification plugin {name}: it panicked: {}",
                        panic_message(&panic)
                    )),
                },
                Ok(Err(join)) => Outcome::Failed {
                    kind: FailureKind::PluginPanic,
                    reason: format!("failed calling notification plugin {name}: {join}"),
                },
                Err(_) => Outcome::Failed {
                    kind: FailureKind::Timeout,
                    reason: format!(
                        "notification plugin {name} did not return within {:.1} s; the flow went on without it",
                        budget.as_secs_f64()
                    ),
                },
            };
            channel.outcome(outcome, 0, started.elapsed())
        }
    }
}

/// One running plugin call of a channel; the count goes down when the call returns (or
/// panics), however long after its budget that is.
struct CallSlot(Arc<AtomicUsize>);

impl Drop for CallSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

impl std::fmt::Debug for Notifier {
    /// Channel labels (never secrets), the mode and the counters.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let labels: Vec<&str> = self.shared.channels.iter().map(|c| &*c.label).collect();
        let mode = if self.shared.background.is_some() { Mode::Background } else { Mode::Sequential };
        f.debug_struct("Notifier")
            .field("channels", &labels)
            .field("mode", &mode)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}
