//! `${VAR}` references in settings values, resolved from the environment at run time.
//!
//! Syntax: `${NAME}` is the variable's value, `${NAME:-default}` falls back to `default`
//! when the variable is unset or empty, `$$` is a literal `$`. A `$` followed by anything
//! else is kept as is. Names are `[A-Za-z_][A-Za-z0-9_]*`.
//!
//! Templates are kept unresolved in the channel table (and in generated code), so a
//! secret never ends up in a binary or in a settings dump; only the resolved channel
//! holds the value, and its [`Redactor`](crate::redact::Redactor) masks it in every
//! message and `Debug` output.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

/// A piece of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// Literal text.
    Lit(Cow<'static, str>),
    /// An environment variable reference.
    Var {
        /// Variable name.
        name: Cow<'static, str>,
        /// Value used when the variable is unset or empty (`${NAME:-default}`).
        default: Option<Cow<'static, str>>,
    },
}

/// A settings string that may reference environment variables.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Template(pub Cow<'static, [Segment]>);

/// A malformed `${…}` reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `${` without the closing `}`.
    #[error("`${{` at character {at} is not closed with `}}`")]
    Unclosed {
        /// Character offset of the `$`.
        at: usize,
    },
    /// `${}` or a name with characters other than letters, digits and `_`.
    #[error("`{name}` is not a valid environment variable name (letters, digits and `_`, not starting with a digit)")]
    BadName {
        /// The name as written.
        name: String,
    },
}

/// A variable a template needs that is not set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable `{name}` is not set")]
pub struct MissingVar {
    /// The variable's name.
    pub name: String,
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

impl Template {
    /// A template made only of `text`.
    pub fn literal(text: impl Into<Cow<'static, str>>) -> Template {
        Template(Cow::Owned(vec![Segment::Lit(text.into())]))
    }

    /// A template over static segments (generated code).
    pub const fn from_static(segments: &'static [Segment]) -> Template {
        Template(Cow::Borrowed(segments))
    }

    /// Parses `${VAR}` references.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut segments = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(i) = rest.find('$') {
            lit.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let at = offset + rest[..i].chars().count();
            if let Some(tail) = after.strip_prefix('$') {
                lit.push('$');
                offset = at + 2;
                rest = tail;
            } else if let Some(body) = after.strip_prefix('{') {
                let Some(end) = body.find('}') else {
                    return Err(TemplateError::Unclosed { at });
                };
                let inner = &body[..end];
                let (name, default) = match inner.split_once(":-") {
                    Some((n, d)) => (n, Some(Cow::Owned(d.to_owned()))),
                    None => (inner, None),
                };
                if !valid_name(name) {
                    return Err(TemplateError::BadName { name: name.to_owned() });
                }
                if !lit.is_empty() {
                    segments.push(Segment::Lit(Cow::Owned(std::mem::take(&mut lit))));
                }
                segments.push(Segment::Var { name: Cow::Owned(name.to_owned()), default });
                offset = at + 3 + inner.chars().count();
                rest = &body[end + 1..];
            } else {
                lit.push('$');
                offset = at + 1;
                rest = after;
            }
        }
        lit.push_str(rest);
        if !lit.is_empty() || segments.is_empty() {
            segments.push(Segment::Lit(Cow::Owned(lit)));
        }
        Ok(Template(Cow::Owned(segments)))
    }

    /// The segments.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// Whether the template references no variable.
    pub fn is_literal(&self) -> bool {
        self.0.iter().all(|s| matches!(s, Segment::Lit(_)))
    }

    /// The names of the variables referenced.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|s| match s {
            Segment::Var { name, .. } => Some(name.as_ref()),
            Segment::Lit(_) => None,
        })
    }

    /// Names of referenced variables that are unset (or empty) and have no default.
    pub fn missing_vars(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|s| match s {
                Segment::Var { name, default: None } if lookup(name).is_none_or(|v| v.is_empty()) => {
                    Some(name.to_string())
                }
                _ => None,
            })
            .collect()
    }

    /// Resolves the template with `lookup` (usually the process environment).
    pub fn resolve_with(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, MissingVar> {
        let mut out = String::new();
        for seg in self.0.iter() {
            match seg {
                Segment::Lit(t) => out.push_str(t),
                Segment::Var { name, default } => match (lookup(name).filter(|v| !v.is_empty()), default) {
                    (Some(v), _) => out.push_str(&v),
                    (None, Some(d)) => out.push_str(d),
                    (None, None) => return Err(MissingVar { name: name.to_string() }),
                },
            }
        }
        Ok(out)
    }

    /// Resolves the template from the process environment.
    pub fn resolve(&self) -> Result<String, MissingVar> {
        self.resolve_with(&|name| std::env::var(name).ok())
    }

    /// The text as written in the settings file (`${VAR}` references kept, `$` doubled),
    /// which never contains a resolved secret.
    pub fn source_text(&self) -> String {
        let mut out = String::new();
        for seg in self.0.iter() {
            match seg {
                Segment::Lit(t) => out.push_str(&t.replace('$', "$$")),
                Segment::Var { name, default: None } => out.push_str(&format!("${{{name}}}")),
                Segment::Var { name, default: Some(d) } => out.push_str(&format!("${{{name}:-{d}}}")),
            }
        }
        out
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Template({:?})", self.source_text())
    }
}

/// Resolves `${VAR}` in every string of a JSON value (`key` names the value in errors;
/// strings under object keys are named by their own key). Every resolved value that came
/// from a variable, or sits under a sensitive key (`token`, `routing_key`…), is added to
/// `redactor`.
pub fn resolve_json(
    value: Value,
    key: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    redactor: &mut crate::redact::Redactor,
) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => {
            let t = Template::parse(&s).map_err(|e| format!("`{key}`: {e}"))?;
            let out = t.resolve_with(lookup).map_err(|e| format!("`{key}`: {e}"))?;
            if !t.is_literal() || crate::redact::is_sensitive_name(key) {
                redactor.add(out.clone());
            }
            Value::String(out)
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| resolve_json(v, key, lookup, redactor)).collect::<Result<_, _>>()?)
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| resolve_json(v, &k, lookup, redactor).map(|v| (k, v)))
                .collect::<Result<_, _>>()?,
        ),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cr3t".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn parses_and_resolves() {
        let t = Template::parse("Bearer ${TOKEN}").unwrap();
        assert_eq!(t.vars().collect::<Vec<_>>(), ["TOKEN"]);
        assert_eq!(t.resolve_with(&env).unwrap(), "Bearer s3cr3t");
        let t = Template::parse("${NOPE:-x}-${EMPTY:-y}-$$5-$5").unwrap();
        assert_eq!(t.resolve_with(&env).unwrap(), "x-y-$5-$5");
        assert_eq!(Template::parse("${NOPE}").unwrap().resolve_with(&env), Err(MissingVar { name: "NOPE".into() }));
        assert!(Template::parse("plain").unwrap().is_literal());
        assert_eq!(Template::parse("").unwrap().resolve_with(&env).unwrap(), "");
    }

    #[test]
    fn source_text_round_trips() {
        for s in ["a${B}c", "$$x", "${A:-d}", "no vars", "$5"] {
            let t = Template::parse(s).unwrap();
            assert_eq!(Template::parse(&t.source_text()).unwrap(), t, "{s}");
        }
    }

    #[test]
    fn malformed_references() {
        assert_eq!(Template::parse("x ${TOKEN").unwrap_err(), TemplateError::Unclosed { at: 2 });
        assert!(matches!(Template::parse("${1A}"), Err(TemplateError::BadName { .. })));
        assert!(matches!(Template::parse("${}"), Err(TemplateError::BadName { .. })));
    }
}
