//! The settings compiler of the Chaos Toolkit notifier.
//!
//! One front end serves the `settings!` macro, `notifier check`, `notifier codegen` and
//! the run-time loader, so all of them accept and reject exactly the same files with
//! exactly the same messages. Each arrow of the pipeline is one module:
//!
//! ```text
//! bytes ──source──▶ text ──yaml──▶ located tree ──located──▶ JSON + positions
//!   ──checks + schema──▶ diagnostics ──model (serde)──▶ Settings ──ir──▶ ChannelTable
//!   ──build + codegen──▶ Rust tokens    (or ChannelTable::to_defs ──▶ run-time table)
//! ```
//!
//! Every diagnostic carries a [`Code`], one per rule; every message a front door prints
//! about a settings file is written here (`docs/ARCHITECTURE.md` lists the modules).

#![warn(missing_docs)]

#[cfg(feature = "codegen")]
pub mod build;
mod checks;
pub mod code;
#[cfg(feature = "codegen")]
pub mod codegen;
pub mod compile;
pub mod diagnostic;
pub mod ir;
pub mod located;
pub mod model;
mod report;
pub mod rust_name;
pub mod scalar;
pub mod schema;
pub mod source;
pub mod suggest;
#[cfg(feature = "validation")]
pub mod validate;
pub mod yaml;

pub use code::Code;
pub use compile::{Compiled, compile, compile_file};
pub use diagnostic::{Diagnostic, RunTime, Severity};
pub use ir::{ChannelIr, ChannelTable, IrKind, RunTimeChannels, SkippedChannel, Unresolved, UnresolvedPlugin};
pub use schema::{settings_schema, settings_schema_text};
pub use source::{FileKind, ReadError, SourceFile};
