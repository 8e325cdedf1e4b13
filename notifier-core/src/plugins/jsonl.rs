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

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use crate::envelope::Envelope;
use crate::plugin::{PluginConfig, PluginError};

/// One lock per path, so that lines from concurrent channels writing the same file never
/// interleave, while a write stuck on one path (a FIFO without a reader, a hung network
/// file system) holds up only that path. Bounded by the distinct paths in the settings.
fn path_lock(path: &str) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<String, Arc<Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS.get_or_init(Mutex::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    locks.entry(path.to_owned()).or_default().clone()
}

/// The plugin function.
pub fn notify(config: &PluginConfig, envelope: &Envelope) -> Result<(), PluginError> {
    let path = config.get_str("path").ok_or_else(|| PluginError::Config("`path` is required".into()))?;
    let mut line = envelope.to_wire_json();
    line.push(b'\n');
    if path == "-" {
        // Standard output has its own lock.
        let mut out = std::io::stdout().lock();
        out.write_all(&line).and_then(|()| out.flush()).map_err(|e| PluginError::failed(format!("stdout: {e}")))
    } else {
        let lock = path_lock(path);
        let _guard = lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| PluginError::failed(format!("cannot open {path}: {e}")))?;
        file.write_all(&line).map_err(|e| PluginError::failed(format!("cannot write {path}: {e}")))
    }
}
