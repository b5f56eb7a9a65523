//! A run's data in the embedded store: [`SqliteStore`].

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{params, Connection};
use rustc_hash::FxHashMap;

use super::codec::{self, Points};
use super::lifecycle::{WriterIdentity, LIVENESS_SQL};
use super::writer::{self, blob_path, field_row, is_sha256_hex, Command, Queue};
use super::{connect, nanos_to_time, shown_state, sql_error, RunRecord};
use crate::error::{Error, StorageError};
use crate::run::Mode;
use crate::store::{Ending, FieldId, Op, Store, StoredField};
use crate::system::STATE_RUNNING;
use crate::value::{FieldType, FileInfo, Point, Value};

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
    id: String,
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
        Ok(SqliteStore {
            dir,
            run: record.row,
            id: record.id.clone(),
            writer_identity: record.writer.clone(),
            reader: conn,
            paths: FxHashMap::default(),
            queue,
            writer,
            sync: mode == Mode::Sync,
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

    /// The chunks a query selects, each checked (checksum, and agreement
    /// with its row). `sql` selects `chunk, first_step, last_step, count,
    /// data` of the field `row`.
    fn chunks(
        &self,
        row: i64,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<codec::Chunk>, StorageError> {
        let mut stmt = self
            .reader
            .prepare_cached(sql)
            .map_err(|e| sql_error("cannot read series points", e))?;
        let rows = stmt
            .query_map(args, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, f64>(1)?,
                    r.get::<_, f64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| sql_error("cannot read series points", e))?;
        rows.into_iter()
            .map(|(chunk, first, last, count, data)| {
                codec::decode(&data, row)
                    .and_then(|decoded| {
                        codec::check_row(&decoded, first, last, count).map(|()| decoded)
                    })
                    .map_err(|damage| self.damaged(row, chunk, &damage))
            })
            .collect()
    }

    /// The error for a damaged chunk: which run, path and chunk, and why.
    fn damaged(&self, row: i64, chunk: i64, damage: &codec::Damage) -> StorageError {
        let path = self
            .paths
            .values()
            .find(|p| field_row(&self.reader, self.run, p).ok().flatten() == Some(row))
            .map_or_else(|| format!("field row {row}"), |p| format!("`{p}`"));
        StorageError::new(format!(
            "the stored points of {path} in run {} are damaged (chunk {chunk}: {damage}); \
             `hippocamp check` lists every damaged part of the store in {}",
            self.id,
            self.dir.display()
        ))
    }

    fn read_blob(&self, sha: &str) -> Result<Arc<[u8]>, StorageError> {
        // The name comes from a row: never let a corrupt one point outside
        // the store's files.
        if !is_sha256_hex(sha) {
            return Err(StorageError::new(format!(
                "a file of the store in {} is corrupt: {sha:?} is not a SHA-256",
                self.dir.display()
            )));
        }
        let path = blob_path(&self.dir, sha);
        std::fs::read(&path).map(Arc::from).map_err(|e| {
            StorageError::with_source(format!("cannot read file {}", path.display()), e)
        })
    }
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
        let flushed = self.flush();
        let Some(queue) = self.queue.take() else {
            flushed?;
            return Ok(Ending::Unchanged);
        };
        queue.close();
        let last = queue.flush();
        let joined = match self.writer.take().map(JoinHandle::join) {
            Some(Err(_)) => Err(StorageError::new("the run's background writer panicked")),
            _ => Ok(()),
        };
        // The run ends even when data could not be stored: the errors
        // below say so, and the run shows how its writers ended.
        let ending = match self.writer_identity.take() {
            Some(identity) => identity.finish(&mut self.reader, self.run),
            None => Ok(Ending::Unchanged),
        };
        flushed?;
        last?;
        joined?;
        Ok(ending?)
    }

    fn read_series(&mut self, field: FieldId) -> Result<Vec<Point>, Error> {
        self.flush()?;
        let row = self.row(field)?;
        let chunks = self.chunks(
            row,
            "SELECT chunk, first_step, last_step, count, data FROM chunks WHERE field = ?1 ORDER BY first_step",
            [row],
        )?;
        Ok(chunks.into_iter().flat_map(points).collect())
    }

    fn read_last(&mut self, field: FieldId) -> Result<Option<Point>, Error> {
        self.flush()?;
        let row = self.row(field)?;
        let chunks = self.chunks(
            row,
            "SELECT chunk, first_step, last_step, count, data FROM chunks WHERE field = ?1 ORDER BY last_step DESC LIMIT 1",
            [row],
        )?;
        Ok(chunks.into_iter().flat_map(points).last())
    }

    fn read_file(&mut self, field: FieldId, step: Option<f64>) -> Result<Arc<[u8]>, Error> {
        self.flush()?;
        let row = self.row(field)?;
        let sha = match step {
            None => self
                .reader
                .query_row("SELECT file_sha FROM fields WHERE field = ?1", [row], |r| {
                    r.get::<_, Option<String>>(0)
                })
                .map_err(|e| sql_error("cannot read a file field", e))?,
            Some(step) => {
                let chunks = self.chunks(
                    row,
                    "SELECT chunk, first_step, last_step, count, data FROM chunks WHERE field = ?1 AND first_step <= ?2 AND last_step >= ?2",
                    params![row, step],
                )?;
                chunks.into_iter().find_map(|chunk| {
                    let Points::File(files) = chunk.values else {
                        return None;
                    };
                    let at = chunk.steps.iter().position(|&s| s == step)?;
                    files.get(at).map(|f| writer::hex(&f.sha256))
                })
            }
        };
        let sha = sha.ok_or_else(|| StorageError::new("no file is stored there"))?;
        Ok(self.read_blob(&sha)?)
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
                    self.id,
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
