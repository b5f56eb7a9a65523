//! Files to upload: from a path on disk, or from bytes with a name.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// A file to store in a File or FileSeries field.
///
/// A file from a path is read when it is logged, after the field's type
/// rules accepted the write (so a missing file is an error of that call,
/// not a later surprise, and a file changed after the call returns is
/// stored as it was); a file from bytes holds them.
/// Cloning is cheap.
///
/// ```
/// use hippocamp_core::File;
/// let png = File::from_bytes(vec![0x89, b'P', b'N', b'G'], "sample.png");
/// assert_eq!(png.name(), "sample.png");
/// assert_eq!(png.extension(), "png");
/// let on_disk = File::from_path("scaler.pkl");
/// assert_eq!(on_disk.name(), "scaler.pkl");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    name: String,
    source: FileSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileSource {
    Path(PathBuf),
    Bytes(Arc<[u8]>),
}

impl File {
    /// A file on disk, read when it is logged. Its name is the path's last
    /// component.
    pub fn from_path(path: impl AsRef<Path>) -> File {
        let path = path.as_ref();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        File {
            name,
            source: FileSource::Path(path.to_path_buf()),
        }
    }

    /// Bytes with a file name such as `"confusion.png"` (the extension
    /// after the last `.` tells readers what the bytes are).
    pub fn from_bytes(bytes: impl Into<Vec<u8>>, name: impl Into<String>) -> File {
        File {
            name: name.into(),
            source: FileSource::Bytes(Arc::from(bytes.into())),
        }
    }

    /// The same file under another name.
    ///
    /// ```
    /// let f = hippocamp_core::File::from_path("/tmp/x").with_name("model.onnx");
    /// assert_eq!(f.extension(), "onnx");
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> File {
        self.name = name.into();
        self
    }

    /// The file's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The part of the name after its last `.`, or `""`.
    pub fn extension(&self) -> &str {
        extension_of(&self.name)
    }

    pub(crate) fn source(&self) -> &FileSource {
        &self.source
    }
}

pub(crate) fn extension_of(name: &str) -> &str {
    match name.rfind('.') {
        Some(dot) if dot > 0 => &name[dot + 1..],
        _ => "",
    }
}

/// A file on its way to a store: its name and its content, taken when it
/// was logged.
///
/// ```
/// use hippocamp_core::{FileContent, FileData};
/// let file = FileData::from_bytes("notes.txt", b"hello".to_vec());
/// assert_eq!(file.info().size, 5);
/// assert!(matches!(file.content, FileContent::Bytes(_)));
/// ```
#[derive(Debug, Clone)]
pub struct FileData {
    /// The file's name.
    pub name: String,
    /// Its content.
    pub content: FileContent,
}

/// The content of a [`FileData`]: bytes in memory, or a snapshot of a
/// file on disk that was copied (and hashed) when it was logged.
#[derive(Debug, Clone)]
pub enum FileContent {
    /// Bytes in memory: an upload of bytes, or a file read by a store
    /// that keeps everything in memory ([`Mode::Debug`](crate::Mode::Debug)).
    Bytes(Arc<[u8]>),
    /// A copy of a file from disk, in the store's staging folder (see
    /// [`Store::staging_dir`](crate::store::Store::staging_dir)).
    Staged(Arc<StagedFile>),
}

impl FileData {
    /// A file of bytes.
    pub fn from_bytes(name: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> FileData {
        FileData {
            name: name.into(),
            content: FileContent::Bytes(bytes.into()),
        }
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        match &self.content {
            FileContent::Bytes(bytes) => bytes.len() as u64,
            FileContent::Staged(staged) => staged.size(),
        }
    }

    /// The bytes, when they are in memory.
    pub fn bytes(&self) -> Option<&Arc<[u8]>> {
        match &self.content {
            FileContent::Bytes(bytes) => Some(bytes),
            FileContent::Staged(_) => None,
        }
    }

    /// What [`FileInfo`](crate::FileInfo) says of it.
    pub fn info(&self) -> crate::FileInfo {
        crate::FileInfo {
            name: self.name.clone(),
            extension: extension_of(&self.name).to_owned(),
            size: self.size(),
        }
    }
}

/// A snapshot of a file, copied into a store's staging folder while it was
/// hashed, in the thread that logged it: what is stored is the file as it
/// was then, even if it changes or disappears before the store writes it.
///
/// The store moves it into place with [`persist`](StagedFile::persist);
/// a staged file that is dropped without being persisted (its write was
/// refused, or failed) is removed, so nothing is left behind.
///
/// ```
/// use hippocamp_core::StagedFile;
/// let dir = tempfile::tempdir().unwrap();
/// let staged = StagedFile::copy_from(&mut &b"abc"[..], dir.path()).unwrap();
/// assert_eq!(staged.size(), 3);
/// assert_eq!(
///     staged.sha256_hex(),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// let tmp = staged.path().to_path_buf();
/// drop(staged);
/// assert!(!tmp.exists()); // never persisted: removed
/// ```
#[derive(Debug)]
pub struct StagedFile {
    path: PathBuf,
    size: u64,
    sha256: [u8; 32],
    persisted: AtomicBool,
}

/// Why staging a file failed: reading the source, or writing the copy.
#[derive(Debug)]
pub enum StageError {
    /// The source could not be read.
    Read(std::io::Error),
    /// The copy could not be written (a full disk, a read-only store); the
    /// partial copy is removed.
    Write {
        /// The copy's path.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

impl std::fmt::Display for StageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StageError::Read(e) => write!(f, "cannot read it: {e}"),
            StageError::Write { path, source } => {
                write!(f, "cannot copy it to {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for StageError {}

impl StagedFile {
    /// The prefix of staged files' names in a staging folder; they end in
    /// `.tmp`. A store's garbage collection knows them by these.
    pub const PREFIX: &'static str = ".upload.";

    /// Copies `source` into a new file in `dir` (which must exist),
    /// hashing it on the way, and syncs nothing yet (the store does before
    /// it refers to it). A failure removes the partial copy.
    pub fn copy_from(source: &mut dyn Read, dir: &Path) -> Result<StagedFile, StageError> {
        static STAGED: AtomicU64 = AtomicU64::new(0);
        let path = dir.join(format!(
            "{}{}.{}.tmp",
            Self::PREFIX,
            std::process::id(),
            STAGED.fetch_add(1, Ordering::Relaxed)
        ));
        let write_error = |path: &Path, source| StageError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| write_error(&path, e))?;
        // From here on, an error removes the copy (its drop does).
        let mut staged = StagedFile {
            path,
            size: 0,
            sha256: [0; 32],
            persisted: AtomicBool::new(false),
        };
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = match source.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(StageError::Read(e)),
            };
            let read = buf.get(..n).unwrap_or_default();
            hasher.update(read);
            file.write_all(read)
                .map_err(|e| write_error(&staged.path, e))?;
            staged.size += n as u64;
        }
        // Buffered data that only fails to reach the disk at close (NFS)
        // is an error too.
        file.flush().map_err(|e| write_error(&staged.path, e))?;
        drop(file);
        staged.sha256 = hasher.finalize().into();
        Ok(staged)
    }

    /// Where the copy is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The SHA-256 of its content.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// The SHA-256 of its content, in lowercase hex.
    pub fn sha256_hex(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Syncs the copy to disk and moves it to `to` (replacing what is
    /// there), after which dropping it removes nothing. `to` must be on
    /// the same file system as the staging folder.
    pub fn persist(&self, to: &Path) -> std::io::Result<()> {
        std::fs::File::open(&self.path)?.sync_all()?;
        std::fs::rename(&self.path, to)?;
        self.persisted.store(true, Ordering::Release);
        Ok(())
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.persisted.load(Ordering::Acquire) {
            if let Err(e) = std::fs::remove_file(&self.path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    log::warn!(
                        "hippocamp: cannot remove the staged upload {}: {e}",
                        self.path.display()
                    );
                }
            }
        }
    }
}
