//! Files the commands write with `-o`.
//!
//! The rule: an existing file is overwritten, also through a symlink that
//! leads to it; a missing file is created, but never through a symlink
//! that leads nowhere (a dangling symlink): `-o link` does not create the
//! file `link` points to, wherever that is.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::Path;

use crate::CliError;

/// Opens `path` for writing a command's output, empty: an existing file
/// (or the file a symlink leads to) is truncated, a missing one created.
/// A dangling symlink, a directory or a path in a missing directory is an
/// error naming the path.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("out.csv");
/// std::io::Write::write_all(&mut hippocamp_cli::output::create(&path)?, b"a,b\n")?;
/// assert_eq!(std::fs::read(&path)?, b"a,b\n");
/// # #[cfg(unix)] {
/// let link = dir.path().join("link");
/// std::os::unix::fs::symlink(dir.path().join("nowhere"), &link)?;
/// assert!(hippocamp_cli::output::create(&link).is_err());
/// assert!(!dir.path().join("nowhere").exists());
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn create(path: &Path) -> Result<File, CliError> {
    let error = |e: std::io::Error| CliError::new(format!("cannot write {}: {e}", path.display()));
    // Something is there (a symlink is followed): empty it.
    match OpenOptions::new().write(true).truncate(true).open(path) {
        Ok(file) => return Ok(file),
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(error(e)),
    }
    // Nothing is there, or a symlink to nothing. `create_new` (O_EXCL)
    // does not follow a symlink: it refuses one that appeared meanwhile
    // too, so no file is ever created through one.
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(file) => Ok(file),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => match std::fs::read_link(path) {
            Ok(target) => Err(CliError::new(format!(
                "cannot write {}: it is a symlink to {}, which does not exist \
                 (no file is created through a symlink; remove the link or name another file)",
                path.display(),
                target.display()
            ))),
            Err(_) => Err(error(e)),
        },
        Err(e) => Err(error(e)),
    }
}
