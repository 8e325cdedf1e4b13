//! What the outbox costs per notification (issue 14), with and without it, measured with
//! divan in one run against the same loopback server as `notifier-core`'s `delivery`
//! bench. The outbox file lives in a temporary directory on the same disk as `target/`
//! (WAL, `synchronous=FULL`: every commit is an fsync).
//!
//! * `sequential_delivered`: a delivered notification in sequential mode (nothing is
//!   written: sequential mode records failures only);
//! * `sequential_refused`: a failed one (connection refused): the record is written
//!   before `notify` returns;
//! * `background_enqueue`: the time `notify` blocks the flow in background mode (goal
//!   ≤ 10 µs): the record is the journal thread's work;
//! * `background_end_to_end`: 100 notifications queued then flushed, per notification:
//!   delivery plus record and mark on the journal thread, batched.
//!
//! `cargo bench -p notifier-outbox --bench outbox`

#[path = "../../notifier-core/benches/support/loopback.rs"]
mod loopback;

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use divan::{Bencher, black_box};
use notifier_core::channel::{ChannelDef, ChannelKind, DEFAULT_TIMEOUT, HttpDef, Origin};
use notifier_core::{Event, EventSet, Notifier, NotifierBuilder, Outcome, Template};
use notifier_outbox::SqliteOutbox;
use serde_json::{Value, json};

fn main() {
    divan::main();
}

fn http(url: &str) -> ChannelDef {
    ChannelDef {
        events: EventSet::ALL,
        origin: Origin { file: Cow::Borrowed("bench.yaml"), line: 1, column: 1 },
        timeout: DEFAULT_TIMEOUT,
        retries: 0,
        kind: ChannelKind::Http(HttpDef {
            url: Template::parse(url).expect("a URL"),
            headers: Cow::Borrowed(&[]),
            verify_tls: true,
            forward_event_payload: true,
            signing_secret: None,
            body: notifier_core::BodyDef::Envelope,
        }),
    }
}

fn server() -> String {
    static ADDR: OnceLock<std::net::SocketAddr> = OnceLock::new();
    format!("http://{}/hook", ADDR.get_or_init(|| loopback::start(0)))
}

/// A port nothing listens on.
fn refused() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}/hook")
}

fn payload() -> Value {
    json!({"title": "bench", "status": "completed", "deviated": false, "steady_states": {"before": null}})
}

/// A builder over `url`, with a fresh outbox file when `outbox`.
fn builder(url: &str, outbox: bool) -> (NotifierBuilder, Option<tempfile::TempDir>) {
    let b = Notifier::builder(vec![http(url)]);
    if !outbox {
        return (b, None);
    }
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteOutbox::open(dir.path().join("outbox.sqlite3")).unwrap();
    (b.outbox(Arc::new(store)), Some(dir))
}

#[divan::bench(args = [false, true])]
fn sequential_delivered(bencher: Bencher, outbox: bool) {
    let (b, _dir) = builder(&server(), outbox);
    let n = b.build();
    bencher.with_inputs(payload).bench_local_values(|p| {
        let report = n.notify(black_box(Event::RunCompleted), p, None);
        debug_assert!(matches!(report.channels[0].outcome, Outcome::Delivered { .. }));
        report
    });
}

#[divan::bench(args = [false, true], sample_count = 50, sample_size = 10)]
fn sequential_refused(bencher: Bencher, outbox: bool) {
    let (b, _dir) = builder(&refused(), outbox);
    let n = b.build();
    bencher.with_inputs(payload).bench_local_values(|p| {
        let report = n.notify(black_box(Event::RunFailed), p, None);
        debug_assert!(report.channels[0].is_failure());
        report
    });
    assert_eq!(n.stats().unrecorded, 0);
}

// 100 × 100 notifications at most, so the queue never overflows.
#[divan::bench(args = [false, true], sample_count = 100, sample_size = 100)]
fn background_enqueue(bencher: Bencher, outbox: bool) {
    let (b, _dir) = builder(&server(), outbox);
    let n = b.background(true).queue_capacity(1 << 20).flush_cap(Duration::from_secs(60)).build();
    bencher.with_inputs(payload).bench_local_values(|p| {
        let report = n.notify(black_box(Event::RunCompleted), p, None);
        debug_assert_eq!(report.channels[0].outcome, Outcome::Queued);
        report
    });
    let flushed = n.shutdown(Duration::from_secs(120));
    assert_eq!(flushed.abandoned, 0);
    assert_eq!(n.stats().unrecorded, 0);
}

const BATCH: usize = 100;

#[divan::bench(args = [false, true], sample_count = 20, sample_size = 1)]
fn background_end_to_end(bencher: Bencher, outbox: bool) {
    let (b, _dir) = builder(&server(), outbox);
    let n = b.background(true).queue_capacity(1 << 20).build();
    let payload = payload();
    bencher.counter(divan::counter::ItemsCount::new(BATCH)).bench_local(|| {
        for _ in 0..BATCH {
            n.notify(Event::RunCompleted, payload.clone(), None);
        }
        let flushed = n.flush(Duration::from_secs(60));
        assert_eq!(flushed.abandoned, 0);
        black_box(flushed)
    });
    n.shutdown(Duration::from_secs(10));
    assert_eq!(n.stats().unrecorded, 0);
}
