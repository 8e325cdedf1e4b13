//! Proc-macros (being written).
use proc_macro::TokenStream;

/// Placeholder.
#[proc_macro]
pub fn settings(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
