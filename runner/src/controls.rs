//! Controls: Python hooks around every level of a run, as chaostoolkit-lib 1.45.1 calls
//! them (`chaoslib/control/__init__.py`, `chaoslib/control/python.py`).
//!
//! # Where they come from
//!
//! * **Global** controls: the settings file's `controls:` mapping (name → definition;
//!   the name is written into the definition). Their modules are imported when the run
//!   starts, before the experiment is loaded; one that cannot be imported is dropped.
//! * **Experiment** controls: the experiment's top-level `controls` list (T), the
//!   hypothesis' `controls` and each activity's `controls`; `{"ref": "<name>"}` entries
//!   pull in a top-level control.
//!
//! # Hooks
//!
//! `configure_control` (globals first, then the experiment's, once per name; a global
//! whose configuration raises is dropped, an experiment control is kept), then
//! `before_<level>_control` / `after_<level>_control` for `loading_experiment` (globals
//! only), `experiment`, `hypothesis`, `method`, `rollback` and `activity`, and
//! `cleanup_control` at the end (the experiment's once per name, then the globals).
//! Level hooks get `context=` (the experiment, the hypothesis or the activity), the
//! control's `arguments` (substituted when the configuration or the secrets are not
//! empty), and whichever of `secrets`, `configuration`, `state`, `experiment`,
//! `extensions`, `settings` their signature names. `state` is `None` on before-hooks;
//! on after-hooks it is the journal (experiment), the hypothesis state, the list of run
//! records (method, rollback) or the activity's record (`None` when it was interrupted).
//!
//! # Which controls run at a level
//!
//! `select` is chaoslib's `get_context_controls`, quirks included: automatic top-level
//! controls are inserted once per other non-`ref` control in scope (so they can run
//! twice), and globals never run at the method and rollback levels once the experiment
//! has top-level controls. `scope: before|after` restricts a control to one half.
//!
//! # Failures
//!
//! A hook that raises is logged (DEBUG, with its traceback) and the run goes on; a module
//! that cannot be imported is skipped. `InterruptExecution` (or `KeyboardInterrupt`,
//! `SystemExit`) from a hook stops the remaining hooks of that half and interrupts the
//! run; the after-hooks of the levels already open still run.

use notifier_python::{BridgeError, ControlCall, ControlError, ControlHook, ControlLevel, ControlOutcome};
use serde_json::{Map, Value};

use crate::error::ActivityError;
use crate::python::{Lane, Python, interrupted};
use crate::substitute::Scope;
use notifier_core::pyvalue::{python_str, truthy};

/// A level of a run, as chaoslib names it in its logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// Loading the experiment (global controls only).
    Loader,
    /// The whole run.
    Experiment,
    /// One steady-state hypothesis.
    Hypothesis,
    /// The method.
    Method,
    /// The rollbacks.
    Rollback,
    /// One activity.
    Activity,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Loader => "loader",
            Level::Experiment => "experiment",
            Level::Hypothesis => "hypothesis",
            Level::Method => "method",
            Level::Rollback => "rollback",
            Level::Activity => "activity",
        }
    }

    fn control_level(self) -> ControlLevel {
        match self {
            Level::Loader => ControlLevel::LoadingExperiment,
            Level::Experiment => ControlLevel::Experiment,
            Level::Hypothesis => ControlLevel::Hypothesis,
            Level::Method => ControlLevel::Method,
            Level::Rollback => ControlLevel::Rollback,
            Level::Activity => ControlLevel::Activity,
        }
    }
}

/// The half of a level a hook runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// `before_*`.
    Before,
    /// `after_*`.
    After,
}

impl When {
    fn name(self) -> &'static str {
        match self {
            When::Before => "before",
            When::After => "after",
        }
    }

    fn title(self) -> &'static str {
        match self {
            When::Before => "Before",
            When::After => "After",
        }
    }

    fn hook(self, level: Level) -> ControlHook {
        match self {
            When::Before => ControlHook::Before(level.control_level()),
            When::After => ControlHook::After(level.control_level()),
        }
    }
}

/// The `controls` list of a mapping (an experiment, a hypothesis, an activity); anything
/// else is none.
pub(crate) fn list_of(holder: Option<&Value>) -> &[Value] {
    holder.and_then(|h| h.get("controls")).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// Whether a control applies below the experiment level (`automatic`, true by default).
fn automatic(control: &Value) -> bool {
    control.get("automatic").is_none_or(truthy)
}

/// chaoslib's `get_context_controls`: the controls that run at `level`, in order.
///
/// `globals` are the settings' controls, `top` the experiment's top-level list (`None`
/// when there is no experiment yet: the loader level) and `context` the list declared on
/// the level's context (the hypothesis or the activity; the experiment itself at the
/// experiment, method and rollback levels).
pub(crate) fn select<'a>(
    level: Level,
    globals: &'a [Value],
    top: Option<&'a [Value]>,
    context: &'a [Value],
) -> Vec<&'a Value> {
    let Some(top) = top else {
        return globals.iter().collect();
    };
    let mut controls: Vec<&Value> = globals.iter().chain(context).collect();
    if top.is_empty() {
        return controls;
    }
    if controls.is_empty() || matches!(level, Level::Method | Level::Rollback) {
        return top.iter().filter(|c| automatic(c)).collect();
    }
    for c in controls.clone() {
        if let Some(reference) = c.get("ref") {
            if let Some(t) = top.iter().find(|t| t.get("name") == Some(reference)) {
                controls.push(t);
            }
        } else {
            for t in top.iter().rev() {
                if c.get("name") == t.get("name") {
                    continue;
                }
                if level != Level::Experiment && automatic(t) {
                    controls.insert(0, t);
                }
            }
        }
    }
    controls
}

/// Every control declared in the experiment, in chaoslib's `get_controls` order:
/// top-level, hypothesis, then each activity's (probes, method, rollbacks).
pub(crate) fn declared(experiment: &Map<String, Value>) -> Vec<&Value> {
    let top = experiment.get("controls").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut controls: Vec<&Value> = top.iter().collect();
    controls.extend(list_of(experiment.get("steady-state-hypothesis")));
    for activity in crate::validate::all_activities(experiment) {
        controls.extend(list_of(Some(activity)));
    }
    controls
}

/// The settings' `controls:` mapping as chaostoolkit loads it: each definition gets its
/// `name`; a python control whose module cannot be imported is dropped (DEBUG
/// `Control module '<mod>' could not be loaded. Have you installed it?`).
pub(crate) fn load_globals(settings: Option<&Value>, python: &Python) -> Vec<Value> {
    let Some(mapping) = settings.and_then(|s| s.get("controls")) else {
        return Vec::new();
    };
    let Some(mapping) = mapping.as_object() else {
        tracing::warn!("the settings' `controls` must be a mapping of names to controls: ignored");
        return Vec::new();
    };
    let mut globals = Vec::new();
    for (name, control) in mapping {
        let Some(definition) = control.as_object() else {
            tracing::warn!("global control '{name}' is not a mapping: ignored");
            continue;
        };
        let mut definition = definition.clone();
        definition.insert("name".into(), Value::String(name.clone()));
        tracing::debug!("Loading global control '{name}'");
        if let Some(module) = python_module(&definition) {
            match python.import_module(&module) {
                Ok(Ok(_)) => {}
                Ok(Err(notifier_python::ImportFailure::NotFound { .. })) => {
                    tracing::debug!("Control module '{module}' could not be loaded. Have you installed it?");
                    continue;
                }
                Ok(Err(other)) => {
                    tracing::error!("global control '{name}' is dropped: {other}");
                    continue;
                }
                Err(e) => {
                    tracing::error!("global control '{name}' is dropped: {e}");
                    continue;
                }
            }
        }
        globals.push(Value::Object(definition));
    }
    globals
}

/// The module of a `type: python` control, if it is one.
fn python_module(control: &Map<String, Value>) -> Option<String> {
    let provider = control.get("provider")?.as_object()?;
    if provider.get("type").and_then(Value::as_str) != Some("python") {
        return None;
    }
    Some(python_str(provider.get("module").unwrap_or(&Value::Null)))
}

/// The controls of one run and what their hooks are given.
pub(crate) struct Controls {
    python: Python,
    /// The settings' controls still registered.
    globals: Vec<Value>,
    /// The experiment's top-level `controls`.
    top: Vec<Value>,
    /// `experiment=` and the `context=` of the experiment, method and rollback levels.
    experiment: Value,
    configuration: Map<String, Value>,
    secrets: Map<String, Value>,
    /// `settings=` of the level hooks: the settings as the run sees them, `None` without
    /// a settings file.
    settings: Value,
}

impl Controls {
    /// Controls for the loader level: globals only, no experiment yet.
    pub(crate) fn for_loading(python: &Python, globals: Vec<Value>, settings: Option<&Value>) -> Controls {
        Controls {
            python: python.clone(),
            globals,
            top: Vec::new(),
            experiment: Value::Null,
            configuration: Map::new(),
            secrets: Map::new(),
            settings: settings.cloned().unwrap_or(Value::Null),
        }
    }

    /// Controls for a run of `experiment` (which has its `dry` key).
    pub(crate) fn for_run(
        python: &Python,
        globals: Vec<Value>,
        experiment: &Map<String, Value>,
        configuration: &Map<String, Value>,
        secrets: &Map<String, Value>,
        settings: Option<&Value>,
    ) -> Controls {
        Controls {
            python: python.clone(),
            globals,
            top: experiment.get("controls").and_then(Value::as_array).cloned().unwrap_or_default(),
            experiment: Value::Object(experiment.clone()),
            configuration: configuration.clone(),
            secrets: secrets.clone(),
            settings: settings.cloned().unwrap_or(Value::Null),
        }
    }

    /// Whether any control could run (nothing to do otherwise, and no Python is needed).
    pub(crate) fn is_empty(&self) -> bool {
        self.globals.is_empty() && self.declared().is_empty()
    }

    /// The experiment's controls (none before the experiment is loaded).
    fn declared(&self) -> Vec<&Value> {
        self.experiment.as_object().map(declared).unwrap_or_default()
    }

    /// The experiment, the `context=` of the experiment, method and rollback levels.
    pub(crate) fn experiment(&self) -> &Value {
        &self.experiment
    }

    /// `configure_control` of every control: the globals (with the run's `settings`; a
    /// global whose configuration fails is dropped), then the experiment's, once per
    /// name (with `settings=None`; kept even when it fails).
    pub(crate) fn configure(&mut self, settings_for_globals: &Value) {
        let mut kept = Vec::with_capacity(self.globals.len());
        for control in std::mem::take(&mut self.globals) {
            let name = python_str(control.get("name").unwrap_or(&Value::Null));
            tracing::debug!("Initializing global control '{name}'");
            if self.configure_one(&control, settings_for_globals) {
                kept.push(control);
            }
        }
        self.globals = kept;
        tracing::debug!("Initializing controls");
        let mut seen: Vec<String> = Vec::new();
        let declared: Vec<Value> = self.declared().into_iter().cloned().collect();
        for control in &declared {
            let Some(name) = control.get("name").filter(|n| truthy(n)).map(python_str) else { continue };
            if seen.contains(&name) {
                continue;
            }
            seen.push(name.clone());
            tracing::debug!("Initializing control '{name}'");
            self.configure_one(control, &Value::Null);
        }
    }

    /// One `configure_control`; `false` when it failed.
    fn configure_one(&self, control: &Value, settings: &Value) -> bool {
        let Some(module) = control.as_object().and_then(python_module) else {
            return true;
        };
        let name = python_str(control.get("name").unwrap_or(&Value::Null));
        let arguments = arguments_of(control);
        let mut offered = Map::new();
        offered.insert("experiment".into(), self.experiment.clone());
        offered.insert("secrets".into(), Value::Object(self.secrets.clone()));
        offered.insert("configuration".into(), Value::Object(self.configuration.clone()));
        offered.insert("settings".into(), settings.clone());
        offered.insert("event_registry".into(), Value::Null);
        let hook = ControlHook::Configure.name();
        let call = ControlCall::new(&module, hook).arguments(&arguments).offered(&offered);
        let (result, _) = self.python.call(Lane::Foreground, |bridge, options| bridge.call_control(&call, options));
        match result {
            Ok(Ok(outcome)) => {
                not_declared(&outcome, hook);
                true
            }
            Ok(Err(ControlError::ModuleNotFound { .. })) => {
                tracing::debug!("Control module '{module}' could not be loaded. Have you installed it?");
                true
            }
            Ok(Err(e)) => {
                tracing::debug!("Control initialization '{name}' failed. It will not be registered.\n{}", details(&e));
                false
            }
            Err(e) => {
                tracing::error!("Control initialization '{name}' failed: {e}");
                false
            }
        }
    }

    /// Calls the `when` hooks of `level` for the controls [`select`] picks, in order.
    ///
    /// `context` is the level's context and `holder` the mapping whose `controls` are
    /// the context's (the hypothesis or the activity; `None` for the experiment, method
    /// and rollback levels, whose context is the experiment). A hook raising
    /// `InterruptExecution` (or `KeyboardInterrupt`, `SystemExit`) stops the others and
    /// is returned.
    pub(crate) fn apply(
        &self,
        level: Level,
        when: When,
        context: &Value,
        holder: Option<&Value>,
        state: &Value,
        lane: Lane,
    ) -> Result<(), ActivityError> {
        let own = match level {
            Level::Loader => &[][..],
            Level::Experiment | Level::Method | Level::Rollback => &self.top[..],
            Level::Hypothesis | Level::Activity => list_of(holder),
        };
        let top = (level != Level::Loader).then_some(&self.top[..]);
        let controls = select(level, &self.globals, top, own);
        if controls.is_empty() {
            tracing::debug!("No controls to apply on '{}'", level.name());
            return Ok(());
        }
        let hook = when.hook(level).name();
        for control in controls {
            let name = python_str(control.get("name").unwrap_or(&Value::Null));
            if let Some(scope) = control.get("scope").filter(|s| truthy(s))
                && scope.as_str() != Some(when.name())
            {
                continue;
            }
            tracing::debug!("Applying {}-control '{name}' on '{}'", when.name(), level.name());
            let Some(module) = control.as_object().and_then(python_module) else { continue };
            let mut arguments = arguments_of(control);
            let scope = Scope::new(&self.configuration, &self.secrets);
            if !scope.is_empty()
                && let Value::Object(substituted) = scope.substitute(&Value::Object(arguments.clone()))
            {
                arguments = substituted;
            }
            let offered = self.offered(level, state);
            let call = ControlCall::new(&module, hook).context(context).arguments(&arguments).offered(&offered);
            let (result, signal) = self.python.call(lane, |bridge, options| bridge.call_control(&call, options));
            match result {
                Ok(Ok(outcome)) => not_declared(&outcome, hook),
                Ok(Err(ControlError::ModuleNotFound { .. })) => {
                    tracing::debug!("Control module '{module}' could not be loaded. Have you installed it?");
                }
                Ok(Err(ControlError::Interrupted(interruption))) => {
                    tracing::debug!("{}-control '{name}' interrupted the execution", when.title());
                    return Err(interrupted(&interruption, signal));
                }
                Ok(Err(ControlError::Exited(code))) => {
                    tracing::debug!("{}-control '{name}' interrupted the execution", when.title());
                    return Err(ActivityError::Raised(crate::error::Raised::SystemExit(code.0)));
                }
                Ok(Err(e)) => tracing::debug!("{}-control '{name}' failed\n{}", when.title(), details(&e)),
                Err(e) => bridge_failed(&name, &e),
            }
        }
        Ok(())
    }

    /// What level hooks may ask for by name.
    fn offered(&self, level: Level, state: &Value) -> Map<String, Value> {
        let mut offered = Map::new();
        let (secrets, configuration) = if level == Level::Loader {
            (Value::Null, Value::Null)
        } else {
            (Value::Object(self.secrets.clone()), Value::Object(self.configuration.clone()))
        };
        offered.insert("secrets".into(), secrets);
        offered.insert("configuration".into(), configuration);
        offered.insert("state".into(), state.clone());
        offered.insert("experiment".into(), self.experiment.clone());
        offered.insert("extensions".into(), self.experiment.get("extensions").cloned().unwrap_or(Value::Null));
        offered.insert("settings".into(), self.settings.clone());
        offered
    }

    /// `cleanup_control` of the experiment's controls (once per name), then of the
    /// globals. A failure is logged and the others still run (chaostoolkit crashes, with
    /// no journal, when an experiment control's cleanup raises).
    pub(crate) fn cleanup(&self) {
        tracing::debug!("Cleaning up controls");
        let mut seen: Vec<String> = Vec::new();
        for control in self.declared() {
            let Some(name) = control.get("name").filter(|n| truthy(n)).map(python_str) else { continue };
            if seen.contains(&name) {
                continue;
            }
            seen.push(name.clone());
            tracing::debug!("Cleaning up control '{name}'");
            if let Err(failure) = self.cleanup_one(control) {
                tracing::error!("Control cleanup '{name}' failed: {failure}");
            }
        }
        for control in &self.globals {
            let name = python_str(control.get("name").unwrap_or(&Value::Null));
            tracing::debug!("Cleaning up global control '{name}'");
            if let Err(failure) = self.cleanup_one(control) {
                tracing::debug!("Control cleanup '{name}' failed\n{failure}");
            }
        }
    }

    fn cleanup_one(&self, control: &Value) -> Result<(), String> {
        let Some(module) = control.as_object().and_then(python_module) else {
            return Ok(());
        };
        let (result, _) =
            self.python.call(Lane::Foreground, |bridge, options| bridge.cleanup_control(&module, options));
        match result {
            Ok(Ok(outcome)) => {
                not_declared(&outcome, "cleanup_control");
                Ok(())
            }
            Ok(Err(ControlError::ModuleNotFound { .. })) => Ok(()),
            Ok(Err(e)) => Err(details(&e)),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// A deep copy of the control's `arguments` (a mapping; anything else is none).
fn arguments_of(control: &Value) -> Map<String, Value> {
    control.get("provider").and_then(|p| p.get("arguments")).and_then(Value::as_object).cloned().unwrap_or_default()
}

fn not_declared(outcome: &ControlOutcome, hook: &str) {
    if let ControlOutcome::NotDeclared { file } = outcome {
        tracing::debug!("Control module '{}' does not declare '{hook}'", file.as_deref().unwrap_or("?"));
    }
}

fn details(error: &ControlError) -> String {
    match error {
        ControlError::Raised(e) => e.traceback_text(),
        ControlError::ImportRaised { error, .. } => error.traceback_text(),
        other => other.to_string(),
    }
}

fn bridge_failed(name: &str, error: &BridgeError) {
    tracing::error!("control '{name}' could not run: {error}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(list: Vec<&Value>) -> Vec<String> {
        list.iter().map(|c| python_str(c.get("name").unwrap_or(&Value::Null))).collect()
    }

    fn c(name: &str) -> Value {
        json!({"name": name, "provider": {"type": "python", "module": "m"}})
    }

    #[test]
    fn selection_follows_get_context_controls_and_its_quirks() {
        let g = vec![c("G")];
        let top = vec![c("T"), json!({"name": "N", "automatic": false, "provider": {}})];
        let none: Vec<Value> = Vec::new();
        // The experiment level: G, T, N (a non-automatic control still runs here).
        assert_eq!(names(select(Level::Experiment, &g, Some(&top), &top)), ["G", "T", "N"]);
        // A hypothesis with its own H: T twice.
        let h = vec![c("H")];
        assert_eq!(names(select(Level::Hypothesis, &g, Some(&top), &h)), ["T", "T", "G", "H"]);
        // An activity without controls: T, G; without globals: T.
        assert_eq!(names(select(Level::Activity, &g, Some(&top), &none)), ["T", "G"]);
        assert_eq!(names(select(Level::Activity, &none, Some(&top), &none)), ["T"]);
        // An activity control named like the top-level one overrides it.
        let local = vec![c("T")];
        assert_eq!(names(select(Level::Activity, &none, Some(&top), &local)), ["T"]);
        assert_eq!(names(select(Level::Activity, &g, Some(&top), &local)), ["T", "G", "T"]);
        // A ref to N: the ref entry itself, then N (T is not added for a ref).
        let reference = vec![json!({"ref": "N", "name": "r", "provider": {}})];
        assert_eq!(names(select(Level::Activity, &none, Some(&top), &reference)), ["r", "N"]);
        assert_eq!(names(select(Level::Activity, &g, Some(&top), &reference)), ["T", "G", "r", "N"]);
        // Method and rollback: the automatic top-level controls only, never the globals.
        assert_eq!(names(select(Level::Method, &g, Some(&top), &top)), ["T"]);
        assert_eq!(names(select(Level::Rollback, &g, Some(&top), &top)), ["T"]);
        // Without top-level controls, the globals run everywhere.
        assert_eq!(names(select(Level::Method, &g, Some(&none), &none)), ["G"]);
        assert_eq!(names(select(Level::Activity, &g, Some(&none), &h)), ["G", "H"]);
        // No globals, T = [T, T2], hypothesis [H1, H2].
        let top2 = vec![c("T"), c("T2")];
        let hs = vec![c("H1"), c("H2")];
        assert_eq!(names(select(Level::Hypothesis, &none, Some(&top2), &hs)), ["T", "T2", "T", "T2", "H1", "H2"]);
        // The loader level: the globals only.
        assert_eq!(names(select(Level::Loader, &g, None, &none)), ["G"]);
    }

    #[test]
    fn declared_controls_come_in_get_controls_order() {
        let experiment = json!({
            "controls": [c("T")],
            "steady-state-hypothesis": {"controls": [c("H")], "probes": [{"name": "p", "controls": [c("P")]}]},
            "method": [{"name": "m", "controls": [c("M")]}],
            "rollbacks": [{"name": "r", "controls": [c("R")]}],
        });
        let map = experiment.as_object().cloned().unwrap_or_default();
        assert_eq!(names(declared(&map)), ["T", "H", "P", "M", "R"]);
    }
}
