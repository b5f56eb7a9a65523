//! The macros of hippocamp: `#[derive(LogNamespace)]` and `log!`.

use proc_macro::TokenStream;

/// Derives `LogNamespace` (stub).
#[proc_macro_derive(LogNamespace, attributes(log))]
pub fn derive_log_namespace(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

/// Logs values to paths (stub).
#[proc_macro]
pub fn log(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
