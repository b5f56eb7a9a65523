//! Files the commands write with `-o`.
//!
//! The rules:
//! - the output is written beside its file and moved into place once
//!   complete, so an error (a damaged content found at its last byte, a
//!   full disk) leaves the file as it was, and a reader (an image viewer
//!   while `plot --follow` redraws) never sees half a file;
//! - an existing file is replaced, also through a symlink that leads to it
//!   (the file it leads to is replaced; the link stays);
//! - a missing file is created, but never through a symlink that leads
//!   nowhere (a dangling symlink): `-o link` does not create the file
//!   `link` points to, wherever that is.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use crate::CliError;

/// A command's output file, being written: [`keep`](Self::keep) moves it
/// into place; dropped unkept, it is removed and the target is untouched.
///
/// ```
/// use std::io::Write;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("out.csv");
/// let mut out = hippocamp_cli::output::OutputFile::create(&path)?;
/// out.write_all(b"a,b\n")?;
/// assert!(!path.exists(), "not there before it is complete");
/// out.keep()?;
/// assert_eq!(std::fs::read(&path)?, b"a,b\n");
/// # #[cfg(unix)] {
/// let link = dir.path().join("link");
/// std::os::unix::fs::symlink(dir.path().join("nowhere"), &link)?;
/// assert!(hippocamp_cli::output::OutputFile::create(&link).is_err());
/// assert!(!dir.path().join("nowhere").exists());
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OutputFile {
    /// The file written now, beside `target`.
    tmp: PathBuf,
    /// The file it becomes.
    target: PathBuf,
    /// The path as given, for messages.
    given: PathBuf,
    file: Option<File>,
}

impl OutputFile {
    /// Starts writing the output for `path`. A dangling symlink, a
    /// directory or a path in a missing directory is an error naming the
    /// path.
    pub fn create(path: &Path) -> Result<OutputFile, CliError> {
        let error =
            |e: std::io::Error| CliError::new(format!("cannot write {}: {e}", path.display()));
        let target = match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => match std::fs::canonicalize(path) {
                Ok(resolved) => resolved,
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    let to = std::fs::read_link(path).unwrap_or_default();
                    return Err(CliError::new(format!(
                        "cannot write {}: it is a symlink to {}, which does not exist \
                         (no file is created through a symlink; remove the link or name another file)",
                        path.display(),
                        to.display()
                    )));
                }
                Err(e) => return Err(error(e)),
            },
            Ok(meta) if meta.is_dir() => {
                return Err(CliError::new(format!(
                    "cannot write {}: it is a directory",
                    path.display()
                )))
            }
            _ => path.to_path_buf(),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = target.with_file_name(format!(".{name}.hippocamp-{}.tmp", std::process::id()));
        // `create_new` (O_EXCL) never follows a symlink: none is written
        // through, even one that appeared meanwhile.
        let _ = std::fs::remove_file(&tmp);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(error)?;
        Ok(OutputFile {
            tmp,
            target,
            given: path.to_path_buf(),
            file: Some(file),
        })
    }

    /// Moves the complete output into place.
    pub fn keep(mut self) -> Result<(), CliError> {
        let error = |e: std::io::Error| {
            CliError::new(format!("cannot write {}: {e}", self.given.display()))
        };
        if let Some(mut file) = self.file.take() {
            file.flush().map_err(error)?;
        }
        std::fs::rename(&self.tmp, &self.target).map_err(error)
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.file {
            Some(file) => file.write(buf),
            None => Err(std::io::Error::other("the output file is closed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for OutputFile {
    /// Unkept (or kept but not moved), the partial output goes; once
    /// moved, there is nothing at `tmp` any more.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Writes `bytes` as the whole output for `path` (see [`OutputFile`]).
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut out = OutputFile::create(path)?;
    out.write_all(bytes)
        .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))?;
    out.keep()
}
