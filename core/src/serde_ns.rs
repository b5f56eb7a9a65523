//! Logging any `T: serde::Serialize` as a namespace, through [`Serde`].
//!
//! A private [`serde::Serializer`] walks the value and collects
//! `(path, value)` pairs; only when the whole value has been walked
//! without an error are the pairs written, in order, under one lock of the
//! run.

use std::fmt;

use hippocamp_path::{PathError, PathErrorKind, MAX_PATH_BYTES};
use serde::ser::{self, Impossible, Serialize};

use crate::error::{Error, Result};
use crate::handler::Handler;
use crate::log::{int_out_of_range, LogOptions, Loggable};
use crate::tree::{check_string_len, Target};
use crate::value::Value;

/// Logs any `T: serde::Serialize`: structs and maps become namespaces,
/// scalars become fields.
///
/// `Serde` is the one explicit way to log a value through its `Serialize`
/// implementation (a config struct from another crate, a `HashMap`…); for
/// structs you own, `#[derive(LogNamespace)]` gives typed paths as well.
/// `Serde(&cfg)` borrows; `Serde(cfg)` owns. `handler.assign(Serde(&cfg))`
/// and `log!(run, "config" => Serde(&cfg))` do the same thing.
///
/// ```
/// use std::collections::BTreeMap;
/// use hippocamp_core::{Mode, Run, Serde, Value};
///
/// #[derive(serde::Serialize)]
/// struct Split {
///     train: f64,
///     test: f64,
/// }
///
/// #[derive(serde::Serialize)]
/// struct DatasetConfig {
///     path: String,
///     size: u32,
///     split: Split,
///     augment: Option<String>,               // None: not written
///     classes: Vec<&'static str>,            // classes/0, classes/1
///     weights: BTreeMap<&'static str, f64>,  // a map: a namespace
/// }
///
/// let cfg = DatasetConfig {
///     path: "data/mnist".into(),
///     size: 60_000,
///     split: Split { train: 0.8, test: 0.2 },
///     augment: None,
///     classes: vec!["cat", "dog"],
///     weights: BTreeMap::from([("cat", 1.0), ("dog", 2.5)]),
/// };
/// let run = Run::builder().mode(Mode::Debug).start()?;
/// run.at("preprocessing/dataset/config").assign(Serde(&cfg))?;
///
/// assert_eq!(run.at("preprocessing/dataset/config").structure()?.to_string(), "\
/// |--> classes
///      |--> 0: \"cat\"
///      |--> 1: \"dog\"
/// |--> path: \"data/mnist\"
/// |--> size: 60000
/// |--> split
///      |--> test: 0.2
///      |--> train: 0.8
/// |--> weights
///      |--> cat: 1.0
///      |--> dog: 2.5
/// ");
/// let size = run.at("preprocessing/dataset/config/size").fetch()?;
/// assert_eq!(size, Value::Int(60_000));
///
/// // A scalar assigned at a path is that field.
/// run.at("params/lr").assign(Serde(0.005))?;
/// assert_eq!(run.at("params/lr").fetch()?, Value::Float(0.005));
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
///
/// # Mapping
///
/// | serde data model | logged as |
/// |---|---|
/// | struct, map | a namespace, each field or key a path segment; map keys must be strings, chars, integers, bools or unit enum variants (rendered as text, `1` → `"1"`), any other key is [`Error::Serialize`] |
/// | `bool` | Bool |
/// | `i8`…`i64`, `u8`…`u32` | Int |
/// | `u64`, `i128`, `u128` | Int when in the `i64` range, else [`Error::OutOfRange`] |
/// | `f32`, `f64` | Float (NaN and ±Inf kept as they are) |
/// | `char`, `str` | String |
/// | `None` | nothing written (like an `Option` field of a derived struct) |
/// | `Some(x)` | `x` |
/// | `()`, unit struct | [`Error::Serialize`]: it has no field type; skip it with `#[serde(skip)]` |
/// | unit enum variant | String holding the variant's name |
/// | newtype struct | the inner value |
/// | newtype, tuple and struct variants | a namespace `{VariantName: …}` (serde's externally tagged form) |
/// | sequence, tuple, tuple struct | a namespace with keys `0`, `1`, … (a `Vec<f64>` becomes Float fields `0`, `1`, …) |
/// | bytes | [`Error::Serialize`]: log binary data as a [`File`](crate::File) |
///
/// A top-level scalar (`Serde(3.5)`) is the field at the path it is
/// assigned to. A namespace exists only through its fields, so an empty
/// sequence or map, or a `None`, writes nothing (and a `None` element of a
/// sequence leaves a gap in its keys). Note that `Vec<u8>` serializes as a
/// sequence, not as bytes; `SystemTime` serializes as the struct
/// `{secs_since_epoch, nanos_since_epoch}` — assign a `SystemTime` directly
/// to get a Datetime field.
///
/// # Errors
///
/// Keys and variant names are path segments and are never rewritten: one
/// that breaks the path grammar (contains `/`, is empty, has surrounding
/// whitespace or control characters) is [`Error::InvalidPath`], and so is
/// a path longer than the limit. Serialization errors ([`Error::Serialize`],
/// naming the path inside the value, [`Error::OutOfRange`] for an integer
/// or a string beyond its limit, [`Error::InvalidPath`]) are found before
/// anything is written, so such a value writes nothing.
///
/// The fields are then written in serialization order under the run's
/// type rules, merging into whatever is already there. A write the run
/// refuses (a field of another type, a field where the value has a
/// namespace, a `sys/` field…) stops the writing and is returned; the
/// fields written before it stay written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Serde<T>(pub T);

impl<T: Serialize> Loggable for Serde<T> {
    /// Merges the value into the namespace at `rel` (or writes the field
    /// there, for a scalar); `options` are not used (nothing is appended).
    fn log_at(&self, target: &Handler, rel: &str, _options: &LogOptions) -> Result<()> {
        // Before the walk, so that a bad path is this call's error even
        // when the value writes nothing.
        target.check_path(rel)?;
        let mut collector = Collector {
            base: target.path(),
            path: rel.to_owned(),
            fields: Vec::new(),
        };
        self.0
            .serialize(&mut collector)
            .map_err(|e| e.located(|| collector.full_path()))?;
        if collector.fields.is_empty() {
            return Ok(());
        }
        let fields = collector.fields;
        target.write_at(rel, |tree, at| {
            for (path, value) in fields {
                let field = Target {
                    base: at.base,
                    cache: at.cache,
                    rel: &path,
                };
                tree.assign(&field, value)?;
            }
            Ok(())
        })
    }
}

/// A path error in `segment` moved to its place after `prefix` in the
/// joined path.
fn shifted(mut error: PathError, prefix: &str, segment: &str) -> PathError {
    let shift = if prefix.is_empty() {
        0
    } else {
        prefix.len() + 1
    };
    match error.kind {
        PathErrorKind::TooLong(_) => PathError::too_long(&hippocamp_path::join(prefix, segment)),
        // An empty key is an empty segment of the joined path.
        PathErrorKind::Empty => PathError {
            offset: shift,
            kind: PathErrorKind::EmptySegment,
        },
        _ => {
            error.offset += shift;
            error
        }
    }
}

/// The error of the serializer: ours, or serde's `custom` one whose path
/// is filled in where it is caught.
enum SerError {
    /// From [`ser::Error::custom`], not yet located.
    Custom(String),
    /// A complete error.
    Error(Error),
}

impl SerError {
    /// The error, with a `custom` one placed at `path`.
    fn located(self, path: impl FnOnce() -> String) -> Self {
        match self {
            SerError::Custom(message) => SerError::Error(Error::Serialize {
                path: path(),
                message,
            }),
            done => done,
        }
    }
}

impl From<SerError> for Error {
    fn from(error: SerError) -> Error {
        match error {
            SerError::Error(error) => error,
            // Located by `log_at` before it gets here.
            SerError::Custom(message) => Error::Serialize {
                path: String::new(),
                message,
            },
        }
    }
}

impl fmt::Display for SerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SerError::Custom(message) => f.write_str(message),
            SerError::Error(error) => error.fmt(f),
        }
    }
}

impl fmt::Debug for SerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SerError::Custom(message) => f.debug_tuple("Custom").field(message).finish(),
            SerError::Error(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for SerError {}

impl ser::Error for SerError {
    fn custom<M: fmt::Display>(message: M) -> Self {
        SerError::Custom(message.to_string())
    }
}

type SerResult<T = ()> = std::result::Result<T, SerError>;

/// Walks a value and collects the fields it makes.
struct Collector<'a> {
    /// The handler's path.
    base: &'a str,
    /// Where the walk is, relative to the handler.
    path: String,
    /// The fields found, relative to the handler, in serialization order.
    fields: Vec<(String, Value)>,
}

impl<'a> Collector<'a> {
    /// Where the walk is, from the run's root.
    fn full_path(&self) -> String {
        hippocamp_path::join(self.base, &self.path)
    }

    fn full_len(&self) -> usize {
        match (self.base.is_empty(), self.path.is_empty()) {
            (true, _) => self.path.len(),
            (_, true) => self.base.len(),
            _ => self.base.len() + 1 + self.path.len(),
        }
    }

    fn serialize_error(&self, message: impl Into<String>) -> SerError {
        SerError::Error(Error::Serialize {
            path: self.full_path(),
            message: message.into(),
        })
    }

    /// Records a field at the current path.
    fn emit(&mut self, value: Value) -> SerResult {
        let len = self.full_len();
        if len > MAX_PATH_BYTES {
            let path = self.full_path();
            return Err(SerError::Error(Error::InvalidPath {
                source: PathError::too_long(&path),
                path,
            }));
        }
        if let Value::String(s) = &value {
            check_string_len(s, || self.full_path()).map_err(SerError::Error)?;
        }
        self.fields.push((self.path.clone(), value));
        Ok(())
    }

    fn emit_int<I: TryInto<i64> + fmt::Display + Copy>(&mut self, v: I) -> SerResult {
        match v.try_into() {
            Ok(i) => self.emit(Value::Int(i)),
            Err(_) => Err(SerError::Error(int_out_of_range(v, self.full_path()))),
        }
    }

    /// Descends into `segment`, checking it against the path grammar.
    fn push(&mut self, segment: &str) -> SerResult {
        if let Err(error) = hippocamp_path::validate_segment(segment) {
            let prefix = self.full_path();
            return Err(SerError::Error(Error::InvalidPath {
                path: hippocamp_path::join(&prefix, segment),
                source: shifted(error, &prefix, segment),
            }));
        }
        if !self.path.is_empty() {
            self.path.push('/');
        }
        self.path.push_str(segment);
        Ok(())
    }

    /// Serializes `value` at the current path plus `segment`.
    fn element<T: ?Sized + Serialize>(&mut self, segment: &str, value: &T) -> SerResult {
        let len = self.path.len();
        self.push(segment)?;
        let result = value
            .serialize(&mut *self)
            .map_err(|e| e.located(|| self.full_path()));
        self.path.truncate(len);
        result
    }

    /// A compound value under the current path, or under `variant` below
    /// it for an enum variant.
    fn compound<'c>(&'c mut self, variant: Option<&str>) -> SerResult<Compound<'c, 'a>> {
        let restore = self.path.len();
        if let Some(variant) = variant {
            self.push(variant)?;
        }
        Ok(Compound {
            c: self,
            restore,
            next: 0,
            key: None,
        })
    }
}

impl<'c, 'a> ser::Serializer for &'c mut Collector<'a> {
    type Ok = ();
    type Error = SerError;
    type SerializeSeq = Compound<'c, 'a>;
    type SerializeTuple = Compound<'c, 'a>;
    type SerializeTupleStruct = Compound<'c, 'a>;
    type SerializeTupleVariant = Compound<'c, 'a>;
    type SerializeMap = Compound<'c, 'a>;
    type SerializeStruct = Compound<'c, 'a>;
    type SerializeStructVariant = Compound<'c, 'a>;

    fn serialize_bool(self, v: bool) -> SerResult {
        self.emit(Value::Bool(v))
    }

    fn serialize_i8(self, v: i8) -> SerResult {
        self.emit(Value::Int(v.into()))
    }

    fn serialize_i16(self, v: i16) -> SerResult {
        self.emit(Value::Int(v.into()))
    }

    fn serialize_i32(self, v: i32) -> SerResult {
        self.emit(Value::Int(v.into()))
    }

    fn serialize_i64(self, v: i64) -> SerResult {
        self.emit(Value::Int(v))
    }

    fn serialize_i128(self, v: i128) -> SerResult {
        self.emit_int(v)
    }

    fn serialize_u8(self, v: u8) -> SerResult {
        self.emit(Value::Int(v.into()))
    }

    fn serialize_u16(self, v: u16) -> SerResult {
        self.emit(Value::Int(v.into()))
    }

    fn serialize_u32(self, v: u32) -> SerResult {
        self.emit(Value::Int(v.into()))
    }

    fn serialize_u64(self, v: u64) -> SerResult {
        self.emit_int(v)
    }

    fn serialize_u128(self, v: u128) -> SerResult {
        self.emit_int(v)
    }

    fn serialize_f32(self, v: f32) -> SerResult {
        self.emit(Value::Float(v.into()))
    }

    fn serialize_f64(self, v: f64) -> SerResult {
        self.emit(Value::Float(v))
    }

    fn serialize_char(self, v: char) -> SerResult {
        self.emit(Value::String(v.to_string()))
    }

    fn serialize_str(self, v: &str) -> SerResult {
        self.emit(Value::String(v.to_owned()))
    }

    fn serialize_bytes(self, _: &[u8]) -> SerResult {
        Err(self.serialize_error("bytes have no field type; log binary data as a hippocamp::File"))
    }

    fn serialize_none(self) -> SerResult {
        Ok(())
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> SerResult {
        value.serialize(self)
    }

    fn serialize_unit(self) -> SerResult {
        Err(self.serialize_error("unit value has no field type; skip it with #[serde(skip)]"))
    }

    fn serialize_unit_struct(self, name: &'static str) -> SerResult {
        Err(self.serialize_error(format!(
            "unit struct `{name}` has no field type; skip it with #[serde(skip)]"
        )))
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> SerResult {
        self.emit(Value::String(variant.to_owned()))
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> SerResult {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> SerResult {
        self.element(variant, value)
    }

    fn serialize_seq(self, _: Option<usize>) -> SerResult<Compound<'c, 'a>> {
        self.compound(None)
    }

    fn serialize_tuple(self, _: usize) -> SerResult<Compound<'c, 'a>> {
        self.compound(None)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> SerResult<Compound<'c, 'a>> {
        self.compound(None)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> SerResult<Compound<'c, 'a>> {
        self.compound(Some(variant))
    }

    fn serialize_map(self, _: Option<usize>) -> SerResult<Compound<'c, 'a>> {
        self.compound(None)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> SerResult<Compound<'c, 'a>> {
        self.compound(None)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> SerResult<Compound<'c, 'a>> {
        self.compound(Some(variant))
    }
}

/// A sequence, tuple, map, struct or variant being walked.
struct Compound<'c, 'a> {
    c: &'c mut Collector<'a>,
    /// The length of the collector's path before the compound (a
    /// variant's compound adds the variant's segment).
    restore: usize,
    /// The index of the next element of a sequence or tuple.
    next: usize,
    /// A map's key waiting for its value.
    key: Option<String>,
}

impl Compound<'_, '_> {
    fn next_element<T: ?Sized + Serialize>(&mut self, value: &T) -> SerResult {
        let index = self.next.to_string();
        self.next += 1;
        self.c.element(&index, value)
    }

    fn finish(self) -> SerResult {
        self.c.path.truncate(self.restore);
        Ok(())
    }
}

macro_rules! sequence_impls {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = SerError;

            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> SerResult {
                self.next_element(value)
            }

            fn end(self) -> SerResult {
                self.finish()
            }
        }
    )*};
}
sequence_impls!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

macro_rules! struct_impls {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = SerError;

            fn serialize_field<T: ?Sized + Serialize>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> SerResult {
                self.c.element(key, value)
            }

            fn end(self) -> SerResult {
                self.finish()
            }
        }
    )*};
}
struct_impls!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = SerError;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> SerResult {
        let c = &*self.c;
        let key = key
            .serialize(MapKey { c })
            .map_err(|e| e.located(|| c.full_path()))?;
        self.key = Some(key);
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> SerResult {
        match self.key.take() {
            Some(key) => self.c.element(&key, value),
            None => Err(self
                .c
                .serialize_error("a map value was given without its key")),
        }
    }

    fn end(self) -> SerResult {
        self.finish()
    }
}

/// Renders a map key as a path segment.
struct MapKey<'c, 'a> {
    c: &'c Collector<'a>,
}

impl MapKey<'_, '_> {
    fn refuse(&self, what: &str) -> SerError {
        self.c.serialize_error(format!(
            "a map key must be a string, char, integer, bool or unit enum variant, not {what}"
        ))
    }
}

impl ser::Serializer for MapKey<'_, '_> {
    type Ok = String;
    type Error = SerError;
    type SerializeSeq = Impossible<String, SerError>;
    type SerializeTuple = Impossible<String, SerError>;
    type SerializeTupleStruct = Impossible<String, SerError>;
    type SerializeTupleVariant = Impossible<String, SerError>;
    type SerializeMap = Impossible<String, SerError>;
    type SerializeStruct = Impossible<String, SerError>;
    type SerializeStructVariant = Impossible<String, SerError>;

    fn serialize_bool(self, v: bool) -> SerResult<String> {
        Ok(v.to_string())
    }

    fn serialize_i8(self, v: i8) -> SerResult<String> {
        Ok(v.to_string())
    }

    fn serialize_i16(self, v: i16) -> SerResult<String> {
        Ok(v.to_string())
    }

    fn serialize_i32(self, v: i32) -> SerResult<String> {
        Ok(v.to_string())
    }

    fn serialize_i64(self, v: i64) -> SerResult<String> {
        Ok(v.to_string())
    }

    fn serialize_i128(self, v: i128) -> SerResult<String> {
        Ok(v.to_string())
    }

    fn serialize_u8(self, v: u8) -> SerResult<String> {
        Ok(v.to_string())
    }

    fn serialize_u16(self, v: u16) -> SerResult<String> {
        Ok(v.to_string())
    }

    fn serialize_u32(self, v: u32) -> SerResult<String> {
        Ok(v.to_string())
    }

    fn serialize_u64(self, v: u64) -> SerResult<String> {
        Ok(v.to_string())
    }

    fn serialize_u128(self, v: u128) -> SerResult<String> {
        Ok(v.to_string())
    }

    fn serialize_f32(self, _: f32) -> SerResult<String> {
        Err(self.refuse("a float"))
    }

    fn serialize_f64(self, _: f64) -> SerResult<String> {
        Err(self.refuse("a float"))
    }

    fn serialize_char(self, v: char) -> SerResult<String> {
        Ok(v.to_string())
    }

    fn serialize_str(self, v: &str) -> SerResult<String> {
        Ok(v.to_owned())
    }

    fn serialize_bytes(self, _: &[u8]) -> SerResult<String> {
        Err(self.refuse("bytes"))
    }

    fn serialize_none(self) -> SerResult<String> {
        Err(self.refuse("an Option"))
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> SerResult<String> {
        Err(self.refuse("an Option"))
    }

    fn serialize_unit(self) -> SerResult<String> {
        Err(self.refuse("a unit value"))
    }

    fn serialize_unit_struct(self, _: &'static str) -> SerResult<String> {
        Err(self.refuse("a unit struct"))
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> SerResult<String> {
        Ok(variant.to_owned())
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> SerResult<String> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> SerResult<String> {
        Err(self.refuse("an enum variant with data"))
    }

    fn serialize_seq(self, _: Option<usize>) -> SerResult<Self::SerializeSeq> {
        Err(self.refuse("a sequence"))
    }

    fn serialize_tuple(self, _: usize) -> SerResult<Self::SerializeTuple> {
        Err(self.refuse("a tuple"))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> SerResult<Self::SerializeTupleStruct> {
        Err(self.refuse("a tuple struct"))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> SerResult<Self::SerializeTupleVariant> {
        Err(self.refuse("an enum variant with data"))
    }

    fn serialize_map(self, _: Option<usize>) -> SerResult<Self::SerializeMap> {
        Err(self.refuse("a map"))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> SerResult<Self::SerializeStruct> {
        Err(self.refuse("a struct"))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> SerResult<Self::SerializeStructVariant> {
        Err(self.refuse("an enum variant with data"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::ser::{Error as _, Serializer};

    use super::*;
    use crate::error::Conflict;
    use crate::run::{Mode, Run};
    use crate::tree::MAX_STRING_BYTES;
    use crate::value::FieldType;

    fn run() -> Run {
        Run::builder().mode(Mode::Debug).start().unwrap()
    }

    fn fetch(run: &Run, path: &str) -> Value {
        run.at(path).fetch().unwrap()
    }

    fn absent(run: &Run, path: &str) -> bool {
        run.at(path).field_type().unwrap().is_none()
    }

    #[derive(serde::Serialize)]
    struct Params {
        test_size: f64,
        random_state: u32,
        shuffle: bool,
    }

    #[derive(serde::Serialize)]
    struct DatasetConfig {
        file: String,
        features: Vec<&'static str>,
        params: Params,
        extra: HashMap<String, i64>,
        notes: Option<String>,
    }

    #[test]
    fn nested_struct_and_map_config() {
        let run = run();
        let cfg = DatasetConfig {
            file: "data/raw/iris.csv".into(),
            features: vec!["sepal_length", "petal_width"],
            params: Params {
                test_size: 0.2,
                random_state: 42,
                shuffle: true,
            },
            extra: HashMap::from([("n_rows".to_string(), 150), ("n_cols".to_string(), 5)]),
            notes: None,
        };
        run.at("preprocessing/dataset/config")
            .assign(Serde(&cfg))
            .unwrap();
        assert_eq!(
            run.structure().unwrap().to_string(),
            "\
|--> preprocessing
     |--> dataset
          |--> config
               |--> extra
                    |--> n_cols: 5
                    |--> n_rows: 150
               |--> features
                    |--> 0: \"sepal_length\"
                    |--> 1: \"petal_width\"
               |--> file: \"data/raw/iris.csv\"
               |--> params
                    |--> random_state: 42
                    |--> shuffle: true
                    |--> test_size: 0.2
"
        );
        assert!(absent(&run, "preprocessing/dataset/config/notes"));
    }

    #[test]
    fn through_the_log_macro_entry_point() {
        let run = run();
        let cfg = Params {
            test_size: 0.25,
            random_state: 7,
            shuffle: false,
        };
        let params = run.at("params");
        crate::private::assign(&params, "split", &Serde(&cfg), &LogOptions::default()).unwrap();
        assert_eq!(fetch(&run, "params/split/test_size"), Value::Float(0.25));
        assert_eq!(fetch(&run, "params/split/random_state"), Value::Int(7));
        // The relative path is checked too, and nothing is written.
        let err = crate::private::assign(&params, "a//b", &Serde(&cfg), &LogOptions::default())
            .unwrap_err();
        match err {
            Error::InvalidPath { path, source } => {
                assert_eq!(path, "params/a//b");
                assert_eq!(source.kind, PathErrorKind::EmptySegment);
                assert_eq!(source.offset, "params/a/".len());
            }
            other => panic!("{other:?}"),
        }
    }

    #[derive(serde::Serialize)]
    struct Scalars {
        b: bool,
        i8: i8,
        i16: i16,
        i32: i32,
        i64: i64,
        i128: i128,
        u8: u8,
        u16: u16,
        u32: u32,
        u64: u64,
        u128: u128,
        usize: usize,
        f32: f32,
        f64: f64,
        c: char,
        s: &'static str,
        string: String,
    }

    #[test]
    fn every_scalar_mapping() {
        let run = run();
        let s = Scalars {
            b: true,
            i8: -8,
            i16: -16,
            i32: -32,
            i64: i64::MIN,
            i128: -128,
            u8: 8,
            u16: 16,
            u32: u32::MAX,
            u64: i64::MAX as u64,
            u128: 128,
            usize: 7,
            f32: 1.5,
            f64: 0.1,
            c: 'é',
            s: "str",
            string: "String".into(),
        };
        run.at("s").assign(Serde(&s)).unwrap();
        let expected = [
            ("b", Value::Bool(true)),
            ("i8", Value::Int(-8)),
            ("i16", Value::Int(-16)),
            ("i32", Value::Int(-32)),
            ("i64", Value::Int(i64::MIN)),
            ("i128", Value::Int(-128)),
            ("u8", Value::Int(8)),
            ("u16", Value::Int(16)),
            ("u32", Value::Int(u32::MAX.into())),
            ("u64", Value::Int(i64::MAX)),
            ("u128", Value::Int(128)),
            ("usize", Value::Int(7)),
            ("f32", Value::Float(1.5)),
            ("f64", Value::Float(0.1)),
            ("c", Value::String("é".into())),
            ("s", Value::String("str".into())),
            ("string", Value::String("String".into())),
        ];
        for (name, value) in expected {
            assert_eq!(fetch(&run, &format!("s/{name}")), value, "{name}");
        }
    }

    #[test]
    fn top_level_scalars_are_the_field() {
        let run = run();
        run.at("lr").assign(Serde(3.5)).unwrap();
        run.at("name").assign(Serde("baseline")).unwrap();
        run.at("epochs").assign(Serde(20u64)).unwrap();
        assert_eq!(fetch(&run, "lr"), Value::Float(3.5));
        assert_eq!(fetch(&run, "name"), Value::String("baseline".into()));
        assert_eq!(fetch(&run, "epochs"), Value::Int(20));
        // Int widens into an existing Float.
        run.at("lr").assign(Serde(2)).unwrap();
        assert_eq!(fetch(&run, "lr"), Value::Float(2.0));
        // The root is a namespace.
        assert!(matches!(
            run.root().assign(Serde(1)),
            Err(Error::NamespaceConflict { .. })
        ));
    }

    #[test]
    fn nan_and_infinities_bit_for_bit() {
        let run = run();
        let payload = f64::from_bits(0x7ff8_0000_0000_1234);
        let values = [f64::NAN, payload, f64::INFINITY, f64::NEG_INFINITY, -0.0];
        run.at("x").assign(Serde(values)).unwrap();
        for (i, v) in values.iter().enumerate() {
            match fetch(&run, &format!("x/{i}")) {
                Value::Float(got) => assert_eq!(got.to_bits(), v.to_bits(), "x/{i}"),
                other => panic!("{other:?}"),
            }
        }
        run.at("y").assign(Serde(f32::NAN)).unwrap();
        assert!(matches!(fetch(&run, "y"), Value::Float(f) if f.is_nan()));
        run.at("z").assign(Serde(f32::NEG_INFINITY)).unwrap();
        assert_eq!(fetch(&run, "z"), Value::Float(f64::NEG_INFINITY));
    }

    #[derive(serde::Serialize)]
    struct Big {
        ok: i32,
        big: u64,
    }

    #[test]
    fn integers_beyond_i64_are_out_of_range_and_nothing_is_written() {
        let run = run();
        let err = run
            .at("cfg")
            .assign(Serde(Big {
                ok: 1,
                big: u64::MAX,
            }))
            .unwrap_err();
        match &err {
            Error::OutOfRange { path, detail } => {
                assert_eq!(path, "cfg/big");
                assert!(detail.contains("18446744073709551615"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        assert!(absent(&run, "cfg"));
        for result in [
            run.at("a").assign(Serde(i128::MIN)),
            run.at("a").assign(Serde(u128::MAX)),
            run.at("a").assign(Serde(i64::MAX as u64 + 1)),
        ] {
            assert!(
                matches!(result, Err(Error::OutOfRange { .. })),
                "{result:?}"
            );
        }
        assert!(absent(&run, "a"));
        run.at("a").assign(Serde(i128::from(i64::MIN))).unwrap();
        assert_eq!(fetch(&run, "a"), Value::Int(i64::MIN));
    }

    #[derive(serde::Serialize)]
    struct Optional {
        none: Option<f64>,
        some: Option<f64>,
        nested: Option<Option<i32>>,
    }

    #[test]
    fn options() {
        let run = run();
        let value = Optional {
            none: None,
            some: Some(0.5),
            nested: Some(Some(3)),
        };
        run.at("o").assign(Serde(&value)).unwrap();
        assert!(absent(&run, "o/none"));
        assert_eq!(fetch(&run, "o/some"), Value::Float(0.5));
        assert_eq!(fetch(&run, "o/nested"), Value::Int(3));
        // A top-level None writes nothing; a None element leaves a gap.
        run.at("n").assign(Serde(None::<i32>)).unwrap();
        assert!(absent(&run, "n"));
        run.at("v").assign(Serde([Some(1), None, Some(3)])).unwrap();
        assert_eq!(fetch(&run, "v/0"), Value::Int(1));
        assert!(absent(&run, "v/1"));
        assert_eq!(fetch(&run, "v/2"), Value::Int(3));
    }

    #[derive(serde::Serialize)]
    struct Marker;

    #[derive(serde::Serialize)]
    struct WithUnit {
        a: i32,
        u: (),
    }

    #[derive(serde::Serialize)]
    struct WithMarker {
        a: i32,
        m: Marker,
    }

    #[test]
    fn unit_values_are_refused() {
        let run = run();
        let err = run
            .at("cfg")
            .assign(Serde(WithUnit { a: 1, u: () }))
            .unwrap_err();
        match &err {
            Error::Serialize { path, message } => {
                assert_eq!(path, "cfg/u");
                assert_eq!(
                    message,
                    "unit value has no field type; skip it with #[serde(skip)]"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "cannot log `cfg/u` through serde: unit value has no field type; \
             skip it with #[serde(skip)]"
        );
        let err = run
            .at("cfg")
            .assign(Serde(WithMarker { a: 1, m: Marker }))
            .unwrap_err();
        match &err {
            Error::Serialize { path, message } => {
                assert_eq!(path, "cfg/m");
                assert!(message.contains("`Marker`"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            run.at("x").assign(Serde(())),
            Err(Error::Serialize { path, .. }) if path == "x"
        ));
        assert!(absent(&run, "cfg"));
        assert!(absent(&run, "x"));
    }

    #[derive(serde::Serialize)]
    enum Optimizer {
        Sgd,
        Momentum(f64),
        Betas(f64, f64),
        Adam { lr: f64, amsgrad: bool },
    }

    #[derive(serde::Serialize)]
    struct Seed(u64);

    #[derive(serde::Serialize)]
    struct Pair(i32, &'static str);

    #[test]
    fn enums_and_newtypes() {
        let run = run();
        let opts = [
            Optimizer::Sgd,
            Optimizer::Momentum(0.9),
            Optimizer::Betas(0.9, 0.999),
            Optimizer::Adam {
                lr: 0.001,
                amsgrad: true,
            },
        ];
        for (i, opt) in opts.iter().enumerate() {
            run.at(format!("opt{i}")).assign(Serde(opt)).unwrap();
        }
        assert_eq!(fetch(&run, "opt0"), Value::String("Sgd".into()));
        assert_eq!(fetch(&run, "opt1/Momentum"), Value::Float(0.9));
        assert_eq!(fetch(&run, "opt2/Betas/0"), Value::Float(0.9));
        assert_eq!(fetch(&run, "opt2/Betas/1"), Value::Float(0.999));
        assert_eq!(fetch(&run, "opt3/Adam/lr"), Value::Float(0.001));
        assert_eq!(fetch(&run, "opt3/Adam/amsgrad"), Value::Bool(true));
        run.at("seed").assign(Serde(Seed(42))).unwrap();
        assert_eq!(fetch(&run, "seed"), Value::Int(42));
        run.at("pair").assign(Serde(Pair(1, "a"))).unwrap();
        assert_eq!(fetch(&run, "pair/0"), Value::Int(1));
        assert_eq!(fetch(&run, "pair/1"), Value::String("a".into()));
    }

    #[derive(serde::Serialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum Scheduler {
        Cosine { warmup: u32 },
    }

    #[derive(serde::Serialize)]
    struct Flattened {
        name: &'static str,
        #[serde(flatten)]
        params: Params,
        #[serde(skip)]
        _secret: String,
        #[serde(rename = "lr schedule")]
        scheduler: Scheduler,
    }

    #[test]
    fn serde_attributes_are_honoured() {
        let run = run();
        let value = Flattened {
            name: "x",
            params: Params {
                test_size: 0.1,
                random_state: 1,
                shuffle: true,
            },
            _secret: "hidden".into(),
            scheduler: Scheduler::Cosine { warmup: 5 },
        };
        run.at("c").assign(Serde(&value)).unwrap();
        assert_eq!(fetch(&run, "c/test_size"), Value::Float(0.1));
        assert_eq!(fetch(&run, "c/name"), Value::String("x".into()));
        assert!(absent(&run, "c/_secret"));
        assert_eq!(
            fetch(&run, "c/lr schedule/kind"),
            Value::String("cosine".into())
        );
        assert_eq!(fetch(&run, "c/lr schedule/warmup"), Value::Int(5));
    }

    #[test]
    fn sequences_and_tuples() {
        let run = run();
        run.at("losses").assign(Serde(vec![0.5, 0.25])).unwrap();
        assert_eq!(fetch(&run, "losses/0"), Value::Float(0.5));
        assert_eq!(fetch(&run, "losses/1"), Value::Float(0.25));
        run.at("t").assign(Serde((1u8, "two", 3.0f32))).unwrap();
        assert_eq!(fetch(&run, "t/0"), Value::Int(1));
        assert_eq!(fetch(&run, "t/1"), Value::String("two".into()));
        assert_eq!(fetch(&run, "t/2"), Value::Float(3.0));
        run.at("grid")
            .assign(Serde(vec![vec![1, 2], vec![3]]))
            .unwrap();
        assert_eq!(fetch(&run, "grid/0/1"), Value::Int(2));
        assert_eq!(fetch(&run, "grid/1/0"), Value::Int(3));
        assert_eq!(
            run.at("grid").structure().unwrap().to_string(),
            "|--> 0\n     |--> 0: 1\n     |--> 1: 2\n|--> 1\n     |--> 0: 3\n"
        );
    }

    #[derive(serde::Serialize)]
    struct WithEmpty {
        layers: Vec<u32>,
        tags: BTreeMap<String, String>,
        depth: u32,
    }

    #[test]
    fn empty_sequences_and_maps_write_nothing() {
        let run = run();
        run.at("e").assign(Serde(Vec::<f64>::new())).unwrap();
        assert!(absent(&run, "e"));
        run.at("m")
            .assign(Serde(BTreeMap::<String, f64>::new()))
            .unwrap();
        assert!(absent(&run, "m"));
        run.at("w")
            .assign(Serde(WithEmpty {
                layers: vec![],
                tags: BTreeMap::new(),
                depth: 3,
            }))
            .unwrap();
        assert!(absent(&run, "w/layers"));
        assert!(absent(&run, "w/tags"));
        assert_eq!(fetch(&run, "w/depth"), Value::Int(3));
    }

    #[derive(serde::Serialize, PartialEq, Eq, PartialOrd, Ord)]
    enum Split {
        Train,
        Test,
    }

    #[test]
    fn non_string_map_keys() {
        let run = run();
        run.at("by_int")
            .assign(Serde(BTreeMap::from([(-1i64, 0.5), (10, 1.5)])))
            .unwrap();
        assert_eq!(fetch(&run, "by_int/-1"), Value::Float(0.5));
        assert_eq!(fetch(&run, "by_int/10"), Value::Float(1.5));
        run.at("by_bool")
            .assign(Serde(BTreeMap::from([(true, 1), (false, 0)])))
            .unwrap();
        assert_eq!(fetch(&run, "by_bool/true"), Value::Int(1));
        assert_eq!(fetch(&run, "by_bool/false"), Value::Int(0));
        run.at("by_char")
            .assign(Serde(BTreeMap::from([('a', "x")])))
            .unwrap();
        assert_eq!(fetch(&run, "by_char/a"), Value::String("x".into()));
        run.at("by_u128")
            .assign(Serde(BTreeMap::from([(u128::MAX, 1)])))
            .unwrap();
        assert_eq!(
            fetch(&run, &format!("by_u128/{}", u128::MAX)),
            Value::Int(1)
        );
        run.at("by_split")
            .assign(Serde(BTreeMap::from([
                (Split::Train, 0.9),
                (Split::Test, 0.8),
            ])))
            .unwrap();
        assert_eq!(fetch(&run, "by_split/Train"), Value::Float(0.9));
        assert_eq!(fetch(&run, "by_split/Test"), Value::Float(0.8));

        let err = run
            .at("cfg/by_pair")
            .assign(Serde(BTreeMap::from([((1, 2), 0.5)])))
            .unwrap_err();
        match &err {
            Error::Serialize { path, message } => {
                assert_eq!(path, "cfg/by_pair");
                assert!(message.contains("not a tuple"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let err = run
            .at("f")
            .assign(Serde(FloatKeys(vec![(0.5, 1)])))
            .unwrap_err();
        assert!(
            matches!(&err, Error::Serialize { path, message } if path == "f" && message.contains("float")),
            "{err:?}"
        );
        assert!(absent(&run, "cfg"));
        assert!(absent(&run, "f"));
    }

    /// A map with float keys (std has no such map: floats are not `Ord`).
    struct FloatKeys(Vec<(f64, i32)>);

    impl Serialize for FloatKeys {
        fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
        }
    }

    #[derive(serde::Serialize)]
    struct BadName {
        ok: i32,
        #[serde(rename = "a/b")]
        bad: i32,
    }

    #[test]
    fn keys_breaking_the_path_grammar_are_refused() {
        let run = run();
        let err = run
            .at("cfg")
            .assign(Serde(BTreeMap::from([("a", 1), ("x/y", 2)])))
            .unwrap_err();
        match &err {
            Error::InvalidPath { path, source } => {
                assert_eq!(path, "cfg/x/y");
                assert_eq!(source.kind, PathErrorKind::SeparatorInSegment);
                assert_eq!(source.offset, "cfg/x".len());
            }
            other => panic!("{other:?}"),
        }
        assert!(absent(&run, "cfg"), "nothing is written");
        let err = run
            .at("cfg")
            .assign(Serde(BadName { ok: 1, bad: 2 }))
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidPath { path, .. } if path == "cfg/a/b"),
            "{err:?}"
        );
        for (key, kind) in [
            ("", PathErrorKind::EmptySegment),
            (" lead", PathErrorKind::LeadingWhitespace),
            ("trail ", PathErrorKind::TrailingWhitespace),
            ("nl\n", PathErrorKind::ControlCharacter('\n')),
        ] {
            let err = run
                .at("cfg")
                .assign(Serde(BTreeMap::from([(key, 1)])))
                .unwrap_err();
            match err {
                Error::InvalidPath { source, .. } => assert_eq!(source.kind, kind, "{key:?}"),
                other => panic!("{key:?}: {other:?}"),
            }
        }
        // A path over the limit.
        let long = "k".repeat(MAX_PATH_BYTES);
        let err = run
            .at("cfg")
            .assign(Serde(BTreeMap::from([(long.as_str(), 1)])))
            .unwrap_err();
        match err {
            Error::InvalidPath { source, .. } => {
                assert_eq!(source.kind, PathErrorKind::TooLong(MAX_PATH_BYTES + 4))
            }
            other => panic!("{other:?}"),
        }
        let key = "k".repeat(MAX_PATH_BYTES - 5);
        let err = run
            .at("cfg")
            .assign(Serde(BTreeMap::from([(key.as_str(), [1, 2])])))
            .unwrap_err();
        match err {
            Error::InvalidPath { path, source } => {
                assert_eq!(source.kind, PathErrorKind::TooLong(MAX_PATH_BYTES + 1));
                assert!(path.ends_with("/0"));
            }
            other => panic!("{other:?}"),
        }
        assert!(absent(&run, "cfg"));
    }

    struct Blob;

    impl Serialize for Blob {
        fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            s.serialize_bytes(b"\x00\x01")
        }
    }

    struct Failing;

    impl Serialize for Failing {
        fn serialize<S: Serializer>(&self, _: S) -> std::result::Result<S::Ok, S::Error> {
            Err(S::Error::custom("lock poisoned"))
        }
    }

    #[test]
    fn bytes_and_custom_errors() {
        let run = run();
        let err = run
            .at("cfg")
            .assign(Serde(BTreeMap::from([("a", Blob)])))
            .unwrap_err();
        match &err {
            Error::Serialize { path, message } => {
                assert_eq!(path, "cfg/a");
                assert!(message.contains("hippocamp::File"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let err = run
            .at("cfg")
            .assign(Serde(vec![vec![Failing]]))
            .unwrap_err();
        assert!(
            matches!(&err, Error::Serialize { path, message } if path == "cfg/0/0" && message == "lock poisoned"),
            "{err:?}"
        );
        let err = run.at("top").assign(Serde(Failing)).unwrap_err();
        assert!(
            matches!(&err, Error::Serialize { path, .. } if path == "top"),
            "{err:?}"
        );
        assert!(absent(&run, "cfg"));
    }

    #[test]
    fn strings_over_the_limit_are_refused_before_writing() {
        let run = run();
        let long = "x".repeat(MAX_STRING_BYTES + 1);
        let err = run
            .at("cfg")
            .assign(Serde(BTreeMap::from([
                ("a", "short"),
                ("b", long.as_str()),
            ])))
            .unwrap_err();
        assert!(
            matches!(&err, Error::OutOfRange { path, .. } if path == "cfg/b"),
            "{err:?}"
        );
        assert!(absent(&run, "cfg"));
    }

    #[test]
    fn merges_into_an_existing_namespace() {
        let run = run();
        run.at("params/kept").assign("yes").unwrap();
        run.at("params/test_size").assign(0.5).unwrap();
        run.at("params/loss").append(0.1).unwrap();
        run.at("params")
            .assign(Serde(Params {
                test_size: 0.2,
                random_state: 42,
                shuffle: true,
            }))
            .unwrap();
        assert_eq!(fetch(&run, "params/kept"), Value::String("yes".into()));
        assert_eq!(fetch(&run, "params/test_size"), Value::Float(0.2));
        assert_eq!(fetch(&run, "params/random_state"), Value::Int(42));
        assert_eq!(
            run.at("params/loss").field_type().unwrap(),
            Some(FieldType::FloatSeries)
        );
        // Int widens into an existing Float field.
        run.at("params")
            .assign(Serde(BTreeMap::from([("test_size", 1)])))
            .unwrap();
        assert_eq!(fetch(&run, "params/test_size"), Value::Float(1.0));
    }

    #[derive(serde::Serialize)]
    struct Conflicting {
        first: i32,
        lr: f64,
        last: i32,
    }

    #[test]
    fn type_conflicts_return_the_runs_error() {
        let run = run();
        run.at("cfg/lr").assign("not a number").unwrap();
        let err = run
            .at("cfg")
            .assign(Serde(Conflicting {
                first: 1,
                lr: 0.1,
                last: 2,
            }))
            .unwrap_err();
        match &err {
            Error::TypeMismatch {
                path,
                field_type,
                value_type,
            } => {
                assert_eq!(path, "cfg/lr");
                assert_eq!(*field_type, FieldType::String);
                assert_eq!(*value_type, FieldType::Float);
            }
            other => panic!("{other:?}"),
        }
        // Documented: the fields before the refused one stay written.
        assert_eq!(fetch(&run, "cfg/first"), Value::Int(1));
        assert!(absent(&run, "cfg/last"));
        assert_eq!(fetch(&run, "cfg/lr"), Value::String("not a number".into()));

        // A struct onto a field, a scalar onto a namespace, a series field.
        run.at("acc").append(0.5).unwrap();
        let err = run
            .at("acc")
            .assign(Serde(BTreeMap::from([("x", 1)])))
            .unwrap_err();
        assert!(
            matches!(
                &err,
                Error::NamespaceConflict {
                    conflict: Conflict::UnderField { .. },
                    ..
                }
            ),
            "{err:?}"
        );
        let err = run.at("cfg").assign(Serde(1)).unwrap_err();
        assert!(
            matches!(
                &err,
                Error::NamespaceConflict {
                    conflict: Conflict::ValueOntoNamespace { .. },
                    ..
                }
            ),
            "{err:?}"
        );
        let err = run.at("acc").assign(Serde(1.0)).unwrap_err();
        assert!(
            matches!(&err, Error::UnsupportedOperation { .. }),
            "{err:?}"
        );
        let err = run
            .at("sys")
            .assign(Serde(BTreeMap::from([("id", "mine")])))
            .unwrap_err();
        assert!(matches!(&err, Error::ReadOnly { .. }), "{err:?}");
    }

    #[test]
    fn a_closed_run_refuses() {
        let run = run();
        run.close().unwrap();
        let err = run.at("x").assign(Serde([1, 2])).unwrap_err();
        assert!(matches!(err, Error::Closed { .. }), "{err:?}");
    }
}
