//! Step 2: validation, following chaostoolkit-lib's `ensure_experiment_is_valid`.
//!
//! The checks run in the reference's order and the first problem is reported, with
//! the reference's message where it has one: the experiment must be non-empty and have
//! a `title` and a `description`; `tags` are non-empty strings; every extension has a
//! `name`; configuration `env` entries resolve (set or defaulted) and `env` secrets are
//! set; a hypothesis has a `title` and each probe is a valid activity with a
//! `tolerance` of a supported shape; the `method` key exists; method and rollback
//! activities are valid (type, name, provider, provider type, numeric timeout, pauses,
//! boolean background, provider-specific checks); method `ref`s resolve; controls have a
//! `name`, a `provider`, a resolvable `ref` and a `before`/`after` scope.
//!
//! Python activities (in the hypothesis, the method, the rollbacks and `type: probe`
//! tolerances) and Python controls are checked in the user's interpreter through the
//! command's [`Python`] bridge, which imports their modules, as `chaos` does (so their
//! import side effects run here, after `run-started`): a python activity's `module` and
//! `func` must be there, its module importable, its function exposed and its arguments
//! bind to the signature (the reference's messages); a control module that cannot be
//! imported is only a warning, and its `validate_control(control)` runs.
//!
//! Where the reference would crash with a Python `TypeError`/`AttributeError` (an
//! activity that is a string, a `method` that is a number, python `arguments` that are
//! a list, a module whose import raises…), this module reports a typed error with a
//! clear message instead.

use serde_json::{Map, Value};

use crate::config::{load_configuration, load_secrets};
use crate::error::type_name;
use crate::error::{InvalidActivity, InvalidControl, InvalidExperiment, ValidationError};
use crate::provider::process::which;
use crate::python::Python;
use notifier_core::pyvalue::{python_str, truthy};

/// Validates an experiment (as loaded, before substitution), with a Python found as
/// `notifier` finds it (`$NOTIFIER_PYTHON`, `$VIRTUAL_ENV`, `python3` on `PATH`), started
/// only if the experiment has Python activities or controls.
pub fn ensure_experiment_is_valid(experiment: &Value) -> Result<(), ValidationError> {
    ensure_experiment_is_valid_with(experiment, &Python::discover(None))
}

/// Validates an experiment (as loaded, before substitution); Python activities and
/// controls are checked with `python`.
pub fn ensure_experiment_is_valid_with(experiment: &Value, python: &Python) -> Result<(), ValidationError> {
    tracing::info!("Validating the experiment's syntax");
    if !truthy(experiment) {
        return Err(InvalidExperiment::Empty.into());
    }
    let exp = experiment.as_object().ok_or(InvalidExperiment::NotAMapping { found: type_name(experiment) })?;
    if !truthy_opt(exp.get("title")) {
        return Err(InvalidExperiment::MissingTitle.into());
    }
    if !truthy_opt(exp.get("description")) {
        return Err(InvalidExperiment::MissingDescription.into());
    }
    if let Some(tags) = exp.get("tags").filter(|t| truthy(t)) {
        let ok = tags.as_array().is_some_and(|tags| tags.iter().all(|t| t.as_str().is_some_and(|s| !s.is_empty())));
        if !ok {
            return Err(InvalidExperiment::BadTags.into());
        }
    }
    validate_extensions(exp.get("extensions"))?;
    load_configuration(exp.get("configuration"), &[])?;
    load_secrets(exp.get("secrets"))?;

    let cache = ActivityCache::new(exp);
    validate_hypothesis(exp.get("steady-state-hypothesis"), python)?;

    let method = match exp.get("method") {
        None | Some(Value::Null) => return Err(InvalidExperiment::MissingMethod.into()),
        Some(Value::Array(method)) => method,
        Some(_) => return Err(InvalidExperiment::NotAList { section: "method" }.into()),
    };
    for activity in method {
        ensure_activity_is_valid(activity, python)?;
        if let Some(name) = activity.get("ref").and_then(Value::as_str)
            && !name.is_empty()
            && cache.lookup(name).is_none()
        {
            return Err(InvalidActivity::UnknownRef { name: name.to_string() }.into());
        }
    }
    match exp.get("rollbacks") {
        None | Some(Value::Null) => {}
        Some(Value::Array(rollbacks)) => {
            for activity in rollbacks {
                ensure_activity_is_valid(activity, python)?;
            }
        }
        Some(_) => {
            return Err(InvalidExperiment::NotAList { section: "rollbacks" }.into());
        }
    }
    validate_controls(exp, python)?;
    tracing::info!("Experiment looks valid");
    Ok(())
}

fn validate_extensions(extensions: Option<&Value>) -> Result<(), InvalidExperiment> {
    let Some(extensions) = extensions.filter(|e| truthy(e)) else {
        return Ok(());
    };
    let ok = extensions.as_array().is_some_and(|list| {
        list.iter().all(|ext| ext.get("name").and_then(Value::as_str).is_some_and(|n| !n.trim().is_empty()))
    });
    if ok { Ok(()) } else { Err(InvalidExperiment::ExtensionWithoutName) }
}

fn validate_hypothesis(hypothesis: Option<&Value>, python: &Python) -> Result<(), ValidationError> {
    let hypo = match hypothesis {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(h)) => h,
        Some(_) => return Err(InvalidExperiment::HypothesisNotAMapping.into()),
    };
    if !truthy_opt(hypo.get("title")) {
        return Err(InvalidExperiment::HypothesisWithoutTitle.into());
    }
    let Some(probes) = hypo.get("probes").filter(|p| truthy(p)) else {
        return Ok(());
    };
    let probes = probes.as_array().ok_or(InvalidExperiment::NotAList { section: "probes" })?;
    for probe in probes {
        ensure_activity_is_valid(probe, python)?;
        let tolerance = probe.get("tolerance").ok_or(InvalidActivity::MissingTolerance)?;
        ensure_tolerance_is_valid(tolerance, python)?;
    }
    Ok(())
}

/// Validates one activity (a probe, an action, or a `{"ref": …}`); a python one is
/// checked with `python`.
pub fn ensure_activity_is_valid(activity: &Value, python: &Python) -> Result<(), InvalidActivity> {
    if !truthy(activity) {
        return Err(InvalidActivity::Empty);
    }
    let act = activity.as_object().ok_or(InvalidActivity::NotAMapping { found: type_name(activity) })?;
    match act.get("ref") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if !s.is_empty() => return Ok(()),
        Some(_) => return Err(InvalidActivity::BadRef),
    }
    let ty = act.get("type").filter(|t| truthy(t)).ok_or(InvalidActivity::MissingType)?;
    if !matches!(ty.as_str(), Some("probe" | "action")) {
        return Err(InvalidActivity::UnsupportedType { found: python_str(ty) });
    }
    if !truthy_opt(act.get("name")) {
        return Err(InvalidActivity::MissingName);
    }
    let name = python_str(act.get("name").unwrap_or(&Value::Null));
    let provider = act.get("provider").filter(|p| truthy(p)).ok_or(InvalidActivity::MissingProvider)?;
    let provider = provider.as_object().ok_or_else(|| InvalidActivity::ProviderNotAMapping { name: name.clone() })?;
    let provider_type = provider.get("type").filter(|t| truthy(t)).ok_or(InvalidActivity::MissingProviderType)?;
    let provider_type = match provider_type.as_str() {
        Some(t @ ("python" | "process" | "http")) => t,
        _ => {
            return Err(InvalidActivity::UnknownProviderType { found: python_str(provider_type) });
        }
    };
    if let Some(timeout) = act.get("timeout")
        && !timeout.is_null()
        && !timeout.is_number()
    {
        return Err(InvalidActivity::BadTimeout);
    }
    match act.get("pauses") {
        None | Some(Value::Null) => {}
        Some(Value::Object(pauses)) => {
            if !valid_pause(pauses.get("before")) {
                return Err(InvalidActivity::BadPauseBefore);
            }
            if !valid_pause(pauses.get("after")) {
                return Err(InvalidActivity::BadPauseAfter);
            }
        }
        Some(_) => return Err(InvalidActivity::PausesNotAMapping),
    }
    if let Some(background) = act.get("background")
        && !background.is_boolean()
    {
        return Err(InvalidActivity::BadBackground);
    }
    match provider_type {
        "python" => python.validate_provider(act, &name),
        "process" => validate_process_provider(&name, provider),
        _ => validate_http_provider(&name, provider),
    }
}

fn valid_pause(pause: Option<&Value>) -> bool {
    match pause {
        None | Some(Value::Null | Value::Number(_)) => true,
        Some(Value::String(s)) => s.starts_with("${") && s.ends_with('}'),
        Some(_) => false,
    }
}

fn validate_process_provider(name: &str, provider: &Map<String, Value>) -> Result<(), InvalidActivity> {
    let raw = provider.get("path").filter(|p| truthy(p)).ok_or(InvalidActivity::MissingPath)?;
    let Some(path) = raw.as_str() else {
        return Err(InvalidActivity::PathNotFound { path: python_str(raw), name: name.to_string() });
    };
    match which(path) {
        crate::provider::process::Which::Found(_) => {}
        crate::provider::process::Which::NotExecutable => {
            return Err(InvalidActivity::PathNotExecutable { path: path.to_string(), name: name.to_string() });
        }
        crate::provider::process::Which::NotFound => {
            return Err(InvalidActivity::PathNotFound { path: path.to_string(), name: name.to_string() });
        }
    }
    match provider.get("arguments") {
        None | Some(Value::Null | Value::Array(_) | Value::Object(_) | Value::String(_)) => {}
        Some(_) => {
            return Err(InvalidActivity::BadProcessArguments { name: name.to_string() });
        }
    }
    match provider.get("timeout") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Number(n)) if n.as_f64().is_some_and(|f| f >= 0.0) => Ok(()),
        Some(Value::String(s)) if s.starts_with("${") && s.ends_with('}') => Ok(()),
        Some(_) => Err(InvalidActivity::BadProcessTimeout { name: name.to_string() }),
    }
}

fn validate_http_provider(name: &str, provider: &Map<String, Value>) -> Result<(), InvalidActivity> {
    if !truthy_opt(provider.get("url")) {
        return Err(InvalidActivity::MissingUrl);
    }
    if let Some(headers) = provider.get("headers").filter(|h| truthy(h))
        && !headers.is_object()
    {
        return Err(InvalidActivity::BadHeaders);
    }
    let timeout_ok = match provider.get("timeout") {
        None | Some(Value::Null | Value::Number(_)) => true,
        Some(Value::String(s)) => s.starts_with("${") && s.ends_with('}'),
        Some(Value::Array(pair)) => pair.len() == 2 && pair.iter().all(Value::is_number),
        Some(_) => false,
    };
    if timeout_ok { Ok(()) } else { Err(InvalidActivity::BadHttpTimeout { name: name.to_string() }) }
}

/// Validates a hypothesis probe's tolerance (a `type: probe` one is an activity, checked
/// with `python` when it is a python one).
pub fn ensure_tolerance_is_valid(tolerance: &Value, python: &Python) -> Result<(), InvalidActivity> {
    let spec = match tolerance {
        Value::Bool(_) | Value::String(_) | Value::Array(_) => return Ok(()),
        Value::Number(n) if n.is_i64() || n.is_u64() => return Ok(()),
        Value::Object(spec) => spec,
        _ => return Err(InvalidActivity::BadToleranceType),
    };
    match spec.get("type").and_then(Value::as_str) {
        Some("probe") => ensure_activity_is_valid(tolerance, python),
        Some("regex") => {
            let pattern = spec.get("pattern").ok_or(InvalidActivity::MissingPattern)?;
            let Some(pattern) = pattern.as_str() else {
                return Err(InvalidActivity::BadPatternType { pattern: python_str(pattern) });
            };
            regex::Regex::new(pattern)
                .map(|_| ())
                .map_err(|e| InvalidActivity::BadPattern { pattern: pattern.to_string(), reason: regex_reason(&e) })
        }
        Some("jsonpath") => {
            let path = spec.get("path").ok_or(InvalidActivity::MissingJsonPath)?;
            let Some(path) = path.as_str() else {
                return Err(InvalidActivity::BadJsonPathType { path: python_str(path) });
            };
            let path = path.trim();
            if path.is_empty() {
                return Err(InvalidActivity::EmptyJsonPath);
            }
            serde_json_path::JsonPath::parse(path)
                .map(|_| ())
                .map_err(|_| InvalidActivity::BadJsonPath { path: path.to_string() })
        }
        Some("range") => {
            let range = spec.get("range").ok_or(InvalidActivity::MissingRange)?;
            let range = range.as_array().ok_or(InvalidActivity::RangeNotASequence)?;
            if range.len() != 2 {
                return Err(InvalidActivity::RangeNotAPair);
            }
            if !is_number(&range[0]) {
                return Err(InvalidActivity::RangeLowerNotANumber);
            }
            if !is_number(&range[1]) {
                return Err(InvalidActivity::RangeUpperNotANumber);
            }
            Ok(())
        }
        _ => Err(InvalidActivity::UnsupportedToleranceType {
            found: python_str(spec.get("type").unwrap_or(&Value::Null)),
        }),
    }
}

fn is_number(v: &Value) -> bool {
    v.is_number() || v.is_boolean()
}

fn regex_reason(e: &regex::Error) -> String {
    // The regex crate's message spans several lines (pattern, caret, reason); keep
    // the last one, which says what is wrong.
    e.to_string()
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().trim_start_matches("error: ").to_string())
        .unwrap_or_default()
}

fn validate_controls(exp: &Map<String, Value>, python: &Python) -> Result<(), ValidationError> {
    let mut controls: Vec<&Value> = Vec::new();
    let holders = std::iter::once(exp.get("controls"))
        .chain(std::iter::once(exp.get("steady-state-hypothesis").and_then(|h| h.get("controls"))))
        .chain(all_activities(exp).map(|a| a.get("controls")));
    for list in holders {
        match list {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => controls.extend(list.iter()),
            Some(_) => return Err(InvalidControl::NotAList.into()),
        }
    }
    let declared: Vec<&str> = controls
        .iter()
        .filter(|c| c.get("ref").is_none())
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .collect();
    for control in controls {
        let c = control.as_object().ok_or(InvalidControl::NotAMapping)?;
        if let Some(reference) = c.get("ref") {
            let name = python_str(reference);
            if !declared.contains(&name.as_str()) {
                return Err(InvalidControl::UnknownRef { name }.into());
            }
        }
        let name = c.get("name").ok_or(InvalidControl::MissingName)?;
        let name = python_str(name);
        let provider = c.get("provider").ok_or_else(|| InvalidControl::MissingProvider { name: name.clone() })?;
        if let Some(scope) = c.get("scope").filter(|s| truthy(s))
            && !matches!(scope.as_str(), Some("before" | "after"))
        {
            return Err(InvalidControl::BadScope { name }.into());
        }
        if provider.get("type").and_then(Value::as_str) == Some("python") {
            if !truthy_opt(provider.get("module")) {
                return Err(InvalidActivity::ControlWithoutModule { name }.into());
            }
            validate_python_control(control, &name, provider, python)?;
        }
    }
    Ok(())
}

/// chaoslib's `validate_python_control` after its module check: an unimportable module
/// is only a warning; the module's own `validate_control(control)` runs, and what it
/// raises is the validation error.
fn validate_python_control(
    control: &Value,
    name: &str,
    provider: &Value,
    python: &Python,
) -> Result<(), InvalidControl> {
    use notifier_python::ControlError;
    let module = python_str(provider.get("module").unwrap_or(&Value::Null));
    let (result, _) = python
        .call(crate::python::Lane::Foreground, |bridge, options| bridge.validate_control(&module, control, options));
    let message = match result {
        Ok(Ok(_)) => return Ok(()),
        Ok(Err(ControlError::ModuleNotFound { .. })) => {
            tracing::warn!(
                "Could not find Python module '{module}' in control '{name}'. Did you install the Python module? The experiment will carry on running nonetheless."
            );
            return Ok(());
        }
        // A chaoslib exception (InvalidActivity, InvalidControl…) says its message, as the
        // reference's `ERROR <message>`; anything else crashes the reference.
        Ok(Err(ControlError::Raised(e))) if e.kind.starts_with("chaoslib.exceptions.") => e.text,
        Ok(Err(ControlError::Raised(e))) => e.summary,
        Ok(Err(other)) => format!("control '{name}': {other}"),
        Err(e) => format!("cannot validate control '{name}': {e}"),
    };
    Err(InvalidControl::Python { name: name.to_string(), message })
}

/// Every activity of the experiment: hypothesis probes, method, rollbacks.
pub fn all_activities(exp: &Map<String, Value>) -> impl Iterator<Item = &Value> {
    let probes = exp.get("steady-state-hypothesis").and_then(|h| h.get("probes")).and_then(Value::as_array);
    let method = exp.get("method").and_then(Value::as_array);
    let rollbacks = exp.get("rollbacks").and_then(Value::as_array);
    probes.into_iter().chain(method).chain(rollbacks).flatten()
}

/// The activities a `ref` can name: method activities and hypothesis probes, by name
/// (a probe wins over a method activity of the same name, as in the reference).
#[derive(Debug, Default, Clone)]
pub struct ActivityCache {
    by_name: Map<String, Value>,
}

impl ActivityCache {
    /// Indexes an experiment's method and hypothesis probes.
    pub fn new(exp: &Map<String, Value>) -> Self {
        let mut by_name = Map::new();
        let method = exp.get("method").and_then(Value::as_array);
        let probes = exp.get("steady-state-hypothesis").and_then(|h| h.get("probes")).and_then(Value::as_array);
        for activity in method.into_iter().chain(probes).flatten() {
            if let Some(name) = activity.get("name").and_then(Value::as_str)
                && !name.is_empty()
            {
                by_name.insert(name.to_string(), activity.clone());
            }
        }
        ActivityCache { by_name }
    }

    /// The activity named `name`, if it is non-empty.
    pub fn lookup(&self, name: &str) -> Option<&Value> {
        self.by_name.get(name).filter(|a| truthy(a))
    }
}

/// Truthiness of an optional map entry (a missing key is falsy, like `dict.get`).
fn truthy_opt(value: Option<&Value>) -> bool {
    value.is_some_and(truthy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> String {
        match ensure_experiment_is_valid(&v) {
            Ok(()) => "valid".to_string(),
            Err(e) => format!("{}: {e}", e.kind()),
        }
    }

    fn probe() -> Value {
        json!({"type": "probe", "name": "p", "tolerance": 0, "provider": {"type": "process", "path": "true"}})
    }

    #[test]
    fn experiment_level_messages() {
        assert_eq!(err(json!({})), "InvalidExperiment: an empty experiment is not an experiment");
        assert_eq!(err(json!(null)), "InvalidExperiment: an empty experiment is not an experiment");
        assert_eq!(err(json!({"description": "d"})), "InvalidExperiment: experiment requires a title");
        assert_eq!(err(json!({"title": "t"})), "InvalidExperiment: experiment requires a description");
        assert_eq!(
            err(json!({"title": "t", "description": "d", "tags": ["", "x"]})),
            "InvalidExperiment: experiment tags must be a non-empty string"
        );
        assert_eq!(
            err(json!({"title": "t", "description": "d"})),
            "InvalidExperiment: an experiment requires a method, which can be empty for only checking steady state hypothesis "
        );
        assert_eq!(err(json!({"title": "t", "description": "d", "method": []})), "valid");
        assert_eq!(
            err(json!({"title": "t", "description": "d", "method": [], "steady-state-hypothesis": {"probes": []}})),
            "InvalidExperiment: hypothesis requires a title"
        );
        assert_eq!(err(json!([1])), "InvalidExperiment: an experiment must be a mapping, not a list");
    }

    #[test]
    fn activity_level_messages() {
        let with_method = |a: Value| json!({"title": "t", "description": "d", "method": [a]});
        assert_eq!(err(with_method(json!({}))), "InvalidActivity: empty activity is no activity");
        assert_eq!(err(with_method(json!({"name": "x"}))), "InvalidActivity: an activity must have a type");
        assert_eq!(
            err(with_method(json!({"type": "thing", "name": "x"}))),
            "InvalidActivity: 'thing' is not a supported activity type"
        );
        assert_eq!(
            err(with_method(json!({"type": "action", "name": "x", "provider": {"type": "ftp"}}))),
            "InvalidActivity: unknown provider type 'ftp'"
        );
        // Python steps 1–2 are checked here, before any interpreter is needed.
        assert_eq!(
            err(with_method(json!({"type": "action", "name": "py", "provider": {"type": "python", "func": "getcwd"}}))),
            "InvalidActivity: a Python activity must have a module path"
        );
        assert_eq!(
            err(with_method(json!({"type": "action", "name": "py", "provider": {"type": "python", "module": "os"}}))),
            "InvalidActivity: a Python activity must have a function name"
        );
        assert_eq!(
            err(with_method(
                json!({"type": "action", "name": "x", "provider": {"type": "process", "path": "surely-not-a-command-xyz"}})
            )),
            "InvalidActivity: path 'surely-not-a-command-xyz' cannot be found, in activity 'x'"
        );
        assert_eq!(
            err(with_method(
                json!({"type": "action", "name": "x", "timeout": "1", "provider": {"type": "process", "path": "true"}})
            )),
            "InvalidActivity: activity timeout must be a number"
        );
        assert_eq!(
            err(with_method(
                json!({"type": "action", "name": "x", "pauses": {"after": "soon"}, "provider": {"type": "process", "path": "true"}})
            )),
            "InvalidActivity: activity after pause must be a number or a pattern to a variable from the configuration or secrets"
        );
        assert_eq!(
            err(with_method(json!({"type": "action", "name": "x", "provider": {"type": "http"}}))),
            "InvalidActivity: a HTTP activity must have a URL"
        );
        assert_eq!(
            err(with_method(json!({"ref": "nope"}))),
            "InvalidActivity: referenced activity 'nope' could not be found in the experiment"
        );
    }

    #[test]
    fn tolerance_shapes() {
        let with_tol = |t: Value| {
            let mut p = probe();
            p["tolerance"] = t;
            json!({"title": "t", "description": "d", "method": [], "steady-state-hypothesis": {"title": "h", "probes": [p]}})
        };
        assert_eq!(err(with_tol(json!(true))), "valid");
        assert_eq!(err(with_tol(json!([0, 1]))), "valid");
        assert_eq!(err(with_tol(json!(1.5))), format!("InvalidActivity: {}", InvalidActivity::BadToleranceType));
        assert_eq!(
            err(with_tol(json!({"type": "nope"}))),
            "InvalidActivity: hypothesis probe tolerance type 'nope' is unsupported"
        );
        assert_eq!(
            err(with_tol(json!({"target": "x"}))),
            "InvalidActivity: hypothesis probe tolerance type 'None' is unsupported"
        );
        assert_eq!(
            err(with_tol(json!({"type": "range", "range": [1]}))),
            "InvalidActivity: hypothesis range sequence must be made of two values"
        );
        assert_eq!(
            err(with_tol(json!({"type": "regex", "pattern": "("}))),
            "InvalidActivity: hypothesis probe tolerance pattern ( seems invalid: unclosed group"
        );
        assert_eq!(
            err(with_tol(json!({"type": "jsonpath", "path": "$[?"}))),
            "InvalidActivity: hypothesis probe tolerance JSON path $[? is invalid"
        );
        let mut no_tol = probe();
        no_tol.as_object_mut().map(|o| o.remove("tolerance"));
        assert_eq!(
            err(
                json!({"title": "t", "description": "d", "method": [], "steady-state-hypothesis": {"title": "h", "probes": [no_tol]}})
            ),
            "InvalidActivity: hypothesis probe must have a tolerance entry"
        );
    }

    #[test]
    fn controls() {
        let exp = |c: Value| json!({"title": "t", "description": "d", "method": [], "controls": [c]});
        assert_eq!(err(exp(json!({"provider": {}}))), "InvalidControl: A control must have a `name` property");
        assert_eq!(err(exp(json!({"name": "c"}))), "InvalidControl: Control 'c' must have a `provider` property");
        assert_eq!(
            err(exp(json!({"name": "c", "provider": {"type": "python"}, "scope": "during"}))),
            "InvalidControl: Control 'c' scope property must be 'before' or 'after' only"
        );
        assert_eq!(
            err(exp(json!({"name": "c", "provider": {"type": "python"}}))),
            "InvalidActivity: Control 'c' must have a module path"
        );
        assert_eq!(
            err(exp(json!({"name": "c", "ref": "other", "provider": {}}))),
            "InvalidControl: Control reference 'other' declaration cannot be found"
        );
    }
}
