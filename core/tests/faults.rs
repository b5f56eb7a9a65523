//! The store on unlucky media and with damaged bytes: read-only media, a
//! full disk, a FIFO where the database should be, a store being created,
//! a flipped byte in a series. Each is an error that says what is wrong
//! (or, for read-only media, simply works), never a hang or a wrong value.
//!
//! Tests that need a small or read-only file system mount a tmpfs (see
//! `common`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Tmpfs;

use hippocamp_core::sqlite::{Repository, DATABASE_FILE};
use hippocamp_core::{Error, Mode, Run, Value};

fn read_only(dir: &Path, id: &str) -> Result<Run, Error> {
    Run::builder()
        .dir(dir)
        .run_id(id)
        .mode(Mode::ReadOnly)
        .start()
}

#[test]
fn a_cleanly_closed_store_reads_on_read_only_media() {
    let Some(fs) = Tmpfs::mount("16m") else {
        return;
    };
    let store = fs.path().join("store");
    let run = Run::builder()
        .project("mnist")
        .tags(["cnn"])
        .dir(&store)
        .start()
        .unwrap();
    run.at("params/lr").assign(0.01).unwrap();
    run.at("train/loss").extend([0.5, 0.25]).unwrap();
    run.at("model")
        .upload_bytes(b"weights".to_vec(), "w.bin")
        .unwrap();
    let id = run.id().to_owned();
    run.close().unwrap();
    drop(run);
    assert!(!store.join(format!("{DATABASE_FILE}-wal")).exists());
    fs.remount(true);

    let runs = Repository::open(&store).unwrap().runs().unwrap();
    assert_eq!(runs[0].id, id);
    assert_eq!(runs[0].tags, ["cnn"]);
    let back = read_only(&store, &id).unwrap();
    assert_eq!(back.at("params/lr").fetch().unwrap(), Value::Float(0.01));
    assert_eq!(back.at("train/loss").fetch_values().unwrap().len(), 2);
    assert_eq!(back.at("model").download().unwrap(), b"weights");
    // Writing is refused with what the operating system says.
    let err = Run::builder().dir(&store).start().unwrap_err();
    assert!(matches!(err, Error::Storage(_)), "{err}");
    fs.remount(false);
}

#[test]
fn a_store_left_open_on_read_only_media_says_why_it_cannot_be_read() {
    let Some(fs) = Tmpfs::mount("16m") else {
        return;
    };
    let store = fs.path().join("store");
    let run = Run::builder().dir(&store).start().unwrap();
    run.at("x").assign(1).unwrap();
    run.flush().unwrap();
    let id = run.id().to_owned();
    // Copy the store as it is while open (its -wal holds the run), as a
    // snapshot taken of a live disk would.
    let copy = fs.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    for name in [DATABASE_FILE.to_owned(), format!("{DATABASE_FILE}-wal")] {
        std::fs::copy(store.join(&name), copy.join(&name)).unwrap();
    }
    run.close().unwrap();
    drop(run);
    fs.remount(true);
    let err = read_only(&copy, &id).unwrap_err().to_string();
    assert!(err.contains("was not closed cleanly"), "{err}");
    fs.remount(false);
}

#[test]
fn a_full_disk_is_reported_with_its_cause_and_the_run_ends_once_space_returns() {
    let Some(fs) = Tmpfs::mount("2m") else {
        return;
    };
    let store = fs.path().join("store");
    let run = Run::builder().dir(&store).start().unwrap();
    let id = run.id().to_owned();
    let filler = fs.path().join("filler");
    // Fill the disk but for a little, then log more than fits.
    let free = 2 << 20;
    let _ = std::fs::write(&filler, vec![0u8; free]);
    let mut refused = None;
    for i in 0..200_000u64 {
        run.at("train/loss").append(i as f64).unwrap();
        if i % 10_000 == 9_999 {
            if let Err(e) = run.flush() {
                refused = Some(e.to_string());
                break;
            }
        }
    }
    let refused = refused.expect("a full disk makes flush() fail");
    assert!(
        refused.contains("database or disk is full"),
        "the cause is in the message: {refused}"
    );
    // Space returns: what follows is stored and the run ends finished.
    std::fs::remove_file(&filler).unwrap();
    run.at("after").assign(1).unwrap();
    run.close().unwrap();
    let back = read_only(&store, &id).unwrap();
    assert_eq!(back.at("after").fetch().unwrap(), Value::Int(1));
    assert_eq!(
        back.at("sys/state").fetch().unwrap(),
        Value::String("finished".into())
    );
}

#[test]
fn a_fifo_in_place_of_the_database_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("mkfifo")
        .arg(dir.path().join(DATABASE_FILE))
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let (done, wait) = std::sync::mpsc::channel();
    let path = dir.path().to_owned();
    std::thread::spawn(move || {
        let opened = Repository::open(&path).map(drop);
        let started = Run::builder().dir(&path).start().map(drop);
        let _ = done.send((opened, started));
    });
    let (opened, started) = wait
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("opening a FIFO store returns");
    for result in [opened, started] {
        let err = result.unwrap_err().to_string();
        assert!(err.contains("is not a regular file"), "{err}");
    }
}

#[test]
fn a_store_without_its_schema_yet_is_no_store_to_readers() {
    let dir = tempfile::tempdir().unwrap();
    // What a reader can find while a writer creates the store: the file,
    // in WAL mode, without tables.
    std::fs::write(dir.path().join(DATABASE_FILE), b"").unwrap();
    let err = Repository::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("no hippocamp store at"), "{err}");
    assert!(err.contains("holds no tables"), "{err}");
    assert!(!err.contains("schema version"), "{err}");
}

#[test]
fn a_changed_byte_in_a_series_is_an_error_naming_the_run_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder().project("p").dir(dir.path()).start().unwrap();
    run.at("train/loss").extend([0.000124, 0.5, 0.25]).unwrap();
    let id = run.id().to_owned();
    run.close().unwrap();
    drop(run);
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    let (chunk, mut data): (i64, Vec<u8>) = conn
        .query_row("SELECT chunk, data FROM chunks", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    // The first value's top byte: 0.000124 would read as about -6e82.
    let value_at = 2 + 4 + 1 + 16 + 7;
    data[value_at] ^= 0x80;
    conn.execute(
        "UPDATE chunks SET data = ?1 WHERE chunk = ?2",
        rusqlite::params![data, chunk],
    )
    .unwrap();
    drop(conn);
    let back = read_only(dir.path(), &id).unwrap();
    let err = back
        .at("train/loss")
        .fetch_values()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "the stored points of `train/loss` in run {id} are damaged"
        )),
        "{err}"
    );
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(back.at("train/loss").fetch_last().is_err());
}

/// Everything a store says, with floats as their bits: what a changed
/// byte must never alter silently.
#[derive(Debug, PartialEq)]
struct Contents {
    runs: Vec<String>,
    fields: Vec<(String, String)>,
}

fn contents(dir: &Path) -> Result<Contents, Error> {
    let repo = Repository::open(dir)?;
    let mut runs = Vec::new();
    let mut fields = Vec::new();
    for info in repo.runs()? {
        runs.push(format!(
            "{} {} {} {} {:?} {:?} {}",
            info.id,
            info.project,
            info.name,
            info.state,
            info.creation_time,
            info.tags,
            info.failed
        ));
        let run = read_only(dir, &info.id)?;
        let mut paths = Vec::new();
        collect_paths(&run.root().structure()?.entries, "", &mut paths);
        collect_paths(&run.at("sys").structure()?.entries, "sys", &mut paths);
        for path in paths {
            let handler = run.at(path.as_str());
            let text = match handler.field_type()? {
                Some(t) if t.is_series() => {
                    let points = handler.fetch_values()?;
                    let mut text = String::new();
                    for p in points {
                        let value = match p.value {
                            Value::Float(x) => format!("{:x}", x.to_bits()),
                            other => format!("{other:?}"),
                        };
                        text.push_str(&format!("{}:{value}@{:?};", p.step, p.timestamp));
                    }
                    if t == hippocamp_core::FieldType::FileSeries {
                        text.push_str(&format!("{:?}", handler.download()?));
                    }
                    text
                }
                Some(hippocamp_core::FieldType::File) => {
                    format!("{:?} {:?}", handler.fetch()?, handler.download()?)
                }
                Some(_) => match handler.fetch()? {
                    Value::Float(x) => format!("{:x}", x.to_bits()),
                    other => format!("{other:?}"),
                },
                None => "gone".into(),
            };
            fields.push((format!("{} {path}", info.id), text));
        }
    }
    Ok(Contents { runs, fields })
}

fn collect_paths(
    entries: &std::collections::BTreeMap<String, hippocamp_core::structure::Entry>,
    prefix: &str,
    out: &mut Vec<String>,
) {
    for (name, entry) in entries {
        let path = hippocamp_core::path::join(prefix, name);
        match entry {
            hippocamp_core::structure::Entry::Namespace(children) => {
                collect_paths(children, &path, out)
            }
            hippocamp_core::structure::Entry::Field { .. } => out.push(path),
        }
    }
}

fn copy_store(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in walk(from) {
        let target = to.join(entry.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn no_changed_byte_of_the_database_goes_unnoticed() {
    let pristine = tempfile::tempdir().unwrap();
    for k in 0..2 {
        let run = Run::builder()
            .project("mnist")
            .name(format!("run {k}"))
            .tags(["cnn", "baseline"])
            .dir(pristine.path())
            .start()
            .unwrap();
        run.at("params/lr").assign(0.000124).unwrap();
        run.at("params/epochs").assign(20).unwrap();
        run.at("params/optimizer").assign("adam").unwrap();
        run.at("params/augment").assign(true).unwrap();
        run.at("train/loss")
            .extend((0..3000).map(|i| 1.0 / (1.0 + i as f64)))
            .unwrap();
        run.at("train/log")
            .extend((0..200).map(|i| format!("epoch {i} done")))
            .unwrap();
        run.at("model")
            .upload_bytes(vec![7u8; 300], "w.bin")
            .unwrap();
        run.close().unwrap();
    }
    let database = pristine.path().join(DATABASE_FILE);
    assert!(!pristine
        .path()
        .join(format!("{DATABASE_FILE}-wal"))
        .exists());
    let original = contents(pristine.path()).unwrap();
    let bytes = std::fs::read(&database).unwrap();
    // A fixed sequence of pseudo-random flips (xorshift), so a failure
    // repeats.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut noticed, mut harmless) = (0, 0);
    for _ in 0..100 {
        let at = (next() % bytes.len() as u64) as usize;
        let mask = (next() % 255 + 1) as u8;
        let copy = tempfile::tempdir().unwrap();
        copy_store(pristine.path(), copy.path());
        let mut flipped = bytes.clone();
        flipped[at] ^= mask;
        std::fs::write(copy.path().join(DATABASE_FILE), &flipped).unwrap();
        let check = Repository::open(copy.path()).and_then(|repo| repo.check());
        let intact = matches!(&check, Ok(report) if report.is_intact());
        match contents(copy.path()) {
            Ok(read) if read == original => harmless += 1,
            // Never a value other than the one written: an error instead.
            Ok(read) => panic!(
                "byte {at} ^ {mask:#04x} silently changed what the store says: {:?}",
                read.fields
                    .iter()
                    .zip(&original.fields)
                    .find(|(a, b)| a != b)
            ),
            Err(_) => {
                assert!(
                    !intact,
                    "byte {at} ^ {mask:#04x}: reading fails, check says intact"
                );
                noticed += 1;
            }
        }
    }
    eprintln!("100 flips: {noticed} noticed, {harmless} changed nothing a reader sees");
}

#[test]
fn fields_made_or_deleted_in_a_batch_that_failed_stay_made_or_deleted() {
    let Some(fs) = Tmpfs::mount("4m") else {
        return;
    };
    let store = fs.path().join("store");
    let run = Run::builder().dir(&store).start().unwrap();
    let id = run.id().to_owned();
    run.at("old/x").extend([1.0, 2.0]).unwrap();
    run.flush().unwrap();
    let filler = fs.fill();
    // One batch: a new series, and `old` deleted and made again.
    run.at("new/series").append(1.0).unwrap();
    run.at("old").delete().unwrap();
    run.at("old/x").assign("text").unwrap();
    let refused = run.flush().unwrap_err().to_string();
    assert!(refused.contains("full"), "{refused}");
    std::fs::remove_file(&filler).unwrap();
    // The writer still knows the new series: its next points are stored.
    run.at("new/series").append(2.0).unwrap();
    run.flush().unwrap();
    run.close().unwrap();
    let back = read_only(&store, &id).unwrap();
    let points = back.at("new/series").fetch_values().unwrap();
    assert_eq!(
        points.last().map(|p| p.value.clone()),
        Some(Value::Float(2.0))
    );
    // And the old series is gone, not found again with its old points.
    assert!(back.at("old/x").field_type().unwrap().is_none());
}
