//! Facade.
pub use notifier_core::*;
