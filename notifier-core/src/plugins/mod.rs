//! Built-in plugins, pre-mapped to their Chaos Toolkit module names.
//!
//! | module | func | what it does |
//! |---|---|---|
//! | `chaosslack.notification` | `notify` | posts the chaostoolkit-slack 0.10 message with `chat.postMessage` |
//! | `notifier.jsonl` | `notify` | appends one JSON line per event to `path` (`-` = stdout) |
//! | `notifier.console` | `notify` | one short line per event on stderr (`stream: stdout` for stdout) |
//! | `notifier.nats` | `notify` | publishes each event to NATS JetStream and waits for the PubAck (feature `nats`) |

pub mod console;
pub mod jsonl;
pub mod nats;
#[cfg(feature = "http")]
pub mod slack;

/// What the settings compiler and code generator know about a built-in plugin.
// Not comparable: it holds a function pointer.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinPlugin {
    /// Chaos Toolkit module name.
    pub module: &'static str,
    /// Function name.
    pub func: &'static str,
    /// Keys the channel entry must have, as strings.
    pub required: &'static [&'static str],
    /// Whether the plugin makes the channel's `retries` itself (as http channels do): the
    /// compiler then keeps `retries` in the channel definition, which widens its budget.
    pub retries: bool,
    /// The Rust module holding `func`, as a path under the `notifier` facade crate (what
    /// generated code names).
    pub rust_module: &'static str,
    /// The Rust function (what the run-time registry calls).
    #[cfg(feature = "http")]
    pub call: crate::PluginFn,
}

/// Every built-in plugin.
pub const BUILTINS: &[BuiltinPlugin] = &[
    BuiltinPlugin {
        module: "chaosslack.notification",
        func: "notify",
        required: &["token", "channel"],
        retries: false,
        rust_module: "plugins::slack",
        #[cfg(feature = "http")]
        call: slack::notify,
    },
    BuiltinPlugin {
        module: "notifier.jsonl",
        func: "notify",
        required: &["path"],
        retries: false,
        rust_module: "plugins::jsonl",
        #[cfg(feature = "http")]
        call: jsonl::notify,
    },
    BuiltinPlugin {
        module: "notifier.console",
        func: "notify",
        required: &[],
        retries: false,
        rust_module: "plugins::console",
        #[cfg(feature = "http")]
        call: console::notify,
    },
    BuiltinPlugin {
        module: nats::MODULE,
        func: "notify",
        required: &["url", "subject"],
        retries: true,
        rust_module: "plugins::nats",
        #[cfg(feature = "http")]
        call: nats::notify,
    },
];

/// The built-in plugin registered under `module` (any function name).
pub fn builtin(module: &str) -> Option<&'static BuiltinPlugin> {
    BUILTINS.iter().find(|b| b.module == module)
}

/// The function of a built-in plugin, by Chaos Toolkit module and function name.
#[cfg(feature = "http")]
pub fn builtin_fn(module: &str, func: &str) -> Option<crate::PluginFn> {
    BUILTINS.iter().find(|b| b.module == module && b.func == func).map(|b| b.call)
}
