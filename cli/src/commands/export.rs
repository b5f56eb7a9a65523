//! `hippocamp export`: whole runs, losslessly, as JSON, CSV or Parquet
//! files in a folder. The store is opened read-only, and each run is read
//! in one snapshot, so a run being logged can be exported too. The files
//! appear in the folder only once all are written, so an error leaves it
//! as it was; files of an earlier export there are overwritten by name
//! (file contents already there are not copied again).
//!
//! ```text
//! DIR/MNIST-3.json            --format json: the run (see `runfile`),
//! DIR/MNIST-3.files/<sha256>  and its file contents
//! DIR/MNIST-3/…               --format csv|parquet: see `tables`
//! ```

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use hippocamp_core::sqlite::{DumpSink, FieldData, FieldDump, FileRef, Repository, RunHeader};
use hippocamp_core::FieldType;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};

use crate::args::{ExportArgs, ExportFormat};
use crate::runfile::{file_stem, RunWriter};
use crate::store::Context;
use crate::{tables, CliError};

/// Runs `hippocamp export`.
pub fn run(ctx: &Context, args: ExportArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let repo = ctx.repository()?;
    let ids: Vec<String> = if args.all {
        repo.runs()?.into_iter().map(|r| r.id).collect()
    } else {
        // Every id is checked before anything is written.
        ctx.check_runs(&args.runs)?;
        let mut seen = HashSet::new();
        args.runs
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .cloned()
            .collect()
    };
    let created = !args.output.exists();
    std::fs::create_dir_all(&args.output)
        .map_err(|e| CliError::new(format!("cannot create {}: {e}", args.output.display())))?;
    // Everything is written into a folder of its own inside DIR, and moved
    // into place once every run is written: an error leaves DIR as it was,
    // and an earlier export is replaced only by a complete one.
    let staging = args
        .output
        .join(format!(".hippocamp-export-{}", std::process::id()));
    // One left by an export that was killed (with this process id) goes.
    let _ = std::fs::remove_dir_all(&staging);
    let result = std::fs::create_dir(&staging)
        .map_err(|e| CliError::new(format!("cannot create {}: {e}", staging.display())))
        .and_then(|()| write_runs(&repo, &ids, args.format, &staging, &args.output))
        .and_then(|written| {
            move_into(&staging, &args.output).map_err(|e| {
                CliError::new(format!(
                    "cannot move the export into {}: {e}",
                    args.output.display()
                ))
            })?;
            Ok(written)
        });
    let written = match result {
        Ok(written) => written,
        Err(err) => {
            let _ = std::fs::remove_dir_all(&staging);
            if created {
                // Only if empty: it is ours, and nothing else is in it.
                let _ = std::fs::remove_dir(&args.output);
            }
            return Err(err);
        }
    };
    for (id, name) in &written {
        writeln!(out, "{id} -> {}", args.output.join(name).display())?;
    }
    writeln!(
        out,
        "exported {} run{} to {}",
        written.len(),
        if written.len() == 1 { "" } else { "s" },
        args.output.display()
    )?;
    Ok(())
}

/// Writes the runs `ids` into `staging` and returns, per run, the name of
/// what it wrote (`MNIST-3.json`, or the folder `MNIST-3`). File contents
/// already in `output` (from an earlier export) are not copied again.
fn write_runs(
    repo: &Repository,
    ids: &[String],
    format: ExportFormat,
    staging: &Path,
    output: &Path,
) -> Result<Vec<(String, String)>, CliError> {
    let bar = progress_bar(ids.len() as u64);
    let mut stems = HashSet::new();
    let mut written = Vec::new();
    for id in ids {
        bar.set_message(id.clone());
        // Two ids that make one file name (`a/b`, `a_b`) get distinct ones.
        let base = file_stem(id);
        let mut stem = base.clone();
        let mut n = 1;
        while !stems.insert(stem.to_ascii_lowercase()) {
            n += 1;
            stem = format!("{base}~{n}");
        }
        let tick = |done: u64| bar.set_message(format!("{id} ({done} fields)"));
        // Each run is read in one snapshot and written as it is read: a
        // series a chunk at a time, whatever its length.
        let (name, files, files_dir) = match format {
            ExportFormat::Json => {
                let name = format!("{stem}.json");
                let path = staging.join(&name);
                let files = format!("{stem}.files");
                let file = std::fs::File::create(&path)
                    .map_err(|e| CliError::new(format!("cannot create {}: {e}", path.display())))?;
                let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
                let mut sink = Seen::new(RunWriter::new(&mut w, Some(files.as_str())), tick);
                repo.export_run_to(id, &mut sink)?;
                let (writer, refs) = sink.into_parts();
                writer
                    .finish()
                    .and_then(|()| w.flush())
                    .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))?;
                (name, refs, PathBuf::from(files))
            }
            ExportFormat::Csv | ExportFormat::Parquet => {
                let dir = staging.join(&stem);
                let refs = if format == ExportFormat::Csv {
                    let mut sink = Seen::new(tables::CsvSink::new(&dir)?, tick);
                    repo.export_run_to(id, &mut sink)?;
                    let (sink, refs) = sink.into_parts();
                    sink.finish()?;
                    refs
                } else {
                    let mut sink = Seen::new(tables::ParquetSink::new(&dir)?, tick);
                    repo.export_run_to(id, &mut sink)?;
                    let (sink, refs) = sink.into_parts();
                    sink.finish()?;
                    refs
                };
                (stem.clone(), refs, Path::new(&stem).join("files"))
            }
        };
        if !files.is_empty() {
            copy_files(
                repo,
                id,
                &files,
                &staging.join(&files_dir),
                &output.join(&files_dir),
            )?;
        }
        written.push((id.clone(), name));
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(written)
}

/// A sink that passes everything on, counting fields and noting each file
/// content the run refers to (once).
struct Seen<S, T> {
    inner: S,
    tick: T,
    fields: u64,
    files: Vec<FileRef>,
    shas: HashSet<String>,
}

impl<S: DumpSink, T: FnMut(u64)> Seen<S, T> {
    fn new(inner: S, tick: T) -> Self {
        Seen {
            inner,
            tick,
            fields: 0,
            files: Vec::new(),
            shas: HashSet::new(),
        }
    }

    fn into_parts(self) -> (S, Vec<FileRef>) {
        (self.inner, self.files)
    }

    fn note(&mut self, file: &FileRef) {
        if self.shas.insert(file.sha256.clone()) {
            self.files.push(file.clone());
        }
    }

    fn done(&mut self) {
        self.fields += 1;
        (self.tick)(self.fields);
    }
}

impl<S: DumpSink, T: FnMut(u64)> DumpSink for Seen<S, T> {
    fn begin(&mut self, header: &RunHeader) -> hippocamp_core::Result<()> {
        self.inner.begin(header)
    }
    fn field(&mut self, field: &FieldDump) -> hippocamp_core::Result<()> {
        if let FieldData::File(file) = &field.data {
            self.note(file);
        }
        self.inner.field(field)?;
        self.done();
        Ok(())
    }
    fn begin_series(&mut self, path: &str, field_type: FieldType) -> hippocamp_core::Result<()> {
        self.inner.begin_series(path, field_type)
    }
    fn points(&mut self, points: &FieldData) -> hippocamp_core::Result<()> {
        if let FieldData::FileSeries(points) = points {
            points.iter().for_each(|p| self.note(&p.value));
        }
        self.inner.points(points)
    }
    fn end_series(&mut self) -> hippocamp_core::Result<()> {
        self.inner.end_series()?;
        self.done();
        Ok(())
    }
}

/// Moves what is in the folder `from` into the folder `to`, replacing
/// files of the same name and merging folders, then removes `from`.
fn move_into(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() && target.is_dir() {
            move_into(&entry.path(), &target)?;
        } else {
            std::fs::rename(entry.path(), &target)?;
        }
    }
    std::fs::remove_dir(from)
}

/// A bar on stderr while it is a terminal; hidden otherwise, so that
/// pipes, logs and tests stay clean.
fn progress_bar(len: u64) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    // Cleared when dropped too, so an error is not printed after a bar.
    let bar =
        ProgressBar::with_draw_target(Some(len), target).with_finish(ProgressFinish::AndClear);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {msg}") {
        bar.set_style(style);
    }
    bar
}

/// Copies the run's file contents into `dir`, each as `<sha256>`, except
/// those that `existing` (the same folder of an earlier export) holds.
/// Each is checked against its SHA-256 on the way: a damaged content in
/// the store fails the export rather than being copied.
fn copy_files(
    repo: &Repository,
    id: &str,
    files: &[FileRef],
    dir: &Path,
    existing: &Path,
) -> Result<(), CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::new(format!("cannot create {}: {e}", dir.display())))?;
    for file in files {
        if std::fs::metadata(existing.join(&file.sha256)).is_ok_and(|m| m.len() == file.size) {
            continue;
        }
        let target = dir.join(&file.sha256);
        let copied = std::fs::File::create(&target)
            .map_err(|e| CliError::new(format!("cannot create {}: {e}", target.display())))
            .and_then(|out| {
                let mut out = std::io::BufWriter::new(out);
                repo.copy_blob(&file.sha256, Some(file.size), &mut out)?;
                out.flush()
                    .map_err(|e| CliError::new(format!("cannot write {}: {e}", target.display())))
            });
        copied.map_err(|e| {
            CliError::new(format!(
                "cannot copy the content of file {:?} of run {id}: {e}",
                file.name
            ))
        })?;
    }
    Ok(())
}
