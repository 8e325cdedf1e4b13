//! Python plugin channels (feature `python`): plugins with no Rust function, called in the
//! user's own Python interpreter through one `notifier_python::Bridge` per notifier, the way
//! chaostoolkit-lib 1.45.1 calls them: `func(channel, event)` with the settings entry as
//! written and the envelope as a dict (an error rendered as an exception object).
//!
//! The helper process starts when the notifier is built, and only if a channel needs it:
//! each Python module is imported once then, so a module that cannot be imported skips its
//! channels at once, with a warning, instead of failing every event. A call past the
//! channel's `timeout` kills the helper (the next call starts a new one), so a hung plugin
//! costs its budget, never a thread.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use notifier_python::{Bridge, BridgeError, CallOptions, ImportFailure, PluginEvent, PluginFailure};

use crate::envelope::Envelope;
use crate::plugin::PluginConfig;
use crate::report::{FailureKind, Outcome};

use super::channel::{Channel, Ready};

/// Starts the bridge if a channel is a Python plugin, imports each module once, and
/// disables the channels whose module cannot be imported (or when no interpreter is found).
/// `None` when no channel needs Python: no interpreter is started.
pub(super) fn prepare(channels: &mut [Channel], interpreter: Option<&Path>) -> Option<Arc<Bridge>> {
    let python: Vec<usize> =
        channels.iter().filter(|c| matches!(c.ready, Ok(Ready::Python { .. }))).map(|c| c.index).collect();
    if python.is_empty() {
        return None;
    }
    let bridge = Arc::new(Bridge::builder().discover(interpreter).build());
    let mut imported: Vec<(String, Result<(), String>)> = Vec::new();
    for index in python {
        let channel = &mut channels[index];
        let crate::ChannelKind::Python(def) = &channel.def.kind else { continue };
        let module = def.module.to_string();
        let known = imported.iter().find(|(m, _)| *m == module).map(|(_, r)| r.clone());
        let result = known.unwrap_or_else(|| {
            let result = import(&bridge, &module, channel.def.timeout);
            imported.push((module, result.clone()));
            result
        });
        if let Err(reason) = result {
            channel.disable(reason);
        }
    }
    Some(bridge)
}

/// Imports `module` in the helper, within `budget`; the reason it cannot be used otherwise.
fn import(bridge: &Bridge, module: &str, budget: Duration) -> Result<(), String> {
    match bridge.import_module(module, CallOptions::new().budget(budget)) {
        Ok(Ok(_)) => Ok(()),
        // chaostoolkit-lib's own DEBUG message for this case.
        Ok(Err(ImportFailure::NotFound { detail, .. })) => {
            tracing::debug!(target: "chaostoolkit", "could not find Python plugin '{module}' for notification");
            Err(format!("could not find Python plugin '{module}' for notification ({detail})"))
        }
        Ok(Err(other)) => Err(other.to_string()),
        Err(BridgeError::NoPython(no_python)) => {
            Err(format!("a Python plugin needs a Python interpreter: {no_python}"))
        }
        Err(other) => Err(format!("the Python interpreter could not import `{module}`: {other}")),
    }
}

/// Calls the plugin of a Python channel for one envelope (a blocking call: the caller
/// runs it on the blocking pool) and says what became of it.
pub(super) fn call(bridge: &Bridge, entry: &PluginConfig, env: &Envelope, name: &str, budget: Duration) -> Outcome {
    let event = PluginEvent {
        name: env.name(),
        phase: env.phase().as_str(),
        payload: &env.payload,
        ts: env.ts,
        error: env.error.as_ref(),
    };
    // On a Python thread of its own: channels of a background notifier call at once.
    let options = CallOptions::new().budget(budget).background(true);
    let failed = |kind, reason: String| Outcome::Failed { kind, reason: entry.redact(&reason) };
    match bridge.notify_plugin(entry.entry(), &event, options) {
        Ok(Ok(())) => Outcome::Delivered { status: None },
        // The module or function went away since the notifier was built: the reference's
        // DEBUG messages, and the channel cannot be used.
        Ok(Err(PluginFailure::ModuleNotFound { message } | PluginFailure::FunctionNotFound { message })) => {
            Outcome::Skipped { reason: message }
        }
        Ok(Err(PluginFailure::Raised(e))) => {
            tracing::debug!(target: "chaostoolkit", "failed calling notification plugin\n{}", entry.redact(&e.traceback_text()));
            failed(FailureKind::Plugin, format!("failed calling notification plugin {name}: {e}"))
        }
        Ok(Err(other)) => failed(FailureKind::Plugin, format!("notification plugin {name}: {other}")),
        Err(BridgeError::Timeout { .. }) => failed(
            FailureKind::Timeout,
            format!(
                "notification plugin {name} did not return within {:.1} s; its Python helper was stopped and the flow went on",
                budget.as_secs_f64()
            ),
        ),
        Err(other) => failed(FailureKind::Plugin, format!("notification plugin {name}: {other}")),
    }
}
