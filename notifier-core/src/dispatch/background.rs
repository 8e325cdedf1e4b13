//! Background mode: one bounded queue and one worker per channel, the pending count that
//! `flush` waits on, and the bounded list of finished deliveries it reports.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::event::Event;
use crate::plugin::PluginFn;
use crate::report::{ChannelOutcome, FailureKind, FlushReport, Outcome};

use super::channel::Channel;
use super::deliver::deliver_channel;
use super::journal::Ticket;
use super::prepared::Prepared;
use super::{Shared, lock, record};

pub(super) struct Job {
    pub(super) event: Arc<Prepared>,
    pub(super) call: Option<PluginFn>,
    /// Set when the outbox records this job: written before the first attempt.
    pub(super) recorded: Option<Arc<Ticket>>,
}

pub(super) struct Background {
    pub(super) senders: Mutex<Vec<mpsc::Sender<Job>>>,
    pub(super) workers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    pub(super) pending: Mutex<usize>,
    pub(super) drained: Condvar,
    /// The same wake-up as `drained`, for [`Notifier::flush_async`].
    pub(super) drained_async: tokio::sync::Notify,
    /// The latest finished deliveries, for the next flush report: at most
    /// `report_capacity`; older ones are counted in `unreported` (and in the stats).
    pub(super) completed: Mutex<VecDeque<(Event, ChannelOutcome)>>,
    pub(super) report_capacity: usize,
    pub(super) unreported: AtomicU64,
    pub(super) closing: AtomicBool,
    pub(super) shut_down: AtomicBool,
}

impl Background {
    pub(super) fn new(report_capacity: usize) -> Background {
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

    pub(super) fn done(&self) {
        let mut pending = lock(&self.pending);
        *pending = pending.saturating_sub(1);
        if *pending == 0 {
            self.drained.notify_all();
            self.drained_async.notify_waiters();
        }
    }

    /// Keeps a finished delivery for the next flush report, within the capacity.
    pub(super) fn complete(&self, event: Event, outcome: ChannelOutcome) {
        let mut completed = lock(&self.completed);
        if completed.len() >= self.report_capacity {
            completed.pop_front();
            self.unreported.fetch_add(1, Ordering::Relaxed);
        }
        completed.push_back((event, outcome));
    }

    /// The flush report: what finished since the last one, and what is left.
    pub(super) fn report(&self, abandoned: u64) -> FlushReport {
        FlushReport {
            completed: std::mem::take(&mut *lock(&self.completed)).into(),
            abandoned,
            unreported: self.unreported.swap(0, Ordering::Relaxed),
        }
    }
}

/// Background mode: hands `job` to the channel's worker, or reports why it could not.
pub(super) fn enqueue(bg: &Background, channel: &Channel, job: Job) -> ChannelOutcome {
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

pub(super) async fn worker(shared: Arc<Shared>, index: usize, mut rx: mpsc::Receiver<Job>) {
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
            if let Some(ticket) = &job.recorded {
                ticket.wait().await;
            }
            let deadline = crate::engine::deadline_in(shared.channels[index].bound().min(shared.event_budget));
            deliver_channel(shared.clone(), index, job.event.clone(), job.call, deadline).await
        };
        if let (Some(journal), Some(_)) = (&shared.journal, &job.recorded) {
            journal.settle(&job.event, &outcome);
        }
        record(&shared, &job.event.env, &outcome);
        bg.complete(event, outcome);
        bg.done();
    }
}
