//! Delivery costs (issue 6), measured with divan in one run:
//!
//! * `dispatch_100_filtered`: one event through 100 HTTP channels that all filter it
//!   out: the dispatch decision alone, no I/O (goal ≤ 1 µs per event);
//! * `sequential_loopback_post`: one notification over loopback HTTP in sequential mode,
//!   keep-alive (the reference needs ≈1.1–1.4 ms, a new connection each time);
//! * `background_enqueue`: the time `notify` blocks the flow in background mode
//!   (goal ≤ 10 µs), with the worker delivering to the same loopback server meanwhile.
//!
//! `cargo bench -p notifier-core --bench delivery`

#[path = "support/loopback.rs"]
mod loopback;

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Duration;

use divan::{Bencher, black_box};
use notifier_core::channel::{ChannelDef, ChannelKind, DEFAULT_TIMEOUT, HttpDef, Origin};
use notifier_core::{Envelope, Event, EventSet, Notifier, Outcome, Template};
use serde_json::{Value, json};

fn main() {
    divan::main();
}

fn http(url: &str, events: EventSet) -> ChannelDef {
    with_body(url, events, notifier_core::BodyDef::Envelope)
}

fn with_body(url: &str, events: EventSet, body: notifier_core::BodyDef) -> ChannelDef {
    ChannelDef {
        events,
        origin: Origin { file: Cow::Borrowed("bench.yaml"), line: 1, column: 1 },
        timeout: DEFAULT_TIMEOUT,
        retries: 0,
        kind: ChannelKind::Http(HttpDef {
            url: Template::parse(url).expect("a URL"),
            headers: Cow::Borrowed(&[]),
            verify_tls: true,
            forward_event_payload: true,
            signing_secret: None,
            body,
        }),
    }
}

/// The loopback server, started once.
fn server() -> String {
    static ADDR: OnceLock<std::net::SocketAddr> = OnceLock::new();
    format!("http://{}/hook", ADDR.get_or_init(|| loopback::start(0)))
}

/// A small run payload, like the reference's "small payload" case.
fn payload() -> Value {
    json!({"title": "bench", "status": "completed", "deviated": false, "steady_states": {"before": null}})
}

#[divan::bench]
fn dispatch_100_filtered(bencher: Bencher) {
    let only = EventSet::of(&[Event::ValidateFailed]);
    let channels = (0..100).map(|i| http(&format!("https://hooks.example.invalid/channel/{i}"), only)).collect();
    let n = Notifier::builder(channels).build();
    bencher.bench_local(|| {
        let report = n.notify_envelope(Envelope::at(black_box(Event::RunStarted), Value::Null, None, 1.0));
        black_box(report.channels.len())
    });
}

#[divan::bench]
fn sequential_loopback_post(bencher: Bencher) {
    let n = Notifier::builder(vec![http(&server(), EventSet::ALL)]).build();
    let payload = payload();
    assert!(matches!(
        n.notify(Event::RunStarted, payload.clone(), None).channels[0].outcome,
        Outcome::Delivered { .. }
    ));
    bencher.with_inputs(|| payload.clone()).bench_local_values(|p| {
        let report = n.notify(black_box(Event::RunCompleted), p, None);
        debug_assert!(matches!(report.channels[0].outcome, Outcome::Delivered { .. }));
        report
    });
}

// The same notification with the `teams` format: the Adaptive Card is rendered per
// notification, side by side with the envelope of `sequential_loopback_post`.
#[divan::bench]
fn sequential_loopback_post_teams(bencher: Bencher) {
    let teams = notifier_core::BodyDef::Format { name: Cow::Borrowed("teams"), options_json: Cow::Borrowed("{}") };
    let n = Notifier::builder(vec![with_body(&server(), EventSet::ALL, teams)]).build();
    let payload = payload();
    assert!(matches!(
        n.notify(Event::RunStarted, payload.clone(), None).channels[0].outcome,
        Outcome::Delivered { .. }
    ));
    bencher.with_inputs(|| payload.clone()).bench_local_values(|p| {
        let report = n.notify(black_box(Event::RunCompleted), p, None);
        debug_assert!(matches!(report.channels[0].outcome, Outcome::Delivered { .. }));
        report
    });
}

// 100 × 100 notifications at most, so the queue never overflows: the bench measures
// the enqueue path, not the overflow path.
#[divan::bench(sample_count = 100, sample_size = 100)]
fn background_enqueue(bencher: Bencher) {
    let n = Notifier::builder(vec![http(&server(), EventSet::ALL)])
        .background(true)
        .queue_capacity(1 << 20)
        .flush_cap(Duration::from_secs(30))
        .build();
    let payload = payload();
    bencher.with_inputs(|| payload.clone()).bench_local_values(|p| {
        let report = n.notify(black_box(Event::RunCompleted), p, None);
        debug_assert_eq!(report.channels[0].outcome, Outcome::Queued);
        report
    });
    let flushed = n.flush(Duration::from_secs(60));
    assert_eq!(flushed.abandoned, 0);
    assert!(flushed.failures().next().is_none(), "{:?}", flushed.failures().next());
    assert_eq!(n.stats().overflowed, 0);
}

// The same enqueue through `notify_async().await`, polled by a current-thread runtime:
// side by side with `background_enqueue`, the cost of the async path.
#[divan::bench(sample_count = 100, sample_size = 100)]
fn background_enqueue_async(bencher: Bencher) {
    let n = Notifier::builder(vec![http(&server(), EventSet::ALL)])
        .background(true)
        .queue_capacity(1 << 20)
        .flush_cap(Duration::from_secs(30))
        .build();
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a current-thread runtime");
    let payload = payload();
    bencher.with_inputs(|| payload.clone()).bench_local_values(|p| {
        let report = runtime.block_on(n.notify_async(black_box(Event::RunCompleted), p, None));
        debug_assert_eq!(report.channels[0].outcome, Outcome::Queued);
        report
    });
    let flushed = n.flush(Duration::from_secs(60));
    assert_eq!(flushed.abandoned, 0);
    assert_eq!(n.stats().overflowed, 0);
}
