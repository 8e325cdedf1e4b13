//! Loading a settings file at run time: the same compiler as `notifier check` and the
//! `settings!` macro, then the run-time channel table.
//!
//! Chaos Toolkit goes on without notifications when the settings file is missing,
//! empty or broken; so does [`FromSettings::from_settings_file`], but it says why (an
//! ERROR log line per problem) instead of crashing or staying silent, and a broken
//! channel never mutes its neighbours: it is skipped alone.

use std::path::{Path, PathBuf};

use notifier_core::{ChannelDef, ChannelKind, Notifier, NotifierBuilder, PluginRegistry};
use notifier_schema::{Diagnostic, ReadError, RunTime, Unresolved, UnresolvedPlugin, compile_file};

/// Why a settings file gave no channels (or, for the strict loaders, not all of them).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read as text.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The file gives no notifications at all (it is not YAML, not a mapping, or its
    /// `notifications` is not a list), or, for the strict loaders, it has errors. The
    /// diagnostics include the warnings.
    #[error("{} has {} error(s):\n{}", path.display(), .diagnostics.iter().filter(|d| d.is_error()).count(),
        .diagnostics.iter().filter(|d| d.is_error()).map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found.
        diagnostics: Vec<Diagnostic>,
    },
    /// Strict loaders: plugin channels name modules no Rust function is registered for.
    #[error("{}", .0.iter().map(|u| u.to_string()).collect::<Vec<_>>().join("\n"))]
    UnknownPlugins(Vec<notifier_schema::UnresolvedPlugin>),
}

/// A loaded settings file: every channel of `notifications`, in file order.
#[derive(Debug)]
pub struct LoadedSettings {
    /// The path it was loaded from.
    pub path: PathBuf,
    /// One definition per channel, in file order. A channel that cannot be used (errors
    /// in its entry, a plugin module nothing provides) is a [`ChannelKind::Skipped`]
    /// entry at its place: the dispatcher reports it as skipped, with a warning naming
    /// its `file:line:col`, and every other channel delivers.
    pub channels: Vec<ChannelDef>,
    /// Every problem found in the file (errors and warnings), as `notifier check` shows them.
    pub diagnostics: Vec<Diagnostic>,
    /// Plugin channels whose module and function map to no registered function: they
    /// are Python plugin channels in `channels`.
    pub unresolved: Vec<UnresolvedPlugin>,
}

impl LoadedSettings {
    /// Logs, as WARN lines on the `chaostoolkit` target, the problems that do not skip a
    /// channel (warnings, and errors the loader tolerates). Skipped channels are logged
    /// by the dispatcher when a [`Notifier`] is built from the table, with the reason
    /// that really applies there (a variable `check` found unset may be set here).
    pub fn log_warnings(&self) {
        let logged = |d: &&Diagnostic| {
            !matches!(d.run_time, RunTime::ChannelSkipped { .. } | RunTime::ChannelMayBeSkipped { .. })
        };
        for d in self.diagnostics.iter().filter(logged) {
            tracing::warn!(target: "chaostoolkit", "{}", d.one_line());
        }
    }

    /// The channels that will be skipped.
    pub fn skipped(&self) -> impl Iterator<Item = &ChannelDef> {
        self.channels.iter().filter(|c| matches!(c.kind, ChannelKind::Skipped(_)))
    }

    /// All or nothing: the channels when the file has no error and every plugin is
    /// resolved, else the problems.
    pub fn into_strict(self) -> Result<Vec<ChannelDef>, LoadError> {
        if self.diagnostics.iter().any(Diagnostic::is_error) {
            return Err(LoadError::Invalid { path: self.path, diagnostics: self.diagnostics });
        }
        if !self.unresolved.is_empty() {
            return Err(LoadError::UnknownPlugins(self.unresolved));
        }
        Ok(self.channels)
    }
}

/// Compiles a settings file into run-time channel definitions, with `registry` mapping
/// plugin modules to Rust functions, the way Chaos Toolkit loads it: a plugin module with
/// no Rust function is a Python plugin channel ([`ChannelKind::Python`], called in the
/// user's interpreter, see [`NotifierBuilder::python`]), and a channel that cannot be used
/// is skipped alone (see [`LoadedSettings::channels`]).
///
/// Fails only when the file cannot be read, or gives no notifications at all (not
/// YAML, not a mapping, `notifications` not a list). A missing file is an error here;
/// see [`FromSettings::from_settings_file`] for the version that never fails, and
/// [`LoadedSettings::into_strict`] for all-or-nothing loading.
pub fn load_channels(path: &Path, registry: &PluginRegistry) -> Result<LoadedSettings, LoadError> {
    let compiled = compile_file(path)?;
    let Some(table) = &compiled.table else {
        return Err(LoadError::Invalid { path: path.to_owned(), diagnostics: compiled.diagnostics });
    };
    let built = table.to_defs(&|module, func| registry.get(module, func), Unresolved::Python);
    Ok(LoadedSettings {
        path: path.to_owned(),
        channels: built.defs,
        diagnostics: compiled.diagnostics,
        unresolved: built.unresolved,
    })
}

/// Builds a [`Notifier`] from a settings file.
pub trait FromSettings: Sized {
    /// Loads `path` with the built-in plugins, the way Chaos Toolkit does: a missing or
    /// empty file means no channels; a channel with errors, or naming a plugin nothing
    /// provides, is skipped alone (a WARN line naming its `file:line:col` on the
    /// `chaostoolkit` target, and `skipped` in every delivery report), and the other
    /// channels deliver; a file that is not YAML at all, or whose `notifications` is not
    /// a list, is reported (an ERROR line) and means no channels. Never fails.
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

    /// Strict loading, all or nothing: any error in the file, or any plugin module not
    /// in `registry`, is an error and no notifier is built.
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
        Ok(Notifier::builder(load_channels(path.as_ref(), registry)?.into_strict()?).build())
    }
}
