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
    /// Every type, in the order of the README's table of field types.
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

    /// The type with this [`name`](Self::name), as stores and exports
    /// write it.
    ///
    /// ```
    /// use hippocamp_core::FieldType;
    /// assert_eq!(FieldType::from_name("FloatSeries"), Some(FieldType::FloatSeries));
    /// assert_eq!(FieldType::from_name("float"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.name() == name)
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
/// `String`, `SystemTime`, `BTreeSet<String>`, [`FileInfo`]; a refusal is
/// [`Error::Conversion`]. Or look into it with the `as_…` accessors
/// ([`as_f64`](Value::as_f64), [`as_str`](Value::as_str), …), which give
/// `None` for a value of another type: handy to fold a series' points.
/// ([`Handler::fetch_as`](crate::Handler::fetch_as) and its siblings read
/// a field straight into a Rust type, with the path in their errors.)
///
/// ```
/// use hippocamp_core::{Mode, Run, Value};
/// let lr: f64 = Value::Float(0.01).try_into()?;
/// let n: f64 = Value::Int(3).try_into()?; // Int widens to f64
/// assert!(i64::try_from(Value::Float(1.5)).is_err());
///
/// let run = Run::builder().mode(Mode::Debug).start()?;
/// run.at("train/loss").extend([0.9, 0.5, f64::NAN, 0.25])?;
/// let best = run.at("train/loss").fetch_values()?
///     .iter()
///     .filter_map(|p| p.value.as_f64())
///     .fold(f64::INFINITY, f64::min); // NaN is ignored by f64::min
/// assert_eq!(best, 0.25);
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

    /// The number of a Float, or of an Int widened to `f64` (as a Float
    /// field takes an Int; exact up to 2^53 in magnitude); `None` for
    /// other values.
    ///
    /// ```
    /// use hippocamp_core::Value;
    /// assert_eq!(Value::Float(0.5).as_f64(), Some(0.5));
    /// assert_eq!(Value::Int(3).as_f64(), Some(3.0));
    /// assert_eq!(Value::String("0.5".into()).as_f64(), None);
    /// ```
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(x) => Some(*x),
            Value::Int(x) => Some(*x as f64),
            _ => None,
        }
    }

    /// The integer of an Int; `None` for other values (a Float too, even
    /// a whole one: it is not narrowed).
    ///
    /// ```
    /// use hippocamp_core::Value;
    /// assert_eq!(Value::Int(-4).as_i64(), Some(-4));
    /// assert_eq!(Value::Float(2.0).as_i64(), None);
    /// ```
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(x) => Some(*x),
            _ => None,
        }
    }

    /// The boolean of a Bool; `None` for other values.
    ///
    /// ```
    /// use hippocamp_core::Value;
    /// assert_eq!(Value::Bool(true).as_bool(), Some(true));
    /// assert_eq!(Value::Int(1).as_bool(), None);
    /// ```
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(x) => Some(*x),
            _ => None,
        }
    }

    /// The text of a String (or a StringSeries point); `None` for other
    /// values.
    ///
    /// ```
    /// use hippocamp_core::Value;
    /// assert_eq!(Value::String("adam".into()).as_str(), Some("adam"));
    /// assert_eq!(Value::Float(1.0).as_str(), None);
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(x) => Some(x),
            _ => None,
        }
    }

    /// The time of a Datetime; `None` for other values.
    ///
    /// ```
    /// use std::time::UNIX_EPOCH;
    /// use hippocamp_core::Value;
    /// assert_eq!(Value::Datetime(UNIX_EPOCH).as_datetime(), Some(UNIX_EPOCH));
    /// assert_eq!(Value::Int(0).as_datetime(), None);
    /// ```
    pub fn as_datetime(&self) -> Option<SystemTime> {
        match self {
            Value::Datetime(x) => Some(*x),
            _ => None,
        }
    }

    /// The metadata of a File (or a FileSeries point); `None` for other
    /// values.
    ///
    /// ```
    /// use hippocamp_core::{FileInfo, Value};
    /// let info = FileInfo { name: "a.png".into(), extension: "png".into(), size: 3 };
    /// assert_eq!(Value::File(info.clone()).as_file(), Some(&info));
    /// assert_eq!(Value::Bool(false).as_file(), None);
    /// ```
    pub fn as_file(&self) -> Option<&FileInfo> {
        match self {
            Value::File(x) => Some(x),
            _ => None,
        }
    }

    /// The items of a StringSet; `None` for other values.
    ///
    /// ```
    /// use hippocamp_core::Value;
    /// let tags = Value::StringSet(["cnn".to_string()].into());
    /// assert!(tags.as_string_set().is_some_and(|s| s.contains("cnn")));
    /// assert_eq!(Value::String("cnn".into()).as_string_set(), None);
    /// ```
    pub fn as_string_set(&self) -> Option<&BTreeSet<String>> {
        match self {
            Value::StringSet(x) => Some(x),
            _ => None,
        }
    }

    /// The values under a namespace, by name; `None` for other values.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use hippocamp_core::Value;
    /// let ns = Value::Namespace(BTreeMap::from([("lr".to_string(), Value::Float(0.1))]));
    /// assert_eq!(ns.as_namespace().map(|m| m.len()), Some(1));
    /// assert_eq!(Value::Float(0.1).as_namespace(), None);
    /// ```
    pub fn as_namespace(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Namespace(x) => Some(x),
            _ => None,
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
            Value::Datetime(t) => write_rfc3339_micros(f, *t),
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

/// `t` in UTC as RFC 3339 with `fraction_digits` digits of the second
/// (0 to 9, more are 9): `2023-11-14T22:13:20.123456Z` with 6.
///
/// It takes every time a `SystemTime` holds — before 1970 too, and years
/// past 9999 with more digits — where common formatters panic.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH - Duration::from_millis(1500);
/// assert_eq!(hippocamp_core::format_rfc3339(t, 3), "1969-12-31T23:59:58.500Z");
/// assert_eq!(hippocamp_core::format_rfc3339(UNIX_EPOCH, 0), "1970-01-01T00:00:00Z");
/// ```
pub fn format_rfc3339(t: SystemTime, fraction_digits: usize) -> String {
    struct Shown(SystemTime, usize);
    impl fmt::Display for Shown {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_rfc3339(f, self.0, self.1)
        }
    }
    Shown(t, fraction_digits).to_string()
}

fn write_rfc3339_micros(f: &mut fmt::Formatter<'_>, t: SystemTime) -> fmt::Result {
    write_rfc3339(f, t, 6)
}

fn write_rfc3339(f: &mut fmt::Formatter<'_>, t: SystemTime, fraction_digits: usize) -> fmt::Result {
    // Whole seconds since the epoch (rounded down) and the nanoseconds
    // after them.
    let (secs, nanos) = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => (
            i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
            after.subsec_nanos(),
        ),
        Err(before) => {
            let before = before.duration();
            let secs = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            match before.subsec_nanos() {
                0 => (-secs, 0),
                nanos => (-secs - 1, 1_000_000_000 - nanos),
            }
        }
    };
    let (days, second_of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // The civil date of a day number: Howard Hinnant's `civil_from_days`,
    // in 400-year eras starting on March 1st (in i128: no overflow for any
    // day an i64 of seconds reaches).
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i128::from(month <= 2);
    write!(
        f,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        second_of_day / 3_600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )?;
    let digits = fraction_digits.min(9);
    if digits > 0 {
        let fraction = format!("{nanos:09}");
        write!(f, ".{}", &fraction[..digits])?;
    }
    f.write_str("Z")
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
point_into!(
    f64,
    i64,
    bool,
    String,
    SystemTime,
    BTreeSet<String>,
    FileInfo
);

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use super::Value;

    fn shown(t: SystemTime) -> String {
        Value::Datetime(t).to_string()
    }

    #[test]
    fn times_display_as_rfc3339_with_microseconds() {
        let cases = [
            (UNIX_EPOCH, "1970-01-01T00:00:00.000000Z"),
            (
                UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789),
                "2023-11-14T22:13:20.123456Z",
            ),
            // A leap day, and the last second of a century leap year.
            (
                UNIX_EPOCH + Duration::from_secs(951_782_400),
                "2000-02-29T00:00:00.000000Z",
            ),
            (
                UNIX_EPOCH + Duration::from_secs(978_307_199),
                "2000-12-31T23:59:59.000000Z",
            ),
            (
                UNIX_EPOCH + Duration::from_secs(253_402_300_799),
                "9999-12-31T23:59:59.000000Z",
            ),
        ];
        for (t, text) in cases {
            assert_eq!(shown(t), text);
        }
    }

    #[test]
    fn times_before_1970_and_after_9999_display_without_panicking() {
        assert_eq!(
            shown(UNIX_EPOCH - Duration::from_micros(1)),
            "1969-12-31T23:59:59.999999Z"
        );
        assert_eq!(
            shown(UNIX_EPOCH - Duration::from_secs(86_400 * 365)),
            "1969-01-01T00:00:00.000000Z"
        );
        // 1677-09-21T00:12:43.145224192Z is the earliest time of an i64 of
        // nanoseconds.
        assert_eq!(
            shown(UNIX_EPOCH - Duration::from_nanos(i64::MIN.unsigned_abs())),
            "1677-09-21T00:12:43.145224Z"
        );
        assert_eq!(
            shown(UNIX_EPOCH + Duration::from_secs(253_402_300_800)),
            "10000-01-01T00:00:00.000000Z"
        );
    }
}
