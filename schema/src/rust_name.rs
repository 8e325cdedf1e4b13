//! Whether a plugin `func` can name a Rust function: generated code calls
//! `path::to::module::<func>`, so the checks and the code generator must agree on which
//! names are written as they are, which as raw identifiers (`r#type`), and which Rust
//! cannot name at all.

/// How a name is written as a Rust identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RustName {
    /// As it is (`notify`).
    Plain,
    /// As a raw identifier: a keyword of some edition (`type` → `r#type`).
    Raw,
    /// Not at all: `_`, and the path keywords that cannot be raw (`self`, `Self`,
    /// `super`, `crate`).
    Impossible,
}

/// Keywords of any edition, strict and reserved, that a raw identifier can name. Weak
/// keywords (`union`, `macro_rules`, `raw`, `safe`) are plain identifiers.
const RAW: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn", "else", "enum",
    "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod", "move",
    "mut", "override", "priv", "pub", "ref", "return", "static", "struct", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Words no Rust identifier can be, not even a raw one.
const IMPOSSIBLE: &[&str] = &["_", "self", "Self", "super", "crate"];

/// How `name` (an ASCII identifier, as the checks require of `func`) is written in Rust.
pub fn rust_name(name: &str) -> RustName {
    if IMPOSSIBLE.contains(&name) {
        RustName::Impossible
    } else if RAW.contains(&name) {
        RustName::Raw
    } else {
        RustName::Plain
    }
}

#[cfg(all(test, feature = "codegen"))]
mod tests {
    use super::*;

    /// syn agrees: plain names parse as identifiers, raw ones as `r#name` (and not as
    /// plain names, except the keywords of editions syn does not assume), impossible
    /// ones not at all.
    #[test]
    fn syn_agrees() {
        const EDITION_DEPENDENT: &[&str] = &["gen", "try", "async", "await", "dyn"];
        for name in RAW.iter().chain(IMPOSSIBLE).chain(&["notify", "union", "macro_rules", "raw", "safe", "_x"]) {
            let plain = syn::parse_str::<syn::Ident>(name).is_ok();
            let raw = syn::parse_str::<syn::Ident>(&format!("r#{name}")).is_ok();
            match rust_name(name) {
                RustName::Plain => assert!(plain && raw, "`{name}`"),
                RustName::Raw => assert!(raw && (!plain || EDITION_DEPENDENT.contains(name)), "`{name}`: {plain}"),
                RustName::Impossible => assert!(!plain && !raw, "`{name}`"),
            }
        }
    }
}
