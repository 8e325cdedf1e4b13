//! `notifier.jsonl`: appends each event to a JSON-lines file.
//!
//! ```yaml
//! notifications:
//!   - type: plugin
//!     module: notifier.jsonl
//!     path: events.jsonl      # `-` writes to standard output
//! ```
//!
//! Each line holds exactly the bytes an HTTP channel would POST (the envelope as
//! chaostoolkit-lib encodes it), so the file shows what endpoints receive.

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::Mutex;

use crate::envelope::Envelope;
use crate::plugin::{PluginConfig, PluginError};

/// Serialises writers so that lines from concurrent channels never interleave.
static WRITE: Mutex<()> = Mutex::new(());

/// The plugin function.
pub fn notify(config: &PluginConfig, envelope: &Envelope) -> Result<(), PluginError> {
    let path = config.get_str("path").ok_or_else(|| PluginError::Config("`path` is required".into()))?;
    let mut line = envelope.to_wire_json();
    line.push(b'\n');
    let _guard = WRITE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if path == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(&line).and_then(|()| out.flush()).map_err(|e| PluginError::failed(format!("stdout: {e}")))
    } else {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| PluginError::failed(format!("cannot open {path}: {e}")))?;
        file.write_all(&line).map_err(|e| PluginError::failed(format!("cannot write {path}: {e}")))
    }
}
