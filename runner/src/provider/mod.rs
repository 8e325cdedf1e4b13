//! Step 4a: the providers that run an activity: [`process`] and [`http`].
//!
//! The `python` provider of Chaos Toolkit imports and calls a Python function; it cannot
//! run here and is refused by validation.

pub mod http;
pub mod process;
