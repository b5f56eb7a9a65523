//! Store-level work for tools such as the `hippocamp` command: tagging
//! runs, deleting them, removing file contents that no run refers to, and
//! lossless dumps of whole runs for export and import.
//!
//! Every write is one immediate transaction on a connection with the busy
//! timeout of the runs' writers, so it waits for (and never interleaves
//! with) a batch of a run that is being logged. A write touches only the
//! rows of the runs it names, and of a running run only the items of its
//! `sys/tags`: a run being logged is never corrupted.

use std::collections::{BTreeSet, HashSet};
use std::io::{Read, Write};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

use super::blob::{self, BlobFault};
use super::codec::{self, Chunk, Points};
use super::dump::{
    read_run_to, replay, validate_dump, Collect, DumpCheck, DumpSink, RunHeader, RunImport,
};
use super::writer::{blob_path, hex, is_sha256_hex as is_sha};
use super::{
    connect, lifecycle, migrate, nanos_to_time, shown_state, sql_error, time_to_nanos, Repository,
    FILES_DIR,
};
use crate::error::{Error, StorageError};
use crate::value::FieldType;

/// A file that a run refers to: what it was called, its size, and the
/// SHA-256 of its content (64 lowercase hex digits), which names the
/// content in the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileRef {
    /// The file's name, e.g. `weights.bin`.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The SHA-256 of its content, in lowercase hex.
    pub sha256: String,
}

impl FileRef {
    /// Checks that the file at `path` holds this content: the same
    /// SHA-256 and size. What [`WritableRepository::import_run`] checks of
    /// each content it copies, for checking an export before importing.
    ///
    /// ```
    /// use hippocamp_core::sqlite::FileRef;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("abc");
    /// std::fs::write(&path, b"abc").unwrap();
    /// let sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".to_owned();
    /// let file = FileRef { name: "m.bin".into(), size: 3, sha256 };
    /// assert!(file.check_content(&path).is_ok());
    /// std::fs::write(&path, b"abd").unwrap();
    /// assert!(file.check_content(&path).is_err());
    /// ```
    pub fn check_content(&self, path: &Path) -> Result<(), Error> {
        let hashed = std::fs::File::open(path).and_then(|f| hash_copy(f, std::io::sink()));
        match hashed {
            Ok(found) => Ok(self.matches(path, found)?),
            Err(e) => {
                Err(StorageError::with_source(format!("cannot read {}", path.display()), e).into())
            }
        }
    }

    /// Whether `found` (SHA-256 and size of the content at `source`) is
    /// this file's; else an error saying so.
    fn matches(&self, source: &Path, (sha, size): ([u8; 32], u64)) -> Result<(), StorageError> {
        if hex(&sha) == self.sha256 && size == self.size {
            return Ok(());
        }
        Err(StorageError::new(format!(
            "{} does not hold file {:?}: its SHA-256 or size differs from the export's \
             (sha256 {}, {} bytes)",
            source.display(),
            self.name,
            self.sha256,
            self.size
        )))
    }
}

/// Copies `input` to `output` and returns the SHA-256 and size of what
/// it copied.
fn hash_copy(mut input: impl Read, mut output: impl Write) -> std::io::Result<([u8; 32], u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let read = buf.get(..n).unwrap_or_default();
        hasher.update(read);
        output.write_all(read)?;
        size += n as u64;
    }
    Ok((hasher.finalize().into(), size))
}

/// One point of a series in a [`RunDump`]: exact step, value and
/// timestamp (nanoseconds since the Unix epoch).
#[derive(Debug, Clone)]
pub struct DumpPoint<V> {
    /// The point's step.
    pub step: f64,
    /// Its value.
    pub value: V,
    /// When it was logged, in nanoseconds since the Unix epoch.
    pub timestamp_ns: i64,
}

/// A field's whole content in a [`RunDump`]. Floats keep their bits (NaN
/// payloads, ±Inf, -0.0), datetimes and timestamps their nanoseconds.
#[derive(Debug, Clone)]
pub enum FieldData {
    /// A Float.
    Float(f64),
    /// An Int.
    Int(i64),
    /// A Bool.
    Bool(bool),
    /// A String.
    String(String),
    /// A Datetime, in nanoseconds since the Unix epoch.
    Datetime(i64),
    /// A File.
    File(FileRef),
    /// A FloatSeries' points, in step order.
    FloatSeries(Vec<DumpPoint<f64>>),
    /// A StringSeries' points, in step order.
    StringSeries(Vec<DumpPoint<String>>),
    /// A FileSeries' points, in step order.
    FileSeries(Vec<DumpPoint<FileRef>>),
    /// A StringSet's items, sorted.
    StringSet(Vec<String>),
}

impl FieldData {
    /// The field's type.
    ///
    /// ```
    /// use hippocamp_core::{sqlite::FieldData, FieldType};
    /// assert_eq!(FieldData::Int(3).field_type(), FieldType::Int);
    /// ```
    pub fn field_type(&self) -> FieldType {
        match self {
            FieldData::Float(_) => FieldType::Float,
            FieldData::Int(_) => FieldType::Int,
            FieldData::Bool(_) => FieldType::Bool,
            FieldData::String(_) => FieldType::String,
            FieldData::Datetime(_) => FieldType::Datetime,
            FieldData::File(_) => FieldType::File,
            FieldData::FloatSeries(_) => FieldType::FloatSeries,
            FieldData::StringSeries(_) => FieldType::StringSeries,
            FieldData::FileSeries(_) => FieldType::FileSeries,
            FieldData::StringSet(_) => FieldType::StringSet,
        }
    }
}

/// One field of a [`RunDump`].
#[derive(Debug, Clone)]
pub struct FieldDump {
    /// The field's full path, e.g. `train/loss` or `sys/tags`.
    pub path: String,
    /// Its type and content.
    pub data: FieldData,
}

/// A whole run as the store holds it, losslessly: what
/// [`Repository::export_run`] reads and [`WritableRepository::import_run`]
/// writes back. File contents are not in it, only their [`FileRef`]s.
#[derive(Debug, Clone)]
pub struct RunDump {
    /// The run's id, e.g. `MNIST-3`.
    pub id: String,
    /// Its project.
    pub project: String,
    /// When it was created, in nanoseconds since the Unix epoch.
    pub created_ns: i64,
    /// Its writer's last heartbeat, in nanoseconds since the Unix epoch
    /// (with `sys/state`, it tells a finished, running or crashed run).
    pub heartbeat_ns: i64,
    /// Every field, sorted by path (`sys/` fields included).
    pub fields: Vec<FieldDump>,
}

impl RunDump {
    /// Every file the run refers to (File fields, then FileSeries points),
    /// each content once.
    ///
    /// ```
    /// use hippocamp_core::sqlite::{FieldData, FieldDump, FileRef, RunDump};
    /// let file = FileRef { name: "a.txt".into(), size: 1, sha256: "ab".repeat(32) };
    /// let dump = RunDump {
    ///     id: "MNIST-1".into(),
    ///     project: "mnist".into(),
    ///     created_ns: 0,
    ///     heartbeat_ns: 0,
    ///     fields: vec![FieldDump { path: "f".into(), data: FieldData::File(file.clone()) }],
    /// };
    /// assert_eq!(dump.files(), [&file]);
    /// ```
    pub fn files(&self) -> Vec<&FileRef> {
        let mut seen = HashSet::new();
        let mut files = Vec::new();
        for field in &self.fields {
            match &field.data {
                FieldData::File(file) => files.push(file),
                FieldData::FileSeries(points) => files.extend(points.iter().map(|p| &p.value)),
                _ => {}
            }
        }
        files.retain(|f| seen.insert(f.sha256.as_str()));
        files
    }

    /// Checks the dump as [`WritableRepository::import_run`] does before
    /// it writes: a run id, valid and distinct paths (no field under
    /// another), `sys/` fields of the types a run gives them, strings
    /// within [`MAX_STRING_BYTES`](crate::MAX_STRING_BYTES), finite and
    /// increasing series steps, files named by SHA-256.
    ///
    /// ```
    /// use hippocamp_core::sqlite::{DumpPoint, FieldData, FieldDump, RunDump};
    /// let point = |step| DumpPoint { step, value: 0.5, timestamp_ns: 0 };
    /// let mut dump = RunDump {
    ///     id: "MNIST-1".into(),
    ///     project: "mnist".into(),
    ///     created_ns: 0,
    ///     heartbeat_ns: 0,
    ///     fields: vec![FieldDump {
    ///         path: "loss".into(),
    ///         data: FieldData::FloatSeries(vec![point(1.0), point(2.0)]),
    ///     }],
    /// };
    /// assert!(dump.check().is_ok());
    /// dump.fields[0].data = FieldData::FloatSeries(vec![point(2.0), point(1.0)]);
    /// assert!(dump.check().is_err());
    /// ```
    pub fn check(&self) -> Result<(), Error> {
        validate_dump(self).map(|_| ())
    }
}

/// A file content in the store's `files/` folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// The SHA-256 of the content, which names it.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// Where it is.
    pub path: PathBuf,
}

/// A temporary file in the store's `files/` (`files/.…tmp` or
/// `files/ab/.…tmp`): an upload being copied or stored, or one left behind
/// by a process that was killed while it wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporaryFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last written.
    pub modified: SystemTime,
}

/// How long a temporary file in `files/` must have been left untouched
/// before [`WritableRepository::gc`] takes it for one left behind (by a
/// process killed while it stored a file, or a disk that filled up): an
/// hour. A live upload is never that old: its file is written to as it is
/// copied, and once complete it is moved into place by the run's writer
/// within its next batch (a second or so), or removed.
pub const STALE_TEMPORARY_AFTER: Duration = Duration::from_secs(3600);

/// What [`WritableRepository::gc`] removed (or, in a dry run, would
/// remove).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcReport {
    /// The contents no run refers to.
    pub blobs: Vec<Blob>,
    /// The temporary files left behind (untouched for
    /// [`STALE_TEMPORARY_AFTER`]).
    pub temporary: Vec<TemporaryFile>,
    /// Whether this was a dry run (nothing removed).
    pub dry_run: bool,
}

impl GcReport {
    /// The bytes freed (or that would be): contents and temporary files.
    pub fn bytes(&self) -> u64 {
        self.blob_bytes() + self.temporary.iter().map(|t| t.size).sum::<u64>()
    }

    /// The bytes of the contents freed (or that would be).
    pub fn blob_bytes(&self) -> u64 {
        self.blobs.iter().map(|b| b.size).sum()
    }
}

/// A store directory opened for writing, from
/// [`Repository::open_for_writing`]: tags runs, deletes them, removes
/// unreferenced files and imports run dumps. It reads like a
/// [`Repository`] too.
///
/// ```
/// use hippocamp_core::{sqlite::Repository, Run};
/// let dir = tempfile::tempdir().unwrap();
/// Run::builder().project("mnist").dir(dir.path()).start()?.close()?;
/// let mut store = Repository::open_for_writing(dir.path())?;
/// assert_eq!(store.set_tags("MNIST-1", &["best"], &[] as &[&str])?, ["best"]);
/// store.delete_runs(&["MNIST-1"])?;
/// assert!(store.runs()?.is_empty());
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Debug)]
pub struct WritableRepository {
    repo: Repository,
}

impl Deref for WritableRepository {
    type Target = Repository;
    fn deref(&self) -> &Repository {
        &self.repo
    }
}

fn unknown_run(dir: &Path, id: &str) -> Error {
    StorageError::new(format!("no run {id} in the store at {}", dir.display())).into()
}

/// Whether `text` names a blob: a SHA-256 in lowercase hex.
pub(super) fn unhex(text: &str) -> Option<[u8; 32]> {
    if !is_sha(text) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The row and heartbeat of run `id`.
fn find_run(conn: &Connection, id: &str) -> Result<Option<(i64, i64)>, StorageError> {
    conn.query_row(
        "SELECT run, heartbeat_ns FROM runs WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
    .map_err(|e| sql_error("cannot look the run up", e))
}

impl Repository {
    /// Opens the store in `dir` for store-level writes, creating it if
    /// missing and migrating an older schema.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = hippocamp_core::sqlite::Repository::open_for_writing(dir.path())?;
    /// assert!(store.runs()?.is_empty());
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn open_for_writing(dir: impl AsRef<Path>) -> Result<WritableRepository, Error> {
        let dir = dir.as_ref().to_path_buf();
        let mut conn = connect(&dir, false)?;
        migrate(&mut conn, &dir, false)?;
        Ok(WritableRepository {
            repo: Repository { dir, conn },
        })
    }

    /// Where the content with this SHA-256 (lowercase hex) is kept;
    /// `None` if `sha256` is not one.
    pub fn blob_path(&self, sha256: &str) -> Option<PathBuf> {
        is_sha(sha256).then(|| blob_path(&self.dir, sha256))
    }

    /// The whole run `id`, read in one snapshot (a run being logged is
    /// read as of one moment). Fields created but never assigned are left
    /// out, as when a run is opened.
    ///
    /// ```
    /// use hippocamp_core::{sqlite::{FieldData, Repository}, Run};
    /// let dir = tempfile::tempdir().unwrap();
    /// let run = Run::builder().project("mnist").dir(dir.path()).start()?;
    /// run.at("train/loss").extend([0.5, f64::NAN])?;
    /// run.close()?;
    /// let dump = Repository::open(dir.path())?.export_run("MNIST-1")?;
    /// let loss = dump.fields.iter().find(|f| f.path == "train/loss").unwrap();
    /// let FieldData::FloatSeries(points) = &loss.data else { panic!() };
    /// assert!(points[1].value.is_nan());
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn export_run(&self, id: &str) -> Result<RunDump, Error> {
        let mut collect = Collect::default();
        let header = self.export_run_to(id, &mut collect)?;
        Ok(RunDump {
            id: header.id,
            project: header.project,
            created_ns: header.created_ns,
            heartbeat_ns: header.heartbeat_ns,
            fields: collect.fields,
        })
    }

    /// Reads the run `id` into `sink`, in one snapshot, and returns its
    /// header (which `sink` got first): every field sorted by path, a
    /// series a stored chunk at a time, so that a run of any size is read
    /// in bounded memory. Fields created but never assigned are left out.
    /// See [`DumpSink`] for an example.
    pub fn export_run_to(&self, id: &str, sink: &mut dyn DumpSink) -> Result<RunHeader, Error> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| sql_error("cannot read the run", e))?;
        read_run_to(&tx, &self.dir, id, sink)
        // The read transaction ends (rolls back) when `tx` drops.
    }

    /// The SHA-256 of every content that a run refers to: File fields and
    /// FileSeries points.
    ///
    /// ```
    /// use hippocamp_core::{sqlite::Repository, Run};
    /// let dir = tempfile::tempdir().unwrap();
    /// let run = Run::builder().dir(dir.path()).start()?;
    /// run.at("model").upload_bytes(b"abc".to_vec(), "m.bin")?;
    /// run.close()?;
    /// let refs = Repository::open(dir.path())?.referenced_blobs()?;
    /// assert!(refs.contains("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn referenced_blobs(&self) -> Result<BTreeSet<String>, Error> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| sql_error("cannot read the store", e))?;
        Ok(referenced(&tx)?)
    }

    /// Checks the content with this SHA-256 (64 lowercase hex digits) as
    /// every read of it does, reading it once as a stream, and returns its
    /// size; else says what is wrong: missing, a symbolic link (or behind
    /// one), not a regular file, unreadable, or not hashing to its name.
    /// For `hippocamp check` and such, over every content of a store.
    ///
    /// ```
    /// use hippocamp_core::{sqlite::{BlobFault, Repository}, Run};
    /// let dir = tempfile::tempdir().unwrap();
    /// let run = Run::builder().dir(dir.path()).start()?;
    /// run.at("model").upload_bytes(b"abc".to_vec(), "m.bin")?;
    /// run.close()?;
    /// let repo = Repository::open(dir.path())?;
    /// let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    /// assert_eq!(repo.verify_blob(sha).unwrap(), 3);
    /// std::fs::write(repo.blob_path(sha).unwrap(), b"abd").unwrap(); // altered
    /// assert!(matches!(repo.verify_blob(sha), Err(BlobFault::Hash { .. })));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn verify_blob(&self, sha256: &str) -> Result<u64, BlobFault> {
        blob::verify(&self.dir, sha256)
    }

    /// Writes the content with this SHA-256 into `out`, checked as
    /// [`verify_blob`](Self::verify_blob) checks it, and returns its size.
    /// A content of another size than `size` (when given) is refused
    /// before anything is written; one that does not hash to its name
    /// after all is written, so keep the output only on `Ok`.
    ///
    /// ```
    /// use hippocamp_core::{sqlite::Repository, Run};
    /// let dir = tempfile::tempdir().unwrap();
    /// let run = Run::builder().dir(dir.path()).start()?;
    /// run.at("model").upload_bytes(b"abc".to_vec(), "m.bin")?;
    /// run.close()?;
    /// let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    /// let mut out = Vec::new();
    /// Repository::open(dir.path())?.copy_blob(sha, Some(3), &mut out)?;
    /// assert_eq!(out, b"abc");
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn copy_blob(
        &self,
        sha256: &str,
        size: Option<u64>,
        out: &mut dyn Write,
    ) -> Result<u64, Error> {
        blob::copy_verified(&self.dir, sha256, size, out).map_err(|e| {
            Error::from(match e {
                blob::CopyError::Fault(fault) => StorageError::new(format!(
                    "the content {sha256} in the store at {} is damaged: {fault}",
                    self.dir.display()
                )),
                blob::CopyError::Output(e) => StorageError::with_source(
                    format!("cannot write a copy of the content {sha256}"),
                    e,
                ),
            })
        })
    }

    /// The temporary files in `files/` left untouched for
    /// [`STALE_TEMPORARY_AFTER`]: what [`WritableRepository::gc`] would
    /// remove besides unreferenced contents.
    pub fn stale_temporary_files(&self) -> Result<Vec<TemporaryFile>, Error> {
        Ok(list_temporaries(&self.dir, SystemTime::now())?)
    }

    /// The contents in `files/` that no run refers to: what
    /// [`WritableRepository::gc`] would remove. Read without taking the
    /// store's write lock, so a file that a run is storing right now may
    /// show up here; `gc` itself waits for such writes.
    pub fn unreferenced_blobs(&self) -> Result<Vec<Blob>, Error> {
        let listed = list_blobs(&self.dir)?;
        let refs = self.referenced_blobs()?;
        Ok(listed
            .into_iter()
            .filter(|b| !refs.contains(&b.sha256))
            .collect())
    }
}

impl WritableRepository {
    fn begin(&mut self, what: &str) -> Result<rusqlite::Transaction<'_>, StorageError> {
        self.repo
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error(&format!("cannot {what}"), e))
    }

    /// Adds and removes tags (`sys/tags` items) of run `id` and returns
    /// its tags after, sorted. Only the items change: a finished run stays
    /// finished, and a running one goes on. A name both added and removed
    /// is an error; removing an absent tag is not.
    ///
    /// ```
    /// use hippocamp_core::{sqlite::Repository, Run};
    /// let dir = tempfile::tempdir().unwrap();
    /// Run::builder().project("mnist").tags(["draft"]).dir(dir.path()).start()?.close()?;
    /// let mut store = Repository::open_for_writing(dir.path())?;
    /// let tags = store.set_tags("MNIST-1", &["best", "cnn"], &["draft"])?;
    /// assert_eq!(tags, ["best", "cnn"]);
    /// assert_eq!(store.runs()?[0].state, "finished");
    /// assert!(store.set_tags("MNIST-9", &["x"], &[] as &[&str]).is_err());
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn set_tags<A: AsRef<str>, R: AsRef<str>>(
        &mut self,
        id: &str,
        add: &[A],
        remove: &[R],
    ) -> Result<Vec<String>, Error> {
        let added: BTreeSet<&str> = add.iter().map(AsRef::as_ref).collect();
        for item in remove {
            if added.contains(item.as_ref()) {
                return Err(StorageError::new(format!(
                    "tag {:?} is both added and removed",
                    item.as_ref()
                ))
                .into());
            }
        }
        for item in &added {
            crate::tree::check_string_len(item, || "sys/tags".to_owned())?;
        }
        let dir = self.repo.dir.clone();
        let tx = self.begin("tag the run")?;
        let (run, _) = find_run(&tx, id)?.ok_or_else(|| unknown_run(&dir, id))?;
        tx.execute(
            "INSERT INTO fields (run, path, type) VALUES (?1, 'sys/tags', 'StringSet')
             ON CONFLICT (run, path) DO NOTHING",
            [run],
        )
        .map_err(|e| sql_error("cannot tag the run", e))?;
        let (field, field_type): (i64, String) = tx
            .query_row(
                "SELECT field, type FROM fields WHERE run = ?1 AND path = 'sys/tags'",
                [run],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| sql_error("cannot tag the run", e))?;
        if field_type != FieldType::StringSet.name() {
            return Err(StorageError::new(format!(
                "sys/tags of run {id} is a {field_type}, not a StringSet"
            ))
            .into());
        }
        for item in remove {
            tx.execute(
                "DELETE FROM set_items WHERE field = ?1 AND item = ?2",
                params![field, item.as_ref()],
            )
            .map_err(|e| sql_error("cannot remove a tag", e))?;
        }
        for item in &added {
            tx.execute(
                "INSERT OR IGNORE INTO set_items (field, item) VALUES (?1, ?2)",
                params![field, item],
            )
            .map_err(|e| sql_error("cannot add a tag", e))?;
        }
        let tags = tx
            .prepare("SELECT item FROM set_items WHERE field = ?1 ORDER BY item")
            .and_then(|mut s| {
                s.query_map([field], |r| r.get(0))
                    .and_then(|rows| rows.collect::<Result<Vec<String>, _>>())
            })
            .map_err(|e| sql_error("cannot read the tags", e))?;
        super::writer::seal_field(&tx, field)?;
        tx.commit()
            .map_err(|e| sql_error("cannot tag the run", e))?;
        Ok(tags)
    }

    /// Deletes the runs `ids` with all their fields, set items and series
    /// points, in one transaction: an unknown id, or a run that is still
    /// running (a process writing it is alive), is an error naming it, and then
    /// nothing is deleted. Their file contents stay until [`gc`](Self::gc).
    ///
    /// ```
    /// use hippocamp_core::{sqlite::Repository, Run};
    /// let dir = tempfile::tempdir().unwrap();
    /// for _ in 0..2 {
    ///     Run::builder().project("mnist").dir(dir.path()).start()?.close()?;
    /// }
    /// let mut store = Repository::open_for_writing(dir.path())?;
    /// let err = store.delete_runs(&["MNIST-1", "MNIST-7"]).unwrap_err();
    /// assert!(err.to_string().contains("no run MNIST-7"));
    /// assert_eq!(store.runs()?.len(), 2);
    /// store.delete_runs(&["MNIST-1"])?;
    /// assert_eq!(store.runs()?[0].id, "MNIST-2");
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn delete_runs<S: AsRef<str>>(&mut self, ids: &[S]) -> Result<(), Error> {
        let dir = self.repo.dir.clone();
        let tx = self.begin("delete runs")?;
        let mut rows = BTreeSet::new();
        for id in ids {
            let id = id.as_ref();
            let (run, _) = find_run(&tx, id)?.ok_or_else(|| unknown_run(&dir, id))?;
            if let Some((host, pid, heartbeat)) = lifecycle::live_writer(&tx, run)? {
                let age = std::time::SystemTime::now()
                    .duration_since(nanos_to_time(heartbeat))
                    .unwrap_or_default();
                return Err(StorageError::new(format!(
                    "run {id} is running: process {pid} on {host} writes it (alive {:.1} s ago); \
                     close it first, or wait until it shows as crashed ({} s without a heartbeat)",
                    age.as_secs_f64(),
                    super::CRASH_AFTER.as_secs()
                ))
                .into());
            }
            let state: Option<String> = tx
                .query_row(
                    "SELECT text_value FROM fields WHERE run = ?1 AND path = 'sys/state'",
                    [run],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| sql_error("cannot read the run's state", e))?
                .flatten();
            if shown_state(state.as_deref(), lifecycle::liveness(&tx, run)?)
                == crate::system::STATE_RUNNING
            {
                return Err(StorageError::new(format!(
                    "run {id} is running (its writer was alive less than {} s ago): \
                     close it first, or wait until it shows as crashed",
                    super::CRASH_AFTER.as_secs()
                ))
                .into());
            }
            rows.insert(run);
        }
        for run in rows {
            // Fields, set items and chunks go with it (ON DELETE CASCADE).
            tx.execute("DELETE FROM runs WHERE run = ?1", [run])
                .map_err(|e| sql_error("cannot delete a run", e))?;
        }
        tx.commit()
            .map_err(|e| sql_error("cannot delete runs", e))?;
        Ok(())
    }

    /// Removes the contents in `files/` that no run refers to, and the
    /// temporary files left there untouched for [`STALE_TEMPORARY_AFTER`]
    /// (by a process killed while it stored a file), and says what it
    /// freed; a dry run only says. It holds the store's write lock
    /// meanwhile, so a file a run is storing right now (before the row
    /// that refers to it commits) is never taken, nor is a temporary file
    /// of an upload under way.
    ///
    /// ```
    /// use hippocamp_core::{sqlite::Repository, Run};
    /// let dir = tempfile::tempdir().unwrap();
    /// let run = Run::builder().project("mnist").dir(dir.path()).start()?;
    /// run.at("model").upload_bytes(b"abc".to_vec(), "m.bin")?;
    /// run.close()?;
    /// let mut store = Repository::open_for_writing(dir.path())?;
    /// assert!(store.gc(false)?.blobs.is_empty());
    /// store.delete_runs(&["MNIST-1"])?;
    /// assert_eq!(store.gc(true)?.bytes(), 3);
    /// assert_eq!(store.gc(false)?.bytes(), 3);
    /// assert!(store.gc(false)?.blobs.is_empty());
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn gc(&mut self, dry_run: bool) -> Result<GcReport, Error> {
        if dry_run {
            return Ok(GcReport {
                blobs: self.repo.unreferenced_blobs()?,
                temporary: self.repo.stale_temporary_files()?,
                dry_run,
            });
        }
        let dir = self.repo.dir.clone();
        // Listed first: a content stored after this is not a candidate.
        let listed = list_blobs(&dir)?;
        let tx = self.begin("collect unreferenced files")?;
        let refs = referenced(&tx)?;
        let mut freed = Vec::new();
        for blob in listed {
            if refs.contains(&blob.sha256) {
                continue;
            }
            match std::fs::remove_file(&blob.path) {
                Ok(()) => freed.push(blob),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(StorageError::with_source(
                        format!("cannot remove {}", blob.path.display()),
                        e,
                    )
                    .into())
                }
            }
        }
        // Folders left empty go too (a failure only leaves a folder).
        let folders: BTreeSet<&Path> = freed.iter().filter_map(|b| b.path.parent()).collect();
        for folder in folders {
            let _ = std::fs::remove_dir(folder);
        }
        tx.commit()
            .map_err(|e| sql_error("cannot collect unreferenced files", e))?;
        // Temporary files need no lock: a stale one belongs to no live
        // write (see STALE_TEMPORARY_AFTER).
        let mut removed = Vec::new();
        for temporary in list_temporaries(&dir, SystemTime::now())? {
            match std::fs::remove_file(&temporary.path) {
                Ok(()) => removed.push(temporary),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(StorageError::with_source(
                        format!("cannot remove {}", temporary.path.display()),
                        e,
                    )
                    .into())
                }
            }
        }
        Ok(GcReport {
            blobs: freed,
            temporary: removed,
            dry_run,
        })
    }

    /// Writes `dump` into the store as a run and returns its id: the
    /// dump's id, or, when the store has a run with that id already, the
    /// next id of its project (e.g. `MNIST-7`; `sys/id` follows). File
    /// contents the store lacks are copied from `files_dir/<sha256>` and
    /// checked against their SHA-256 and size. The dump is checked first
    /// (paths, types, increasing finite steps); nothing is written when
    /// anything is wrong, except contents already copied, which stay
    /// until [`gc`](Self::gc). A heartbeat later than now is stored as now.
    ///
    /// ```
    /// use hippocamp_core::{sqlite::Repository, Run};
    /// let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    /// let run = Run::builder().project("mnist").dir(a.path()).start()?;
    /// run.at("params/lr").assign(0.01)?;
    /// run.close()?;
    /// let dump = Repository::open(a.path())?.export_run("MNIST-1")?;
    /// let mut store = Repository::open_for_writing(b.path())?;
    /// assert_eq!(store.import_run(&dump, None)?, "MNIST-1");
    /// assert_eq!(store.import_run(&dump, None)?, "MNIST-2"); // MNIST-1 exists
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn import_run(
        &mut self,
        dump: &RunDump,
        files_dir: Option<&Path>,
    ) -> Result<String, Error> {
        let files = validate_dump(dump)?;
        let dir = self.repo.dir.clone();
        // Every content must be at hand before anything is written.
        for file in files {
            if blob_path(&dir, &file.sha256).is_file() {
                continue;
            }
            let source = files_dir.map(|d| d.join(&file.sha256));
            if !source.is_some_and(|s| s.is_file()) {
                return Err(StorageError::new(format!(
                    "the content of file {:?} (sha256 {}) of run {} is neither in the store \
                     nor in {}",
                    file.name,
                    file.sha256,
                    dump.id,
                    files_dir.map_or("the export".into(), |d| d.display().to_string())
                ))
                .into());
            }
        }
        let mut import = self.import_run_from(&RunHeader::of(dump), files_dir)?;
        replay(dump, &mut import)?;
        import.commit()
    }

    /// Starts importing a run with this header, to be fed field by field
    /// (a series a chunk at a time) through the [`DumpSink`] it returns,
    /// and [`commit`](RunImport::commit)ted: an import of any size in
    /// bounded memory. The run keeps the header's id unless the store has
    /// a run with it; then it gets its project's next id. What is fed is
    /// checked as [`import_run`](Self::import_run) checks it; file
    /// contents the store lacks are copied from `files_dir/<sha256>` as
    /// they come, checked against their SHA-256 and size. The store's
    /// write lock is held until the import is committed or dropped.
    ///
    /// ```
    /// use hippocamp_core::sqlite::{DumpPoint, DumpSink, FieldData, Repository, RunHeader};
    /// use hippocamp_core::FieldType;
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = Repository::open_for_writing(dir.path())?;
    /// let header = RunHeader {
    ///     id: "MNIST-1".into(), project: "mnist".into(),
    ///     created_ns: 0, heartbeat_ns: 0, has_files: false,
    /// };
    /// let mut import = store.import_run_from(&header, None)?;
    /// import.begin_series("loss", FieldType::FloatSeries)?;
    /// for part in 0..3 {
    ///     let points = (0..1000).map(|i| DumpPoint { step: (part * 1000 + i) as f64, value: 0.5, timestamp_ns: 0 });
    ///     import.points(&FieldData::FloatSeries(points.collect()))?;
    /// }
    /// import.end_series()?;
    /// assert_eq!(import.commit()?, "MNIST-1");
    /// assert_eq!(store.runs()?.len(), 1);
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn import_run_from(
        &mut self,
        header: &RunHeader,
        files_dir: Option<&Path>,
    ) -> Result<RunImport<'_>, Error> {
        // The id and project are checked before anything is written.
        DumpCheck::new(&header.id)?;
        super::dump::check_project(&header.id, &header.project)?;
        let dir = self.repo.dir.clone();
        let key = crate::run::project_key(&header.project);
        let tx = self.begin("import the run")?;
        let mut id = header.id.clone();
        if find_run(&tx, &id)?.is_some() {
            id = super::next_run_id(&tx, &key)?;
        } else if let Some(n) = id
            .strip_prefix(key.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|&n| n <= MAX_FOLLOWED_NUMBER)
        {
            // The project's numbering goes on after the imported number,
            // so that the next new run does not get this id.
            tx.execute(
                "INSERT INTO counters (project_key, last) VALUES (?1, ?2)
                 ON CONFLICT (project_key) DO UPDATE SET last = max(last, excluded.last)",
                params![key, n],
            )
            .map_err(|e| sql_error("cannot number the run", e))?;
        }
        // A heartbeat from the future (another machine's clock, or a
        // forged export) would keep a `running` run running for ever: one
        // that can be neither deleted nor shown as crashed.
        let heartbeat_ns = header
            .heartbeat_ns
            .min(time_to_nanos(std::time::SystemTime::now()));
        tx.execute(
            "INSERT INTO runs (id, project, created_ns, heartbeat_ns) VALUES (?1, ?2, ?3, ?4)",
            params![id, header.project, header.created_ns, heartbeat_ns],
        )
        .map_err(|e| sql_error("cannot record the run", e))?;
        let run = tx.last_insert_rowid();
        codec::seal_run(&tx, run)?;
        RunImport::new(tx, dir, files_dir, id, &header.id, run)
    }
}

/// The largest run number (`MNIST-<n>`) whose import the project's
/// numbering follows. No store numbers that far; past it, a forged id
/// near `i64::MAX` would make numbering the project's next runs overflow.
/// A run imported with a larger number keeps it all the same.
const MAX_FOLLOWED_NUMBER: i64 = 1 << 53;

/// Copies a content into the store, checking it against its SHA-256 and
/// size; written aside, synced, then renamed, as the run writers do.
pub(super) fn import_blob(dir: &Path, source: &Path, file: &FileRef) -> Result<(), StorageError> {
    let path = blob_path(dir, &file.sha256);
    if path.is_file() {
        return Ok(());
    }
    let io = |what: &str, e: std::io::Error| {
        StorageError::with_source(format!("cannot {what} {}", path.display()), e)
    };
    let folder = path.parent().unwrap_or(dir);
    let new_folder = !folder.exists();
    std::fs::create_dir_all(folder).map_err(|e| io("store", e))?;
    static COPIES: AtomicU64 = AtomicU64::new(0);
    let tmp = folder.join(format!(
        ".{}.{}.import{}.tmp",
        file.sha256,
        std::process::id(),
        COPIES.fetch_add(1, Ordering::Relaxed)
    ));
    let copied = (|| -> std::io::Result<([u8; 32], u64)> {
        let input = std::fs::File::open(source)?;
        let mut output = std::fs::File::create(&tmp)?;
        let found = hash_copy(input, &mut output)?;
        output.sync_all()?;
        Ok(found)
    })();
    let found = match copied {
        Ok(found) => found,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(StorageError::with_source(
                format!("cannot copy {} into the store", source.display()),
                e,
            ));
        }
    };
    if let Err(err) = file.matches(source, found) {
        let _ = std::fs::remove_file(&tmp);
        return Err(err);
    }
    std::fs::rename(&tmp, &path).map_err(|e| io("store", e))?;
    #[cfg(unix)]
    {
        let sync_dir = |d: &Path| std::fs::File::open(d).and_then(|f| f.sync_all());
        sync_dir(folder).map_err(|e| io("store", e))?;
        if new_folder {
            sync_dir(folder.parent().unwrap_or(dir)).map_err(|e| io("store", e))?;
        }
    }
    #[cfg(not(unix))]
    let _ = new_folder;
    Ok(())
}

/// Every content in `files/<xx>/<sha>`; other names are left alone.
pub(crate) fn list_blobs(dir: &Path) -> Result<Vec<Blob>, StorageError> {
    let files = dir.join(FILES_DIR);
    let io = |p: &Path, e: std::io::Error| {
        StorageError::with_source(format!("cannot list {}", p.display()), e)
    };
    let folders = match std::fs::read_dir(&files) {
        Ok(folders) => folders,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(&files, e)),
    };
    let mut blobs = Vec::new();
    for folder in folders {
        let folder = folder.map_err(|e| io(&files, e))?;
        let prefix = folder.file_name();
        let Some(prefix) = prefix.to_str() else {
            continue;
        };
        if prefix.len() != 2 || !folder.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let folder_path = folder.path();
        for entry in std::fs::read_dir(&folder_path).map_err(|e| io(&folder_path, e))? {
            let entry = entry.map_err(|e| io(&folder_path, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            if !is_sha(name) || !name.starts_with(prefix) {
                continue;
            }
            let meta = entry.metadata().map_err(|e| io(&entry.path(), e))?;
            if meta.is_file() {
                blobs.push(Blob {
                    sha256: name.to_owned(),
                    size: meta.len(),
                    path: entry.path(),
                });
            }
        }
    }
    blobs.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    Ok(blobs)
}

/// Whether `name` is a temporary file's: the writers' `.<sha>.<pid>.<n>.tmp`,
/// imports' `.<sha>.<pid>.import<n>.tmp`, staged uploads' `.upload.<pid>.<n>.tmp`.
fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

/// The temporary files in `files/` and `files/<xx>/` last written at
/// least [`STALE_TEMPORARY_AFTER`] before `now`.
fn list_temporaries(dir: &Path, now: SystemTime) -> Result<Vec<TemporaryFile>, StorageError> {
    let files = dir.join(FILES_DIR);
    let io = |p: &Path, e: std::io::Error| {
        StorageError::with_source(format!("cannot list {}", p.display()), e)
    };
    let mut found = Vec::new();
    let mut look = |folder: &Path| -> Result<(), StorageError> {
        let entries = match std::fs::read_dir(folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(folder, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| io(folder, e))?;
            let name = entry.file_name();
            if !name.to_str().is_some_and(is_temporary) {
                continue;
            }
            // The entry itself, never what a link points to.
            let meta = match std::fs::symlink_metadata(entry.path()) {
                Ok(meta) => meta,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&entry.path(), e)),
            };
            let Ok(modified) = meta.modified() else {
                continue;
            };
            let untouched = now.duration_since(modified).unwrap_or_default();
            if meta.is_file() && untouched >= STALE_TEMPORARY_AFTER {
                found.push(TemporaryFile {
                    path: entry.path(),
                    size: meta.len(),
                    modified,
                });
            }
        }
        Ok(())
    };
    look(&files)?;
    let folders = match std::fs::read_dir(&files) {
        Ok(folders) => folders,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(io(&files, e)),
    };
    for folder in folders {
        let folder = folder.map_err(|e| io(&files, e))?;
        let is_prefix = folder.file_name().to_str().is_some_and(|n| n.len() == 2);
        // A real folder only: a link is never followed.
        if is_prefix && folder.file_type().is_ok_and(|t| t.is_dir()) {
            look(&folder.path())?;
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// The contents referred to by File fields and FileSeries chunks.
fn referenced(conn: &Connection) -> Result<BTreeSet<String>, StorageError> {
    let mut refs = BTreeSet::new();
    let mut stmt = conn
        .prepare("SELECT file_sha FROM fields WHERE type = 'File' AND file_sha IS NOT NULL")
        .map_err(|e| sql_error("cannot list files", e))?;
    let shas = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| sql_error("cannot list files", e))?;
    refs.extend(shas);
    let mut stmt = conn
        .prepare(
            "SELECT f.path, c.data, c.field FROM chunks c JOIN fields f ON f.field = c.field
             WHERE f.type = 'FileSeries'",
        )
        .map_err(|e| sql_error("cannot list files", e))?;
    let mut rows = stmt
        .query([])
        .map_err(|e| sql_error("cannot list files", e))?;
    while let Some(row) = rows.next().map_err(|e| sql_error("cannot list files", e))? {
        let path: String = row.get(0).map_err(|e| sql_error("cannot list files", e))?;
        let data: Vec<u8> = row.get(1).map_err(|e| sql_error("cannot list files", e))?;
        let field: i64 = row.get(2).map_err(|e| sql_error("cannot list files", e))?;
        match codec::decode(&data, field) {
            Ok(Chunk {
                values: Points::File(files),
                ..
            }) => refs.extend(files.iter().map(|f| hex(&f.sha256))),
            _ => {
                return Err(StorageError::new(format!(
                    "a chunk of `{path}` is corrupt, so which files it refers to is unknown"
                )))
            }
        }
    }
    Ok(refs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 37) as u8);
        assert_eq!(unhex(&hex(&bytes)), Some(bytes));
        assert_eq!(unhex("AB"), None);
        assert_eq!(unhex(&"g".repeat(64)), None);
    }

    #[test]
    fn bad_dumps_are_refused() {
        let dump = |fields: Vec<FieldDump>| RunDump {
            id: "X-1".into(),
            project: "x".into(),
            created_ns: 0,
            heartbeat_ns: 0,
            fields,
        };
        let field = |path: &str, data| FieldDump {
            path: path.into(),
            data,
        };
        let point = |step| DumpPoint {
            step,
            value: 1.0,
            timestamp_ns: 0,
        };
        let bad = [
            dump(vec![
                field("a", FieldData::Int(1)),
                field("a", FieldData::Int(2)),
            ]),
            dump(vec![
                field("a", FieldData::Int(1)),
                field("a/b", FieldData::Int(2)),
            ]),
            dump(vec![field("a//b", FieldData::Int(1))]),
            dump(vec![field(
                "s",
                FieldData::FloatSeries(vec![point(1.0), point(1.0)]),
            )]),
            dump(vec![field(
                "s",
                FieldData::FloatSeries(vec![point(f64::NAN)]),
            )]),
            dump(vec![field(
                "f",
                FieldData::File(FileRef {
                    name: "x".into(),
                    size: 0,
                    sha256: "../../etc/passwd".into(),
                }),
            )]),
            dump(vec![field("sys/tags", FieldData::Float(1.5))]),
            dump(vec![field("sys/state", FieldData::Int(3))]),
            dump(vec![field("sys", FieldData::Int(1))]),
        ];
        for dump in bad {
            assert!(validate_dump(&dump).is_err(), "{dump:?}");
        }
        let good = dump(vec![
            field("a/b", FieldData::Int(1)),
            field("sys/tags", FieldData::StringSet(vec!["x".into()])),
            field("sys/other", FieldData::Int(1)),
            field("s", FieldData::FloatSeries(vec![point(0.0), point(2.5)])),
        ]);
        validate_dump(&good).unwrap();
    }
}
