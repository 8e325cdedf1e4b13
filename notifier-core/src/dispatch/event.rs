//! One event going through the channel table: the envelope made once for every channel,
//! and the per-channel steps, blocking or async.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::envelope::Envelope;
use crate::plugin::PluginFn;
use crate::report::{ChannelOutcome, DeliveryReport, FailureKind, Outcome};

use super::background::{Job, enqueue};
use super::deliver::deliver_channel;
use super::journal::Ticket;
use super::prepared::Prepared;
use super::{Notifier, record};

/// One event being dispatched. Obtained from [`Notifier::dispatch`]; call one of
/// [`deliver`](Dispatch::deliver), [`deliver_plugin`](Dispatch::deliver_plugin) or
/// [`filtered`](Dispatch::filtered) per channel, in order, then [`finish`](Dispatch::finish).
pub struct Dispatch<'a> {
    pub(super) notifier: &'a Notifier,
    pub(super) event: Arc<Prepared>,
    pub(super) started: Instant,
    pub(super) outcomes: Vec<ChannelOutcome>,
    /// Channels that filtered the event out, added to the counters once, on drop.
    pub(super) filtered: u64,
    /// Background mode with an outbox: the channels this event was queued for, recorded
    /// together (one transaction) on drop, before any of them is attempted.
    pub(super) to_record: Vec<(usize, Arc<Ticket>)>,
}

impl Drop for Dispatch<'_> {
    fn drop(&mut self) {
        if !self.to_record.is_empty()
            && let Some(journal) = &self.notifier.shared.journal
        {
            journal.record(&self.event, std::mem::take(&mut self.to_record));
        }
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
    pub(super) fn deadline(&self) -> Instant {
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

    pub(super) fn deliver_with(&mut self, index: usize, call: Option<PluginFn>) {
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

    pub(super) async fn deliver_with_async(&mut self, index: usize, call: Option<PluginFn>) {
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
    pub(super) fn start(&mut self, index: usize, call: Option<PluginFn>) -> Option<Start> {
        let shared = &self.notifier.shared;
        let channel = shared.channels.get(index)?;
        Some(if let Some(reason) = channel.unusable() {
            Start::Done(channel.skipped(reason))
        } else if let Some(bg) = &shared.background {
            let recorded = shared.journal.as_ref().and_then(|j| j.ticket(&shared.counters));
            let ticketed = recorded.is_some();
            if let Some(ticket) = &recorded {
                self.to_record.push((index, ticket.clone()));
            }
            let job = Job { event: self.event.clone(), call, recorded };
            let outcome = enqueue(bg, channel, job);
            if ticketed
                && !matches!(outcome.outcome, Outcome::Queued)
                && let Some(journal) = &shared.journal
            {
                // Never reached a worker: `end` records it as failed instead.
                self.to_record.pop();
                journal.forget();
            }
            Start::Done(outcome)
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

    pub(super) fn end(&mut self, outcome: ChannelOutcome) {
        let shared = &self.notifier.shared;
        if let Some(journal) = &shared.journal {
            // Background jobs were recorded when queued; what never reached a worker
            // (a full queue) and sequential failures are recorded now.
            journal.keep_failed(&self.event, &outcome, &shared.counters);
        }
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
pub(super) enum Start {
    /// Nothing to wait for.
    Done(ChannelOutcome),
    /// Run the delivery until this deadline.
    Deliver { deadline: Instant },
}

/// How long past its deadline a delivery may take to be scheduled and report back.
pub(super) const SCHEDULING_GRACE: Duration = Duration::from_millis(250);
