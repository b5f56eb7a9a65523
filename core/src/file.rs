//! Files to upload: from a path on disk, or from bytes with a name.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file to store in a File or FileSeries field.
///
/// A file from a path is read when it is logged (so a missing file is an
/// error of that call, not a later surprise); a file from bytes holds them.
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

/// A file whose bytes have been read, ready for the store.
#[derive(Debug, Clone)]
pub struct FileData {
    /// The file's name.
    pub name: String,
    /// The bytes.
    pub bytes: Arc<[u8]>,
}

impl FileData {
    /// What [`FileInfo`](crate::FileInfo) says of it.
    pub fn info(&self) -> crate::FileInfo {
        crate::FileInfo {
            name: self.name.clone(),
            extension: extension_of(&self.name).to_owned(),
            size: self.bytes.len() as u64,
        }
    }
}
