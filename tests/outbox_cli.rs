//! The outbox end to end, through real processes of the binary, a real SQLite file and
//! real HTTP servers on 127.0.0.1: an endpoint down for a whole run, then replayed;
//! `send --background` killed with SIGKILL at many instants; two `send`s and a `replay`
//! at once; a corrupt database; `--no-outbox`.
//!
//! Channel URLs are `http://${SINK}/…`: the endpoint "comes back" by setting `SINK` to
//! a live server for the replay, which resolves `${VAR}` again from its environment
//! (the fingerprint is of the definition as written, so the channel is the same).
//! Signing channels send the event's message id as `webhook-id`, which tells copies of
//! one notification apart from different notifications.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use notifier_test_support::{Recorded, Reply, Sink, refused_port};
use serde_json::Value;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A settings file of `paths.len()` signing http channels at `http://${SINK}/PATH`.
fn settings(dir: &Path, paths: &[&str]) -> PathBuf {
    let mut text = String::from("notifications:\n");
    for p in paths {
        text.push_str(&format!(
            "  - type: http\n    url: http://${{SINK}}/{p}\n    signing_secret: {SECRET}\n    timeout: 3\n"
        ));
    }
    let path = dir.join("settings.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn command(dir: &Path, sink: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_notifier"));
    cmd.args(["--settings", dir.join("settings.yaml").to_str().unwrap(), "--no-log-file"])
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("XDG_STATE_HOME")
        .env_remove("NOTIFIER_OUTBOX")
        .env_remove("RUST_LOG")
        .env("SINK", sink)
        .stdin(Stdio::null());
    cmd
}

fn notifier(dir: &Path, sink: &str, args: &[&str]) -> Output {
    command(dir, sink, args).output().expect("run notifier")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn down() -> String {
    format!("127.0.0.1:{}", refused_port())
}

fn up(sink: &Sink) -> String {
    format!("127.0.0.1:{}", sink.port())
}

/// `outbox list --all --format json`.
fn entries(dir: &Path) -> Vec<Value> {
    let out = notifier(dir, "unused", &["outbox", "list", "--all", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().clone()
}

fn pending(dir: &Path) -> Vec<Value> {
    entries(dir).into_iter().filter(|e| e["state"] == "pending").collect()
}

fn outbox_file(dir: &Path) -> PathBuf {
    dir.join(".local/state/notifier/outbox.sqlite3")
}

/// (webhook-id, path) → how many times it was received, and its bodies.
fn received(requests: &[Recorded]) -> BTreeMap<(String, String), Vec<Vec<u8>>> {
    let mut map: BTreeMap<(String, String), Vec<Vec<u8>>> = BTreeMap::new();
    for r in requests {
        let id = r.header("webhook-id").expect("signed request").to_owned();
        map.entry((id, r.path.clone())).or_default().push(r.body.clone());
    }
    map
}

#[test]
fn an_endpoint_down_for_the_whole_run_is_replayed_once_when_it_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    settings(dir.path(), &["a", "b"]);
    let down = down();
    let mut sent = Vec::new();
    for (i, background) in [(0, false), (1, false), (2, true), (3, true)] {
        let payload = format!(r#"{{"n": {i}}}"#);
        let mut args = vec!["send", "run-failed", "--payload", &payload];
        if background {
            args.push("--background");
        }
        let out = notifier(dir.path(), &down, &args);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("failed deliveries are kept in the outbox"), "{stderr}");
        assert!(stderr.contains("`notifier outbox replay` sends them again"), "{stderr}");
        sent.push(i);
    }
    let stored = pending(dir.path());
    assert_eq!(stored.len(), 8, "{stored:#?}");
    let human = notifier(dir.path(), "unused", &["outbox", "list"]);
    let listing = String::from_utf8_lossy(&human.stdout);
    assert!(listing.contains("8 pending notification(s) in"), "{listing}");
    assert!(listing.contains("connection failed") || listing.contains("Connection refused"), "{listing}");
    for e in &stored {
        assert_eq!(e["attempts"], 1, "{e:#}");
        assert!(e["last_error"].as_str().is_some_and(|r| !r.is_empty()), "{e:#}");
        assert_eq!(e["envelope"]["name"], "run-failed");
    }

    // Still down: a replay keeps everything pending.
    let out = notifier(dir.path(), &down, &["outbox", "replay"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(pending(dir.path()).len(), 8);

    // Back up: each is delivered once, with its stored body and message id.
    let sink = Sink::start();
    let dry = notifier(dir.path(), &up(&sink), &["outbox", "replay", "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry));
    assert_eq!(String::from_utf8_lossy(&dry.stdout).matches("would be replayed").count(), 8, "{}", text(&dry));
    assert!(sink.requests().is_empty());
    let out = notifier(dir.path(), &up(&sink), &["outbox", "replay"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("replayed: 8 delivered, 0 still pending"), "{}", text(&out));
    let requests = sink.wait_for(8, Duration::from_secs(5));
    assert_eq!(requests.len(), 8);
    let got = received(&requests);
    assert_eq!(got.len(), 8, "{got:?}");
    for e in &stored {
        let id = e["message_id"].as_str().unwrap().to_owned();
        let path = if e["channel"] == 0 { "/a" } else { "/b" };
        let bodies = &got[&(id, path.to_owned())];
        assert_eq!(bodies.len(), 1);
        let body: Value = serde_json::from_slice(&bodies[0]).unwrap();
        assert_eq!(body, e["envelope"], "the stored envelope is sent as it was");
    }
    let ns: BTreeSet<i64> =
        requests.iter().map(|r| r.json()["payload"]["n"].as_i64().unwrap()).collect::<BTreeSet<_>>();
    assert_eq!(ns, sent.into_iter().collect());
    assert!(pending(dir.path()).is_empty());
    assert_eq!(entries(dir.path()).len(), 8, "delivered entries are kept until pruned or dropped");

    // A second replay sends nothing; dropping the delivered entries empties the outbox.
    let again = notifier(dir.path(), &up(&sink), &["outbox", "replay"]);
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(sink.requests().len(), 8);
    let dropped = notifier(dir.path(), "unused", &["outbox", "drop", "--delivered"]);
    assert!(String::from_utf8_lossy(&dropped.stdout).contains("dropped 8 entries"), "{}", text(&dropped));
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn send_killed_at_any_instant_leaves_every_notification_delivered_or_pending() {
    let dir = tempfile::tempdir().unwrap();
    settings(dir.path(), &["a", "b", "c"]);
    let slow = Arc::new(AtomicBool::new(true));
    let flag = slow.clone();
    let sink = Sink::with(move |_, _| {
        if flag.load(Ordering::SeqCst) { Reply::ok().delay(Duration::from_millis(400)) } else { Reply::ok() }
    });
    let delays = [0u64, 1, 3, 6, 10, 15, 25, 40, 60, 90, 130, 180, 250, 350, 500, 700, 1000];
    for (n, delay) in delays.iter().enumerate() {
        let payload = format!(r#"{{"n": {n}}}"#);
        let mut child = command(dir.path(), &up(&sink), &["send", "run-failed", "--background", "--payload", &payload])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(*delay));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }
    let before = sink.requests().len();
    slow.store(false, Ordering::SeqCst);
    let out = notifier(dir.path(), &up(&sink), &["outbox", "replay"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(pending(dir.path()).is_empty(), "{:#?}", pending(dir.path()));

    // Per event: no channel or all three got it (one event is recorded in one
    // transaction, before any attempt), with one message id, and copies are identical.
    let requests = sink.requests();
    let mut by_n: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    let mut ids: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for r in &requests {
        let n = r.json()["payload"]["n"].as_i64().unwrap();
        by_n.entry(n).or_default().insert(r.path.clone());
        ids.entry(n).or_default().insert(r.header("webhook-id").unwrap().to_owned());
    }
    for (n, paths) in &by_n {
        assert_eq!(paths.len(), 3, "event {n} reached {paths:?} only");
        assert_eq!(ids[n].len(), 1, "event {n} has several message ids: {:?}", ids[n]);
    }
    for ((id, path), bodies) in received(&requests) {
        assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{id} {path}: copies differ");
    }
    // Every event that was recorded (delivered or pending) was delivered in the end.
    for e in entries(dir.path()) {
        assert_eq!(e["state"], "delivered", "{e:#}");
    }
    assert!(!by_n.is_empty(), "no kill came late enough for a notification to exist");
    assert!(requests.len() > before, "the replay delivered what the killed processes had not");
    eprintln!(
        "{} of {} sends reached notify; {} requests before the replay, {} after",
        by_n.len(),
        delays.len(),
        before,
        requests.len()
    );
}

#[test]
fn two_sends_and_a_replay_at_once_lose_nothing_and_send_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    settings(dir.path(), &["a", "b"]);
    // Eight pending entries from a run with the endpoint down.
    for n in 0..4 {
        let payload = format!(r#"{{"n": {n}}}"#);
        let out = notifier(dir.path(), &down(), &["send", "run-failed", "--payload", &payload]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    }
    assert_eq!(pending(dir.path()).len(), 8);
    let sink = Sink::with(|_, _| Reply::ok().delay(Duration::from_millis(50)));
    let addr = up(&sink);
    std::thread::scope(|s| {
        for first in [100, 200] {
            let (dir, addr) = (dir.path(), addr.clone());
            s.spawn(move || {
                for n in first..first + 3 {
                    let payload = format!(r#"{{"n": {n}}}"#);
                    let out = notifier(dir, &addr, &["send", "run-failed", "--background", "--payload", &payload]);
                    assert!(out.status.success(), "{}", text(&out));
                }
            });
        }
        let (dir, addr) = (dir.path(), addr.clone());
        s.spawn(move || {
            let out = notifier(dir, &addr, &["outbox", "replay"]);
            assert!(out.status.success(), "{}", text(&out));
        });
    });
    assert!(pending(dir.path()).is_empty(), "{:#?}", pending(dir.path()));
    let requests = sink.requests();
    let got = received(&requests);
    assert_eq!(requests.len(), 8 + 2 * 3 * 2, "{got:?}");
    for ((id, path), bodies) in &got {
        assert_eq!(bodies.len(), 1, "{id} {path} delivered {} times", bodies.len());
    }
    let ns: BTreeSet<i64> = requests.iter().map(|r| r.json()["payload"]["n"].as_i64().unwrap()).collect();
    assert_eq!(ns, [0, 1, 2, 3, 100, 101, 102, 200, 201, 202].into_iter().collect());
}

#[test]
fn a_corrupt_outbox_never_stops_a_notification() {
    let dir = tempfile::tempdir().unwrap();
    settings(dir.path(), &["a"]);
    let file = outbox_file(dir.path());
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, b"this is not a database, just garbage bytes \x00\x01\x02".repeat(200)).unwrap();
    let sink = Sink::start();
    for background in [false, true] {
        let mut args = vec!["send", "run-started"];
        if background {
            args.push("--background");
        }
        let out = notifier(dir.path(), &up(&sink), &args);
        assert!(out.status.success(), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("warning: outbox unavailable, notifications go on without it"), "{stderr}");
        assert!(stderr.contains("outbox.sqlite3"), "{stderr}");
    }
    assert_eq!(sink.wait_for(2, Duration::from_secs(5)).len(), 2);
    let listed = notifier(dir.path(), "unused", &["outbox", "list"]);
    assert_eq!(listed.status.code(), Some(2), "{}", text(&listed));
}

#[test]
fn no_outbox_and_the_environment_variable_choose_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    settings(dir.path(), &["a"]);
    let down = down();
    let out = notifier(dir.path(), &down, &["send", "run-failed", "--no-outbox"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let off = command(dir.path(), &down, &["send", "run-failed"]).env("NOTIFIER_OUTBOX", "off").output().unwrap();
    assert_eq!(off.status.code(), Some(1), "{}", text(&off));
    assert!(!outbox_file(dir.path()).exists(), "--no-outbox and NOTIFIER_OUTBOX=off write nothing");

    let chosen = dir.path().join("chosen.sqlite3");
    let env = command(dir.path(), &down, &["send", "run-failed"]).env("NOTIFIER_OUTBOX", &chosen).output().unwrap();
    assert_eq!(env.status.code(), Some(1), "{}", text(&env));
    let flag = dir.path().join("flag.sqlite3");
    let out = notifier(dir.path(), &down, &["send", "run-failed", "--outbox", flag.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    for file in [&chosen, &flag] {
        let list = notifier(dir.path(), "unused", &["outbox", "--outbox", file.to_str().unwrap(), "list"]);
        assert!(String::from_utf8_lossy(&list.stdout).contains("1 pending notification(s)"), "{}", text(&list));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&chosen).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // A cap of one entry: the second failure is attempted, not recorded, with a warning.
    let capped = dir.path().join("capped.sqlite3");
    for n in 0..2 {
        let out = command(dir.path(), &down, &["send", "run-failed", "--outbox", capped.to_str().unwrap()])
            .env("NOTIFIER_OUTBOX_MAX_ENTRIES", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.contains("the outbox is full"), n == 1, "{stderr}");
        assert!(stderr.contains("connection failed"), "attempted all the same: {stderr}");
    }

    // --replay-outbox: the pending one goes first, then the new event.
    let sink = Sink::start();
    let out = notifier(
        dir.path(),
        &up(&sink),
        &["send", "run-started", "--outbox", flag.to_str().unwrap(), "--replay-outbox"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let requests = sink.wait_for(2, Duration::from_secs(5));
    let names: Vec<Value> = requests.iter().map(|r| r.json()["name"].clone()).collect();
    assert_eq!(names, ["run-failed", "run-started"]);
}

#[test]
fn a_channel_that_changed_is_reported_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let settings_file = settings(dir.path(), &["a", "b"]);
    let out = notifier(dir.path(), &down(), &["send", "run-failed"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // Channel b moves first (found by its fingerprint); channel a is edited.
    std::fs::write(
        &settings_file,
        format!(
            "notifications:\n  - type: http\n    url: http://${{SINK}}/b\n    signing_secret: {SECRET}\n    timeout: 3\n  \
             - type: http\n    url: http://${{SINK}}/a-edited\n    signing_secret: {SECRET}\n    timeout: 3\n"
        ),
    )
    .unwrap();
    let sink = Sink::start();
    let out = notifier(dir.path(), &up(&sink), &["outbox", "replay"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("changed since the notification was recorded"), "{stdout}");
    let requests = sink.wait_for(1, Duration::from_secs(5));
    assert_eq!(requests.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(), ["/b"]);
    let left = pending(dir.path());
    assert_eq!(left.len(), 1);
    assert!(left[0]["last_error"].as_str().unwrap().contains("changed"), "{left:#?}");
    let id = left[0]["id"].as_str().unwrap();
    let dropped = notifier(dir.path(), "unused", &["outbox", "drop", id]);
    assert!(dropped.status.success(), "{}", text(&dropped));
    assert!(pending(dir.path()).is_empty());
}

/// The library: `NotifierBuilder::outbox` with a full outbox still attempts every
/// notification, warns, and counts what it could not record.
#[test]
fn a_full_outbox_still_attempts_and_counts_what_it_did_not_record() {
    use notifier::outbox::{Limits, SqliteOutbox};
    use notifier::{Event, Notifier, PluginRegistry};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.yaml");
    std::fs::write(&file, format!("notifications:\n  - type: http\n    url: http://{}/x\n", down())).unwrap();
    let store = SqliteOutbox::open(dir.path().join("o.sqlite3"))
        .unwrap()
        .with_limits(Limits { max_entries: 2, max_bytes: 1 << 20 });
    let store = Arc::new(store);
    for background in [false, true] {
        let channels = notifier::load_channels(&file, &PluginRegistry::new()).unwrap().channels;
        let n = Notifier::builder(channels).background(background).outbox(store.clone()).build();
        for _ in 0..3 {
            n.notify(Event::RunFailed, Value::Null, None);
        }
        n.shutdown(Duration::from_secs(5));
        let stats = n.stats();
        assert_eq!(stats.failed, 3, "{stats:?}");
        assert_eq!(stats.unrecorded, if background { 3 } else { 1 }, "{stats:?}");
    }
    assert_eq!(store.list(&Default::default(), true).unwrap().len(), 2);
}

/// `notifier run` keeps its flow events too (sequential and background), and
/// `run --replay-outbox` sends them before its own.
#[test]
fn run_keeps_what_it_could_not_deliver() {
    let dir = tempfile::tempdir().unwrap();
    settings(dir.path(), &["a"]);
    let experiment = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/experiments/local-health.json");
    let experiment = experiment.to_str().unwrap();
    for background in [false, true] {
        let mut args = vec!["run", experiment, "--journal-path", "journal.json"];
        if background {
            args.push("--background");
        }
        let out = notifier(dir.path(), &down(), &args);
        assert!(out.status.success(), "{}", text(&out));
    }
    let events: Vec<Value> = pending(dir.path()).iter().map(|e| e["event"].clone()).collect();
    assert_eq!(events, ["run-started", "run-completed", "run-started", "run-completed"]);
    let sink = Sink::start();
    // Filters: only run-started on channel 1 (by number, then by a part of its label).
    for channel in ["1", "/a"] {
        let out =
            notifier(dir.path(), &up(&sink), &["outbox", "replay", "--event", "run-started", "--channel", channel]);
        assert!(out.status.success(), "{}", text(&out));
    }
    let first: Vec<Value> = sink.wait_for(2, Duration::from_secs(5)).iter().map(|r| r.json()["name"].clone()).collect();
    assert_eq!(first, ["run-started", "run-started"]);
    let out = notifier(dir.path(), &up(&sink), &["outbox", "replay", "--channel", "2"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("replayed: 0 delivered, 0 still pending"), "{}", text(&out));
    let out =
        notifier(dir.path(), &up(&sink), &["run", experiment, "--journal-path", "journal.json", "--replay-outbox"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sink.wait_for(6, Duration::from_secs(10)).len(), 6);
    assert!(pending(dir.path()).is_empty());
}

/// Background mode in the library: what a full queue refused and what the flush cap cut
/// off are all in the outbox, pending (the overflowed ones with their reason).
#[test]
fn overflowed_and_abandoned_notifications_stay_pending() {
    use notifier::outbox::SqliteOutbox;
    use notifier::{Event, Notifier, Outcome, PluginRegistry};
    let sink = Sink::with(|_, _| Reply::ok().delay(Duration::from_secs(3)));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.yaml");
    std::fs::write(&file, format!("notifications:\n  - type: http\n    url: {}\n    timeout: 10\n", sink.url("/x")))
        .unwrap();
    let store = Arc::new(SqliteOutbox::open(dir.path().join("o.sqlite3")).unwrap());
    let channels = notifier::load_channels(&file, &PluginRegistry::new()).unwrap().channels;
    let n = Notifier::builder(channels).background(true).queue_capacity(1).outbox(store.clone()).build();
    let mut overflowed = 0;
    for i in 0..4 {
        let report = n.notify(Event::RunStarted, serde_json::json!({"n": i}), None);
        overflowed += usize::from(matches!(report.channels[0].outcome, Outcome::Failed { .. }));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(overflowed >= 1, "the queue of one overflowed");
    let flushed = n.shutdown(Duration::from_millis(300));
    assert_eq!(flushed.abandoned as usize + overflowed, 4, "{flushed:?}");
    let entries = store.list(&Default::default(), true).unwrap();
    assert_eq!(entries.len(), 4, "{entries:#?}");
    assert!(entries.iter().all(|e| e.state == notifier::outbox::State::Pending));
    let full = entries.iter().filter(|e| e.last_error.as_deref().is_some_and(|r| r.contains("queue is full"))).count();
    assert_eq!(full, overflowed, "{entries:#?}");
}

#[test]
fn a_skipped_channel_is_not_said_to_be_kept() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start();
    // A plugin nothing provides is skipped (never attempted); its neighbour delivers.
    std::fs::write(
        dir.path().join("settings.yaml"),
        "notifications:\n  - type: plugin\n    module: nowhere.notification\n  - type: http\n    url: http://${SINK}/ok\n",
    )
    .unwrap();
    let out = notifier(dir.path(), &up(&sink), &["send", "run-failed", "--payload", "{}"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("skipped"), "{}", text(&out));
    assert!(!stderr.contains("kept in the outbox"), "{}", text(&out));
    assert_eq!(sink.requests().len(), 1, "{}", text(&out));
    assert!(pending(dir.path()).is_empty(), "{}", text(&out));
}
