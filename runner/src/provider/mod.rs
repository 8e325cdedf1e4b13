//! Step 4a: the providers that run an activity: [`process`] and [`http`].
//!
//! The `python` provider of Chaos Toolkit imports and calls a Python function; it cannot
//! run here and is refused by validation.
//!
//! Every provider takes the phase's [`Watch`](crate::interrupt::Watch): it returns
//! [`ActivityError::Interrupted`](crate::error::ActivityError::Interrupted) as soon as a
//! signal arrives, leaving nothing running (a process group is killed; an HTTP request is
//! abandoned to its own thread). A provider that runs calls elsewhere (a helper process)
//! forwards the signal with [`Interrupt::on_signal`](crate::interrupt::Interrupt::on_signal).

pub mod http;
pub mod process;
