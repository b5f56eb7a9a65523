//! The embedded store: one SQLite database in WAL mode, plus a folder of
//! content-addressed files, in one directory (`./.hippocamp` by default).
//!
//! ```text
//! .hippocamp/
//!   hippocamp.db        runs, fields, set items, series chunks
//!   hippocamp.db-wal    SQLite's write-ahead log
//!   files/ab/ab12…      file contents, named by their SHA-256
//! ```
//!
//! The directory can be copied to another machine and opened there. Its
//! schema is versioned; a newer hippocamp migrates an older store when it
//! opens it for writing, and refuses a store newer than itself.
//!
//! [`Repository`] is the store-level API: it lists runs for tools such as
//! the CLI. A run's own data goes through [`SqliteStore`], behind the
//! [`Store`](crate::store::Store) trait, with a background writer.

mod admin;
mod blob;
mod check;
mod codec;
mod dump;
mod lifecycle;
mod store;
mod table;
mod writer;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::error::{Error, StorageError};

pub use admin::{
    Blob, DumpPoint, FieldData, FieldDump, FileRef, GcReport, RunDump, TemporaryFile,
    WritableRepository, STALE_TEMPORARY_AFTER,
};
pub use blob::BlobFault;
pub use check::{CheckReport, DamagedPart};
pub(crate) use codec::{nanos_to_time, time_to_nanos};
pub use dump::{DumpCheck, DumpSink, RunHeader, RunImport};
pub(crate) use lifecycle::{next_run_id, open_or_create_run, shown_state, RunRecord};
pub use store::{SqliteStore, DEFAULT_FLUSH_INTERVAL};
pub use writer::{BATCH_BYTES, CHUNK_POINTS, MAX_QUEUED_BYTES};

/// The database file's name inside the store's directory.
pub const DATABASE_FILE: &str = "hippocamp.db";
/// The folder of file contents inside the store's directory.
pub const FILES_DIR: &str = "files";
/// The environment variable that moves the default store.
pub const HOME_ENV: &str = "HIPPOCAMP_HOME";

/// The schema version this hippocamp writes.
pub const SCHEMA_VERSION: i64 = 3;

/// A change of the data itself, run inside the migration's transaction.
type DataMigration = fn(&rusqlite::Transaction<'_>) -> Result<(), StorageError>;

/// A step from one schema version to the next: SQL, then (for changes of
/// the data itself) a function over it, in the migration's transaction.
struct Migration {
    sql: &'static str,
    data: Option<DataMigration>,
}

/// Each migration takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[
    // 0 → 1: the first schema.
    Migration {
        sql: "CREATE TABLE counters (
         project_key TEXT PRIMARY KEY,
         last INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE runs (
         run INTEGER PRIMARY KEY,
         id TEXT NOT NULL UNIQUE,
         project TEXT NOT NULL,
         created_ns INTEGER NOT NULL,
         heartbeat_ns INTEGER NOT NULL
     );
     CREATE TABLE fields (
         field INTEGER PRIMARY KEY,
         run INTEGER NOT NULL REFERENCES runs(run) ON DELETE CASCADE,
         path TEXT NOT NULL,
         type TEXT NOT NULL,
         int_value INTEGER,
         text_value TEXT,
         file_sha TEXT,
         file_size INTEGER,
         UNIQUE (run, path)
     );
     CREATE TABLE set_items (
         field INTEGER NOT NULL REFERENCES fields(field) ON DELETE CASCADE,
         item TEXT NOT NULL,
         PRIMARY KEY (field, item)
     ) WITHOUT ROWID;
     CREATE TABLE chunks (
         chunk INTEGER PRIMARY KEY,
         field INTEGER NOT NULL REFERENCES fields(field) ON DELETE CASCADE,
         first_step REAL NOT NULL,
         last_step REAL NOT NULL,
         count INTEGER NOT NULL,
         data BLOB NOT NULL
     );
     CREATE INDEX chunks_by_field ON chunks (field, last_step);",
        data: None,
    },
    // 1 → 2: the processes writing each run (see `lifecycle`); a CRC-32C
    // of each run and field row and in each series chunk (see `codec`),
    // added to the rows and chunks there are.
    Migration {
        sql: "CREATE TABLE writers (
                  writer INTEGER PRIMARY KEY,
                  run INTEGER NOT NULL REFERENCES runs(run) ON DELETE CASCADE,
                  hostname TEXT NOT NULL,
                  pid INTEGER NOT NULL,
                  started_ns INTEGER NOT NULL,
                  heartbeat_ns INTEGER NOT NULL
              );
              CREATE INDEX writers_by_run ON writers (run);
              ALTER TABLE fields ADD COLUMN crc INTEGER;
              ALTER TABLE runs ADD COLUMN crc INTEGER;",
        data: Some(codec::add_checksums),
    },
    // 2 → 3: beside each FloatSeries chunk, a summary of its points block
    // by block (see `codec`), so a wide range is bucketed without decoding;
    // fields found by path across runs (the runs table, see `table`).
    Migration {
        sql: "ALTER TABLE chunks ADD COLUMN summary BLOB;
              CREATE INDEX fields_by_path ON fields (path, run);",
        data: Some(codec::add_summaries),
    },
];

/// How long a connection waits for another process's write lock before a
/// write fails. Writes are short transactions, so ordinary contention
/// never gets near it.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a running run's writer proves it is alive.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);

/// A run whose heartbeat is older than this, and that was not closed, is
/// shown as crashed: a crash is detected within this time.
pub const CRASH_AFTER: Duration = Duration::from_secs(10);

pub(crate) fn sql_error(context: &str, err: rusqlite::Error) -> StorageError {
    StorageError::with_source(context.to_owned(), err)
}

/// The error for a database file SQLite cannot read as ours.
fn not_a_readable_store(database: &Path, err: rusqlite::Error) -> StorageError {
    StorageError::with_source(
        format!(
            "{} is not a readable hippocamp store (not an SQLite database, truncated or corrupt)",
            database.display()
        ),
        err,
    )
}

/// The error for an SQLite database that some other program made.
fn not_a_store(database: &Path) -> StorageError {
    StorageError::new(format!(
        "{} is an SQLite database but not a hippocamp store",
        database.display()
    ))
}

/// The store directory for `dir`, else `$HIPPOCAMP_HOME`, else
/// `./.hippocamp`.
///
/// ```
/// let dir = hippocamp_core::sqlite::resolve_dir(Some("/tmp/runs".as_ref()));
/// assert_eq!(dir, std::path::PathBuf::from("/tmp/runs"));
/// ```
pub fn resolve_dir(dir: Option<&Path>) -> PathBuf {
    match dir {
        Some(dir) => dir.to_path_buf(),
        None => std::env::var_os(HOME_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".hippocamp")),
    }
}

/// Opens the database of the store in `dir` with hippocamp's settings.
pub(crate) fn connect(dir: &Path, read_only: bool) -> Result<Connection, StorageError> {
    let path = dir.join(DATABASE_FILE);
    match std::fs::metadata(&path) {
        Err(_) if read_only => {
            return Err(StorageError::new(format!(
                "no hippocamp store at {} (no {DATABASE_FILE} there)",
                dir.display()
            )))
        }
        // A FIFO would block every open, a directory cannot be a database.
        Ok(meta) if !meta.is_file() => {
            return Err(StorageError::new(format!(
                "{} is not a regular file, so not a hippocamp store",
                path.display()
            )))
        }
        _ => {}
    }
    if !read_only {
        std::fs::create_dir_all(dir.join(FILES_DIR)).map_err(|e| {
            StorageError::with_source(format!("cannot create the store at {}", dir.display()), e)
        })?;
    }
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let mut conn = Connection::open_with_flags(&path, flags)
        .map_err(|e| sql_error(&format!("cannot open {}", path.display()), e))?;
    let not_ours = |e| not_a_readable_store(&path, e);
    if read_only {
        if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        }) {
            conn = open_on_read_only_media(dir, &path).ok_or_else(|| not_ours(e))??;
        }
    }
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| sql_error("cannot set the busy timeout", e))?;
    if !read_only {
        // WAL lets readers in other processes read while this one writes;
        // FULL makes a committed transaction survive a power cut too.
        set_wal(&conn).map_err(|e| {
            if is_busy(&e) {
                sql_error("cannot switch the store to WAL mode: it stays locked", e)
            } else {
                not_ours(e)
            }
        })?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(not_ours)?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(not_ours)?;
    Ok(conn)
}

/// Opens a store that SQLite cannot open read-only the usual way because
/// its folder cannot be written (read-only media: a reader of a WAL
/// database needs to create the `-shm` file beside it). A store closed
/// cleanly has no `-wal` file left, and nothing can change it there, so
/// SQLite may open it as immutable. `None` when that is not the case (the
/// caller reports the first error); `Some(Err)` when it was tried and
/// failed, or cannot be done.
fn open_on_read_only_media(dir: &Path, path: &Path) -> Option<Result<Connection, StorageError>> {
    let writable = can_create_files_in(dir);
    if writable {
        return None;
    }
    let wal = dir.join(format!("{DATABASE_FILE}-wal"));
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Some(Err(StorageError::new(format!(
            "the store at {} cannot be written and was not closed cleanly ({} holds \
             unsaved pages): copy it to writable storage to read it",
            dir.display(),
            wal.display()
        ))));
    }
    let uri = format!("file:{}?immutable=1", uri_path(path));
    Some(
        Connection::open_with_flags(
            uri,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| not_a_readable_store(path, e)),
    )
}

/// Whether a file can be created in `dir` (and is removed again).
fn can_create_files_in(dir: &Path) -> bool {
    let probe = dir.join(format!(".hippocamp-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(e) => e.kind() == std::io::ErrorKind::AlreadyExists,
    }
}

/// A path as the path of an SQLite `file:` URI: every byte but letters,
/// digits, `/` and `-._~` percent-encoded.
fn uri_path(path: &Path) -> String {
    let bytes = path.as_os_str().as_encoded_bytes();
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err,
        rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::DatabaseBusy
    )
}

/// Puts the database in WAL mode. While several processes create one
/// store at once, switching it can fail with "database is locked" at once,
/// without waiting out the busy timeout (seen in 4 of 40 runs of the
/// four-process test in `tests/processes.rs`): retry (the switch is a
/// no-op once another process has made it) until [`BUSY_TIMEOUT`].
fn set_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            result => return result,
        }
    }
}

/// Brings the schema to [`SCHEMA_VERSION`], or checks it when read-only.
pub(crate) fn migrate(
    conn: &mut Connection,
    dir: &Path,
    read_only: bool,
) -> Result<(), StorageError> {
    let database = dir.join(DATABASE_FILE);
    let not_ours = |e| not_a_readable_store(&database, e);
    let version = |conn: &Connection| -> Result<Option<i64>, StorageError> {
        let has_meta: bool = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                [],
                |row| row.get::<_, i64>(0).map(|n| n > 0),
            )
            .map_err(not_ours)?;
        if !has_meta {
            let tables: i64 = conn
                .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
                .map_err(not_ours)?;
            if tables > 0 {
                return Err(not_a_store(&database));
            }
            return Ok(None);
        }
        let format: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'format'", [], |row| {
                row.get(0)
            })
            .optional()
            .map_err(not_ours)?;
        if format.as_deref() != Some("hippocamp") {
            return Err(not_a_store(&database));
        }
        let version: String = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |row| row.get(0),
            )
            .map_err(not_ours)?;
        // Versions count up from 0: a negative one is corruption too.
        version
            .parse::<u32>()
            .map(|v| Some(i64::from(v)))
            .map_err(|_| {
                StorageError::new(format!(
                    "the store's schema version {version:?} is not a version number"
                ))
            })
    };
    let current = version(conn)?;
    if let Some(v) = current {
        if v > SCHEMA_VERSION {
            return Err(StorageError::new(format!(
                "the store at {} has schema version {v}, newer than this hippocamp's \
                 {SCHEMA_VERSION}; upgrade hippocamp to open it",
                dir.display()
            )));
        }
        if v == SCHEMA_VERSION {
            return Ok(());
        }
    }
    if read_only {
        return Err(match current {
            // A store being created (its file exists, its tables do not
            // yet), or an empty file: not a store to read, yet.
            None => StorageError::new(format!(
                "no hippocamp store at {} yet: {DATABASE_FILE} holds no tables \
                 (a store being created, or an empty file)",
                dir.display()
            )),
            Some(v) => StorageError::new(format!(
                "the store at {} has schema version {v}, older than {SCHEMA_VERSION}; \
                 open it for writing once to migrate it",
                dir.display()
            )),
        });
    }
    // Another process may be migrating at the same time: the immediate
    // transaction serialises us, and we re-read the version inside it.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_error("cannot start the migration", e))?;
    let from = version(&tx)?.unwrap_or(0);
    if from == 0 {
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
             INSERT OR IGNORE INTO meta VALUES ('format', 'hippocamp'), ('schema_version', '0');",
        )
        .map_err(|e| sql_error("cannot create the store", e))?;
    }
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        tx.execute_batch(migration.sql)
            .map_err(|e| sql_error(&format!("migration to schema {} failed", i + 1), e))?;
        if let Some(data) = migration.data {
            data(&tx)?;
        }
        tx.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
            [(i + 1).to_string()],
        )
        .map_err(|e| sql_error("cannot record the schema version", e))?;
    }
    tx.commit()
        .map_err(|e| sql_error("cannot commit the migration", e))
}

/// What the store says of a run, for listings.
///
/// ```no_run
/// let repo = hippocamp_core::sqlite::Repository::open(".hippocamp")?;
/// for run in repo.runs()? {
///     println!("{} {} {} {:?}", run.id, run.project, run.state, run.tags);
/// }
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    /// The run's id, e.g. `MNIST-3`.
    pub id: String,
    /// Its project.
    pub project: String,
    /// `sys/name`.
    pub name: String,
    /// `running`, `finished` or `crashed` (running, but a writer's
    /// heartbeat stopped more than [`CRASH_AFTER`] ago); `damaged` when
    /// its record or `sys/` fields fail their checksum (see `damage`).
    pub state: String,
    /// `sys/failed`.
    pub failed: bool,
    /// When it was created.
    pub creation_time: SystemTime,
    /// `sys/tags`, sorted.
    pub tags: Vec<String>,
    /// What is damaged in the run's record or `sys/` fields, if anything:
    /// the run is still listed (so it can be found and removed), but its
    /// other fields here may be wrong, and opening it is an error.
    pub damage: Option<String>,
}

/// A store directory, opened read-only: lists its runs.
///
/// Opening never changes the store, so tools can look at a store that a
/// training process is writing.
///
/// ```
/// use hippocamp_core::{sqlite::Repository, Run};
/// let dir = tempfile::tempdir().unwrap();
/// let run = Run::builder().project("mnist").name("baseline").dir(dir.path()).start()?;
/// run.close()?;
/// let runs = Repository::open(dir.path())?.runs()?;
/// assert_eq!((runs[0].id.as_str(), runs[0].state.as_str()), ("MNIST-1", "finished"));
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Repository {
    dir: PathBuf,
    conn: Connection,
}

impl Repository {
    /// Opens the store in `dir` for reading.
    pub fn open(dir: impl AsRef<Path>) -> Result<Repository, Error> {
        let dir = dir.as_ref().to_path_buf();
        let mut conn = connect(&dir, true)?;
        migrate(&mut conn, &dir, true)?;
        Ok(Repository { dir, conn })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunInfo>, Error> {
        self.list_runs()
    }
}

impl crate::reader::StoreReader for Repository {
    fn runs_table(
        &self,
        query: &crate::table::RunsQuery,
    ) -> Result<crate::table::RunsTable, Error> {
        Repository::runs_table(self, query)
    }

    fn run_states(&self) -> Result<Vec<(String, String)>, Error> {
        Repository::run_states(self)
    }

    fn data_version(&self) -> Result<i64, Error> {
        Repository::data_version(self)
    }

    fn run_version(&self, id: &str) -> Result<Option<i64>, Error> {
        Repository::run_version(self, id)
    }

    fn open_run(&self, id: &str) -> Result<crate::Run, Error> {
        crate::Run::builder()
            .dir(&self.dir)
            .run_id(id)
            .mode(crate::Mode::ReadOnly)
            .start()
    }
}
