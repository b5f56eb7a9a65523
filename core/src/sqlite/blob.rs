//! File contents in the store, `files/ab/<sha256>`, read back only once
//! they are known to be what was stored.
//!
//! A content is named by its SHA-256, so reading one checks it on the
//! way: its size first (from the file's metadata, before a byte is
//! handed over), then its hash, computed while the bytes are copied out
//! (one read, never a second pass). Symbolic links are never followed: not
//! the content's own name (opened with `O_NOFOLLOW`), nor the `files/` or
//! `files/ab/` folder on its way. A FIFO or device in their place is
//! refused without blocking. What is wrong is a [`BlobFault`].

use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::writer::{blob_path, hex, is_sha256_hex};
use super::FILES_DIR;

/// What is wrong with a file content in the store; see
/// [`Repository::verify_blob`](super::Repository::verify_blob).
///
/// ```
/// use hippocamp_core::sqlite::{BlobFault, Repository};
/// let dir = tempfile::tempdir().unwrap();
/// let repo = Repository::open_for_writing(dir.path())?;
/// let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
/// assert!(matches!(repo.verify_blob(sha), Err(BlobFault::Missing { .. })));
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum BlobFault {
    /// The name is not a SHA-256 in lowercase hex (a corrupt reference).
    BadName {
        /// The name.
        name: String,
    },
    /// There is no content by that name.
    Missing {
        /// Where it should be.
        path: PathBuf,
    },
    /// The content, or a folder on its way (`files/`, `files/ab/`), is a
    /// symbolic link, which the store never follows.
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// The content, or a folder on its way, is not a regular file (or
    /// folder): a FIFO, a device, a socket.
    NotAFile {
        /// What is there.
        path: PathBuf,
    },
    /// The content's size is not the one recorded (or it changed while it
    /// was read): truncated or altered.
    Size {
        /// The content.
        path: PathBuf,
        /// The size the store recorded.
        expected: u64,
        /// The size found.
        found: u64,
    },
    /// The content does not hash to its name: altered.
    Hash {
        /// The content.
        path: PathBuf,
        /// The SHA-256 it has, in lowercase hex.
        found: String,
    },
    /// The content could not be read.
    Unreadable {
        /// The content.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

impl fmt::Display for BlobFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobFault::BadName { name } => {
                write!(f, "{name:?} is not a SHA-256 (the reference is corrupt)")
            }
            BlobFault::Missing { path } => write!(f, "{} is missing", path.display()),
            BlobFault::Symlink { path } => write!(
                f,
                "{} is a symbolic link, which the store never follows",
                path.display()
            ),
            BlobFault::NotAFile { path } => {
                write!(f, "{} is not a regular file or folder", path.display())
            }
            BlobFault::Size {
                path,
                expected,
                found,
            } => write!(
                f,
                "{} holds {found} bytes, not the {expected} stored (truncated or altered)",
                path.display()
            ),
            BlobFault::Hash { path, found } => write!(
                f,
                "{} does not match its SHA-256 (its content hashes to {found}: it was altered)",
                path.display()
            ),
            BlobFault::Unreadable { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for BlobFault {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BlobFault::Unreadable { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Why a checked copy failed: the content, or the output.
#[derive(Debug)]
pub(crate) enum CopyError {
    Fault(BlobFault),
    Output(std::io::Error),
}

impl From<BlobFault> for CopyError {
    fn from(fault: BlobFault) -> Self {
        CopyError::Fault(fault)
    }
}

/// Checks that `path` is a real folder: no symbolic link, no file.
fn check_folder(path: &Path) -> Result<(), BlobFault> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(BlobFault::Symlink {
            path: path.to_path_buf(),
        }),
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(BlobFault::NotAFile {
            path: path.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(BlobFault::Missing {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(BlobFault::Unreadable {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Opens a content without following a symbolic link or blocking on a
/// FIFO; gives the open file and its size.
fn open(dir: &Path, sha: &str) -> Result<(File, u64, PathBuf), BlobFault> {
    if !is_sha256_hex(sha) {
        return Err(BlobFault::BadName {
            name: sha.to_owned(),
        });
    }
    let files = dir.join(FILES_DIR);
    check_folder(&files)?;
    let path = blob_path(dir, sha);
    if let Some(folder) = path.parent() {
        check_folder(folder)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(not(target_os = "linux"))]
    {
        // Without O_NOFOLLOW at hand: look before opening.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(BlobFault::Symlink { path });
        }
    }
    let file = match options.open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BlobFault::Missing { path })
        }
        #[cfg(target_os = "linux")]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(BlobFault::Symlink { path }),
        Err(source) => return Err(BlobFault::Unreadable { path, source }),
    };
    let meta = match file.metadata() {
        Ok(meta) => meta,
        Err(source) => return Err(BlobFault::Unreadable { path, source }),
    };
    if !meta.is_file() {
        return Err(BlobFault::NotAFile { path });
    }
    Ok((file, meta.len(), path))
}

/// Copies the content `sha` of the store in `dir` into `out`, checking it
/// on the way, and returns its size. A size other than `expected` (or than
/// the file's own, when it changes while it is read) is refused before
/// anything is written; a hash other than `sha` after everything is.
pub(crate) fn copy_verified(
    dir: &Path,
    sha: &str,
    expected: Option<u64>,
    out: &mut dyn Write,
) -> Result<u64, CopyError> {
    let (file, len, path) = open(dir, sha)?;
    if let Some(expected) = expected.filter(|&e| e != len) {
        return Err(BlobFault::Size {
            path,
            expected,
            found: len,
        }
        .into());
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut read_total = 0u64;
    // One byte past the size tells a content that grows while it is read.
    let mut input = file.take(len.saturating_add(1));
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(BlobFault::Unreadable { path, source }.into()),
        };
        read_total += n as u64;
        if read_total > len {
            break;
        }
        let bytes = buf.get(..n).unwrap_or_default();
        hasher.update(bytes);
        out.write_all(bytes).map_err(CopyError::Output)?;
    }
    if read_total != len {
        return Err(BlobFault::Size {
            path,
            expected: len,
            found: read_total,
        }
        .into());
    }
    let found = hex(&hasher.finalize().into());
    if found != sha {
        return Err(BlobFault::Hash { path, found }.into());
    }
    Ok(len)
}

/// Checks the content `sha` of the store in `dir` (reading it once) and
/// returns its size.
pub(crate) fn verify(dir: &Path, sha: &str) -> Result<u64, BlobFault> {
    match copy_verified(dir, sha, None, &mut std::io::sink()) {
        Ok(size) => Ok(size),
        Err(CopyError::Fault(fault)) => Err(fault),
        // A sink never fails.
        Err(CopyError::Output(source)) => Err(BlobFault::Unreadable {
            path: blob_path(dir, sha),
            source,
        }),
    }
}
