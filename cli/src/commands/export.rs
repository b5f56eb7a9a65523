//! `hippocamp export`: whole runs, losslessly, as JSON, CSV or Parquet
//! files in a folder. The store is opened read-only, and each run is read
//! in one snapshot, so a run being logged can be exported too.
//!
//! ```text
//! DIR/MNIST-3.json            --format json: the run (see `runfile`),
//! DIR/MNIST-3.files/<sha256>  and its file contents
//! DIR/MNIST-3/…               --format csv|parquet: see `tables`
//! ```

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use hippocamp_core::sqlite::{Repository, RunDump};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::{ExportArgs, ExportFormat};
use crate::runfile::{file_stem, write_run};
use crate::store::Context;
use crate::{tables, CliError};

/// Runs `hippocamp export`.
pub fn run(ctx: &Context, args: ExportArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let repo = ctx.repository()?;
    let ids: Vec<String> = if args.all {
        repo.runs()?.into_iter().map(|r| r.id).collect()
    } else {
        // Every id is checked before anything is written.
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        for id in &args.runs {
            ctx.run_info(id)?;
            if seen.insert(id.as_str()) {
                ids.push(id.clone());
            }
        }
        ids
    };
    std::fs::create_dir_all(&args.output)
        .map_err(|e| CliError::new(format!("cannot create {}: {e}", args.output.display())))?;
    let bar = progress_bar(ids.len() as u64);
    let mut stems = HashSet::new();
    let mut written = Vec::new();
    for id in &ids {
        bar.set_message(id.clone());
        let dump = repo.export_run(id)?;
        // Two ids that make one file name (`a/b`, `a_b`) get distinct ones.
        let base = file_stem(id);
        let mut stem = base.clone();
        let mut n = 1;
        while !stems.insert(stem.to_ascii_lowercase()) {
            n += 1;
            stem = format!("{base}~{n}");
        }
        let fields = dump.fields.len() as u64;
        let mut done = 0u64;
        let mut tick = || {
            done += 1;
            if fields > 0 {
                bar.set_message(format!("{id} ({done}/{fields} fields)"));
            }
        };
        let target = match args.format {
            ExportFormat::Json => {
                let path = args.output.join(format!("{stem}.json"));
                let files = format!("{stem}.files");
                let has_files = !dump.files().is_empty();
                if has_files {
                    copy_files(&repo, &dump, &args.output.join(&files))?;
                }
                let file = std::fs::File::create(&path)
                    .map_err(|e| CliError::new(format!("cannot create {}: {e}", path.display())))?;
                let mut w = std::io::BufWriter::new(file);
                write_run(&dump, has_files.then_some(files.as_str()), &mut w)
                    .and_then(|()| w.flush())
                    .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))?;
                path
            }
            ExportFormat::Csv | ExportFormat::Parquet => {
                let dir = args.output.join(&stem);
                if args.format == ExportFormat::Csv {
                    tables::write_csv(&dump, &dir, &mut tick)?;
                } else {
                    tables::write_parquet(&dump, &dir, &mut tick)?;
                }
                if !dump.files().is_empty() {
                    copy_files(&repo, &dump, &dir.join("files"))?;
                }
                dir
            }
        };
        written.push((id.clone(), target));
        bar.inc(1);
    }
    bar.finish_and_clear();
    for (id, target) in &written {
        writeln!(out, "{id} -> {}", target.display())?;
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

/// A bar on stderr while it is a terminal; hidden otherwise, so that
/// pipes, logs and tests stay clean.
fn progress_bar(len: u64) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {msg}") {
        bar.set_style(style);
    }
    bar
}

/// Copies the run's file contents into `dir`, each as `<sha256>`.
fn copy_files(repo: &Repository, dump: &RunDump, dir: &Path) -> Result<(), CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::new(format!("cannot create {}: {e}", dir.display())))?;
    for file in dump.files() {
        let source: PathBuf = repo.blob_path(&file.sha256).ok_or_else(|| {
            CliError::new(format!(
                "run {}: {:?} is not a SHA-256",
                dump.id, file.sha256
            ))
        })?;
        let target = dir.join(&file.sha256);
        if std::fs::metadata(&target).is_ok_and(|m| m.len() == file.size) {
            continue;
        }
        std::fs::copy(&source, &target).map_err(|e| {
            CliError::new(format!(
                "cannot copy the content of file {:?} of run {} ({}): {e}",
                file.name,
                dump.id,
                source.display()
            ))
        })?;
    }
    Ok(())
}
