//! Hostile input at run time: header names and values that would inject or break HTTP
//! requests, payloads that are huge, nested 100 000 levels deep or hold non-finite
//! floats, and endpoints whose responses are enormous, never end, or never finish
//! their headers. Nothing panics, nothing overflows the stack, every delivery ends
//! within its budget, and no more than a small cap of any response is read.
//!
//! Settings files with alias bombs and deep nesting are refused by the settings
//! compiler: see `schema/tests/diagnostics.rs` (`billion_laughs_is_refused`,
//! `deep_block_nesting_is_refused`, `deep_flow_nesting_is_refused`)
//! and `tests/check_cli.rs` (`an_alias_bomb_is_refused`, `deeply_nested_values_are_refused`);
//! CR/LF and invalid header names in settings files: `schema/tests/diagnostics.rs`
//! (`header-injection`, `invalid-header-name`) and `tests/hostile.rs` (the CLI).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{DefExt, http, plugin};
use notifier_core::wire::{MAX_DEPTH, TOO_DEEP, drop_iteratively};
use notifier_core::{Envelope, Event, FailureKind, Notifier, Outcome, PluginConfig, PluginError};
use notifier_test_support::Sink;
use serde_json::{Map, Value, json};

fn failure(outcome: &Outcome) -> (FailureKind, &str) {
    match outcome {
        Outcome::Failed { kind, reason } => (*kind, reason.as_str()),
        other => panic!("expected a failure, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Headers.
// ---------------------------------------------------------------------------------------

#[test]
fn header_injection_and_invalid_names_disable_the_channel() {
    let sink = Sink::start();
    let env = |name: &str| match name {
        "CRLF" => Some("ok\r\nX-Injected: yes".to_owned()),
        "LF" => Some("ok\nX-Injected: yes".to_owned()),
        "NUL" => Some("ok\0".to_owned()),
        _ => None,
    };
    let channels = vec![
        http(&sink.url("/crlf-var")).header("X-Tag", "${CRLF}"),
        http(&sink.url("/lf-var")).header("X-Tag", "${LF}"),
        http(&sink.url("/nul-var")).header("X-Tag", "${NUL}"),
        http(&sink.url("/crlf-literal")).header("X-Tag", "a\r\nX-Injected: yes"),
        http(&sink.url("/crlf-default")).header("X-Tag", "${UNSET:-a\r\nX-Injected: yes}"),
        http(&sink.url("/space-name")).header("Bad Name", "v"),
        http(&sink.url("/colon-name")).header("X-A:B", "v"),
        http(&sink.url("/crlf-name")).header("X-A\r\nX-Injected", "v"),
        http(&sink.url("/empty-name")).header("", "v"),
        http(&sink.url("/fine")).header("X-Tag", "fine"),
    ];
    let n = Notifier::builder(channels).env(env).build();
    let report = n.notify(Event::RunStarted, json!({}), None);
    let (bad, fine) = report.channels.split_at(9);
    for c in bad {
        let Outcome::Skipped { reason } = &c.outcome else { panic!("an unusable header skips the channel: {c}") };
        assert!(reason.contains("is not a valid HTTP header"), "{reason}");
    }
    assert_eq!(fine[0].outcome, Outcome::Delivered { status: Some(200) });
    let reqs = sink.requests();
    assert_eq!(reqs.len(), 1, "only the valid channel sent anything: {reqs:?}");
    assert!(reqs.iter().all(|r| r.header("X-Injected").is_none()));
}

// ---------------------------------------------------------------------------------------
// Payloads.
// ---------------------------------------------------------------------------------------

/// `{"k": [{"k": […]}]}` nested `depth` levels, built without recursion (`json!` with a
/// value inside serialises it, recursively).
fn nested(depth: usize) -> Value {
    let mut v = Value::String("bottom".into());
    for i in 0..depth {
        v = if i % 2 == 0 { Value::Array(vec![v]) } else { Value::Object(Map::from_iter([("k".to_owned(), v)])) };
    }
    v
}

/// Depth of arrays and objects, without recursion.
fn depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(v, 1)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|c| (c, d + 1))),
            Value::Object(map) => stack.extend(map.values().map(|c| (c, d + 1))),
            _ => continue,
        }
        max = max.max(d);
    }
    max
}

static PLUGIN_SAW: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());

/// Looks at the envelope the way a plugin would: as a value and through `Debug`.
fn inspecting(_: &PluginConfig, envelope: &Envelope) -> Result<(), PluginError> {
    let value = envelope.to_value();
    let _ = format!("{envelope:?}");
    PLUGIN_SAW.lock().unwrap().push(depth(&value));
    Ok(())
}

#[test]
fn a_payload_nested_100_000_levels_deep_is_delivered_bounded() {
    let sink = Sink::start();
    // The whole test runs on a thread with the default 2 MiB stack (a tokio worker's).
    let sink_url = sink.url("/deep");
    let report = thread::spawn(move || {
        let n = Notifier::builder(vec![
            http(&sink_url),
            plugin("acme.inspect", json!({}), inspecting),
            plugin("notifier.jsonl", json!({"path": std::env::temp_dir().join("notifier-deep.jsonl")}), |c, e| {
                notifier_core::plugins::jsonl::notify(c, e)
            }),
        ])
        .build();
        let payload = nested(100_000);
        let error = nested(100_000);
        let report = n.notify(Event::RunFailed, payload, Some(error));
        // The same through background mode, where the envelope is dropped by a worker.
        let bg = Notifier::builder(vec![plugin("acme.inspect", json!({}), inspecting)]).background(true).build();
        bg.notify(Event::RunDeviated, nested(100_000), None);
        assert_eq!(bg.flush(Duration::from_secs(10)).completed.len(), 1);
        report
    })
    .join()
    .expect("no stack overflow, no panic");
    assert!(report.channels.iter().all(|c| !c.is_failure()), "{report:?}");
    let body = &sink.requests()[0].body;
    let envelope: Value = serde_json::from_slice(body).expect("serde_json's default parser reads the body");
    assert_eq!(depth(&envelope["payload"]), MAX_DEPTH);
    assert_eq!(depth(&envelope), MAX_DEPTH + 1);
    assert!(String::from_utf8_lossy(body).contains(TOO_DEEP));
    assert!(!String::from_utf8_lossy(body).contains("bottom"));
    assert_eq!(*PLUGIN_SAW.lock().unwrap(), [MAX_DEPTH + 1, MAX_DEPTH + 1]);
    drop_iteratively(envelope);
    let _ = std::fs::remove_file(std::env::temp_dir().join("notifier-deep.jsonl"));
}

#[test]
fn a_20_mb_string_is_delivered_intact() {
    let sink = Sink::start();
    let big = "x\u{e9}\"\n".repeat(5 * 1024 * 1024);
    let n = Notifier::builder(vec![http(&sink.url("/big")).timeout(Duration::from_secs(30))])
        .event_budget(Duration::from_secs(60))
        .build();
    let report = n.notify(Event::RunCompleted, json!({ "log": big }), None);
    assert_eq!(report.channels[0].outcome, Outcome::Delivered { status: Some(200) });
    let r = &sink.requests()[0];
    // 25 MiB of text; ensure_ascii: é → \u00e9, " → \", newline → \n: 11 bytes per 4 characters.
    assert!(big.len() > 20_000_000);
    assert!(r.body.len() > 11 * 5 * 1024 * 1024, "{}", r.body.len());
    assert_eq!(r.json()["payload"]["log"].as_str(), Some(big.as_str()));
    // The dry run of the same event, with a secret to look for in the body.
    let n = Notifier::builder(vec![http(&sink.url("/big")).header("Authorization", "${T}")])
        .env(|_| Some("never-in-the-body".into()))
        .build();
    let shown = n.describe(&Envelope::new(Event::RunCompleted, json!({ "log": big }), None));
    assert!(shown[0].1.len() > 11 * 5 * 1024 * 1024);
}

#[test]
fn non_finite_floats_never_break_the_json() {
    let sink = Sink::start();
    let n = Notifier::builder(vec![http(&sink.url("/nan"))]).build();
    let payload = json!({"nan": f64::NAN, "inf": f64::INFINITY, "list": [f64::NEG_INFINITY, 1.5]});
    n.notify_envelope(Envelope::at(Event::RunStarted, payload, None, f64::NAN));
    n.notify_envelope(Envelope::at(Event::RunStarted, json!(f64::INFINITY), None, f64::INFINITY));
    let reqs = sink.requests();
    assert_eq!(
        reqs[0].body_text(),
        r#"{"name": "run-started", "payload": {"nan": null, "inf": null, "list": [null, 1.5]}, "phase": "run", "ts": null}"#
    );
    assert_eq!(reqs[1].body_text(), r#"{"name": "run-started", "payload": null, "phase": "run", "ts": null}"#);
    for r in reqs {
        serde_json::from_slice::<Value>(&r.body).expect("valid JSON");
    }
}

// ---------------------------------------------------------------------------------------
// Responses.
// ---------------------------------------------------------------------------------------

/// What a raw server saw of its one connection.
#[derive(Debug)]
struct Served {
    /// Bytes of the response written before the client went away (or the cap).
    written: usize,
    /// Whether writing failed because the client closed the connection.
    dropped: bool,
}

/// Most a raw server writes before giving up (it stops by itself in any case).
const SERVER_CAP: usize = 1 << 30;

/// A one-connection HTTP server on 127.0.0.1 that reads one request, writes `head`,
/// then `chunk` over and over until the client closes the connection, `SERVER_CAP`
/// bytes or 30 seconds.
fn endless_server(head: &'static str, chunk: Vec<u8>) -> (String, mpsc::Receiver<Served>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        let Ok((stream, _)) = listener.accept() else { return };
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
        read_request(&stream);
        let _ = tx.send(serve_endless(stream, head, &chunk));
    });
    (url, rx)
}

fn read_request(stream: &TcpStream) {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
}

fn serve_endless(mut stream: TcpStream, head: &str, chunk: &[u8]) -> Served {
    let started = Instant::now();
    if stream.write_all(head.as_bytes()).is_err() {
        return Served { written: 0, dropped: true };
    }
    let mut written = head.len();
    while written < SERVER_CAP && started.elapsed() < Duration::from_secs(30) {
        match stream.write_all(chunk) {
            Ok(()) => written += chunk.len(),
            Err(_) => return Served { written, dropped: true },
        }
    }
    Served { written, dropped: false }
}

/// A chunk of a chunked body: 16 KiB of `x`.
fn http_chunk() -> Vec<u8> {
    let mut chunk = b"4000\r\n".to_vec();
    chunk.extend(std::iter::repeat_n(b'x', 0x4000));
    chunk.extend_from_slice(b"\r\n");
    chunk
}

#[track_caller]
fn assert_cut_off(served: Served) {
    assert!(served.dropped, "the client closed the connection: {served:?}");
    // Only the kernel's socket buffers can hold more than the 64 KiB we read.
    assert!(served.written < 64 * 1024 * 1024, "{served:?}");
}

#[test]
fn a_never_ending_chunked_body_is_cut_off_and_the_connection_dropped() {
    for (status, head) in [
        (200, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
        (500, "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ] {
        let (url, served) = endless_server(head, http_chunk());
        let n = Notifier::builder(vec![http(&format!("{url}/endless")).timeout(Duration::from_secs(20))]).build();
        let report = n.notify(Event::RunStarted, json!({}), None);
        let outcome = &report.channels[0].outcome;
        if status == 200 {
            assert_eq!(*outcome, Outcome::Delivered { status: Some(200) }, "not a timeout: the body is cut off");
        } else {
            assert_eq!(failure(outcome).0, FailureKind::HttpStatus, "{outcome:?}");
        }
        assert_cut_off(served.recv_timeout(Duration::from_secs(60)).expect("the server finished"));
    }
}

#[test]
fn an_enormous_content_length_is_not_read() {
    let (url, served) =
        endless_server("HTTP/1.1 200 OK\r\nContent-Length: 107374182400\r\n\r\n", vec![b'y'; 64 * 1024]);
    let n = Notifier::builder(vec![http(&url).timeout(Duration::from_secs(20))]).build();
    let report = n.notify(Event::RunStarted, json!({}), None);
    assert_eq!(report.channels[0].outcome, Outcome::Delivered { status: Some(200) });
    assert_cut_off(served.recv_timeout(Duration::from_secs(60)).expect("the server finished"));
}

#[test]
fn never_ending_headers_fail_within_the_timeout() {
    // A header line that never ends, then more headers forever.
    let (url, served) = endless_server("HTTP/1.1 200 OK\r\n", b"X-Padding: aaaaaaaaaaaaaaaa\r\n".repeat(512));
    let n = Notifier::builder(vec![http(&url).timeout(Duration::from_secs(5))]).build();
    let report = n.notify(Event::RunStarted, json!({}), None);
    let (kind, reason) = failure(&report.channels[0].outcome);
    assert!(matches!(kind, FailureKind::Transport | FailureKind::Timeout), "{kind:?}: {reason}");
    assert_cut_off(served.recv_timeout(Duration::from_secs(60)).expect("the server finished"));
}

#[test]
fn a_plugin_posting_to_an_endless_endpoint_reads_a_small_cap() {
    let (url, served) = endless_server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", http_chunk());
    let n = Notifier::builder(vec![plugin(
        "chaosslack.notification",
        json!({"token": "xoxb-test", "channel": "c", "base_url": format!("{url}/api/"), "timeout": 10}),
        notifier_core::plugins::slack::notify,
    )])
    .build();
    let report = n.notify(Event::RunFailed, json!({}), None);
    let (kind, reason) = failure(&report.channels[0].outcome);
    assert_eq!(kind, FailureKind::Plugin, "{reason}");
    assert!(reason.contains("not JSON"), "{reason}");
    assert_cut_off(served.recv_timeout(Duration::from_secs(60)).expect("the server finished"));
}
