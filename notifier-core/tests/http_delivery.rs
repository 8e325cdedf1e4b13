//! The HTTP channel against real servers on 127.0.0.1: wire format, filters, TLS,
//! failures, deadlines, keep-alive, redirects and retries.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{DefExt, http};
use notifier_core::{Envelope, Event, EventSet, FailureKind, Notifier, Outcome};
use notifier_test_support::{Reply, Sink, refused_port};
use serde_json::json;

fn failure(outcome: &Outcome) -> (FailureKind, &str) {
    match outcome {
        Outcome::Failed { kind, reason } => (*kind, reason.as_str()),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn post_carries_the_envelope_bytes_and_headers() {
    let sink = Sink::start();
    let n = Notifier::builder(vec![
        http(&sink.url("/all-post")).header("Authorization", "Bearer abc").header("X-Custom", "yes"),
    ])
    .build();
    let env =
        Envelope::at(Event::ValidateStarted, json!({"title": "t", "z": 1, "a": [1.5, "é"]}), None, 1795561504.49494);
    let report = n.notify_envelope(env.clone());
    assert_eq!(report.channels[0].outcome, Outcome::Delivered { status: Some(200) });
    let reqs = sink.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/all-post"));
    assert_eq!(r.body, env.to_wire_json());
    assert_eq!(
        r.body_text(),
        r#"{"name": "validate-started", "payload": {"title": "t", "z": 1, "a": [1.5, "\u00e9"]}, "phase": "validate", "ts": 1795561504.49494}"#
    );
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(r.header("Authorization"), Some("Bearer abc"));
    assert_eq!(r.header("X-Custom"), Some("yes"));
    assert!(r.header("User-Agent").unwrap().starts_with("notifier/"));
}

#[test]
fn channel_headers_override_the_defaults() {
    let sink = Sink::start();
    let n = Notifier::builder(vec![
        http(&sink.url("/h")).header("Content-Type", "text/plain").header("User-Agent", "custom-ua/1"),
    ])
    .build();
    n.notify(Event::RunStarted, json!(null), None);
    let r = &sink.requests()[0];
    assert_eq!(r.header("Content-Type"), Some("text/plain"));
    assert_eq!(r.header("User-Agent"), Some("custom-ua/1"));
    assert_eq!(r.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("content-type")).count(), 1);
    assert!(r.body_text().starts_with(r#"{"name": "run-started""#), "the JSON body is still sent");
}

#[test]
fn get_has_no_body_and_keeps_the_query() {
    let sink = Sink::start();
    let n = Notifier::builder(vec![http(&sink.url("/q?a=1&b=2")).get()]).build();
    let report = n.notify(Event::RunCompleted, json!({"big": "payload"}), None);
    assert!(matches!(report.channels[0].outcome, Outcome::Delivered { .. }));
    let r = &sink.requests()[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/q?a=1&b=2"));
    assert!(!r.has_body, "{r:?}");
    assert_eq!(r.header("Content-Type"), None);
}

#[test]
fn filters_and_one_timestamp_per_event() {
    let sink = Sink::start();
    let n = Notifier::builder(vec![
        http(&sink.url("/all")),
        http(&sink.url("/filtered")).events(EventSet::of(&[Event::RunFailed, Event::RunDeviated])),
        http(&sink.url("/all-2")),
    ])
    .build();
    let started = n.notify(Event::RunStarted, json!({}), None);
    assert_eq!(started.channels[1].outcome, Outcome::Filtered);
    let failed = n.notify(Event::RunFailed, json!({}), Some(json!("boom")));
    assert!(failed.channels.iter().all(|c| matches!(c.outcome, Outcome::Delivered { .. })));
    let paths: Vec<String> = sink.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/all", "/all-2", "/all", "/filtered", "/all-2"], "file order, filter applied");
    let ts: HashSet<String> = sink.requests()[2..].iter().map(|r| r.json()["ts"].to_string()).collect();
    assert_eq!(ts.len(), 1, "every channel gets the same ts");
    assert_eq!(sink.requests()[3].json()["error"], "boom");
    assert_eq!(n.stats().filtered, 1);
    assert_eq!(n.stats().delivered, 5);
}

#[test]
fn self_signed_certificates_need_verify_tls_false() {
    let sink = Sink::start_tls(|_, _| Reply::ok());
    let n = Notifier::builder(vec![http(&sink.url("/strict")), http(&sink.url("/insecure")).insecure()]).build();
    let report = n.notify(Event::ValidateStarted, json!({}), None);
    let (kind, reason) = failure(&report.channels[0].outcome);
    assert_eq!(kind, FailureKind::Tls, "{reason}");
    assert!(reason.contains("certificate") || reason.contains("Certificate"), "{reason}");
    assert_eq!(report.channels[1].outcome, Outcome::Delivered { status: Some(200) });
    let paths: Vec<String> = sink.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/insecure"]);
}

#[test]
fn a_500_is_reported_with_the_reference_wording_and_the_next_channel_goes_on() {
    let sink = Sink::with(|r, _| if r.path == "/500" { Reply::status(500) } else { Reply::ok() });
    let n = Notifier::builder(vec![http(&sink.url("/500")), http(&sink.url("/after"))]).build();
    let report = n.notify(Event::RunStarted, json!({}), None);
    let (kind, reason) = failure(&report.channels[0].outcome);
    assert_eq!(kind, FailureKind::HttpStatus);
    let url = sink.url("/500");
    assert_eq!(
        reason,
        format!("notification sent to {url} failed with: 500 Server Error: Internal Server Error for url: {url}")
    );
    assert!(matches!(report.channels[1].outcome, Outcome::Delivered { .. }));
    assert_eq!(n.stats().failed, 1);
}

#[test]
fn refused_connections_fail_fast_and_are_reported() {
    let sink = Sink::start();
    let n = Notifier::builder(vec![http(&format!("http://127.0.0.1:{}/x", refused_port())), http(&sink.url("/after"))])
        .build();
    let report = n.notify(Event::RunStarted, json!({}), None);
    let (kind, reason) = failure(&report.channels[0].outcome);
    assert_eq!(kind, FailureKind::Connect, "{reason}");
    assert!(reason.starts_with("failed calling notification endpoint"), "{reason}");
    assert_eq!(sink.requests().len(), 1);
}

#[test]
fn hung_and_trickling_endpoints_cost_at_most_the_channel_timeout() {
    let sink = Sink::with(|r, _| match r.path.as_str() {
        "/hang" => Reply::ok().delay(Duration::from_secs(20)),
        "/trickle" => Reply::ok().body(vec![b'x'; 100]).trickle(Duration::from_millis(200)),
        _ => Reply::ok(),
    });
    let timeout = Duration::from_millis(800);
    let n = Notifier::builder(vec![
        http(&sink.url("/hang")).timeout(timeout),
        http(&sink.url("/trickle")).timeout(timeout),
        http(&sink.url("/after")),
    ])
    .build();
    for event in [Event::RunStarted, Event::RunCompleted] {
        let report = n.notify(event, json!({}), None);
        let (kind, reason) = failure(&report.channels[0].outcome);
        assert_eq!(kind, FailureKind::Timeout, "{reason}");
        // The trickling endpoint answered 200 before its body: delivered, body abandoned.
        assert_eq!(report.channels[1].outcome, Outcome::Delivered { status: Some(200) });
        for c in &report.channels[..2] {
            // Generous margin: the point is "bounded", not a precise figure.
            assert!(c.elapsed < timeout + Duration::from_secs(3), "{c}");
        }
        assert!(matches!(report.channels[2].outcome, Outcome::Delivered { .. }));
    }
    let after: Vec<String> =
        sink.requests().iter().filter(|r| r.path == "/after").map(|r| r.json()["name"].to_string()).collect();
    assert_eq!(after, ["\"run-started\"", "\"run-completed\""], "later events still arrive, in order");
}

#[test]
fn the_event_budget_bounds_the_whole_event() {
    let sink = Sink::with(|_, _| Reply::ok().delay(Duration::from_secs(20)));
    let n = Notifier::builder(
        (0..5).map(|i| http(&sink.url(&format!("/hang{i}"))).timeout(Duration::from_secs(1))).collect(),
    )
    .event_budget(Duration::from_millis(1500))
    .build();
    let started = Instant::now();
    let report = n.notify(Event::RunStarted, json!({}), None);
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
    let budget =
        report.channels.iter().filter(|c| matches!(c.outcome, Outcome::Failed { kind: FailureKind::Budget, .. }));
    assert!(budget.count() >= 3, "{report:#?}");
    assert_eq!(report.failures().count(), 5, "every channel is reported");
}

#[test]
fn connections_are_kept_alive() {
    let sink = Sink::start();
    let n = Notifier::builder(vec![http(&sink.url("/ka"))]).build();
    for _ in 0..20 {
        n.notify(Event::RunStarted, json!({"x": 1}), None);
    }
    let ports: HashSet<u16> = sink.requests().iter().map(|r| r.peer_port).collect();
    assert_eq!(sink.requests().len(), 20);
    // The reference opens one connection per notification (20 here). The pool may open
    // a second one when the first is not back in the pool yet; it never opens many.
    assert!(ports.len() <= 3, "{} connections for 20 notifications", ports.len());
}

#[test]
fn redirects_never_turn_a_post_into_a_get() {
    let sink = Sink::with(|r, _| match r.path.as_str() {
        "/r301" => Reply::status(301).header("Location", "/moved"),
        "/r307" => Reply::status(307).header("Location", "/kept"),
        _ => Reply::ok(),
    });
    let n = Notifier::builder(vec![http(&sink.url("/r301")), http(&sink.url("/r307"))]).build();
    let report = n.notify(Event::RunFailed, json!({"k": "v"}), None);
    let (kind, reason) = failure(&report.channels[0].outcome);
    assert_eq!(kind, FailureKind::Redirect);
    assert!(reason.contains("301") && reason.contains("/moved"), "{reason}");
    assert!(matches!(report.channels[1].outcome, Outcome::Delivered { .. }));
    let seen: Vec<(String, String, usize)> =
        sink.requests().iter().map(|r| (r.method.clone(), r.path.clone(), r.body.len())).collect();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!((seen[2].0.as_str(), seen[2].1.as_str()), ("POST", "/kept"));
    assert_eq!(seen[2].2, seen[1].2, "307 keeps the body");
    assert!(!seen.iter().any(|(m, p, _)| m == "GET" || p == "/moved"));
}

#[test]
fn retries_recover_from_a_500() {
    let sink = Sink::with(|_, i| if i == 0 { Reply::status(500) } else { Reply::ok() });
    let n = Notifier::builder(vec![http(&sink.url("/flaky")).retries(2)]).build();
    let report = n.notify(Event::RunStarted, json!({}), None);
    assert_eq!(report.channels[0].outcome, Outcome::Delivered { status: Some(200) });
    assert_eq!(report.channels[0].attempts, 2);
    assert_eq!(sink.requests().len(), 2);
    let first = &sink.requests()[0];
    let second = &sink.requests()[1];
    assert_eq!(first.body, second.body, "the retry sends the same envelope");
}

#[test]
fn retry_after_is_waited_for() {
    let sink = Sink::with(|_, i| if i == 0 { Reply::status(429).header("Retry-After", "1") } else { Reply::ok() });
    let n = Notifier::builder(vec![http(&sink.url("/limited")).retries(1)]).build();
    let report = n.notify(Event::RunStarted, json!({}), None);
    assert_eq!(report.channels[0].outcome, Outcome::Delivered { status: Some(200) });
    let times: Vec<Instant> = sink.timed_requests().iter().map(|(t, _)| *t).collect();
    assert!(times[1] - times[0] >= Duration::from_millis(900), "waited {:?}", times[1] - times[0]);
}

#[test]
fn retries_give_up_on_a_persistent_503_and_never_retry_a_400() {
    let sink = Sink::with(|r, _| if r.path == "/503" { Reply::status(503) } else { Reply::status(400) });
    let n = Notifier::builder(vec![http(&sink.url("/503")).retries(3), http(&sink.url("/400")).retries(3)]).build();
    let report = n.notify(Event::RunStarted, json!({}), None);
    assert_eq!(report.channels[0].attempts, 4);
    assert_eq!(failure(&report.channels[0].outcome).0, FailureKind::HttpStatus);
    assert_eq!(report.channels[1].attempts, 1);
    let count = |p: &str| sink.requests().iter().filter(|r| r.path == p).count();
    assert_eq!((count("/503"), count("/400")), (4, 1));
}

#[test]
fn secrets_come_from_the_environment_and_never_show() {
    let sink = Sink::start();
    let n = Notifier::builder(vec![
        http(&sink.url("/s?token=${Q}")).header("Authorization", "Bearer ${TOKEN}"),
        http(&format!("http://127.0.0.1:{}/x?token=${{Q}}", refused_port())).header("Authorization", "Bearer ${TOKEN}"),
        http("https://example.invalid/${MISSING}"),
    ])
    .env(|name| match name {
        "TOKEN" => Some("s3cr3t-t0ken".into()),
        "Q" => Some("qu3ry-s3cr3t".into()),
        _ => None,
    })
    .build();
    let report = n.notify(Event::RunStarted, json!({}), None);
    let r = &sink.requests()[0];
    assert_eq!(r.header("Authorization"), Some("Bearer s3cr3t-t0ken"));
    assert_eq!(r.path, "/s?token=qu3ry-s3cr3t");
    let Outcome::Skipped { reason } = &report.channels[2].outcome else {
        panic!("a channel with an unset variable is skipped: {:?}", report.channels[2])
    };
    assert!(reason.contains("`MISSING` is not set"), "{reason}");
    assert_eq!(n.stats().skipped, 1);
    let shown = format!("{report:?} {}", report.channels.iter().map(|c| c.to_string()).collect::<String>());
    let described: String =
        n.describe(&Envelope::new(Event::RunStarted, json!({}), None)).into_iter().map(|(_, s)| s).collect();
    for text in [&shown, &described] {
        assert!(!text.contains("s3cr3t"), "secret leaked:\n{text}");
    }
    assert!(described.contains("authorization: ***"), "{described}");
}

#[test]
fn redirects_never_leave_the_origin() {
    let other = Sink::start();
    let target = other.url("/elsewhere");
    let sink = Sink::with(move |r, _| match r.path.as_str() {
        "/post-307" | "/get-302" => {
            Reply::status(if r.method == "GET" { 302 } else { 307 }).header("Location", &target)
        }
        "/get-same" => Reply::status(302).header("Location", "/landed"),
        _ => Reply::ok(),
    });
    let n = Notifier::builder(vec![
        http(&sink.url("/post-307")).header("X-Api-Key", "k3y-value"),
        http(&sink.url("/get-302")).get().header("X-Api-Key", "k3y-value"),
        http(&sink.url("/get-same")).get(),
    ])
    .build();
    let report = n.notify(Event::RunStarted, json!({}), None);
    for c in &report.channels[..2] {
        let (kind, reason) = failure(&c.outcome);
        assert_eq!(kind, FailureKind::Redirect, "{reason}");
        assert!(reason.contains("leads to another host"), "{reason}");
    }
    assert!(matches!(report.channels[2].outcome, Outcome::Delivered { .. }), "same-origin GET redirects are followed");
    assert!(other.requests().is_empty(), "nothing reached the other host: {:?}", other.requests());
    assert!(sink.requests().iter().any(|r| r.path == "/landed"));
}
