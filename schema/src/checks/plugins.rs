//! Plugin channels: `module`, `func`, their other keys, and what built-in plugins need.

use serde_json::{Map, Value};

use notifier_core::plugins::{BUILTINS, builtin, nats};
use notifier_core::redact::is_sensitive_name;

use super::describe::{describe, describe_secret};
use super::secrets::plain_text_secret;
use super::templates::check_template;
use crate::code::Code;
use crate::located::escape_pointer;
use crate::report::Report;
use crate::rust_name::{RustName, rust_name};
use crate::schema::channel_keys;

/// Checks a plugin channel: `module`, `func`, plain-text credentials among its other keys,
/// and what a built-in plugin needs.
pub(super) fn check_plugin(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) {
    let mp = format!("{ptr}/module");
    match entry.get("module") {
        None | Some(Value::Null) => r.error(Code::MissingModule, ptr, "plugin channel has no `module`").help(
            "add `module: package.module` (e.g. `chaosslack.notification`); \
             Chaos Toolkit crashes the whole command on this",
        ),
        Some(Value::String(m)) if m.split('.').all(is_identifier) => {}
        Some(Value::String(m)) => {
            let message =
                if m.is_empty() { "`module` is empty".into() } else { format!("`{m}` is not a dotted module path") };
            r.error(Code::InvalidModule, &mp, message)
                .help("write identifiers separated by dots, e.g. `chaosslack.notification`");
        }
        Some(other) => {
            r.error(Code::InvalidModule, &mp, format!("`module` must be a string, found {}", describe(other))).help(
                "write the plugin's dotted module path, e.g. `chaosslack.notification`; \
                 Chaos Toolkit crashes the whole command on this",
            )
        }
    }
    match entry.get("func") {
        None => {}
        Some(Value::String(f)) if is_identifier(f) && rust_name(f) == RustName::Impossible => {
            r.error(Code::ReservedFunc, &format!("{ptr}/func"), format!("`{f}` cannot name a Rust function")).help(
                "plugins are Rust functions, and Rust reserves `_`, `self`, `Self`, `super` and `crate` \
                 (even as raw identifiers): rename the function and `func`",
            );
        }
        Some(Value::String(f)) if is_identifier(f) => {}
        Some(other) => r
            .error(
                Code::InvalidFunc,
                &format!("{ptr}/func"),
                match other {
                    Value::String(f) => format!("`{f}` is not a function name"),
                    Value::Null => "`func` is null; Chaos Toolkit would look for a function named `None`".into(),
                    _ => format!("`func` must be a function name, found {}", describe(other)),
                },
            )
            .help("remove `func` to call `notify`, or name a function of the module"),
    }
    // Plugin-specific keys: secrets in plain text, and what built-in plugins require.
    let interpreted = channel_keys("plugin").unwrap_or_default();
    // `notifier.nats` keys naming files (`tls_key: /etc/nats/key.pem`) are paths, not
    // credentials.
    let paths: &[&str] =
        if entry.get("module").and_then(Value::as_str) == Some(nats::MODULE) { &nats::FILE_KEYS } else { &[] };
    for (key, value) in entry.iter().filter(|(k, _)| !interpreted.contains(k) && !paths.contains(&k.as_str())) {
        let kp = format!("{ptr}/{}", escape_pointer(key));
        match value {
            Value::String(s) => {
                let Some(t) = check_template(&kp, s, r) else { continue };
                if t.is_literal() && is_sensitive_name(key) && !s.is_empty() {
                    plain_text_secret(&kp, &format!("`{key}`"), r);
                }
            }
            // `api_key: 123456`: still a credential in plain text.
            Value::Number(_) if is_sensitive_name(key) => plain_text_secret(&kp, &format!("`{key}`"), r),
            _ => {}
        }
    }
    // What the run-time loader can resolve: built-in plugins, their function, their keys.
    let Some(Value::String(module)) = entry.get("module") else { return };
    if !module.split('.').all(is_identifier) {
        return;
    }
    let Some(b) = builtin(module) else {
        let builtins: Vec<&str> = BUILTINS.iter().map(|b| b.module).collect();
        r.warning(Code::UnknownPlugin, &mp, format!("`{module}` is not a built-in plugin")).help(format!(
            "`notifier send/run` and `Notifier::from_settings_file` call it as a Python plugin, in the interpreter \
             of `--python`, $NOTIFIER_PYTHON, $VIRTUAL_ENV or `python3` on PATH, and skip this channel alone if \
             `{module}` cannot be imported there; built in: {}; a Rust program maps it in `settings!` \
             (`plugins: {{ … }}`) or with `PluginRegistry::register`",
            builtins.join(", ")
        ));
        return;
    };
    if let Some(Value::String(func)) = entry.get("func")
        && func != b.func
        && is_identifier(func)
        && rust_name(func) != RustName::Impossible
    {
        r.error(
            Code::UnknownFunc,
            &format!("{ptr}/func"),
            format!("the built-in plugin `{module}` has no function `{func}`"),
        )
        .help(format!("its function is `{}`; remove `func` to use it", b.func));
    }
    for key in b.required {
        match entry.get(*key) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            None => r
                .error(Code::MissingPluginKey, ptr, format!("`{module}` needs `{key}`"))
                .help(format!("add `{key}: …` to this channel")),
            Some(other) => {
                r.error(
                    Code::InvalidPluginKey,
                    &format!("{ptr}/{key}"),
                    format!(
                        "`{key}` of `{module}` must be a non-empty string, found {}",
                        if is_sensitive_name(key) { describe_secret(other).to_owned() } else { describe(other) }
                    ),
                );
            }
        }
    }
    if b.module == notifier_core::plugins::nats::MODULE {
        super::nats::check_nats(ptr, entry, r);
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}
