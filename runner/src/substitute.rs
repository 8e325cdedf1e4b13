//! Step 3b: `${name}` substitution from the configuration and the secrets.
//!
//! The rules are those of chaostoolkit-lib (Python's `string.Template.safe_substitute`
//! with one twist):
//!
//! * `${name}` and `$name` are replaced by the first value found in the configuration,
//!   then in each secrets scope in declaration order; unknown names stay as written.
//! * A string that is exactly one `${name}` becomes the value itself, keeping its JSON
//!   type (`"${port}"` → `8080`); anywhere else the value is rendered like Python's
//!   `str()` (`True`, `None`, `{'a': 1}`).
//! * `$$` becomes `$`.
//! * Substitution recurses into lists and mappings (values only, never keys).

use serde_json::{Map, Value};

use notifier_core::pyvalue::{python_str, truthy};

/// Where `${name}` values come from.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    configuration: &'a Map<String, Value>,
    secrets: &'a Map<String, Value>,
}

impl<'a> Scope<'a> {
    /// A scope over loaded configuration and secrets (secrets are grouped in scopes:
    /// `{"scope": {"name": value}}`; only the inner names are visible).
    pub fn new(configuration: &'a Map<String, Value>, secrets: &'a Map<String, Value>) -> Self {
        Scope { configuration, secrets }
    }

    /// True when there is nothing to substitute from.
    pub fn is_empty(&self) -> bool {
        self.configuration.is_empty() && self.secrets.is_empty()
    }

    /// The value bound to `name`, if any.
    pub fn lookup(&self, name: &str) -> Option<&'a Value> {
        self.configuration
            .get(name)
            .or_else(|| self.secrets.values().filter_map(Value::as_object).find_map(|scope| scope.get(name)))
    }

    /// Substitutes every string inside `value` (see the module docs).
    pub fn substitute(&self, value: &Value) -> Value {
        if !truthy(value) {
            return value.clone();
        }
        match value {
            Value::String(s) => self.substitute_str(s),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.substitute(v)).collect()),
            Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), self.substitute(v))).collect()),
            other => other.clone(),
        }
    }

    /// Substitutes one string; a lone `${name}` keeps the value's type.
    pub fn substitute_str(&self, template: &str) -> Value {
        if let Some(name) =
            template.strip_prefix("${").and_then(|rest| rest.strip_suffix('}')).filter(|name| is_identifier(name))
        {
            if let Some(value) = self.lookup(name) {
                return value.clone();
            }
            tracing::debug!(
                "The pattern {template} does not have a matching value in either the configuration or secrets; it is passed as-is"
            );
        }
        Value::String(self.safe_substitute(template))
    }

    fn safe_substitute(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                out.push('$');
                rest = tail;
            } else if let Some(braced) = after.strip_prefix('{') {
                let end = braced.find('}');
                match end.map(|e| &braced[..e]).filter(|n| is_identifier(n)) {
                    Some(name) => {
                        match self.lookup(name) {
                            Some(v) => out.push_str(&python_str(v)),
                            None => {
                                out.push_str("${");
                                out.push_str(name);
                                out.push('}');
                            }
                        }
                        rest = &braced[name.len() + 1..];
                    }
                    None => {
                        out.push('$');
                        rest = after;
                    }
                }
            } else {
                let len = identifier_prefix_len(after);
                if len == 0 {
                    out.push('$');
                    rest = after;
                } else {
                    let name = &after[..len];
                    match self.lookup(name) {
                        Some(v) => out.push_str(&python_str(v)),
                        None => {
                            out.push('$');
                            out.push_str(name);
                        }
                    }
                    rest = &after[len..];
                }
            }
        }
        out.push_str(rest);
        out
    }
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty() && identifier_prefix_len(name) == name.len()
}

fn identifier_prefix_len(s: &str) -> usize {
    let mut len = 0;
    for (i, c) in s.char_indices() {
        let ok = c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
        if !ok {
            break;
        }
        len = i + c.len_utf8();
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn maps() -> (Map<String, Value>, Map<String, Value>) {
        let conf = json!({"port": 8080, "host": "localhost", "flag": true, "obj": {"a": 1}});
        let secrets = json!({"db": {"password": "s3cret", "port": 1}});
        (conf.as_object().cloned().unwrap_or_default(), secrets.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn lone_placeholder_keeps_its_type() {
        let (c, s) = maps();
        let scope = Scope::new(&c, &s);
        assert_eq!(scope.substitute(&json!("${port}")), json!(8080));
        assert_eq!(scope.substitute(&json!("${obj}")), json!({"a": 1}));
        assert_eq!(scope.substitute(&json!("${password}")), json!("s3cret"));
    }

    #[test]
    fn embedded_placeholders_render_like_python_str() {
        let (c, s) = maps();
        let scope = Scope::new(&c, &s);
        assert_eq!(
            scope.substitute(&json!("http://${host}:$port/x ${flag} ${obj}")),
            json!("http://localhost:8080/x True {'a': 1}")
        );
        assert_eq!(
            scope.substitute(&json!(["${missing}", "a $missing b", "$$HOME", "${bad-name}", "$"])),
            json!(["${missing}", "a $missing b", "$HOME", "${bad-name}", "$"])
        );
        assert_eq!(scope.substitute(&json!({"k": {"n": ["${port}"]}, "z": 1})), json!({"k": {"n": [8080]}, "z": 1}));
    }
}
