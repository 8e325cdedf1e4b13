//! A long background run against a hung endpoint keeps resident memory flat: the queue
//! is bounded, overflows are only counted, and nothing accumulates per event. Alone in
//! its test binary so that no other test's allocations move the measurement.

mod common;

use std::time::Duration;

use common::{DefExt, http};
use notifier_core::{Event, Notifier};
use notifier_test_support::{Reply, Sink};
use serde_json::json;

/// Resident set size of this process, in KiB (Linux).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("a VmRSS line");
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("VmRSS in kB")
}

#[test]
fn ten_thousand_background_events_to_a_hung_endpoint_use_no_more_memory() {
    let sink = Sink::with(|_, _| Reply::ok().delay(Duration::from_secs(120)));
    let n = Notifier::builder(vec![http(&sink.url("/hung")).timeout(Duration::from_secs(60))]).background(true).build();
    // 10 KiB per payload: 10,000 kept payloads would be 100 MiB.
    let payload = json!({"title": "x".repeat(10 * 1024)});
    // Fill the queue (1024) and warm every allocator path up.
    for _ in 0..3_000 {
        n.notify(Event::RunStarted, payload.clone(), None);
    }
    let before = rss_kib();
    for _ in 0..10_000 {
        n.notify(Event::RunStarted, payload.clone(), None);
    }
    let after = rss_kib();
    let stats = n.stats();
    assert_eq!(stats.queued + stats.overflowed, 13_000, "{stats:?}");
    assert!(stats.overflowed >= 13_000 - 1_025, "the queue holds at most its capacity: {stats:?}");
    let grown = after.saturating_sub(before);
    assert!(grown < 16 * 1024, "resident memory grew by {grown} KiB over 10,000 events ({before} → {after} KiB)");
    let report = n.shutdown(Duration::from_millis(200));
    assert!(report.abandoned > 0 && report.abandoned <= 1_025, "{}", report.abandoned);
}
