//! The background writer: the caller's thread queues checked operations;
//! one thread per run batches them into SQLite transactions.
//!
//! The queue is bounded by [`MAX_QUEUED_BYTES`]: a producer that outruns
//! the disk waits (back-pressure) instead of growing memory. A batch is
//! written when [`BATCH_BYTES`] are queued, when `flush()` asks, or when
//! the flush interval has passed since the oldest queued operation, so a
//! crash without `flush()` loses at most that interval of data. Errors are
//! kept for the next `flush()`/`close()` and reported through `log`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use rustc_hash::{FxHashMap, FxHashSet};
use sha2::{Digest, Sha256};

use super::codec::{self, Chunk, PointValue, Points, StoredFile};
use super::lifecycle::WriterIdentity;
use super::{sql_error, time_to_nanos, FILES_DIR, HEARTBEAT_INTERVAL};
use crate::error::{Error, StorageError};
use crate::file::{FileContent, FileData, StagedFile};
use crate::store::Ending;
use crate::store::FieldId;
use crate::value::{FieldType, Value};

/// The most bytes of operations queued before a producer waits.
pub const MAX_QUEUED_BYTES: usize = 32 << 20;

/// Queued bytes that start a batch without waiting for the interval.
pub const BATCH_BYTES: usize = 4 << 20;

/// The most points in one stored chunk.
pub const CHUNK_POINTS: usize = 65_536;

/// An operation, owned, on its way to the writer.
#[derive(Debug)]
pub(crate) enum Command {
    CreateField {
        field: FieldId,
        path: Arc<str>,
        field_type: FieldType,
    },
    Assign {
        field: FieldId,
        value: Value,
    },
    Upload {
        field: FieldId,
        file: FileData,
    },
    AppendFloat {
        field: FieldId,
        step: f64,
        value: f64,
        timestamp: SystemTime,
    },
    AppendString {
        field: FieldId,
        step: f64,
        value: String,
        timestamp: SystemTime,
    },
    AppendFile {
        field: FieldId,
        step: f64,
        file: FileData,
        timestamp: SystemTime,
    },
    Clear {
        field: FieldId,
    },
    AddStrings {
        field: FieldId,
        items: Vec<String>,
    },
    RemoveStrings {
        field: FieldId,
        items: Vec<String>,
    },
    DeleteField {
        field: FieldId,
    },
}

impl Command {
    /// What it holds in memory, roughly: for the queue's bound.
    fn size(&self) -> usize {
        std::mem::size_of::<Command>()
            + match self {
                Command::CreateField { path, .. } => path.len(),
                Command::Assign {
                    value: Value::String(s),
                    ..
                } => s.len(),
                Command::AppendString { value, .. } => value.len(),
                Command::AddStrings { items, .. } | Command::RemoveStrings { items, .. } => {
                    items.iter().map(|s| s.len() + 24).sum()
                }
                // Bytes are shared with the caller (`Arc`); count them
                // anyway, since the queue keeps them alive. A file from
                // disk is staged on disk: the queue holds its name only.
                Command::Upload { file, .. } | Command::AppendFile { file, .. } => {
                    file.name.len()
                        + match &file.content {
                            FileContent::Bytes(bytes) => bytes.len(),
                            FileContent::Staged(_) => std::mem::size_of::<StagedFile>(),
                        }
                }
                _ => 0,
            }
    }
}

#[derive(Default)]
struct Pending {
    commands: Vec<Command>,
    /// The last batch's buffer, emptied, for the next batch: the queue
    /// does not regrow (and page-fault) a large vector every batch.
    spare: Vec<Command>,
    bytes: usize,
    /// When the oldest queued command arrived.
    since: Option<Instant>,
    /// Commands queued so far, and of those, how many are committed.
    queued: u64,
    durable: u64,
    flush_wanted: bool,
    closing: bool,
    writer_gone: bool,
    error: Option<Error>,
    /// How the writer's last batch ended its part in the run, once it did.
    ending: Option<Ending>,
}

/// The queue between a run and its writer thread.
pub(crate) struct Queue {
    pending: Mutex<Pending>,
    /// The writer waits here for work.
    work: Condvar,
    /// Producers and flushers wait here for the writer's progress.
    progress: Condvar,
    interval: Duration,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a command, waiting while the queue is full.
    pub(crate) fn push(&self, command: Command) -> Result<(), Error> {
        let size = command.size();
        let mut pending = self.lock();
        while pending.bytes >= MAX_QUEUED_BYTES && !pending.writer_gone {
            self.work.notify_one();
            pending = self
                .progress
                .wait(pending)
                .unwrap_or_else(|e| e.into_inner());
        }
        if pending.writer_gone {
            return Err(gone(&mut pending));
        }
        if pending.since.is_none() {
            pending.since = Some(Instant::now());
        }
        pending.commands.push(command);
        pending.bytes += size;
        pending.queued += 1;
        if pending.bytes >= BATCH_BYTES && pending.bytes - size < BATCH_BYTES {
            self.work.notify_one();
        }
        Ok(())
    }

    /// Waits until everything queued before is committed; returns the
    /// first background error since the last flush.
    pub(crate) fn flush(&self) -> Result<(), Error> {
        let mut pending = self.lock();
        let target = pending.queued;
        if pending.durable < target {
            pending.flush_wanted = true;
            self.work.notify_one();
            while pending.durable < target && !pending.writer_gone {
                pending = self
                    .progress
                    .wait(pending)
                    .unwrap_or_else(|e| e.into_inner());
            }
        }
        if let Some(err) = pending.error.take() {
            return Err(err);
        }
        if pending.durable < target {
            return Err(gone(&mut pending));
        }
        Ok(())
    }

    /// How the writer's last batch ended its part in the run: `None` if it
    /// could not (its batch failed), or has not run yet.
    pub(crate) fn ending(&self) -> Option<Ending> {
        self.lock().ending
    }

    /// Asks the writer to store what is queued, end its part in the run in
    /// the same transaction, and stop.
    pub(crate) fn close(&self) {
        let mut pending = self.lock();
        pending.closing = true;
        self.work.notify_one();
    }
}

fn gone(pending: &mut Pending) -> Error {
    pending
        .error
        .take()
        .unwrap_or_else(|| StorageError::new("the run's background writer has stopped").into())
}

/// Marks the writer gone however its thread ends, so nobody waits forever.
struct GoneGuard(Arc<Queue>);

impl Drop for GoneGuard {
    fn drop(&mut self) {
        let mut pending = self.0.lock();
        pending.writer_gone = true;
        if std::thread::panicking() && pending.error.is_none() {
            pending.error = Some(StorageError::new("the run's background writer panicked").into());
        }
        self.0.progress.notify_all();
    }
}

/// Starts the writer thread of a run on its own connection.
pub(crate) fn spawn(
    conn: Connection,
    dir: PathBuf,
    run: i64,
    identity: WriterIdentity,
    interval: Duration,
) -> Result<(Arc<Queue>, std::thread::JoinHandle<()>), StorageError> {
    let queue = Arc::new(Queue {
        pending: Mutex::new(Pending::default()),
        work: Condvar::new(),
        progress: Condvar::new(),
        interval,
    });
    let thread_queue = queue.clone();
    let handle = std::thread::Builder::new()
        .name(format!("hippocamp-writer-{run}"))
        .spawn(move || {
            let guard = GoneGuard(thread_queue);
            let mut writer = Writer {
                conn,
                dir,
                run,
                seen_version: None,
                redo_deletes: Vec::new(),
                lock_busy: false,
                identity,
                fields: FxHashMap::default(),
            };
            writer.run(&guard.0);
        })
        .map_err(|e| StorageError::with_source("cannot start the background writer", e))?;
    Ok((queue, handle))
}

/// What the writer knows of a field: enough to find or make its row again
/// after a rolled-back batch.
struct WriterField {
    path: Arc<str>,
    field_type: FieldType,
    /// Its row, once found or made in a committed (or the current) batch.
    row: Option<i64>,
    chunk: Option<Chunk>,
    /// The last chunks of its series as this writer left them (newest
    /// first), while no other connection has written to the store since:
    /// then the next batch needs no query to find them.
    tail: Option<Vec<TailChunk>>,
}

struct Writer {
    conn: Connection,
    dir: PathBuf,
    run: i64,
    /// SQLite's `data_version` when this writer's last batch committed: it
    /// changes only when another connection commits, which is when the
    /// fields' cached tails may be wrong.
    seen_version: Option<i64>,
    /// Paths whose deletion a rolled-back batch held: deleted first thing
    /// in the next batch, so a field deleted then made again never finds
    /// its old row (and points) again.
    redo_deletes: Vec<Arc<str>>,
    /// Set when a batch could not begin because another process held the
    /// store's write lock for longer than the busy timeout (an import, a
    /// migration): the batch, untouched, waits for the next try instead
    /// of being lost.
    lock_busy: bool,
    identity: WriterIdentity,
    fields: FxHashMap<FieldId, WriterField>,
}

/// Why a command was not applied.
enum Failure {
    /// Only this command failed (a file that cannot be stored, a field that
    /// another process made another type): the batch goes on without it.
    Command(Error),
    /// The database failed: the batch rolls back.
    Batch(Error),
}

impl From<StorageError> for Failure {
    fn from(err: StorageError) -> Self {
        Failure::Batch(err.into())
    }
}

impl Writer {
    fn run(&mut self, queue: &Queue) {
        let mut last_heartbeat = Instant::now();
        loop {
            let (mut batch, queued, closing) = {
                let mut pending = queue.lock();
                loop {
                    if pending.closing || pending.flush_wanted || pending.bytes >= BATCH_BYTES {
                        break;
                    }
                    let now = Instant::now();
                    let heartbeat_at = last_heartbeat + HEARTBEAT_INTERVAL;
                    let flush_at = pending.since.map(|since| since + queue.interval);
                    if now >= heartbeat_at || flush_at.is_some_and(|at| now >= at) {
                        break;
                    }
                    let wake_at = flush_at.map_or(heartbeat_at, |at| at.min(heartbeat_at));
                    pending = queue
                        .work
                        .wait_timeout(pending, wake_at - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                pending.flush_wanted = false;
                pending.since = None;
                pending.bytes = 0;
                let spare = std::mem::take(&mut pending.spare);
                let batch = std::mem::replace(&mut pending.commands, spare);
                (batch, pending.queued, pending.closing)
            };
            // Producers held back by a full queue may go on.
            queue.progress.notify_all();
            let heartbeat = last_heartbeat.elapsed() >= HEARTBEAT_INTERVAL;
            let result = if batch.is_empty() && !heartbeat && !closing {
                Ok(None)
            } else {
                self.write_batch(&mut batch, heartbeat, closing)
            };
            if std::mem::take(&mut self.lock_busy) {
                // Nothing of the batch was applied: it goes back before
                // what was queued since, and is tried again at once (each
                // try waits out the busy timeout). Flushes wait meanwhile.
                if let Err(err) = &result {
                    log::warn!("hippocamp: run data waits for the store's write lock: {err}");
                }
                let mut pending = queue.lock();
                batch.append(&mut pending.commands);
                pending.bytes = batch.iter().map(Command::size).sum();
                pending.commands = batch;
                pending.flush_wanted = true;
                pending.since.get_or_insert_with(Instant::now);
                continue;
            }
            if heartbeat {
                last_heartbeat = Instant::now();
            }
            let mut pending = queue.lock();
            match result {
                Ok(ending) => pending.ending = pending.ending.or(ending),
                Err(err) => {
                    log::error!("hippocamp: writing run data failed: {err}");
                    if pending.error.is_none() {
                        pending.error = Some(err);
                    }
                }
            }
            pending.durable = queued;
            batch.clear();
            if pending.spare.capacity() < batch.capacity() {
                pending.spare = batch;
            }
            queue.progress.notify_all();
            if closing && pending.commands.is_empty() {
                return;
            }
        }
    }

    /// Writes one batch in one transaction, emptying it. A command that
    /// fails on its own is left out and its error returned after the rest
    /// commits; a database failure rolls the whole batch back. The last
    /// batch (`finish`) also ends this writer's part in the run, and says
    /// how (one commit, one sync, for the end of a run).
    fn write_batch(
        &mut self,
        batch: &mut Vec<Command>,
        heartbeat: bool,
        finish: bool,
    ) -> Result<Option<Ending>, Error> {
        // What the batch says about which fields exist is kept even if it
        // is rolled back (the points it held are lost, and the error says
        // so): a field made in it stays known, so later points of it are
        // stored; a field deleted in it is deleted again in the next batch.
        let mut deletes = std::mem::take(&mut self.redo_deletes);
        let deleted_before = deletes.len();
        for command in batch.iter() {
            match command {
                Command::CreateField {
                    field,
                    path,
                    field_type,
                } => {
                    self.fields.insert(
                        *field,
                        WriterField {
                            path: path.clone(),
                            field_type: *field_type,
                            row: None,
                            chunk: None,
                            tail: None,
                        },
                    );
                }
                Command::DeleteField { field } => {
                    if let Some(known) = self.fields.get(field) {
                        deletes.push(known.path.clone());
                    }
                }
                _ => {}
            }
        }
        let tx = match self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
        {
            Ok(tx) => tx,
            Err(e) => {
                self.redo_deletes = deletes;
                self.lock_busy = super::is_busy(&e);
                return Err(sql_error("cannot start a write", e).into());
            }
        };
        let mut first_command_error = None;
        // Field rows whose values changed, sealed once at the batch's end
        // (a set that gets items in many commands is hashed once).
        let mut unsealed = FxHashSet::default();
        // Read under the write lock: nobody else commits until this batch
        // ends, so this stays the version after its commit too.
        let version: i64 = match tx.query_row("PRAGMA data_version", [], |r| r.get(0)) {
            Ok(version) => version,
            Err(e) => {
                self.redo_deletes = deletes;
                return Err(sql_error("cannot start a write", e).into());
            }
        };
        if self.seen_version != Some(version) {
            for field in self.fields.values_mut() {
                field.tail = None;
            }
        }
        let result = (|| -> Result<Option<Ending>, Error> {
            for path in &deletes[..deleted_before] {
                tx.prepare_cached("DELETE FROM fields WHERE run = ?1 AND path = ?2")
                    .and_then(|mut s| s.execute(params![self.run, &**path]))
                    .map_err(|e| sql_error("cannot delete a field", e))?;
            }
            for command in batch.drain(..) {
                match apply(
                    &tx,
                    &self.dir,
                    self.run,
                    &mut self.fields,
                    &mut unsealed,
                    command,
                ) {
                    Ok(()) => {}
                    Err(Failure::Command(err)) => {
                        log::error!("hippocamp: a write was refused by the store: {err}");
                        first_command_error.get_or_insert(err);
                    }
                    Err(Failure::Batch(err)) => return Err(err),
                }
            }
            for field in self.fields.values_mut() {
                if let (Some(chunk), Some(row)) = (field.chunk.take(), field.row) {
                    if let Err(refused) =
                        store_points(&tx, row, &field.path, chunk, &mut field.tail)?
                    {
                        first_command_error.get_or_insert(refused);
                    }
                }
            }
            for row in unsealed.drain() {
                seal_field(&tx, row)?;
            }
            if heartbeat && !finish {
                self.identity.heartbeat(&tx, self.run)?;
            }
            if finish {
                return Ok(Some(self.identity.finish_in(&tx, self.run)?));
            }
            Ok(None)
        })();
        let result = result.and_then(|ending| {
            tx.commit()
                .map(|()| ending)
                .map_err(|e| sql_error("cannot commit a write", e).into())
        });
        let ending = match result {
            Ok(ending) => ending,
            Err(err) => {
                // Rolled back: rows made in this batch do not exist, and
                // the points it held are lost (the error says so). Rows
                // are found (or made) again by path when next needed.
                batch.clear();
                self.redo_deletes = deletes;
                self.seen_version = None;
                for field in self.fields.values_mut() {
                    field.row = None;
                    field.chunk = None;
                    field.tail = None;
                }
                return Err(err);
            }
        };
        self.seen_version = Some(version);
        match first_command_error {
            // The run's end was recorded all the same; the queue keeps an
            // ending only from a batch without errors, so `close` ends the
            // writer's part again (a no-op) after reporting the error.
            Some(err) => Err(err),
            None => Ok(ending),
        }
    }
}

fn unknown(field: FieldId) -> Error {
    StorageError::new(format!(
        "field {} is unknown to the store's writer",
        field.0
    ))
    .into()
}

/// The row of a field, found or made by its path. A field that another
/// process made another type is forgotten: its commands fail on their own.
fn row(
    tx: &rusqlite::Transaction<'_>,
    run: i64,
    fields: &mut FxHashMap<FieldId, WriterField>,
    field: FieldId,
) -> Result<i64, Failure> {
    let state = fields
        .get_mut(&field)
        .ok_or_else(|| Failure::Command(unknown(field)))?;
    match field_state_row(tx, run, state) {
        Err(Failure::Command(err)) => {
            fields.remove(&field);
            Err(Failure::Command(err))
        }
        result => result,
    }
}

/// The row of the field `state`, found or made by its path the first time.
#[inline]
fn field_state_row(
    tx: &rusqlite::Transaction<'_>,
    run: i64,
    state: &mut WriterField,
) -> Result<i64, Failure> {
    if let Some(row) = state.row {
        return Ok(row);
    }
    let made = tx
        .prepare_cached(
            "INSERT INTO fields (run, path, type) VALUES (?1, ?2, ?3)
             ON CONFLICT (run, path) DO NOTHING",
        )
        .and_then(|mut s| s.execute(params![run, &*state.path, state.field_type.name()]))
        .map_err(|e| sql_error("cannot create a field", e))?
        == 1;
    let (row, stored_type): (i64, String) = tx
        .prepare_cached("SELECT field, type FROM fields WHERE run = ?1 AND path = ?2")
        .and_then(|mut s| s.query_row(params![run, &*state.path], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(|e| sql_error("cannot create a field", e))?;
    if stored_type != state.field_type.name() {
        // Another process made the field first, as another type: the
        // usual error, as if this process had seen that write.
        return Err(Failure::Command(match FieldType::from_name(&stored_type) {
            Some(field_type) => Error::TypeMismatch {
                path: state.path.to_string(),
                field_type,
                value_type: state.field_type,
            },
            None => StorageError::new(format!(
                "`{}` has an unknown field type {stored_type:?} in the store",
                state.path
            ))
            .into(),
        }));
    }
    if made {
        // A series row never changes after this: its checksum is its
        // path, type and run from the start.
        seal_field(tx, row)?;
    }
    state.row = Some(row);
    Ok(row)
}

fn apply(
    tx: &rusqlite::Transaction<'_>,
    dir: &Path,
    run: i64,
    fields: &mut FxHashMap<FieldId, WriterField>,
    unsealed: &mut FxHashSet<i64>,
    command: Command,
) -> Result<(), Failure> {
    match command {
        // Known to the writer before the batch began (see `write_batch`).
        Command::CreateField { field, .. } => {
            row(tx, run, fields, field)?;
        }
        Command::Assign { field, value } => {
            let row = row(tx, run, fields, field)?;
            let (int_value, text_value) = encode_atom(&value);
            tx.prepare_cached("UPDATE fields SET int_value = ?1, text_value = ?2 WHERE field = ?3")
                .and_then(|mut s| s.execute(params![int_value, text_value, row]))
                .map_err(|e| sql_error("cannot write a value", e))?;
            unsealed.insert(row);
        }
        Command::Upload { field, file } => {
            let row = row(tx, run, fields, field)?;
            let sha = store_blob(dir, &file).map_err(|e| Failure::Command(e.into()))?;
            tx.prepare_cached(
                "UPDATE fields SET text_value = ?1, file_sha = ?2, file_size = ?3 WHERE field = ?4",
            )
            .and_then(|mut s| s.execute(params![file.name, hex(&sha), file.size() as i64, row]))
            .map_err(|e| sql_error("cannot write a file", e))?;
            unsealed.insert(row);
        }
        Command::AppendFloat {
            field,
            step,
            value,
            timestamp,
        } => push_point(
            tx,
            run,
            fields,
            field,
            step,
            timestamp,
            PointValue::Float(value),
        )?,
        Command::AppendString {
            field,
            step,
            value,
            timestamp,
        } => push_point(
            tx,
            run,
            fields,
            field,
            step,
            timestamp,
            PointValue::String(value),
        )?,
        Command::AppendFile {
            field,
            step,
            file,
            timestamp,
        } => {
            let stored = StoredFile {
                sha256: store_blob(dir, &file).map_err(|e| Failure::Command(e.into()))?,
                size: file.size(),
                name: file.name,
            };
            push_point(
                tx,
                run,
                fields,
                field,
                step,
                timestamp,
                PointValue::File(stored),
            )?
        }
        Command::Clear { field } => {
            let row = row(tx, run, fields, field)?;
            if let Some(state) = fields.get_mut(&field) {
                state.chunk = None;
                state.tail = None;
            }
            tx.prepare_cached("DELETE FROM chunks WHERE field = ?1")
                .and_then(|mut s| s.execute([row]))
                .and_then(|_| tx.prepare_cached("DELETE FROM set_items WHERE field = ?1"))
                .and_then(|mut s| s.execute([row]))
                .map_err(|e| sql_error("cannot clear a field", e))?;
            unsealed.insert(row);
        }
        Command::AddStrings { field, items } => {
            let row = row(tx, run, fields, field)?;
            let mut stmt = tx
                .prepare_cached("INSERT OR IGNORE INTO set_items (field, item) VALUES (?1, ?2)")
                .map_err(|e| sql_error("cannot add to a set", e))?;
            for item in &items {
                stmt.execute(params![row, item])
                    .map_err(|e| sql_error("cannot add to a set", e))?;
            }
            unsealed.insert(row);
        }
        Command::RemoveStrings { field, items } => {
            let row = row(tx, run, fields, field)?;
            let mut stmt = tx
                .prepare_cached("DELETE FROM set_items WHERE field = ?1 AND item = ?2")
                .map_err(|e| sql_error("cannot remove from a set", e))?;
            for item in &items {
                stmt.execute(params![row, item])
                    .map_err(|e| sql_error("cannot remove from a set", e))?;
            }
            unsealed.insert(row);
        }
        Command::DeleteField { field } => {
            let row = row(tx, run, fields, field)?;
            fields.remove(&field);
            tx.prepare_cached("DELETE FROM fields WHERE field = ?1")
                .and_then(|mut s| s.execute([row]))
                .map_err(|e| sql_error("cannot delete a field", e))?;
        }
    }
    Ok(())
}

/// Adds a point to the field's open chunk, writing the chunk when full.
/// The writer's per-point path: one lookup of the field.
fn push_point(
    tx: &rusqlite::Transaction<'_>,
    run: i64,
    fields: &mut FxHashMap<FieldId, WriterField>,
    field: FieldId,
    step: f64,
    timestamp: SystemTime,
    value: PointValue,
) -> Result<(), Failure> {
    let state = fields
        .get_mut(&field)
        .ok_or_else(|| Failure::Command(unknown(field)))?;
    let row = match field_state_row(tx, run, state) {
        Err(Failure::Command(err)) => {
            fields.remove(&field);
            return Err(Failure::Command(err));
        }
        result => result?,
    };
    let field_type = state.field_type;
    let chunk = state.chunk.get_or_insert_with(|| Chunk {
        steps: Vec::new(),
        values: match field_type {
            FieldType::StringSeries => Points::String(Vec::new()),
            FieldType::FileSeries => Points::File(Vec::new()),
            _ => Points::Float(Vec::new()),
        },
        timestamps: Vec::new(),
    });
    if !chunk.values.push(value) {
        return Err(Failure::Command(
            StorageError::new(format!(
                "`{}` is a {field_type}, not the series this point belongs to",
                state.path
            ))
            .into(),
        ));
    }
    chunk.steps.push(step);
    chunk.timestamps.push(timestamp);
    if chunk.steps.len() >= CHUNK_POINTS {
        if let Some(full) = state.chunk.take() {
            store_points(tx, row, &state.path, full, &mut state.tail)?.map_err(Failure::Command)?;
        }
    }
    Ok(())
}

/// A chunk row at the end of a series.
struct TailChunk {
    chunk: i64,
    first_step: f64,
    last_step: f64,
    count: usize,
}

/// How many small chunks at a series' end are merged into one (see
/// [`store_points`]).
const MERGE_FAN_IN: usize = 8;

/// Chunks of at least this many points are never merged again: their
/// overhead (a row, a header, a first timestamp, a checksum: about 60
/// bytes) is already small beside their points (under a tenth for floats),
/// and rewriting them would multiply what every batch writes (merging
/// 65-point batches into 520-point chunks wrote 1.6× the bytes and took
/// 1.35× the CPU in `durable_1000_series`).
const SEALED_POINTS: usize = 64;

/// A chunk's size class for merging: 1–7 points, 8–63, 64–511, … (powers
/// of [`MERGE_FAN_IN`]).
fn tier(count: usize) -> u32 {
    (usize::BITS - count.leading_zeros()).saturating_sub(1) / MERGE_FAN_IN.trailing_zeros()
}

/// The last `n` chunks of the field `row`, the newest first.
fn tail_chunks(
    tx: &rusqlite::Transaction<'_>,
    row: i64,
    n: usize,
) -> Result<Vec<TailChunk>, StorageError> {
    tx.prepare_cached(
        "SELECT chunk, first_step, last_step, count FROM chunks
         WHERE field = ?1 ORDER BY last_step DESC LIMIT ?2",
    )
    .and_then(|mut s| {
        s.query_map(params![row, n as i64], |r| {
            Ok(TailChunk {
                chunk: r.get(0)?,
                first_step: r.get(1)?,
                last_step: r.get(2)?,
                count: r.get::<_, i64>(3)?.max(0) as usize,
            })
        })?
        .collect()
    })
    .map_err(|e| sql_error("cannot read series points", e))
}

/// Stores a field's new points (in step order) after the series' stored
/// ones, inside the batch's transaction.
///
/// Another process may have appended to the same series since this one
/// last looked (ranks of one run logging one series): its points stay, and
/// this writer's points at steps not after the stored last step are
/// refused with the usual [`Error::StepNotIncreasing`] (returned as the
/// inner `Err`; the points after it are stored). The store never holds a
/// series whose steps do not strictly increase.
///
/// Small chunks at the series' end are merged, size-tiered as in an LSM
/// tree: when the new chunk and the [`MERGE_FAN_IN`]` - 1` chunks before it
/// are all of its [`tier`] or smaller, and none is sealed (see
/// [`SEALED_POINTS`]), they become one. A series flushed point by point
/// (sync mode, frequent `flush()`) thus ends up in chunks of 64 points
/// plus at most 14 smaller ones at its end, not a chunk per point, and
/// each point is rewritten at most twice; a series written in batches of
/// 64 points or more is never touched twice.
///
/// `cached` holds the series' last chunks as this writer left them, when
/// they are known to be so; it is taken, and given back as the store now
/// has them.
fn store_points(
    tx: &rusqlite::Transaction<'_>,
    row: i64,
    path: &str,
    mut chunk: Chunk,
    cached: &mut Option<Vec<TailChunk>>,
) -> Result<Result<(), Error>, StorageError> {
    let mut tail = match cached.take() {
        Some(tail) => tail,
        None => tail_chunks(tx, row, MERGE_FAN_IN - 1)?,
    };
    let mut refused = Ok(());
    if let (Some(last), Some(&first)) = (tail.first(), chunk.steps.first()) {
        if first <= last.last_step {
            let keep_from = chunk.steps.partition_point(|&s| s <= last.last_step);
            refused = Err(Error::StepNotIncreasing {
                path: path.to_owned(),
                step: first,
                last: last.last_step,
            });
            chunk.steps.drain(..keep_from);
            chunk.timestamps.drain(..keep_from);
            chunk.values.drain_front(keep_from);
            if chunk.steps.is_empty() {
                return Ok(refused);
            }
        }
    }
    while tail.len() == MERGE_FAN_IN - 1 {
        let level = tier(chunk.steps.len());
        // Saturating: a damaged row's count must not overflow the sum.
        let total = tail
            .iter()
            .map(|t| t.count)
            .fold(chunk.steps.len(), usize::saturating_add);
        if total > CHUNK_POINTS
            || tail
                .iter()
                .any(|t| t.count >= SEALED_POINTS || tier(t.count) > level)
        {
            break;
        }
        // Oldest first, then the new points after them.
        let mut merged: Option<Chunk> = None;
        for old in tail.iter().rev() {
            let data: Vec<u8> = tx
                .prepare_cached("SELECT data FROM chunks WHERE chunk = ?1")
                .and_then(|mut s| s.query_row([old.chunk], |r| r.get(0)))
                .map_err(|e| sql_error("cannot read series points", e))?;
            // A damaged chunk is left as it is, for readers and `check`
            // to report; new points go after it, unmerged.
            let Some(mut decoded) = codec::decode(&data, row).ok().filter(|c| {
                codec::check_row(c, old.first_step, old.last_step, old.count as i64).is_ok()
            }) else {
                merged = None;
                break;
            };
            if let Some(before) = merged.as_mut() {
                if !before.values.append(&mut decoded.values) {
                    merged = None;
                    break;
                }
                before.steps.append(&mut decoded.steps);
                before.timestamps.append(&mut decoded.timestamps);
            } else {
                merged = Some(decoded);
            }
        }
        let Some(mut before) = merged else {
            break;
        };
        if !before.values.append(&mut chunk.values) {
            break;
        }
        before.steps.append(&mut chunk.steps);
        before.timestamps.append(&mut chunk.timestamps);
        chunk = before;
        for old in &tail {
            tx.prepare_cached("DELETE FROM chunks WHERE chunk = ?1")
                .and_then(|mut s| s.execute([old.chunk]))
                .map_err(|e| sql_error("cannot merge series points", e))?;
        }
        tail = tail_chunks(tx, row, MERGE_FAN_IN - 1)?;
    }
    if let Some(written) = write_chunk(tx, row, &chunk)? {
        tail.insert(0, written);
        tail.truncate(MERGE_FAN_IN - 1);
        *cached = Some(tail);
    }
    Ok(refused)
}

/// Inserts a chunk of the field `row`; says what row it became.
fn write_chunk(
    tx: &rusqlite::Transaction<'_>,
    row: i64,
    chunk: &Chunk,
) -> Result<Option<TailChunk>, StorageError> {
    let (Some(&first), Some(&last)) = (chunk.steps.first(), chunk.steps.last()) else {
        return Ok(None);
    };
    tx.prepare_cached(
        "INSERT INTO chunks (field, first_step, last_step, count, data, summary)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            row,
            first,
            last,
            chunk.steps.len() as i64,
            codec::encode(chunk, row),
            codec::summarize(chunk).map(|blocks| codec::encode_summary(&blocks, row)),
        ])
    })
    .map_err(|e| sql_error("cannot write series points", e))?;
    Ok(Some(TailChunk {
        chunk: tx.last_insert_rowid(),
        first_step: first,
        last_step: last,
        count: chunk.steps.len(),
    }))
}

/// An atom as the `int_value`/`text_value` pair of its row. Floats are
/// stored as their bits, so NaN survives (SQLite stores a NaN REAL as NULL).
pub(crate) fn encode_atom(value: &Value) -> (Option<i64>, Option<&str>) {
    match value {
        Value::Float(x) => (Some(x.to_bits() as i64), None),
        Value::Int(x) => (Some(*x), None),
        Value::Bool(x) => (Some(i64::from(*x)), None),
        Value::String(s) => (None, Some(s.as_str())),
        Value::Datetime(t) => (Some(time_to_nanos(*t)), None),
        _ => (None, None),
    }
}

pub(crate) fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `text` is a SHA-256 as [`hex`] writes it: the only blob names
/// a store holds (anything else in a row is corruption).
pub(crate) fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Where the blob with this hex SHA-256 lives (in a folder named by its
/// first two digits).
pub(crate) fn blob_path(dir: &Path, sha_hex: &str) -> PathBuf {
    dir.join(FILES_DIR)
        .join(sha_hex.get(..2).unwrap_or(sha_hex))
        .join(sha_hex)
}

/// Stores a file's content under its SHA-256 (once: equal contents share
/// a blob), durably, before the row that refers to it commits, and returns
/// the SHA-256. Bytes are hashed and written aside, then renamed into
/// place; a file staged at the call (already hashed, in `files/`) is
/// renamed into place. Whatever fails, no partial file is left behind.
fn store_blob(dir: &Path, file: &FileData) -> Result<[u8; 32], StorageError> {
    let (sha, name) = match &file.content {
        FileContent::Bytes(bytes) => {
            let sha: [u8; 32] = Sha256::digest(bytes).into();
            (sha, hex(&sha))
        }
        FileContent::Staged(staged) => (*staged.sha256(), staged.sha256_hex()),
    };
    let path = blob_path(dir, &name);
    let io = |e: std::io::Error| {
        StorageError::with_source(format!("cannot store file {}", path.display()), e)
    };
    let folder = path.parent().unwrap_or(dir);
    let new_folder = !folder.exists();
    std::fs::create_dir_all(folder).map_err(io)?;
    match &file.content {
        FileContent::Bytes(bytes) => {
            // The same content is there already (a real file of its size:
            // a truncated or replaced one is written again).
            if std::fs::symlink_metadata(&path)
                .is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
            {
                return Ok(sha);
            }
            // Write aside, then rename: a reader never sees half a blob.
            // The name is unique to this write, so that two writers (runs
            // of one process, or processes) storing the same content at
            // once never share one.
            static WRITES: AtomicU64 = AtomicU64::new(0);
            let tmp = folder.join(format!(
                ".{name}.{}.{}.tmp",
                std::process::id(),
                WRITES.fetch_add(1, Ordering::Relaxed)
            ));
            let written = (|| {
                use std::io::Write;
                let mut out = std::fs::File::create(&tmp)?;
                out.write_all(bytes)?;
                out.sync_all()?;
                std::fs::rename(&tmp, &path)
            })();
            if let Err(e) = written {
                // A full disk must not stay full of our half-written copy.
                if let Err(removal) = std::fs::remove_file(&tmp) {
                    if removal.kind() != std::io::ErrorKind::NotFound {
                        log::warn!(
                            "hippocamp: cannot remove the partial file {}: {removal}",
                            tmp.display()
                        );
                    }
                }
                return Err(io(e));
            }
        }
        // Renamed over whatever is there: the same content, or a damaged
        // copy of it, which this repairs. A staged file that is not
        // persisted is removed when its last handle drops.
        FileContent::Staged(staged) => staged.persist(&path).map_err(io)?,
    }
    // The rename (and a new folder) is durable once its folder (and the
    // folder's parent) is synced: before the row that refers to it commits.
    #[cfg(unix)]
    {
        let sync_dir = |dir: &Path| std::fs::File::open(dir).and_then(|f| f.sync_all());
        sync_dir(folder).map_err(io)?;
        if new_folder {
            sync_dir(folder.parent().unwrap_or(dir)).map_err(io)?;
        }
    }
    #[cfg(not(unix))]
    let _ = new_folder;
    Ok(sha)
}

/// Stores the checksum of field row `row` (see [`codec::field_crc`]):
/// called after every change of its value columns or set items. A row
/// that no longer exists (deleted in the same batch) needs none.
pub(crate) fn seal_field(conn: &Connection, row: i64) -> Result<(), StorageError> {
    let fail = |e| sql_error("cannot seal a field's value", e);
    let items = set_items(conn, row).map_err(fail)?;
    let crc = conn
        .prepare_cached(
            "SELECT run, path, type, int_value, text_value, file_sha, file_size
             FROM fields WHERE field = ?1",
        )
        .and_then(|mut s| {
            s.query_row([row], |r| {
                Ok(codec::field_crc(
                    r.get(0)?,
                    &FieldRow {
                        path: r.get_ref(1)?.as_str()?,
                        field_type: r.get_ref(2)?.as_str()?,
                        int_value: r.get(3)?,
                        text_value: r.get_ref(4)?.as_str_or_null()?,
                        file_sha: r.get_ref(5)?.as_str_or_null()?,
                        file_size: r.get(6)?,
                        crc: None,
                    },
                    &items,
                ))
            })
            .optional()
        })
        .map_err(fail)?;
    if let Some(crc) = crc {
        conn.prepare_cached("UPDATE fields SET crc = ?1 WHERE field = ?2")
            .and_then(|mut s| s.execute(params![crc, row]))
            .map_err(fail)?;
    }
    Ok(())
}

/// The items of a StringSet's row, sorted (none for other fields).
pub(crate) fn set_items(conn: &Connection, row: i64) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("SELECT item FROM set_items WHERE field = ?1 ORDER BY item")?
        .query_map([row], |r| r.get(0))?
        .collect()
}

/// Whether a field row's stored checksum matches its contents and set
/// items (a row without one, written before checksums, passes).
pub(crate) fn field_intact(run: i64, row: &FieldRow<'_>, items: &[String]) -> bool {
    row.crc
        .is_none_or(|crc| crc == codec::field_crc(run, row, items))
}

/// A field row's columns, as read back.
pub(crate) struct FieldRow<'a> {
    pub(crate) path: &'a str,
    pub(crate) field_type: &'a str,
    pub(crate) int_value: Option<i64>,
    pub(crate) text_value: Option<&'a str>,
    pub(crate) file_sha: Option<&'a str>,
    pub(crate) file_size: Option<i64>,
    pub(crate) crc: Option<i64>,
}

/// The row of `path` in `run`, if it exists.
pub(crate) fn field_row(
    conn: &Connection,
    run: i64,
    path: &str,
) -> Result<Option<i64>, StorageError> {
    conn.prepare_cached("SELECT field FROM fields WHERE run = ?1 AND path = ?2")
        .and_then(|mut s| s.query_row(params![run, path], |r| r.get(0)).optional())
        .map_err(|e| sql_error("cannot find a field", e))
}
