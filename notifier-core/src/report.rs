//! What happened to each notification: per-event delivery reports, counters and the
//! flush report of background mode.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::event::Event;

/// Why a notification was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureKind {
    /// The endpoint answered with a 4xx or 5xx status.
    HttpStatus,
    /// The endpoint answered with a redirect that was not followed.
    Redirect,
    /// The connection could not be made (refused, DNS, connect timeout).
    Connect,
    /// TLS handshake or certificate verification failed.
    Tls,
    /// The attempt did not finish within its time budget.
    Timeout,
    /// Another transport error.
    Transport,
    /// The plugin returned an error.
    Plugin,
    /// The plugin panicked.
    PluginPanic,
    /// The plugin's earlier calls overran their budget and have not returned: it is
    /// not called again (and given no more threads) until one does.
    Stuck,
    /// The per-event budget ran out before this channel's turn.
    Budget,
    /// Background mode: the channel's queue was full.
    Overflow,
    /// Background mode: not delivered before shutdown or the flush deadline.
    Abandoned,
    /// The request body could not be made (a template error, a body that is not valid
    /// for its content type): nothing was sent.
    Body,
}

impl FailureKind {
    /// A short human name ("timed out", "HTTP error", …).
    pub fn describe(self) -> &'static str {
        match self {
            FailureKind::HttpStatus => "HTTP error status",
            FailureKind::Redirect => "redirect not followed",
            FailureKind::Connect => "connection failed",
            FailureKind::Tls => "TLS error",
            FailureKind::Timeout => "timed out",
            FailureKind::Transport => "transport error",
            FailureKind::Plugin => "plugin error",
            FailureKind::PluginPanic => "plugin panicked",
            FailureKind::Stuck => "plugin stuck",
            FailureKind::Budget => "event budget exhausted",
            FailureKind::Overflow => "queue full",
            FailureKind::Abandoned => "not delivered before shutdown",
            FailureKind::Body => "body not made",
        }
    }
}

/// The outcome of one channel for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered (an HTTP 2xx/1xx/3xx-free answer, or the plugin returned `Ok`).
    Delivered {
        /// The HTTP status, for HTTP channels.
        status: Option<u16>,
    },
    /// Not delivered.
    Failed {
        /// The category.
        kind: FailureKind,
        /// The full reason, with secrets masked.
        reason: String,
    },
    /// The channel cannot be used (errors in its settings entry, a plugin nothing
    /// provides, an unset `${VAR}`…): nothing was attempted. The other channels are not
    /// affected.
    Skipped {
        /// Why, after the channel's settings position (`settings.yaml:4:5: …`).
        reason: String,
    },
    /// The channel's `events` filter excludes this event.
    Filtered,
    /// The channel's body template renders to nothing for this event (a format such as
    /// `pagerduty` sends nothing for `run-started`): no request was made.
    NoBody,
    /// Background mode: queued for the delivery worker.
    Queued,
}

/// One channel's part of a [`DeliveryReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelOutcome {
    /// Index of the channel in the settings file (0-based).
    pub channel: usize,
    /// A secret-free label (`http POST https://host/path`), shared with the channel.
    pub label: Arc<str>,
    /// What happened.
    pub outcome: Outcome,
    /// HTTP attempts made (0 for filtered, queued and plugin channels).
    pub attempts: u32,
    /// Time spent on this channel.
    pub elapsed: Duration,
}

impl ChannelOutcome {
    /// Whether the notification did not reach the channel: it failed, or the channel
    /// was skipped because it cannot be used.
    pub fn is_failure(&self) -> bool {
        matches!(self.outcome, Outcome::Failed { .. } | Outcome::Skipped { .. })
    }
}

/// What happened to one event on every channel, in channel order.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryReport {
    /// The event.
    pub event: Event,
    /// The envelope's timestamp.
    pub ts: f64,
    /// One entry per channel.
    pub channels: Vec<ChannelOutcome>,
    /// Time the caller was blocked.
    pub elapsed: Duration,
}

impl DeliveryReport {
    /// The channels the event did not reach (failed, or skipped as unusable).
    pub fn failures(&self) -> impl Iterator<Item = &ChannelOutcome> {
        self.channels.iter().filter(|c| c.is_failure())
    }

    /// Number of channels the event was delivered (or queued) to.
    pub fn sent(&self) -> usize {
        self.channels.iter().filter(|c| matches!(c.outcome, Outcome::Delivered { .. } | Outcome::Queued)).count()
    }
}

impl fmt::Display for ChannelOutcome {
    /// `#1 http POST https://host/hook: delivered (200) in 3.1 ms`,
    /// `#2 plugin acme.hooks.notify: failed after 5000.2 ms: <reason>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {}: ", self.channel + 1, self.label)?;
        let ms = self.elapsed.as_secs_f64() * 1e3;
        let attempts = if self.attempts > 1 { format!(", {} attempts", self.attempts) } else { String::new() };
        match &self.outcome {
            Outcome::Delivered { status: Some(s) } => write!(f, "delivered ({s}{attempts}) in {ms:.1} ms"),
            Outcome::Delivered { status: None } => write!(f, "delivered in {ms:.1} ms"),
            Outcome::Failed { reason, .. } => write!(f, "failed after {ms:.1} ms{attempts}: {reason}"),
            Outcome::Skipped { reason } => write!(f, "skipped: {reason}"),
            Outcome::Filtered => f.write_str("skipped (not in `events`)"),
            Outcome::NoBody => f.write_str("nothing to send (the body is empty for this event)"),
            Outcome::Queued => f.write_str("queued"),
        }
    }
}

/// Counters over the life of a notifier.
#[derive(Debug, Default)]
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) struct Counters {
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
    pub filtered: AtomicU64,
    pub skipped: AtomicU64,
    pub overflowed: AtomicU64,
    pub abandoned: AtomicU64,
    pub queued: AtomicU64,
    pub unrecorded: AtomicU64,
}

#[cfg_attr(not(feature = "http"), allow(dead_code))]
impl Counters {
    pub(crate) fn count(&self, outcome: &Outcome) {
        let counter = match outcome {
            Outcome::Delivered { .. } => &self.delivered,
            Outcome::Failed { kind: FailureKind::Overflow, .. } => &self.overflowed,
            Outcome::Failed { kind: FailureKind::Abandoned, .. } => &self.abandoned,
            Outcome::Failed { .. } => &self.failed,
            Outcome::Filtered | Outcome::NoBody => &self.filtered,
            Outcome::Skipped { .. } => &self.skipped,
            Outcome::Queued => &self.queued,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            delivered: get(&self.delivered),
            failed: get(&self.failed),
            filtered: get(&self.filtered),
            skipped: get(&self.skipped),
            overflowed: get(&self.overflowed),
            abandoned: get(&self.abandoned),
            queued: get(&self.queued),
            unrecorded: get(&self.unrecorded),
        }
    }
}

/// Totals since the notifier was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Notifications delivered.
    pub delivered: u64,
    /// Notifications that failed (after any retries).
    pub failed: u64,
    /// Channel/event pairs skipped by an `events` filter.
    pub filtered: u64,
    /// Notifications not attempted because their channel cannot be used.
    pub skipped: u64,
    /// Background mode: notifications dropped because a queue was full.
    pub overflowed: u64,
    /// Background mode: notifications still queued when the flush deadline passed.
    pub abandoned: u64,
    /// Background mode: notifications queued (delivered or not yet).
    pub queued: u64,
    /// With an outbox: notifications that could not be recorded in it (full, locked,
    /// corrupt); they were still attempted.
    pub unrecorded: u64,
}

impl Stats {
    /// Notifications that did not reach their channel.
    pub fn lost(&self) -> u64 {
        self.failed + self.skipped + self.overflowed + self.abandoned
    }
}

/// The result of waiting for background deliveries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Every background delivery that finished since the last flush, in completion order
    /// per channel.
    pub completed: Vec<(Event, ChannelOutcome)>,
    /// Notifications still queued when the deadline passed.
    pub abandoned: u64,
    /// Deliveries that finished but are not in `completed`, because more finished since
    /// the last flush than the notifier keeps (`NotifierBuilder::report_capacity`); the
    /// oldest are dropped first. They are counted in the stats like every other.
    pub unreported: u64,
}

impl FlushReport {
    /// The failed background deliveries.
    pub fn failures(&self) -> impl Iterator<Item = &(Event, ChannelOutcome)> {
        self.completed.iter().filter(|(_, c)| c.is_failure())
    }
}
