//! Built-in plugins, pre-mapped to their Chaos Toolkit module names.
//!
//! | module | func | what it does |
//! |---|---|---|
//! | `chaosslack.notification` | `notify` | posts the chaostoolkit-slack 0.10 message with `chat.postMessage` |
//! | `notifier.jsonl` | `notify` | appends one JSON line per event to `path` (`-` = stdout) |
//! | `notifier.console` | `notify` | one short line per event on stderr (`stream: stdout` for stdout) |

pub mod console;
pub mod jsonl;
#[cfg(feature = "http")]
pub mod slack;

/// What the settings compiler and code generator know about a built-in plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinPlugin {
    /// Chaos Toolkit module name.
    pub module: &'static str,
    /// Function name.
    pub func: &'static str,
    /// Keys the channel entry must have, as strings.
    pub required: &'static [&'static str],
    /// The Rust function, as a path through the `notifier` facade crate.
    pub rust_path: &'static str,
}

/// Every built-in plugin.
pub const BUILTINS: &[BuiltinPlugin] = &[
    BuiltinPlugin {
        module: "chaosslack.notification",
        func: "notify",
        required: &["token", "channel"],
        rust_path: "::notifier::plugins::slack::notify",
    },
    BuiltinPlugin {
        module: "notifier.jsonl",
        func: "notify",
        required: &["path"],
        rust_path: "::notifier::plugins::jsonl::notify",
    },
    BuiltinPlugin {
        module: "notifier.console",
        func: "notify",
        required: &[],
        rust_path: "::notifier::plugins::console::notify",
    },
];

/// The built-in plugin registered under `module` (any function name).
pub fn builtin(module: &str) -> Option<&'static BuiltinPlugin> {
    BUILTINS.iter().find(|b| b.module == module)
}

/// The function of a built-in plugin, by Chaos Toolkit module and function name.
#[cfg(feature = "http")]
pub fn builtin_fn(module: &str, func: &str) -> Option<crate::PluginFn> {
    match (module, func) {
        ("chaosslack.notification", "notify") => Some(slack::notify),
        ("notifier.jsonl", "notify") => Some(jsonl::notify),
        ("notifier.console", "notify") => Some(console::notify),
        _ => None,
    }
}
