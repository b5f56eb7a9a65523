//! `hippocamp import`: reads JSON exports back into the store as the same
//! runs (fields, values, series points, timestamps, tags, files), keeping
//! their ids unless the store has them already; then it says so and
//! imports the run under the next id of its project.
//!
//! Every export is read and checked before anything is written (the store
//! is created only then, if missing): its fields, and the SHA-256 and size
//! of every file content the store lacks. Each run is then written in one
//! transaction.

use std::io::Write;
use std::path::{Path, PathBuf};

use hippocamp_core::sqlite::{Repository, RunDump, DATABASE_FILE};

use crate::args::ImportArgs;
use crate::runfile::read_run;
use crate::store::Context;
use crate::CliError;

/// A run read from an export, with where its file contents are.
struct Pending {
    source: PathBuf,
    dump: RunDump,
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
    // Every export is read and checked before anything is written. With
    // several, each is read again when imported rather than all being
    // kept in memory at once.
    let mut kept = Vec::new();
    for source in &sources {
        let run = load(source)?;
        check_files(existing.as_ref(), &run)?;
        if sources.len() == 1 {
            kept.push(run);
        }
    }
    drop(existing);
    let mut repo = Repository::open_for_writing(ctx.dir())?;
    let mut kept = kept.into_iter();
    for source in &sources {
        let run = match kept.next() {
            Some(run) => run,
            None => load(source)?,
        };
        let id = repo
            .import_run(&run.dump, run.files_dir.as_deref())
            .map_err(|e| CliError::new(format!("{}: {}", source.display(), CliError::from(e))))?;
        if id == run.dump.id {
            writeln!(out, "imported {id}")?;
        } else {
            writeln!(
                out,
                "imported {} as {id} (the store has a run {} already)",
                run.dump.id, run.dump.id
            )?;
        }
    }
    Ok(())
}

/// Reads and checks one export.
fn load(source: &Path) -> Result<Pending, CliError> {
    let file = std::fs::File::open(source)
        .map_err(|e| CliError::new(format!("cannot read {}: {e}", source.display())))?;
    let exported =
        read_run(file).map_err(|e| CliError::new(format!("{}: {e}", source.display())))?;
    exported
        .dump
        .check()
        .map_err(|e| CliError::new(format!("{}: {}", source.display(), CliError::from(e))))?;
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
    Ok(Pending {
        source: source.to_path_buf(),
        dump: exported.dump,
        files_dir,
    })
}

/// Every file content of the run is in the store, or in the export and
/// whole (its SHA-256 and size are the export's).
fn check_files(store: Option<&Repository>, run: &Pending) -> Result<(), CliError> {
    for file in run.dump.files() {
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
