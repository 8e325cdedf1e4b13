//! A plugin `func` that is a Rust keyword (`type`) compiles in `settings!` (the generated
//! code names it `r#type`) and is called; `notifier codegen` prints code that parses.
//! (The words Rust cannot name even as raw identifiers are errors: `tests/ui/reserved_func.rs`.)

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use notifier::{Envelope, Event, PluginConfig, PluginError};
use serde_json::json;

static CALLS: AtomicUsize = AtomicUsize::new(0);

mod hooks {
    use super::*;

    pub fn r#type(config: &PluginConfig, _envelope: &Envelope) -> Result<(), PluginError> {
        assert_eq!(config.get_str("func"), Some("type"));
        CALLS.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

notifier::settings! {
    mod keyword {
        path: "tests/settings/keyword_func.yaml",
        plugins: { "acme.hooks" => crate::hooks },
    }
}

#[test]
fn a_keyword_func_is_called_through_a_raw_identifier() {
    let report = keyword::notify(Event::RunStarted, json!({}), None);
    assert_eq!(report.failures().count(), 0, "{report:?}");
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
}

#[test]
fn codegen_prints_code_that_parses() {
    let out = Command::new(env!("CARGO_BIN_EXE_notifier"))
        .args(["codegen", "tests/settings/keyword_func.yaml", "--plugin", "acme.hooks=crate::hooks"])
        .output()
        .expect("run notifier codegen");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("__plugins::keyword_func_yaml_line_3_col_5::r#type"), "{stdout}");
}
