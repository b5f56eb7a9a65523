//! The runs table from the embedded store: the runs listing and the
//! query's fields of every run, read with a few set-wide statements (one
//! per path, not one per run), each row checked against its checksum; a
//! series' last value read from its last chunk's summary, not its points.

use std::collections::{BTreeSet, HashMap, HashSet};

use rusqlite::Connection;

use super::codec::{self, Points};
use super::writer::{self, FieldRow};
use super::{lifecycle, nanos_to_time, shown_state, sql_error, Repository, RunInfo};
use crate::error::{Error, StorageError};
use crate::table::{MissingPath, RunRow, RunsQuery, RunsTable};
use crate::value::{FieldType, FileInfo, Value};

fn fail(e: rusqlite::Error) -> StorageError {
    sql_error("cannot read the runs table", e)
}

/// A series' last chunk row: its number, first and last step, count and
/// summary.
type LastChunk = (i64, f64, f64, i64, Option<Vec<u8>>);

/// A field row as read for the table.
struct Stored {
    run: i64,
    field: i64,
    path: String,
    field_type: String,
    int_value: Option<i64>,
    text_value: Option<String>,
    file_sha: Option<String>,
    file_size: Option<i64>,
    crc: Option<i64>,
}

impl Stored {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Stored> {
        Ok(Stored {
            run: r.get(0)?,
            field: r.get(1)?,
            path: r.get(2)?,
            field_type: r.get(3)?,
            int_value: r.get(4)?,
            text_value: r.get(5)?,
            file_sha: r.get(6)?,
            file_size: r.get(7)?,
            crc: r.get(8)?,
        })
    }

    fn intact(&self, items: &[String]) -> bool {
        writer::field_intact(
            self.run,
            &FieldRow {
                path: &self.path,
                field_type: &self.field_type,
                int_value: self.int_value,
                text_value: self.text_value.as_deref(),
                file_sha: self.file_sha.as_deref(),
                file_size: self.file_size,
                crc: self.crc,
            },
            items,
        )
    }
}

const FIELD_COLUMNS: &str =
    "run, field, path, type, int_value, text_value, file_sha, file_size, crc";

/// The items of every StringSet at `path`, by field row.
fn items_at(conn: &Connection, path: &str) -> Result<HashMap<i64, Vec<String>>, StorageError> {
    let mut items: HashMap<i64, Vec<String>> = HashMap::new();
    let mut stmt = conn
        .prepare_cached(
            "SELECT s.field, s.item FROM set_items s JOIN fields f USING (field)
             WHERE f.path = ?1 ORDER BY s.field, s.item",
        )
        .map_err(fail)?;
    let mut rows = stmt.query([path]).map_err(fail)?;
    while let Some(r) = rows.next().map_err(fail)? {
        items
            .entry(r.get(0).map_err(fail)?)
            .or_default()
            .push(r.get(1).map_err(fail)?);
    }
    Ok(items)
}

impl Repository {
    /// Every run, oldest first, with what its listing shows: read with
    /// three statements whatever the number of runs.
    pub(super) fn list_runs(&self) -> Result<Vec<RunInfo>, Error> {
        Ok(self
            .list_rows()?
            .into_iter()
            .map(|(_, info)| info)
            .collect())
    }

    /// [`list_runs`](Self::list_runs), with each run's row number.
    fn list_rows(&self) -> Result<Vec<(i64, RunInfo)>, Error> {
        let conn = &self.conn;
        let mut rows_of = Vec::new();
        let mut infos = Vec::new();
        let mut by_row: HashMap<i64, usize> = HashMap::new();
        let mut heartbeats = Vec::new();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT r.run, r.id, r.project, r.created_ns, {}, r.crc FROM runs r ORDER BY r.run",
                lifecycle::LIVENESS_SQL
            ))
            .map_err(fail)?;
        let mut rows = stmt.query([]).map_err(fail)?;
        while let Some(r) = rows.next().map_err(fail)? {
            let run: i64 = r.get(0).map_err(fail)?;
            let id: String = r.get(1).map_err(fail)?;
            let project: String = r.get(2).map_err(fail)?;
            let created: i64 = r.get(3).map_err(fail)?;
            let crc: Option<i64> = r.get(5).map_err(fail)?;
            let damage = (!codec::run_intact(run, &id, &project, created, crc))
                .then(|| self.damage(&id, "record"));
            by_row.insert(run, infos.len());
            rows_of.push(run);
            heartbeats.push((r.get::<_, i64>(4).map_err(fail)?, None::<String>));
            infos.push(RunInfo {
                id,
                project,
                name: String::new(),
                state: String::new(),
                failed: false,
                creation_time: nanos_to_time(created),
                tags: Vec::new(),
                damage,
            });
        }
        drop(rows);
        drop(stmt);
        let tags = items_at(conn, "sys/tags")?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {FIELD_COLUMNS} FROM fields
                 WHERE path IN ('sys/name', 'sys/state', 'sys/failed', 'sys/tags')"
            ))
            .map_err(fail)?;
        let mut rows = stmt.query([]).map_err(fail)?;
        while let Some(r) = rows.next().map_err(fail)? {
            let stored = Stored::read(r).map_err(fail)?;
            let Some(&at) = by_row.get(&stored.run) else {
                continue;
            };
            let items = tags.get(&stored.field).cloned().unwrap_or_default();
            if !stored.intact(&items) {
                let damage = self.damage(&infos[at].id, &format!("value of `{}`", stored.path));
                infos[at].damage.get_or_insert(damage);
            }
            let info = &mut infos[at];
            match stored.path.as_str() {
                "sys/name" => info.name = stored.text_value.unwrap_or_default(),
                "sys/state" => heartbeats[at].1 = stored.text_value,
                "sys/failed" => info.failed = stored.int_value.unwrap_or(0) != 0,
                _ => info.tags = items,
            }
        }
        for (info, (heartbeat, state)) in infos.iter_mut().zip(heartbeats) {
            info.state = match info.damage {
                Some(_) => "damaged".to_owned(),
                None => shown_state(state.as_deref(), heartbeat),
            };
        }
        Ok(rows_of.into_iter().zip(infos).collect())
    }

    /// A number that changes whenever another connection commits to the
    /// store (SQLite's `data_version`): a watcher reads the store again
    /// only then.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// hippocamp_core::Run::builder().dir(dir.path()).start()?.close()?;
    /// let repo = hippocamp_core::sqlite::Repository::open(dir.path())?;
    /// let before = repo.data_version()?;
    /// hippocamp_core::Run::builder().dir(dir.path()).start()?.close()?;
    /// assert_ne!(repo.data_version()?, before);
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn data_version(&self) -> Result<i64, Error> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(fail)?)
    }

    /// Every run's id and the state a reader should see (`running`,
    /// `finished`, `crashed` when its writer stopped proving it is alive),
    /// in one statement and without checking checksums: what a watcher
    /// polls to notice new, removed and finished runs. [`Repository::runs`]
    /// is the listing that also finds damage.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// hippocamp_core::Run::builder().dir(dir.path()).run_id("a").start()?.close()?;
    /// let repo = hippocamp_core::sqlite::Repository::open(dir.path())?;
    /// assert_eq!(repo.run_states()?, vec![("a".to_owned(), "finished".to_owned())]);
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn run_states(&self) -> Result<Vec<(String, String)>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT r.id, {}, f.text_value FROM runs r
                 LEFT JOIN fields f ON f.run = r.run AND f.path = 'sys/state'
                 ORDER BY r.run",
                lifecycle::LIVENESS_SQL
            ))
            .map_err(fail)?;
        let rows = stmt
            .query_map([], |r| {
                let id: String = r.get(0)?;
                let heartbeat: i64 = r.get(1)?;
                let stored: Option<String> = r.get(2)?;
                Ok((id, shown_state(stored.as_deref(), heartbeat)))
            })
            .map_err(fail)?;
        Ok(rows.collect::<Result<_, _>>().map_err(fail)?)
    }

    /// A number that changes whenever run `id`'s points or fields do (the
    /// newest chunk of its series and the checksums of its field rows),
    /// `None` for an unknown run: what a page showing the run watches.
    pub fn run_version(&self, id: &str) -> Result<Option<i64>, Error> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row(
                "SELECT (SELECT coalesce(max(c.chunk), 0) FROM chunks c JOIN fields f USING (field)
                         WHERE f.run = r.run)
                        + (SELECT coalesce(sum(crc), 0) + count(*) FROM fields WHERE run = r.run)
                 FROM runs r WHERE r.id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(fail)?)
    }

    fn damage(&self, id: &str, what: &str) -> String {
        format!(
            "the stored {what} of run {id} is damaged (its checksum does not match); \
             `hippocamp check` lists every damaged part of the store in {}",
            self.dir.display()
        )
    }

    /// The runs table a query asks for: the runs it keeps, with the
    /// fields it names, filtered, sorted and paged. The fields are read
    /// with one statement per path across all runs (a series' last value
    /// from its last chunk's summary), so a table of 10,000 runs costs a
    /// few statements, not 10,000 opened runs. A damaged run (see
    /// [`RunInfo::damage`]) is listed without fields.
    ///
    /// ```
    /// use hippocamp_core::{sqlite::Repository, table::{RunsQuery, SortKey}, Run, Value};
    /// let dir = tempfile::tempdir().unwrap();
    /// for lr in [0.1, 0.01, 0.001] {
    ///     let run = Run::builder().project("mnist").dir(dir.path()).start()?;
    ///     run.at("params/lr").assign(lr)?;
    ///     run.at("train/loss").extend([1.0, lr])?;
    ///     run.close()?;
    /// }
    /// let query = RunsQuery {
    ///     filter: Some(hippocamp_core::filter::Expr::parse("params/lr < 0.05").unwrap()),
    ///     columns: vec!["train/loss".into()],
    ///     sort: Some(SortKey::parse("train/loss")?),
    ///     ..RunsQuery::default()
    /// };
    /// let table = Repository::open(dir.path())?.runs_table(&query)?;
    /// assert_eq!(table.total, 2);
    /// assert_eq!(table.rows[0].info.id, "MNIST-3");
    /// assert_eq!(table.rows[0].fields["train/loss"], Value::Float(0.001));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn runs_table(&self, query: &RunsQuery) -> Result<RunsTable, Error> {
        query.check()?;
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| sql_error("cannot read the store", e))?;
        let mut rows: Vec<(i64, RunRow)> = Vec::new();
        for (run, info) in self.list_rows()? {
            if !query.keeps(&info) {
                continue;
            }
            rows.push((
                run,
                RunRow {
                    info,
                    fields: Default::default(),
                },
            ));
        }
        let kept: HashSet<i64> = rows
            .iter()
            .filter(|(_, row)| row.info.damage.is_none())
            .map(|(run, _)| *run)
            .collect();
        let paths = query.paths();
        let mut values: HashMap<(i64, &str), Value> = HashMap::new();
        let mut found: HashSet<&str> = HashSet::new();
        for &path in &paths {
            for (run, value) in self.values_at(&tx, path, &kept)? {
                found.insert(path);
                values.insert((run, path), value);
            }
        }
        let rows: Vec<RunRow> = rows
            .into_iter()
            .map(|(run, mut row)| {
                for &path in &paths {
                    if let Some(value) = values.remove(&(run, path)) {
                        row.fields.insert(path.to_owned(), value);
                    }
                }
                row
            })
            .collect();
        let mut table = query.arrange(rows);
        table.considered = kept.len();
        let missing: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|p| !found.contains(p))
            .collect();
        if !missing.is_empty() && !kept.is_empty() {
            let known = self.paths_of(&tx, &kept)?;
            table.missing = missing
                .into_iter()
                .map(|path| MissingPath {
                    path: path.to_owned(),
                    nearest: crate::nearest::nearest(path, known.iter().map(String::as_str))
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                })
                .collect();
        }
        Ok(table)
    }

    /// Every field path the runs `kept` have.
    fn paths_of(
        &self,
        conn: &Connection,
        kept: &HashSet<i64>,
    ) -> Result<BTreeSet<String>, StorageError> {
        let mut known = BTreeSet::new();
        let mut stmt = conn.prepare("SELECT run, path FROM fields").map_err(fail)?;
        let mut rows = stmt.query([]).map_err(fail)?;
        while let Some(r) = rows.next().map_err(fail)? {
            if kept.contains(&r.get(0).map_err(fail)?) {
                known.insert(r.get(1).map_err(fail)?);
            }
        }
        Ok(known)
    }

    /// The value at `path` of each run in `runs` that has one: an atom's,
    /// a set's items, a file's metadata, a series' last point's value.
    fn values_at(
        &self,
        conn: &Connection,
        path: &str,
        runs: &HashSet<i64>,
    ) -> Result<Vec<(i64, Value)>, Error> {
        let items = items_at(conn, path)?;
        let mut out = Vec::new();
        let mut series = Vec::new();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {FIELD_COLUMNS} FROM fields WHERE path = ?1"
            ))
            .map_err(fail)?;
        let mut rows = stmt.query([path]).map_err(fail)?;
        while let Some(r) = rows.next().map_err(fail)? {
            let stored = Stored::read(r).map_err(fail)?;
            if !runs.contains(&stored.run) {
                continue;
            }
            let set = items
                .get(&stored.field)
                .map(Vec::as_slice)
                .unwrap_or_default();
            if !stored.intact(set) {
                return Err(StorageError::new(format!(
                    "the stored value of `{path}` of run row {} is damaged (its checksum does \
                     not match); `hippocamp check` lists every damaged part of the store in {}",
                    stored.run,
                    self.dir.display()
                ))
                .into());
            }
            let Some(field_type) = FieldType::from_name(&stored.field_type) else {
                continue;
            };
            let value = match field_type {
                FieldType::Float => stored
                    .int_value
                    .map(|v| Value::Float(f64::from_bits(v as u64))),
                FieldType::Int => stored.int_value.map(Value::Int),
                FieldType::Bool => stored.int_value.map(|v| Value::Bool(v != 0)),
                FieldType::Datetime => stored.int_value.map(|v| Value::Datetime(nanos_to_time(v))),
                FieldType::String => stored.text_value.map(Value::String),
                FieldType::StringSet => Some(Value::StringSet(set.iter().cloned().collect())),
                FieldType::File => match (stored.text_value, stored.file_size) {
                    (Some(name), Some(size)) => Some(Value::File(FileInfo {
                        extension: crate::file::extension_of(&name).to_owned(),
                        name,
                        size: size.max(0) as u64,
                    })),
                    _ => None,
                },
                t if t.is_series() => {
                    series.push((stored.run, stored.field));
                    None
                }
                _ => None,
            };
            if let Some(value) = value {
                out.push((stored.run, value));
            }
        }
        drop(rows);
        if series.is_empty() {
            return Ok(out);
        }
        // Every series' last chunk at this path, in one statement.
        let runs_of: HashMap<i64, i64> = series
            .into_iter()
            .map(|(run, field)| (field, run))
            .collect();
        let mut stmt = conn
            .prepare_cached(
                "SELECT c.field, c.chunk, c.first_step, c.last_step, c.count, c.summary
                 FROM fields f JOIN chunks c ON c.field = f.field
                 WHERE f.path = ?1
                   AND c.last_step = (SELECT max(last_step) FROM chunks WHERE field = f.field)",
            )
            .map_err(fail)?;
        let mut rows = stmt.query([path]).map_err(fail)?;
        while let Some(r) = rows.next().map_err(fail)? {
            let field: i64 = r.get(0).map_err(fail)?;
            let Some(&run) = runs_of.get(&field) else {
                continue;
            };
            let last = (
                r.get(1).map_err(fail)?,
                r.get(2).map_err(fail)?,
                r.get(3).map_err(fail)?,
                r.get(4).map_err(fail)?,
                r.get(5).map_err(fail)?,
            );
            if let Some(value) = self.last_value(conn, path, field, last)? {
                out.push((run, value));
            }
        }
        Ok(out)
    }

    /// A series' last value, from its last chunk (`last`): from the
    /// chunk's summary when it has one (a FloatSeries), else its points.
    fn last_value(
        &self,
        conn: &Connection,
        path: &str,
        field: i64,
        last: LastChunk,
    ) -> Result<Option<Value>, Error> {
        let (chunk, first, last, count, summary) = last;
        let damaged = |damage: codec::Damage| -> Error {
            StorageError::new(format!(
                "the stored points of `{path}` are damaged (chunk {chunk}: {damage}); \
                 `hippocamp check` lists every damaged part of the store in {}",
                self.dir.display()
            ))
            .into()
        };
        if let Some(bytes) = summary {
            let blocks = codec::decode_summary(&bytes, field)
                .and_then(|b| codec::check_summary_row(&b, first, last, count).map(|()| b))
                .map_err(damaged)?;
            return Ok(blocks.last().map(|b| Value::Float(b.last)));
        }
        let data: Vec<u8> = conn
            .prepare_cached("SELECT data FROM chunks WHERE chunk = ?1")
            .and_then(|mut s| s.query_row([chunk], |r| r.get(0)))
            .map_err(fail)?;
        let decoded = codec::decode(&data, field)
            .and_then(|c| codec::check_row(&c, first, last, count).map(|()| c))
            .map_err(damaged)?;
        Ok(match decoded.values {
            Points::Float(v) => v.last().map(|&x| Value::Float(x)),
            Points::String(v) => v.into_iter().last().map(Value::String),
            Points::File(v) => v.last().map(|f| Value::File(f.info())),
        })
    }
}
