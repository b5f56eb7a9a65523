//! Checking a whole store: what `hippocamp check` runs.
//!
//! SQLite's own `integrity_check` finds a broken database file, but not a
//! changed byte inside a value. So the check also decodes every series
//! chunk (its CRC-32C, its agreement with its row, its points' kind and
//! order within the series), reads every field row (a known type, a value
//! for each atom, a valid content address for each file) and hashes every
//! file content the store holds against its name. It reads the store in
//! one snapshot, one chunk and one file at a time, so its memory stays
//! small whatever the store's size, and it never blocks a run being logged.

use std::collections::BTreeSet;

use rusqlite::Connection;

use super::codec::{self, Points};
use super::writer::{self, hex, is_sha256_hex};
use super::{sql_error, Repository};
use crate::error::{Error, StorageError};
use crate::value::FieldType;

/// One damaged part of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedPart {
    /// The run it belongs to, when it belongs to one.
    pub run: Option<String>,
    /// The field's path in that run, when it belongs to one.
    pub path: Option<String>,
    /// Which part: `chunk 17`, `file ab12…`, `database`.
    pub part: String,
    /// What is wrong with it.
    pub detail: String,
}

impl std::fmt::Display for DamagedPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(run) = &self.run {
            write!(f, "run {run}: ")?;
        }
        if let Some(path) = &self.path {
            write!(f, "`{path}`: ")?;
        }
        write!(f, "{}: {}", self.part, self.detail)
    }
}

/// What [`Repository::check`] looked at and what it found damaged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Runs in the store.
    pub runs: u64,
    /// Field rows read.
    pub fields: u64,
    /// Series chunks decoded.
    pub chunks: u64,
    /// Series points in them.
    pub points: u64,
    /// File contents hashed.
    pub files: u64,
    /// Every damaged part found, in the order found.
    pub damaged: Vec<DamagedPart>,
}

impl CheckReport {
    /// Whether nothing is damaged.
    pub fn is_intact(&self) -> bool {
        self.damaged.is_empty()
    }
}

impl Repository {
    /// Checks the whole store and reports every damaged part: the
    /// database file (SQLite's `integrity_check` and foreign keys), each
    /// field row, each series chunk, each file content. A damaged part is
    /// in the report, not an error; an error is a store that could not be
    /// read at all.
    ///
    /// ```
    /// use hippocamp_core::{sqlite::Repository, Run};
    /// let dir = tempfile::tempdir().unwrap();
    /// let run = Run::builder().dir(dir.path()).start()?;
    /// run.at("loss").extend([0.5, 0.25])?;
    /// run.at("model").upload_bytes(b"w".to_vec(), "w.bin")?;
    /// run.close()?;
    /// let report = Repository::open(dir.path())?.check()?;
    /// assert!(report.is_intact());
    /// assert_eq!((report.chunks, report.points, report.files), (1, 2, 1));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn check(&self) -> Result<CheckReport, Error> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| sql_error("cannot read the store", e))?;
        let mut report = CheckReport::default();
        check_database(&tx, &mut report)?;
        let mut referenced = BTreeSet::new();
        check_fields(&tx, &mut report, &mut referenced)?;
        check_chunks(&tx, &mut report, &mut referenced)?;
        self.check_files(&referenced, &mut report)?;
        Ok(report)
        // The read transaction ends (rolls back) when `tx` drops.
    }

    fn check_files(
        &self,
        referenced: &BTreeSet<(String, u64)>,
        report: &mut CheckReport,
    ) -> Result<(), Error> {
        let mut present = BTreeSet::new();
        for (sha, size) in referenced {
            present.insert(sha.clone());
            report.files += 1;
            let verified = match self.verify_blob(sha) {
                Ok(found) if found != *size => {
                    Err(format!("{found} bytes where {size} were stored"))
                }
                Ok(_) => Ok(()),
                Err(fault) => Err(fault.to_string()),
            };
            if let Err(problem) = verified {
                report.damaged.push(DamagedPart {
                    run: None,
                    path: None,
                    part: format!("file {sha}"),
                    detail: problem,
                });
            }
        }
        // Contents no run refers to (left for `gc`): damaged ones too.
        for blob in super::admin::list_blobs(&self.dir)? {
            if present.contains(&blob.sha256) {
                continue;
            }
            report.files += 1;
            if let Err(fault) = self.verify_blob(&blob.sha256) {
                let problem = fault.to_string();
                report.damaged.push(DamagedPart {
                    run: None,
                    path: None,
                    part: format!("file {} (no run refers to it)", blob.sha256),
                    detail: problem,
                });
            }
        }
        Ok(())
    }
}

fn fail(e: rusqlite::Error) -> StorageError {
    sql_error("cannot check the store", e)
}

fn check_database(conn: &Connection, report: &mut CheckReport) -> Result<(), StorageError> {
    let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(fail)?;
    let lines: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(fail)?;
    for line in lines.into_iter().filter(|l| l != "ok") {
        report.damaged.push(DamagedPart {
            run: None,
            path: None,
            part: "database".into(),
            detail: line,
        });
    }
    let orphans: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .map_err(fail)?;
    if orphans > 0 {
        report.damaged.push(DamagedPart {
            run: None,
            path: None,
            part: "database".into(),
            detail: format!("{orphans} rows refer to a run or field that does not exist"),
        });
    }
    let mut stmt = conn
        .prepare("SELECT run, id, project, created_ns, crc FROM runs ORDER BY run")
        .map_err(fail)?;
    let mut rows = stmt.query([]).map_err(fail)?;
    while let Some(row) = rows.next().map_err(fail)? {
        report.runs += 1;
        let id: String = row.get(1).map_err(fail)?;
        let crc: Option<i64> = row.get(4).map_err(fail)?;
        let intact = codec::run_intact(
            row.get(0).map_err(fail)?,
            &id,
            row.get_ref(2).and_then(|v| Ok(v.as_str()?)).map_err(fail)?,
            row.get(3).map_err(fail)?,
            crc,
        );
        if crc.is_none() {
            report.damaged.push(DamagedPart {
                run: Some(id.clone()),
                path: None,
                part: "run record".into(),
                detail: "no checksum: its row was changed by something other than hippocamp".into(),
            });
        }
        if !intact {
            report.damaged.push(DamagedPart {
                run: Some(id),
                path: None,
                part: "run record".into(),
                detail: "checksum mismatch: its id, project or creation time changed after \
                         it was written"
                    .into(),
            });
        }
    }
    Ok(())
}

fn check_fields(
    conn: &Connection,
    report: &mut CheckReport,
    referenced: &mut BTreeSet<(String, u64)>,
) -> Result<(), StorageError> {
    let mut stmt = conn
        .prepare(
            "SELECT r.id, f.path, f.type, f.int_value, f.text_value, f.file_sha, f.file_size,
                    f.run, f.crc, f.field
             FROM fields f JOIN runs r USING (run) ORDER BY f.field",
        )
        .map_err(fail)?;
    let mut rows = stmt.query([]).map_err(fail)?;
    while let Some(row) = rows.next().map_err(fail)? {
        report.fields += 1;
        let run: String = row.get(0).map_err(fail)?;
        let path: String = row.get(1).map_err(fail)?;
        let type_name: String = row.get(2).map_err(fail)?;
        let int_value: Option<i64> = row.get(3).map_err(fail)?;
        let text_value: Option<String> = row.get(4).map_err(fail)?;
        let file_sha: Option<String> = row.get(5).map_err(fail)?;
        let file_size: Option<i64> = row.get(6).map_err(fail)?;
        let crc: Option<i64> = row.get(8).map_err(fail)?;
        let items = if type_name == FieldType::StringSet.name() {
            writer::set_items(conn, row.get(9).map_err(fail)?).map_err(fail)?
        } else {
            Vec::new()
        };
        let intact = writer::field_intact(
            row.get(7).map_err(fail)?,
            &writer::FieldRow {
                path: &path,
                field_type: &type_name,
                int_value,
                text_value: text_value.as_deref(),
                file_sha: file_sha.as_deref(),
                file_size,
                crc,
            },
            &items,
        );
        let mut damaged = |detail: String| {
            report.damaged.push(DamagedPart {
                run: Some(run.clone()),
                path: Some(path.clone()),
                part: "field".into(),
                detail,
            })
        };
        if !intact {
            damaged(
                "checksum mismatch: its path, type or value changed after it was written".into(),
            );
            continue;
        }
        if hippocamp_path::validate(&path).is_err() {
            damaged(format!("{path:?} is not a path"));
        }
        let Some(field_type) = FieldType::from_name(&type_name) else {
            damaged(format!("unknown field type {type_name:?}"));
            continue;
        };
        let has_value = match field_type {
            FieldType::String => text_value.is_some(),
            t if t.is_atom() => int_value.is_some(),
            _ => true,
        };
        // An atom created whose first write failed has neither: it is left
        // out when read, not damage.
        if !has_value && (int_value.is_some() || text_value.is_some()) {
            damaged(format!("a {field_type} without its value"));
        }
        if field_type == FieldType::File {
            match (file_sha, file_size) {
                (Some(sha), Some(size)) if is_sha256_hex(&sha) && size >= 0 => {
                    referenced.insert((sha, size as u64));
                }
                (None, None) => {}
                (sha, size) => damaged(format!(
                    "a File with the content address {sha:?} and size {size:?}"
                )),
            }
        }
    }
    Ok(())
}

fn check_chunks(
    conn: &Connection,
    report: &mut CheckReport,
    referenced: &mut BTreeSet<(String, u64)>,
) -> Result<(), StorageError> {
    let mut stmt = conn
        .prepare(
            "SELECT c.chunk, c.field, c.first_step, c.last_step, c.count, c.data,
                    f.path, f.type, r.id, c.summary
             FROM chunks c JOIN fields f USING (field) JOIN runs r USING (run)
             ORDER BY c.field, c.last_step",
        )
        .map_err(fail)?;
    let mut rows = stmt.query([]).map_err(fail)?;
    // The field and last step of the chunk before, to check the order.
    let mut previous: Option<(i64, f64)> = None;
    while let Some(row) = rows.next().map_err(fail)? {
        report.chunks += 1;
        let chunk: i64 = row.get(0).map_err(fail)?;
        let field: i64 = row.get(1).map_err(fail)?;
        let first: f64 = row.get(2).map_err(fail)?;
        let last: f64 = row.get(3).map_err(fail)?;
        let count: i64 = row.get(4).map_err(fail)?;
        let data: Vec<u8> = row.get(5).map_err(fail)?;
        let path: String = row.get(6).map_err(fail)?;
        let type_name: String = row.get(7).map_err(fail)?;
        let run: String = row.get(8).map_err(fail)?;
        let summary: Option<Vec<u8>> = row.get(9).map_err(fail)?;
        let mut damaged = |detail: String| {
            report.damaged.push(DamagedPart {
                run: Some(run.clone()),
                path: Some(path.clone()),
                part: format!("chunk {chunk}"),
                detail,
            })
        };
        if let Some((before, before_last)) = previous.filter(|(f, _)| *f == field) {
            if first <= before_last {
                damaged(format!(
                    "its steps from {first} do not follow the chunk before (to {before_last}) \
                     of field row {before}"
                ));
            }
        }
        previous = Some((field, last));
        let decoded = match codec::decode(&data, field)
            .and_then(|c| codec::check_row(&c, first, last, count).map(|()| c))
        {
            Ok(decoded) => decoded,
            Err(damage) => {
                damaged(damage.to_string());
                continue;
            }
        };
        report.points += decoded.steps.len() as u64;
        let kind_matches = matches!(
            (FieldType::from_name(&type_name), &decoded.values),
            (Some(FieldType::FloatSeries), Points::Float(_))
                | (Some(FieldType::StringSeries), Points::String(_))
                | (Some(FieldType::FileSeries), Points::File(_))
        );
        if !kind_matches {
            damaged(format!(
                "points of another kind than its field's type, {type_name}"
            ));
        }
        // Its summary (what wide windows of the series are drawn from)
        // must say what its points say.
        let expected = codec::summarize(&decoded);
        match (&summary, &expected) {
            (None, None) => {}
            // Compared as bytes: NaN values compare by their bits.
            (Some(bytes), Some(blocks)) if *bytes == codec::encode_summary(blocks, field) => {}
            (Some(bytes), Some(_)) => match codec::decode_summary(bytes, field) {
                Ok(_) => damaged("its summary does not match its points".into()),
                Err(damage) => damaged(format!("its summary: {damage}")),
            },
            (None, Some(_)) => damaged("a chunk of floats without its summary".into()),
            (Some(_), None) => damaged("a summary beside points that are not floats".into()),
        }
        if let Points::File(files) = decoded.values {
            referenced.extend(files.iter().map(|f| (hex(&f.sha256), f.size)));
        }
    }
    Ok(())
}
