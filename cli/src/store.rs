//! Finding the store, its runs and their fields, with errors that say what
//! was looked for and what exists.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hippocamp_core::reader::StoreReader;
use hippocamp_core::sqlite::{Repository, RunInfo, DATABASE_FILE};
use hippocamp_core::structure::{Entry, Structure};
use hippocamp_core::{FieldType, Mode, Run};

use crate::CliError;

/// Where the commands work: the store's directory, and where warnings go.
#[derive(Clone)]
pub struct Context {
    dir: PathBuf,
    warnings: Arc<Mutex<dyn Write + Send>>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").field("dir", &self.dir).finish()
    }
}

impl Context {
    /// A context on the store in `dir`; warnings go to stderr.
    pub fn new(dir: PathBuf) -> Context {
        Context {
            dir,
            warnings: Arc::new(Mutex::new(std::io::stderr())),
        }
    }

    /// The same context, its warnings written to `sink` instead.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// #[derive(Clone, Default)]
    /// struct Sink(Arc<Mutex<Vec<u8>>>);
    /// impl std::io::Write for Sink {
    ///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
    ///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
    /// }
    /// let sink = Sink::default();
    /// let ctx = hippocamp_cli::store::Context::new(".hippocamp".into()).with_warnings(sink.clone());
    /// ctx.warn("--columns: no run has `lr`");
    /// assert_eq!(*sink.0.lock().unwrap(), b"hippocamp: warning: --columns: no run has `lr`\n");
    /// ```
    pub fn with_warnings(self, sink: impl Write + Send + 'static) -> Context {
        Context {
            warnings: Arc::new(Mutex::new(sink)),
            ..self
        }
    }

    /// Writes a warning line (`hippocamp: warning: …`): something the user
    /// likely did not mean, which changes nothing of what the command does
    /// or its exit code. A warning that cannot be written is dropped.
    pub fn warn(&self, message: impl fmt::Display) {
        if let Ok(mut sink) = self.warnings.lock() {
            let line = format!("hippocamp: warning: {message}").replace('\n', " ");
            let _ = writeln!(sink, "{line}");
        }
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The store, opened read-only; a missing store is a clear error.
    pub fn repository(&self) -> Result<Repository, CliError> {
        if !self.dir.join(DATABASE_FILE).exists() {
            return Err(CliError::new(format!(
                "no hippocamp store at {} (give --dir or set HIPPOCAMP_HOME)",
                self.dir.display()
            )));
        }
        Ok(Repository::open(&self.dir)?)
    }

    /// The store as the read interface every browsing command and
    /// `hippocamp ui` share.
    pub fn reader(&self) -> Result<Box<dyn StoreReader>, CliError> {
        Ok(Box::new(self.repository()?))
    }

    /// Every run of the store, oldest first.
    pub fn runs(&self) -> Result<Vec<RunInfo>, CliError> {
        Ok(self.repository()?.runs()?)
    }

    /// The run with this id; an unknown id is an error naming the nearest
    /// ids that exist.
    pub fn run_info(&self, id: &str) -> Result<RunInfo, CliError> {
        let runs = self.runs()?;
        match runs.iter().find(|r| r.id == id) {
            Some(run) => Ok(run.clone()),
            None => Err(self.unknown_run(id, &runs)),
        }
    }

    /// Checks that every id names a run, listing the store once; the
    /// first unknown id is an error naming the nearest ids that exist.
    pub fn check_runs<S: AsRef<str>>(&self, ids: &[S]) -> Result<(), CliError> {
        let runs = self.runs()?;
        for id in ids {
            let id = id.as_ref();
            if !runs.iter().any(|r| r.id == id) {
                return Err(self.unknown_run(id, &runs));
            }
        }
        Ok(())
    }

    fn unknown_run(&self, id: &str, runs: &[RunInfo]) -> CliError {
        let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        CliError::new(format!(
            "no run {id} in {}{}",
            self.dir.display(),
            nearest_hint(id, &ids)
        ))
    }

    /// Opens a run read-only (it may be being logged by another process).
    pub fn open_run(&self, id: &str) -> Result<Run, CliError> {
        // The store's own lookup: an unknown id is `RunNotFound`, which
        // names the nearest ids, without listing every run first.
        self.repository()?;
        Ok(Run::builder()
            .dir(&self.dir)
            .run_id(id)
            .mode(Mode::ReadOnly)
            .start()?)
    }
}

/// Every field path of a structure, sorted.
pub fn field_paths(structure: &Structure) -> Vec<String> {
    typed_field_paths(&structure.entries, "")
        .into_iter()
        .map(|(path, _)| path)
        .collect()
}

/// Every field among `entries` (a namespace's, at `prefix`) with its
/// type, by full path, sorted.
pub fn typed_field_paths(
    entries: &BTreeMap<String, Entry>,
    prefix: &str,
) -> Vec<(String, FieldType)> {
    fn walk(prefix: &str, entries: &BTreeMap<String, Entry>, out: &mut Vec<(String, FieldType)>) {
        for (name, entry) in entries {
            let path = hippocamp_core::path::join(prefix, name);
            match entry {
                Entry::Namespace(children) => walk(&path, children, out),
                Entry::Field { field_type, .. } => out.push((path, *field_type)),
            }
        }
    }
    let mut out = Vec::new();
    walk(prefix, entries, &mut out);
    out
}

/// Checks that `path` holds something in `run`; else an error naming the
/// nearest paths that exist.
pub fn require_path(run: &Run, path: &str) -> Result<(), CliError> {
    if run.at(path).field_type()?.is_some() {
        return Ok(());
    }
    let mut paths = field_paths(&run.structure()?);
    paths.extend(
        field_paths(&run.at("sys").structure()?)
            .into_iter()
            .map(|p| format!("sys/{p}")),
    );
    let candidates: Vec<&str> = paths.iter().map(String::as_str).collect();
    Err(CliError::new(format!(
        "no field or namespace `{path}` in run {}{}",
        run.id(),
        nearest_hint(path, &candidates)
    )))
}

/// ` (nearest: a, b, c)`, the three candidates closest to `wanted` (and
/// their namespaces, ranked as [`hippocamp_core::nearest`] ranks them),
/// or ` (there are none)` when there are none.
///
/// ```
/// use hippocamp_cli::store::nearest_hint;
/// let paths = ["params/learning_rate", "params/batch", "train/loss"];
/// assert!(nearest_hint("learning_rate", &paths).starts_with(" (nearest: params/learning_rate, "));
/// assert!(nearest_hint("param", &paths).starts_with(" (nearest: params, "));
/// assert!(nearest_hint("params/lr", &paths).starts_with(" (nearest: params/learning_rate, "));
/// ```
pub fn nearest_hint(wanted: &str, candidates: &[&str]) -> String {
    let nearest = hippocamp_core::nearest(wanted, candidates.iter().copied());
    if nearest.is_empty() {
        return " (there are none)".to_owned();
    }
    format!(" (nearest: {})", nearest.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_ids_come_first() {
        let hint = nearest_hint("MNIST-12", &["CIFAR-1", "MNIST-1", "MNIST-2", "MNIST-13"]);
        assert_eq!(hint, " (nearest: MNIST-1, MNIST-13, MNIST-2)");
        assert_eq!(nearest_hint("x", &[]), " (there are none)");
        let paths = [
            "params/batch",
            "params/learning_rate",
            "sys/id",
            "train/loss",
        ];
        assert!(nearest_hint("params/lr", &paths)
            .starts_with(" (nearest: params/learning_rate, params/batch"));
    }

    #[test]
    fn a_namespace_prefix_comes_first() {
        let paths = [
            "params/batch",
            "params/learning_rate",
            "params/optimizer/name",
            "sys/id",
            "train/loss",
            "pram",
        ];
        // A name that starts a namespace's: the namespace.
        assert!(nearest_hint("param", &paths).starts_with(" (nearest: params, "));
        assert!(nearest_hint("params/optim", &paths).starts_with(" (nearest: params/optimizer, "));
        // A namespace: what is under it.
        let under = nearest_hint("params/optimizer/x", &paths);
        assert!(
            under.starts_with(" (nearest: params/optimizer/name"),
            "{under}"
        );
        // A name without its namespace: the name in it.
        assert!(
            nearest_hint("learning_rate", &paths).starts_with(" (nearest: params/learning_rate, ")
        );
        assert!(
            nearest_hint("optimizer/name", &paths).starts_with(" (nearest: params/optimizer/name")
        );
        // What is wanted is never its own hint.
        assert!(!nearest_hint("params", &paths).contains("params,"));
        assert_eq!(nearest_hint("a", &["a"]), " (there are none)");
    }
}
