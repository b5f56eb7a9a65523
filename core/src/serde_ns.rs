//! Logging any `T: serde::Serialize` as a namespace, through [`Serde`].

use crate::error::Result;
use crate::handler::Handler;
use crate::log::{LogOptions, Loggable};

/// Logs any `T: serde::Serialize`: structs and maps become namespaces,
/// scalars become fields.
pub struct Serde<T>(pub T);

impl<T: serde::Serialize> Loggable for Serde<T> {
    fn log_at(&self, _target: &Handler, _rel: &str, _options: &LogOptions) -> Result<()> {
        todo!("serde serializer")
    }
}
