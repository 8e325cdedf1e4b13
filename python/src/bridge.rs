//! [`Bridge`]: the handle callers keep, one per command.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::discover::{Interpreter, find_interpreter};
use crate::error::{BridgeError, HelperExit};
use crate::frame::{DEFAULT_MAX_FRAME, encode_request};
use crate::ops::{
    self, Answer, CallOptions, ControlCall, ControlError, ControlOutcome, ImportFailure, ModuleInfo, PluginEvent,
    PluginFailure, ProviderError, ProviderInvalid, PythonInfo, PythonProvider,
};
use crate::process::{Helper, Refused, Spawn, lock};

/// Default for [`BridgeBuilder::max_in_flight`].
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;
/// Default for [`BridgeBuilder::start_timeout`].
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(30);
/// Default for [`BridgeBuilder::shutdown_grace`].
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Which interpreter a [`Bridge`] starts.
#[derive(Debug, Clone)]
enum Choice {
    /// Found at the first call: the explicit path, `$NOTIFIER_PYTHON`, `$VIRTUAL_ENV`, PATH.
    Discover(Option<PathBuf>),
    /// This one.
    Exact(Interpreter),
}

/// Configures a [`Bridge`]. Building starts nothing.
#[derive(Debug, Clone)]
pub struct BridgeBuilder {
    choice: Choice,
    env: Vec<(OsString, Option<OsString>)>,
    current_dir: Option<PathBuf>,
    max_frame: usize,
    max_in_flight: usize,
    start_timeout: Duration,
    shutdown_grace: Duration,
}

impl Default for BridgeBuilder {
    fn default() -> BridgeBuilder {
        BridgeBuilder {
            choice: Choice::Discover(None),
            env: Vec::new(),
            current_dir: None,
            max_frame: DEFAULT_MAX_FRAME,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            start_timeout: DEFAULT_START_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

impl BridgeBuilder {
    /// Discover the interpreter at the first call ([`find_interpreter`]), trying `explicit`
    /// (the CLI's `--python PATH`) first. This is the default, with `None`.
    pub fn discover(mut self, explicit: Option<&Path>) -> BridgeBuilder {
        self.choice = Choice::Discover(explicit.map(Path::to_path_buf));
        self
    }

    /// Use this interpreter.
    pub fn interpreter(mut self, interpreter: Interpreter) -> BridgeBuilder {
        self.choice = Choice::Exact(interpreter);
        self
    }

    /// Sets an environment variable of the helper (`PYTHONPATH`…); the rest is inherited.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> BridgeBuilder {
        self.env.push((key.into(), Some(value.into())));
        self
    }

    /// Removes an environment variable from the helper's environment.
    pub fn env_remove(mut self, key: impl Into<OsString>) -> BridgeBuilder {
        self.env.push((key.into(), None));
        self
    }

    /// The helper's working directory (default: the caller's).
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> BridgeBuilder {
        self.current_dir = Some(dir.into());
        self
    }

    /// Largest frame accepted either way (default 64 MiB, at most 4 GiB − 1). A larger
    /// request fails with [`BridgeError::RequestTooLarge`] before anything is sent; a larger
    /// answer with [`BridgeError::ResponseTooLarge`], the helper staying alive.
    pub fn max_frame_bytes(mut self, bytes: usize) -> BridgeBuilder {
        self.max_frame = bytes.min(u32::MAX as usize);
        self
    }

    /// Most calls waiting for an answer at once (default 256); one more fails with
    /// [`BridgeError::TooManyInFlight`].
    pub fn max_in_flight(mut self, calls: usize) -> BridgeBuilder {
        self.max_in_flight = calls.max(1);
        self
    }

    /// Longest wait for a new helper to be ready (default 30 s). Not counted in call budgets.
    pub fn start_timeout(mut self, timeout: Duration) -> BridgeBuilder {
        self.start_timeout = timeout;
        self
    }

    /// How long [`Bridge::shutdown`] waits for the helper to exit before killing it
    /// (default 1 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> BridgeBuilder {
        self.shutdown_grace = grace;
        self
    }

    /// The bridge. Nothing is started (nor looked up) until the first call.
    pub fn build(self) -> Bridge {
        Bridge {
            config: self,
            slot: Mutex::new(Slot { helper: None, interpreter: None, starts: 0, shut_down: false }),
            next_id: AtomicU64::new(1),
        }
    }
}

struct Slot {
    helper: Option<Arc<Helper>>,
    interpreter: Option<Interpreter>,
    starts: u64,
    shut_down: bool,
}

/// A bridge to the user's Python interpreter: one long-lived helper process, started at
/// the first call and reused by every call, restarted after it dies or is killed.
///
/// `Bridge` is `Send + Sync`: share it (`&Bridge`, `Arc<Bridge>`) between the threads of
/// one command. Calls are foreground (run one after the other on the helper's main thread,
/// where [`interrupt`](Self::interrupt) reaches them) or background (each on its own
/// Python thread, see [`CallOptions::background`]).
///
/// Each operation returns `Result<Result<T, E>, BridgeError>`: the outer error is the
/// bridge failing, the inner one what user code did. Dropping the bridge shuts the helper
/// down ([`shutdown`](Self::shutdown)).
///
/// ```no_run
/// use notifier_python::{Bridge, CallOptions, PythonProvider};
///
/// let bridge = Bridge::new(None); // discovers the interpreter at the first call
/// let provider = PythonProvider::new("check-health", "probe", "mychecks", "health");
/// match bridge.run_provider(&provider, CallOptions::new())? {
///     Ok(output) => println!("output: {output}"),
///     Err(error) => println!("  => failed: {error}"),
/// }
/// # Ok::<(), notifier_python::BridgeError>(())
/// ```
pub struct Bridge {
    config: BridgeBuilder,
    slot: Mutex<Slot>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge").field("pid", &self.pid()).field("starts", &self.helper_starts()).finish()
    }
}

impl Bridge {
    /// A bridge that discovers its interpreter at the first call, trying `explicit` (the
    /// CLI's `--python PATH`) first. Starts nothing.
    pub fn new(explicit: Option<&Path>) -> Bridge {
        Bridge::builder().discover(explicit).build()
    }

    /// A bridge with options.
    pub fn builder() -> BridgeBuilder {
        BridgeBuilder::default()
    }

    /// Whether a helper process was ever started by this bridge. `false` proves that no
    /// interpreter ran.
    pub fn is_started(&self) -> bool {
        lock(&self.slot).starts > 0
    }

    /// Whether a helper is running now.
    pub fn is_running(&self) -> bool {
        lock(&self.slot).helper.as_ref().is_some_and(|h| h.gone().is_none())
    }

    /// How many helper processes this bridge has started (more than one after restarts).
    pub fn helper_starts(&self) -> u64 {
        lock(&self.slot).starts
    }

    /// The running helper's process id.
    pub fn pid(&self) -> Option<u32> {
        lock(&self.slot).helper.as_ref().filter(|h| h.gone().is_none()).map(|h| h.pid())
    }

    /// The Python version of the running helper (`3.12.1`), without a round trip.
    pub fn python_version(&self) -> Option<String> {
        lock(&self.slot).helper.as_ref().filter(|h| h.gone().is_none()).map(|h| h.version().to_string())
    }

    /// Sends SIGINT to the helper, so that the foreground call it is running raises
    /// `KeyboardInterrupt` and returns `Interrupted` (`InterruptKind::KeyboardInterrupt`),
    /// like Ctrl-C under chaos. The helper and its module state stay. A SIGINT that arrives
    /// while no foreground call runs is ignored; background calls are not interrupted.
    /// Returns whether a helper was running to receive it.
    pub fn interrupt(&self) -> bool {
        let helper = lock(&self.slot).helper.clone();
        #[cfg(unix)]
        let sigint = libc::SIGINT;
        #[cfg(not(unix))]
        let sigint = 2;
        helper.is_some_and(|h| h.signal(sigint))
    }

    /// Stops the helper: closes its stdin (it exits after its current call), waits up to
    /// the shutdown grace, then kills its process group, and reaps it. Calls in flight fail
    /// with [`HelperExit::ShutDown`]; later calls with [`BridgeError::ShutDown`].
    pub fn shutdown(&self) {
        let helper = {
            let mut slot = lock(&self.slot);
            slot.shut_down = true;
            slot.helper.take()
        };
        if let Some(helper) = helper {
            helper.shutdown(self.config.shutdown_grace);
        }
    }

    // --- operations -------------------------------------------------------------------------

    /// A round trip that runs no user code: the helper's Python version and pid. Starts
    /// the helper if needed.
    pub fn ping(&self, options: CallOptions) -> Result<PythonInfo, BridgeError> {
        ops::decode_ping(self.call("ping", &Empty {}, options)?)
    }

    /// Imports `module` (`importlib.import_module`) and keeps it imported.
    pub fn import_module(
        &self,
        module: &str,
        options: CallOptions,
    ) -> Result<Result<ModuleInfo, ImportFailure>, BridgeError> {
        ops::decode_import(self.call("import", &ModuleRequest { module }, options)?, module)
    }

    /// Validates a Python provider as chaostoolkit-lib's `validate_python_activity` does
    /// after its key checks (steps 3–5): import (only `ImportError` is "not found"),
    /// function lookup among `inspect.getmembers(mod, isfunction)` ∪
    /// `getmembers(mod, isbuiltin)`, then `inspect.signature(f).bind(**arguments)` with
    /// `secrets=None` and `configuration=None` added when the signature names them.
    ///
    /// The caller checks steps 1–2 (`module` and `func` present and non-empty).
    pub fn validate_provider(
        &self,
        provider: &PythonProvider<'_>,
        options: CallOptions,
    ) -> Result<Result<(), ProviderInvalid>, BridgeError> {
        let request = ProviderRequest::from(provider);
        ops::decode_validate(self.call("validate_provider", &request, options)?, provider)
    }

    /// Runs a Python provider as chaostoolkit-lib's `run_python_activity` does: import,
    /// `getattr(module, func)`, `secrets=`/`configuration=` injected when the signature
    /// names them (see [`PythonProvider`]), then `func(**arguments)`.
    ///
    /// `${…}` substitution is the caller's job (it happens before, in Rust).
    ///
    /// The output is encoded as `chaostoolkit`'s journal encoder does: `datetime`/`date` →
    /// `isoformat()`, `Decimal`/`UUID` → `str()`, tuples → lists, non-string dict keys as
    /// `json` writes them (`1` → `"1"`, `None` → `"null"`, `True` → `"true"`). Where
    /// chaostoolkit would crash when writing the journal (a set, bytes, any other object,
    /// a cycle, a key of another type), the bridge stores `repr(value)` instead. NaN and
    /// infinities become `null` (chaostoolkit writes a bare `NaN`, which is not JSON and
    /// which `serde_json` cannot hold). Containers nested deeper than 126 levels become
    /// `"[omitted: nested deeper than 126 levels]"`, as in notifier's envelopes.
    pub fn run_provider(
        &self,
        provider: &PythonProvider<'_>,
        options: CallOptions,
    ) -> Result<Result<Value, ProviderError>, BridgeError> {
        let request = ProviderRequest::from(provider);
        ops::decode_run(self.call("run_provider", &request, options)?)
    }

    /// Calls a notification plugin as chaostoolkit-lib's `notify_via_plugin` does:
    /// `module = channel["module"]`, `func = channel.get("func", "notify")`, import, look
    /// the function up among `inspect.isfunction` members, call `func(channel, event)`
    /// positionally. `channel` is the settings entry exactly as written (no defaults
    /// added); see [`PluginEvent`] for what the plugin receives as the event.
    pub fn notify_plugin(
        &self,
        channel: &Map<String, Value>,
        event: &PluginEvent<'_>,
        options: CallOptions,
    ) -> Result<Result<(), PluginFailure>, BridgeError> {
        ops::decode_notify(self.call("notify", &NotifyRequest { channel, event }, options)?)
    }

    /// Calls a control hook (`configure_control` or a `before_*`/`after_*` level hook), if
    /// the module declares it; see [`ControlCall`] for the arguments it gets.
    pub fn call_control(
        &self,
        call: &ControlCall<'_>,
        options: CallOptions,
    ) -> Result<Result<ControlOutcome, ControlError>, BridgeError> {
        let request = ControlRequest {
            module: call.module,
            hook: call.hook,
            mode: "hook",
            context: call.context,
            arguments: call.arguments,
            offered: call.offered,
            control: None,
        };
        ops::decode_control(self.call("control", &request, options)?, call.module)
    }

    /// Calls the module's `cleanup_control()`, without arguments, if it declares one.
    pub fn cleanup_control(
        &self,
        module: &str,
        options: CallOptions,
    ) -> Result<Result<ControlOutcome, ControlError>, BridgeError> {
        let request = ControlRequest::plain(module, "cleanup_control", "cleanup", None);
        ops::decode_control(self.call("control", &request, options)?, module)
    }

    /// Calls the module's `validate_control(control)` with the control's declaration, if it
    /// declares one. An unimportable module is [`ControlError::ModuleNotFound`], which
    /// chaoslib only warns about
    /// (`Could not find Python module '<mod>' in control '<n>'. …`).
    pub fn validate_control(
        &self,
        module: &str,
        control: &Value,
        options: CallOptions,
    ) -> Result<Result<ControlOutcome, ControlError>, BridgeError> {
        let request = ControlRequest::plain(module, "validate_control", "validate", Some(control));
        ops::decode_control(self.call("control", &request, options)?, module)
    }

    // --- the call itself --------------------------------------------------------------------

    fn call<B: Serialize>(&self, op: &str, body: &B, options: CallOptions) -> Result<Answer, BridgeError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let frame = encode_request(id, op, options.background, body, self.config.max_frame)?;
        let (reply_tx, reply_rx) = mpsc::channel();
        let mut helper = self.helper()?;
        loop {
            match helper.register(id, reply_tx.clone(), self.config.max_in_flight) {
                Ok(()) => break,
                Err(Refused::Full) => {
                    return Err(BridgeError::TooManyInFlight { limit: self.config.max_in_flight });
                }
                // It died between `helper()` and now; nothing was sent, so a fresh one may
                // take the call. Only once: a helper that dies at once is reported.
                Err(Refused::Gone(reason)) => {
                    let fresh = self.helper()?;
                    if Arc::ptr_eq(&fresh, &helper) {
                        return Err(BridgeError::HelperGone { pid: helper.pid(), reason });
                    }
                    helper = fresh;
                }
            }
        }
        if let Err(reason) = helper.send(frame) {
            helper.forget(id);
            return Err(BridgeError::HelperGone { pid: helper.pid(), reason });
        }
        let answer = Answer::new(helper.wait(id, &reply_rx, options.budget)?)?;
        match answer.status.as_str() {
            "too_large" => {
                let mut answer = answer;
                Err(BridgeError::ResponseTooLarge { size: answer.take("size")?, limit: answer.take("limit")? })
            }
            "internal" => {
                let mut answer = answer;
                Err(BridgeError::Internal { message: answer.take("message")? })
            }
            _ => Ok(answer),
        }
    }

    /// The running helper, starting one if there is none or it is gone.
    fn helper(&self) -> Result<Arc<Helper>, BridgeError> {
        let mut slot = lock(&self.slot);
        if slot.shut_down {
            return Err(BridgeError::ShutDown);
        }
        if let Some(helper) = &slot.helper {
            match helper.check() {
                None => return Ok(Arc::clone(helper)),
                Some(reason) => {
                    tracing::warn!(
                        "the Python helper (pid {}) {reason}; starting a new one: the modules it had imported \
                         and their state (globals, control state) are lost",
                        helper.pid()
                    );
                    // Already reaped by whoever saw it end; make sure.
                    helper.kill(reason);
                    slot.helper = None;
                }
            }
        }
        #[cfg(not(unix))]
        {
            return Err(BridgeError::Unsupported);
        }
        #[cfg(unix)]
        {
            let interpreter = match &slot.interpreter {
                Some(interpreter) => interpreter.clone(),
                None => {
                    let interpreter = match &self.config.choice {
                        Choice::Exact(interpreter) => interpreter.clone(),
                        Choice::Discover(explicit) => find_interpreter(explicit.as_deref())?,
                    };
                    slot.interpreter = Some(interpreter.clone());
                    interpreter
                }
            };
            let helper = Arc::new(Helper::start(&Spawn {
                interpreter: interpreter.path(),
                env: &self.config.env,
                current_dir: self.config.current_dir.as_deref(),
                max_frame: self.config.max_frame,
                start_timeout: self.config.start_timeout,
            })?);
            slot.starts += 1;
            tracing::debug!(
                "Python helper started: pid {}, Python {}, {}",
                helper.pid(),
                helper.version(),
                interpreter
            );
            slot.helper = Some(Arc::clone(&helper));
            Ok(helper)
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.shutdown();
    }
}

// --- requests -------------------------------------------------------------------------------

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct ModuleRequest<'a> {
    module: &'a str,
}

#[derive(Serialize)]
struct ProviderRequest<'a> {
    module: &'a str,
    func: &'a str,
    arguments: Option<&'a Map<String, Value>>,
    secrets: Option<&'a Map<String, Value>>,
    configuration: Option<&'a Map<String, Value>>,
}

impl<'a> From<&PythonProvider<'a>> for ProviderRequest<'a> {
    fn from(p: &PythonProvider<'a>) -> ProviderRequest<'a> {
        ProviderRequest {
            module: p.module,
            func: p.func,
            arguments: p.arguments,
            secrets: p.secrets,
            configuration: p.configuration,
        }
    }
}

#[derive(Serialize)]
struct NotifyRequest<'a> {
    channel: &'a Map<String, Value>,
    event: &'a PluginEvent<'a>,
}

#[derive(Serialize)]
struct ControlRequest<'a> {
    module: &'a str,
    hook: &'a str,
    mode: &'a str,
    /// Absent: no `context=`; present (even `null`): `context=` that value.
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a Value>,
    arguments: Option<&'a Map<String, Value>>,
    offered: Option<&'a Map<String, Value>>,
    control: Option<&'a Value>,
}

impl<'a> ControlRequest<'a> {
    fn plain(module: &'a str, hook: &'a str, mode: &'a str, control: Option<&'a Value>) -> ControlRequest<'a> {
        ControlRequest { module, hook, mode, context: None, arguments: None, offered: None, control }
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Bridge>();
    is::<HelperExit>();
}
