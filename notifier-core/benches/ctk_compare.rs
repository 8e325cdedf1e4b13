//! The Rust side of `bench/compare_ctk.sh` (not a divan bench: a small program the script
//! drives, next to the same measurements made with chaostoolkit-lib). Each mode prints
//! one JSON object on stdout.
//!
//! ```text
//! ctk_compare sink [--max-seconds S]          loopback server; prints its port
//! ctk_compare seq  URL N WARMUP PAYLOAD_FILE  per-notification cost, sequential mode
//! ctk_compare bg   URL N WARMUP PAYLOAD_FILE  time notify blocks the flow, background mode
//! ctk_compare hung URL EVENTS MODE [TIMEOUT]  flow time with a hung endpoint;
//!                                             MODE = seq | bg
//! ```
//!
//! Build: `cargo bench -p notifier-core --bench ctk_compare --no-run`.

#[path = "support/loopback.rs"]
mod loopback;

use std::borrow::Cow;
use std::io::Write;
use std::time::{Duration, Instant};

use notifier_core::channel::{ChannelDef, ChannelKind, DEFAULT_TIMEOUT, HttpDef, Origin};
use notifier_core::{Event, EventSet, Notifier, Outcome, Template};
use serde_json::{Value, json};

fn main() {
    // `cargo bench` passes `--bench`; nothing else is an option here.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = match args.as_slice() {
        ["sink", rest @ ..] => sink(rest),
        ["seq", url, n, warmup, payload] => sequential(url, parse(n), parse(warmup), &read_payload(payload)),
        ["bg", url, n, warmup, payload] => background(url, parse(n), parse(warmup), &read_payload(payload)),
        ["hung", url, events, mode, rest @ ..] => {
            let timeout = rest.first().map_or(DEFAULT_TIMEOUT, |t| Duration::from_secs_f64(parse(t)));
            hung(url, parse(events), mode, timeout)
        }
        _ => {
            eprintln!("usage: see the module documentation of benches/ctk_compare.rs");
            std::process::exit(2);
        }
    };
    println!("{out}");
}

fn parse<T: std::str::FromStr>(s: &str) -> T {
    s.parse().unwrap_or_else(|_| {
        eprintln!("not a number: {s}");
        std::process::exit(2)
    })
}

fn read_payload(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn channel(url: &str, timeout: Duration) -> ChannelDef {
    ChannelDef {
        events: EventSet::ALL,
        origin: Origin { file: Cow::Borrowed("bench.yaml"), line: 1, column: 1 },
        timeout,
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

/// Runs the loopback server until killed (or `--max-seconds`, default 1800, so it
/// never outlives a broken script for long).
fn sink(rest: &[&str]) -> Value {
    let max = match rest {
        ["--max-seconds", s] => parse(s),
        _ => 1800.0,
    };
    let addr = loopback::start(0);
    println!("{}", addr.port());
    let _ = std::io::stdout().flush();
    std::thread::sleep(Duration::from_secs_f64(max));
    json!({"stopped_after_s": max})
}

fn summary(mut samples: Vec<Duration>) -> Value {
    samples.sort_unstable();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let total: Duration = samples.iter().sum();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    json!({
        "n": samples.len(),
        "mean_us": us(total) / samples.len() as f64,
        "median_us": us(at(0.5)),
        "p99_us": us(at(0.99)),
        "max_us": us(at(1.0)),
    })
}

/// N notifications in sequential mode after WARMUP, one channel, keep-alive.
fn sequential(url: &str, n: usize, warmup: usize, payload: &Value) -> Value {
    let notifier = Notifier::builder(vec![channel(url, DEFAULT_TIMEOUT)]).build();
    for _ in 0..warmup {
        notifier.notify(Event::RunCompleted, payload.clone(), None);
    }
    let mut samples = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let p = payload.clone();
        let t = Instant::now();
        let report = notifier.notify(Event::RunCompleted, p, None);
        samples.push(t.elapsed());
        assert!(matches!(report.channels[0].outcome, Outcome::Delivered { .. }), "{report:?}");
    }
    let total = started.elapsed();
    let mut out = summary(samples);
    out["per_notification_us"] = json!(total.as_secs_f64() * 1e6 / n as f64);
    out
}

/// N notifications in background mode after WARMUP: how long each `notify` blocks the
/// caller, then how long the worker needed to deliver them all.
fn background(url: &str, n: usize, warmup: usize, payload: &Value) -> Value {
    let notifier = Notifier::builder(vec![channel(url, DEFAULT_TIMEOUT)])
        .background(true)
        .queue_capacity(n + warmup)
        .flush_cap(Duration::from_secs(60))
        .build();
    for _ in 0..warmup {
        notifier.notify(Event::RunCompleted, payload.clone(), None);
    }
    notifier.flush(Duration::from_secs(60));
    let mut samples = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let p = payload.clone();
        let t = Instant::now();
        let report = notifier.notify(Event::RunCompleted, p, None);
        samples.push(t.elapsed());
        assert_eq!(report.channels[0].outcome, Outcome::Queued);
    }
    let flushed = notifier.flush(Duration::from_secs(60));
    let drained = started.elapsed();
    assert_eq!(flushed.abandoned, 0);
    let delivered = flushed.completed.iter().filter(|(_, c)| matches!(c.outcome, Outcome::Delivered { .. })).count();
    let mut out = summary(samples);
    out["delivered"] = json!(delivered);
    out["all_delivered_after_ms"] = json!(drained.as_secs_f64() * 1e3);
    out
}

/// EVENTS events to one hung channel: the time the flow was blocked, and (background)
/// the time the final shutdown waited, capped by the default flush cap.
fn hung(url: &str, events: usize, mode: &str, timeout: Duration) -> Value {
    let notifier = Notifier::builder(vec![channel(url, timeout)]).background(mode == "bg").build();
    let started = Instant::now();
    let mut failed = 0;
    for i in 0..events {
        let report = notifier.notify(Event::RunStarted, json!({"i": i}), None);
        failed += report.failures().count();
    }
    let flow = started.elapsed();
    let t = Instant::now();
    let exit = notifier.shutdown(notifier_core::dispatch::DEFAULT_FLUSH_CAP);
    let exit_wait = t.elapsed();
    json!({
        "mode": mode,
        "timeout_s": timeout.as_secs_f64(),
        "events": events,
        "flow_s": flow.as_secs_f64(),
        "exit_wait_s": exit_wait.as_secs_f64(),
        "failed_in_flow": failed,
        "failed_at_exit": exit.failures().count() as u64 + exit.abandoned,
    })
}
