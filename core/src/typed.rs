//! Typed paths and typed handles: a handle that offers only the operations
//! of its field type, so a wrong operation does not compile.
//!
//! `#[derive(LogNamespace)]` generates typed paths (`Params::paths()`);
//! `handler.at(typed_path)` gives a [`Typed`] handle.
//!
//! ```
//! use hippocamp_core::typed::{kind, TypedPath};
//! use hippocamp_core::{Mode, Run};
//! let run = Run::builder().mode(Mode::Debug).start()?;
//! let loss: TypedPath<kind::FloatSeries> = TypedPath::new("loss");
//! let h = run.at("train").at(&loss);
//! h.append(0.5)?;
//! h.append_at(10, 0.25)?;
//! assert_eq!(h.fetch_last()?, 0.25);
//! # Ok::<(), hippocamp_core::Error>(())
//! ```
//!
//! ```compile_fail
//! use hippocamp_core::typed::{kind, TypedPath};
//! use hippocamp_core::{Mode, Run};
//! let run = Run::builder().mode(Mode::Debug).start().unwrap();
//! let loss: TypedPath<kind::FloatSeries> = TypedPath::new("loss");
//! run.at(loss).upload("x.png"); // a FloatSeries handle has no upload
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::marker::PhantomData;
use std::time::SystemTime;

use crate::error::{Error, Result};
use crate::file::File;
use crate::handler::{as_string_set, Handler, IntoHandle};
use crate::log::{Appendable, IntoStep, LogField, Loggable};
use crate::value::{FieldType, FileInfo, Point, Value};

/// Marker types for the field types, used as `K` in [`TypedPath<K>`] and
/// [`Typed<K>`].
pub mod kind {
    use crate::value::FieldType;

    /// A field type's marker.
    pub trait Kind {
        /// The field type it stands for.
        const FIELD_TYPE: FieldType;
    }

    macro_rules! kinds {
        ($($name:ident),*) => {$(
            #[doc = concat!("The ", stringify!($name), " field type.")]
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct $name;
            impl Kind for $name {
                const FIELD_TYPE: FieldType = FieldType::$name;
            }
        )*};
    }
    kinds!(
        Float,
        Int,
        Bool,
        String,
        Datetime,
        File,
        FloatSeries,
        StringSeries,
        FileSeries,
        StringSet,
        Namespace
    );
}

/// A path whose field type is known at compile time.
///
/// ```
/// use hippocamp_core::typed::{kind, TypedPath};
/// let p: TypedPath<kind::Float> = TypedPath::new("learning_rate");
/// assert_eq!(p.as_str(), "learning_rate");
/// ```
pub struct TypedPath<K> {
    path: Cow<'static, str>,
    kind: PhantomData<fn() -> K>,
}

impl<K> TypedPath<K> {
    /// A typed path (checked against the grammar when it is used).
    pub fn new(path: impl Into<Cow<'static, str>>) -> Self {
        TypedPath {
            path: path.into(),
            kind: PhantomData,
        }
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.path
    }
}

impl<K> Clone for TypedPath<K> {
    fn clone(&self) -> Self {
        TypedPath::new(self.path.clone())
    }
}

impl<K> PartialEq for TypedPath<K> {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
    }
}

impl<K: kind::Kind> fmt::Debug for TypedPath<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TypedPath<{}>({:?})", K::FIELD_TYPE, self.path)
    }
}

impl<K> fmt::Display for TypedPath<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)
    }
}

/// A handle whose field type is known at compile time: it has only that
/// type's operations, and they take and return plain Rust types.
///
/// The run still checks the rules at run time (another handle may have
/// made the path something else).
pub struct Typed<K> {
    handler: Handler,
    kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Typed<K> {
    fn clone(&self) -> Self {
        Typed::new(self.handler.clone())
    }
}

impl<K: kind::Kind> fmt::Debug for Typed<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Typed<{}>({:?})", K::FIELD_TYPE, self.handler.path())
    }
}

impl<K> Typed<K> {
    pub(crate) fn new(handler: Handler) -> Self {
        Typed {
            handler,
            kind: PhantomData,
        }
    }

    /// The untyped handler at the same path.
    pub fn handler(&self) -> &Handler {
        &self.handler
    }

    /// The full path.
    pub fn path(&self) -> &str {
        self.handler.path()
    }
}

/// A Rust value that a `Typed<K>` handle takes: `f32`/`f64` and integers for
/// Float and FloatSeries, integers for Int, `bool`, strings for String and
/// StringSeries, `SystemTime`, and [`File`] for File and FileSeries.
pub trait ValueOf<K> {}

macro_rules! value_of {
    ($kind:ident: $($t:ty),*) => {$( impl ValueOf<kind::$kind> for $t {} )*};
}
value_of!(Float: f64, f32, i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);
value_of!(Int: i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, i128, u128);
value_of!(Bool: bool);
value_of!(String: &str, String, &String);
value_of!(Datetime: SystemTime);
value_of!(File: File);
value_of!(FloatSeries: f64, f32, i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);
value_of!(StringSeries: &str, String, &String);
value_of!(FileSeries: File);

fn expect<T>(
    handler: &Handler,
    value: Value,
    expected: &'static str,
    get: impl FnOnce(Value) -> Option<T>,
) -> Result<T> {
    let found = value.field_type();
    get(value).ok_or_else(|| Error::Conversion {
        path: Some(handler.path().to_owned()),
        expected,
        found,
    })
}

macro_rules! atom_handle {
    (Float, $t:ty, $pat:pat => $out:expr) => {
        impl Typed<kind::Float> {
            /// Assigns a number; an integer is stored as a Float, so that
            /// the handle's first write makes the Float it stands for.
            pub fn assign<V: ValueOf<kind::Float> + float::ToFloat>(&self, value: V) -> Result<()> {
                self.handler.assign(value.to_float())
            }
        }
        atom_handle!(@fetch Float, $t, $pat => $out);
    };
    ($kind:ident, $t:ty, $pat:pat => $out:expr) => {
        impl Typed<kind::$kind> {
            /// Assigns a value of this field type.
            pub fn assign<V: ValueOf<kind::$kind> + Loggable>(&self, value: V) -> Result<()> {
                self.handler.assign(value)
            }
        }
        atom_handle!(@fetch $kind, $t, $pat => $out);
    };
    (@fetch $kind:ident, $t:ty, $pat:pat => $out:expr) => {
        impl Typed<kind::$kind> {
            /// Reads the value.
            pub fn fetch(&self) -> Result<$t> {
                let value = self.handler.fetch()?;
                expect(&self.handler, value, stringify!($t), |v| match v {
                    $pat => Some($out),
                    _ => None,
                })
            }
        }
    };
}
/// The numbers a Float handle takes, as the `f64` it stores.
mod float {
    /// A number as an `f64` (sealed: implemented here only).
    pub trait ToFloat {
        /// The value as an `f64`.
        fn to_float(self) -> f64;
    }
    macro_rules! to_float {
        ($($t:ty),*) => {$(
            impl ToFloat for $t {
                #[inline]
                fn to_float(self) -> f64 { self as f64 }
            }
        )*};
    }
    to_float!(f64, f32, i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);
}

atom_handle!(Float, f64, Value::Float(x) => x);
atom_handle!(Int, i64, Value::Int(x) => x);
atom_handle!(Bool, bool, Value::Bool(x) => x);
atom_handle!(String, String, Value::String(x) => x);
atom_handle!(Datetime, SystemTime, Value::Datetime(x) => x);

impl Typed<kind::File> {
    /// Stores a file from disk.
    pub fn upload(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        self.handler.upload(path)
    }

    /// Stores bytes with a file name.
    pub fn upload_bytes(&self, bytes: impl Into<Vec<u8>>, name: impl Into<String>) -> Result<()> {
        self.handler.upload_bytes(bytes, name)
    }

    /// Stores a [`File`].
    pub fn assign(&self, file: File) -> Result<()> {
        self.handler.assign(file)
    }

    /// The file's name and size.
    pub fn fetch(&self) -> Result<FileInfo> {
        let value = self.handler.fetch()?;
        expect(&self.handler, value, "FileInfo", |v| match v {
            Value::File(info) => Some(info),
            _ => None,
        })
    }

    /// The file's bytes.
    pub fn download(&self) -> Result<Vec<u8>> {
        self.handler.download()
    }
}

macro_rules! series_handle {
    ($kind:ident, $t:ty, $pat:pat => $out:expr) => {
        impl Typed<kind::$kind> {
            /// Appends at the next step.
            pub fn append<V: ValueOf<kind::$kind> + Appendable>(&self, value: V) -> Result<()> {
                self.handler.append(value)
            }

            /// Appends at `step` (finite, above the last step).
            pub fn append_at<S: IntoStep, V: ValueOf<kind::$kind> + Appendable>(
                &self,
                step: S,
                value: V,
            ) -> Result<()> {
                self.handler.append_at(step, value)
            }

            /// Appends several values at consecutive steps.
            pub fn extend<I>(&self, values: I) -> Result<()>
            where
                I: IntoIterator,
                I::Item: ValueOf<kind::$kind> + Appendable,
            {
                self.handler.extend(values)
            }

            /// Removes every point.
            pub fn clear(&self) -> Result<()> {
                self.handler.clear()
            }

            /// Every point, in step order.
            pub fn fetch_values(&self) -> Result<Vec<Point<$t>>> {
                self.handler
                    .fetch_values()?
                    .into_iter()
                    .map(
                        |Point {
                             step,
                             value,
                             timestamp,
                         }| {
                            let value =
                                expect(&self.handler, value, stringify!($t), |v| match v {
                                    $pat => Some($out),
                                    _ => None,
                                })?;
                            Ok(Point {
                                step,
                                value,
                                timestamp,
                            })
                        },
                    )
                    .collect()
            }
        }
    };
}
series_handle!(FloatSeries, f64, Value::Float(x) => x);
series_handle!(StringSeries, String, Value::String(x) => x);
series_handle!(FileSeries, FileInfo, Value::File(x) => x);

impl Typed<kind::FloatSeries> {
    /// The last value.
    pub fn fetch_last(&self) -> Result<f64> {
        let value = self.handler.fetch_last()?.value;
        expect(&self.handler, value, "f64", |v| match v {
            Value::Float(x) => Some(x),
            _ => None,
        })
    }
}

impl Typed<kind::StringSeries> {
    /// The last value.
    pub fn fetch_last(&self) -> Result<String> {
        let value = self.handler.fetch_last()?.value;
        expect(&self.handler, value, "String", |v| match v {
            Value::String(x) => Some(x),
            _ => None,
        })
    }
}

impl Typed<kind::FileSeries> {
    /// The last file's bytes.
    pub fn download(&self) -> Result<Vec<u8>> {
        self.handler.download()
    }

    /// The bytes of the file at `step`.
    pub fn download_at<S: IntoStep>(&self, step: S) -> Result<Vec<u8>> {
        self.handler.download_at(step)
    }
}

impl Typed<kind::StringSet> {
    /// Makes the set hold exactly these items.
    pub fn assign<I, S>(&self, items: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let items: BTreeSet<String> = items.into_iter().map(|s| s.as_ref().to_owned()).collect();
        self.handler.assign(items)
    }

    /// Adds strings.
    pub fn add<I, S>(&self, items: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.handler.add(items)
    }

    /// Removes strings.
    pub fn remove<I, S>(&self, items: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.handler.remove(items)
    }

    /// Removes every item.
    pub fn clear(&self) -> Result<()> {
        self.handler.clear()
    }

    /// The items.
    pub fn fetch(&self) -> Result<BTreeSet<String>> {
        as_string_set(self.handler.fetch()?, self.handler.path())
    }
}

impl Typed<kind::Namespace> {
    /// A handle under this namespace.
    pub fn at<P: IntoHandle>(&self, path: P) -> P::Handle {
        self.handler.at(path)
    }

    /// Merges a struct or map into the namespace.
    pub fn assign<V: Loggable>(&self, value: V) -> Result<()> {
        self.handler.assign(value)
    }

    /// The nested values (series left out).
    pub fn fetch(&self) -> Result<BTreeMap<String, Value>> {
        match self.handler.fetch()? {
            Value::Namespace(map) => Ok(map),
            other => Err(Error::Conversion {
                path: Some(self.handler.path().to_owned()),
                expected: "a namespace",
                found: other.field_type(),
            }),
        }
    }

    /// Reads a derived struct back.
    pub fn fetch_as<T: LogField>(&self) -> Result<T> {
        self.handler.fetch_as()
    }

    /// Removes the namespace and all under it.
    pub fn delete(&self) -> Result<()> {
        self.handler.delete()
    }
}

impl<K: kind::Kind> Typed<K> {
    /// The field type this handle stands for.
    pub fn field_type(&self) -> FieldType {
        K::FIELD_TYPE
    }
}
