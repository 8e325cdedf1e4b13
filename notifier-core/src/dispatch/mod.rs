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
//!
//! One module per concern: `channel` resolves each channel definition once (`${VAR}`s,
//! HTTP targets, plugin configurations), `event` carries one event through the table
//! (sync and async), `background` owns the queues and workers, `deliver` makes one
//! delivery on one channel (HTTP through [`crate::transport`], or a plugin call).

mod background;
mod channel;
mod deliver;
mod event;
mod journal;
mod prepared;
#[cfg(feature = "python")]
mod python;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;

use crate::channel::ChannelDef;
use crate::envelope::Envelope;
use crate::event::Event;
use crate::report::{ChannelOutcome, Counters, DeliveryReport, FailureKind, FlushReport, Outcome, Stats};
use crate::transport::Clients;

use self::background::{Background, worker};
use self::channel::{Channel, Ready};
pub use self::event::Dispatch;
use self::journal::Journal;
pub use self::journal::{MAX_JOURNAL_BACKLOG, record_id};
use self::prepared::Prepared;

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
/// Longest time shutting down waits for the outbox to write what it was given.
const JOURNAL_SYNC_CAP: Duration = Duration::from_secs(2);
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
    outbox: Option<Arc<dyn crate::outbox::Outbox>>,
    #[cfg(feature = "python")]
    python: Option<std::path::PathBuf>,
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
            outbox: None,
            #[cfg(feature = "python")]
            python: None,
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

    /// The Python interpreter of the Python plugin channels (feature `python`): this path,
    /// else `$NOTIFIER_PYTHON`, else `$VIRTUAL_ENV/bin/python`, else `python3` on `PATH`.
    /// It is started by [`build`](NotifierBuilder::build), only if a channel needs it.
    #[cfg(feature = "python")]
    pub fn python(mut self, interpreter: Option<std::path::PathBuf>) -> Self {
        self.python = interpreter;
        self
    }

    /// Keeps every notification in a durable outbox (see [`crate::outbox`]; the SQLite
    /// store is the `notifier-outbox` crate, `notifier::outbox` in the facade), so that
    /// what an endpoint did not take, or what a killed process had not delivered, can
    /// be replayed. Background mode records each notification before its first attempt
    /// (on a journal thread: `notify` stays a queue push) and marks it after; sequential
    /// mode records only failed deliveries. An outbox that cannot be written (full,
    /// locked, corrupt) never stops a notification: it is logged once as a warning and
    /// counted in [`Stats::unrecorded`].
    pub fn outbox(mut self, outbox: Arc<dyn crate::outbox::Outbox>) -> Self {
        self.outbox = Some(outbox);
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
        #[cfg_attr(not(feature = "python"), allow(unused_mut))]
        let mut channels: Vec<Channel> = self
            .channels
            .into_iter()
            .enumerate()
            .map(|(index, def)| Channel::resolve(index, def, &*self.lookup))
            .collect();
        #[cfg(feature = "python")]
        let python = python::prepare(&mut channels, self.python.as_deref());
        let capacity = self.report_capacity;
        let background = (self.mode == Mode::Background).then(|| Background::new(capacity));
        let counters = Arc::new(Counters::default());
        let journal = self.outbox.map(|outbox| {
            let refs = channels.iter().map(|c| crate::outbox::channel_ref(c.index, &c.def)).collect();
            // A replay leaves a record alone while the process that wrote it may still be
            // attempting it (unless that process is gone): its longest delivery, the
            // flush cap, and a margin for the queue in front of it.
            let leases = channels
                .iter()
                .map(|c| (c.bound() * 2 + self.flush_cap + Duration::from_secs(60)).as_secs_f64())
                .collect();
            Journal::new(outbox, refs, leases, background.is_some(), counters.clone())
        });
        let shared = Arc::new(Shared {
            channels,
            event_budget: self.event_budget,
            flush_cap: self.flush_cap,
            counters,
            journal,
            clients: Clients::default(),
            background,
            #[cfg(feature = "python")]
            python,
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
    counters: Arc<Counters>,
    /// The outbox, when the builder was given one.
    journal: Option<Journal>,
    clients: Clients,
    background: Option<Background>,
    /// The helper process of the Python plugin channels, if there is one.
    #[cfg(feature = "python")]
    python: Option<Arc<notifier_python::Bridge>>,
}

/// A poisoned lock only means another thread panicked while holding it; the data (queues,
/// counters) is still usable, and notifications must go on.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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
            to_record: Vec::new(),
        }
    }

    /// What each channel would send for this event, without sending anything: method,
    /// URL, headers and body for HTTP channels (each channel's own body: the envelope, or
    /// its template or format rendered for this event), the configuration for plugins,
    /// all with secrets masked. A body that cannot be made is described with its reason.
    pub fn describe(&self, envelope: &Envelope) -> Vec<(usize, String)> {
        let body = envelope.to_wire_json();
        let shared_env = Arc::new(envelope.clone());
        self.shared
            .channels
            .iter()
            .map(|c| {
                let text = if !c.def.events.contains(envelope.event) {
                    format!("{}: skipped (not in `events`)\n", c.label)
                } else {
                    match &c.ready {
                        Err(reason) => format!("{}: skipped: {reason}\n", c.label),
                        Ok(Ready::Http(t)) if t.body.is_envelope() => t.describe_request(Some(&body)),
                        Ok(Ready::Http(t)) => match t.body.render(&shared_env) {
                            Ok(Some(rendered)) => t.describe_request(Some(&rendered)),
                            Ok(None) => format!("{}: nothing to send (the body is empty for this event)\n", c.label),
                            Err(e) => t.redactor.redact(&format!("{}: not sent: {e}\n", c.label)),
                        },
                        Ok(Ready::Plugin { config }) => config.redact(&format!("{} with {:?}\n", c.label, config)),
                        #[cfg(feature = "python")]
                        Ok(Ready::Python { entry }) => entry.redact(&format!("{} with {:?}\n", c.label, entry)),
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
        let report = self.shutdown_queues(bg, deadline);
        if let Some(journal) = &self.shared.journal {
            // What was queued for the outbox (records, marks) is written before the
            // program goes on to exit.
            journal.sync(JOURNAL_SYNC_CAP);
        }
        report
    }

    /// Delivers one stored notification (an outbox replay) on channel `index`, now,
    /// with its stored envelope bytes and message id (sent as `webhook-id` by signing
    /// channels, so a receiver can drop a duplicate), within the channel's own bound.
    /// Nothing is recorded in this notifier's outbox: the caller marks the entry.
    /// `None` when there is no channel `index`.
    pub fn redeliver(
        &self,
        index: usize,
        envelope: Envelope,
        wire: Vec<u8>,
        message_id: String,
    ) -> Option<ChannelOutcome> {
        let channel = self.shared.channels.get(index)?;
        if let Some(reason) = channel.unusable() {
            return Some(channel.skipped(reason));
        }
        let event = Arc::new(Prepared::stored(envelope, bytes::Bytes::from(wire), message_id));
        let deadline = crate::engine::deadline_in(channel.bound());
        let fut = self::deliver::deliver_channel(self.shared.clone(), index, event, None, deadline);
        let started = Instant::now();
        let outcome = crate::engine::run_until(fut, deadline + self::event::SCHEDULING_GRACE)
            .unwrap_or_else(|| channel.overran(started));
        self.shared.counters.count(&outcome.outcome);
        Some(outcome)
    }

    fn shutdown_queues(&self, bg: &Background, deadline: Duration) -> FlushReport {
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
        Outcome::Skipped { reason } => tracing::debug!(
            target: "chaostoolkit",
            "notification `{}` not sent: channel #{} ({}) is skipped: {reason}",
            env.event,
            outcome.channel + 1,
            outcome.label
        ),
        _ => {}
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
