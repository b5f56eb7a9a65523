//! The one error type of hippocamp.

use std::fmt;
use std::path::PathBuf;

use crate::value::{FieldType, Operation};

pub use hippocamp_path::{PathError, PathErrorKind};

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when logging to or reading from a run.
///
/// A caller can match on the variant; `Display` names the path, the field's
/// type, the refused operation and what the type accepts.
///
/// ```
/// use hippocamp_core::{Error, Mode, Run};
///
/// let run = Run::builder().mode(Mode::Debug).start()?;
/// run.at("train/acc").append(0.72)?;
/// let err = run.at("train/acc").upload_bytes(vec![1, 2, 3], "image.png").unwrap_err();
/// assert!(matches!(err, Error::UnsupportedOperation { .. }));
/// assert_eq!(
///     err.to_string(),
///     "`upload` is not supported by `train/acc`, a FloatSeries, which accepts \
///      append, append_at, extend, clear, fetch_last, fetch_values"
/// );
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A path breaks the grammar of [`hippocamp_path`].
    #[error("invalid path `{path}`: {source}")]
    InvalidPath {
        /// The path as given (a relative path is shown joined to its base).
        path: String,
        /// Which rule it breaks, and where.
        #[source]
        source: PathError,
    },

    /// A value of another type was written to an existing field.
    #[error(
        "cannot write {value} to `{path}`, {field} \
         (a field keeps the type of its first write{widening})",
        value = value_type.with_article(),
        field = field_type.with_article(),
        widening = if *field_type == FieldType::Float { "; Int widens to Float" } else { "" }
    )]
    TypeMismatch {
        /// The field's path.
        path: String,
        /// The field's type.
        field_type: FieldType,
        /// The type of the refused value.
        value_type: FieldType,
    },

    /// The field's type does not accept the operation.
    #[error(
        "`{operation}` is not supported by `{path}`, {field}, which accepts {accepted}",
        field = field_type.with_article(),
        accepted = OperationList(field_type.accepted())
    )]
    UnsupportedOperation {
        /// The field's (or namespace's) path.
        path: String,
        /// The field's type ([`FieldType::Namespace`] for a namespace).
        field_type: FieldType,
        /// The refused operation.
        operation: Operation,
    },

    /// A field and a namespace would share a path.
    #[error("{conflict}")]
    NamespaceConflict {
        /// The path that was written.
        path: String,
        /// Which way they collide.
        conflict: Conflict,
    },

    /// A read of a path that holds nothing.
    #[error("`{path}` not found: nothing has been logged there")]
    NotFound {
        /// The path that was read.
        path: String,
    },

    /// A series step that is not above the series' last step.
    #[error(
        "step {step} for `{path}` is not after its last step {last} \
         (steps of a series must strictly increase)"
    )]
    StepNotIncreasing {
        /// The series' path.
        path: String,
        /// The refused step.
        step: f64,
        /// The series' last step.
        last: f64,
    },

    /// A series step that is NaN or infinite.
    #[error("step {step} for `{path}` is not a finite number")]
    InvalidStep {
        /// The series' path.
        path: String,
        /// The refused step.
        step: f64,
    },

    /// A write to something only the system or a reader may touch.
    #[error("cannot write `{path}`: {reason}")]
    ReadOnly {
        /// The path that was written.
        path: String,
        /// Why it is read-only.
        reason: ReadOnlyReason,
    },

    /// A write to a run after `close()`.
    #[error("run {run_id} is closed; start or resume it again to log more")]
    Closed {
        /// The closed run's id.
        run_id: String,
    },

    /// A value beyond a documented limit (too long, out of range).
    #[error("value for `{path}` is out of range: {detail}")]
    OutOfRange {
        /// The path that was written.
        path: String,
        /// What the limit is and by how much the value misses it.
        detail: String,
    },

    /// A fetched value read as a Rust type it does not convert to.
    #[error(
        "cannot read {at}{found} as {expected}",
        found = found.with_article(),
        at = path.as_deref().map(|p| format!("`{p}`, ")).unwrap_or_default()
    )]
    Conversion {
        /// The path read, when known.
        path: Option<String>,
        /// The Rust type asked for.
        expected: &'static str,
        /// What the field holds.
        found: FieldType,
    },

    /// A file to upload could not be read.
    #[error("cannot upload `{}` to `{path}`: {source}", file.display())]
    File {
        /// The field's path.
        path: String,
        /// The file on disk.
        file: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// A file's bytes could not be written where a download was to put
    /// them.
    #[error("cannot download `{path}` to {}: {source}", file.display())]
    Download {
        /// The field's path.
        path: String,
        /// The file on disk that was being written.
        file: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// A value given through [`Serde`](crate::Serde) has no field type.
    #[error("cannot log `{path}` through serde: {message}")]
    Serialize {
        /// Where in the value the problem is.
        path: String,
        /// What serde produced that has no field type.
        message: String,
    },

    /// A run id that the store does not hold (read-only mode opens only
    /// existing runs).
    #[error("no run {id} in {store}{}", NearestHint(nearest))]
    RunNotFound {
        /// The id asked for.
        id: String,
        /// The store looked in (a folder, or a URL with no password).
        store: String,
        /// The ids nearest to it that the store holds, nearest first (at
        /// most three).
        nearest: Vec<String>,
    },

    /// A builder setting that cannot be used as given: a malformed run id
    /// or project, or settings that contradict the mode.
    #[error("invalid {setting}: {detail}")]
    InvalidSetting {
        /// The setting, as the builder method is named (`run_id`, `project`, …).
        setting: &'static str,
        /// What is wrong and what is accepted.
        detail: String,
    },

    /// The store behind the run failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl Error {
    /// The same error, naming `path` when it is an [`Error::Conversion`]
    /// that names none (a [`Value`](crate::Value) converted with
    /// `try_into` does not know where it was read). Other errors are
    /// returned as they are.
    ///
    /// ```
    /// use hippocamp_core::{Error, Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("params/lr").assign(0.01)?;
    /// let lr = run.at("params/lr");
    /// let err = String::try_from(lr.fetch()?).unwrap_err();
    /// assert_eq!(err.to_string(), "cannot read a Float as String");
    /// let err = err.with_path(lr.path());
    /// assert_eq!(err.to_string(), "cannot read `params/lr`, a Float as String");
    /// # Ok::<(), Error>(())
    /// ```
    pub fn with_path(self, path: &str) -> Error {
        match self {
            Error::Conversion {
                path: None,
                expected,
                found,
            } => Error::Conversion {
                path: Some(path.to_owned()),
                expected,
                found,
            },
            other => other,
        }
    }
}

/// How a field and a namespace collide; see [`Error::NamespaceConflict`].
///
/// ```
/// use hippocamp_core::{Conflict, Error, Mode, Run};
/// let run = Run::builder().mode(Mode::Debug).start()?;
/// run.at("train/acc").append(0.5)?;
/// match run.at("train/acc/top5").append(0.9) {
///     Err(Error::NamespaceConflict { conflict: Conflict::UnderField { field, .. }, .. }) => {
///         assert_eq!(field, "train/acc")
///     }
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Conflict {
    /// The path lies under an existing field, which cannot hold others.
    UnderField {
        /// The new path.
        path: String,
        /// The existing field on the way.
        field: String,
        /// That field's type.
        field_type: FieldType,
    },
    /// A single value was assigned to a namespace.
    ValueOntoNamespace {
        /// The namespace.
        path: String,
        /// The type of the value.
        value_type: FieldType,
    },
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::UnderField {
                path,
                field,
                field_type,
            } => write!(
                f,
                "cannot create `{path}`: `{field}` is {field_type} field, \
                 and a field cannot hold other fields",
                field_type = field_type.with_article()
            ),
            Conflict::ValueOntoNamespace { path, value_type } => write!(
                f,
                "cannot assign {value_type} to `{path}`: it is a namespace, \
                 which takes a struct or map (merged into it), not a single value",
                value_type = value_type.with_article()
            ),
        }
    }
}

/// Why a path cannot be written; see [`Error::ReadOnly`].
///
/// ```
/// use hippocamp_core::{Error, Mode, ReadOnlyReason, Run};
/// let run = Run::builder().mode(Mode::Debug).start()?;
/// let err = run.at("sys/id").assign("mine").unwrap_err();
/// assert!(matches!(err, Error::ReadOnly { reason: ReadOnlyReason::SystemField, .. }));
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadOnlyReason {
    /// `sys/` fields other than `sys/name`, `sys/description`, `sys/tags`.
    SystemField,
    /// The run was opened with [`Mode::ReadOnly`](crate::Mode::ReadOnly).
    ReadOnlyMode,
}

impl fmt::Display for ReadOnlyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadOnlyReason::SystemField => f.write_str(
                "it is owned by the system (in `sys/` only `sys/name`, `sys/description` \
                 and `sys/tags` are the user's)",
            ),
            ReadOnlyReason::ReadOnlyMode => {
                f.write_str("the run was opened in read-only mode (Mode::ReadOnly)")
            }
        }
    }
}

/// A failure of the store behind a run. Its message ends with the cause
/// (what the database or the operating system said), so a background
/// error reported at `flush()` says why.
///
/// ```
/// let err = hippocamp_core::StorageError::new("disk full");
/// assert_eq!(err.to_string(), "storage error: disk full");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("storage error: {message}{}", CauseSuffix(source.as_deref()))]
pub struct StorageError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StorageError {
    /// An error with a message only.
    pub fn new(message: impl Into<String>) -> Self {
        StorageError {
            message: message.into(),
            source: None,
        }
    }

    /// An error with a message and the error that caused it, which its
    /// message ends with.
    ///
    /// ```
    /// use std::io;
    /// let io = io::Error::new(io::ErrorKind::Other, "database or disk is full");
    /// let err = hippocamp_core::StorageError::with_source("cannot commit a write", io);
    /// assert_eq!(err.to_string(), "storage error: cannot commit a write: database or disk is full");
    /// assert!(std::error::Error::source(&err).is_some());
    /// ```
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StorageError {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The message, without the source.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// `: the cause`, or nothing.
struct CauseSuffix<'a>(Option<&'a (dyn std::error::Error + Send + Sync)>);

impl fmt::Display for CauseSuffix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(cause) => write!(f, ": {cause}"),
            None => Ok(()),
        }
    }
}

/// ` (nearest: a, b)`, or ` (there are none)`.
struct NearestHint<'a>(&'a [String]);

impl fmt::Display for NearestHint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(" (there are none)");
        }
        write!(f, " (nearest: {})", self.0.join(", "))
    }
}

/// Displays a list of operations as `a, b, c`.
struct OperationList(&'static [Operation]);

impl fmt::Display for OperationList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, op) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{op}")?;
        }
        Ok(())
    }
}
