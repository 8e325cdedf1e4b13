//! The run-time loader: Chaos Toolkit's leniency (missing, empty or unparsable settings
//! mean no notifications, a broken channel is skipped alone, never a crash, and the log
//! says why) and the strict variant's errors.

use notifier::schema::Code;
use notifier::{FromSettings, LoadError, Notifier, PluginRegistry};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write settings");
    path
}

#[test]
fn missing_empty_and_invalid_files_mean_no_channels() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(Notifier::from_settings_file(dir.path().join("nope.yaml")).is_empty());
    assert!(Notifier::from_settings_file(write(&dir, "empty.yaml", "")).is_empty());
    assert!(Notifier::from_settings_file(write(&dir, "comments.yaml", "# nothing\n")).is_empty());
    assert!(Notifier::from_settings_file(write(&dir, "null.yaml", "notifications: null\n")).is_empty());
    let not_a_list = write(&dir, "mapping.yaml", "notifications:\n  type: http\n  url: https://a.example/x\n");
    assert!(Notifier::from_settings_file(&not_a_list).is_empty());
    assert!(Notifier::from_settings_file(write(&dir, "list.yaml", "- a\n- b\n")).is_empty());
    assert!(Notifier::from_settings_file(dir.path()).is_empty(), "a directory is not a crash either");
}

#[test]
fn a_broken_channel_is_skipped_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = write(
        &dir,
        "broken.yaml",
        "notifications:\n  - type: http\n    events: run-failed\n  - type: http\n    url: https://a.example/x\n",
    );
    let n = Notifier::from_settings_file(&broken);
    let kinds: Vec<bool> = n.channels().map(|c| matches!(c.kind, notifier::ChannelKind::Skipped(_))).collect();
    assert_eq!(kinds, [true, false], "the channel without a url is skipped, its neighbour is not");
    let reasons: Vec<String> = n
        .channels()
        .filter_map(|c| match &c.kind {
            notifier::ChannelKind::Skipped(s) => Some(format!("{}:{} {}", c.origin.line, c.origin.column, s.reason)),
            _ => None,
        })
        .collect();
    assert_eq!(reasons.len(), 1);
    assert!(reasons[0].starts_with("2:5 ") && reasons[0].contains("url"), "{reasons:?}");
}

#[test]
fn valid_files_load_their_channels_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        &dir,
        "ok.yaml",
        "controls: {x: 1}\nnotifications:\n  - type: http\n    url: https://a.example/x\n  - type: plugin\n    module: notifier.jsonl\n    path: '-'\n",
    );
    let n = Notifier::from_settings_file(&path);
    let labels: Vec<String> = n.channels().map(|c| c.label()).collect();
    assert_eq!(labels, ["http POST https://a.example/x", "plugin notifier.jsonl.notify"]);
}

#[test]
fn strict_loading_reports_every_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = write(&dir, "broken.yaml", "notifications:\n  - type: htttp\n  - type: plugin\n");
    match Notifier::try_from_settings_file(&broken, &PluginRegistry::new()) {
        Err(LoadError::Invalid { diagnostics, .. }) => {
            let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).map(|d| (d.line, d.code)).collect();
            assert_eq!(errors, [(2, Code::UnknownType), (3, Code::MissingModule)]);
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let unknown = write(&dir, "unknown.yaml", "notifications:\n  - type: plugin\n    module: acme.hooks\n");
    let Err(err) = Notifier::try_from_settings_file(&unknown, &PluginRegistry::new()) else {
        panic!("an unknown plugin must be an error")
    };
    let text = err.to_string();
    assert!(
        text.contains("unknown.yaml:2:5: plugin module `acme.hooks` (function `notify`) is not mapped to Rust"),
        "{text}"
    );
    // Registering the module fixes it.
    let mut registry = PluginRegistry::new();
    registry.register("acme.hooks", "notify", |_, _| Ok(()));
    assert_eq!(Notifier::try_from_settings_file(&unknown, &registry).expect("loads").len(), 1);
    assert!(matches!(
        Notifier::try_from_settings_file(dir.path().join("nope.yaml"), &registry),
        Err(LoadError::Read(_))
    ));
}

/// Log lines written while `f` runs on this thread, at every level, as text.
fn logs_of(f: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = buffer.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn the_lenient_loader_says_why_in_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mapping = write(&dir, "mapping.yaml", "notifications:\n  type: http\n  url: https://a.example/x\n");
    let logs = logs_of(|| assert!(Notifier::from_settings_file(&mapping).is_empty()));
    let line = logs.lines().find(|l| l.contains("ERROR")).unwrap_or_else(|| panic!("no ERROR line:\n{logs}"));
    assert!(line.contains("notifications are disabled"), "{line}");
    assert!(logs.contains("mapping.yaml:2:3: error: `notifications` must be a list"), "{logs}");

    let broken = write(&dir, "one-broken.yaml", "notifications:\n  - type: htp\n    url: https://a.example/x\n");
    let logs = logs_of(|| assert_eq!(Notifier::from_settings_file(&broken).len(), 1));
    let line = logs.lines().find(|l| l.contains("WARN")).unwrap_or_else(|| panic!("no WARN line:\n{logs}"));
    assert!(line.contains("one-broken.yaml:2:5: notification channel #1") && line.contains("is skipped"), "{line}");

    let missing = dir.path().join("absent.yaml");
    let logs = logs_of(|| assert!(Notifier::from_settings_file(&missing).is_empty()));
    assert!(!logs.contains("ERROR") && logs.contains("could not be found"), "a missing file is not an error:\n{logs}");
}
