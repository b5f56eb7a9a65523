//! The JSON export of a run, which `hippocamp import` reads back as the
//! same run, and the lossless text forms of values that every export
//! format shares.
//!
//! One object per run, one line per field:
//!
//! ```text
//! {"format":"hippocamp-run","version":1,"id":"MNIST-3","project":"mnist",
//!  "creation_time_ns":1714564800000000000,"heartbeat_ns":…,"files":"MNIST-3.files","fields":[
//! {"path":"params/lr","type":"Float","value":0.001},
//! {"path":"params/bad","type":"Float","value":"NaN"},
//! {"path":"sys/creation_time","type":"Datetime","value":1714564800000000000},
//! {"path":"sys/tags","type":"StringSet","items":["best","cnn"]},
//! {"path":"model","type":"File","file":{"name":"w.bin","size":3,"sha256":"ba78…"}},
//! {"path":"train/loss","type":"FloatSeries","points":[{"step":0.0,"value":0.5,"timestamp_ns":…}]}
//! ]}
//! ```
//!
//! Finite floats are JSON numbers (shortest form that reads back to the
//! same bits, `-0.0` included); the others are strings: `"NaN"`, `"inf"`,
//! `"-inf"`, or `"nan:0x7ff8000000000001"` for a NaN with other bits.
//! Datetimes and timestamps are integer nanoseconds since the Unix epoch.
//! File contents are copied beside the JSON file, in the folder named by
//! `"files"` (`<ID>.files/<sha256>`).

use std::fmt;
use std::io::{Read, Write};

use hippocamp_core::sqlite::{DumpPoint, FieldData, FieldDump, FileRef, RunDump};
use hippocamp_core::FieldType;
use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The `"format"` of a run export.
pub const FORMAT: &str = "hippocamp-run";
/// The `"version"` of the format this hippocamp writes (and the newest it
/// reads).
pub const VERSION: u64 = 1;

/// A float as text that reads back to the same bits: the shortest
/// decimal for a finite one, else `NaN`, `inf`, `-inf` or `nan:0x…`.
///
/// ```
/// use hippocamp_cli::runfile::{float_text, parse_float};
/// assert_eq!(float_text(0.1), "0.1");
/// assert_eq!(float_text(f64::NEG_INFINITY), "-inf");
/// let odd = f64::from_bits(0x7ff8_0000_0000_0001);
/// assert_eq!(float_text(odd), "nan:0x7ff8000000000001");
/// assert_eq!(parse_float(&float_text(odd)).unwrap().to_bits(), odd.to_bits());
/// ```
pub fn float_text(x: f64) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else if x == f64::INFINITY {
        "inf".to_owned()
    } else if x == f64::NEG_INFINITY {
        "-inf".to_owned()
    } else if x.to_bits() == f64::NAN.to_bits() {
        "NaN".to_owned()
    } else {
        format!("nan:0x{:016x}", x.to_bits())
    }
}

/// Reads what [`float_text`] writes (and plain decimals); `None` for
/// anything else.
pub fn parse_float(text: &str) -> Option<f64> {
    if let Some(hex) = text.strip_prefix("nan:0x") {
        let bits = u64::from_str_radix(hex, 16).ok()?;
        let x = f64::from_bits(bits);
        return x.is_nan().then_some(x);
    }
    match text {
        "NaN" | "nan" => Some(f64::NAN),
        "inf" | "+inf" | "Infinity" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-Infinity" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => text.parse::<f64>().ok().filter(|x| x.is_finite()),
    }
}

/// A float as it goes into JSON: a number, or a string when not finite.
#[derive(Debug, Clone, Copy)]
struct JsonFloat(f64);

impl Serialize for JsonFloat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            s.serialize_f64(self.0)
        } else {
            s.serialize_str(&float_text(self.0))
        }
    }
}

impl<'de> Deserialize<'de> for JsonFloat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = JsonFloat;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, or \"NaN\", \"inf\", \"-inf\" or \"nan:0x…\"")
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> Result<JsonFloat, E> {
                Ok(JsonFloat(x))
            }
            fn visit_i64<E: de::Error>(self, x: i64) -> Result<JsonFloat, E> {
                Ok(JsonFloat(x as f64))
            }
            fn visit_u64<E: de::Error>(self, x: u64) -> Result<JsonFloat, E> {
                Ok(JsonFloat(x as f64))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<JsonFloat, E> {
                parse_float(s)
                    .map(JsonFloat)
                    .ok_or_else(|| E::custom(format!("{s:?} is not a float")))
            }
        }
        d.deserialize_any(V)
    }
}

struct FileOut<'a>(&'a FileRef);

impl Serialize for FileOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("name", &self.0.name)?;
        map.serialize_entry("size", &self.0.size)?;
        map.serialize_entry("sha256", &self.0.sha256)?;
        map.end()
    }
}

/// A file as JSON: `{"name":…,"size":…,"sha256":…}`, in that order.
///
/// ```
/// use hippocamp_core::sqlite::FileRef;
/// let f = FileRef { name: "a.txt".into(), size: 1, sha256: "00".repeat(32) };
/// assert!(hippocamp_cli::runfile::file_json(&f).starts_with(r#"{"name":"a.txt","size":1,"sha256":"00"#));
/// ```
pub fn file_json(file: &FileRef) -> String {
    // Strings and numbers always serialise.
    serde_json::to_string(&FileOut(file)).unwrap_or_default()
}

#[derive(Deserialize)]
struct FileIn {
    name: String,
    size: u64,
    sha256: String,
}

impl From<FileIn> for FileRef {
    fn from(f: FileIn) -> FileRef {
        FileRef {
            name: f.name,
            size: f.size,
            sha256: f.sha256,
        }
    }
}

/// A series' points, each written by `value`.
struct PointsOut<'a, V, F>(&'a [DumpPoint<V>], F);

impl<'a, V, F, T> Serialize for PointsOut<'a, V, F>
where
    F: Fn(&'a V) -> T,
    T: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct PointOut<T>(f64, T, i64);
        impl<T: Serialize> Serialize for PointOut<T> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(3))?;
                map.serialize_entry("step", &JsonFloat(self.0))?;
                map.serialize_entry("value", &self.1)?;
                map.serialize_entry("timestamp_ns", &self.2)?;
                map.end()
            }
        }
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for p in self.0 {
            seq.serialize_element(&PointOut(p.step, (self.1)(&p.value), p.timestamp_ns))?;
        }
        seq.end()
    }
}

#[derive(Deserialize)]
struct PointIn<V> {
    step: JsonFloat,
    value: V,
    timestamp_ns: i64,
}

fn points<V, W>(points: Vec<PointIn<V>>, f: impl Fn(V) -> W) -> Vec<DumpPoint<W>> {
    points
        .into_iter()
        .map(|p| DumpPoint {
            step: p.step.0,
            value: f(p.value),
            timestamp_ns: p.timestamp_ns,
        })
        .collect()
}

struct FieldOut<'a>(&'a FieldDump);

impl Serialize for FieldOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let field = self.0;
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("path", &field.path)?;
        map.serialize_entry("type", field.data.field_type().name())?;
        match &field.data {
            FieldData::Float(x) => map.serialize_entry("value", &JsonFloat(*x))?,
            FieldData::Int(x) => map.serialize_entry("value", x)?,
            FieldData::Bool(x) => map.serialize_entry("value", x)?,
            FieldData::String(x) => map.serialize_entry("value", x)?,
            FieldData::Datetime(x) => map.serialize_entry("value", x)?,
            FieldData::File(f) => map.serialize_entry("file", &FileOut(f))?,
            FieldData::StringSet(items) => map.serialize_entry("items", items)?,
            FieldData::FloatSeries(p) => {
                map.serialize_entry("points", &PointsOut(p, |x: &f64| JsonFloat(*x)))?
            }
            FieldData::StringSeries(p) => {
                map.serialize_entry("points", &PointsOut(p, String::as_str))?
            }
            FieldData::FileSeries(p) => map.serialize_entry("points", &PointsOut(p, FileOut))?,
        }
        map.end()
    }
}

/// Where a field's content comes from while it is read: the JSON reader
/// itself, or a value buffered because it came before `"type"`.
trait Source {
    fn take<T: DeserializeOwned>(&mut self) -> Result<T, String>;
}

struct MapSource<'m, A>(&'m mut A);

impl<'de, A: MapAccess<'de>> Source for MapSource<'_, A> {
    fn take<T: DeserializeOwned>(&mut self) -> Result<T, String> {
        self.0.next_value().map_err(|e| e.to_string())
    }
}

struct BufferedSource(Option<serde_json::Value>);

impl Source for BufferedSource {
    fn take<T: DeserializeOwned>(&mut self) -> Result<T, String> {
        serde_json::from_value(self.0.take().unwrap_or_default()).map_err(|e| e.to_string())
    }
}

/// The key that holds a field's content, by its type.
fn content_key(t: FieldType) -> &'static str {
    match t {
        FieldType::File => "file",
        FieldType::StringSet => "items",
        t if t.is_series() => "points",
        _ => "value",
    }
}

fn read_data(
    path: &str,
    t: FieldType,
    key: &str,
    src: &mut impl Source,
) -> Result<FieldData, String> {
    if key != content_key(t) {
        return Err(format!(
            "field `{path}` is {} and has `{}`, not `{key}`",
            t.with_article(),
            content_key(t)
        ));
    }
    Ok(match t {
        FieldType::Float => FieldData::Float(src.take::<JsonFloat>()?.0),
        FieldType::Int => FieldData::Int(src.take()?),
        FieldType::Bool => FieldData::Bool(src.take()?),
        FieldType::String => FieldData::String(src.take()?),
        FieldType::Datetime => FieldData::Datetime(src.take()?),
        FieldType::File => FieldData::File(src.take::<FileIn>()?.into()),
        FieldType::StringSet => FieldData::StringSet(src.take()?),
        FieldType::FloatSeries => {
            FieldData::FloatSeries(points(src.take::<Vec<PointIn<JsonFloat>>>()?, |x| x.0))
        }
        FieldType::StringSeries => {
            FieldData::StringSeries(points(src.take::<Vec<PointIn<String>>>()?, |x| x))
        }
        FieldType::FileSeries => {
            FieldData::FileSeries(points(src.take::<Vec<PointIn<FileIn>>>()?, FileRef::from))
        }
        other => {
            return Err(format!(
                "field `{path}` has the type {other}, which is not a field's"
            ))
        }
    })
}

/// A field read from JSON. Its content is read straight into its type
/// when `"type"` comes first (as `export` writes it), else buffered.
struct FieldIn(FieldDump);

impl<'de> Deserialize<'de> for FieldIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FieldIn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field: {\"path\", \"type\", and its value, items, file or points}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FieldIn, A::Error> {
                let mut path: Option<String> = None;
                let mut field_type: Option<FieldType> = None;
                let mut data: Option<FieldData> = None;
                let mut pending: Option<(String, serde_json::Value)> = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "path" => path = Some(map.next_value()?),
                        "type" => {
                            let name: String = map.next_value()?;
                            field_type = Some(
                                FieldType::ALL
                                    .into_iter()
                                    .find(|t| t.name() == name && *t != FieldType::Namespace)
                                    .ok_or_else(|| {
                                        de::Error::custom(format!("unknown field type {name:?}"))
                                    })?,
                            );
                        }
                        "value" | "items" | "file" | "points" => {
                            if data.is_some() || pending.is_some() {
                                return Err(de::Error::custom(
                                    "a field has more than one of value, items, file and points",
                                ));
                            }
                            match field_type {
                                Some(t) => {
                                    let p = path.as_deref().unwrap_or("?");
                                    data = Some(
                                        read_data(p, t, &key, &mut MapSource(&mut map))
                                            .map_err(de::Error::custom)?,
                                    );
                                }
                                None => pending = Some((key, map.next_value()?)),
                            }
                        }
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                let path = path.ok_or_else(|| de::Error::missing_field("path"))?;
                let field_type = field_type.ok_or_else(|| de::Error::missing_field("type"))?;
                if let Some((key, value)) = pending {
                    data = Some(
                        read_data(&path, field_type, &key, &mut BufferedSource(Some(value)))
                            .map_err(de::Error::custom)?,
                    );
                }
                let data = data.ok_or_else(|| {
                    de::Error::custom(format!(
                        "field `{path}` has no `{}`",
                        content_key(field_type)
                    ))
                })?;
                Ok(FieldIn(FieldDump { path, data }))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize)]
struct RunIn {
    format: String,
    version: u64,
    id: String,
    project: String,
    creation_time_ns: i64,
    heartbeat_ns: i64,
    #[serde(default)]
    files: Option<String>,
    fields: Vec<FieldIn>,
}

/// A run read from its JSON export.
#[derive(Debug)]
pub struct ExportedRun {
    /// The run.
    pub dump: RunDump,
    /// The folder of its file contents, relative to the JSON file's
    /// folder (`"files"`), if it has one.
    pub files: Option<String>,
}

/// Writes `dump` as JSON (one line per field); `files` names the folder
/// of its file contents, relative to the JSON file.
///
/// ```
/// use hippocamp_cli::runfile::{read_run, write_run};
/// use hippocamp_core::sqlite::{FieldData, FieldDump, RunDump};
/// let dump = RunDump {
///     id: "MNIST-1".into(),
///     project: "mnist".into(),
///     created_ns: 1,
///     heartbeat_ns: 2,
///     fields: vec![FieldDump { path: "x".into(), data: FieldData::Float(f64::INFINITY) }],
/// };
/// let mut json = Vec::new();
/// write_run(&dump, None, &mut json)?;
/// let back = read_run(json.as_slice()).unwrap();
/// assert!(matches!(back.dump.fields[0].data, FieldData::Float(x) if x == f64::INFINITY));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_run(dump: &RunDump, files: Option<&str>, out: &mut dyn Write) -> std::io::Result<()> {
    let json = |s: &str| serde_json::Value::from(s).to_string();
    write!(
        out,
        "{{\"format\":{},\"version\":{VERSION},\"id\":{},\"project\":{},\
         \"creation_time_ns\":{},\"heartbeat_ns\":{}",
        json(FORMAT),
        json(&dump.id),
        json(&dump.project),
        dump.created_ns,
        dump.heartbeat_ns
    )?;
    if let Some(files) = files {
        write!(out, ",\"files\":{}", json(files))?;
    }
    out.write_all(b",\"fields\":[")?;
    for (i, field) in dump.fields.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *out, &FieldOut(field)).map_err(std::io::Error::from)?;
    }
    out.write_all(b"\n]}\n")
}

/// Reads a run's JSON export; the error says what is wrong and where.
pub fn read_run(input: impl Read) -> Result<ExportedRun, String> {
    let run: RunIn = serde_json::from_reader(std::io::BufReader::new(input))
        .map_err(|e| format!("not a hippocamp run export: {e}"))?;
    if run.format != FORMAT {
        return Err(format!(
            "not a hippocamp run export: its format is {:?}, not {FORMAT:?}",
            run.format
        ));
    }
    if run.version > VERSION {
        return Err(format!(
            "written by a newer hippocamp (format version {}, this one reads up to {VERSION})",
            run.version
        ));
    }
    Ok(ExportedRun {
        dump: RunDump {
            id: run.id,
            project: run.project,
            created_ns: run.creation_time_ns,
            heartbeat_ns: run.heartbeat_ns,
            fields: run.fields.into_iter().map(|f| f.0).collect(),
        },
        files: run.files,
    })
}

/// A file or folder name for a run id: letters, digits, `.`, `_` and `-`
/// stay, anything else becomes `_`.
///
/// ```
/// assert_eq!(hippocamp_cli::runfile::file_stem("MNIST-3"), "MNIST-3");
/// assert_eq!(hippocamp_cli::runfile::file_stem("../a b"), ".._a_b");
/// assert_eq!(hippocamp_cli::runfile::file_stem(".."), "_");
/// ```
pub fn file_stem(id: &str) -> String {
    let stem: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() || stem.chars().all(|c| c == '.') {
        "_".to_owned()
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_keep_their_bits() {
        for x in [
            0.0,
            -0.0,
            0.1,
            1e300,
            -5e-324,
            f64::MAX,
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::from_bits(0x7ff0_0000_0000_0001),
        ] {
            let text = float_text(x);
            assert_eq!(parse_float(&text).unwrap().to_bits(), x.to_bits(), "{text}");
            let json = serde_json::to_string(&JsonFloat(x)).unwrap();
            let back: JsonFloat = serde_json::from_str(&json).unwrap();
            assert_eq!(back.0.to_bits(), x.to_bits(), "{json}");
        }
        assert_eq!(parse_float("nan:0x0000000000000001"), None);
        assert_eq!(parse_float("pi"), None);
    }

    #[test]
    fn type_may_come_after_the_content() {
        let json = r#"{"points":[{"timestamp_ns":5,"value":"inf","step":1}],"type":"FloatSeries","path":"a"}"#;
        let field: FieldIn = serde_json::from_str(json).unwrap();
        let FieldData::FloatSeries(p) = field.0.data else {
            panic!()
        };
        assert_eq!(
            (p[0].step, p[0].value, p[0].timestamp_ns),
            (1.0, f64::INFINITY, 5)
        );
    }

    #[test]
    fn bad_fields_say_what_is_wrong() {
        for (json, wanted) in [
            (r#"{"path":"a","type":"Int","value":1.5}"#, "invalid type"),
            (
                r#"{"path":"a","type":"Float","points":[]}"#,
                "has `value`, not `points`",
            ),
            (
                r#"{"path":"a","type":"Blob","value":1}"#,
                "unknown field type",
            ),
            (r#"{"path":"a","type":"Int"}"#, "has no `value`"),
            (r#"{"type":"Int","value":1}"#, "missing field `path`"),
        ] {
            let err = serde_json::from_str::<FieldIn>(json)
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains(wanted), "{json}: {err}");
        }
    }
}
