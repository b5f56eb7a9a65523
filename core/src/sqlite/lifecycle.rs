//! A run's life in the store: created or resumed in one transaction with
//! its `sys/` fields, written by one or more writers (processes resuming
//! one run id, such as data-parallel ranks), each proving it is alive with
//! a heartbeat, finished when the last of them closes, shown as crashed
//! when one of them died.
//!
//! ```text
//! writers: writer (random id), run, hostname, pid, started_ns, heartbeat_ns
//! ```
//!
//! A writer registers in the transaction that starts or resumes the run,
//! refreshes its row every [`HEARTBEAT_INTERVAL`](super::HEARTBEAT_INTERVAL),
//! and deletes it when it closes; the writer that deletes the last row
//! marks the run `finished`. A row whose heartbeat is older than
//! [`CRASH_AFTER`] is a writer that died: the run shows `crashed` until it
//! is resumed (resuming removes such rows). Runs with no writer rows (those
//! imported, or written before writers were tracked) go by the run's own
//! heartbeat, which every writer refreshes too.

use std::hash::BuildHasher;
use std::path::Path;
use std::time::SystemTime;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::writer::encode_atom;
use super::{nanos_to_time, sql_error, time_to_nanos, CRASH_AFTER, HEARTBEAT_INTERVAL};
use crate::error::{Error, StorageError};
use crate::run::Mode;
use crate::store::{Ending, StoredField};
use crate::system::{self, StartSettings, STATE_CRASHED, STATE_FINISHED, STATE_RUNNING};
use crate::value::FieldType;

/// A run as the store records it.
#[derive(Debug, Clone)]
pub(crate) struct RunRecord {
    pub(crate) row: i64,
    pub(crate) id: String,
    pub(crate) project: String,
    /// This process's writer, unless the run was opened read-only.
    pub(crate) writer: Option<WriterIdentity>,
}

/// Who writes: the row this writer keeps alive in `writers`.
#[derive(Debug, Clone)]
pub(crate) struct WriterIdentity {
    pub(crate) id: i64,
    pub(crate) hostname: String,
    pub(crate) pid: u32,
    pub(crate) started_ns: i64,
}

impl WriterIdentity {
    fn new(hostname: &str) -> WriterIdentity {
        let started_ns = time_to_nanos(SystemTime::now());
        let pid = std::process::id();
        // Random per writer (std's hasher keys are random per process and
        // per `RandomState`): ids of writers on several machines never
        // need coordinating.
        let id = std::collections::hash_map::RandomState::new().hash_one((pid, started_ns)) as i64;
        WriterIdentity {
            id,
            hostname: hostname.to_owned(),
            pid,
            started_ns,
        }
    }

    /// Adds (or re-adds) this writer's row with a fresh heartbeat.
    pub(crate) fn register(
        &self,
        conn: &Connection,
        run: i64,
        now_ns: i64,
    ) -> rusqlite::Result<()> {
        conn.prepare_cached(
            "INSERT INTO writers (writer, run, hostname, pid, started_ns, heartbeat_ns)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (writer) DO UPDATE SET heartbeat_ns = excluded.heartbeat_ns",
        )?
        .execute(params![
            self.id,
            run,
            self.hostname,
            self.pid,
            self.started_ns,
            now_ns
        ])?;
        Ok(())
    }

    /// Proves this writer alive, inside the writer's transaction. A row
    /// that another process removed (this writer was paused, e.g. a
    /// stopped process, for longer than [`CRASH_AFTER`], and the run was
    /// resumed meanwhile) is added again, and the run is running again.
    pub(crate) fn heartbeat(&self, tx: &Transaction<'_>, run: i64) -> Result<(), StorageError> {
        let now_ns = time_to_nanos(SystemTime::now());
        let fail = |e| sql_error("cannot record the heartbeat", e);
        tx.prepare_cached("UPDATE runs SET heartbeat_ns = ?1 WHERE run = ?2")
            .and_then(|mut s| s.execute(params![now_ns, run]))
            .map_err(fail)?;
        let refreshed = tx
            .prepare_cached("UPDATE writers SET heartbeat_ns = ?1 WHERE writer = ?2")
            .and_then(|mut s| s.execute(params![now_ns, self.id]))
            .map_err(fail)?;
        if refreshed == 0 {
            self.register(tx, run, now_ns).map_err(fail)?;
            set_state(tx, run, STATE_RUNNING)?;
        }
        self.clear_dead_neighbours(tx, run)
    }

    /// Removes the rows of this run's writers on this machine whose process
    /// is gone (killed by a signal no destructor sees, such as Ctrl-C) and
    /// whose heartbeat is overdue: a run resumed moments after such a death
    /// is not left looking crashed, and its last writer's close finishes
    /// it. Writers elsewhere go by their heartbeat alone.
    fn clear_dead_neighbours(&self, conn: &Connection, run: i64) -> Result<(), StorageError> {
        let fail = |e| sql_error("cannot read the run's writers", e);
        let overdue = time_to_nanos(SystemTime::now())
            .saturating_sub(2 * HEARTBEAT_INTERVAL.as_nanos() as i64);
        let candidates: Vec<(i64, u32)> = conn
            .prepare_cached(
                "SELECT writer, pid FROM writers
                 WHERE run = ?1 AND hostname = ?2 AND writer != ?3 AND heartbeat_ns < ?4",
            )
            .and_then(|mut s| {
                s.query_map(params![run, self.hostname, self.id, overdue], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect()
            })
            .map_err(fail)?;
        for (writer, pid) in candidates {
            if !process_alive(pid) {
                conn.prepare_cached("DELETE FROM writers WHERE writer = ?1")
                    .and_then(|mut s| s.execute([writer]))
                    .map_err(fail)?;
            }
        }
        Ok(())
    }

    /// Ends this writer's part, in its own transaction (when the writer's
    /// last batch could not do it): see [`finish_in`](Self::finish_in).
    pub(crate) fn finish(&self, conn: &mut Connection, run: i64) -> Result<Ending, StorageError> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error("cannot mark the run's end", e))?;
        let ending = self.finish_in(&tx, run)?;
        tx.commit()
            .map_err(|e| sql_error("cannot mark the run's end", e))?;
        Ok(ending)
    }

    /// Ends this writer's part inside `tx` (the writer's last batch):
    /// removes its row and, when no other writer is left, marks the run
    /// finished — in one transaction, so that two writers closing at once
    /// cannot both leave the run running.
    pub(crate) fn finish_in(&self, tx: &Transaction<'_>, run: i64) -> Result<Ending, StorageError> {
        let fail = |e| sql_error("cannot mark the run's end", e);
        tx.execute("DELETE FROM writers WHERE writer = ?1", [self.id])
            .map_err(fail)?;
        self.clear_dead_neighbours(tx, run)?;
        let others: i64 = tx
            .query_row("SELECT count(*) FROM writers WHERE run = ?1", [run], |r| {
                r.get(0)
            })
            .map_err(fail)?;
        tx.execute(
            "UPDATE runs SET heartbeat_ns = ?1 WHERE run = ?2",
            params![time_to_nanos(SystemTime::now()), run],
        )
        .map_err(fail)?;
        if others == 0 {
            set_state(tx, run, STATE_FINISHED)?;
            Ok(Ending::Finished)
        } else {
            Ok(Ending::OthersWriting)
        }
    }
}

/// Sets `sys/state` of `run`, and its checksum.
fn set_state(conn: &Connection, run: i64, state: &str) -> Result<(), StorageError> {
    let row: Option<i64> = conn
        .prepare_cached(
            "UPDATE fields SET text_value = ?1 WHERE run = ?2 AND path = 'sys/state'
             RETURNING field",
        )
        .and_then(|mut s| s.query_row(params![state, run], |r| r.get(0)).optional())
        .map_err(|e| sql_error("cannot set the run's state", e))?;
    match row {
        Some(row) => super::writer::seal_field(conn, row),
        None => Ok(()),
    }
}

/// Finds the run `id`, or creates a run (numbered per project when `id` is
/// `None`), with its `sys/` fields and this process's writer, in one
/// immediate transaction: concurrent starts in several processes get
/// distinct numbers, and a process resuming the id a moment after another
/// created it finds every `sys/` field there.
pub(crate) fn open_or_create_run(
    conn: &mut Connection,
    dir: &Path,
    project: &str,
    id: Option<&str>,
    mode: Mode,
    settings: &StartSettings,
) -> Result<RunRecord, Error> {
    if mode == Mode::ReadOnly {
        // The builder refuses read-only mode without an id.
        let id = id.unwrap_or_default();
        return find(conn, id)?.ok_or_else(|| unknown_run(conn, dir, id));
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_error("cannot start a run", e))?;
    let now = crate::clock::now();
    let now_ns = time_to_nanos(now);
    let writer = WriterIdentity::new(&settings.hostname);
    let mut record = match id.map(|id| find(&tx, id)).transpose()?.flatten() {
        Some(record) => {
            let created: i64 = tx
                .query_row(
                    "SELECT created_ns FROM runs WHERE run = ?1",
                    [record.row],
                    |r| r.get(0),
                )
                .map_err(|e| sql_error("cannot resume the run", e))?;
            // A run whose first writer died before its `sys/` fields were
            // stored (stores written before they were part of the start)
            // gets them now; those it has are kept.
            let defaults = system::new_run_fields(
                &record.id,
                &record.project,
                nanos_to_time(created),
                settings,
            );
            for field in &defaults {
                write_field(&tx, record.row, field, false)?;
            }
            for field in &system::resumed_run_fields(settings) {
                write_field(&tx, record.row, field, true)?;
            }
            // Writers that died are gone once the run is resumed.
            tx.execute(
                "DELETE FROM writers WHERE run = ?1 AND heartbeat_ns < ?2",
                params![
                    record.row,
                    now_ns.saturating_sub(CRASH_AFTER.as_nanos() as i64)
                ],
            )
            .map_err(|e| sql_error("cannot resume the run", e))?;
            // Alive from now on, also to readers that go by the run's own
            // heartbeat.
            tx.execute(
                "UPDATE runs SET heartbeat_ns = ?1 WHERE run = ?2",
                params![now_ns, record.row],
            )
            .map_err(|e| sql_error("cannot resume the run", e))?;
            record
        }
        None => {
            let id = match id {
                Some(id) => {
                    crate::identity::check_run_id(id)?;
                    id.to_owned()
                }
                None => next_run_id(&tx, &crate::run::project_key(project))?,
            };
            // The clock of series points, so no point of the run predates it.
            tx.execute(
                "INSERT INTO runs (id, project, created_ns, heartbeat_ns) VALUES (?1, ?2, ?3, ?3)",
                params![id, project, now_ns],
            )
            .map_err(|e| sql_error("cannot record the run", e))?;
            let row = tx.last_insert_rowid();
            super::codec::seal_run(&tx, row)?;
            for field in &system::new_run_fields(&id, project, now, settings) {
                write_field(&tx, row, field, true)?;
            }
            RunRecord {
                row,
                id,
                project: project.to_owned(),
                writer: None,
            }
        }
    };
    writer
        .register(&tx, record.row, now_ns)
        .map_err(|e| sql_error("cannot register the run's writer", e))?;
    writer.clear_dead_neighbours(&tx, record.row)?;
    tx.commit()
        .map_err(|e| sql_error("cannot start a run", e))?;
    record.writer = Some(writer);
    Ok(record)
}

fn find(conn: &Connection, id: &str) -> Result<Option<RunRecord>, StorageError> {
    let found = conn
        .query_row(
            "SELECT run, id, project, created_ns, crc FROM runs WHERE id = ?1",
            [id],
            |row| {
                let record = RunRecord {
                    row: row.get(0)?,
                    id: row.get(1)?,
                    project: row.get(2)?,
                    writer: None,
                };
                let intact = super::codec::run_intact(
                    record.row,
                    &record.id,
                    &record.project,
                    row.get(3)?,
                    row.get(4)?,
                );
                Ok((record, intact))
            },
        )
        .optional()
        .map_err(|e| sql_error("cannot look the run up", e))?;
    match found {
        Some((record, false)) => Err(StorageError::new(format!(
            "the stored record of run {} is damaged (its checksum does not match); \
             `hippocamp check` lists every damaged part of the store",
            record.id
        ))),
        found => Ok(found.map(|(record, _)| record)),
    }
}

/// The error for an id the store lacks, naming the nearest ids it has.
fn unknown_run(conn: &Connection, dir: &Path, id: &str) -> Error {
    let ids: Result<Vec<String>, _> = conn
        .prepare("SELECT id FROM runs")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect());
    match ids {
        Ok(ids) => Error::RunNotFound {
            id: id.to_owned(),
            store: dir.display().to_string(),
            nearest: crate::nearest::nearest(id, ids.iter().map(String::as_str))
                .into_iter()
                .map(str::to_owned)
                .collect(),
        },
        Err(e) => sql_error("cannot list the store's runs", e).into(),
    }
}

/// Writes a `sys/` field of a run being started: its value (`overwrite`)
/// or only if it has none yet; a StringSet's items are added. A stored
/// field of another type than the system gives it is refused.
fn write_field(
    tx: &Transaction<'_>,
    run: i64,
    field: &StoredField,
    overwrite: bool,
) -> Result<(), Error> {
    let fail = |e| sql_error("cannot write the run's sys/ fields", e);
    let (int_value, text_value) = field.value.as_ref().map_or((None, None), encode_atom);
    let sql = if overwrite {
        "INSERT INTO fields (run, path, type, int_value, text_value) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (run, path) DO UPDATE SET int_value = excluded.int_value,
                                               text_value = excluded.text_value
         WHERE fields.type = excluded.type"
    } else {
        "INSERT INTO fields (run, path, type, int_value, text_value) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (run, path) DO NOTHING"
    };
    let changed = tx
        .prepare_cached(sql)
        .and_then(|mut s| {
            s.execute(params![
                run,
                field.path,
                field.field_type.name(),
                int_value,
                text_value
            ])
        })
        .map_err(fail)?
        > 0;
    let (row, stored_type): (i64, String) = tx
        .prepare_cached("SELECT field, type FROM fields WHERE run = ?1 AND path = ?2")
        .and_then(|mut s| s.query_row(params![run, field.path], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(fail)?;
    let stored_type = FieldType::from_name(&stored_type).ok_or_else(|| {
        StorageError::new(format!(
            "`{}` has an unknown field type {stored_type:?} in the store",
            field.path
        ))
    })?;
    system::check_stored_type(&field.path, stored_type, field.field_type)?;
    let mut added = false;
    for item in &field.items {
        added |= tx
            .prepare_cached("INSERT OR IGNORE INTO set_items (field, item) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![row, item]))
            .map_err(fail)?
            > 0;
    }
    // A row left as it was keeps its checksum (resealing it would hide a
    // damage it has).
    if changed || added {
        super::writer::seal_field(tx, row)?;
    }
    Ok(())
}

/// The project key's next run id, `<KEY>-<n>`, skipping numbers a run
/// already has (one started with `run_id("MNIST-7")`, or imported). Call it
/// inside an immediate transaction, so concurrent starts get distinct ids.
pub(crate) fn next_run_id(tx: &Transaction<'_>, key: &str) -> Result<String, StorageError> {
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

/// The SQL for the heartbeat a run's shown state goes by: its oldest
/// writer's, else (no writer rows) the run's own. `r` is the run's row.
pub(crate) const LIVENESS_SQL: &str =
    "coalesce((SELECT min(heartbeat_ns) FROM writers w WHERE w.run = r.run), r.heartbeat_ns)";

/// `sys/state` as a reader should see it: a run still marked running whose
/// writer (the oldest heartbeat of its writers, see [`LIVENESS_SQL`])
/// stopped proving it is alive has crashed.
pub(crate) fn shown_state(stored: Option<&str>, heartbeat_ns: i64) -> String {
    let stored = stored.unwrap_or(STATE_RUNNING);
    if stored != STATE_RUNNING {
        return stored.to_owned();
    }
    if is_stale(heartbeat_ns) {
        STATE_CRASHED.to_owned()
    } else {
        stored.to_owned()
    }
}

/// Whether a heartbeat is older than [`CRASH_AFTER`].
pub(crate) fn is_stale(heartbeat_ns: i64) -> bool {
    SystemTime::now()
        .duration_since(nanos_to_time(heartbeat_ns))
        .unwrap_or_default()
        > CRASH_AFTER
}

/// Whether process `pid` of this machine still exists. Where that cannot
/// be told (not Linux), every process counts as alive, and its heartbeat
/// alone tells.
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// A writer of a run that is alive (its heartbeat is fresh), if there is
/// one: what `rm` names when it refuses.
pub(crate) fn live_writer(
    conn: &Connection,
    run: i64,
) -> Result<Option<(String, u32, i64)>, StorageError> {
    let newest = conn
        .query_row(
            "SELECT hostname, pid, heartbeat_ns FROM writers WHERE run = ?1
             ORDER BY heartbeat_ns DESC LIMIT 1",
            [run],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(|e| sql_error("cannot read the run's writers", e))?;
    Ok(newest.filter(|(_, _, heartbeat)| !is_stale(*heartbeat)))
}

/// The heartbeat run `run`'s shown state goes by (see [`LIVENESS_SQL`]).
pub(crate) fn liveness(conn: &Connection, run: i64) -> Result<i64, StorageError> {
    conn.query_row(
        &format!("SELECT {LIVENESS_SQL} FROM runs r WHERE run = ?1"),
        [run],
        |r| r.get(0),
    )
    .map_err(|e| sql_error("cannot read the run's heartbeat", e))
}
