//! Settings compiler.
