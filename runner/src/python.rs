//! The `python` provider, and every call into the user's Python interpreter.
//!
//! One [`Python`] per command wraps one [`Bridge`] (crate `notifier-python`): a helper
//! process running the user's interpreter, started at the **first** call and reused by
//! every later one (validation, activities, tolerance probes, dynamic configuration,
//! controls). A command whose experiment and settings need no Python never starts it:
//! [`Python::is_started`] proves it.
//!
//! What this module adds to the bridge, following chaostoolkit-lib 1.45.1
//! (`chaoslib/provider/python.py`):
//!
//! * validation steps 1–2 (`module`, then `func`, present and non-empty); steps 3–5
//!   (import, function lookup, signature bind) run in Python;
//! * at run time, `${…}` substitution of the arguments **only** when the configuration or
//!   the secrets are non-empty, and the provider's secret scopes flattened (later scopes
//!   win); the bridge injects `secrets=` and `configuration=` when the signature names
//!   them;
//! * the outcome as the runner's errors: a user exception is an [`ActivityFailed`] with
//!   the reference's traceback lines; `InterruptExecution`, a `KeyboardInterrupt` raised
//!   by user code and `SystemExit` stop the run ([`Raised`]); an error chaoslib lets
//!   escape (the module or the function missing at run time) is fatal;
//! * **signals**: while a foreground call runs, every signal raised on the command's
//!   [`Interrupt`] is forwarded to the helper ([`Bridge::interrupt`], a SIGINT), so the
//!   user function gets a `KeyboardInterrupt` at once, as under `chaos`; the helper and
//!   its modules' state stay for what follows (after-hooks, rollbacks). Background calls
//!   (`background: true` activities, the during-method hypothesis) run on their own
//!   Python threads, in parallel, and cannot be interrupted (chaostoolkit waits for them
//!   too).

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use notifier_python::{
    Bridge, BridgeError, CallOptions, ImportFailure, InterruptKind, Interruption, ModuleInfo, ProviderError,
    PythonProvider,
};
use serde_json::{Map, Value};

use crate::error::{ActivityError, ActivityFailed, InvalidActivity, Raised};
use crate::interrupt::{HookGuard, Interrupt, Signal, Watch};
use crate::substitute::Scope;
use notifier_core::pyvalue::{python_str, truthy};

/// Where a call runs in the helper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lane {
    /// On the helper's main thread, one call at a time; signals reach it.
    Foreground,
    /// On a Python thread of its own, in parallel with the others; signals do not
    /// reach it.
    Background,
}

/// The user's Python for one command: one bridge, started at the first call.
///
/// Cheap to clone (the clones share the bridge).
#[derive(Clone)]
pub struct Python {
    bridge: Arc<Bridge>,
    interrupt: Interrupt,
}

impl std::fmt::Debug for Python {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Python").field("bridge", &self.bridge).finish_non_exhaustive()
    }
}

/// Delays after which a forwarded signal is sent again while the call still runs: the
/// helper ignores a SIGINT that lands before it has started the call (its main thread
/// is then idle), so a signal racing the start of a call is repeated.
const RESEND: [Duration; 3] = [Duration::from_millis(50), Duration::from_millis(250), Duration::from_secs(1)];

impl Python {
    /// Uses `bridge` (share one with the notification plugins of the same command);
    /// signals raised on `interrupt` reach its foreground calls.
    pub fn new(bridge: Arc<Bridge>, interrupt: Interrupt) -> Python {
        Python { bridge, interrupt }
    }

    /// A bridge that finds its interpreter at the first call: `explicit` (the CLI's
    /// `--python PATH`), `$NOTIFIER_PYTHON`, `$VIRTUAL_ENV/bin/python`, `python3` on
    /// `PATH`.
    pub fn discover(explicit: Option<&Path>) -> Python {
        Python::new(Arc::new(Bridge::new(explicit)), Interrupt::new())
    }

    /// The bridge.
    pub fn bridge(&self) -> &Arc<Bridge> {
        &self.bridge
    }

    /// Whether an interpreter was ever started for this command.
    pub fn is_started(&self) -> bool {
        self.bridge.is_started()
    }

    /// The same bridge, with signals taken from `interrupt`.
    pub(crate) fn watching(&self, interrupt: &Interrupt) -> Python {
        Python { bridge: Arc::clone(&self.bridge), interrupt: interrupt.clone() }
    }

    /// Runs one bridge call; in the foreground, the signals raised meanwhile are
    /// forwarded to the helper. Returns the call's result and the first signal raised
    /// during it.
    pub(crate) fn call<T>(&self, lane: Lane, call: impl FnOnce(&Bridge, CallOptions) -> T) -> (T, Option<Signal>) {
        match lane {
            Lane::Background => (call(&self.bridge, CallOptions::new().background(true)), None),
            Lane::Foreground => {
                let forwarding = Forwarding::arm(&self.bridge, &self.interrupt);
                let result = call(&self.bridge, CallOptions::new());
                (result, forwarding.finish())
            }
        }
    }

    /// Imports a module (a global control's, when the settings are loaded).
    pub(crate) fn import_module(&self, module: &str) -> Result<Result<ModuleInfo, ImportFailure>, BridgeError> {
        self.call(Lane::Foreground, |bridge, options| bridge.import_module(module, options)).0
    }

    /// chaostoolkit-lib's `validate_python_activity` for `activity` (whose generic checks
    /// passed): steps 1–2 here, 3–5 in Python.
    pub(crate) fn validate_provider(&self, activity: &Map<String, Value>, name: &str) -> Result<(), InvalidActivity> {
        let provider = activity.get("provider").and_then(Value::as_object).ok_or(InvalidActivity::MissingProvider)?;
        let parts = Parts::of(provider, name)?;
        let kind = python_str(activity.get("type").unwrap_or(&Value::Null));
        let call = PythonProvider::new(name, &kind, &parts.module, &parts.func).arguments(&parts.arguments);
        match self.call(Lane::Foreground, |bridge, options| bridge.validate_provider(&call, options)).0 {
            Ok(Ok(())) => Ok(()),
            Ok(Err(invalid)) => Err(InvalidActivity::Python(invalid)),
            Err(e) => Err(InvalidActivity::PythonUnavailable { name: name.to_string(), reason: e.to_string() }),
        }
    }

    /// chaostoolkit-lib's `run_python_activity`: the output (as the journal stores it),
    /// or why there is none. `secrets` is every scope; the provider's `secrets` list
    /// picks the ones it gets, flattened, unless `flat_secrets` is given (dynamic
    /// configuration passes every scope).
    pub(crate) fn run_provider(&self, run: &ProviderRun<'_>, watch: &Watch) -> Result<Value, ActivityError> {
        let name = python_str(run.activity.get("name").unwrap_or(&Value::Null));
        let kind = python_str(run.activity.get("type").unwrap_or(&Value::Null));
        let parts = Parts::of(run.provider, &name).map_err(|e| ActivityError::Fatal(e.to_string()))?;
        let scope = Scope::new(run.configuration, run.secrets);
        let arguments = if scope.is_empty() {
            parts.arguments
        } else {
            match scope.substitute(&Value::Object(parts.arguments)) {
                Value::Object(arguments) => arguments,
                _ => Map::new(),
            }
        };
        let flat = match (&run.flat_secrets, run.provider.get("secrets")) {
            (Some(flat), _) => Some(flat.clone()),
            (None, Some(scopes)) => Some(flatten_secrets(run.secrets, scopes)),
            (None, None) => None,
        };
        let mut call = PythonProvider::new(&name, &kind, &parts.module, &parts.func)
            .arguments(&arguments)
            .configuration(run.configuration);
        if let Some(flat) = &flat {
            call = call.secrets(flat);
        }
        // A signal already received in this phase: the call is not even sent.
        watch.check().map_err(ActivityError::Interrupted)?;
        let (result, signal) = self.call(run.lane, |bridge, options| bridge.run_provider(&call, options));
        match result {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(ProviderError::Failed(failure))) => Err(ActivityFailed::Python(failure).into()),
            Ok(Err(ProviderError::Interrupted(interruption))) => Err(interrupted(&interruption, signal)),
            Ok(Err(ProviderError::Exited(code))) => Err(ActivityError::Raised(Raised::SystemExit(code.0))),
            Ok(Err(ProviderError::Escaped(error))) => {
                tracing::debug!("{}", error.traceback_text());
                Err(ActivityError::Fatal(error.summary))
            }
            Ok(Err(other)) => Err(ActivityError::Fatal(other.to_string())),
            Err(e) => Err(ActivityError::Fatal(format!("the python provider could not run: {e}"))),
        }
    }
}

/// One python provider call.
pub(crate) struct ProviderRun<'a> {
    /// The activity (its `name` and `type`).
    pub activity: &'a Map<String, Value>,
    /// Its provider.
    pub provider: &'a Map<String, Value>,
    /// The whole configuration.
    pub configuration: &'a Map<String, Value>,
    /// Every secret scope.
    pub secrets: &'a Map<String, Value>,
    /// The flat secrets to offer instead of the provider's own scopes.
    pub flat_secrets: Option<Map<String, Value>>,
    /// Where it runs.
    pub lane: Lane,
}

/// What a `KeyboardInterrupt` or `InterruptExecution` from user code means: the signal
/// forwarded during the call, or what the code raised itself.
pub(crate) fn interrupted(interruption: &Interruption, signal: Option<Signal>) -> ActivityError {
    match (interruption.kind, signal) {
        (InterruptKind::InterruptExecution, _) => {
            ActivityError::Raised(Raised::InterruptExecution(interruption.message.clone()))
        }
        (InterruptKind::KeyboardInterrupt, Some(signal)) => ActivityError::Interrupted(signal),
        (InterruptKind::KeyboardInterrupt, None) => ActivityError::Raised(Raised::KeyboardInterrupt),
    }
}

/// The flat secrets of a provider: for each listed scope in order, its keys (later
/// scopes win; unknown scopes add nothing). A mapping lists its keys, as iterating a
/// dict does in Python.
pub(crate) fn flatten_secrets(secrets: &Map<String, Value>, scopes: &Value) -> Map<String, Value> {
    let names: Vec<String> = match scopes {
        Value::Array(items) => items.iter().map(python_str).collect(),
        Value::Object(map) => map.keys().cloned().collect(),
        Value::String(s) => s.chars().map(String::from).collect(),
        _ => Vec::new(),
    };
    let mut flat = Map::new();
    for name in names {
        if let Some(Value::Object(scope)) = secrets.get(&name) {
            for (k, v) in scope {
                flat.insert(k.clone(), v.clone());
            }
        }
    }
    flat
}

/// Every scope flattened (the secrets chaostoolkit-lib gives a dynamic configuration
/// probe).
pub(crate) fn all_secrets(secrets: &Map<String, Value>) -> Map<String, Value> {
    flatten_secrets(secrets, &Value::Object(secrets.clone()))
}

/// `module`, `func` and `arguments` of a python provider, checked in the reference's
/// order.
struct Parts {
    module: String,
    func: String,
    arguments: Map<String, Value>,
}

impl Parts {
    fn of(provider: &Map<String, Value>, name: &str) -> Result<Parts, InvalidActivity> {
        let text = |key: &'static str, missing: InvalidActivity| match provider.get(key) {
            Some(v) if !truthy(v) => Err(missing),
            None => Err(missing),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(InvalidActivity::BadPythonProvider { key, expected: "a string", name: name.to_string() }),
        };
        let module = text("module", InvalidActivity::MissingPythonModule)?;
        let func = text("func", InvalidActivity::MissingPythonFunction)?;
        let arguments = match provider.get("arguments") {
            None => Map::new(),
            Some(Value::Object(arguments)) => arguments.clone(),
            Some(_) => {
                return Err(InvalidActivity::BadPythonProvider {
                    key: "arguments",
                    expected: "a mapping",
                    name: name.to_string(),
                });
            }
        };
        Ok(Parts { module, func, arguments })
    }
}

#[derive(Default)]
struct ForwardState {
    done: bool,
    first: Option<Signal>,
}

fn lock(state: &Mutex<ForwardState>) -> MutexGuard<'_, ForwardState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Forwards signals to the helper while one foreground call runs.
struct Forwarding {
    state: Arc<Mutex<ForwardState>>,
    _hook: HookGuard,
}

impl Forwarding {
    fn arm(bridge: &Arc<Bridge>, interrupt: &Interrupt) -> Forwarding {
        let state = Arc::new(Mutex::new(ForwardState::default()));
        let (bridge, shared) = (Arc::clone(bridge), Arc::clone(&state));
        let hook = interrupt.on_signal(move |signal| {
            {
                let mut state = lock(&shared);
                if state.done {
                    return;
                }
                state.first.get_or_insert(signal);
                bridge.interrupt();
            }
            let (bridge, shared) = (Arc::clone(&bridge), Arc::clone(&shared));
            let resend = move || {
                for delay in RESEND {
                    std::thread::sleep(delay);
                    // Under the lock: once the call is over, nothing more is sent, so
                    // the next call (an after-hook) cannot be hit.
                    let state = lock(&shared);
                    if state.done {
                        return;
                    }
                    bridge.interrupt();
                }
            };
            if let Err(e) = std::thread::Builder::new().name("notifier-python-signal".into()).spawn(resend) {
                tracing::debug!("cannot repeat the signal to the Python helper: {e}");
            }
        });
        Forwarding { state, _hook: hook }
    }

    /// The call is over: nothing more is forwarded. The first signal forwarded, if any.
    fn finish(self) -> Option<Signal> {
        let mut state = lock(&self.state);
        state.done = true;
        state.first
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn secrets_are_flattened_in_scope_order() {
        let secrets = map(json!({"sc": {"tok": "a", "n": 1}, "sc2": {"n": 2, "other": 7}, "x": 5}));
        assert_eq!(
            Value::Object(flatten_secrets(&secrets, &json!(["sc", "sc2", "nope"]))),
            json!({"tok": "a", "n": 2, "other": 7})
        );
        assert_eq!(
            Value::Object(flatten_secrets(&secrets, &json!(["sc2", "sc"]))),
            json!({"n": 1, "other": 7, "tok": "a"})
        );
        assert_eq!(Value::Object(all_secrets(&secrets)), json!({"tok": "a", "n": 2, "other": 7}));
        assert!(flatten_secrets(&secrets, &json!(null)).is_empty());
    }

    #[test]
    fn provider_keys_are_checked_in_the_reference_order() {
        let err = |p: Value| Parts::of(&map(p), "act").err().map(|e| e.to_string());
        assert_eq!(err(json!({})).as_deref(), Some("a Python activity must have a module path"));
        assert_eq!(
            err(json!({"module": "", "func": ""})).as_deref(),
            Some("a Python activity must have a module path")
        );
        assert_eq!(err(json!({"module": "os"})).as_deref(), Some("a Python activity must have a function name"));
        assert_eq!(
            err(json!({"module": 5, "func": "f"})).as_deref(),
            Some("the module of python activity 'act' must be a string")
        );
        assert_eq!(
            err(json!({"module": "os", "func": "f", "arguments": [1]})).as_deref(),
            Some("the arguments of python activity 'act' must be a mapping")
        );
        assert_eq!(
            err(json!({"module": "os", "func": "f", "arguments": null})).as_deref(),
            Some("the arguments of python activity 'act' must be a mapping")
        );
        assert!(err(json!({"module": "os", "func": "getcwd"})).is_none());
    }

    #[test]
    fn an_interruption_is_the_forwarded_signal_or_what_the_code_raised() {
        let keyboard = Interruption { kind: InterruptKind::KeyboardInterrupt, message: String::new() };
        assert_eq!(interrupted(&keyboard, Some(Signal::Term)), ActivityError::Interrupted(Signal::Term));
        assert_eq!(interrupted(&keyboard, None), ActivityError::Raised(Raised::KeyboardInterrupt));
        let stop = Interruption { kind: InterruptKind::InterruptExecution, message: "stop".into() };
        assert_eq!(
            interrupted(&stop, Some(Signal::Int)),
            ActivityError::Raised(Raised::InterruptExecution("stop".into()))
        );
    }
}
