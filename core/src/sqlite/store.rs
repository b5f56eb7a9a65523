//! A run's data in the embedded store: [`SqliteStore`].

use std::io::Write;
use std::ops::{ControlFlow, RangeInclusive};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{params, Connection};
use rustc_hash::FxHashMap;

use super::codec::{self, Points};
use super::lifecycle::{WriterIdentity, LIVENESS_SQL};
use super::writer::{self, field_row, Command, Queue};
use super::{blob, connect, nanos_to_time, shown_state, sql_error, RunRecord, FILES_DIR};
use crate::error::{Error, StorageError};
use crate::run::Mode;
use crate::store::{Ending, FieldId, Op, SeriesSummary, Store, StoredField, READ_CHUNK_POINTS};
use crate::system::STATE_RUNNING;
use crate::value::{FieldType, FileInfo, Point, Value};
use crate::window::{self, Bucketing, SeriesWindow, WindowContent};

/// The default flush interval: at most this much of what was logged
/// without `flush()` is lost in a crash.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_millis(500);

/// A run's data in the embedded store, behind the [`Store`] trait.
///
/// Writes are queued to the run's background writer thread (in sync mode,
/// each is flushed before the call returns); reads flush first, then read
/// through a connection of their own. In read-only mode there is no
/// writer, and every write is refused.
pub struct SqliteStore {
    dir: PathBuf,
    run: i64,
    /// The run's id, for messages.
    run_id: String,
    /// This process's writer of the run (none when read-only).
    writer_identity: Option<WriterIdentity>,
    /// Reads; in a writing mode it also ends the writer's part at close.
    reader: Connection,
    /// The path of each field, to find its row when reading.
    paths: FxHashMap<FieldId, Arc<str>>,
    queue: Option<Arc<Queue>>,
    writer: Option<JoinHandle<()>>,
    sync: bool,
    /// What the last `load` saw: SQLite's `data_version` (it changes when
    /// another connection commits), and the heartbeat if the run was
    /// running (it may look crashed later without any commit).
    loaded_version: Option<i64>,
    loaded_running_heartbeat: Option<i64>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("dir", &self.dir)
            .field("run", &self.run)
            .finish()
    }
}

impl SqliteStore {
    /// The store of `record` in `dir`; `conn` becomes the reader's, and
    /// the background writer (unless read-only) gets one of its own.
    pub(crate) fn start(
        dir: PathBuf,
        conn: Connection,
        record: &RunRecord,
        mode: Mode,
        flush_interval: Duration,
    ) -> Result<SqliteStore, StorageError> {
        let (queue, writer) = match &record.writer {
            Some(identity) => {
                let writer_conn = connect(&dir, false)?;
                let (queue, handle) = writer::spawn(
                    writer_conn,
                    dir.clone(),
                    record.row,
                    identity.clone(),
                    flush_interval,
                )?;
                (Some(queue), Some(handle))
            }
            None => (None, None),
        };
        let sync = mode == Mode::Sync;
        Ok(SqliteStore {
            dir,
            run: record.row,
            run_id: record.id.clone(),
            writer_identity: record.writer.clone(),
            reader: conn,
            paths: FxHashMap::default(),
            queue,
            writer,
            sync,
            loaded_version: None,
            loaded_running_heartbeat: None,
        })
    }

    fn row(&self, field: FieldId) -> Result<i64, StorageError> {
        let path = self
            .paths
            .get(&field)
            .ok_or_else(|| StorageError::new(format!("field {} is not in the store", field.0)))?;
        field_row(&self.reader, self.run, path)?
            .ok_or_else(|| StorageError::new(format!("`{path}` is not in the store")))
    }

    fn path_of(&self, field: FieldId) -> &str {
        self.paths.get(&field).map_or("?", |p| p)
    }

    /// The error for a damaged chunk of `field`: which run, path and
    /// chunk, and why.
    fn damaged_chunk(&self, field: FieldId, chunk: i64, damage: &codec::Damage) -> StorageError {
        StorageError::new(format!(
            "the stored points of `{}` in run {} are damaged (chunk {chunk}: {damage}); \
             `hippocamp check` lists every damaged part of the store in {}",
            self.path_of(field),
            self.run_id,
            self.dir.display()
        ))
    }

    /// The chunks of `field` (stored as `row`) that `sql` selects (`chunk,
    /// first_step, last_step, count, data`), decoded and checked against
    /// their checksum and their row, one at a time, until `each` breaks.
    fn each_chunk(
        &self,
        field: FieldId,
        row: i64,
        sql: &str,
        args: impl rusqlite::Params,
        mut each: impl FnMut(codec::Chunk) -> ControlFlow<()>,
    ) -> Result<(), StorageError> {
        let mut stmt = self
            .reader
            .prepare_cached(sql)
            .map_err(|e| sql_error("cannot read series points", e))?;
        let mut rows = stmt
            .query(args)
            .map_err(|e| sql_error("cannot read series points", e))?;
        while let Some(r) = rows
            .next()
            .map_err(|e| sql_error("cannot read series points", e))?
        {
            let fail = |e| sql_error("cannot read series points", e);
            let chunk_id: i64 = r.get(0).map_err(fail)?;
            let (first, last, count): (f64, f64, i64) = (
                r.get(1).map_err(fail)?,
                r.get(2).map_err(fail)?,
                r.get(3).map_err(fail)?,
            );
            let data = r
                .get_ref(4)
                .and_then(|v| v.as_blob().map_err(rusqlite::Error::from))
                .map_err(fail)?;
            let chunk = codec::decode(data, row)
                .and_then(|c| codec::check_row(&c, first, last, count).map(|()| c))
                .map_err(|damage| self.damaged_chunk(field, chunk_id, &damage))?;
            if each(chunk).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// The points of `chunk` whose steps lie in `from..=to`.
fn points_in(chunk: codec::Chunk, from: f64, to: f64) -> Vec<Point> {
    let start = chunk.steps.partition_point(|&s| s < from);
    let end = chunk.steps.partition_point(|&s| s <= to).max(start);
    let values: Vec<Value> = match chunk.values {
        Points::Float(v) => v
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .map(|&x| Value::Float(x))
            .collect(),
        Points::String(v) => v
            .into_iter()
            .skip(start)
            .take(end - start)
            .map(Value::String)
            .collect(),
        Points::File(v) => v
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .map(|f| Value::File(f.info()))
            .collect(),
    };
    chunk
        .steps
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .zip(values)
        .zip(chunk.timestamps.get(start..end).unwrap_or_default())
        .map(|((&step, value), &timestamp)| Point {
            step,
            value,
            timestamp,
        })
        .collect()
}

fn points(chunk: codec::Chunk) -> impl Iterator<Item = Point> {
    let values: Vec<Value> = match chunk.values {
        Points::Float(v) => v.into_iter().map(Value::Float).collect(),
        Points::String(v) => v.into_iter().map(Value::String).collect(),
        Points::File(v) => v.iter().map(|f| Value::File(f.info())).collect(),
    };
    chunk
        .steps
        .into_iter()
        .zip(values)
        .zip(chunk.timestamps)
        .map(|((step, value), timestamp)| Point {
            step,
            value,
            timestamp,
        })
}

impl Store for SqliteStore {
    fn apply(&mut self, op: Op<'_>) -> Result<(), Error> {
        let command = match op {
            Op::CreateField {
                field,
                path,
                field_type,
            } => {
                let path: Arc<str> = Arc::from(path);
                self.paths.insert(field, path.clone());
                Command::CreateField {
                    field,
                    path,
                    field_type,
                }
            }
            Op::Assign { field, value } => Command::Assign {
                field,
                value: value.clone(),
            },
            Op::Upload { field, file } => Command::Upload {
                field,
                file: file.clone(),
            },
            Op::AppendFloat {
                field,
                step,
                value,
                timestamp,
            } => Command::AppendFloat {
                field,
                step,
                value,
                timestamp,
            },
            Op::AppendString {
                field,
                step,
                value,
                timestamp,
            } => Command::AppendString {
                field,
                step,
                value: value.to_owned(),
                timestamp,
            },
            Op::AppendFile {
                field,
                step,
                file,
                timestamp,
            } => Command::AppendFile {
                field,
                step,
                file: file.clone(),
                timestamp,
            },
            Op::Clear { field } => Command::Clear { field },
            Op::AddStrings { field, items } => Command::AddStrings {
                field,
                items: items.to_vec(),
            },
            Op::RemoveStrings { field, items } => Command::RemoveStrings {
                field,
                items: items.to_vec(),
            },
            Op::DeleteField { field } => {
                self.paths.remove(&field);
                Command::DeleteField { field }
            }
        };
        let Some(queue) = &self.queue else {
            // Read-only: fields are announced while the run is loaded;
            // nothing else may arrive (the run refuses writes first).
            return match command {
                Command::CreateField { .. } => Ok(()),
                _ => Err(StorageError::new("the store was opened read-only").into()),
            };
        };
        queue.push(command)?;
        if self.sync {
            queue.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Error> {
        match &self.queue {
            Some(queue) => queue.flush(),
            None => Ok(()),
        }
    }

    fn close(&mut self) -> Result<Ending, Error> {
        let Some(queue) = self.queue.take() else {
            return Ok(Ending::Unchanged);
        };
        // The writer's last batch stores what is queued and ends this
        // writer's part in the run: one commit.
        queue.close();
        let last = queue.flush();
        let joined = match self.writer.take().map(JoinHandle::join) {
            Some(Err(_)) => Err(StorageError::new("the run's background writer panicked")),
            _ => Ok(()),
        };
        // When that batch failed, the run ends all the same: the errors
        // below say what was not stored, and the run shows how its
        // writers ended.
        let ending = match (queue.ending(), self.writer_identity.take()) {
            (Some(ending), _) => Ok(ending),
            (None, Some(identity)) => identity.finish(&mut self.reader, self.run),
            (None, None) => Ok(Ending::Unchanged),
        };
        last?;
        joined?;
        Ok(ending?)
    }

    fn read_range(
        &mut self,
        field: FieldId,
        steps: RangeInclusive<f64>,
        each: &mut dyn FnMut(Vec<Point>) -> ControlFlow<()>,
    ) -> Result<(), Error> {
        self.flush()?;
        let row = self.row(field)?;
        let (from, to) = (*steps.start(), *steps.end());
        if from.is_nan() || to.is_nan() || from > to {
            return Ok(());
        }
        // Chunks hold increasing steps and do not overlap, so ordering by
        // last step (which the index gives, without sorting the rows) is
        // step order.
        self.each_chunk(
            field,
            row,
            "SELECT chunk, first_step, last_step, count, data FROM chunks WHERE field = ?1 AND last_step >= ?2 AND first_step <= ?3
             ORDER BY last_step",
            params![row, from, to],
            |chunk| {
                let points = points_in(chunk, from, to);
                if points.len() <= READ_CHUNK_POINTS {
                    return if points.is_empty() {
                        ControlFlow::Continue(())
                    } else {
                        each(points)
                    };
                }
                let mut points = points.into_iter();
                loop {
                    let part: Vec<Point> = points.by_ref().take(READ_CHUNK_POINTS).collect();
                    if part.is_empty() {
                        return ControlFlow::Continue(());
                    }
                    each(part)?;
                }
            },
        )?;
        Ok(())
    }

    /// Answers a wide range from the chunks' summaries: a chunk wholly in
    /// the range gives its blocks' summaries, not its points; only the
    /// (at most two) chunks that the range's ends cut are decoded. A range
    /// with few points, or with buckets narrower than a block, is read
    /// from its points.
    fn read_window(
        &mut self,
        field: FieldId,
        steps: RangeInclusive<f64>,
        buckets: usize,
    ) -> Result<SeriesWindow, Error> {
        self.flush()?;
        let row = self.row(field)?;
        let (from, to) = (*steps.start(), *steps.end());
        let empty = SeriesWindow {
            count: 0,
            content: WindowContent::Points(Vec::new()),
        };
        if from.is_nan() || to.is_nan() || from > to {
            return Ok(empty);
        }
        let fail = |e| sql_error("cannot read series points", e);
        // The chunks over the range, by their rows (not their bytes).
        let pieces: Vec<(i64, f64, f64, i64)> = self
            .reader
            .prepare_cached(
                "SELECT chunk, first_step, last_step, count FROM chunks
                 WHERE field = ?1 AND last_step >= ?2 AND first_step <= ?3 ORDER BY last_step",
            )
            .and_then(|mut s| {
                s.query_map(params![row, from, to], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect()
            })
            .map_err(fail)?;
        // The points of the chunks the range's ends cut, decoded once.
        let mut cut: FxHashMap<i64, Vec<Point>> = FxHashMap::default();
        let (mut count, mut lo, mut hi) = (0u64, None, None);
        for &(chunk, first, last, n) in &pieces {
            if first >= from && last <= to {
                count += n.max(0) as u64;
                lo = lo.or(Some(first));
                hi = Some(last);
                continue;
            }
            let mut inside = Vec::new();
            self.each_chunk(
                field,
                row,
                "SELECT chunk, first_step, last_step, count, data FROM chunks WHERE chunk = ?1",
                [chunk],
                |decoded| {
                    inside = points_in(decoded, from, to);
                    ControlFlow::Break(())
                },
            )?;
            if let (Some(a), Some(b)) = (inside.first(), inside.last()) {
                lo = lo.or(Some(a.step));
                hi = Some(b.step);
                count += inside.len() as u64;
            }
            cut.insert(chunk, inside);
        }
        let (Some(lo), Some(hi)) = (lo, hi) else {
            return Ok(empty);
        };
        if window::as_points(count, buckets)
            || count < (buckets as u64).saturating_mul(codec::BLOCK_POINTS as u64)
        {
            // Few points, or buckets finer than the blocks: from the points.
            return window::by_points(
                &mut |range, each| self.read_range(field, range, each),
                steps,
                buckets,
            );
        }
        let mut bucketing = Bucketing::new(lo, hi, buckets);
        for &(chunk, first, last, n) in &pieces {
            if let Some(points) = cut.remove(&chunk) {
                points.iter().for_each(|p| bucketing.push_point(p));
                continue;
            }
            let summary: Option<Vec<u8>> = self
                .reader
                .prepare_cached("SELECT summary FROM chunks WHERE chunk = ?1")
                .and_then(|mut s| s.query_row([chunk], |r| r.get(0)))
                .map_err(fail)?;
            match summary {
                Some(bytes) => {
                    let blocks = codec::decode_summary(&bytes, row)
                        .and_then(|b| codec::check_summary_row(&b, first, last, n).map(|()| b))
                        .map_err(|damage| self.damaged_chunk(field, chunk, &damage))?;
                    blocks.iter().for_each(|b| bucketing.push(b.bucket()));
                }
                // A chunk without one (a series not of floats) gives its
                // points.
                None => self.each_chunk(
                    field,
                    row,
                    "SELECT chunk, first_step, last_step, count, data FROM chunks WHERE chunk = ?1",
                    [chunk],
                    |decoded| {
                        points(decoded).for_each(|p| bucketing.push_point(&p));
                        ControlFlow::Break(())
                    },
                )?,
            }
        }
        Ok(SeriesWindow {
            count,
            content: WindowContent::Buckets(bucketing.finish()),
        })
    }

    fn read_last(&mut self, field: FieldId) -> Result<Option<Point>, Error> {
        self.flush()?;
        let row = self.row(field)?;
        let mut last = None;
        self.each_chunk(
            field,
            row,
            "SELECT chunk, first_step, last_step, count, data FROM chunks WHERE field = ?1 ORDER BY last_step DESC LIMIT 1",
            [row],
            |chunk| {
                last = points(chunk).last();
                ControlFlow::Break(())
            },
        )?;
        Ok(last)
    }

    fn series_summary(&mut self, field: FieldId) -> Result<SeriesSummary, Error> {
        self.flush()?;
        let row = self.row(field)?;
        let mut summary = SeriesSummary::default();
        let mut floats = false;
        self.each_chunk(
            field,
            row,
            "SELECT chunk, first_step, last_step, count, data FROM chunks WHERE field = ?1 ORDER BY last_step LIMIT 1",
            [row],
            |chunk| {
                floats = matches!(chunk.values, Points::Float(_));
                summary.first = points(chunk).next();
                ControlFlow::Break(())
            },
        )?;
        if summary.first.is_none() {
            return Ok(summary);
        }
        summary.last = self.read_last(field)?;
        if floats {
            // The minimum and maximum need every value: one chunk at a
            // time, values only.
            let mut count = 0u64;
            self.each_chunk(
                field,
                row,
                "SELECT chunk, first_step, last_step, count, data FROM chunks WHERE field = ?1 ORDER BY last_step",
                [row],
                |chunk| {
                    if let Points::Float(values) = &chunk.values {
                        count += values.len() as u64;
                        values.iter().for_each(|&x| summary.include_value(x));
                    }
                    ControlFlow::Continue(())
                },
            )?;
            summary.count = count;
        } else {
            summary.count = self
                .reader
                .query_row(
                    "SELECT coalesce(sum(count), 0) FROM chunks WHERE field = ?1",
                    [row],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(|e| sql_error("cannot read series points", e))?
                .max(0) as u64;
        }
        Ok(summary)
    }

    fn copy_file(
        &mut self,
        field: FieldId,
        step: Option<f64>,
        out: &mut dyn Write,
    ) -> Result<u64, Error> {
        self.flush()?;
        let row = self.row(field)?;
        // The content's name, and the size recorded with it.
        let stored: Option<(String, Option<u64>)> = match step {
            None => {
                let (sha, size) = self
                    .reader
                    .query_row(
                        "SELECT file_sha, file_size FROM fields WHERE field = ?1",
                        [row],
                        |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<i64>>(1)?)),
                    )
                    .map_err(|e| sql_error("cannot read a file field", e))?;
                sha.map(|sha| (sha, size.and_then(|s| u64::try_from(s).ok())))
            }
            Some(step) => {
                let mut found = None;
                self.each_chunk(
                    field,
                    row,
                    "SELECT chunk, first_step, last_step, count, data FROM chunks WHERE field = ?1 AND first_step <= ?2 AND last_step >= ?2",
                    params![row, step],
                    |chunk| {
                        let Points::File(files) = &chunk.values else {
                            return ControlFlow::Continue(());
                        };
                        match chunk.steps.iter().position(|&s| s == step) {
                            Some(at) => {
                                found = files
                                    .get(at)
                                    .map(|f| (writer::hex(&f.sha256), Some(f.size)));
                                ControlFlow::Break(())
                            }
                            None => ControlFlow::Continue(()),
                        }
                    },
                )?;
                found
            }
        };
        let (sha, size) = stored.ok_or_else(|| StorageError::new("no file is stored there"))?;
        blob::copy_verified(&self.dir, &sha, size, out).map_err(|e| {
            let path = self.path_of(field);
            Error::from(match e {
                blob::CopyError::Fault(fault) => StorageError::new(format!(
                    "file `{path}` of run {} is damaged in the store (content {sha}): {fault}",
                    self.run_id
                )),
                blob::CopyError::Output(e) => StorageError::with_source(
                    format!(
                        "cannot write the bytes of file `{path}` of run {}",
                        self.run_id
                    ),
                    e,
                ),
            })
        })
    }

    fn staging_dir(&self) -> Option<PathBuf> {
        self.queue.as_ref().map(|_| self.dir.join(FILES_DIR))
    }

    fn changed_since_load(&mut self) -> Result<bool, Error> {
        let Some(loaded) = self.loaded_version else {
            return Ok(true);
        };
        if self.data_version()? != loaded {
            return Ok(true);
        }
        Ok(self
            .loaded_running_heartbeat
            .is_some_and(|heartbeat| shown_state(Some(STATE_RUNNING), heartbeat) != STATE_RUNNING))
    }

    fn load(&mut self) -> Result<Vec<StoredField>, Error> {
        // Read before loading: a commit during the load shows as a change.
        let version = self.data_version()?;
        self.loaded_running_heartbeat = None;
        let fields = self.load_fields()?;
        self.loaded_version = Some(version);
        Ok(fields)
    }
}

impl SqliteStore {
    /// SQLite's `data_version` of the reading connection.
    fn data_version(&self) -> Result<i64, StorageError> {
        self.reader
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| sql_error("cannot read the store's version", e))
    }

    fn load_fields(&mut self) -> Result<Vec<StoredField>, StorageError> {
        let heartbeat: i64 = self
            .reader
            .query_row(
                &format!("SELECT {LIVENESS_SQL} FROM runs r WHERE run = ?1"),
                [self.run],
                |r| r.get(0),
            )
            .map_err(|e| sql_error("cannot load the run", e))?;
        let mut stmt = self
            .reader
            .prepare_cached(
                "SELECT field, path, type, int_value, text_value, file_size,
                        (SELECT max(last_step) FROM chunks c WHERE c.field = f.field),
                        file_sha, crc
                 FROM fields f WHERE run = ?1 ORDER BY path",
            )
            .map_err(|e| sql_error("cannot load the run", e))?;
        let run = self.run;
        let reader = &self.reader;
        let rows = stmt
            .query_map([run], |r| {
                let row = writer::FieldRow {
                    path: r.get_ref(1)?.as_str()?,
                    field_type: r.get_ref(2)?.as_str()?,
                    int_value: r.get(3)?,
                    text_value: r.get_ref(4)?.as_str_or_null()?,
                    file_sha: r.get_ref(7)?.as_str_or_null()?,
                    file_size: r.get(5)?,
                    crc: r.get(8)?,
                };
                let items = if row.field_type == FieldType::StringSet.name() {
                    writer::set_items(reader, r.get(0)?)?
                } else {
                    Vec::new()
                };
                let intact = writer::field_intact(run, &row, &items);
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, Option<f64>>(6)?,
                    intact,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| sql_error("cannot load the run", e))?;
        drop(stmt);
        let mut fields = Vec::with_capacity(rows.len());
        for (row, path, type_name, int_value, text_value, file_size, last_step, intact) in rows {
            if !intact {
                return Err(StorageError::new(format!(
                    "the stored value of `{path}` in run {} is damaged (its checksum does not \
                     match); `hippocamp check` lists every damaged part of the store in {}",
                    self.run_id,
                    self.dir.display()
                )));
            }
            let field_type = FieldType::ALL
                .into_iter()
                .find(|t| t.name() == type_name)
                .ok_or_else(|| {
                    StorageError::new(format!("`{path}` has an unknown field type {type_name:?}"))
                })?;
            // A field created but never assigned (its first write failed)
            // is left out rather than shown with a made-up value.
            if field_type.is_atom() && int_value.is_none() && text_value.is_none() {
                continue;
            }
            let corrupt =
                || StorageError::new(format!("`{path}` ({type_name}) has no value in the store"));
            let value = match field_type {
                FieldType::Float => Some(Value::Float(f64::from_bits(
                    int_value.ok_or_else(corrupt)? as u64,
                ))),
                FieldType::Int => Some(Value::Int(int_value.ok_or_else(corrupt)?)),
                FieldType::Bool => Some(Value::Bool(int_value.ok_or_else(corrupt)? != 0)),
                FieldType::String => {
                    let mut text = text_value.clone().ok_or_else(corrupt)?;
                    if path == "sys/state" {
                        self.loaded_running_heartbeat =
                            (text == STATE_RUNNING).then_some(heartbeat);
                        text = shown_state(Some(&text), heartbeat);
                    }
                    Some(Value::String(text))
                }
                FieldType::Datetime => Some(Value::Datetime(nanos_to_time(
                    int_value.ok_or_else(corrupt)?,
                ))),
                _ => None,
            };
            let file = match (field_type, text_value, file_size) {
                (FieldType::File, Some(name), Some(size)) => Some(FileInfo {
                    extension: crate::file::extension_of(&name).to_owned(),
                    name,
                    size: size as u64,
                }),
                _ => None,
            };
            let items = if field_type == FieldType::StringSet {
                self.reader
                    .prepare_cached("SELECT item FROM set_items WHERE field = ?1 ORDER BY item")
                    .and_then(|mut s| {
                        s.query_map([row], |r| r.get(0))
                            .and_then(|rows| rows.collect::<Result<Vec<String>, _>>())
                    })
                    .map_err(|e| sql_error("cannot load a set", e))?
            } else {
                Vec::new()
            };
            fields.push(StoredField {
                path,
                field_type,
                value,
                items,
                file,
                last_step,
            });
        }
        Ok(fields)
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        if self.queue.is_some() {
            if let Err(err) = self.close() {
                log::error!("hippocamp: closing the store failed: {err}");
            }
        }
    }
}
