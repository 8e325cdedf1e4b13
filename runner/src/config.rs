//! Step 3a: configuration and secrets, as chaostoolkit-lib loads them.
//!
//! * `configuration` values are literals, or `{"type": "env", "key": VAR, "default"?,
//!   "env_var_type"?}` read from the environment (an unset variable without default is an
//!   `InvalidExperiment`). `env_var_type` is one of `str`/`string`, `int`/`integer`,
//!   `float`/`number`, `bool`, `json` or `bytes` (kept as a string here).
//! * `--var KEY[:TYPE]=VALUE` overrides a configuration key the experiment declares
//!   (like `chaos run --var`; undeclared keys are ignored, as in the reference).
//! * `secrets` are scopes of named values: literals or `{"type": "env", "key": VAR}`
//!   (the variable must be set). Vault secrets are not supported: they load as empty,
//!   with an error in the log, as chaostoolkit-lib does without `hvac` installed.
//! * Dynamic configuration (`{"type": "probe", …}` entries) is resolved by the executor.

use std::str::FromStr;

use serde_json::{Map, Value};

use crate::error::InvalidExperiment;
use notifier_core::pyvalue::python_str;

/// One `--var KEY[:TYPE]=VALUE` from the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Var {
    /// The configuration key.
    pub name: String,
    /// The value, converted to TYPE when one was given.
    pub value: Value,
}

/// Why a `--var` could not be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct BadVar(String);

impl FromStr for Var {
    type Err = BadVar;

    fn from_str(s: &str) -> Result<Var, BadVar> {
        let (key, value) =
            s.split_once('=').ok_or_else(|| BadVar("var needs to be in the format name[:type]=value".into()))?;
        let (name, ty) = match key.rsplit_once(':') {
            Some((name, ty)) => (name, Some(ty)),
            None => (key, None),
        };
        if name.is_empty() {
            return Err(BadVar("var needs to be in the format name[:type]=value".into()));
        }
        let value = convert_to_type(ty, Value::String(value.to_string()))
            .map_err(|_| BadVar("var cannot convert value to required type".into()))?;
        Ok(Var { name: name.to_string(), value })
    }
}

/// A failed `env_var_type` conversion.
#[derive(Debug, Clone, PartialEq)]
pub enum ConversionError {
    /// The type is not one of the supported names.
    UnknownType,
    /// The value does not convert to the type.
    BadValue,
}

/// Converts a raw value to an `env_var_type` (`None` keeps it as-is).
pub fn convert_to_type(ty: Option<&str>, value: Value) -> Result<Value, ConversionError> {
    match ty {
        None | Some("str" | "string" | "bytes") => Ok(value),
        Some("int" | "integer") => match &value {
            Value::String(s) => {
                s.trim().replace('_', "").parse::<i64>().map(Value::from).map_err(|_| ConversionError::BadValue)
            }
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f.trunc() as i64))
                .map(Value::from)
                .ok_or(ConversionError::BadValue),
            Value::Bool(b) => Ok(Value::from(i64::from(*b))),
            _ => Err(ConversionError::BadValue),
        },
        Some("float" | "number") => {
            let f = match &value {
                Value::String(s) => s.trim().parse::<f64>().ok(),
                Value::Number(n) => n.as_f64(),
                Value::Bool(b) => Some(f64::from(u8::from(*b))),
                _ => None,
            };
            f.and_then(serde_json::Number::from_f64).map(Value::Number).ok_or(ConversionError::BadValue)
        }
        Some("bool") => match &value {
            Value::Bool(_) => Ok(value),
            Value::String(s) => Ok(Value::Bool(!matches!(s.to_lowercase().as_str(), "false" | "0" | "no"))),
            _ => Err(ConversionError::BadValue),
        },
        Some("json") => match &value {
            Value::String(s) if s.is_empty() => Ok(value),
            Value::String(s) => serde_json::from_str(s).map_err(|_| ConversionError::BadValue),
            _ => Ok(value),
        },
        Some(_) => Err(ConversionError::UnknownType),
    }
}

/// Loads the `configuration` section (see the module docs). `vars` override declared keys.
pub fn load_configuration(section: Option<&Value>, vars: &[Var]) -> Result<Map<String, Value>, InvalidExperiment> {
    let entries = match section {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(InvalidExperiment::ConfigurationNotAMapping),
    };
    let mut conf = Map::new();
    for (key, declared) in entries {
        let overridden = vars.iter().rev().find(|v| &v.name == key);
        let value = overridden.map_or(declared, |v| &v.value);
        let loaded = match value.as_object() {
            Some(entry) if entry.get("type").and_then(Value::as_str) == Some("env") => load_env_entry(key, entry)?,
            _ => value.clone(),
        };
        conf.insert(key.clone(), loaded);
    }
    Ok(conf)
}

fn load_env_entry(name: &str, entry: &Map<String, Value>) -> Result<Value, InvalidExperiment> {
    let env_key = entry
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(|| InvalidExperiment::ConfigurationEnvWithoutKey { name: name.to_string() })?;
    let raw = match std::env::var_os(env_key) {
        Some(v) => Value::String(v.to_string_lossy().into_owned()),
        None => match entry.get("default") {
            Some(default) => default.clone(),
            None => {
                return Err(InvalidExperiment::MissingConfigurationEnv { key: env_key.to_string() });
            }
        },
    };
    let ty = match entry.get("env_var_type") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(InvalidExperiment::UnknownVariableType),
    };
    convert_to_type(ty, raw.clone()).map_err(|e| match e {
        ConversionError::UnknownType => InvalidExperiment::UnknownVariableType,
        ConversionError::BadValue => InvalidExperiment::BadVariableValue {
            name: name.to_string(),
            value: python_str(&raw),
            to: ty.unwrap_or("str").to_string(),
        },
    })
}

/// Loads the `secrets` section (see the module docs).
pub fn load_secrets(section: Option<&Value>) -> Result<Map<String, Value>, InvalidExperiment> {
    match section {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => load_secret_map(map),
        Some(_) => Err(InvalidExperiment::SecretsNotAMapping),
    }
}

fn load_secret_map(map: &Map<String, Value>) -> Result<Map<String, Value>, InvalidExperiment> {
    let mut out = Map::new();
    for (key, value) in map {
        let loaded = match value {
            Value::Object(entry) => match entry.get("type").and_then(Value::as_str) {
                Some("env") => {
                    let env_key = entry.get("key").and_then(Value::as_str).unwrap_or_default();
                    match std::env::var_os(env_key) {
                        Some(v) if !env_key.is_empty() => Value::String(v.to_string_lossy().into_owned()),
                        _ => {
                            return Err(InvalidExperiment::MissingSecretEnv { key: env_key.to_string() });
                        }
                    }
                }
                Some("vault") => {
                    tracing::error!(
                        "secret '{key}' comes from Vault, which this runner does not support: it is left empty"
                    );
                    Value::Object(Map::new())
                }
                _ => Value::Object(load_secret_map(entry)?),
            },
            other => other.clone(),
        };
        out.insert(key.clone(), loaded);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn vars_parse_with_types() {
        assert_eq!("port:int=8080".parse::<Var>(), Ok(Var { name: "port".into(), value: json!(8080) }));
        assert_eq!("url=http://x:1/a=b".parse::<Var>().map(|v| v.value), Ok(json!("http://x:1/a=b")));
        assert!("novalue".parse::<Var>().is_err());
        assert!("n:int=abc".parse::<Var>().is_err());
        assert!("n:weird=1".parse::<Var>().is_err());
    }

    #[test]
    fn configuration_literals_env_defaults_and_vars() {
        let section = json!({
            "a": "literal",
            "b": {"type": "env", "key": "NOTIFIER_RUNNER_TEST_SURELY_UNSET", "default": "7", "env_var_type": "int"},
            "c": {"type": "env", "key": "NOTIFIER_RUNNER_TEST_SURELY_UNSET", "default": "yes", "env_var_type": "bool"},
            "d": 1
        });
        let vars = vec![Var { name: "d".into(), value: json!("over") }];
        let conf = load_configuration(Some(&section), &vars).unwrap_or_default();
        assert_eq!(Value::Object(conf), json!({"a": "literal", "b": 7, "c": true, "d": "over"}));
        let missing = json!({"x": {"type": "env", "key": "NOTIFIER_RUNNER_TEST_SURELY_UNSET"}});
        assert_eq!(
            load_configuration(Some(&missing), &[]).map_err(|e| e.to_string()),
            Err("Configuration makes reference to an environment key that does not exist: NOTIFIER_RUNNER_TEST_SURELY_UNSET".to_string())
        );
    }

    #[test]
    fn secrets_inline_and_env() {
        let section = json!({"scope": {"token": "abc", "home": {"type": "env", "key": "PATH"}}});
        let secrets = load_secrets(Some(&section)).unwrap_or_default();
        assert_eq!(secrets["scope"]["token"], json!("abc"));
        assert!(secrets["scope"]["home"].is_string());
        let missing = json!({"s": {"x": {"type": "env", "key": "NOTIFIER_RUNNER_TEST_SURELY_UNSET"}}});
        assert!(matches!(load_secrets(Some(&missing)), Err(InvalidExperiment::MissingSecretEnv { .. })));
    }
}
