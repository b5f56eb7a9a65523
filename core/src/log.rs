//! How Rust values are logged and read back: the traits behind `assign`,
//! `append`, `log!` and `#[derive(LogNamespace)]`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::SystemTime;

use crate::callsite::Callsite;
use crate::error::{Error, Result};
use crate::file::File;
use crate::handler::{as_string_set, Handler};
use crate::tree::SeriesItem;
use crate::typed::{kind, TypedPath};
use crate::value::{FieldType, Operation, Value};

/// Options of one logging call: the step and time of series points.
///
/// ```
/// use hippocamp_core::LogOptions;
/// let opts = LogOptions::new().step(3).timestamp(std::time::SystemTime::UNIX_EPOCH);
/// assert_eq!(opts.step, Some(3.0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LogOptions {
    /// The step of appended points (default: each series' last step + 1).
    pub step: Option<f64>,
    /// The time of appended points (default: now).
    pub timestamp: Option<SystemTime>,
}

impl LogOptions {
    /// No step, no timestamp.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appended points go at `step`.
    pub fn step(mut self, step: impl IntoStep) -> Self {
        self.step = Some(step.into_step());
        self
    }

    /// Appended points carry `timestamp`.
    pub fn timestamp(mut self, timestamp: SystemTime) -> Self {
        self.timestamp = Some(timestamp);
        self
    }
}

/// A number usable as a series step. Steps are `f64`; integers convert
/// (exactly up to 2^53).
///
/// ```
/// use hippocamp_core::IntoStep;
/// assert_eq!(7usize.into_step(), 7.0);
/// ```
pub trait IntoStep {
    /// The step as `f64`.
    fn into_step(self) -> f64;
}

macro_rules! into_step {
    ($($t:ty),*) => {$(
        impl IntoStep for $t {
            #[inline]
            fn into_step(self) -> f64 { self as f64 }
        }
    )*};
}
into_step!(f64, f32, i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

/// A value that can be assigned (`handler.assign(v)`, `log!(h, "p" => v)`):
/// atoms make fields, structs and maps merge into namespaces.
///
/// Implemented for `f32`/`f64` (Float), the integer types (Int; `u64`,
/// `usize` and 128-bit values above `i64::MAX` are refused), `bool`,
/// `str`/`String`, `SystemTime` (Datetime), [`File`], sets of strings
/// (StringSet, replacing its items), `Option` (`None` writes nothing),
/// references, structs deriving `LogNamespace`, and [`Serde`](crate::Serde).
pub trait Loggable {
    /// Logs `self` at `rel` under `target` (`rel` may be `""`).
    fn log_at(&self, target: &Handler, rel: &str, options: &LogOptions) -> Result<()>;

    /// Logs `self` at a `log!` callsite's literal path. The default goes
    /// through the path; leaf types use the callsite's cache.
    #[doc(hidden)]
    #[inline]
    fn log_at_site(&self, target: &Handler, site: &Callsite, options: &LogOptions) -> Result<()> {
        self.log_at(target, site.path(), options)
    }
}

/// A value that can be appended to a series (`handler.append(v)`,
/// `log!(h, "p" += v)`): numbers to a FloatSeries, strings to a
/// StringSeries, [`File`]s to a FileSeries; a struct deriving
/// `LogNamespace` logs its fields (appending its `series` fields at the
/// call's step).
pub trait Appendable {
    /// Appends `self` at `rel` under `target` with the options' step/time.
    fn append_at(&self, target: &Handler, rel: &str, options: &LogOptions) -> Result<()>;

    /// Appends `self` at a `log!` callsite's literal path. The default goes
    /// through the path; leaf types use the callsite's cache.
    #[doc(hidden)]
    #[inline]
    fn append_at_site(
        &self,
        target: &Handler,
        site: &Callsite,
        options: &LogOptions,
    ) -> Result<()> {
        self.append_at(target, site.path(), options)
    }
}

/// A type a `#[log(series)]` field can have: one value per step.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be appended to a series",
    label = "`#[log(series)]` needs a type that can be appended",
    note = "series hold numbers (FloatSeries), strings (StringSeries) or hippocamp::File (FileSeries), optionally in an Option"
)]
pub trait SeriesValue: Appendable + Sized {
    /// The series type: `kind::FloatSeries`, `kind::StringSeries` or
    /// `kind::FileSeries`.
    type Kind;
    /// Reads the series' last value back (how a derived struct reads a
    /// `series` field).
    fn fetch_last_at(target: &Handler, rel: &str) -> Result<Self>;
}

/// A type a field of a `#[derive(LogNamespace)]` struct can have: it has a
/// typed path and can be read back.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a field of a `LogNamespace` struct",
    label = "no field type for this",
    note = "fields are numbers, bool, String, SystemTime, hippocamp::File, sets of strings, Option of those, or structs deriving LogNamespace; mark it `#[log(skip)]` to leave it out"
)]
pub trait LogField: Loggable + Sized {
    /// Its typed path: `TypedPath<kind::…>` for a field, the `…Paths`
    /// struct for a nested namespace.
    type Paths;
    /// The typed path(s) at `path`.
    fn paths_at(path: Cow<'static, str>) -> Self::Paths;
    /// Reads it back from `rel` under `target`.
    fn fetch_at(target: &Handler, rel: &str) -> Result<Self>;
}

/// A struct whose fields are a namespace: derive it with
/// `#[derive(LogNamespace)]` (see the `hippocamp` crate for attributes).
pub trait LogNamespace: Sized {
    /// The struct of typed paths, one per field, relative to where the
    /// struct is logged.
    type Paths;

    /// The typed paths of the fields.
    fn paths() -> Self::Paths {
        Self::paths_at(Cow::Borrowed(""))
    }

    /// The typed paths with `prefix` before each.
    fn paths_at(prefix: Cow<'static, str>) -> Self::Paths;

    /// Logs every field under the namespace `ns`: plain fields assigned,
    /// `series` fields appended with the options' step and time, `None`
    /// and `skip` fields not written. Fields are written in declaration
    /// order; the first error stops and is returned.
    fn log_into(&self, ns: &Handler, options: &LogOptions) -> Result<()>;

    /// Reads every field back from the namespace `ns`.
    fn fetch_from(ns: &Handler) -> Result<Self>;
}

/// The handler at `rel` under `target`, without a new handler for `""`.
pub(crate) fn at_rel<'a>(target: &'a Handler, rel: &str) -> Cow<'a, Handler> {
    if rel.is_empty() {
        Cow::Borrowed(target)
    } else {
        Cow::Owned(target.at(rel))
    }
}

fn conversion(target: &Handler, rel: &str, expected: &'static str, found: FieldType) -> Error {
    Error::Conversion {
        path: Some(hippocamp_path::join(target.path(), rel)),
        expected,
        found,
    }
}

// ---- references, Option ---------------------------------------------

impl<T: Loggable + ?Sized> Loggable for &T {
    fn log_at(&self, target: &Handler, rel: &str, options: &LogOptions) -> Result<()> {
        (**self).log_at(target, rel, options)
    }
    #[inline]
    fn log_at_site(&self, target: &Handler, site: &Callsite, options: &LogOptions) -> Result<()> {
        (**self).log_at_site(target, site, options)
    }
}

impl<T: Appendable + ?Sized> Appendable for &T {
    fn append_at(&self, target: &Handler, rel: &str, options: &LogOptions) -> Result<()> {
        (**self).append_at(target, rel, options)
    }
    #[inline]
    fn append_at_site(
        &self,
        target: &Handler,
        site: &Callsite,
        options: &LogOptions,
    ) -> Result<()> {
        (**self).append_at_site(target, site, options)
    }
}

impl<T: Loggable> Loggable for Option<T> {
    fn log_at(&self, target: &Handler, rel: &str, options: &LogOptions) -> Result<()> {
        match self {
            Some(value) => value.log_at(target, rel, options),
            None => Ok(()),
        }
    }
    fn log_at_site(&self, target: &Handler, site: &Callsite, options: &LogOptions) -> Result<()> {
        match self {
            Some(value) => value.log_at_site(target, site, options),
            None => Ok(()),
        }
    }
}

impl<T: Appendable> Appendable for Option<T> {
    fn append_at(&self, target: &Handler, rel: &str, options: &LogOptions) -> Result<()> {
        match self {
            Some(value) => value.append_at(target, rel, options),
            None => Ok(()),
        }
    }
    fn append_at_site(
        &self,
        target: &Handler,
        site: &Callsite,
        options: &LogOptions,
    ) -> Result<()> {
        match self {
            Some(value) => value.append_at_site(target, site, options),
            None => Ok(()),
        }
    }
}

impl<T: SeriesValue> SeriesValue for Option<T> {
    type Kind = T::Kind;
    fn fetch_last_at(target: &Handler, rel: &str) -> Result<Self> {
        if !target.exists_at(rel)? {
            return Ok(None);
        }
        T::fetch_last_at(target, rel).map(Some)
    }
}

impl<T: LogField> LogField for Option<T> {
    type Paths = T::Paths;
    fn paths_at(path: Cow<'static, str>) -> Self::Paths {
        T::paths_at(path)
    }
    fn fetch_at(target: &Handler, rel: &str) -> Result<Self> {
        if !target.exists_at(rel)? {
            return Ok(None);
        }
        T::fetch_at(target, rel).map(Some)
    }
}

// ---- numbers ----------------------------------------------------------

macro_rules! float_impls {
    ($($t:ty),*) => {$(
        impl Loggable for $t {
            #[inline]
            fn log_at(&self, target: &Handler, rel: &str, _: &LogOptions) -> Result<()> {
                target.assign_value_at(rel, Value::Float(f64::from(*self)))
            }
            #[inline]
            fn log_at_site(&self, target: &Handler, site: &Callsite, _: &LogOptions) -> Result<()> {
                target.assign_value_site(site, Value::Float(f64::from(*self)))
            }
        }
        impl LogField for $t {
            type Paths = TypedPath<kind::Float>;
            fn paths_at(path: Cow<'static, str>) -> Self::Paths { TypedPath::new(path) }
            fn fetch_at(target: &Handler, rel: &str) -> Result<Self> {
                match target.fetch_at(rel)? {
                    Value::Float(x) => Ok(x as $t),
                    Value::Int(x) => Ok(x as $t),
                    other => Err(conversion(target, rel, stringify!($t), other.field_type())),
                }
            }
        }
    )*};
}
float_impls!(f64, f32);

/// An integer as an Int value, refused beyond `i64`.
#[inline]
fn int_value<T: TryInto<i64> + std::fmt::Display + Copy>(
    value: T,
    target: &Handler,
    rel: &str,
) -> Result<Value> {
    value
        .try_into()
        .map(Value::Int)
        .map_err(|_| int_out_of_range(value, hippocamp_path::join(target.path(), rel)))
}

/// The refusal of an integer beyond `i64` at `path`.
pub(crate) fn int_out_of_range(value: impl std::fmt::Display, path: String) -> Error {
    Error::OutOfRange {
        path,
        detail: format!("{value} does not fit an Int (64-bit signed)"),
    }
}

macro_rules! int_impls {
    ($($t:ty),*) => {$(
        impl Loggable for $t {
            #[inline]
            fn log_at(&self, target: &Handler, rel: &str, _: &LogOptions) -> Result<()> {
                target.assign_value_at(rel, int_value(*self, target, rel)?)
            }
            #[inline]
            fn log_at_site(&self, target: &Handler, site: &Callsite, _: &LogOptions) -> Result<()> {
                target.assign_value_site(site, int_value(*self, target, site.path())?)
            }
        }
        impl LogField for $t {
            type Paths = TypedPath<kind::Int>;
            fn paths_at(path: Cow<'static, str>) -> Self::Paths { TypedPath::new(path) }
            fn fetch_at(target: &Handler, rel: &str) -> Result<Self> {
                match target.fetch_at(rel)? {
                    Value::Int(x) => <$t>::try_from(x).map_err(|_| Error::OutOfRange {
                        path: hippocamp_path::join(target.path(), rel),
                        detail: format!("{x} does not fit {}", stringify!($t)),
                    }),
                    other => Err(conversion(target, rel, stringify!($t), other.field_type())),
                }
            }
        }
    )*};
}
int_impls!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

macro_rules! float_series {
    ($($t:ty),*) => {$(
        impl Appendable for $t {
            #[inline]
            fn append_at(&self, target: &Handler, rel: &str, options: &LogOptions) -> Result<()> {
                target.append_item_at(rel, SeriesItem::Float(*self as f64), options)
            }
            #[inline]
            fn append_at_site(&self, target: &Handler, site: &Callsite, options: &LogOptions) -> Result<()> {
                target.append_site(site, SeriesItem::Float(*self as f64), options)
            }
        }
        impl SeriesValue for $t {
            type Kind = kind::FloatSeries;
            fn fetch_last_at(target: &Handler, rel: &str) -> Result<Self> {
                match target.fetch_last_at(rel)?.value {
                    Value::Float(x) => Ok(x as $t),
                    other => Err(conversion(target, rel, stringify!($t), other.field_type())),
                }
            }
        }
    )*};
}
float_series!(f64, f32, i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

// ---- bool, strings, time ---------------------------------------------

/// `LogField` for a type that is read back from one [`Value`] variant, of
/// the field type of the same name.
macro_rules! atom_field {
    ($($t:ty => $variant:ident),*) => {$(
        impl LogField for $t {
            type Paths = TypedPath<kind::$variant>;
            fn paths_at(path: Cow<'static, str>) -> Self::Paths {
                TypedPath::new(path)
            }
            fn fetch_at(target: &Handler, rel: &str) -> Result<Self> {
                match target.fetch_at(rel)? {
                    Value::$variant(x) => Ok(x),
                    other => Err(conversion(target, rel, stringify!($t), other.field_type())),
                }
            }
        }
    )*};
}
atom_field!(bool => Bool, String => String, SystemTime => Datetime);

impl Loggable for bool {
    fn log_at(&self, target: &Handler, rel: &str, _: &LogOptions) -> Result<()> {
        target.assign_value_at(rel, Value::Bool(*self))
    }
    fn log_at_site(&self, target: &Handler, site: &Callsite, _: &LogOptions) -> Result<()> {
        target.assign_value_site(site, Value::Bool(*self))
    }
}

impl Loggable for str {
    fn log_at(&self, target: &Handler, rel: &str, _: &LogOptions) -> Result<()> {
        target.assign_value_at(rel, Value::String(self.to_owned()))
    }
    fn log_at_site(&self, target: &Handler, site: &Callsite, _: &LogOptions) -> Result<()> {
        target.assign_value_site(site, Value::String(self.to_owned()))
    }
}

impl Loggable for String {
    fn log_at(&self, target: &Handler, rel: &str, options: &LogOptions) -> Result<()> {
        self.as_str().log_at(target, rel, options)
    }
    fn log_at_site(&self, target: &Handler, site: &Callsite, options: &LogOptions) -> Result<()> {
        self.as_str().log_at_site(target, site, options)
    }
}

impl Appendable for str {
    fn append_at(&self, target: &Handler, rel: &str, options: &LogOptions) -> Result<()> {
        target.append_item_at(rel, SeriesItem::String(self), options)
    }
    fn append_at_site(
        &self,
        target: &Handler,
        site: &Callsite,
        options: &LogOptions,
    ) -> Result<()> {
        target.append_site(site, SeriesItem::String(self), options)
    }
}

impl Appendable for String {
    fn append_at(&self, target: &Handler, rel: &str, options: &LogOptions) -> Result<()> {
        self.as_str().append_at(target, rel, options)
    }
    fn append_at_site(
        &self,
        target: &Handler,
        site: &Callsite,
        options: &LogOptions,
    ) -> Result<()> {
        self.as_str().append_at_site(target, site, options)
    }
}

impl SeriesValue for String {
    type Kind = kind::StringSeries;
    fn fetch_last_at(target: &Handler, rel: &str) -> Result<Self> {
        match target.fetch_last_at(rel)?.value {
            Value::String(x) => Ok(x),
            other => Err(conversion(target, rel, "String", other.field_type())),
        }
    }
}

impl Loggable for SystemTime {
    fn log_at(&self, target: &Handler, rel: &str, _: &LogOptions) -> Result<()> {
        target.assign_value_at(rel, Value::Datetime(*self))
    }
    fn log_at_site(&self, target: &Handler, site: &Callsite, _: &LogOptions) -> Result<()> {
        target.assign_value_site(site, Value::Datetime(*self))
    }
}

// ---- files ------------------------------------------------------------

impl Loggable for File {
    fn log_at(&self, target: &Handler, rel: &str, _: &LogOptions) -> Result<()> {
        target.upload_at(rel, self, Operation::Assign)
    }
}

impl LogField for File {
    type Paths = TypedPath<kind::File>;
    fn paths_at(path: Cow<'static, str>) -> Self::Paths {
        TypedPath::new(path)
    }
    /// Reads the file back with its bytes.
    fn fetch_at(target: &Handler, rel: &str) -> Result<Self> {
        let handler = at_rel(target, rel);
        let info = match handler.fetch()? {
            Value::File(info) => info,
            other => return Err(conversion(target, rel, "File", other.field_type())),
        };
        Ok(File::from_bytes(handler.download()?, info.name))
    }
}

impl Appendable for File {
    fn append_at(&self, target: &Handler, rel: &str, options: &LogOptions) -> Result<()> {
        target.append_file_at(rel, self, options)
    }
}

impl SeriesValue for File {
    type Kind = kind::FileSeries;
    fn fetch_last_at(target: &Handler, rel: &str) -> Result<Self> {
        let handler = at_rel(target, rel);
        let last = handler
            .fetch_values()?
            .pop()
            .ok_or_else(|| Error::NotFound {
                path: handler.path().to_owned(),
            })?;
        let Value::File(info) = last.value else {
            return Err(conversion(target, rel, "File", last.value.field_type()));
        };
        Ok(File::from_bytes(handler.download_at(last.step)?, info.name))
    }
}

// ---- sets -------------------------------------------------------------

macro_rules! set_impls {
    ($($set:ident),*) => {$(
        impl<S: AsRef<str>> Loggable for $set<S> {
            /// Makes the StringSet hold exactly these items.
            fn log_at(&self, target: &Handler, rel: &str, _: &LogOptions) -> Result<()> {
                let items: Vec<String> = self.iter().map(|s| s.as_ref().to_owned()).collect();
                target.set_strings_at(rel, &items, true)
            }
        }
        impl LogField for $set<String> {
            type Paths = TypedPath<kind::StringSet>;
            fn paths_at(path: Cow<'static, str>) -> Self::Paths { TypedPath::new(path) }
            fn fetch_at(target: &Handler, rel: &str) -> Result<Self> {
                let set = as_string_set(target.fetch_at(rel)?, &hippocamp_path::join(target.path(), rel))?;
                Ok(set.into_iter().collect())
            }
        }
    )*};
}
set_impls!(BTreeSet, HashSet);

// ---- maps -------------------------------------------------------------

macro_rules! map_impls {
    ($($map:ident),*) => {$(
        impl<K: AsRef<str>, V: Loggable> Loggable for $map<K, V> {
            /// Merges the entries into the namespace at `rel`, each key a
            /// path segment (checked, never rewritten). An empty map writes
            /// nothing.
            fn log_at(&self, target: &Handler, rel: &str, options: &LogOptions) -> Result<()> {
                let ns = at_rel(target, rel);
                for (key, value) in self {
                    hippocamp_path::validate_segment(key.as_ref()).map_err(|source| {
                        Error::InvalidPath {
                            path: hippocamp_path::join(ns.path(), key.as_ref()),
                            source,
                        }
                    })?;
                    value.log_at(&ns, key.as_ref(), options)?;
                }
                Ok(())
            }
        }
    )*};
}
map_impls!(BTreeMap, HashMap);
