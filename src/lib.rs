//! hippocamp records the metadata of machine-learning runs — parameters,
//! metric series, text, files and tags — as a tree of typed fields under
//! `/` paths, checked by the compiler where it can and by the run where it
//! must.
//!
//! See the README for a tour; the items are documented where they are
//! defined, in `hippocamp-core` (the runtime model) and `hippocamp-macros`
//! (`#[derive(LogNamespace)]` and `log!`).

#![forbid(unsafe_code)]

pub use hippocamp_core::*;
pub use hippocamp_macros::{log, LogNamespace};
