//! Runs as tables: the CSV and Parquet exports.
//!
//! Both write a folder per run, `<ID>/`, with the run's file contents in
//! `<ID>/files/<sha256>`, and values in the lossless text forms of
//! [`runfile`](crate::runfile):
//!
//! ```text
//! MNIST-3/fields.csv             path,type,value: one row per field
//! MNIST-3/series/train/loss.csv  step,value,timestamp_ns (a FileSeries:
//!                                step,name,size,sha256,timestamp_ns)
//! MNIST-3/fields.parquet         path, type, value, float_value, int_value
//! MNIST-3/points.parquet         path, step, timestamp_ns, float_value,
//!                                string_value, file_name, file_size, file_sha256
//! ```
//!
//! A field's `value` text: a Float as [`float_text`] writes it, an Int in
//! decimal, a Bool `true`/`false`, a String as is, a Datetime in
//! nanoseconds since the Unix epoch, a File as the JSON object
//! `{"name","size","sha256"}`, a StringSet as a JSON array of its items;
//! in `fields.csv` a series' value is the path of its CSV file (relative to
//! the run's folder), in `fields.parquet` it is empty (its points are in
//! `points.parquet`). In Parquet a Float's exact value is also in
//! `float_value`, and an Int's, a Bool's (0 or 1) and a Datetime's in
//! `int_value`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hippocamp_core::sqlite::{DumpSink, FieldData, FieldDump, FileRef, RunDump};
use hippocamp_core::FieldType;
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use crate::runfile::{file_json, float_text};
use crate::CliError;

/// The `value` text of a field (see the module's documentation); `None`
/// for a series.
///
/// ```
/// use hippocamp_cli::tables::value_text;
/// use hippocamp_core::sqlite::FieldData;
/// assert_eq!(value_text(&FieldData::Float(f64::NAN)).unwrap(), "NaN");
/// assert_eq!(value_text(&FieldData::StringSet(vec!["a".into()])).unwrap(), r#"["a"]"#);
/// ```
pub fn value_text(data: &FieldData) -> Option<String> {
    Some(match data {
        FieldData::Float(x) => float_text(*x),
        FieldData::Int(x) => x.to_string(),
        FieldData::Bool(x) => x.to_string(),
        FieldData::String(s) => s.clone(),
        FieldData::Datetime(ns) => ns.to_string(),
        FieldData::File(f) => file_json(f),
        FieldData::StringSet(items) => serde_json::Value::from(items.clone()).to_string(),
        FieldData::FloatSeries(_) | FieldData::StringSeries(_) | FieldData::FileSeries(_) => {
            return None
        }
    })
}

/// The CSV file of the series at `path`, relative to the run's folder:
/// `series/<path>.csv`, each segment's characters other than letters,
/// digits, `_`, `-` and inner `.` written as `%XX` (UTF-8 bytes).
///
/// ```
/// use hippocamp_cli::tables::series_file;
/// assert_eq!(series_file("train/loss"), "series/train/loss.csv");
/// assert_eq!(series_file("a b/../x:y"), "series/a%20b/%2E%2E/x%3Ay.csv");
/// ```
pub fn series_file(path: &str) -> String {
    let segments: Vec<String> = path
        .split('/')
        .map(|segment| {
            let mut out = String::new();
            for (i, b) in segment.bytes().enumerate() {
                let inner_dot = b == b'.' && i > 0 && segment.bytes().any(|c| c != b'.');
                if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || inner_dot {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out
        })
        .collect();
    format!("series/{}.csv", segments.join("/"))
}

fn csv_error(path: &Path, e: csv::Error) -> CliError {
    CliError::new(format!("cannot write {}: {e}", path.display()))
}

fn create_parent(path: &Path) -> Result<(), CliError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| CliError::new(format!("cannot create {}: {e}", parent.display())))?;
    }
    Ok(())
}

/// Writes the run's CSV files into `dir` (its folder): `fields.csv` and
/// one file per series. `tick` is called after each field.
pub fn write_csv(dump: &RunDump, dir: &Path, tick: &mut dyn FnMut()) -> Result<(), CliError> {
    let mut sink = CsvSink::new(dir)?;
    replay(dump, &mut sink, tick)?;
    sink.finish()
}

/// Hands a whole dump to a sink, field by field.
fn replay(dump: &RunDump, sink: &mut dyn DumpSink, tick: &mut dyn FnMut()) -> Result<(), CliError> {
    for field in &dump.fields {
        let t = field.data.field_type();
        if t.is_series() {
            sink.begin_series(&field.path, t)?;
            sink.points(&field.data)?;
            sink.end_series()?;
        } else {
            sink.field(field)?;
        }
        tick();
    }
    Ok(())
}

fn sink_error(path: &Path, e: impl std::fmt::Display) -> hippocamp_core::Error {
    hippocamp_core::StorageError::new(format!("cannot write {}: {e}", path.display())).into()
}

/// Writes a run's CSV files into its folder as the run streams by (see
/// [`write_csv`]): a series' rows as its points come, so that a run of any
/// size is written in bounded memory. Call [`finish`](Self::finish) at the
/// end.
pub struct CsvSink {
    dir: PathBuf,
    fields_path: PathBuf,
    fields: csv::Writer<std::fs::File>,
    series: Option<(PathBuf, csv::Writer<std::fs::File>)>,
}

impl CsvSink {
    /// A sink writing into the folder `dir` (made if missing).
    pub fn new(dir: &Path) -> Result<CsvSink, CliError> {
        let fields_path = dir.join("fields.csv");
        create_parent(&fields_path)?;
        let mut fields =
            csv::Writer::from_path(&fields_path).map_err(|e| csv_error(&fields_path, e))?;
        fields
            .write_record(["path", "type", "value"])
            .map_err(|e| csv_error(&fields_path, e))?;
        Ok(CsvSink {
            dir: dir.to_path_buf(),
            fields_path,
            fields,
            series: None,
        })
    }

    /// Flushes `fields.csv`.
    pub fn finish(mut self) -> Result<(), CliError> {
        self.end_series()?;
        self.fields
            .flush()
            .map_err(|e| CliError::new(format!("cannot write {}: {e}", self.fields_path.display())))
    }

    fn row(&mut self, record: [&str; 3]) -> hippocamp_core::Result<()> {
        self.fields
            .write_record(record)
            .map_err(|e| sink_error(&self.fields_path, e))
    }
}

impl DumpSink for CsvSink {
    fn field(&mut self, field: &FieldDump) -> hippocamp_core::Result<()> {
        let value = value_text(&field.data).unwrap_or_default();
        self.row([field.path.as_str(), field.data.field_type().name(), &value])
    }

    fn begin_series(&mut self, path: &str, field_type: FieldType) -> hippocamp_core::Result<()> {
        let file = series_file(path);
        let series_path = self.dir.join(&file);
        create_parent(&series_path).map_err(|e| sink_error(&series_path, e))?;
        let mut w =
            csv::Writer::from_path(&series_path).map_err(|e| sink_error(&series_path, e))?;
        let header: &[&str] = match field_type {
            FieldType::FileSeries => &["step", "name", "size", "sha256", "timestamp_ns"],
            _ => &["step", "value", "timestamp_ns"],
        };
        w.write_record(header)
            .map_err(|e| sink_error(&series_path, e))?;
        self.series = Some((series_path, w));
        self.row([path, field_type.name(), &file])
    }

    fn points(&mut self, points: &FieldData) -> hippocamp_core::Result<()> {
        let Some((path, w)) = &mut self.series else {
            return Ok(());
        };
        let result = (|| -> Result<(), csv::Error> {
            match points {
                FieldData::FloatSeries(points) => {
                    for p in points {
                        w.write_record([
                            float_text(p.step),
                            float_text(p.value),
                            p.timestamp_ns.to_string(),
                        ])?;
                    }
                }
                FieldData::StringSeries(points) => {
                    for p in points {
                        w.write_record([
                            float_text(p.step).as_str(),
                            &p.value,
                            &p.timestamp_ns.to_string(),
                        ])?;
                    }
                }
                FieldData::FileSeries(points) => {
                    for p in points {
                        w.write_record([
                            float_text(p.step).as_str(),
                            &p.value.name,
                            &p.value.size.to_string(),
                            &p.value.sha256,
                            &p.timestamp_ns.to_string(),
                        ])?;
                    }
                }
                _ => {}
            }
            Ok(())
        })();
        result.map_err(|e| sink_error(path, e))
    }

    fn end_series(&mut self) -> hippocamp_core::Result<()> {
        if let Some((path, mut w)) = self.series.take() {
            w.flush().map_err(|e| sink_error(&path, e))?;
        }
        Ok(())
    }
}

const FIELDS_SCHEMA: &str = "message fields {
    required binary path (STRING);
    required binary type (STRING);
    optional binary value (STRING);
    optional double float_value;
    optional int64 int_value;
}";

const POINTS_SCHEMA: &str = "message points {
    required binary path (STRING);
    required double step;
    required int64 timestamp_ns (TIMESTAMP(NANOS,true));
    optional double float_value;
    optional binary string_value (STRING);
    optional binary file_name (STRING);
    optional int64 file_size;
    optional binary file_sha256 (STRING);
}";

/// Points per Parquet row group: bounds the memory an export takes.
const ROW_GROUP_ROWS: usize = 1 << 17;

/// One column's values and, when it is optional, definition levels.
struct Col<T> {
    values: Vec<T>,
    defs: Option<Vec<i16>>,
}

impl<T> Col<T> {
    fn required() -> Self {
        Col {
            values: Vec::new(),
            defs: None,
        }
    }
    fn optional() -> Self {
        Col {
            values: Vec::new(),
            defs: Some(Vec::new()),
        }
    }
    fn push(&mut self, value: Option<T>) {
        if let Some(defs) = &mut self.defs {
            defs.push(i16::from(value.is_some()));
        }
        self.values.extend(value);
    }
}

enum AnyCol {
    Text(Col<ByteArray>),
    Double(Col<f64>),
    Long(Col<i64>),
}

struct Table {
    writer: SerializedFileWriter<std::fs::File>,
    columns: Vec<AnyCol>,
    rows: usize,
}

impl Table {
    fn create(path: &Path, schema: &str) -> Result<Table, ParquetError> {
        let schema = Arc::new(parse_message_type(schema)?);
        let columns = schema
            .get_fields()
            .iter()
            .map(|f| {
                let optional = f.is_optional();
                let make = |required: fn() -> AnyCol, optional_col: fn() -> AnyCol| {
                    if optional {
                        optional_col()
                    } else {
                        required()
                    }
                };
                match f.get_physical_type() {
                    parquet::basic::Type::DOUBLE => make(
                        || AnyCol::Double(Col::required()),
                        || AnyCol::Double(Col::optional()),
                    ),
                    parquet::basic::Type::INT64 => make(
                        || AnyCol::Long(Col::required()),
                        || AnyCol::Long(Col::optional()),
                    ),
                    _ => make(
                        || AnyCol::Text(Col::required()),
                        || AnyCol::Text(Col::optional()),
                    ),
                }
            })
            .collect();
        let file = std::fs::File::create(path)?;
        let props = Arc::new(WriterProperties::builder().build());
        Ok(Table {
            writer: SerializedFileWriter::new(file, schema, props)?,
            columns,
            rows: 0,
        })
    }

    fn text(&mut self, i: usize, value: Option<&str>) {
        if let Some(AnyCol::Text(c)) = self.columns.get_mut(i) {
            c.push(value.map(ByteArray::from));
        }
    }
    fn double(&mut self, i: usize, value: Option<f64>) {
        if let Some(AnyCol::Double(c)) = self.columns.get_mut(i) {
            c.push(value);
        }
    }
    fn long(&mut self, i: usize, value: Option<i64>) {
        if let Some(AnyCol::Long(c)) = self.columns.get_mut(i) {
            c.push(value);
        }
    }

    /// Ends a row; writes a row group when enough are collected.
    fn end_row(&mut self) -> Result<(), ParquetError> {
        self.rows += 1;
        if self.rows >= ROW_GROUP_ROWS {
            self.write_group()?;
        }
        Ok(())
    }

    fn write_group(&mut self) -> Result<(), ParquetError> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut group = self.writer.next_row_group()?;
        let mut columns = self.columns.iter_mut();
        while let Some(mut column) = group.next_column()? {
            let data = columns
                .next()
                .ok_or_else(|| ParquetError::General("more columns than data".into()))?;
            match (column.untyped(), data) {
                (ColumnWriter::ByteArrayColumnWriter(w), AnyCol::Text(c)) => {
                    w.write_batch(&c.values, c.defs.as_deref(), None)?;
                }
                (ColumnWriter::DoubleColumnWriter(w), AnyCol::Double(c)) => {
                    w.write_batch(&c.values, c.defs.as_deref(), None)?;
                }
                (ColumnWriter::Int64ColumnWriter(w), AnyCol::Long(c)) => {
                    w.write_batch(&c.values, c.defs.as_deref(), None)?;
                }
                _ => return Err(ParquetError::General("a column of another type".into())),
            }
            column.close()?;
        }
        group.close()?;
        for column in &mut self.columns {
            match column {
                AnyCol::Text(c) => clear(c),
                AnyCol::Double(c) => clear(c),
                AnyCol::Long(c) => clear(c),
            }
        }
        self.rows = 0;
        Ok(())
    }

    fn finish(mut self) -> Result<(), ParquetError> {
        self.write_group()?;
        self.writer.close()?;
        Ok(())
    }
}

fn clear<T>(c: &mut Col<T>) {
    c.values.clear();
    if let Some(defs) = &mut c.defs {
        defs.clear();
    }
}

/// Writes the run's Parquet files into `dir` (its folder):
/// `fields.parquet` and `points.parquet`. `tick` is called after each
/// field.
pub fn write_parquet(dump: &RunDump, dir: &Path, tick: &mut dyn FnMut()) -> Result<(), CliError> {
    let mut sink = ParquetSink::new(dir)?;
    replay(dump, &mut sink, tick)?;
    sink.finish()
}

/// Writes a run's Parquet files into its folder as the run streams by
/// (see [`write_parquet`]): points go into row groups of at most
/// 131,072 rows as they come, so that a run of any size is written in
/// bounded memory. Call [`finish`](Self::finish) at the end.
pub struct ParquetSink {
    fields_path: PathBuf,
    points_path: PathBuf,
    fields: Table,
    points: Table,
    series: Option<String>,
}

impl ParquetSink {
    /// A sink writing into the folder `dir` (made if missing).
    pub fn new(dir: &Path) -> Result<ParquetSink, CliError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::new(format!("cannot create {}: {e}", dir.display())))?;
        let fields_path = dir.join("fields.parquet");
        let points_path = dir.join("points.parquet");
        let error = |path: &Path, e: ParquetError| {
            CliError::new(format!("cannot write {}: {e}", path.display()))
        };
        let fields =
            Table::create(&fields_path, FIELDS_SCHEMA).map_err(|e| error(&fields_path, e))?;
        let points =
            Table::create(&points_path, POINTS_SCHEMA).map_err(|e| error(&points_path, e))?;
        Ok(ParquetSink {
            fields_path,
            points_path,
            fields,
            points,
            series: None,
        })
    }

    /// Writes what is left and closes both files.
    pub fn finish(self) -> Result<(), CliError> {
        let error = |path: &Path, e: ParquetError| {
            CliError::new(format!("cannot write {}: {e}", path.display()))
        };
        self.fields
            .finish()
            .map_err(|e| error(&self.fields_path, e))?;
        self.points
            .finish()
            .map_err(|e| error(&self.points_path, e))
    }

    fn field_row(&mut self, path: &str, data: &FieldData) -> hippocamp_core::Result<()> {
        let fields = &mut self.fields;
        fields.text(0, Some(path));
        fields.text(1, Some(data.field_type().name()));
        fields.text(2, value_text(data).as_deref());
        fields.double(
            3,
            match data {
                FieldData::Float(x) => Some(*x),
                _ => None,
            },
        );
        fields.long(
            4,
            match data {
                FieldData::Int(x) | FieldData::Datetime(x) => Some(*x),
                FieldData::Bool(x) => Some(i64::from(*x)),
                _ => None,
            },
        );
        fields
            .end_row()
            .map_err(|e| sink_error(&self.fields_path, e))
    }
}

impl DumpSink for ParquetSink {
    fn field(&mut self, field: &FieldDump) -> hippocamp_core::Result<()> {
        self.field_row(&field.path, &field.data)
    }

    fn begin_series(&mut self, path: &str, field_type: FieldType) -> hippocamp_core::Result<()> {
        let empty = match field_type {
            FieldType::StringSeries => FieldData::StringSeries(Vec::new()),
            FieldType::FileSeries => FieldData::FileSeries(Vec::new()),
            _ => FieldData::FloatSeries(Vec::new()),
        };
        self.field_row(path, &empty)?;
        self.series = Some(path.to_owned());
        Ok(())
    }

    fn points(&mut self, data: &FieldData) -> hippocamp_core::Result<()> {
        let path = self.series.as_deref().unwrap_or_default();
        let points = &mut self.points;
        let mut point =
            |step: f64, ts: i64, f: Option<f64>, s: Option<&str>, file: Option<&FileRef>| {
                points.text(0, Some(path));
                points.double(1, Some(step));
                points.long(2, Some(ts));
                points.double(3, f);
                points.text(4, s);
                points.text(5, file.map(|f| f.name.as_str()));
                points.long(6, file.map(|f| f.size as i64));
                points.text(7, file.map(|f| f.sha256.as_str()));
                points.end_row()
            };
        let written = match data {
            FieldData::FloatSeries(ps) => ps
                .iter()
                .try_for_each(|p| point(p.step, p.timestamp_ns, Some(p.value), None, None)),
            FieldData::StringSeries(ps) => ps
                .iter()
                .try_for_each(|p| point(p.step, p.timestamp_ns, None, Some(&p.value), None)),
            FieldData::FileSeries(ps) => ps
                .iter()
                .try_for_each(|p| point(p.step, p.timestamp_ns, None, None, Some(&p.value))),
            _ => Ok(()),
        };
        written.map_err(|e| sink_error(&self.points_path, e))
    }

    fn end_series(&mut self) -> hippocamp_core::Result<()> {
        self.series = None;
        Ok(())
    }
}
