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

use hippocamp_core::sqlite::{
    DumpPoint, DumpSink, FieldData, FieldDump, FileRef, RunDump, RunHeader,
};
use hippocamp_core::FieldType;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
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
    let header = RunHeader::of(dump);
    let mut writer = RunWriter::new(out, files);
    let to_io = |e: hippocamp_core::Error| std::io::Error::other(e.to_string());
    writer.begin(&header).map_err(to_io)?;
    for field in &dump.fields {
        if field.data.field_type().is_series() {
            writer
                .begin_series(&field.path, field.data.field_type())
                .and_then(|()| writer.points(&field.data))
                .and_then(|()| writer.end_series())
                .map_err(to_io)?;
        } else {
            writer.field(field).map_err(to_io)?;
        }
    }
    writer.finish()
}

/// Writes a run as JSON (the same bytes as [`write_run`]) as it streams
/// by: a [`DumpSink`] for
/// [`Repository::export_run_to`](hippocamp_core::sqlite::Repository::export_run_to),
/// which writes each field, and each chunk of a series' points, as it
/// comes. Call [`finish`](Self::finish) at the end.
///
/// ```
/// use hippocamp_cli::runfile::{read_run, RunWriter};
/// use hippocamp_core::{sqlite::Repository, Run};
/// let dir = tempfile::tempdir().unwrap();
/// let run = Run::builder().dir(dir.path()).start()?;
/// run.at("loss").extend([0.5, f64::NAN])?;
/// run.close()?;
/// let mut json = Vec::new();
/// let mut writer = RunWriter::new(&mut json, None);
/// Repository::open(dir.path())?.export_run_to("DEFAULT-1", &mut writer)?;
/// writer.finish()?;
/// assert_eq!(read_run(json.as_slice()).unwrap().dump.id, "DEFAULT-1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RunWriter<'a> {
    out: &'a mut dyn Write,
    files: Option<String>,
    fields: usize,
    /// Points of the series being written so far.
    points: Option<u64>,
    begun: bool,
}

impl<'a> RunWriter<'a> {
    /// A writer into `out`; `files` names the folder of the run's file
    /// contents, relative to the JSON file (written only if the run has
    /// files).
    pub fn new(out: &'a mut dyn Write, files: Option<&str>) -> RunWriter<'a> {
        RunWriter {
            out,
            files: files.map(str::to_owned),
            fields: 0,
            points: None,
            begun: false,
        }
    }

    /// Ends the JSON.
    pub fn finish(self) -> std::io::Result<()> {
        if self.points.is_some() {
            self.out.write_all(b"]}")?;
        }
        self.out.write_all(b"\n]}\n")?;
        self.out.flush()
    }

    fn next_field(&mut self) -> std::io::Result<()> {
        self.out
            .write_all(if self.fields == 0 { b"\n" } else { b",\n" })?;
        self.fields += 1;
        Ok(())
    }
}

fn write_error(e: impl std::fmt::Display) -> hippocamp_core::Error {
    hippocamp_core::StorageError::new(format!("cannot write the export: {e}")).into()
}

impl DumpSink for RunWriter<'_> {
    fn begin(&mut self, header: &RunHeader) -> hippocamp_core::Result<()> {
        let json = |s: &str| serde_json::Value::from(s).to_string();
        write!(
            self.out,
            "{{\"format\":{},\"version\":{VERSION},\"id\":{},\"project\":{},\
             \"creation_time_ns\":{},\"heartbeat_ns\":{}",
            json(FORMAT),
            json(&header.id),
            json(&header.project),
            header.created_ns,
            header.heartbeat_ns
        )
        .map_err(write_error)?;
        if let (Some(files), true) = (&self.files, header.has_files) {
            write!(self.out, ",\"files\":{}", json(files)).map_err(write_error)?;
        }
        self.out.write_all(b",\"fields\":[").map_err(write_error)?;
        self.begun = true;
        Ok(())
    }

    fn field(&mut self, field: &FieldDump) -> hippocamp_core::Result<()> {
        self.next_field().map_err(write_error)?;
        serde_json::to_writer(&mut *self.out, &FieldOut(field)).map_err(write_error)
    }

    fn begin_series(&mut self, path: &str, field_type: FieldType) -> hippocamp_core::Result<()> {
        self.next_field().map_err(write_error)?;
        let json = |s: &str| serde_json::Value::from(s).to_string();
        write!(
            self.out,
            "{{\"path\":{},\"type\":{},\"points\":[",
            json(path),
            json(field_type.name())
        )
        .map_err(write_error)?;
        self.points = Some(0);
        Ok(())
    }

    fn points(&mut self, points: &FieldData) -> hippocamp_core::Result<()> {
        fn each<T: Serialize>(
            out: &mut dyn Write,
            written: &mut u64,
            point: PointOut<T>,
        ) -> std::io::Result<()> {
            if *written > 0 {
                out.write_all(b",")?;
            }
            *written += 1;
            serde_json::to_writer(out, &point).map_err(std::io::Error::from)
        }
        let mut written = self.points.unwrap_or(0);
        let out = &mut *self.out;
        let result = match points {
            FieldData::FloatSeries(p) => p.iter().try_for_each(|p| {
                each(
                    out,
                    &mut written,
                    PointOut(p.step, JsonFloat(p.value), p.timestamp_ns),
                )
            }),
            FieldData::StringSeries(p) => p.iter().try_for_each(|p| {
                each(
                    out,
                    &mut written,
                    PointOut(p.step, p.value.as_str(), p.timestamp_ns),
                )
            }),
            FieldData::FileSeries(p) => p.iter().try_for_each(|p| {
                each(
                    out,
                    &mut written,
                    PointOut(p.step, FileOut(&p.value), p.timestamp_ns),
                )
            }),
            _ => Ok(()),
        };
        self.points = Some(written);
        result.map_err(write_error)
    }

    fn end_series(&mut self) -> hippocamp_core::Result<()> {
        self.points = None;
        self.out.write_all(b"]}").map_err(write_error)
    }
}

/// One point: `{"step":…,"value":…,"timestamp_ns":…}`.
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

/// Reads a run's JSON export whole; the error says what is wrong and
/// where. [`read_run_to`] reads one of any size in bounded memory.
pub fn read_run(input: impl Read) -> Result<ExportedRun, String> {
    let mut gather = Gather::default();
    let header = read_run_to(input, &mut gather).map_err(|e| e.to_string())?;
    Ok(ExportedRun {
        dump: RunDump {
            id: header.header.id,
            project: header.header.project,
            created_ns: header.header.created_ns,
            heartbeat_ns: header.header.heartbeat_ns,
            fields: gather.fields,
        },
        files: header.files,
    })
}

/// What a run's JSON export says beside its fields.
#[derive(Debug, Clone)]
pub struct ExportedHeader {
    /// The run's id, project and times (`has_files` is whether the export
    /// names a folder of file contents).
    pub header: RunHeader,
    /// The folder of its file contents, relative to the JSON file's
    /// folder, if it has one.
    pub files: Option<String>,
}

/// Why a run's JSON export could not be read into a sink.
#[derive(Debug)]
pub enum ReadError {
    /// The file is not a run export (bad JSON, missing or unknown keys, a
    /// newer format); the text says what and where.
    Export(String),
    /// The sink refused what it got (for a checking sink: what is wrong
    /// with the run).
    Sink(hippocamp_core::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Export(text) => f.write_str(text),
            ReadError::Sink(err) => write!(f, "{}", crate::CliError::from_core(err)),
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads a run's JSON export into `sink` as it goes: each field when it is
/// read, a series' points in parts of at most [`POINTS_PER_PART`], so that
/// an export of any size is read in bounded memory. `sink.begin` is not
/// called (the header may come after the fields): the header is returned
/// at the end. A field whose `"points"` come before its `"path"` and
/// `"type"` (which `export` never writes) is read whole first.
///
/// ```
/// use hippocamp_cli::runfile::read_run_to;
/// use hippocamp_core::sqlite::DumpCheck;
/// let json = br#"{"format":"hippocamp-run","version":1,"id":"A-1","project":"a",
///   "creation_time_ns":0,"heartbeat_ns":0,"fields":[
///   {"path":"loss","type":"FloatSeries","points":[{"step":0,"value":0.5,"timestamp_ns":0},
///                                                 {"step":0,"value":0.5,"timestamp_ns":0}]}]}"#;
/// let mut check = DumpCheck::new("A-1")?;
/// let err = read_run_to(&json[..], &mut check).unwrap_err();
/// assert!(err.to_string().contains("not after its last step"));
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
pub fn read_run_to(input: impl Read, sink: &mut dyn DumpSink) -> Result<ExportedHeader, ReadError> {
    let mut ctx = Ctx { sink, error: None };
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(input));
    let parsed = RunSeed(&mut ctx)
        .deserialize(&mut de)
        .and_then(|header| de.end().map(|()| header));
    if let Some(err) = ctx.error.take() {
        return Err(ReadError::Sink(err));
    }
    let run = parsed.map_err(|e| ReadError::Export(format!("not a hippocamp run export: {e}")))?;
    let export = |text: String| ReadError::Export(format!("not a hippocamp run export: {text}"));
    let missing = |key: &str| export(format!("missing field `{key}`"));
    let format = run.format.ok_or_else(|| missing("format"))?;
    if format != FORMAT {
        return Err(ReadError::Export(format!(
            "not a hippocamp run export: its format is {format:?}, not {FORMAT:?}"
        )));
    }
    let version = run.version.ok_or_else(|| missing("version"))?;
    if version > VERSION {
        return Err(ReadError::Export(format!(
            "written by a newer hippocamp (format version {version}, this one reads up to {VERSION})"
        )));
    }
    if !run.fields {
        return Err(missing("fields"));
    }
    Ok(ExportedHeader {
        header: RunHeader {
            id: run.id.ok_or_else(|| missing("id"))?,
            project: run.project.ok_or_else(|| missing("project"))?,
            created_ns: run
                .creation_time_ns
                .ok_or_else(|| missing("creation_time_ns"))?,
            heartbeat_ns: run.heartbeat_ns.ok_or_else(|| missing("heartbeat_ns"))?,
            has_files: run.files.is_some(),
        },
        files: run.files,
    })
}

/// The most points [`read_run_to`] hands to its sink at once.
pub const POINTS_PER_PART: usize = 8192;

/// Collects a whole run, for [`read_run`].
#[derive(Default)]
struct Gather {
    fields: Vec<FieldDump>,
    series: Option<FieldDump>,
}

impl DumpSink for Gather {
    fn field(&mut self, field: &FieldDump) -> hippocamp_core::Result<()> {
        self.fields.push(field.clone());
        Ok(())
    }
    fn begin_series(&mut self, path: &str, field_type: FieldType) -> hippocamp_core::Result<()> {
        let data = match field_type {
            FieldType::StringSeries => FieldData::StringSeries(Vec::new()),
            FieldType::FileSeries => FieldData::FileSeries(Vec::new()),
            _ => FieldData::FloatSeries(Vec::new()),
        };
        self.series = Some(FieldDump {
            path: path.to_owned(),
            data,
        });
        Ok(())
    }
    fn points(&mut self, points: &FieldData) -> hippocamp_core::Result<()> {
        match (self.series.as_mut().map(|s| &mut s.data), points) {
            (Some(FieldData::FloatSeries(all)), FieldData::FloatSeries(p)) => {
                all.extend_from_slice(p)
            }
            (Some(FieldData::StringSeries(all)), FieldData::StringSeries(p)) => {
                all.extend_from_slice(p)
            }
            (Some(FieldData::FileSeries(all)), FieldData::FileSeries(p)) => {
                all.extend_from_slice(p)
            }
            _ => {}
        }
        Ok(())
    }
    fn end_series(&mut self) -> hippocamp_core::Result<()> {
        self.fields.extend(self.series.take());
        Ok(())
    }
}

/// The sink of a read, and the error it gave (which stops the read).
struct Ctx<'s> {
    sink: &'s mut dyn DumpSink,
    error: Option<hippocamp_core::Error>,
}

impl Ctx<'_> {
    fn call<E: de::Error>(
        &mut self,
        f: impl FnOnce(&mut dyn DumpSink) -> hippocamp_core::Result<()>,
    ) -> Result<(), E> {
        if let Err(err) = f(&mut *self.sink) {
            self.error = Some(err);
            return Err(E::custom("the run was refused"));
        }
        Ok(())
    }

    /// A whole field (read before its type was known) to the sink.
    fn whole<E: de::Error>(&mut self, field: FieldDump) -> Result<(), E> {
        let t = field.data.field_type();
        if t.is_series() {
            self.call(|s| s.begin_series(&field.path, t))?;
            self.call(|s| s.points(&field.data))?;
            self.call(|s| s.end_series())
        } else {
            self.call(|s| s.field(&field))
        }
    }
}

/// What the run's object holds beside its fields.
#[derive(Default)]
struct RunKeys {
    format: Option<String>,
    version: Option<u64>,
    id: Option<String>,
    project: Option<String>,
    creation_time_ns: Option<i64>,
    heartbeat_ns: Option<i64>,
    files: Option<String>,
    fields: bool,
}

struct RunSeed<'c, 's>(&'c mut Ctx<'s>);

impl<'de> DeserializeSeed<'de> for RunSeed<'_, '_> {
    type Value = RunKeys;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RunKeys, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RunSeed<'_, '_> {
    type Value = RunKeys;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a run: {\"format\", \"version\", \"id\", …, \"fields\"}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RunKeys, A::Error> {
        let mut keys = RunKeys::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => keys.format = Some(map.next_value()?),
                "version" => keys.version = Some(map.next_value()?),
                "id" => keys.id = Some(map.next_value()?),
                "project" => keys.project = Some(map.next_value()?),
                "creation_time_ns" => keys.creation_time_ns = Some(map.next_value()?),
                "heartbeat_ns" => keys.heartbeat_ns = Some(map.next_value()?),
                "files" => keys.files = map.next_value()?,
                "fields" => {
                    map.next_value_seed(FieldsSeed(&mut *self.0))?;
                    keys.fields = true;
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(keys)
    }
}

struct FieldsSeed<'c, 's>(&'c mut Ctx<'s>);

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of fields")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(FieldSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

struct FieldSeed<'c, 's>(&'c mut Ctx<'s>);

impl<'de> DeserializeSeed<'de> for FieldSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field: {\"path\", \"type\", and its value, items, file or points}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.0;
        let mut path: Option<String> = None;
        let mut field_type: Option<FieldType> = None;
        let mut data: Option<FieldData> = None;
        let mut streamed = false;
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
                    if data.is_some() || pending.is_some() || streamed {
                        return Err(de::Error::custom(
                            "a field has more than one of value, items, file and points",
                        ));
                    }
                    match (&path, field_type) {
                        // A series' points go to the sink as they are read.
                        (Some(p), Some(t)) if t.is_series() && key == "points" => {
                            ctx.call(|s| s.begin_series(p, t))?;
                            map.next_value_seed(PointsSeed {
                                ctx: &mut *ctx,
                                field_type: t,
                            })?;
                            ctx.call(|s| s.end_series())?;
                            streamed = true;
                        }
                        (_, Some(t)) => {
                            let p = path.as_deref().unwrap_or("?");
                            data = Some(
                                read_data(p, t, &key, &mut MapSource(&mut map))
                                    .map_err(de::Error::custom)?,
                            );
                        }
                        (_, None) => pending = Some((key, map.next_value()?)),
                    }
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let path = path.ok_or_else(|| de::Error::missing_field("path"))?;
        let field_type = field_type.ok_or_else(|| de::Error::missing_field("type"))?;
        if streamed {
            return Ok(());
        }
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
        ctx.whole(FieldDump { path, data })
    }
}

/// A series' `"points"`, handed to the sink in parts.
struct PointsSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
    field_type: FieldType,
}

impl<'de> DeserializeSeed<'de> for PointsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for PointsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of points {\"step\", \"value\", \"timestamp_ns\"}")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        fn parts<'de, A: SeqAccess<'de>, V: DeserializeOwned, W>(
            seq: &mut A,
            ctx: &mut Ctx<'_>,
            convert: fn(V) -> W,
            wrap: fn(Vec<DumpPoint<W>>) -> FieldData,
        ) -> Result<(), A::Error> {
            let mut part = Vec::with_capacity(POINTS_PER_PART);
            loop {
                let next = seq.next_element::<PointIn<V>>()?;
                let end = next.is_none();
                if let Some(p) = next {
                    part.push(DumpPoint {
                        step: p.step.0,
                        value: convert(p.value),
                        timestamp_ns: p.timestamp_ns,
                    });
                }
                if part.len() >= POINTS_PER_PART || (end && !part.is_empty()) {
                    let data = wrap(std::mem::take(&mut part));
                    ctx.call(|s| s.points(&data))?;
                }
                if end {
                    return Ok(());
                }
            }
        }
        match self.field_type {
            FieldType::FloatSeries => parts(
                &mut seq,
                self.ctx,
                |x: JsonFloat| x.0,
                FieldData::FloatSeries,
            ),
            FieldType::StringSeries => {
                parts(&mut seq, self.ctx, |x: String| x, FieldData::StringSeries)
            }
            _ => parts(
                &mut seq,
                self.ctx,
                |f: FileIn| FileRef::from(f),
                FieldData::FileSeries,
            ),
        }
    }
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

    /// The one field of a run export holding `field`.
    fn field_of(field: &str) -> Result<FieldDump, String> {
        let json = format!(
            r#"{{"format":"hippocamp-run","version":1,"id":"A-1","project":"a",
               "creation_time_ns":0,"heartbeat_ns":0,"fields":[{field}]}}"#
        );
        let mut run = read_run(json.as_bytes())?;
        Ok(run.dump.fields.remove(0))
    }

    #[test]
    fn type_may_come_after_the_content() {
        let json = r#"{"points":[{"timestamp_ns":5,"value":"inf","step":1}],"type":"FloatSeries","path":"a"}"#;
        let FieldData::FloatSeries(p) = field_of(json).unwrap().data else {
            panic!()
        };
        assert_eq!(
            (p[0].step, p[0].value, p[0].timestamp_ns),
            (1.0, f64::INFINITY, 5)
        );
    }

    #[test]
    fn points_stream_in_parts_and_the_header_may_come_last() {
        let points: Vec<String> = (0..20_000)
            .map(|i| format!(r#"{{"step":{i},"value":0.5,"timestamp_ns":{i}}}"#))
            .collect();
        let json = format!(
            r#"{{"fields":[{{"path":"a","type":"FloatSeries","points":[{}]}},
                {{"path":"b","type":"Int","value":3}}],
               "format":"hippocamp-run","version":1,"id":"A-1","project":"a",
               "creation_time_ns":0,"heartbeat_ns":0}}"#,
            points.join(",")
        );
        #[derive(Default)]
        struct Parts(Vec<usize>, Vec<String>);
        impl DumpSink for Parts {
            fn field(&mut self, f: &FieldDump) -> hippocamp_core::Result<()> {
                self.1.push(f.path.clone());
                Ok(())
            }
            fn begin_series(&mut self, p: &str, _: FieldType) -> hippocamp_core::Result<()> {
                self.1.push(p.to_owned());
                Ok(())
            }
            fn points(&mut self, p: &FieldData) -> hippocamp_core::Result<()> {
                if let FieldData::FloatSeries(p) = p {
                    self.0.push(p.len());
                }
                Ok(())
            }
            fn end_series(&mut self) -> hippocamp_core::Result<()> {
                Ok(())
            }
        }
        let mut parts = Parts::default();
        let header = read_run_to(json.as_bytes(), &mut parts).unwrap();
        assert_eq!(header.header.id, "A-1");
        assert_eq!(parts.0, [8192, 8192, 3616]);
        assert_eq!(parts.1, ["a", "b"]);
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
            let err = field_of(json).unwrap_err();
            assert!(err.contains(wanted), "{json}: {err}");
        }
    }
}
