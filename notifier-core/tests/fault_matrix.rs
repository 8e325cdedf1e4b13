//! The fault matrix: every way a channel can misbehave (hung, trickling at 1 byte/s,
//! refused, 500 then 200, 429 with `Retry-After: 1`, 503 forever, bad TLS, 301, slow,
//! panicking and failing plugins), in sequential and in background mode, against real
//! servers on 127.0.0.1, with a healthy channel on another server after the faulty one.
//!
//! For every fault: the time the flow is blocked is bounded (generous margins: the point
//! is "bounded", never a precise figure), the outcome is reported with its kind and
//! reason, and later events still arrive, in order. Then the background-mode specifics:
//! channels are independent, overflow is counted, logged and never blocks, `flush` and
//! drop are capped and report what was abandoned; and calls from inside a caller's tokio
//! runtime.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::{DefExt, http, plugin};
use notifier_core::{
    ChannelDef, ChannelOutcome, Envelope, Event, FailureKind, Notifier, Outcome, PluginConfig, PluginError,
};
use notifier_test_support::{Recorded, Reply, Sink, refused_port};
use serde_json::json;

/// The events every case sends, in this order.
const EVENTS: [Event; 3] = [Event::RunStarted, Event::RunCompleted, Event::RunDeviated];
/// Added to every upper time bound. Generous on purpose: a loaded CI machine must not
/// make these tests fail; a flow blocked for 5 s per event (the reference) still does.
const MARGIN: Duration = Duration::from_secs(3);
/// Per-event budget of every notifier here (sequential mode).
const EVENT_BUDGET: Duration = Duration::from_secs(8);
const HANG_TIMEOUT: Duration = Duration::from_secs(2);
const TRICKLE_TIMEOUT: Duration = Duration::from_millis(1500);
const PLUGIN_TIMEOUT: Duration = Duration::from_millis(500);

// ---------------------------------------------------------------------------------------
// Servers

/// Holds requests until opened (or 60 s, so no thread outlives a forgetful test): while
/// it is closed, the test knows for certain that the endpoint has not answered.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    fn wait(&self) {
        let (open, cv) = &*self.0;
        let until = Instant::now() + Duration::from_secs(60);
        let mut open = open.lock().unwrap();
        while !*open {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            open = cv.wait_timeout(open, left).unwrap().0;
        }
    }

    fn open(&self) {
        *self.0.0.lock().unwrap() = true;
        self.0.1.notify_all();
    }
}

/// One server with a path per HTTP fault. `/500-then-200` and `/429-then-200` fail every
/// other request on their path, so each event needs exactly one retry.
struct Faults {
    sink: Sink,
    gate: Gate,
    answered: Arc<AtomicUsize>,
}

impl Faults {
    fn start() -> Faults {
        let gate = Gate::default();
        let answered = Arc::new(AtomicUsize::new(0));
        let seen: Mutex<HashMap<String, usize>> = Mutex::default();
        let (g, a) = (gate.clone(), answered.clone());
        let sink = Sink::with(move |r, _| {
            let nth = {
                let mut seen = seen.lock().unwrap();
                let count = seen.entry(r.path.clone()).or_default();
                *count += 1;
                *count - 1
            };
            match r.path.as_str() {
                "/hang" => {
                    g.wait();
                    a.fetch_add(1, Ordering::SeqCst);
                    Reply::ok()
                }
                "/trickle" => Reply::ok().body(vec![b'x'; 30]).trickle(Duration::from_secs(1)),
                "/500-then-200" if nth % 2 == 0 => Reply::status(500),
                "/429-then-200" if nth % 2 == 0 => Reply::status(429).header("Retry-After", "1"),
                "/503" => Reply::status(503),
                "/301" => Reply::status(301).header("Location", "/moved"),
                _ => Reply::ok(),
            }
        });
        Faults { sink, gate, answered }
    }

    /// Hung requests answered so far.
    fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }
}

impl Drop for Faults {
    fn drop(&mut self) {
        self.gate.open();
    }
}

/// The servers of one case: the faults, an HTTPS server with a self-signed certificate,
/// and the healthy endpoint of the second channel.
struct Rig {
    faults: Faults,
    tls: Sink,
    after: Sink,
}

impl Rig {
    fn start() -> Rig {
        Rig { faults: Faults::start(), tls: Sink::start_tls(|_, _| Reply::ok()), after: Sink::start() }
    }

    fn channels(&self, fault: Fault) -> Vec<ChannelDef> {
        vec![self.faulty(fault), http(&self.after.url("/after"))]
    }

    fn faulty(&self, fault: Fault) -> ChannelDef {
        let url = |path: &str| self.faults.sink.url(path);
        match fault {
            Fault::Hung => http(&url("/hang")).timeout(HANG_TIMEOUT),
            Fault::Trickling => http(&url("/trickle")).timeout(TRICKLE_TIMEOUT),
            Fault::Refused => http(&format!("http://127.0.0.1:{}/down", refused_port())).retries(1),
            Fault::ErrorThenOk => http(&url("/500-then-200")).retries(2),
            Fault::RateLimited => http(&url("/429-then-200")).retries(1),
            Fault::Unavailable => http(&url("/503")).timeout(Duration::from_secs(1)).retries(3),
            Fault::BadTls => http(&self.tls.url("/strict")),
            Fault::MovedPermanently => http(&url("/301")),
            Fault::SlowPlugin => plugin("acme.slow", json!({}), slow_plugin).timeout(PLUGIN_TIMEOUT),
            Fault::PanickingPlugin => plugin("acme.panics", json!({}), panicking_plugin),
            Fault::FailingPlugin => plugin("acme.fails", json!({"token": "p1ug1n-t0ken"}), failing_plugin),
        }
    }
}

fn slow_plugin(_: &PluginConfig, _: &Envelope) -> Result<(), PluginError> {
    // Far longer than its timeout plus the margin, so waiting for it cannot pass.
    std::thread::sleep(Duration::from_secs(10));
    Ok(())
}

fn panicking_plugin(_: &PluginConfig, _: &Envelope) -> Result<(), PluginError> {
    panic!("plugin blew up")
}

fn failing_plugin(config: &PluginConfig, _: &Envelope) -> Result<(), PluginError> {
    // The secret is in the message on purpose: the report must mask it.
    Err(PluginError::failed(format!("remote said no to {}", config.get_str("token").unwrap_or("?"))))
}

// ---------------------------------------------------------------------------------------
// The cases

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Hung,
    Trickling,
    Refused,
    ErrorThenOk,
    RateLimited,
    Unavailable,
    BadTls,
    MovedPermanently,
    SlowPlugin,
    PanickingPlugin,
    FailingPlugin,
}

/// What the faulty channel must report for each event.
struct Expect {
    /// `None`: delivered (200) in the end.
    kind: Option<FailureKind>,
    /// Text the reason must contain (lower case).
    reason: &'static str,
    /// HTTP attempts, when fixed.
    attempts: Option<u32>,
    /// Worst case one event may cost the faulty channel (before [`MARGIN`]).
    bound: Duration,
    /// The server path the faulty channel reaches, whose arrivals must be in event order.
    path: Option<&'static str>,
}

impl Fault {
    fn expect(self) -> Expect {
        use FailureKind as K;
        let quick = Duration::from_millis(500);
        let (kind, reason, attempts, bound, path) = match self {
            Fault::Hung => (Some(K::Timeout), "timed out after", Some(1), HANG_TIMEOUT, Some("/hang")),
            // The 200 is in before the body trickles: delivered, the rest of the body abandoned.
            Fault::Trickling => (None, "", Some(1), TRICKLE_TIMEOUT, Some("/trickle")),
            // One retry after a jittered backoff of at most 0.5 s.
            Fault::Refused => (Some(K::Connect), "failed calling notification endpoint", Some(2), quick * 2, None),
            Fault::ErrorThenOk => (None, "", Some(2), quick * 2, Some("/500-then-200")),
            Fault::RateLimited => (None, "", Some(2), Duration::from_millis(1500), Some("/429-then-200")),
            // 4 attempts, backoffs of at most 0.5 + 1 + 2 s.
            Fault::Unavailable => (
                Some(K::HttpStatus),
                "503 server error: service unavailable",
                Some(4),
                Duration::from_secs(4),
                Some("/503"),
            ),
            Fault::BadTls => (Some(K::Tls), "certificate", Some(1), quick, None),
            Fault::MovedPermanently => (Some(K::Redirect), "redirected (301) to /moved", Some(1), quick, Some("/301")),
            Fault::SlowPlugin => (Some(K::Timeout), "did not return within", None, PLUGIN_TIMEOUT, None),
            Fault::PanickingPlugin => (Some(K::PluginPanic), "it panicked: plugin blew up", None, quick, None),
            Fault::FailingPlugin => (Some(K::Plugin), "remote said no to ***", None, quick, None),
        };
        Expect { kind, reason, attempts, bound, path }
    }
}

/// Checks the outcome of the `nth` event (0-based) on the faulty channel.
fn check(fault: Fault, expect: &Expect, c: &ChannelOutcome, nth: usize) {
    // A plugin that overran its budget keeps its thread; once as many calls as a channel
    // may have running are stuck, later events are not given a thread at all.
    if fault == Fault::SlowPlugin && nth >= notifier_core::dispatch::MAX_PLUGIN_CALLS_PER_CHANNEL {
        let Outcome::Failed { kind: FailureKind::Stuck, reason } = &c.outcome else {
            panic!("{fault:?}: event {nth} must find the plugin stuck: {c}")
        };
        assert!(reason.contains("is stuck"), "{reason}");
        return;
    }
    match (expect.kind, &c.outcome) {
        (None, outcome) => assert_eq!(*outcome, Outcome::Delivered { status: Some(200) }, "{fault:?}: {c}"),
        (Some(kind), Outcome::Failed { kind: got, reason }) => {
            assert_eq!(*got, kind, "{fault:?}: {reason}");
            assert!(reason.to_lowercase().contains(expect.reason), "{fault:?}: {reason}");
            assert!(!reason.contains("p1ug1n-t0ken"), "{fault:?}: secret in {reason}");
        }
        (Some(_), other) => panic!("{fault:?}: expected a failure, got {other:?}"),
    }
    if let Some(attempts) = expect.attempts {
        assert_eq!(c.attempts, attempts, "{fault:?}: {c}");
    }
}

fn event_names() -> Vec<&'static str> {
    EVENTS.iter().map(|e| e.name()).collect()
}

/// Event names of the requests on `path`, a retry of the same event counted once.
fn arrivals(requests: &[Recorded], path: &str) -> Vec<String> {
    let mut names: Vec<String> = requests
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.json()["name"].as_str().unwrap_or("?").to_owned())
        .collect();
    names.dedup();
    names
}

/// Checks what the faulty server itself saw: the events in order, and nothing a
/// redirect should not have produced.
fn check_faulty_server(fault: Fault, expect: &Expect, rig: &Rig) {
    let requests = rig.faults.sink.requests();
    if let Some(path) = expect.path {
        assert_eq!(arrivals(&requests, path), event_names(), "{fault:?}: order at the faulty endpoint");
    }
    assert!(!requests.iter().any(|r| r.path == "/moved" || r.method != "POST"), "{requests:?}");
    if fault == Fault::Unavailable {
        // "With backoff": full jitter may pick a short wait, never three zero waits in a row.
        let times: Vec<Instant> =
            rig.faults.sink.timed_requests().iter().filter(|(_, r)| r.path == "/503").map(|(t, _)| *t).collect();
        assert_eq!(times.len(), 4 * EVENTS.len());
        let waited: Duration = times.chunks(4).map(|c| c[3] - c[0]).sum();
        assert!(waited > Duration::from_millis(30), "no backoff between attempts: {waited:?}");
    }
    if fault == Fault::RateLimited {
        let times: Vec<Instant> = rig.faults.sink.timed_requests().iter().map(|(t, _)| *t).collect();
        for pair in times.chunks(2) {
            assert!(
                pair[1] - pair[0] >= Duration::from_millis(900),
                "Retry-After: 1 not honoured: {:?}",
                pair[1] - pair[0]
            );
        }
    }
}

/// Sequential mode: `notify` returns after every channel, within the fault's bound.
fn run_sequential(fault: Fault) {
    let rig = Rig::start();
    let expect = fault.expect();
    let n = Notifier::builder(rig.channels(fault)).event_budget(EVENT_BUDGET).build();
    for (nth, event) in EVENTS.into_iter().enumerate() {
        let report = n.notify(event, json!({"fault": format!("{fault:?}")}), None);
        assert!(report.elapsed < expect.bound + MARGIN, "{fault:?} blocked the flow for {:?}", report.elapsed);
        assert!(report.elapsed < EVENT_BUDGET + MARGIN);
        assert_eq!(report.channels.len(), 2);
        check(fault, &expect, &report.channels[0], nth);
        assert_eq!(report.channels[1].outcome, Outcome::Delivered { status: Some(200) }, "{fault:?}");
    }
    assert_eq!(arrivals(&rig.after.requests(), "/after"), event_names(), "{fault:?}: later events, in order");
    check_faulty_server(fault, &expect, &rig);
    let stats = n.stats();
    let failed = if expect.kind.is_some() { EVENTS.len() as u64 } else { 0 };
    assert_eq!((stats.failed, stats.delivered), (failed, 2 * EVENTS.len() as u64 - failed), "{stats:?}");
}

/// Background mode: `notify` only enqueues; the healthy channel does not wait for the
/// faulty one; `flush` reports every outcome, per channel in event order.
fn run_background(fault: Fault) {
    let rig = Rig::start();
    let expect = fault.expect();
    let n = Notifier::builder(rig.channels(fault))
        .background(true)
        .event_budget(EVENT_BUDGET)
        .flush_cap(Duration::from_secs(1))
        .build();
    for event in EVENTS {
        let report = n.notify(event, json!({"fault": format!("{fault:?}")}), None);
        for c in &report.channels {
            assert_eq!(c.outcome, Outcome::Queued, "{fault:?}: notify must only enqueue: {c}");
        }
    }
    if fault == Fault::Hung {
        // Every notify returned while the endpoint still hangs (its gate is closed).
        assert_eq!(rig.faults.answered(), 0);
    }
    let after = rig.after.wait_for(EVENTS.len(), Duration::from_secs(10));
    assert_eq!(arrivals(&after, "/after"), event_names(), "{fault:?}: the healthy channel got every event, in order");
    if let (Fault::Hung | Fault::Trickling, Some(path)) = (fault, expect.path) {
        // Channels are independent: all of the healthy channel's deliveries arrived
        // before the faulty channel's first attempt could even time out.
        rig.faults.sink.wait_for(1, Duration::from_secs(10));
        let timed = rig.faults.sink.timed_requests();
        let first =
            timed.iter().find(|(_, r)| r.path == path).map(|(t, _)| *t).expect("the faulty endpoint was reached");
        let last_after = rig.after.timed_requests().last().map(|(t, _)| *t).unwrap();
        let timeout = if fault == Fault::Hung { HANG_TIMEOUT } else { TRICKLE_TIMEOUT };
        assert!(
            last_after < first + timeout,
            "{fault:?}: the healthy channel waited for the faulty one ({:?} after its first request)",
            last_after.saturating_duration_since(first)
        );
    }
    let flushed = n.flush(Duration::from_secs(60));
    assert_eq!(flushed.abandoned, 0, "{fault:?}");
    assert_eq!(flushed.completed.len(), 2 * EVENTS.len(), "{fault:?}: {:#?}", flushed.completed);
    for channel in 0..2 {
        let done: Vec<&(Event, ChannelOutcome)> =
            flushed.completed.iter().filter(|(_, c)| c.channel == channel).collect();
        let order: Vec<Event> = done.iter().map(|(e, _)| *e).collect();
        assert_eq!(order, EVENTS, "{fault:?}: channel #{} kept the order of events", channel + 1);
        for (nth, (_, c)) in done.into_iter().enumerate() {
            if channel == 0 {
                check(fault, &expect, c, nth);
                assert!(c.elapsed < expect.bound + MARGIN, "{fault:?}: {c}");
            } else {
                assert_eq!(c.outcome, Outcome::Delivered { status: Some(200) }, "{fault:?}");
            }
        }
    }
    check_faulty_server(fault, &expect, &rig);
    let stats = n.stats();
    let failed = if expect.kind.is_some() { EVENTS.len() as u64 } else { 0 };
    assert_eq!(stats.queued, 2 * EVENTS.len() as u64, "{stats:?}");
    assert_eq!((stats.failed, stats.delivered), (failed, 2 * EVENTS.len() as u64 - failed), "{stats:?}");
}

macro_rules! matrix {
    ($($name:ident => $fault:expr,)*) => {
        mod sequential {
            use super::*;
            $( #[test] fn $name() { run_sequential($fault) } )*
        }
        mod background {
            use super::*;
            $( #[test] fn $name() { run_background($fault) } )*
        }
    };
}

matrix! {
    hung => Fault::Hung,
    trickling_one_byte_per_second => Fault::Trickling,
    refused => Fault::Refused,
    error_500_then_200_is_retried => Fault::ErrorThenOk,
    rate_limited_429_with_retry_after => Fault::RateLimited,
    unavailable_503_forever_gives_up => Fault::Unavailable,
    bad_tls_certificate => Fault::BadTls,
    moved_permanently_301 => Fault::MovedPermanently,
    slow_plugin => Fault::SlowPlugin,
    panicking_plugin => Fault::PanickingPlugin,
    failing_plugin => Fault::FailingPlugin,
}

// ---------------------------------------------------------------------------------------
// Background mode: overflow, flush, drop

/// Captures the `tracing` output of the current thread.
///
/// One global subscriber writes into a per-thread buffer while a capture is on. (A scoped
/// `with_default` subscriber per test loses events when tests run in parallel: a
/// callsite's interest can be cached as "never" by another thread.)
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static CAPTURING: std::cell::RefCell<Option<Vec<u8>>> = const { std::cell::RefCell::new(None) };
}

struct ThreadBuffer;

impl std::io::Write for ThreadBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURING.with(|c| {
            if let Some(captured) = c.borrow_mut().as_mut() {
                captured.extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn during<T>(&self, f: impl FnOnce() -> T) -> T {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            tracing_subscriber::fmt()
                .with_writer(|| ThreadBuffer)
                .with_max_level(tracing::Level::DEBUG)
                .with_ansi(false)
                .init();
        });
        CAPTURING.with(|c| *c.borrow_mut() = Some(Vec::new()));
        let out = f();
        let captured = CAPTURING.with(|c| c.borrow_mut().take()).unwrap_or_default();
        self.0.lock().unwrap().extend_from_slice(&captured);
        out
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[test]
fn overflow_is_counted_logged_and_never_blocks() {
    let faults = Faults::start();
    let logs = Logs::default();
    let n = Notifier::builder(vec![http(&faults.sink.url("/hang")).timeout(Duration::from_secs(30))])
        .background(true)
        .queue_capacity(1)
        .flush_cap(Duration::from_secs(1))
        .build();
    let reports =
        logs.during(|| (0..10).map(|i| n.notify(Event::RunStarted, json!({"i": i}), None)).collect::<Vec<_>>());
    // The endpoint holds the first request for 30 s: every call above returned anyway.
    assert_eq!(faults.answered(), 0);
    let queued = reports.iter().filter(|r| r.channels[0].outcome == Outcome::Queued).count();
    let overflowed: Vec<&str> = reports
        .iter()
        .filter_map(|r| match &r.channels[0].outcome {
            Outcome::Failed { kind: FailureKind::Overflow, reason } => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    // One in flight and one in the queue, or just one in the queue when the worker had
    // not picked the first up yet when the second came.
    assert!((1..=2).contains(&queued), "{reports:#?}");
    assert_eq!(queued + overflowed.len(), 10);
    assert!(overflowed.iter().all(|r| r.contains("queue is full")), "{overflowed:?}");
    let stats = n.stats();
    assert_eq!((stats.overflowed, stats.queued), (overflowed.len() as u64, queued as u64), "{stats:?}");
    let text = logs.text();
    assert_eq!(text.matches("dropped for channel #1").count(), overflowed.len(), "{text}");
    assert!(text.contains("WARN"), "{text}");

    // The deadline passes with the queue still held: nothing completed, all abandoned.
    let flushed = n.flush(Duration::from_millis(300));
    assert_eq!((flushed.completed.len(), flushed.abandoned), (0, queued as u64), "{flushed:?}");
    // Once the endpoint answers, a flush sees every queued notification delivered.
    faults.gate.open();
    let flushed = n.flush(Duration::from_secs(20));
    assert_eq!(flushed.abandoned, 0);
    assert_eq!(flushed.completed.len(), queued);
    assert!(flushed.completed.iter().all(|(_, c)| c.outcome == Outcome::Delivered { status: Some(200) }));
    let indices: Vec<i64> =
        faults.sink.requests().iter().map(|r| r.json()["payload"]["i"].as_i64().unwrap_or(-1)).collect();
    let mut sorted = indices.clone();
    sorted.sort_unstable();
    assert_eq!(indices, sorted, "queued notifications go out in order");
}

#[test]
fn flush_reports_completions_and_abandoned_then_drop_is_capped() {
    let faults = Faults::start();
    let after = Sink::start();
    let logs = Logs::default();
    let cap = Duration::from_secs(1);
    let n = Notifier::builder(vec![
        http(&faults.sink.url("/hang")).timeout(Duration::from_secs(30)),
        http(&after.url("/after")),
    ])
    .background(true)
    .flush_cap(cap)
    .build();
    for event in EVENTS {
        n.notify(event, json!({}), None);
    }
    assert_eq!(arrivals(&after.wait_for(3, Duration::from_secs(10)), "/after"), event_names());
    let flushed = n.flush(Duration::from_millis(500));
    assert_eq!(flushed.abandoned, 3, "the hung channel's three events are still pending: {flushed:?}");
    assert_eq!(flushed.completed.len(), 3, "{flushed:?}");
    assert!(
        flushed.completed.iter().all(|(_, c)| c.channel == 1 && c.outcome == Outcome::Delivered { status: Some(200) })
    );
    assert_eq!(n.stats().abandoned, 0, "a flush deadline only reports; nothing is given up yet");

    n.notify(Event::RunFailed, json!({}), None);
    let started = Instant::now();
    logs.during(|| drop(n));
    let took = started.elapsed();
    assert!(took < cap + MARGIN, "dropping took {took:?} with a {cap:?} cap");
    let text = logs.text();
    assert!(text.contains("4 notification(s) not delivered within the 1.0 s shutdown cap"), "{text}");
    assert_eq!(faults.answered(), 0, "the endpoint never answered");
    assert_eq!(after.wait_for(4, Duration::from_secs(5)).len(), 4, "the healthy channel got the last event");
}

#[test]
fn shutdown_bounds_the_exit_and_drop_does_not_wait_again() {
    let faults = Faults::start();
    let logs = Logs::default();
    // A 30 s cap and a 30 s timeout: a drop that waited again would take 30 s.
    let n = Notifier::builder(vec![http(&faults.sink.url("/hang")).timeout(Duration::from_secs(30))])
        .background(true)
        .flush_cap(Duration::from_secs(30))
        .build();
    n.notify(Event::RunStarted, json!({}), None);
    n.notify(Event::RunCompleted, json!({}), None);
    let started = Instant::now();
    let report = logs.during(|| n.shutdown(Duration::from_millis(500)));
    assert!(started.elapsed() < Duration::from_millis(500) + MARGIN, "{:?}", started.elapsed());
    assert_eq!((report.completed.len(), report.abandoned), (0, 2), "{report:?}");
    assert_eq!(n.stats().abandoned, 2);
    assert!(logs.text().contains("2 notification(s) not delivered within the 0.5 s shutdown cap"), "{}", logs.text());
    // After shutdown: notify reports the channel as stopped, flush has nothing to wait for.
    let late = n.notify(Event::RunFailed, json!({}), None);
    assert!(
        matches!(&late.channels[0].outcome, Outcome::Failed { reason, .. } if reason.contains("stopped")),
        "{late:?}"
    );
    assert_eq!(n.flush(Duration::from_secs(30)).abandoned, 0);
    assert_eq!(n.shutdown(Duration::from_secs(30)), Default::default(), "a second shutdown is a no-op");
    let started = Instant::now();
    drop(n);
    assert!(started.elapsed() < MARGIN, "drop waited again: {:?}", started.elapsed());
    assert_eq!(faults.answered(), 0);
}

#[test]
fn background_keeps_per_channel_order_under_load() {
    let slow = Sink::with(|_, i| Reply::ok().delay(Duration::from_millis(if i % 3 == 0 { 40 } else { 0 })));
    let fast = Sink::start();
    let n = Notifier::builder(vec![http(&slow.url("/slow")), http(&fast.url("/fast"))]).background(true).build();
    for i in 0..40 {
        let report = n.notify(Event::RunStarted, json!({"i": i}), None);
        assert!(report.channels.iter().all(|c| c.outcome == Outcome::Queued));
    }
    let flushed = n.flush(Duration::from_secs(30));
    assert_eq!((flushed.abandoned, flushed.completed.len()), (0, 80));
    for sink in [&slow, &fast] {
        let seen: Vec<i64> = sink.requests().iter().map(|r| r.json()["payload"]["i"].as_i64().unwrap()).collect();
        assert_eq!(seen, (0..40).collect::<Vec<_>>());
    }
}

// ---------------------------------------------------------------------------------------
// Inside a caller's tokio runtime

fn ok_plugin(_: &PluginConfig, _: &Envelope) -> Result<(), PluginError> {
    Ok(())
}

async fn from_inside_a_runtime() {
    let sink = Sink::start();
    let faults = Faults::start();

    let sequential = Notifier::builder(vec![
        http(&sink.url("/seq")),
        plugin("acme.ok", json!({}), ok_plugin),
        http(&faults.sink.url("/hang")).timeout(Duration::from_millis(300)),
    ])
    .build();
    let report = sequential.notify(Event::RunStarted, json!({}), None);
    assert_eq!(report.channels[0].outcome, Outcome::Delivered { status: Some(200) });
    assert_eq!(report.channels[1].outcome, Outcome::Delivered { status: None });
    assert!(matches!(report.channels[2].outcome, Outcome::Failed { kind: FailureKind::Timeout, .. }));

    let background = Notifier::builder(vec![http(&sink.url("/bg")), plugin("acme.ok", json!({}), ok_plugin)])
        .background(true)
        .build();
    let report = background.notify(Event::RunStarted, json!({}), None);
    assert!(report.channels.iter().all(|c| c.outcome == Outcome::Queued));
    tokio::task::yield_now().await;
    let flushed = background.flush(Duration::from_secs(10));
    assert_eq!((flushed.completed.len(), flushed.abandoned), (2, 0), "{flushed:?}");
    // Dropping delivers what is left, from inside the runtime.
    background.notify(Event::RunCompleted, json!({}), None);
    drop(background);
    assert_eq!(arrivals(&sink.requests(), "/bg"), ["run-started", "run-completed"]);

    // A background notifier with a hung channel, built, used and dropped in a task.
    let hang = faults.sink.url("/hang");
    tokio::spawn(async move {
        let n = Notifier::builder(vec![http(&hang).timeout(Duration::from_secs(30))])
            .background(true)
            .flush_cap(Duration::from_millis(200))
            .build();
        n.notify(Event::RunFailed, json!({}), None);
        drop(n);
    })
    .await
    .expect("no panic inside the runtime");
    drop(sequential);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_from_a_multi_thread_runtime() {
    from_inside_a_runtime().await;
}

#[tokio::test]
async fn notify_from_a_current_thread_runtime() {
    from_inside_a_runtime().await;
}

#[test]
fn notify_from_a_runtime_built_by_the_caller() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(from_inside_a_runtime());
    // The notifiers' runtime is not the caller's: shutting the caller's down is fine.
    drop(rt);
    let sink = Sink::start();
    let n = Notifier::builder(vec![http(&sink.url("/after-runtime"))]).build();
    assert!(matches!(n.notify(Event::RunStarted, json!({}), None).channels[0].outcome, Outcome::Delivered { .. }));
}
