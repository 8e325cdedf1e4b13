//! `chaosslack.notification`: the chaostoolkit-slack 0.10 message (placeholder).

use crate::envelope::Envelope;
use crate::plugin::{PluginConfig, PluginError};

/// The plugin function.
pub fn notify(_config: &PluginConfig, _envelope: &Envelope) -> Result<(), PluginError> {
    Err(PluginError::failed("not implemented yet"))
}
