//! The SQLite store on its own: records, marks, caps (delivered entries pruned first,
//! then new records refused), claims that exclude each other, and files SQLite refuses.

use notifier_core::Event;
use notifier_core::outbox::{ChannelRef, Outbox, OutboxOp, OutboxRecord};
use notifier_outbox::{Filter, Limits, SqliteOutbox, State};

fn record(id: &str, lease: Option<f64>) -> OutboxOp {
    OutboxOp::Record(OutboxRecord {
        id: id.into(),
        message_id: format!("msg_{id}"),
        event: Event::RunFailed,
        envelope: bytes(id),
        channel: ChannelRef {
            file: "settings.yaml".into(),
            index: 0,
            label: "http POST x".into(),
            fingerprint: "f".into(),
        },
        created: 1.0,
        lease_secs: lease,
        failed: None,
        attempts: 0,
    })
}

fn bytes(id: &str) -> bytes::Bytes {
    bytes::Bytes::from(format!(r#"{{"name": "run-failed", "payload": "{id}", "phase": "run", "ts": 1.0}}"#))
}

fn ids(store: &SqliteOutbox, all: bool) -> Vec<String> {
    store.list(&Filter::default(), all).unwrap().into_iter().map(|e| e.id).collect()
}

#[test]
fn delivered_entries_are_pruned_first_then_new_records_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteOutbox::open(dir.path().join("o.sqlite3"))
        .unwrap()
        .with_limits(Limits { max_entries: 3, max_bytes: 1 << 20 });
    let w = store.write(&[record("a", None), record("b", None), record("c", None)]).unwrap();
    assert_eq!(w.refused, 0);
    store.write(&[OutboxOp::Delivered { id: "a".into(), attempts: 1 }]).unwrap();
    // `d` takes the delivered `a`'s place; `e` finds only pending entries: refused.
    let w = store.write(&[record("d", None), record("e", None)]).unwrap();
    assert_eq!(w.refused, 1);
    assert_eq!(ids(&store, true), ["b", "c", "d"]);
    let bytes_cap = SqliteOutbox::open(dir.path().join("b.sqlite3"))
        .unwrap()
        .with_limits(Limits { max_entries: 100, max_bytes: 100 });
    assert_eq!(bytes_cap.write(&[record("x", None), record("y", None)]).unwrap().refused, 1);
}

#[test]
fn marks_and_claims() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("o.sqlite3");
    let store = SqliteOutbox::open(&path).unwrap();
    // `live` is being attempted by this (live) process; `free` failed and waits.
    store.write(&[record("live", Some(60.0)), record("free", None)]).unwrap();
    store.write(&[OutboxOp::Failed { id: "free".into(), reason: "500".into(), attempts: 1 }]).unwrap();
    let other = SqliteOutbox::open(&path).unwrap();
    let claimed: Vec<String> = other.claim(&Filter::default()).unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(claimed, ["free"]);
    // Claimed by a live process: a second claim gets nothing.
    assert!(store.claim(&Filter::default()).unwrap().iter().all(|e| e.id != "free"));
    other.mark_delivered("free", 1).unwrap();
    let entries = store.list(&Filter::default(), true).unwrap();
    let free = entries.iter().find(|e| e.id == "free").unwrap();
    assert_eq!((free.state, free.attempts, free.last_error.as_deref()), (State::Delivered, 2, None));
    assert_eq!(store.drop_where(false).unwrap(), 1);
    assert_eq!(store.drop_ids(&["live".into(), "nope".into()]).unwrap(), 1);
    assert!(ids(&store, true).is_empty());
}

#[test]
fn a_file_that_is_not_a_database_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("o.sqlite3");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let err = SqliteOutbox::open(&path).unwrap_err();
    assert!(err.to_string().contains("o.sqlite3"), "{err}");
}

#[cfg(unix)]
#[test]
fn the_directory_is_private_and_the_file_too() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/notifier/outbox.sqlite3");
    SqliteOutbox::open(&path).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(mode(&path), 0o600);
}
