//! Which Rust function stands for a Chaos Toolkit plugin (`module` + `func`): the
//! built-in plugins, and those a program registers. Above both the plugin API
//! ([`crate::plugin`]) and the built-in plugins ([`crate::plugins`]), which know nothing
//! of it.

use std::fmt;

use crate::plugin::PluginFn;

/// Maps Chaos Toolkit plugin names (`module` + `func`) to Rust functions.
///
/// [`PluginRegistry::new`] starts with the built-in plugins (`chaosslack.notification`,
/// `notifier.jsonl`); register your own with [`register`](PluginRegistry::register).
#[derive(Clone, Default)]
pub struct PluginRegistry {
    entries: Vec<(String, String, PluginFn)>,
}

impl PluginRegistry {
    /// A registry with the built-in plugins.
    pub fn new() -> PluginRegistry {
        #[cfg_attr(not(feature = "http"), allow(unused_mut))]
        let mut r = PluginRegistry::empty();
        #[cfg(feature = "http")]
        for b in crate::plugins::BUILTINS {
            if let Some(f) = crate::plugins::builtin_fn(b.module, b.func) {
                r.register(b.module, b.func, f);
            }
        }
        r
    }

    /// A registry with no plugin at all.
    pub fn empty() -> PluginRegistry {
        PluginRegistry { entries: Vec::new() }
    }

    /// Registers `f` as `module`'s function `func` (replacing an earlier registration).
    pub fn register(&mut self, module: &str, func: &str, f: PluginFn) -> &mut Self {
        self.entries.retain(|(m, n, _)| !(m == module && n == func));
        self.entries.push((module.to_owned(), func.to_owned(), f));
        self
    }

    /// The function registered for `module` and `func`.
    pub fn get(&self, module: &str, func: &str) -> Option<PluginFn> {
        self.entries.iter().find(|(m, n, _)| m == module && n == func).map(|(_, _, f)| *f)
    }

    /// Whether any function is registered for `module`.
    pub fn has_module(&self, module: &str) -> bool {
        self.entries.iter().any(|(m, _, _)| m == module)
    }

    /// The registered `(module, func)` pairs.
    pub fn names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(m, f, _)| (m.as_str(), f.as_str()))
    }
}

impl fmt::Debug for PluginRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names().map(|(m, n)| format!("{m}.{n}"))).finish()
    }
}
