//! Field types, operations, and the values that are read back.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::SystemTime;

use crate::error::Error;

/// The type of a field, fixed by its first write.
///
/// ```
/// use hippocamp_core::{FieldType, Operation};
/// assert!(FieldType::FloatSeries.accepts(Operation::Append));
/// assert!(!FieldType::FloatSeries.accepts(Operation::Upload));
/// assert_eq!(FieldType::FloatSeries.to_string(), "FloatSeries");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FieldType {
    /// A 64-bit float.
    Float,
    /// A 64-bit signed integer.
    Int,
    /// A boolean.
    Bool,
    /// A UTF-8 string of at most [`MAX_STRING_BYTES`](crate::MAX_STRING_BYTES).
    String,
    /// A point in time.
    Datetime,
    /// A file's bytes with its name.
    File,
    /// Floats at strictly increasing steps.
    FloatSeries,
    /// Strings at strictly increasing steps.
    StringSeries,
    /// Files at strictly increasing steps.
    FileSeries,
    /// A set of strings (tags).
    StringSet,
    /// A folder of fields.
    Namespace,
}

impl FieldType {
    /// Every type, in the order of the design's table.
    pub const ALL: [FieldType; 11] = [
        FieldType::Float,
        FieldType::Int,
        FieldType::Bool,
        FieldType::String,
        FieldType::Datetime,
        FieldType::File,
        FieldType::FloatSeries,
        FieldType::StringSeries,
        FieldType::FileSeries,
        FieldType::StringSet,
        FieldType::Namespace,
    ];

    /// The operations this type accepts, in a fixed order.
    ///
    /// ```
    /// use hippocamp_core::{FieldType, Operation::*};
    /// assert_eq!(FieldType::StringSet.accepted(), &[Add, Assign, Remove, Clear, Fetch]);
    /// ```
    pub fn accepted(self) -> &'static [Operation] {
        use Operation::*;
        match self {
            FieldType::Float
            | FieldType::Int
            | FieldType::Bool
            | FieldType::String
            | FieldType::Datetime => &[Assign, Fetch],
            FieldType::File => &[Upload, Assign, Fetch, Download],
            FieldType::FloatSeries | FieldType::StringSeries => {
                &[Append, AppendAt, Extend, Clear, FetchLast, FetchValues]
            }
            FieldType::FileSeries => &[Append, AppendAt, Extend, Clear, FetchValues, Download],
            // Assigning a set replaces the items (docs/behaviour.md).
            FieldType::StringSet => &[Add, Assign, Remove, Clear, Fetch],
            FieldType::Namespace => &[Assign, Fetch, Delete],
        }
    }

    /// Whether this type accepts `operation`.
    pub fn accepts(self, operation: Operation) -> bool {
        self.accepted().contains(&operation)
    }

    /// Whether this is one of the three series types.
    pub fn is_series(self) -> bool {
        matches!(
            self,
            FieldType::FloatSeries | FieldType::StringSeries | FieldType::FileSeries
        )
    }

    /// Whether this is a single value shown in a run's structure.
    pub fn is_atom(self) -> bool {
        matches!(
            self,
            FieldType::Float
                | FieldType::Int
                | FieldType::Bool
                | FieldType::String
                | FieldType::Datetime
        )
    }

    /// The name with its indefinite article, for messages: "an Int",
    /// "a Float".
    ///
    /// ```
    /// assert_eq!(hippocamp_core::FieldType::Int.with_article(), "an Int");
    /// ```
    pub fn with_article(self) -> &'static str {
        match self {
            FieldType::Float => "a Float",
            FieldType::Int => "an Int",
            FieldType::Bool => "a Bool",
            FieldType::String => "a String",
            FieldType::Datetime => "a Datetime",
            FieldType::File => "a File",
            FieldType::FloatSeries => "a FloatSeries",
            FieldType::StringSeries => "a StringSeries",
            FieldType::FileSeries => "a FileSeries",
            FieldType::StringSet => "a StringSet",
            FieldType::Namespace => "a Namespace",
        }
    }

    /// The name used in messages and in the structure tree.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Float => "Float",
            FieldType::Int => "Int",
            FieldType::Bool => "Bool",
            FieldType::String => "String",
            FieldType::Datetime => "Datetime",
            FieldType::File => "File",
            FieldType::FloatSeries => "FloatSeries",
            FieldType::StringSeries => "StringSeries",
            FieldType::FileSeries => "FileSeries",
            FieldType::StringSet => "StringSet",
            FieldType::Namespace => "Namespace",
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An operation on a handler, as named in messages.
///
/// ```
/// assert_eq!(hippocamp_core::Operation::AppendAt.to_string(), "append_at");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Set a value (or merge a struct into a namespace).
    Assign,
    /// Read a value.
    Fetch,
    /// Store a file.
    Upload,
    /// Read a file's bytes.
    Download,
    /// Add a point at the next step.
    Append,
    /// Add a point at a given step.
    AppendAt,
    /// Add several points.
    Extend,
    /// Remove every point or item.
    Clear,
    /// Read a series' last value.
    FetchLast,
    /// Read a series' points.
    FetchValues,
    /// Add strings to a set.
    Add,
    /// Remove strings from a set.
    Remove,
    /// Remove a namespace and all under it.
    Delete,
}

impl Operation {
    /// The method name.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Assign => "assign",
            Operation::Fetch => "fetch",
            Operation::Upload => "upload",
            Operation::Download => "download",
            Operation::Append => "append",
            Operation::AppendAt => "append_at",
            Operation::Extend => "extend",
            Operation::Clear => "clear",
            Operation::FetchLast => "fetch_last",
            Operation::FetchValues => "fetch_values",
            Operation::Add => "add",
            Operation::Remove => "remove",
            Operation::Delete => "delete",
        }
    }

    /// Every operation.
    pub const ALL: [Operation; 13] = [
        Operation::Assign,
        Operation::Fetch,
        Operation::Upload,
        Operation::Download,
        Operation::Append,
        Operation::AppendAt,
        Operation::Extend,
        Operation::Clear,
        Operation::FetchLast,
        Operation::FetchValues,
        Operation::Add,
        Operation::Remove,
        Operation::Delete,
    ];
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a file field holds, without its bytes (those come from `download`).
///
/// ```
/// use hippocamp_core::{File, Mode, Run, Value};
/// let run = Run::builder().mode(Mode::Debug).start()?;
/// run.at("model").upload_bytes(vec![0u8; 10], "weights.bin")?;
/// let Value::File(info) = run.at("model").fetch()? else { unreachable!() };
/// assert_eq!((info.name.as_str(), info.extension.as_str(), info.size), ("weights.bin", "bin", 10));
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The file's name, e.g. `image.png`.
    pub name: String,
    /// The part of the name after its last `.`, or empty.
    pub extension: String,
    /// Size in bytes.
    pub size: u64,
}

/// A value read back from a run.
///
/// Convert it with `TryInto`: `f64` (Float, or Int widened), `i64`, `bool`,
/// `String`, `SystemTime`, `BTreeSet<String>`, [`FileInfo`].
///
/// ```
/// use hippocamp_core::Value;
/// let lr: f64 = Value::Float(0.01).try_into()?;
/// let n: f64 = Value::Int(3).try_into()?; // Int widens to f64
/// assert!(i64::try_from(Value::Float(1.5)).is_err());
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// A Float field, or a FloatSeries point.
    Float(f64),
    /// An Int field.
    Int(i64),
    /// A Bool field.
    Bool(bool),
    /// A String field, or a StringSeries point.
    String(String),
    /// A Datetime field.
    Datetime(SystemTime),
    /// A File field, or a FileSeries point.
    File(FileInfo),
    /// A StringSet field.
    StringSet(BTreeSet<String>),
    /// A namespace: the values of the fields under it (series excluded).
    Namespace(BTreeMap<String, Value>),
}

impl Value {
    /// The field type this value belongs to.
    ///
    /// ```
    /// use hippocamp_core::{FieldType, Value};
    /// assert_eq!(Value::Int(1).field_type(), FieldType::Int);
    /// ```
    pub fn field_type(&self) -> FieldType {
        match self {
            Value::Float(_) => FieldType::Float,
            Value::Int(_) => FieldType::Int,
            Value::Bool(_) => FieldType::Bool,
            Value::String(_) => FieldType::String,
            Value::Datetime(_) => FieldType::Datetime,
            Value::File(_) => FieldType::File,
            Value::StringSet(_) => FieldType::StringSet,
            Value::Namespace(_) => FieldType::Namespace,
        }
    }

    /// A value at `path` inside a namespace value (`a/b`), if there is one.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use hippocamp_core::Value;
    /// let inner = Value::Namespace(BTreeMap::from([("lr".to_string(), Value::Float(0.1))]));
    /// let outer = Value::Namespace(BTreeMap::from([("params".to_string(), inner)]));
    /// assert_eq!(outer.get("params/lr"), Some(&Value::Float(0.1)));
    /// ```
    pub fn get(&self, path: &str) -> Option<&Value> {
        let mut current = self;
        for segment in hippocamp_path::segments(path) {
            match current {
                Value::Namespace(children) => current = children.get(segment)?,
                _ => return None,
            }
        }
        Some(current)
    }
}

impl fmt::Display for Value {
    /// Floats keep a decimal point (`20.0`), strings are quoted, times are
    /// RFC 3339, namespaces are `{key: value, …}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Int(x) => write!(f, "{x}"),
            Value::Bool(x) => write!(f, "{x}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Datetime(t) => write!(f, "{}", humantime::format_rfc3339_micros(*t)),
            Value::File(info) => write!(f, "File({}, {} bytes)", info.name, info.size),
            Value::StringSet(items) => {
                f.write_str("{")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item:?}")?;
                }
                f.write_str("}")
            }
            Value::Namespace(children) => {
                f.write_str("{")?;
                for (i, (key, value)) in children.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{key}: {value}")?;
                }
                f.write_str("}")
            }
        }
    }
}

fn conversion(expected: &'static str, found: &Value) -> Error {
    Error::Conversion {
        path: None,
        expected,
        found: found.field_type(),
    }
}

impl TryFrom<Value> for f64 {
    type Error = Error;
    fn try_from(value: Value) -> Result<Self, Error> {
        match value {
            Value::Float(x) => Ok(x),
            Value::Int(x) => Ok(x as f64),
            other => Err(conversion("f64", &other)),
        }
    }
}

impl TryFrom<Value> for i64 {
    type Error = Error;
    fn try_from(value: Value) -> Result<Self, Error> {
        match value {
            Value::Int(x) => Ok(x),
            other => Err(conversion("i64", &other)),
        }
    }
}

impl TryFrom<Value> for bool {
    type Error = Error;
    fn try_from(value: Value) -> Result<Self, Error> {
        match value {
            Value::Bool(x) => Ok(x),
            other => Err(conversion("bool", &other)),
        }
    }
}

impl TryFrom<Value> for String {
    type Error = Error;
    fn try_from(value: Value) -> Result<Self, Error> {
        match value {
            Value::String(x) => Ok(x),
            other => Err(conversion("String", &other)),
        }
    }
}

impl TryFrom<Value> for SystemTime {
    type Error = Error;
    fn try_from(value: Value) -> Result<Self, Error> {
        match value {
            Value::Datetime(x) => Ok(x),
            other => Err(conversion("SystemTime", &other)),
        }
    }
}

impl TryFrom<Value> for BTreeSet<String> {
    type Error = Error;
    fn try_from(value: Value) -> Result<Self, Error> {
        match value {
            Value::StringSet(x) => Ok(x),
            other => Err(conversion("BTreeSet<String>", &other)),
        }
    }
}

impl TryFrom<Value> for FileInfo {
    type Error = Error;
    fn try_from(value: Value) -> Result<Self, Error> {
        match value {
            Value::File(x) => Ok(x),
            other => Err(conversion("FileInfo", &other)),
        }
    }
}

/// One point of a series: its step, value and time.
///
/// `V` is [`Value`] from an untyped handler and the plain Rust type (`f64`,
/// `String`, [`FileInfo`]) from a typed one.
///
/// ```
/// use hippocamp_core::{Mode, Run};
/// let run = Run::builder().mode(Mode::Debug).start()?;
/// run.at("loss").append(0.5)?;
/// let points = run.at("loss").fetch_values()?;
/// assert_eq!(points[0].step, 0.0);
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Point<V = Value> {
    /// The step (strictly increasing along a series).
    pub step: f64,
    /// The value.
    pub value: V,
    /// When it was logged (or the `timestamp` given).
    pub timestamp: SystemTime,
}

impl<V> Point<V> {
    /// The same point with its value mapped.
    pub fn map<W>(self, f: impl FnOnce(V) -> W) -> Point<W> {
        Point {
            step: self.step,
            value: f(self.value),
            timestamp: self.timestamp,
        }
    }
}

/// A point converts as its value does, so that
/// `let last: f64 = handler.fetch_last()?.try_into()?` reads a series' last
/// value directly.
macro_rules! point_into {
    ($($t:ty),*) => {$(
        impl TryFrom<Point> for $t {
            type Error = Error;
            fn try_from(point: Point) -> Result<Self, Error> {
                <$t>::try_from(point.value)
            }
        }
    )*};
}
point_into!(f64, i64, bool, String, SystemTime, BTreeSet<String>, FileInfo);
