//! `hippocamp check` on intact and damaged stores, as the binary.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use hippocamp_core::sqlite::DATABASE_FILE;
use hippocamp_core::Run;

fn hippocamp(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hippocamp"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// MNIST-1 with a series, a file and a file series.
fn store(dir: &Path) {
    let run = Run::builder().project("mnist").dir(dir).start().unwrap();
    run.at("params/lr").assign(0.01).unwrap();
    run.at("train/loss").extend([0.5, 0.25, 0.125]).unwrap();
    run.at("model")
        .upload_bytes(b"weights".to_vec(), "w.bin")
        .unwrap();
    run.close().unwrap();
}

#[test]
fn an_intact_store_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    store(dir.path());
    let out = hippocamp(dir.path(), &["check"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "checked 1 run, 12 fields, 1 chunk (3 points), 1 file: intact\n"
    );
}

#[test]
fn every_damaged_part_is_listed_and_the_exit_code_says_so() {
    let dir = tempfile::tempdir().unwrap();
    store(dir.path());
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    // A value's byte in the series chunk.
    let (chunk, mut data): (i64, Vec<u8>) = conn
        .query_row("SELECT chunk, data FROM chunks", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    data[30] ^= 0x01;
    conn.execute(
        "UPDATE chunks SET data = ?1 WHERE chunk = ?2",
        rusqlite::params![data, chunk],
    )
    .unwrap();
    // A parameter's value.
    conn.execute(
        "UPDATE fields SET int_value = int_value + 1 WHERE path = 'params/lr'",
        [],
    )
    .unwrap();
    let sha: String = conn
        .query_row(
            "SELECT file_sha FROM fields WHERE path = 'model'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    // The file's content, changed at the same size.
    let blob = dir.path().join("files").join(&sha[..2]).join(&sha);
    std::fs::write(&blob, b"WEIGHTS").unwrap();

    let out = hippocamp(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("run MNIST-1: `params/lr`: field: checksum mismatch")),
        "{stdout}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "run MNIST-1: `train/loss`: chunk {chunk}: checksum mismatch"
        ))),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("file {sha}: "))
                && l.contains("does not match its SHA-256")),
        "{stdout}"
    );
    assert!(lines[3].ends_with(": 3 damaged parts"), "{stdout}");
    assert_eq!(text(&out.stderr).lines().count(), 1);
    assert!(text(&out.stderr).contains("3 damaged parts in the store"));
}

#[test]
fn a_missing_store_is_an_error_not_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let out = hippocamp(&dir.path().join("nowhere"), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no hippocamp store"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_renamed_series_is_found_damaged() {
    let dir = tempfile::tempdir().unwrap();
    store(dir.path());
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    conn.execute(
        "UPDATE fields SET path = 'train/lose' WHERE path = 'train/loss'",
        [],
    )
    .unwrap();
    drop(conn);
    let out = hippocamp(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("run MNIST-1: `train/lose`: field: checksum mismatch"),
        "{}",
        text(&out.stdout)
    );
    // Reading it says so too, rather than showing a renamed series.
    let out = hippocamp(dir.path(), &["show", "MNIST-1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is damaged"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_damaged_run_is_listed_as_damaged_and_can_be_removed() {
    let dir = tempfile::tempdir().unwrap();
    store(dir.path());
    store(dir.path());
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    conn.execute(
        "UPDATE fields SET text_value = 'renamed' WHERE path = 'sys/name'
         AND run = (SELECT run FROM runs WHERE id = 'MNIST-1')",
        [],
    )
    .unwrap();
    drop(conn);
    // The listing goes on: the damaged run says so, the other is whole.
    let out = hippocamp(dir.path(), &["ls", "--columns", "params/lr"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    let line = |id: &str| {
        listing
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} missing: {listing}"))
            .to_owned()
    };
    assert!(line("MNIST-1").contains("damaged"), "{listing}");
    assert!(line("MNIST-2").contains("finished"), "{listing}");
    let out = hippocamp(dir.path(), &["ls", "--state", "damaged", "--format", "csv"]);
    assert_eq!(
        text(&out.stdout).lines().count(),
        2,
        "{}",
        text(&out.stdout)
    );
    assert!(hippocamp(dir.path(), &["show", "MNIST-2"]).status.success());
    let out = hippocamp(dir.path(), &["show", "MNIST-1"]);
    assert_eq!(out.status.code(), Some(2));
    // And it can be removed.
    let out = hippocamp(dir.path(), &["rm", "MNIST-1", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(hippocamp(dir.path(), &["check"]).status.success());
}
