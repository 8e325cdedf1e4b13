//! Loading a settings file at run time: the same compiler as `notifier check` and the
//! `settings!` macro, then the run-time channel table.
//!
//! Chaos Toolkit goes on without notifications when the settings file is missing,
//! empty or broken; so does [`FromSettings::from_settings_file`], but it says why (an
//! ERROR log line per problem) instead of crashing or staying silent.

use std::path::{Path, PathBuf};

use notifier_core::{ChannelDef, Notifier, NotifierBuilder, PluginRegistry};
use notifier_schema::{Diagnostic, ReadError, compile_file};

/// Why a settings file gave no notifier.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read as text.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The file has errors (the diagnostics, warnings included).
    #[error("{} has {} error(s):\n{}", path.display(), .diagnostics.iter().filter(|d| d.is_error()).count(),
        .diagnostics.iter().filter(|d| d.is_error()).map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found.
        diagnostics: Vec<Diagnostic>,
    },
    /// Plugin channels name modules no Rust function is registered for.
    #[error("{}", .0.iter().map(|u| u.to_string()).collect::<Vec<_>>().join("\n"))]
    UnknownPlugins(Vec<notifier_schema::UnresolvedPlugin>),
}

/// A loaded settings file.
#[derive(Debug)]
pub struct LoadedSettings {
    /// The channel table, in file order.
    pub channels: Vec<ChannelDef>,
    /// Warnings found (errors make [`load_channels`] fail).
    pub warnings: Vec<Diagnostic>,
}

impl LoadedSettings {
    /// Logs each warning once, as a WARN line on the `chaostoolkit` target.
    pub fn log_warnings(&self) {
        for w in &self.warnings {
            tracing::warn!(target: "chaostoolkit", "{}", w.one_line());
        }
    }
}

/// Compiles a settings file into run-time channel definitions, with `registry` mapping
/// plugin modules to Rust functions. A missing file is an error here (see
/// [`FromSettings::from_settings_file`] for the lenient version).
pub fn load_channels(path: &Path, registry: &PluginRegistry) -> Result<LoadedSettings, LoadError> {
    let compiled = compile_file(path)?;
    if compiled.has_errors() {
        return Err(LoadError::Invalid { path: path.to_owned(), diagnostics: compiled.diagnostics });
    }
    let Some(table) = compiled.table else {
        return Err(LoadError::Invalid { path: path.to_owned(), diagnostics: compiled.diagnostics });
    };
    let channels = table.to_defs(&|module, func| registry.get(module, func)).map_err(LoadError::UnknownPlugins)?;
    Ok(LoadedSettings { channels, warnings: compiled.diagnostics })
}

/// Builds a [`Notifier`] from a settings file.
pub trait FromSettings: Sized {
    /// Loads `path` with the built-in plugins, the way Chaos Toolkit does: a missing or
    /// empty file means no channels, and an invalid one is reported (ERROR log lines on
    /// the `chaostoolkit` target) and means no channels too. Never fails.
    fn from_settings_file(path: impl AsRef<Path>) -> Self {
        Self::from_settings_file_with(path, &PluginRegistry::new(), |b| b)
    }

    /// Like [`from_settings_file`](FromSettings::from_settings_file), with your plugins
    /// and builder options (background mode, budgets…).
    fn from_settings_file_with(
        path: impl AsRef<Path>,
        registry: &PluginRegistry,
        configure: impl FnOnce(NotifierBuilder) -> NotifierBuilder,
    ) -> Self;

    /// Strict loading: any problem is an error.
    fn try_from_settings_file(path: impl AsRef<Path>, registry: &PluginRegistry) -> Result<Self, LoadError>;
}

impl FromSettings for Notifier {
    fn from_settings_file_with(
        path: impl AsRef<Path>,
        registry: &PluginRegistry,
        configure: impl FnOnce(NotifierBuilder) -> NotifierBuilder,
    ) -> Notifier {
        let path = path.as_ref();
        let channels = match load_channels(path, registry) {
            Ok(loaded) => {
                loaded.log_warnings();
                loaded.channels
            }
            Err(LoadError::Read(ReadError::Io { source, .. })) if source.kind() == std::io::ErrorKind::NotFound => {
                tracing::debug!(
                    target: "chaostoolkit",
                    "The Chaos Toolkit settings file could not be found at '{}'.",
                    path.display()
                );
                Vec::new()
            }
            Err(e) => {
                tracing::error!(target: "chaostoolkit", "notifications are disabled: {e}");
                Vec::new()
            }
        };
        configure(Notifier::builder(channels)).build()
    }

    fn try_from_settings_file(path: impl AsRef<Path>, registry: &PluginRegistry) -> Result<Notifier, LoadError> {
        Ok(Notifier::builder(load_channels(path.as_ref(), registry)?.channels).build())
    }
}
