//! Step 4a: the providers that run an activity: [`process`] and [`http`] here, and
//! `python` in [`crate::python`] (the user's interpreter, through the bridge).
//!
//! Every provider takes the phase's [`Watch`](crate::interrupt::Watch): it returns
//! [`ActivityError::Interrupted`](crate::error::ActivityError::Interrupted) as soon as a
//! signal arrives, leaving nothing running (a process group is killed; an HTTP request is
//! abandoned to its own thread). The python provider, which runs calls in a helper
//! process, forwards the signal there with
//! [`Interrupt::on_signal`](crate::interrupt::Interrupt::on_signal).

pub mod http;
pub mod process;
