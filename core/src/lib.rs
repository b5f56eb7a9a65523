//! The runtime model of hippocamp: paths, values, field types, the handler
//! type rules, runs and the stores behind them.
//!
//! Users depend on the `hippocamp` crate, which re-exports this one with
//! the `LogNamespace` derive and the `log!` macro.
//!
//! ```
//! use hippocamp_core::{Mode, Run};
//! let run = Run::builder().project("mnist").mode(Mode::Debug).start()?;
//! run.at("params/max_epochs").assign(20)?;
//! let params = run.at("params");
//! params.at("learning_rate").assign(0.005)?;
//! run.at("train/acc").append(0.72)?;
//! println!("{}", run.structure()?);
//! run.close()?;
//! # Ok::<(), hippocamp_core::Error>(())
//! ```

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod callsite;
#[allow(unsafe_code)] // one libc call, see its SAFETY comment
mod clock;
mod error;
mod file;
pub mod filter;
mod handler;
pub mod identity;
mod log;
mod nearest;
#[doc(hidden)]
pub mod __private {
    //! For the macros' expansions only.
    pub use crate::private::*;
}
mod private;
pub mod reader;
mod run;
mod serde_ns;
pub mod sqlite;
pub mod store;
pub mod structure;
mod system;
pub mod table;
mod tree;
pub mod typed;
mod value;
pub mod window;

pub use error::{Conflict, Error, PathError, PathErrorKind, ReadOnlyReason, Result, StorageError};
pub use file::{File, FileContent, FileData, StageError, StagedFile};
pub use handler::{Handler, IntoHandle, SeriesPoints};
pub use log::{Appendable, IntoStep, LogField, LogNamespace, LogOptions, Loggable, SeriesValue};
pub use nearest::nearest;
pub use run::{project_key, Mode, Run, RunBuilder};
pub use serde_ns::Serde;
pub use structure::Structure;
pub use tree::MAX_STRING_BYTES;
pub use typed::{kind, Typed, TypedPath};
pub use value::{format_rfc3339, FieldType, FileInfo, Operation, Point, Value};

/// The path grammar, shared with the macros.
pub use hippocamp_path as path;
