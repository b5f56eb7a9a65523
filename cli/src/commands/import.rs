//! `hippocamp import`: reads JSON exports back into the store as the same
//! runs (fields, values, series points, timestamps, tags, files), keeping
//! their ids unless the store has them already; then it says so and
//! imports the run under the next id of its project.
//!
//! Every export is read and checked before anything is written (the store
//! is created only then, if missing): its fields, and the SHA-256 and size
//! of every file content the store lacks. Each run is then written in one
//! transaction. Exports are read as streams, a series' points a part at a
//! time as they are written into the store: memory stays bounded whatever
//! their size (each is read three times: its header, the check, the
//! import).

use std::io::Write;
use std::path::{Path, PathBuf};

use hippocamp_core::sqlite::{
    DumpCheck, DumpSink, FieldData, FieldDump, FileRef, Repository, RunHeader, DATABASE_FILE,
};
use hippocamp_core::FieldType;

use crate::args::ImportArgs;
use crate::runfile::{read_run_to, ReadError};
use crate::store::Context;
use crate::CliError;

/// A run export, read through and checked, with where its file contents
/// are.
struct Pending {
    source: PathBuf,
    header: RunHeader,
    files_dir: Option<PathBuf>,
}

/// Runs `hippocamp import`.
pub fn run(ctx: &Context, args: ImportArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let sources = json_files(&args.path)?;
    // Contents already in the store need not be in the export. The store
    // is opened for writing (and so created) only once all is checked.
    let existing = if ctx.dir().join(DATABASE_FILE).exists() {
        Some(ctx.repository()?)
    } else {
        None
    };
    // Every export is read and checked before anything is written; each is
    // read as a stream (a series a part at a time), never whole.
    let mut checked = Vec::new();
    for source in &sources {
        checked.push(check(existing.as_ref(), source)?);
    }
    drop(existing);
    let mut repo = Repository::open_for_writing(ctx.dir())?;
    for run in &checked {
        let in_source = |e: CliError| CliError::new(format!("{}: {e}", run.source.display()));
        let mut import = repo
            .import_run_from(&run.header, run.files_dir.as_deref())
            .map_err(|e| in_source(e.into()))?;
        read_run_to(open(&run.source)?, &mut import).map_err(|e| in_source(read_error(e)))?;
        let id = import.commit().map_err(|e| in_source(e.into()))?;
        if id == run.header.id {
            writeln!(out, "imported {id}")?;
        } else {
            writeln!(
                out,
                "imported {} as {id} (the store has a run {} already)",
                run.header.id, run.header.id
            )?;
        }
    }
    Ok(())
}

fn open(source: &Path) -> Result<std::fs::File, CliError> {
    std::fs::File::open(source)
        .map_err(|e| CliError::new(format!("cannot read {}: {e}", source.display())))
}

fn read_error(err: ReadError) -> CliError {
    match err {
        ReadError::Export(text) => CliError::new(text),
        ReadError::Sink(err) => err.into(),
    }
}

/// Reads an export through twice, a part at a time: its header first (the
/// format, the id), then every field, checked as the store would; then
/// checks every file content the store lacks.
fn check(store: Option<&Repository>, source: &Path) -> Result<Pending, CliError> {
    let in_source = |e: CliError| CliError::new(format!("{}: {e}", source.display()));
    let exported = read_run_to(open(source)?, &mut Ignore).map_err(|e| in_source(read_error(e)))?;
    let mut checker = DumpCheck::new(&exported.header.id).map_err(|e| in_source(e.into()))?;
    read_run_to(open(source)?, &mut checker).map_err(|e| in_source(read_error(e)))?;
    let files = checker.finish().map_err(|e| in_source(e.into()))?;
    let folder = source.parent().unwrap_or(Path::new("."));
    let files_dir = match &exported.files {
        Some(name) => {
            let dir = Path::new(name);
            // The folder is the export's own, beside the JSON file.
            if dir.is_absolute()
                || dir
                    .components()
                    .any(|c| !matches!(c, std::path::Component::Normal(_)))
            {
                return Err(CliError::new(format!(
                    "{}: \"files\" must name a folder beside it, not {name:?}",
                    source.display()
                )));
            }
            Some(folder.join(dir))
        }
        None => None,
    };
    let run = Pending {
        source: source.to_path_buf(),
        header: exported.header,
        files_dir,
    };
    check_files(store, &run, &files)?;
    Ok(run)
}

/// A sink that takes everything and keeps nothing: reading the header.
struct Ignore;

impl DumpSink for Ignore {
    fn field(&mut self, _: &FieldDump) -> hippocamp_core::Result<()> {
        Ok(())
    }
    fn begin_series(&mut self, _: &str, _: FieldType) -> hippocamp_core::Result<()> {
        Ok(())
    }
    fn points(&mut self, _: &FieldData) -> hippocamp_core::Result<()> {
        Ok(())
    }
    fn end_series(&mut self) -> hippocamp_core::Result<()> {
        Ok(())
    }
}

/// Every file content of the run is in the store, or in the export and
/// whole (its SHA-256 and size are the export's).
fn check_files(
    store: Option<&Repository>,
    run: &Pending,
    files: &[FileRef],
) -> Result<(), CliError> {
    for file in files {
        let in_store = store
            .and_then(|s| s.blob_path(&file.sha256))
            .is_some_and(|b| b.is_file());
        if in_store {
            continue;
        }
        let in_export = run
            .files_dir
            .as_ref()
            .map(|d| d.join(&file.sha256))
            .filter(|source| source.is_file());
        let Some(source) = in_export else {
            return Err(CliError::new(format!(
                "{}: the content of file {:?} (sha256 {}) is missing{}",
                run.source.display(),
                file.name,
                file.sha256,
                run.files_dir
                    .as_ref()
                    .map(|d| format!(" from {}", d.display()))
                    .unwrap_or_default()
            )));
        };
        file.check_content(&source).map_err(|e| {
            CliError::new(format!("{}: {}", run.source.display(), CliError::from(e)))
        })?;
    }
    Ok(())
}

/// `path` itself, or the `*.json` files in the folder `path`, sorted.
fn json_files(path: &Path) -> Result<Vec<PathBuf>, CliError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| CliError::new(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let entries = std::fs::read_dir(path)
        .map_err(|e| CliError::new(format!("cannot read {}: {e}", path.display())))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| CliError::new(format!("cannot read {}: {e}", path.display())))?;
        let file = entry.path();
        if file.extension().is_some_and(|e| e == "json") && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(CliError::new(format!(
            "no JSON exports (*.json) in {}",
            path.display()
        )));
    }
    Ok(files)
}
