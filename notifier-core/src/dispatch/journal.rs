//! The dispatcher's side of the outbox ([`crate::outbox`]): which notification is
//! recorded when, and the journal thread that writes them.
//!
//! * **Background mode**: `notify` hands the event to the journal thread (an `Arc` and a
//!   channel send, no serialisation, no I/O) together with the job for the channel's
//!   worker. The journal thread writes batches (one transaction for everything that
//!   arrived meanwhile), and the worker waits for its record to be written before the
//!   first attempt: write-ahead, so a `kill -9` at any instant leaves every notification
//!   delivered or pending. The mark (delivered / failed) goes through the same thread,
//!   after the record.
//! * **Sequential mode**: a notification is recorded only when its delivery failed
//!   (written by the caller's thread before `notify` returns): a success costs nothing.
//!   The one window left is a process killed during the attempt itself, while the flow
//!   it belongs to is killed with it (docs/ARCHITECTURE.md, "The outbox").

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::outbox::{ChannelRef, Outbox, OutboxOp, OutboxRecord};
use crate::report::{ChannelOutcome, Counters, Outcome};

use super::lock;
use super::prepared::Prepared;

/// Most records waiting for the journal thread; past it, notifications are delivered
/// without being recorded (a warning and the `unrecorded` counter say so).
pub const MAX_JOURNAL_BACKLOG: usize = 65_536;
/// Longest a worker waits for its record before attempting anyway.
const RECORD_WAIT: Duration = Duration::from_secs(2);
/// Most operations written in one transaction.
const BATCH: usize = 512;

/// A record's "written" flag, waited on by the worker before its first attempt.
#[derive(Default)]
pub(super) struct Ticket {
    done: AtomicBool,
    notify: tokio::sync::Notify,
}

impl Ticket {
    fn finish(&self) {
        self.done.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Waits until the record is written (or failed to be), at most [`RECORD_WAIT`].
    pub(super) async fn wait(&self) {
        let _ = tokio::time::timeout(RECORD_WAIT, async {
            loop {
                let notified = self.notify.notified();
                if self.done.load(Ordering::SeqCst) {
                    return;
                }
                notified.await;
            }
        })
        .await;
    }
}

enum Msg {
    /// Record `event` for these channels before their first attempt (one event in one
    /// transaction: a kill leaves all its channels recorded, or none).
    Record { event: Arc<Prepared>, channels: Vec<(usize, Arc<Ticket>)> },
    /// A ready-made operation (marks, failed records).
    Op(Box<OutboxOp>),
    /// Everything sent before this is written.
    Sync(Arc<Ticket>),
}

/// The outbox of one notifier: the store, the channels' identities, and (background
/// mode) the journal thread.
pub(super) struct Journal {
    outbox: Arc<dyn Outbox>,
    refs: Vec<ChannelRef>,
    tx: Mutex<Option<Sender<Msg>>>,
    backlog: Arc<AtomicUsize>,
    warned: Arc<AtomicBool>,
}

impl Journal {
    pub(super) fn new(
        outbox: Arc<dyn Outbox>,
        refs: Vec<ChannelRef>,
        lease: Vec<f64>,
        background: bool,
        counters: Arc<Counters>,
    ) -> Journal {
        let backlog = Arc::new(AtomicUsize::new(0));
        let warned = Arc::new(AtomicBool::new(false));
        let tx = if background {
            let (tx, rx) = channel();
            let (store, refs2, lease2, backlog2, warned2) =
                (outbox.clone(), refs.clone(), lease.clone(), backlog.clone(), warned.clone());
            let spawned = std::thread::Builder::new().name("notifier-outbox".into()).spawn(move || {
                run(rx, &*store, &refs2, &lease2, &backlog2, &warned2, &counters);
            });
            spawned.ok().map(|_| tx)
        } else {
            None
        };
        Journal { outbox, refs, tx: Mutex::new(tx), backlog, warned }
    }

    /// Background mode: a ticket for the record of one notification, the one its worker
    /// waits on; `None` when it will not be recorded (backlog full, no journal thread).
    /// The record itself is queued by [`record`](Journal::record) once the event has
    /// been handed to every channel.
    pub(super) fn ticket(&self, counters: &Counters) -> Option<Arc<Ticket>> {
        let running = lock(&self.tx).is_some();
        if !running || self.backlog.fetch_add(1, Ordering::Relaxed) >= MAX_JOURNAL_BACKLOG {
            if running {
                self.backlog.fetch_sub(1, Ordering::Relaxed);
            }
            counters.unrecorded.fetch_add(1, Ordering::Relaxed);
            warn_once(&self.warned, "the outbox cannot keep up; notifications are delivered without being recorded");
            return None;
        }
        Some(Arc::new(Ticket::default()))
    }

    /// Gives back a [`ticket`](Journal::ticket) that will not be recorded.
    pub(super) fn forget(&self) {
        self.backlog.fetch_sub(1, Ordering::Relaxed);
    }

    /// Background mode: queues the records of `event` for these channels, written in one
    /// transaction.
    pub(super) fn record(&self, event: &Arc<Prepared>, channels: Vec<(usize, Arc<Ticket>)>) {
        let msg = Msg::Record { event: event.clone(), channels };
        if let Err(std::sync::mpsc::SendError(Msg::Record { channels, .. })) =
            lock(&self.tx).as_ref().map_or(Ok(()), |tx| tx.send(msg))
        {
            // The thread is gone: nobody will write them; let the workers go.
            for (_, ticket) in channels {
                self.backlog.fetch_sub(1, Ordering::Relaxed);
                ticket.finish();
            }
        }
    }

    /// Background mode: the mark after a recorded delivery.
    pub(super) fn settle(&self, event: &Prepared, outcome: &ChannelOutcome) {
        let id = record_id(&event.message_id(), outcome.channel);
        let op = match &outcome.outcome {
            Outcome::Delivered { .. } | Outcome::NoBody => OutboxOp::Delivered { id, attempts: outcome.attempts },
            Outcome::Failed { reason, .. } | Outcome::Skipped { reason } => {
                OutboxOp::Failed { id, reason: reason.clone(), attempts: outcome.attempts }
            }
            Outcome::Filtered | Outcome::Queued => return,
        };
        if let Some(tx) = lock(&self.tx).as_ref() {
            let _ = tx.send(Msg::Op(Box::new(op)));
        }
    }

    /// A failed delivery that was not recorded before its attempt (sequential mode, a
    /// full queue in background mode): recorded now as pending with its reason, on the
    /// journal thread in background mode, on the caller's thread otherwise.
    pub(super) fn keep_failed(&self, event: &Prepared, outcome: &ChannelOutcome, counters: &Counters) {
        let Outcome::Failed { reason, .. } = &outcome.outcome else { return };
        let Some(mut record) = make_record(event, outcome.channel, &self.refs, None) else { return };
        record.failed = Some(reason.clone());
        record.attempts = outcome.attempts;
        let op = OutboxOp::Record(record);
        if let Some(tx) = lock(&self.tx).as_ref() {
            let _ = tx.send(Msg::Op(Box::new(op)));
            return;
        }
        write(&*self.outbox, &[op], 1, &self.warned, counters);
    }

    /// Waits (at most `within`) until everything queued so far is written.
    pub(super) fn sync(&self, within: Duration) {
        let ticket = Arc::new(Ticket::default());
        let sent = lock(&self.tx).as_ref().is_some_and(|tx| tx.send(Msg::Sync(ticket.clone())).is_ok());
        if !sent {
            return;
        }
        let until = Instant::now() + within;
        while !ticket.done.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The id of a stored notification: the event's message id and the channel's number.
pub fn record_id(message_id: &str, index: usize) -> String {
    format!("{message_id}-{}", index + 1)
}

fn make_record(event: &Prepared, index: usize, refs: &[ChannelRef], lease: Option<f64>) -> Option<OutboxRecord> {
    let channel = refs.get(index)?.clone();
    let (envelope, message_id) = event.wire();
    Some(OutboxRecord {
        id: record_id(&message_id, index),
        message_id,
        event: event.env.event,
        envelope,
        channel,
        created: event.env.ts,
        lease_secs: lease,
        failed: None,
        attempts: 0,
    })
}

fn warn_once(warned: &AtomicBool, message: &str) {
    if !warned.swap(true, Ordering::Relaxed) {
        tracing::warn!(target: "chaostoolkit", "{message}");
    }
}

/// Writes one batch; never panics, never fails the caller. `records` is how many
/// notifications the batch records (counted as unrecorded if it cannot be written).
fn write(outbox: &dyn Outbox, ops: &[OutboxOp], records: u64, warned: &AtomicBool, counters: &Counters) {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| outbox.write(ops)));
    match result {
        Ok(Ok(written)) => {
            if written.refused > 0 {
                counters.unrecorded.fetch_add(written.refused, Ordering::Relaxed);
                warn_once(
                    warned,
                    "the outbox is full: new notifications are delivered without being recorded \
                     (`notifier outbox list`, then `replay` or `drop`)",
                );
            }
        }
        Ok(Err(e)) => {
            counters.unrecorded.fetch_add(records, Ordering::Relaxed);
            warn_once(warned, &format!("outbox unavailable, notifications go on without it: {e}"));
        }
        Err(_) => {
            counters.unrecorded.fetch_add(records, Ordering::Relaxed);
            warn_once(warned, "outbox unavailable (it panicked), notifications go on without it");
        }
    }
}

/// The journal thread: batches whatever arrived, writes it, wakes the waiting workers.
fn run(
    rx: Receiver<Msg>,
    outbox: &dyn Outbox,
    refs: &[ChannelRef],
    lease: &[f64],
    backlog: &AtomicUsize,
    warned: &AtomicBool,
    counters: &Counters,
) {
    while let Ok(first) = rx.recv() {
        let mut msgs = vec![first];
        while msgs.len() < BATCH {
            match rx.try_recv() {
                Ok(m) => msgs.push(m),
                Err(_) => break,
            }
        }
        let mut ops = Vec::with_capacity(msgs.len());
        let mut tickets = Vec::new();
        let mut records = 0;
        for msg in msgs {
            match msg {
                Msg::Record { event, channels } => {
                    for (index, ticket) in channels {
                        backlog.fetch_sub(1, Ordering::Relaxed);
                        if let Some(record) = make_record(&event, index, refs, lease.get(index).copied()) {
                            ops.push(OutboxOp::Record(record));
                            records += 1;
                        }
                        tickets.push(ticket);
                    }
                }
                Msg::Op(op) => {
                    records += u64::from(matches!(*op, OutboxOp::Record(_)));
                    ops.push(*op);
                }
                Msg::Sync(ticket) => tickets.push(ticket),
            }
        }
        if !ops.is_empty() {
            write(outbox, &ops, records, warned, counters);
        }
        for ticket in tickets {
            ticket.finish();
        }
    }
}
