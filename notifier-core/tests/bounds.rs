//! Everything the docs call bounded is bounded: the background report, plugin threads
//! per channel, the `notifier.jsonl` locks, labels (freed with the last outcome), and
//! the async API never blocks its caller's thread.

mod common;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{DefExt, http, plugin};
use notifier_core::{Envelope, Event, FailureKind, Notifier, Outcome, PluginConfig, PluginError};
use notifier_test_support::{Reply, Sink};
use serde_json::json;

#[test]
fn the_background_report_keeps_at_most_its_capacity() {
    let sink = Sink::start();
    let n = Notifier::builder(vec![http(&sink.url("/a"))]).background(true).report_capacity(5).build();
    for _ in 0..40 {
        n.notify(Event::RunStarted, json!({}), None);
    }
    let report = n.flush(Duration::from_secs(30));
    assert_eq!(report.abandoned, 0);
    assert_eq!(report.completed.len(), 5, "only the latest deliveries are kept");
    assert_eq!(report.unreported, 35, "the others are counted");
    assert_eq!(n.stats().delivered, 40, "and every one is in the stats");
    assert_eq!(sink.requests().len(), 40);
    // The next flush starts afresh.
    n.notify(Event::RunCompleted, json!({}), None);
    let report = n.flush(Duration::from_secs(30));
    assert_eq!((report.completed.len(), report.unreported), (1, 0));
    assert_eq!(report.completed[0].0, Event::RunCompleted);
}

static RUNNING: AtomicUsize = AtomicUsize::new(0);
static MOST_RUNNING: AtomicUsize = AtomicUsize::new(0);
static CALLS: AtomicUsize = AtomicUsize::new(0);

/// Hangs for 3 s, ignoring its budget, and records how many of its calls run at once.
fn hanging(_: &PluginConfig, _: &Envelope) -> Result<(), PluginError> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
    MOST_RUNNING.fetch_max(now, Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(3));
    RUNNING.fetch_sub(1, Ordering::SeqCst);
    Ok(())
}

#[test]
fn a_stuck_plugin_gets_no_more_threads() {
    let n =
        Notifier::builder(vec![plugin("hang.forever", json!({}), hanging).timeout(Duration::from_millis(100))]).build();
    let kinds: Vec<FailureKind> = (0..6)
        .map(|_| match &n.notify(Event::RunStarted, json!({}), None).channels[0].outcome {
            Outcome::Failed { kind, .. } => *kind,
            other => panic!("a hanging plugin cannot deliver: {other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            FailureKind::Timeout,
            FailureKind::Timeout,
            FailureKind::Stuck,
            FailureKind::Stuck,
            FailureKind::Stuck,
            FailureKind::Stuck
        ]
    );
    assert_eq!(CALLS.load(Ordering::SeqCst), 2, "stuck calls are not started");
    assert!(MOST_RUNNING.load(Ordering::SeqCst) <= notifier_core::dispatch::MAX_PLUGIN_CALLS_PER_CHANNEL);
    // Once the stuck calls return, the channel is called again.
    let until = Instant::now() + Duration::from_secs(20);
    while RUNNING.load(Ordering::SeqCst) > 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(100));
    let again = n.notify(Event::RunStarted, json!({}), None);
    assert!(matches!(&again.channels[0].outcome, Outcome::Failed { kind: FailureKind::Timeout, .. }), "{again:?}");
    assert_eq!(CALLS.load(Ordering::SeqCst), 3);
}

#[test]
fn a_write_stuck_on_one_jsonl_path_does_not_hold_up_another() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let file = dir.path().join("events.jsonl");
    let jsonl = notifier_core::plugins::jsonl::notify;
    let n = Notifier::builder(vec![
        // Opening a FIFO that nobody reads blocks for ever.
        plugin("notifier.jsonl", json!({"path": fifo.to_str().unwrap()}), jsonl).timeout(Duration::from_millis(200)),
        plugin("notifier.jsonl", json!({"path": file.to_str().unwrap()}), jsonl).timeout(Duration::from_secs(2)),
    ])
    .build();
    let report = n.notify(Event::RunFailed, json!({"title": "t"}), None);
    assert!(matches!(&report.channels[0].outcome, Outcome::Failed { kind: FailureKind::Timeout, .. }), "{report:?}");
    assert_eq!(report.channels[1].outcome, Outcome::Delivered { status: None }, "{report:?}");
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.starts_with("{\"name\": \"run-failed\""), "{written}");
}

#[test]
fn labels_are_freed_with_the_notifier_and_its_reports() {
    let n = Notifier::builder(vec![http("http://127.0.0.1:9/unique-label-path")]).build();
    let report = n.notify(Event::RunStarted, json!({}), None);
    let weak = std::sync::Arc::downgrade(&report.channels[0].label);
    assert!(weak.upgrade().is_some());
    drop(n);
    assert!(weak.upgrade().is_some(), "the report still holds it");
    drop(report);
    assert!(weak.upgrade().is_none(), "nothing holds a label once its notifier and reports are gone");
}

#[test]
fn notify_async_keeps_a_current_thread_runtime_running() {
    let sink = Sink::with(|_, _| Reply::ok().delay(Duration::from_millis(600)));
    let n = Notifier::builder(vec![http(&sink.url("/slow"))]).build();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let ticks = AtomicUsize::new(0);
    let (report, ticked) = runtime.block_on(async {
        let ticker = async {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        };
        let report = tokio::select! {
            report = n.notify_async(Event::RunStarted, json!({"title": "t"}), None) => report,
            () = ticker => unreachable!("the ticker never ends"),
        };
        (report, ticks.load(Ordering::SeqCst))
    });
    assert_eq!(report.channels[0].outcome, Outcome::Delivered { status: Some(200) });
    // The blocking `notify` would have held the only thread for the whole 600 ms.
    assert!(ticked >= 10, "the runtime ran its other task while waiting: {ticked} ticks");
    assert_eq!(n.stats().delivered, 1);
}

#[test]
fn flush_async_waits_for_background_deliveries_without_blocking() {
    let sink = Sink::with(|_, _| Reply::ok().delay(Duration::from_millis(300)));
    let n = Notifier::builder(vec![http(&sink.url("/a"))]).background(true).build();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let ticks = Mutex::new(0usize);
    let report = runtime.block_on(async {
        for _ in 0..3 {
            let r = n.notify_async(Event::RunStarted, json!({}), None).await;
            assert_eq!(r.channels[0].outcome, Outcome::Queued);
        }
        let ticker = async {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                *ticks.lock().unwrap() += 1;
            }
        };
        tokio::select! {
            report = n.flush_async(Duration::from_secs(30)) => report,
            () = ticker => unreachable!(),
        }
    });
    assert_eq!(report.abandoned, 0);
    assert_eq!(report.completed.len(), 3);
    assert!(report.completed.iter().all(|(_, o)| o.outcome == Outcome::Delivered { status: Some(200) }));
    assert!(*ticks.lock().unwrap() >= 20, "the runtime kept running while flushing");
    // A deadline that passes first is honoured, with nothing left behind.
    let hung = Sink::with(|_, _| Reply::ok().delay(Duration::from_secs(30)));
    let n = Notifier::builder(vec![http(&hung.url("/h")).timeout(Duration::from_secs(20))]).background(true).build();
    n.notify(Event::RunStarted, json!({}), None);
    let started = Instant::now();
    let report = runtime.block_on(n.flush_async(Duration::from_millis(300)));
    assert_eq!(report.abandoned, 1);
    assert!(started.elapsed() < Duration::from_secs(10), "bounded by the deadline");
}
