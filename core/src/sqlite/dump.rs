//! Whole runs as a stream of fields, for export and import in bounded
//! memory: a [`DumpSink`] gets a run's fields one at a time, and a
//! series' points a chunk at a time, never the whole series.
//!
//! [`Repository::export_run_to`](super::Repository::export_run_to) reads a
//! run into a sink, in one snapshot; [`RunImport`] is a sink that writes
//! what it gets into a store as a run, in one transaction, checking it as
//! [`DumpCheck`] does on the way; [`RunDump`] is a whole run in memory,
//! collected from or replayed into a sink.
//!
//! One file past 800 lines because it is one stream with three ends: the
//! reader, the checker and the importer share its order (a series' parts
//! between its begin and end) and its rules, which must stay the same at
//! each end.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::codec::{self, Chunk, Points, StoredFile};
use super::writer::{self, blob_path, hex, is_sha256_hex as is_sha, CHUNK_POINTS};
use super::{nanos_to_time, sql_error, time_to_nanos};
use crate::error::{Error, StorageError};
use crate::value::FieldType;

use super::admin::{import_blob, unhex, DumpPoint, FieldData, FieldDump, FileRef, RunDump};

/// A run's identity and times, which a dump starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunHeader {
    /// The run's id, e.g. `MNIST-3`.
    pub id: String,
    /// Its project.
    pub project: String,
    /// When it was created, in nanoseconds since the Unix epoch.
    pub created_ns: i64,
    /// Its writer's last heartbeat, in nanoseconds since the Unix epoch.
    pub heartbeat_ns: i64,
    /// Whether it refers to any file content (a File field, or a FileSeries
    /// with points).
    pub has_files: bool,
}

impl RunHeader {
    /// The header of a dump in memory.
    ///
    /// ```
    /// use hippocamp_core::sqlite::{RunDump, RunHeader};
    /// let dump = RunDump { id: "A-1".into(), project: "a".into(), created_ns: 1, heartbeat_ns: 2, fields: vec![] };
    /// assert!(!RunHeader::of(&dump).has_files);
    /// ```
    pub fn of(dump: &RunDump) -> RunHeader {
        RunHeader {
            id: dump.id.clone(),
            project: dump.project.clone(),
            created_ns: dump.created_ns,
            heartbeat_ns: dump.heartbeat_ns,
            has_files: !dump.files().is_empty(),
        }
    }
}

/// Receives a run a field at a time: what a streaming export produces and
/// a streaming import consumes. Fields come sorted by path (from a store;
/// an export file may hold them in any order). A series comes as
/// [`begin_series`](Self::begin_series), its points in step order in any
/// number of [`points`](Self::points) calls, then
/// [`end_series`](Self::end_series); every other field whole, through
/// [`field`](Self::field).
///
/// ```
/// use hippocamp_core::sqlite::{DumpSink, FieldData, FieldDump, Repository, RunHeader};
/// use hippocamp_core::{Error, FieldType, Run};
///
/// /// Counts the points of every series.
/// #[derive(Default)]
/// struct Count(usize);
/// impl DumpSink for Count {
///     fn field(&mut self, _: &FieldDump) -> Result<(), Error> { Ok(()) }
///     fn begin_series(&mut self, _: &str, _: FieldType) -> Result<(), Error> { Ok(()) }
///     fn points(&mut self, points: &FieldData) -> Result<(), Error> {
///         if let FieldData::FloatSeries(p) = points { self.0 += p.len() }
///         Ok(())
///     }
///     fn end_series(&mut self) -> Result<(), Error> { Ok(()) }
/// }
///
/// let dir = tempfile::tempdir().unwrap();
/// let run = Run::builder().dir(dir.path()).start()?;
/// run.at("loss").extend((0..100_000).map(|i| i as f64))?;
/// run.close()?;
/// let mut count = Count::default();
/// let header: RunHeader = Repository::open(dir.path())?.export_run_to("DEFAULT-1", &mut count)?;
/// assert_eq!((header.id.as_str(), count.0), ("DEFAULT-1", 100_000));
/// # Ok::<(), Error>(())
/// ```
pub trait DumpSink {
    /// The run's header, before any field. A reader that learns the header
    /// only at its end (a JSON export whose `"fields"` come first) does
    /// not call it. The default does nothing.
    fn begin(&mut self, header: &RunHeader) -> Result<(), Error> {
        let _ = header;
        Ok(())
    }

    /// A field that is no series, whole.
    fn field(&mut self, field: &FieldDump) -> Result<(), Error>;

    /// A series begins.
    fn begin_series(&mut self, path: &str, field_type: FieldType) -> Result<(), Error>;

    /// The next points of the series begun last, in step order: a
    /// [`FieldData::FloatSeries`], [`FieldData::StringSeries`] or
    /// [`FieldData::FileSeries`] of its type.
    fn points(&mut self, points: &FieldData) -> Result<(), Error>;

    /// The series begun last has no more points.
    fn end_series(&mut self) -> Result<(), Error>;
}

impl<S: DumpSink + ?Sized> DumpSink for &mut S {
    fn begin(&mut self, header: &RunHeader) -> Result<(), Error> {
        (**self).begin(header)
    }
    fn field(&mut self, field: &FieldDump) -> Result<(), Error> {
        (**self).field(field)
    }
    fn begin_series(&mut self, path: &str, field_type: FieldType) -> Result<(), Error> {
        (**self).begin_series(path, field_type)
    }
    fn points(&mut self, points: &FieldData) -> Result<(), Error> {
        (**self).points(points)
    }
    fn end_series(&mut self) -> Result<(), Error> {
        (**self).end_series()
    }
}

/// An empty series of `field_type`, or `None` for another type.
fn empty_series(field_type: FieldType) -> Option<FieldData> {
    match field_type {
        FieldType::FloatSeries => Some(FieldData::FloatSeries(Vec::new())),
        FieldType::StringSeries => Some(FieldData::StringSeries(Vec::new())),
        FieldType::FileSeries => Some(FieldData::FileSeries(Vec::new())),
        _ => None,
    }
}

/// Collects what a sink gets into a [`RunDump`]'s fields.
#[derive(Default)]
pub(crate) struct Collect {
    pub(crate) fields: Vec<FieldDump>,
    series: Option<FieldDump>,
}

impl DumpSink for Collect {
    fn field(&mut self, field: &FieldDump) -> Result<(), Error> {
        self.fields.push(field.clone());
        Ok(())
    }
    fn begin_series(&mut self, path: &str, field_type: FieldType) -> Result<(), Error> {
        let data = empty_series(field_type)
            .ok_or_else(|| StorageError::new(format!("`{path}` is a {field_type}, no series")))?;
        self.series = Some(FieldDump {
            path: path.to_owned(),
            data,
        });
        Ok(())
    }
    fn points(&mut self, points: &FieldData) -> Result<(), Error> {
        let series = self.series.as_mut().map(|s| &mut s.data);
        match (series, points) {
            (Some(FieldData::FloatSeries(all)), FieldData::FloatSeries(p)) => {
                all.extend_from_slice(p)
            }
            (Some(FieldData::StringSeries(all)), FieldData::StringSeries(p)) => {
                all.extend_from_slice(p)
            }
            (Some(FieldData::FileSeries(all)), FieldData::FileSeries(p)) => {
                all.extend_from_slice(p)
            }
            _ => return Err(StorageError::new("points of no series begun").into()),
        }
        Ok(())
    }
    fn end_series(&mut self) -> Result<(), Error> {
        if let Some(series) = self.series.take() {
            self.fields.push(series);
        }
        Ok(())
    }
}

/// Hands a dump in memory to `sink`, each series in parts of at most
/// [`CHUNK_POINTS`] points (without `begin`).
pub(crate) fn replay(dump: &RunDump, sink: &mut dyn DumpSink) -> Result<(), Error> {
    fn parts<V: Clone>(
        path: &str,
        t: FieldType,
        points: &[DumpPoint<V>],
        wrap: fn(Vec<DumpPoint<V>>) -> FieldData,
        sink: &mut dyn DumpSink,
    ) -> Result<(), Error> {
        sink.begin_series(path, t)?;
        for part in points.chunks(CHUNK_POINTS) {
            sink.points(&wrap(part.to_vec()))?;
        }
        sink.end_series()
    }
    for field in &dump.fields {
        let (path, t) = (field.path.as_str(), field.data.field_type());
        match &field.data {
            FieldData::FloatSeries(p) => parts(path, t, p, FieldData::FloatSeries, sink)?,
            FieldData::StringSeries(p) => parts(path, t, p, FieldData::StringSeries, sink)?,
            FieldData::FileSeries(p) => parts(path, t, p, FieldData::FileSeries, sink)?,
            _ => sink.field(field)?,
        }
    }
    Ok(())
}

/// The types of the `sys/` fields that every run has.
const SYS_TYPES: [(&str, FieldType); 9] = [
    ("sys/id", FieldType::String),
    ("sys/project", FieldType::String),
    ("sys/creation_time", FieldType::Datetime),
    ("sys/failed", FieldType::Bool),
    ("sys/name", FieldType::String),
    ("sys/description", FieldType::String),
    ("sys/tags", FieldType::StringSet),
    ("sys/hostname", FieldType::String),
    ("sys/state", FieldType::String),
];

/// Checks a run as it streams by, as the run's type rules would: valid,
/// distinct paths (no field under another), `sys/` fields of their types,
/// strings within [`MAX_STRING_BYTES`](crate::MAX_STRING_BYTES), series
/// steps finite and increasing (across parts too), files named by SHA-256;
/// and collects the files it refers to. What
/// [`WritableRepository::import_run`](super::WritableRepository::import_run)
/// and [`RunImport`] check before writing, for checking an export before
/// importing it.
///
/// ```
/// use hippocamp_core::sqlite::{DumpCheck, DumpPoint, DumpSink, FieldData};
/// use hippocamp_core::FieldType;
/// let point = |step| DumpPoint { step, value: 0.5, timestamp_ns: 0 };
/// let mut check = DumpCheck::new("MNIST-1")?;
/// check.begin_series("loss", FieldType::FloatSeries)?;
/// check.points(&FieldData::FloatSeries(vec![point(1.0), point(2.0)]))?;
/// assert!(check.points(&FieldData::FloatSeries(vec![point(2.0)])).is_err());
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Debug)]
pub struct DumpCheck {
    id: String,
    paths: HashSet<String>,
    /// Every namespace on the way to a field, with one field under it.
    prefixes: HashMap<String, String>,
    files: Vec<FileRef>,
    seen_files: HashSet<String>,
    /// The series begun: its path, type and last step.
    series: Option<(String, FieldType, Option<f64>)>,
}

impl DumpCheck {
    /// A check of the run `id`; an id that `start()` would refuse is
    /// refused (see [`identity`](crate::identity)): nothing is imported
    /// that could not have been logged.
    pub fn new(id: &str) -> Result<DumpCheck, Error> {
        if let Some(problem) = crate::identity::run_id_problem(id) {
            return Err(StorageError::new(format!("cannot import the run: {problem}")).into());
        }
        Ok(DumpCheck {
            id: id.to_owned(),
            paths: HashSet::new(),
            prefixes: HashMap::new(),
            files: Vec::new(),
            seen_files: HashSet::new(),
            series: None,
        })
    }

    /// The files the run refers to so far, each content once.
    pub fn files(&self) -> &[FileRef] {
        &self.files
    }

    /// Ends the check (a series still open is an error) and gives the
    /// files the run refers to, each content once.
    pub fn finish(self) -> Result<Vec<FileRef>, Error> {
        if let Some((path, ..)) = &self.series {
            return Err(StorageError::new(format!(
                "run {}: the series `{path}` has no end",
                self.id
            ))
            .into());
        }
        Ok(self.files)
    }

    fn add_path(&mut self, path: &str, field_type: FieldType) -> Result<(), Error> {
        let id = &self.id;
        if self.series.is_some() {
            return Err(StorageError::new(format!(
                "run {id}: `{path}` comes inside the points of another series"
            ))
            .into());
        }
        hippocamp_path::validate(path).map_err(|source| Error::InvalidPath {
            path: path.to_owned(),
            source,
        })?;
        if self.paths.contains(path) {
            return Err(StorageError::new(format!("run {id} has field `{path}` twice")).into());
        }
        // The run's own fields keep their types, or reading its state,
        // tagging or resuming it fails.
        let sys_type = SYS_TYPES.iter().find(|(p, _)| *p == path).map(|(_, t)| *t);
        let wanted = if path == "sys" {
            Some(FieldType::Namespace)
        } else {
            sys_type
        };
        if let Some(wanted) = wanted.filter(|t| *t != field_type) {
            return Err(StorageError::new(format!(
                "run {id} has `{path}` as {}, not {}",
                field_type.with_article(),
                wanted.with_article()
            ))
            .into());
        }
        for (end, _) in path.match_indices('/') {
            if self.paths.contains(&path[..end]) {
                return Err(StorageError::new(format!(
                    "run {id} has `{path}` under the field `{}`",
                    &path[..end]
                ))
                .into());
            }
        }
        if let Some(under) = self.prefixes.get(path) {
            return Err(StorageError::new(format!(
                "run {id} has `{under}` under the field `{path}`"
            ))
            .into());
        }
        for (end, _) in path.match_indices('/') {
            self.prefixes
                .entry(path[..end].to_owned())
                .or_insert_with(|| path.to_owned());
        }
        self.paths.insert(path.to_owned());
        Ok(())
    }

    fn file(&mut self, path: &str, f: &FileRef) -> Result<(), Error> {
        crate::identity::check_file_name(&f.name, || path.to_owned())?;
        if !is_sha(&f.sha256) {
            return Err(StorageError::new(format!(
                "file {:?} of `{path}`: {:?} is not a SHA-256 in lowercase hex",
                f.name, f.sha256
            ))
            .into());
        }
        if self.seen_files.insert(f.sha256.clone()) {
            self.files.push(f.clone());
        }
        Ok(())
    }

    fn steps<V>(path: &str, last: &mut Option<f64>, points: &[DumpPoint<V>]) -> Result<(), Error> {
        for p in points {
            if !p.step.is_finite() {
                return Err(Error::InvalidStep {
                    path: path.to_owned(),
                    step: p.step,
                });
            }
            if let Some(before) = last.filter(|&l| p.step <= l) {
                return Err(Error::StepNotIncreasing {
                    path: path.to_owned(),
                    step: p.step,
                    last: before,
                });
            }
            *last = Some(p.step);
        }
        Ok(())
    }
}

impl DumpSink for DumpCheck {
    fn field(&mut self, field: &FieldDump) -> Result<(), Error> {
        let path = field.path.as_str();
        let field_type = field.data.field_type();
        if field_type.is_series() {
            // A whole series at once: as a series of one part.
            self.begin_series(path, field_type)?;
            self.points(&field.data)?;
            return self.end_series();
        }
        self.add_path(path, field_type)?;
        let long = |s: &str| crate::tree::check_string_len(s, || path.to_owned());
        match &field.data {
            FieldData::String(s) => long(s)?,
            FieldData::File(f) => self.file(path, f)?,
            FieldData::StringSet(items) => items.iter().try_for_each(|s| long(s))?,
            _ => {}
        }
        Ok(())
    }

    fn begin_series(&mut self, path: &str, field_type: FieldType) -> Result<(), Error> {
        if !field_type.is_series() {
            return Err(StorageError::new(format!(
                "run {}: `{path}` is {}, not a series",
                self.id,
                field_type.with_article()
            ))
            .into());
        }
        self.add_path(path, field_type)?;
        self.series = Some((path.to_owned(), field_type, None));
        Ok(())
    }

    fn points(&mut self, points: &FieldData) -> Result<(), Error> {
        let Some((path, field_type, mut last)) = self.series.take() else {
            return Err(
                StorageError::new(format!("run {}: points outside any series", self.id)).into(),
            );
        };
        if points.field_type() != field_type {
            return Err(StorageError::new(format!(
                "run {}: `{path}` is a {field_type} and has points of a {}",
                self.id,
                points.field_type()
            ))
            .into());
        }
        let long = |s: &str| crate::tree::check_string_len(s, || path.clone());
        match points {
            FieldData::FloatSeries(p) => Self::steps(&path, &mut last, p)?,
            FieldData::StringSeries(p) => {
                Self::steps(&path, &mut last, p)?;
                p.iter().try_for_each(|p| long(&p.value))?;
            }
            FieldData::FileSeries(p) => {
                Self::steps(&path, &mut last, p)?;
                for point in p {
                    self.file(&path, &point.value)?;
                }
            }
            _ => {}
        }
        self.series = Some((path, field_type, last));
        Ok(())
    }

    fn end_series(&mut self) -> Result<(), Error> {
        match self.series.take() {
            Some(_) => Ok(()),
            None => Err(
                StorageError::new(format!("run {}: the end of no series begun", self.id)).into(),
            ),
        }
    }
}

/// Checks a dump in memory; see [`DumpCheck`].
pub(crate) fn validate_dump(dump: &RunDump) -> Result<Vec<FileRef>, Error> {
    let mut check = DumpCheck::new(&dump.id)?;
    check_project(&dump.id, &dump.project)?;
    replay(dump, &mut check)?;
    check.finish()
}

/// Refuses a project name `start()` would refuse.
pub(crate) fn check_project(id: &str, project: &str) -> Result<(), Error> {
    match crate::identity::project_problem(project) {
        Some(problem) => {
            Err(StorageError::new(format!("cannot import run {id}: {problem}")).into())
        }
        None => Ok(()),
    }
}

/// Reads run `id` into `sink` (inside the caller's read transaction): the
/// header, then every field sorted by path, a series a stored chunk at a
/// time. Fields created but never assigned are left out.
pub(crate) fn read_run_to(
    conn: &Connection,
    dir: &Path,
    id: &str,
    sink: &mut dyn DumpSink,
) -> Result<RunHeader, Error> {
    let (run, project, created_ns, heartbeat_ns, crc): (i64, String, i64, i64, Option<i64>) = conn
        .query_row(
            "SELECT run, project, created_ns, heartbeat_ns, crc FROM runs WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()
        .map_err(|e| sql_error("cannot read the run", e))?
        .ok_or_else(|| {
            Error::from(StorageError::new(format!(
                "no run {id} in the store at {}",
                dir.display()
            )))
        })?;
    if !codec::run_intact(run, id, &project, created_ns, crc) {
        return Err(StorageError::new(format!(
            "the stored record of run {id} is damaged (its checksum does not match); \
             `hippocamp check` lists every damaged part of the store in {}",
            dir.display()
        ))
        .into());
    }
    let has_files: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM fields WHERE run = ?1 AND type = 'File'
                              AND file_sha IS NOT NULL AND text_value IS NOT NULL
                              AND file_size IS NOT NULL)
                 OR EXISTS (SELECT 1 FROM fields f JOIN chunks c ON c.field = f.field
                            WHERE f.run = ?1 AND f.type = 'FileSeries')",
            [run],
            |r| r.get(0),
        )
        .map_err(|e| sql_error("cannot read the run", e))?;
    let header = RunHeader {
        id: id.to_owned(),
        project,
        created_ns,
        heartbeat_ns,
        has_files,
    };
    sink.begin(&header)?;
    type Row = (
        i64,
        String,
        String,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<Row> = conn
        .prepare(
            "SELECT field, path, type, int_value, text_value, file_sha, file_size, crc
             FROM fields WHERE run = ?1 ORDER BY path",
        )
        .and_then(|mut s| {
            s.query_map([run], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        })
        .map_err(|e| sql_error("cannot read the run", e))?;
    for (row, path, type_name, int_value, text_value, file_sha, file_size, crc) in rows {
        let corrupt = |what: &str| -> Error {
            StorageError::new(format!(
                "`{path}` ({type_name}) of run {id} is corrupt in the store: {what}"
            ))
            .into()
        };
        let items = if type_name == FieldType::StringSet.name() {
            writer::set_items(conn, row).map_err(|e| sql_error("cannot read a set", e))?
        } else {
            Vec::new()
        };
        let stored = writer::FieldRow {
            path: &path,
            field_type: &type_name,
            int_value,
            text_value: text_value.as_deref(),
            file_sha: file_sha.as_deref(),
            file_size,
            crc,
        };
        if !writer::field_intact(run, &stored, &items) {
            return Err(StorageError::new(format!(
                "the stored value of `{path}` in run {id} is damaged (its checksum does not \
                 match); `hippocamp check` lists every damaged part of the store in {}",
                dir.display()
            ))
            .into());
        }
        let field_type = FieldType::ALL
            .into_iter()
            .find(|t| t.name() == type_name)
            .ok_or_else(|| corrupt("unknown type"))?;
        let data = match field_type {
            // Atoms created but never assigned are left out, as `load` does.
            FieldType::Float => int_value.map(|v| FieldData::Float(f64::from_bits(v as u64))),
            FieldType::Int => int_value.map(FieldData::Int),
            FieldType::Bool => int_value.map(|v| FieldData::Bool(v != 0)),
            FieldType::Datetime => int_value.map(FieldData::Datetime),
            FieldType::String => text_value.map(FieldData::String),
            FieldType::File => match (text_value, file_sha, file_size) {
                (Some(name), Some(sha256), Some(size)) => {
                    if !is_sha(&sha256) || size < 0 {
                        return Err(corrupt("bad file reference"));
                    }
                    Some(FieldData::File(FileRef {
                        name,
                        size: size as u64,
                        sha256,
                    }))
                }
                _ => None,
            },
            FieldType::StringSet => {
                let items = conn
                    .prepare("SELECT item FROM set_items WHERE field = ?1 ORDER BY item")
                    .and_then(|mut s| {
                        s.query_map([row], |r| r.get(0))
                            .and_then(|rows| rows.collect::<Result<Vec<String>, _>>())
                    })
                    .map_err(|e| sql_error("cannot read a set", e))?;
                Some(FieldData::StringSet(items))
            }
            FieldType::FloatSeries | FieldType::StringSeries | FieldType::FileSeries => {
                sink.begin_series(&path, field_type)?;
                // Chunks do not overlap: the index's order (last step) is
                // step order, and reads row by row; ordering by first step
                // would sort every chunk's data in memory first.
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT data, chunk, first_step, last_step, count FROM chunks
                         WHERE field = ?1 ORDER BY last_step",
                    )
                    .map_err(|e| sql_error("cannot read series points", e))?;
                let mut chunks = stmt
                    .query([row])
                    .map_err(|e| sql_error("cannot read series points", e))?;
                while let Some(chunk) = chunks
                    .next()
                    .map_err(|e| sql_error("cannot read series points", e))?
                {
                    let fail = |e| sql_error("cannot read series points", e);
                    let (number, first, last, count): (i64, f64, f64, i64) = (
                        chunk.get(1).map_err(fail)?,
                        chunk.get(2).map_err(fail)?,
                        chunk.get(3).map_err(fail)?,
                        chunk.get(4).map_err(fail)?,
                    );
                    let data = chunk
                        .get_ref(0)
                        .and_then(|v| v.as_blob().map_err(rusqlite::Error::from))
                        .map_err(fail)?;
                    let chunk = codec::decode(data, row)
                        .and_then(|c| codec::check_row(&c, first, last, count).map(|()| c))
                        .map_err(|damage| {
                            corrupt(&format!("chunk {number} is damaged ({damage})"))
                        })?;
                    let points = dump_points(field_type, chunk)
                        .ok_or_else(|| corrupt("a chunk holds points of another type"))?;
                    sink.points(&points)?;
                }
                sink.end_series()?;
                continue;
            }
            _ => return Err(corrupt("not a field type")),
        };
        if let Some(data) = data {
            sink.field(&FieldDump { path, data })?;
        }
    }
    Ok(header)
}

/// A decoded chunk's points as a dump holds them; `None` when the chunk
/// is not of `field_type`.
fn dump_points(field_type: FieldType, chunk: Chunk) -> Option<FieldData> {
    let stamps = chunk.timestamps.into_iter().map(time_to_nanos);
    let steps = chunk.steps.into_iter().zip(stamps);
    Some(match (field_type, chunk.values) {
        (FieldType::FloatSeries, Points::Float(v)) => FieldData::FloatSeries(
            steps
                .zip(v)
                .map(|((step, timestamp_ns), value)| DumpPoint {
                    step,
                    value,
                    timestamp_ns,
                })
                .collect(),
        ),
        (FieldType::StringSeries, Points::String(v)) => FieldData::StringSeries(
            steps
                .zip(v)
                .map(|((step, timestamp_ns), value)| DumpPoint {
                    step,
                    value,
                    timestamp_ns,
                })
                .collect(),
        ),
        (FieldType::FileSeries, Points::File(v)) => FieldData::FileSeries(
            steps
                .zip(v)
                .map(|((step, timestamp_ns), f)| DumpPoint {
                    step,
                    value: FileRef {
                        sha256: hex(&f.sha256),
                        name: f.name,
                        size: f.size,
                    },
                    timestamp_ns,
                })
                .collect(),
        ),
        _ => return None,
    })
}

/// A run being imported into a store, from
/// [`WritableRepository::import_run_from`](super::WritableRepository::import_run_from):
/// a [`DumpSink`] that checks what it gets (as [`DumpCheck`] does) and
/// writes it, a series in chunks as its points arrive, inside one
/// transaction. Nothing is visible until [`commit`](Self::commit); dropped
/// without it, or after an error, nothing of the run is written (file
/// contents already copied stay until `gc`).
pub struct RunImport<'a> {
    tx: Transaction<'a>,
    dir: PathBuf,
    files_dir: Option<PathBuf>,
    id: String,
    source_id: String,
    run: i64,
    check: DumpCheck,
    series: Option<SeriesImport>,
    failed: bool,
}

/// A series on its way in: its row and the points of its next chunk.
struct SeriesImport {
    row: i64,
    chunk: Chunk,
}

impl std::fmt::Debug for RunImport<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunImport")
            .field("id", &self.id)
            .field("source_id", &self.source_id)
            .finish()
    }
}

impl<'a> RunImport<'a> {
    pub(crate) fn new(
        tx: Transaction<'a>,
        dir: PathBuf,
        files_dir: Option<&Path>,
        id: String,
        source_id: &str,
        run: i64,
    ) -> Result<RunImport<'a>, Error> {
        Ok(RunImport {
            tx,
            dir,
            files_dir: files_dir.map(Path::to_path_buf),
            id,
            source_id: source_id.to_owned(),
            check: DumpCheck::new(source_id)?,
            run,
            series: None,
            failed: false,
        })
    }

    /// The id the run gets: the dump's, or the project's next one when
    /// the store has a run with that id already.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Writes what is left and commits the run; returns its id.
    pub fn commit(mut self) -> Result<String, Error> {
        if self.failed {
            return Err(StorageError::new(format!(
                "the import of run {} failed before; nothing of it was written",
                self.source_id
            ))
            .into());
        }
        if self.series.is_some() {
            self.end_series()?;
        }
        self.check.finish()?;
        self.tx
            .commit()
            .map_err(|e| sql_error("cannot import the run", e))?;
        Ok(self.id)
    }

    /// Copies a content the store lacks from the export's files.
    fn content(&self, file: &FileRef) -> Result<(), Error> {
        if blob_path(&self.dir, &file.sha256).is_file() {
            return Ok(());
        }
        let source = self.files_dir.as_ref().map(|d| d.join(&file.sha256));
        match source {
            // Stored inside the transaction: `gc` (which holds the write
            // lock) never sees a content before its row.
            Some(source) if source.is_file() => Ok(import_blob(&self.dir, &source, file)?),
            _ => Err(StorageError::new(format!(
                "the content of file {:?} (sha256 {}) of run {} is neither in the store nor in {}",
                file.name,
                file.sha256,
                self.source_id,
                self.files_dir
                    .as_ref()
                    .map_or("the export".into(), |d| d.display().to_string())
            ))
            .into()),
        }
    }

    fn insert_field(&self, field: &FieldDump) -> Result<i64, Error> {
        let (mut int_value, mut text_value, mut file_sha, mut file_size) = (None, None, None, None);
        match &field.data {
            FieldData::Float(x) => int_value = Some(x.to_bits() as i64),
            FieldData::Int(x) => int_value = Some(*x),
            FieldData::Bool(x) => int_value = Some(i64::from(*x)),
            FieldData::Datetime(x) => int_value = Some(*x),
            // An imported run under a new id says so in `sys/id` too.
            FieldData::String(_) if field.path == "sys/id" => text_value = Some(self.id.as_str()),
            FieldData::String(s) => text_value = Some(s.as_str()),
            FieldData::File(file) => {
                text_value = Some(file.name.as_str());
                file_sha = Some(file.sha256.as_str());
                file_size = Some(file.size as i64);
            }
            _ => {}
        }
        self.tx
            .execute(
                "INSERT INTO fields (run, path, type, int_value, text_value, file_sha, file_size)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    self.run,
                    field.path,
                    field.data.field_type().name(),
                    int_value,
                    text_value,
                    file_sha,
                    file_size
                ],
            )
            .map_err(|e| sql_error(&format!("cannot write `{}`", field.path), e))?;
        let row = self.tx.last_insert_rowid();
        if let FieldData::StringSet(items) = &field.data {
            let mut stmt = self
                .tx
                .prepare_cached("INSERT OR IGNORE INTO set_items (field, item) VALUES (?1, ?2)")
                .map_err(|e| sql_error("cannot write a set", e))?;
            for item in items {
                stmt.execute(params![row, item])
                    .map_err(|e| sql_error("cannot write a set", e))?;
            }
        }
        writer::seal_field(&self.tx, row)?;
        Ok(row)
    }

    /// Writes the series' buffered points as a chunk.
    fn write_chunk(tx: &Transaction<'_>, series: &mut SeriesImport) -> Result<(), Error> {
        let chunk = &mut series.chunk;
        let (Some(&first), Some(&last)) = (chunk.steps.first(), chunk.steps.last()) else {
            return Ok(());
        };
        tx.prepare_cached(
            "INSERT INTO chunks (field, first_step, last_step, count, data, summary)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut s| {
            s.execute(params![
                series.row,
                first,
                last,
                chunk.steps.len() as i64,
                codec::encode(chunk, series.row),
                codec::summarize(chunk).map(|blocks| codec::encode_summary(&blocks, series.row)),
            ])
        })
        .map_err(|e| sql_error("cannot write series points", e))?;
        chunk.steps.clear();
        chunk.timestamps.clear();
        match &mut chunk.values {
            Points::Float(v) => v.clear(),
            Points::String(v) => v.clear(),
            Points::File(v) => v.clear(),
        }
        Ok(())
    }

    fn guarded<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, Error>) -> Result<T, Error> {
        if self.failed {
            return Err(StorageError::new(format!(
                "the import of run {} failed before",
                self.source_id
            ))
            .into());
        }
        let result = f(self);
        if result.is_err() {
            self.failed = true;
        }
        result
    }
}

impl DumpSink for RunImport<'_> {
    fn field(&mut self, field: &FieldDump) -> Result<(), Error> {
        if field.data.field_type().is_series() {
            return replay(
                &RunDump {
                    id: self.source_id.clone(),
                    project: String::new(),
                    created_ns: 0,
                    heartbeat_ns: 0,
                    fields: vec![field.clone()],
                },
                self,
            );
        }
        self.guarded(|me| {
            me.check.field(field)?;
            if let FieldData::File(file) = &field.data {
                me.content(file)?;
            }
            me.insert_field(field).map(|_| ())
        })
    }

    fn begin_series(&mut self, path: &str, field_type: FieldType) -> Result<(), Error> {
        self.guarded(|me| {
            me.check.begin_series(path, field_type)?;
            let data = empty_series(field_type).unwrap_or(FieldData::FloatSeries(Vec::new()));
            let row = me.insert_field(&FieldDump {
                path: path.to_owned(),
                data,
            })?;
            let values = match field_type {
                FieldType::StringSeries => Points::String(Vec::new()),
                FieldType::FileSeries => Points::File(Vec::new()),
                _ => Points::Float(Vec::new()),
            };
            me.series = Some(SeriesImport {
                row,
                chunk: Chunk {
                    steps: Vec::new(),
                    values,
                    timestamps: Vec::new(),
                },
            });
            Ok(())
        })
    }

    fn points(&mut self, points: &FieldData) -> Result<(), Error> {
        self.guarded(|me| {
            me.check.points(points)?;
            if let FieldData::FileSeries(p) = points {
                for point in p {
                    me.content(&point.value)?;
                }
            }
            let Some(mut series) = me.series.take() else {
                return Err(StorageError::new("points of no series begun").into());
            };
            let push = |step: f64, ts: i64, series: &mut SeriesImport| -> Result<(), Error> {
                series.chunk.steps.push(step);
                series.chunk.timestamps.push(nanos_to_time(ts));
                if series.chunk.steps.len() >= CHUNK_POINTS {
                    Self::write_chunk(&me.tx, series)?;
                }
                Ok(())
            };
            match points {
                FieldData::FloatSeries(p) => {
                    for point in p {
                        if let Points::Float(v) = &mut series.chunk.values {
                            v.push(point.value);
                        }
                        push(point.step, point.timestamp_ns, &mut series)?;
                    }
                }
                FieldData::StringSeries(p) => {
                    for point in p {
                        if let Points::String(v) = &mut series.chunk.values {
                            v.push(point.value.clone());
                        }
                        push(point.step, point.timestamp_ns, &mut series)?;
                    }
                }
                FieldData::FileSeries(p) => {
                    for point in p {
                        if let Points::File(v) = &mut series.chunk.values {
                            v.push(StoredFile {
                                // Checked to be a SHA-256 above.
                                sha256: unhex(&point.value.sha256).unwrap_or_default(),
                                name: point.value.name.clone(),
                                size: point.value.size,
                            });
                        }
                        push(point.step, point.timestamp_ns, &mut series)?;
                    }
                }
                _ => {}
            }
            me.series = Some(series);
            Ok(())
        })
    }

    fn end_series(&mut self) -> Result<(), Error> {
        self.guarded(|me| {
            me.check.end_series()?;
            if let Some(mut series) = me.series.take() {
                Self::write_chunk(&me.tx, &mut series)?;
            }
            Ok(())
        })
    }
}
