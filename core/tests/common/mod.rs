//! Helpers shared by the store's fault tests: a small tmpfs to fill or
//! make read-only, and the temporary files a store leaves in `files/`.
//!
//! Mounting needs root with CAP_SYS_ADMIN (as on the project's machines
//! and in CI). Where mounting is not permitted, a test says so and skips,
//! except under `CI=true`, where a skip would hide a failure and is one.

#![allow(dead_code)] // each test binary uses some of these

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A tmpfs mounted for one test, unmounted when dropped.
pub struct Tmpfs {
    dir: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=` takes it, e.g. `2m`);
    /// `None` (after saying why) where mounting is not permitted outside
    /// CI.
    pub fn mount(size: &str) -> Option<Tmpfs> {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("mnt");
        std::fs::create_dir(&dir).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(Tmpfs {
                dir,
                _parent: parent,
            }),
            other => {
                let why = match other {
                    Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "cannot mount a tmpfs ({why}): under CI=true this test must run (as root)"
                );
                eprintln!("skipped: cannot mount a tmpfs here ({why}); run as root to test this");
                None
            }
        }
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Makes the file system read-only (or writable again).
    pub fn remount(&self, read_only: bool) {
        let option = if read_only {
            "remount,ro"
        } else {
            "remount,rw"
        };
        let status = Command::new("mount")
            .args(["-o", option])
            .arg(&self.dir)
            .status()
            .unwrap();
        assert!(status.success(), "mount -o {option}");
    }

    /// Fills the file system to its last byte; returns the filling file.
    pub fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.dir.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 << 10];
        while file.write_all(&block).is_ok() {}
        while file.write_all(&[0u8]).is_ok() {}
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // A process another test forks at this moment may hold a file of
        // it open for an instant: detach it then (`-l`), it goes when free.
        let unmounted = Command::new("umount")
            .arg(&self.dir)
            .stderr(Stdio::null())
            .status();
        if !matches!(unmounted, Ok(s) if s.success()) {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

/// Every file under the store's `files/` whose name ends in `.tmp`.
pub fn temporaries(store: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&path, out);
            } else if path.to_string_lossy().ends_with(".tmp") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&store.join("files"), &mut out);
    out
}
