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
mod codec;
mod dump;
mod store;
mod writer;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::error::{Error, StorageError};
use crate::run::{Mode, STATE_RUNNING};

pub use admin::{
    Blob, DumpPoint, FieldData, FieldDump, FileRef, GcReport, RunDump, TemporaryFile,
    WritableRepository, STALE_TEMPORARY_AFTER,
};
pub use blob::BlobFault;
pub(crate) use codec::{nanos_to_time, time_to_nanos};
pub use dump::{DumpCheck, DumpSink, RunHeader, RunImport};
pub use store::{SqliteStore, DEFAULT_FLUSH_INTERVAL};
pub use writer::{BATCH_BYTES, CHUNK_POINTS, MAX_QUEUED_BYTES};

/// The database file's name inside the store's directory.
pub const DATABASE_FILE: &str = "hippocamp.db";
/// The folder of file contents inside the store's directory.
pub const FILES_DIR: &str = "files";
/// The environment variable that moves the default store.
pub const HOME_ENV: &str = "HIPPOCAMP_HOME";

/// The schema version this hippocamp writes.
pub const SCHEMA_VERSION: i64 = 1;

/// Each migration takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 → 1: the first schema.
    "CREATE TABLE counters (
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
    if read_only && !path.exists() {
        return Err(StorageError::new(format!(
            "no hippocamp store at {} (no {DATABASE_FILE} there)",
            dir.display()
        )));
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
    let conn = Connection::open_with_flags(&path, flags)
        .map_err(|e| sql_error(&format!("cannot open {}", path.display()), e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| sql_error("cannot set the busy timeout", e))?;
    let not_ours = |e| not_a_readable_store(&path, e);
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

fn is_busy(err: &rusqlite::Error) -> bool {
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
        return Err(StorageError::new(format!(
            "the store at {} has schema version {}, older than {SCHEMA_VERSION}; \
             open it for writing once to migrate it",
            dir.display(),
            current.unwrap_or(0)
        )));
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
        tx.execute_batch(migration)
            .map_err(|e| sql_error(&format!("migration to schema {} failed", i + 1), e))?;
        tx.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
            [(i + 1).to_string()],
        )
        .map_err(|e| sql_error("cannot record the schema version", e))?;
    }
    tx.commit()
        .map_err(|e| sql_error("cannot commit the migration", e))
}

/// A run as the store records it.
#[derive(Debug, Clone)]
pub(crate) struct RunRecord {
    pub(crate) row: i64,
    pub(crate) id: String,
    pub(crate) project: String,
    pub(crate) created: SystemTime,
    /// Whether it existed before this start (it is resumed).
    pub(crate) existed: bool,
}

/// Finds the run `id`, or creates a run (numbered per project when `id` is
/// `None`), in one immediate transaction so that concurrent starts in
/// several processes get distinct numbers.
pub(crate) fn open_or_create_run(
    conn: &mut Connection,
    project: &str,
    id: Option<&str>,
    mode: Mode,
) -> Result<RunRecord, Error> {
    let find = |conn: &Connection, id: &str| -> Result<Option<RunRecord>, StorageError> {
        conn.query_row(
            "SELECT run, id, project, created_ns FROM runs WHERE id = ?1",
            [id],
            |row| {
                Ok(RunRecord {
                    row: row.get(0)?,
                    id: row.get(1)?,
                    project: row.get(2)?,
                    created: nanos_to_time(row.get(3)?),
                    existed: true,
                })
            },
        )
        .optional()
        .map_err(|e| sql_error("cannot look the run up", e))
    };
    if mode == Mode::ReadOnly {
        let Some(id) = id else {
            return Err(StorageError::new(
                "read-only mode opens an existing run: give its id with run_id(\"…\")",
            )
            .into());
        };
        return find(conn, id)?.ok_or_else(|| Error::NotFound {
            path: format!("run {id}"),
        });
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_error("cannot start a run", e))?;
    if let Some(id) = id {
        if let Some(record) = find(&tx, id)? {
            // Resumed: alive from now on. Without this a run resumed after
            // a crash (or long after it finished) shows as crashed until
            // the writer's first heartbeat, HEARTBEAT_INTERVAL later.
            tx.execute(
                "UPDATE runs SET heartbeat_ns = ?1 WHERE run = ?2",
                rusqlite::params![time_to_nanos(SystemTime::now()), record.row],
            )
            .map_err(|e| sql_error("cannot resume the run", e))?;
            tx.commit()
                .map_err(|e| sql_error("cannot start a run", e))?;
            return Ok(record);
        }
    }
    let id = match id {
        Some(id) => id.to_owned(),
        None => next_run_id(&tx, &crate::run::project_key(project))?,
    };
    // The clock of series points, so no point of the run predates it.
    let now = crate::clock::now();
    tx.execute(
        "INSERT INTO runs (id, project, created_ns, heartbeat_ns) VALUES (?1, ?2, ?3, ?3)",
        rusqlite::params![id, project, time_to_nanos(now)],
    )
    .map_err(|e| sql_error("cannot record the run", e))?;
    let row = tx.last_insert_rowid();
    tx.commit()
        .map_err(|e| sql_error("cannot start a run", e))?;
    Ok(RunRecord {
        row,
        id,
        project: project.to_owned(),
        created: now,
        existed: false,
    })
}

/// The project key's next run id, `<KEY>-<n>`, skipping numbers a run
/// already has (one started with `run_id("MNIST-7")`, or imported). Call it
/// inside an immediate transaction, so concurrent starts get distinct ids.
pub(crate) fn next_run_id(
    tx: &rusqlite::Transaction<'_>,
    key: &str,
) -> Result<String, StorageError> {
    loop {
        let n: i64 = tx
            .query_row(
                "INSERT INTO counters (project_key, last) VALUES (?1, 1)
                 ON CONFLICT (project_key) DO UPDATE SET last = last + 1
                 RETURNING last",
                [key],
                |row| row.get(0),
            )
            .map_err(|e| sql_error("cannot number the run", e))?;
        let id = format!("{key}-{n}");
        let taken: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?1)",
                [&id],
                |row| row.get(0),
            )
            .map_err(|e| sql_error("cannot number the run", e))?;
        if !taken {
            return Ok(id);
        }
    }
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
    /// `running`, `finished` or `crashed` (running, but its heartbeat
    /// stopped more than [`CRASH_AFTER`] ago).
    pub state: String,
    /// `sys/failed`.
    pub failed: bool,
    /// When it was created.
    pub creation_time: SystemTime,
    /// `sys/tags`, sorted.
    pub tags: Vec<String>,
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
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.run, r.id, r.project, r.created_ns, r.heartbeat_ns,
                        (SELECT text_value FROM fields WHERE run = r.run AND path = 'sys/name'),
                        (SELECT text_value FROM fields WHERE run = r.run AND path = 'sys/state'),
                        (SELECT int_value FROM fields WHERE run = r.run AND path = 'sys/failed')
                 FROM runs r ORDER BY r.run",
            )
            .map_err(|e| sql_error("cannot list runs", e))?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, i64>(4)?,
                    row.get::<_, Option<String>>(5)?,
                    row.get::<_, Option<String>>(6)?,
                    row.get::<_, Option<i64>>(7)?,
                ))
            })
            .map_err(|e| sql_error("cannot list runs", e))?;
        let mut runs = Vec::new();
        for row in rows {
            let (run, id, project, created, heartbeat, name, state, failed) =
                row.map_err(|e| sql_error("cannot list runs", e))?;
            let mut tags_stmt = self
                .conn
                .prepare_cached(
                    "SELECT item FROM set_items JOIN fields USING (field)
                     WHERE fields.run = ?1 AND fields.path = 'sys/tags' ORDER BY item",
                )
                .map_err(|e| sql_error("cannot list tags", e))?;
            let tags = tags_stmt
                .query_map([run], |row| row.get(0))
                .and_then(|rows| rows.collect::<Result<Vec<String>, _>>())
                .map_err(|e| sql_error("cannot list tags", e))?;
            runs.push(RunInfo {
                id,
                project,
                name: name.unwrap_or_default(),
                state: shown_state(state.as_deref(), heartbeat),
                failed: failed.unwrap_or(0) != 0,
                creation_time: nanos_to_time(created),
                tags,
            });
        }
        Ok(runs)
    }
}

/// `sys/state` as a reader should see it: a run still marked running whose
/// heartbeat went stale has crashed.
pub(crate) fn shown_state(stored: Option<&str>, heartbeat_ns: i64) -> String {
    let stored = stored.unwrap_or(STATE_RUNNING);
    if stored != STATE_RUNNING {
        return stored.to_owned();
    }
    let age = SystemTime::now()
        .duration_since(nanos_to_time(heartbeat_ns))
        .unwrap_or_default();
    if age > CRASH_AFTER {
        "crashed".to_owned()
    } else {
        stored.to_owned()
    }
}
