//! File contents in the embedded store: checked against their SHA-256 when
//! read, never through a symbolic link; uploads from disk snapshotted at
//! the call, checked by the type rules before the file is touched; no
//! temporary file left behind by a failure, and stale ones collected.

mod common;

use common::temporaries;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hippocamp_core::sqlite::{BlobFault, Repository, STALE_TEMPORARY_AFTER};
use hippocamp_core::{Error, File, FileInfo, Mode, Run};

fn start(dir: &Path) -> Run {
    Run::builder()
        .project("files")
        .dir(dir)
        .start()
        .expect("a run starts")
}

fn read_only(dir: &Path, id: &str) -> Run {
    Run::builder()
        .dir(dir)
        .run_id(id)
        .mode(Mode::ReadOnly)
        .start()
        .expect("the run opens")
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A store with one run, FILES-1, holding `model` (a File) and `images`
/// (a FileSeries with one file at step 0).
fn store_with_files(model: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path());
    run.at("model")
        .upload_bytes(model.to_vec(), "model.bin")
        .unwrap();
    run.at("images")
        .append(File::from_bytes(b"png bytes".to_vec(), "0.png"))
        .unwrap();
    run.close().unwrap();
    let blob = Repository::open(dir.path())
        .unwrap()
        .blob_path(&sha256_hex(model))
        .unwrap();
    (dir, blob)
}

/// The error of a download, as text, checked to name the run, the path
/// and the content.
fn damaged(result: Result<Vec<u8>, Error>, sha: &str) -> String {
    let err = result
        .expect_err("a damaged content is refused")
        .to_string();
    assert!(err.contains("`model`"), "names the path: {err}");
    assert!(err.contains("FILES-1"), "names the run: {err}");
    assert!(err.contains(sha), "names the content: {err}");
    err
}

#[test]
fn a_content_altered_at_the_same_size_is_refused() {
    let model = b"the weights of a model".to_vec();
    let (dir, blob) = store_with_files(&model);
    let sha = sha256_hex(&model);
    let mut altered = model.clone();
    altered[3] ^= 1;
    std::fs::write(&blob, &altered).unwrap();
    let run = read_only(dir.path(), "FILES-1");
    let err = damaged(run.at("model").download(), &sha);
    assert!(err.contains("does not match its SHA-256"), "{err}");
    // Streamed out: the bytes were written, and the call says they are bad.
    let mut out = Vec::new();
    assert!(run.at("model").download_to(&mut out).is_err());
    // To a path: nothing is left there.
    let target = dir.path().join("out.bin");
    assert!(run.at("model").download_to_path(&target).is_err());
    assert!(!target.exists());
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".tmp")));
    let repo = Repository::open(dir.path()).unwrap();
    match repo.verify_blob(&sha) {
        Err(BlobFault::Hash { found, .. }) => assert_eq!(found, sha256_hex(&altered)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_truncated_content_is_refused_before_a_byte_is_written() {
    let model = b"the weights of a model".to_vec();
    let (dir, blob) = store_with_files(&model);
    let sha = sha256_hex(&model);
    std::fs::write(&blob, &model[..5]).unwrap();
    let run = read_only(dir.path(), "FILES-1");
    let err = damaged(run.at("model").download(), &sha);
    assert!(err.contains("holds 5 bytes, not the 22 stored"), "{err}");
    let mut out = Vec::new();
    assert!(run.at("model").download_to(&mut out).is_err());
    assert!(out.is_empty(), "nothing written before the size is checked");
    // The check sees the hash (its name) too.
    let repo = Repository::open(dir.path()).unwrap();
    assert!(matches!(
        repo.verify_blob(&sha),
        Err(BlobFault::Hash { .. })
    ));
}

#[test]
fn a_content_replaced_by_a_symlink_is_never_followed() {
    let model = b"the weights of a model".to_vec();
    let (dir, blob) = store_with_files(&model);
    let sha = sha256_hex(&model);
    let elsewhere = dir.path().join("elsewhere");
    std::fs::write(&elsewhere, &model).unwrap(); // even the right bytes
    std::fs::remove_file(&blob).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &blob).unwrap();
    let run = read_only(dir.path(), "FILES-1");
    let err = damaged(run.at("model").download(), &sha);
    assert!(err.contains("symbolic link"), "{err}");
    let repo = Repository::open(dir.path()).unwrap();
    assert!(matches!(
        repo.verify_blob(&sha),
        Err(BlobFault::Symlink { .. })
    ));
}

#[test]
fn symlinked_folders_in_the_store_are_refused() {
    let model = b"the weights of a model".to_vec();
    let sha = sha256_hex(&model);
    // files/ab/ a link to a copy of itself.
    let (dir, blob) = store_with_files(&model);
    let folder = blob.parent().unwrap().to_path_buf();
    let copy = dir.path().join("copy");
    std::fs::rename(&folder, &copy).unwrap();
    std::os::unix::fs::symlink(&copy, &folder).unwrap();
    let err = damaged(
        read_only(dir.path(), "FILES-1").at("model").download(),
        &sha,
    );
    assert!(err.contains("symbolic link"), "{err}");
    // files/ a link to a copy of itself.
    let (dir, _) = store_with_files(&model);
    let files = dir.path().join("files");
    let copy = dir.path().join("copy");
    std::fs::rename(&files, &copy).unwrap();
    std::os::unix::fs::symlink(&copy, &files).unwrap();
    let run = read_only(dir.path(), "FILES-1");
    let err = damaged(run.at("model").download(), &sha);
    assert!(err.contains("symbolic link"), "{err}");
    assert!(run.at("images").download().is_err());
    let repo = Repository::open(dir.path()).unwrap();
    assert!(matches!(
        repo.verify_blob(&sha),
        Err(BlobFault::Symlink { .. })
    ));
}

#[test]
fn a_missing_content_is_an_error_naming_it() {
    let model = b"the weights of a model".to_vec();
    let (dir, blob) = store_with_files(&model);
    let sha = sha256_hex(&model);
    std::fs::remove_file(&blob).unwrap();
    let err = damaged(
        read_only(dir.path(), "FILES-1").at("model").download(),
        &sha,
    );
    assert!(err.contains("is missing"), "{err}");
    let repo = Repository::open(dir.path()).unwrap();
    assert!(matches!(
        repo.verify_blob(&sha),
        Err(BlobFault::Missing { .. })
    ));
    assert!(matches!(
        repo.verify_blob("../../etc/passwd"),
        Err(BlobFault::BadName { .. })
    ));
}

#[test]
fn a_fifo_in_place_of_a_content_does_not_block() {
    let model = b"the weights of a model".to_vec();
    let (dir, blob) = store_with_files(&model);
    std::fs::remove_file(&blob).unwrap();
    let made = std::process::Command::new("mkfifo").arg(&blob).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let repo = Repository::open(dir.path()).unwrap();
    assert!(matches!(
        repo.verify_blob(&sha256_hex(&model)),
        Err(BlobFault::NotAFile { .. })
    ));
}

#[test]
fn intact_contents_read_back_and_verify() {
    let model: Vec<u8> = (0..300_000u32).map(|i| (i * 7) as u8).collect();
    let (dir, _) = store_with_files(&model);
    let run = read_only(dir.path(), "FILES-1");
    assert_eq!(run.at("model").download().unwrap(), model);
    assert_eq!(run.at("images").download().unwrap(), b"png bytes");
    assert_eq!(run.at("images").download_at(0).unwrap(), b"png bytes");
    let target = dir.path().join("model.out");
    assert_eq!(
        run.at("model").download_to_path(&target).unwrap(),
        model.len() as u64
    );
    assert_eq!(std::fs::read(&target).unwrap(), model);
    let repo = Repository::open(dir.path()).unwrap();
    assert_eq!(
        repo.verify_blob(&sha256_hex(&model)).unwrap(),
        model.len() as u64
    );
}

#[test]
fn uploading_the_same_content_again_repairs_a_damaged_copy() {
    let model = b"the weights of a model".to_vec();
    let (dir, blob) = store_with_files(&model);
    std::fs::write(&blob, b"short").unwrap();
    let run = Run::builder()
        .dir(dir.path())
        .run_id("FILES-1")
        .start()
        .unwrap();
    run.at("again")
        .upload_bytes(model.clone(), "m.bin")
        .unwrap();
    run.close().unwrap();
    assert_eq!(
        read_only(dir.path(), "FILES-1")
            .at("model")
            .download()
            .unwrap(),
        model
    );
}

#[test]
fn the_type_rules_come_before_the_file_is_read() {
    for mode in [Mode::Debug, Mode::Async] {
        let dir = tempfile::tempdir().unwrap();
        let run = Run::builder().mode(mode).dir(dir.path()).start().unwrap();
        let acc = run.at("train/acc");
        acc.append(0.72).unwrap();
        let missing = dir.path().join("image.png"); // never made
        let err = acc.upload(&missing).unwrap_err();
        assert!(
            matches!(err, Error::UnsupportedOperation { .. }),
            "{mode:?}: {err}"
        );
        let err = acc.assign(File::from_path(&missing)).unwrap_err();
        assert!(
            matches!(err, Error::UnsupportedOperation { .. }),
            "{mode:?}: {err}"
        );
        let err = acc.append(File::from_path(&missing)).unwrap_err();
        assert!(matches!(err, Error::TypeMismatch { .. }), "{mode:?}: {err}");
        run.at("params/lr").assign(0.1).unwrap();
        let err = run.at("params").upload(&missing).unwrap_err();
        assert!(
            matches!(err, Error::UnsupportedOperation { .. }),
            "{mode:?}: {err}"
        );
        let err = run.at("params/lr/x").upload(&missing).unwrap_err();
        assert!(
            matches!(err, Error::NamespaceConflict { .. }),
            "{mode:?}: {err}"
        );
        let err = run.at("sys/model").upload(&missing).unwrap_err();
        assert!(matches!(err, Error::ReadOnly { .. }), "{mode:?}: {err}");
        run.at("images")
            .append_at(5, File::from_bytes(vec![1], "a"))
            .unwrap();
        let err = run
            .at("images")
            .append_at(5, File::from_path(&missing))
            .unwrap_err();
        assert!(
            matches!(err, Error::StepNotIncreasing { .. }),
            "{mode:?}: {err}"
        );
        // Where the rules allow it, the missing file is the error.
        let err = run.at("model").upload(&missing).unwrap_err();
        assert!(matches!(err, Error::File { .. }), "{mode:?}: {err}");
        run.close().unwrap();
        assert!(temporaries(dir.path()).is_empty());
    }
}

#[test]
fn a_file_uploaded_from_disk_is_stored_as_it_was_at_the_call() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("checkpoint.bin");
    std::fs::write(&source, b"epoch 1").unwrap();
    let run = start(dir.path());
    run.at("checkpoint").upload(&source).unwrap();
    run.at("checkpoints")
        .append(File::from_path(&source))
        .unwrap();
    // Overwritten right after the call returned, before the writer ran.
    std::fs::write(&source, b"epoch 2, longer").unwrap();
    run.at("checkpoints")
        .append(File::from_path(&source))
        .unwrap();
    std::fs::remove_file(&source).unwrap();
    run.close().unwrap();
    let run = read_only(dir.path(), "FILES-1");
    assert_eq!(run.at("checkpoint").download().unwrap(), b"epoch 1");
    let info: FileInfo = run.at("checkpoint").fetch().unwrap().try_into().unwrap();
    assert_eq!((info.name.as_str(), info.size), ("checkpoint.bin", 7));
    assert_eq!(run.at("checkpoints").download_at(0).unwrap(), b"epoch 1");
    assert_eq!(
        run.at("checkpoints").download_at(1).unwrap(),
        b"epoch 2, longer"
    );
    assert!(temporaries(dir.path()).is_empty(), "staged copies moved");
}

#[test]
fn gc_removes_stale_temporary_files_and_keeps_live_ones() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path());
    run.at("model")
        .upload_bytes(b"abc".to_vec(), "m.bin")
        .unwrap();
    run.close().unwrap();
    let files = dir.path().join("files");
    let folder = files.join("ba");
    let stale_upload = files.join(".upload.4242.0.tmp");
    let stale_write = folder.join(".ba7816bf.4242.3.tmp");
    let live = files.join(".upload.4242.1.tmp");
    let not_ours = files.join("notes.txt");
    for path in [&stale_upload, &stale_write, &live, &not_ours] {
        std::fs::write(path, vec![0u8; 1000]).unwrap();
    }
    let old = SystemTime::now() - STALE_TEMPORARY_AFTER - Duration::from_secs(60);
    for path in [&stale_upload, &stale_write, &not_ours] {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    let mut repo = Repository::open_for_writing(dir.path()).unwrap();
    let dry = repo.gc(true).unwrap();
    let listed: Vec<&Path> = dry.temporary.iter().map(|t| t.path.as_path()).collect();
    assert_eq!(listed, [stale_upload.as_path(), stale_write.as_path()]);
    assert!(stale_upload.exists());
    let report = repo.gc(false).unwrap();
    assert_eq!(report.temporary.len(), 2);
    assert_eq!(report.bytes(), 2000);
    assert!(report.blobs.is_empty());
    assert!(!stale_upload.exists() && !stale_write.exists());
    assert!(live.exists(), "a temporary file written lately is kept");
    assert!(not_ours.exists(), "other names are left alone");
    // The content itself is still there and intact.
    assert_eq!(
        read_only(dir.path(), "FILES-1")
            .at("model")
            .download()
            .unwrap(),
        b"abc"
    );
}
