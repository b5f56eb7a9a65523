//! The embedded store: what a run logs is on disk and reads back exactly.

use std::collections::BTreeSet;
use std::path::Path;

use hippocamp_core::sqlite::Repository;
use hippocamp_core::{
    Appendable, Error, FieldType, File, LogOptions, Mode, ReadOnlyReason, Run, Value,
};

fn start(dir: &Path, project: &str) -> Run {
    Run::builder()
        .project(project)
        .dir(dir)
        .start()
        .expect("a run starts in a fresh store")
}

fn open(dir: &Path, id: &str, mode: Mode) -> Run {
    Run::builder()
        .dir(dir)
        .run_id(id)
        .mode(mode)
        .start()
        .expect("the run opens")
}

#[test]
fn a_run_reads_back_exactly_after_close() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .project("mnist")
        .name("baseline")
        .tags(["cnn", "base"])
        .dir(dir.path())
        .start()
        .unwrap();
    let id = run.id().to_owned();
    run.at("params/lr").assign(0.005).unwrap();
    run.at("params/nan").assign(f64::NAN).unwrap();
    run.at("params/epochs").assign(20).unwrap();
    run.at("params/ok").assign(true).unwrap();
    run.at("params/name").assign("adam").unwrap();
    let weird = [
        0.5,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        f64::from_bits(0x7ff8_0000_dead_beef),
    ];
    for v in weird {
        run.at("train/loss").append(v).unwrap();
    }
    run.at("eval/acc").append_at(10, 0.5).unwrap();
    run.at("eval/acc").append_at(20.5, 0.75).unwrap();
    run.at("log").append("epoch 1").unwrap();
    run.at("model")
        .assign(File::from_bytes(b"weights".to_vec(), "w.bin"))
        .unwrap();
    run.at("images")
        .append(File::from_bytes(b"png-0".to_vec(), "0.png"))
        .unwrap();
    run.at("images")
        .append(File::from_bytes(b"png-1".to_vec(), "1.png"))
        .unwrap();
    run.close().unwrap();
    let expected = run.structure().unwrap().to_string();
    drop(run);

    let back = open(dir.path(), &id, Mode::ReadOnly);
    assert_eq!(back.structure().unwrap().to_string(), expected);
    assert_eq!(back.at("params/lr").fetch().unwrap(), Value::Float(0.005));
    let Value::Float(nan) = back.at("params/nan").fetch().unwrap() else {
        panic!()
    };
    assert!(nan.is_nan());
    let points = back.at("train/loss").fetch_values().unwrap();
    let bits: Vec<u64> = points
        .iter()
        .map(|p| match p.value {
            Value::Float(x) => x.to_bits(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(bits, weird.map(f64::to_bits));
    assert_eq!(
        points.iter().map(|p| p.step).collect::<Vec<_>>(),
        [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    );
    let eval: Vec<f64> = back
        .at("eval/acc")
        .fetch_values()
        .unwrap()
        .iter()
        .map(|p| p.step)
        .collect();
    assert_eq!(eval, [10.0, 20.5]);
    assert_eq!(
        back.at("log").fetch_last().unwrap().value,
        Value::String("epoch 1".into())
    );
    assert_eq!(back.at("model").download().unwrap(), b"weights");
    assert_eq!(back.at("images").download_at(0).unwrap(), b"png-0");
    assert_eq!(back.at("images").download().unwrap(), b"png-1");
    let tags: BTreeSet<String> = back.at("sys/tags").fetch().unwrap().try_into().unwrap();
    assert_eq!(
        tags,
        BTreeSet::from(["base".to_string(), "cnn".to_string()])
    );
    assert_eq!(
        back.at("sys/state").fetch().unwrap(),
        Value::String("finished".into())
    );
    assert_eq!(
        back.at("sys/name").fetch().unwrap(),
        Value::String("baseline".into())
    );
}

#[test]
fn timestamps_read_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path(), "p");
    let handler = run.at("loss");
    let t = std::time::UNIX_EPOCH + std::time::Duration::new(1_700_000_000, 123_456_789);
    hippocamp_core::Appendable::append_at(
        &1.0,
        &handler,
        "",
        &hippocamp_core::LogOptions::new().timestamp(t),
    )
    .unwrap();
    let id = run.id().to_owned();
    run.close().unwrap();
    let back = open(dir.path(), &id, Mode::ReadOnly);
    assert_eq!(back.at("loss").fetch_last().unwrap().timestamp, t);
}

#[test]
fn runs_are_numbered_per_project() {
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = ["mnist", "mnist", "cifar", "mnist"]
        .iter()
        .map(|p| {
            let run = start(dir.path(), p);
            run.close().unwrap();
            run.id().to_owned()
        })
        .collect();
    assert_eq!(ids, ["MNIST-1", "MNIST-2", "CIFAR-1", "MNIST-3"]);
}

#[test]
fn resume_continues_steps_and_keeps_types() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .dir(dir.path())
        .run_id("ddp-42")
        .start()
        .unwrap();
    run.at("loss").extend([0.9, 0.8, 0.7]).unwrap();
    run.at("lr").assign(0.1).unwrap();
    run.at("tags").add(["a"]).unwrap();
    run.close().unwrap();
    drop(run);

    let run = Run::builder()
        .dir(dir.path())
        .run_id("ddp-42")
        .start()
        .unwrap();
    assert_eq!(run.id(), "ddp-42");
    run.at("loss").append(0.6).unwrap();
    assert_eq!(run.at("loss").fetch_last().unwrap().step, 3.0);
    assert!(matches!(
        run.at("loss").append_at(2, 0.1),
        Err(Error::StepNotIncreasing { last, .. }) if last == 3.0
    ));
    assert!(matches!(
        run.at("lr").assign("x"),
        Err(Error::TypeMismatch {
            field_type: FieldType::Float,
            ..
        })
    ));
    assert!(matches!(
        run.at("lr/x").assign(1),
        Err(Error::NamespaceConflict { .. })
    ));
    assert_eq!(
        run.at("sys/state").fetch().unwrap(),
        Value::String("running".into())
    );
    run.at("tags").add(["b"]).unwrap();
    run.close().unwrap();
    drop(run);

    let back = open(dir.path(), "ddp-42", Mode::ReadOnly);
    let steps: Vec<f64> = back
        .at("loss")
        .fetch_values()
        .unwrap()
        .iter()
        .map(|p| p.step)
        .collect();
    assert_eq!(steps, [0.0, 1.0, 2.0, 3.0]);
    let tags: BTreeSet<String> = back.at("tags").fetch().unwrap().try_into().unwrap();
    assert_eq!(tags.len(), 2);
}

#[test]
fn read_only_refuses_writes_naming_the_mode() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path(), "p");
    run.at("x").assign(1).unwrap();
    let id = run.id().to_owned();
    run.close().unwrap();
    let back = open(dir.path(), &id, Mode::ReadOnly);
    match back.at("x").assign(2) {
        Err(Error::ReadOnly {
            path,
            reason: ReadOnlyReason::ReadOnlyMode,
        }) => assert_eq!(path, "x"),
        other => panic!("{other:?}"),
    }
    assert!(back.at("y").append(1.0).is_err());
    assert_eq!(back.at("x").fetch().unwrap(), Value::Int(1));
}

#[test]
fn read_only_needs_an_existing_run() {
    let dir = tempfile::tempdir().unwrap();
    start(dir.path(), "p").close().unwrap();
    start(dir.path(), "p").close().unwrap();
    let err = Run::builder()
        .dir(dir.path())
        .run_id("P-9")
        .mode(Mode::ReadOnly)
        .start()
        .unwrap_err();
    match &err {
        Error::RunNotFound { id, nearest, .. } => {
            assert_eq!(id, "P-9");
            assert_eq!(nearest, &["P-1", "P-2"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().ends_with(" (nearest: P-1, P-2)"), "{err}");
    // Without an id, or with settings it would not write, read-only mode
    // is a usage mistake, not a storage error.
    for (builder, setting) in [
        (Run::builder().mode(Mode::ReadOnly), "run_id"),
        (
            Run::builder().run_id("P-1").name("x").mode(Mode::ReadOnly),
            "name",
        ),
        (
            Run::builder()
                .run_id("P-1")
                .tags(["t"])
                .mode(Mode::ReadOnly),
            "tags",
        ),
    ] {
        match builder.dir(dir.path()).start() {
            Err(Error::InvalidSetting { setting: s, .. }) => assert_eq!(s, setting),
            other => panic!("{setting}: {other:?}"),
        }
    }
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        Run::builder()
            .dir(empty.path())
            .run_id("P-1")
            .mode(Mode::ReadOnly)
            .start(),
        Err(Error::Storage(_))
    ));
}

#[test]
fn sync_mode_is_durable_at_each_call() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .dir(dir.path())
        .mode(Mode::Sync)
        .start()
        .unwrap();
    run.at("loss").append(0.5).unwrap();
    // A reader with its own connection sees it without any flush.
    let reader = open(dir.path(), run.id(), Mode::ReadOnly);
    assert_eq!(reader.at("loss").fetch_values().unwrap().len(), 1);
    run.at("loss").append(0.4).unwrap();
    assert_eq!(reader.at("loss").fetch_values().unwrap().len(), 2);
}

#[test]
fn a_reader_sees_what_a_writer_flushed() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path(), "p");
    run.at("a").assign(1).unwrap();
    run.flush().unwrap();
    let reader = open(dir.path(), run.id(), Mode::ReadOnly);
    assert_eq!(
        reader.at("sys/state").fetch().unwrap(),
        Value::String("running".into())
    );
    run.at("b/c").append(1.0).unwrap();
    run.flush().unwrap();
    assert_eq!(
        reader.at("b").field_type().unwrap(),
        Some(FieldType::Namespace)
    );
    assert_eq!(reader.at("b/c").fetch_values().unwrap().len(), 1);
}

#[test]
fn deleted_namespaces_are_gone_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path(), "p");
    run.at("tmp/x").append(1.0).unwrap();
    run.at("tmp").delete().unwrap();
    run.at("tmp").assign("now a string").unwrap();
    let id = run.id().to_owned();
    run.close().unwrap();
    let back = open(dir.path(), &id, Mode::ReadOnly);
    assert_eq!(
        back.at("tmp").fetch().unwrap(),
        Value::String("now a string".into())
    );
}

#[test]
fn clear_removes_stored_points() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path(), "p");
    run.at("s").extend([1.0, 2.0]).unwrap();
    run.flush().unwrap();
    run.at("s").clear().unwrap();
    run.at("s").append(3.0).unwrap();
    let points = run.at("s").fetch_values().unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].step, 0.0);
}

#[test]
fn equal_files_share_one_blob() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path(), "p");
    run.at("a").upload_bytes(b"same".to_vec(), "a.txt").unwrap();
    run.at("b").upload_bytes(b"same".to_vec(), "b.txt").unwrap();
    run.close().unwrap();
    let blobs: usize = walk(&dir.path().join("files"));
    assert_eq!(blobs, 1);
}

fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk(&e.path())
            } else {
                1
            }
        })
        .sum()
}

#[test]
fn the_repository_lists_runs() {
    let dir = tempfile::tempdir().unwrap();
    let a = Run::builder()
        .project("mnist")
        .name("a")
        .tags(["x"])
        .dir(dir.path())
        .start()
        .unwrap();
    a.close().unwrap();
    let b = Run::builder()
        .project("mnist")
        .name("b")
        .dir(dir.path())
        .start()
        .unwrap();
    b.set_failed(true).unwrap();
    b.flush().unwrap();
    let runs = Repository::open(dir.path()).unwrap().runs().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (
            runs[0].id.as_str(),
            runs[0].name.as_str(),
            runs[0].state.as_str()
        ),
        ("MNIST-1", "a", "finished")
    );
    assert_eq!(runs[0].tags, ["x"]);
    assert_eq!((runs[1].state.as_str(), runs[1].failed), ("running", true));
}

#[test]
fn a_file_that_is_not_a_store_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hippocamp.db"),
        b"this is not sqlite, just some text that is long enough",
    )
    .unwrap();
    for mode in [Mode::Async, Mode::ReadOnly] {
        match Run::builder()
            .dir(dir.path())
            .run_id("X-1")
            .mode(mode)
            .start()
        {
            Err(Error::Storage(e)) => assert!(e.to_string().contains("storage error"), "{e}"),
            other => panic!("{other:?}"),
        }
    }
    assert!(Repository::open(dir.path()).is_err());
}

#[test]
fn another_sqlite_database_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path(), "p");
    run.close().unwrap();
    drop(run);
    let other = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.path().join("hippocamp.db"),
        other.path().join("hippocamp.db"),
    )
    .unwrap();
    // Same file, but claim a newer schema: refused, never misread.
    {
        let conn = rusqlite_conn(&other.path().join("hippocamp.db"));
        conn.execute(
            "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    }
    match Run::builder().dir(other.path()).start() {
        Err(Error::Storage(e)) => assert!(e.to_string().contains("newer"), "{e}"),
        other => panic!("{other:?}"),
    }
    {
        let conn = rusqlite_conn(&other.path().join("hippocamp.db"));
        conn.execute("DROP TABLE meta", []).unwrap();
    }
    match Run::builder().dir(other.path()).start() {
        Err(Error::Storage(e)) => assert!(e.to_string().contains("not a hippocamp store"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_truncated_store_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path(), "p");
    run.at("x").extend((0..1000).map(f64::from)).unwrap();
    let id = run.id().to_owned();
    run.close().unwrap();
    drop(run);
    let db = dir.path().join("hippocamp.db");
    let len = std::fs::metadata(&db).unwrap().len();
    let bytes = std::fs::read(&db).unwrap();
    std::fs::write(&db, &bytes[..(len / 3) as usize]).unwrap();
    let _ = std::fs::remove_file(dir.path().join("hippocamp.db-wal"));
    let result = Run::builder()
        .dir(dir.path())
        .run_id(&id)
        .mode(Mode::ReadOnly)
        .start();
    if let Ok(run) = result {
        // Whatever survived must come back as an error or data, never a panic.
        let _ = run.at("x").fetch_values();
    }
}

fn rusqlite_conn(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn an_older_schema_is_migrated_when_opened_for_writing() {
    let dir = tempfile::tempdir().unwrap();
    // A store as the first, pre-release schema (version 0) left it: only
    // its marker.
    {
        let conn = rusqlite_conn(&dir.path().join("hippocamp.db"));
        conn.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
             INSERT INTO meta VALUES ('format', 'hippocamp'), ('schema_version', '0');",
        )
        .unwrap();
    }
    match Repository::open(dir.path()) {
        Err(Error::Storage(e)) => {
            assert!(e.to_string().contains("open it for writing once"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    let run = start(dir.path(), "p");
    run.at("x").assign(1).unwrap();
    run.close().unwrap();
    let version: String = rusqlite_conn(&dir.path().join("hippocamp.db"))
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, hippocamp_core::sqlite::SCHEMA_VERSION.to_string());
    assert_eq!(
        Repository::open(dir.path()).unwrap().runs().unwrap().len(),
        1
    );
}

#[test]
fn a_background_write_error_is_returned_by_the_next_flush() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path(), "p");
    // Make the blob folder impossible to create: a file stands in its way.
    std::fs::remove_dir_all(dir.path().join("files")).unwrap();
    std::fs::write(dir.path().join("files"), b"in the way").unwrap();
    // The call itself succeeds: it only checks and queues.
    run.at("model")
        .upload_bytes(b"weights".to_vec(), "w.bin")
        .unwrap();
    match run.flush() {
        Err(Error::Storage(e)) => assert!(e.to_string().contains("cannot store file"), "{e}"),
        other => panic!("the writer's error must reach flush: {other:?}"),
    }
    // Reported once; only that upload was left out: the run goes on, and
    // what follows is stored.
    std::fs::remove_file(dir.path().join("files")).unwrap();
    run.at("after").assign(1).unwrap();
    run.flush().unwrap();
    let id = run.id().to_owned();
    run.close().unwrap();
    let back = open(dir.path(), &id, Mode::ReadOnly);
    assert_eq!(back.at("after").fetch().unwrap(), Value::Int(1));
    assert_eq!(
        back.at("sys/state").fetch().unwrap(),
        Value::String("finished".into())
    );
}

#[test]
fn a_background_error_is_returned_by_close_too() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path(), "p");
    std::fs::remove_dir_all(dir.path().join("files")).unwrap();
    std::fs::write(dir.path().join("files"), b"in the way").unwrap();
    run.at("images")
        .append(File::from_bytes(b"png".to_vec(), "0.png"))
        .unwrap();
    assert!(matches!(run.close(), Err(Error::Storage(_))));
}

/// Opens the run read-only and returns the storage error `read` gives, or
/// the one opening gives.
fn storage_error(dir: &Path, id: &str, read: impl FnOnce(&Run) -> Result<(), Error>) -> String {
    let result = Run::builder()
        .dir(dir)
        .run_id(id)
        .mode(Mode::ReadOnly)
        .start()
        .and_then(|run| read(&run));
    match result {
        Err(Error::Storage(e)) => e.to_string(),
        other => panic!("a corrupt store must be a storage error: {other:?}"),
    }
}

#[test]
fn corrupt_rows_of_a_store_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path(), "p");
    run.at("x").assign(0.5).unwrap();
    run.at("s").extend([1.0, 2.0]).unwrap();
    run.at("f")
        .upload_bytes(b"bytes".to_vec(), "f.bin")
        .unwrap();
    let id = run.id().to_owned();
    run.close().unwrap();
    drop(run);
    let conn = rusqlite_conn(&dir.path().join("hippocamp.db"));
    let sql = |statement: &str| {
        conn.execute_batch(statement).unwrap();
    };

    // A series chunk that is not one.
    sql("UPDATE chunks SET data = x'01000200'");
    let err = storage_error(dir.path(), &id, |run| run.at("s").fetch_values().map(drop));
    assert!(
        err.contains(&format!("the stored points of `s` in run {id} are damaged")),
        "{err}"
    );

    // A field row changed after it was written: its checksum says so.
    sql("UPDATE fields SET int_value = int_value + 1 WHERE path = 'x'");
    let err = storage_error(dir.path(), &id, |_| Ok(()));
    assert!(
        err.contains(&format!("the stored value of `x` in run {id} is damaged")),
        "{err}"
    );
    // The rest goes without checksums (as rows written before them), to
    // reach the checks behind them.
    sql("UPDATE fields SET crc = NULL");

    // A file whose content address is not a SHA-256: never read outside
    // the store (nor split inside a character).
    for sha in ["aé", "../../../etc/passwd", ""] {
        sql(&format!(
            "UPDATE fields SET file_sha = '{sha}' WHERE path = 'f'"
        ));
        let err = storage_error(dir.path(), &id, |run| run.at("f").download().map(drop));
        assert!(err.contains("is not a SHA-256"), "{sha:?}: {err}");
    }

    // A field of a type this hippocamp does not know.
    sql("UPDATE fields SET type = 'Complex' WHERE path = 'x'");
    let err = storage_error(dir.path(), &id, |_| Ok(()));
    assert!(
        err.contains("`x` has an unknown field type \"Complex\""),
        "{err}"
    );

    // A Float whose value is missing (but which holds something else).
    sql("UPDATE fields SET type = 'Float', int_value = NULL, text_value = 'x' WHERE path = 'x'");
    let err = storage_error(dir.path(), &id, |_| Ok(()));
    assert!(
        err.contains("`x` (Float) has no value in the store"),
        "{err}"
    );

    // A schema version that is not one, for writers and readers alike.
    for version in ["-1", "one"] {
        sql(&format!(
            "UPDATE meta SET value = '{version}' WHERE key = 'schema_version'"
        ));
        for mode in [Mode::Async, Mode::ReadOnly] {
            match Run::builder()
                .dir(dir.path())
                .run_id(&id)
                .mode(mode)
                .start()
            {
                Err(Error::Storage(e)) => {
                    assert!(e.to_string().contains("is not a version number"), "{e}")
                }
                other => panic!("{version} {mode:?}: {other:?}"),
            }
        }
    }
}

#[test]
fn a_field_another_writer_made_another_type_is_refused_by_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(dir.path(), "p");
    let id = first.id().to_owned();
    first.flush().unwrap();
    // A second writer of the same run, which has not seen `x` yet.
    let second = open(dir.path(), &id, Mode::Async);
    first.at("x").assign(1.5).unwrap();
    first.flush().unwrap();
    second.at("x").append(0.5).unwrap();
    // The usual error, as if the second writer had seen the first's write.
    match second.flush() {
        Err(Error::TypeMismatch {
            path,
            field_type: FieldType::Float,
            value_type: FieldType::FloatSeries,
        }) => assert_eq!(path, "x"),
        other => panic!("the store's refusal must reach flush: {other:?}"),
    }
    // Only those writes were left out: the second writer goes on.
    second.at("y").assign(2).unwrap();
    second.flush().unwrap();
    second.close().unwrap();
    first.close().unwrap();
    let back = open(dir.path(), &id, Mode::ReadOnly);
    assert_eq!(back.at("x").fetch().unwrap(), Value::Float(1.5));
    assert_eq!(back.at("y").fetch().unwrap(), Value::Int(2));
}

#[test]
fn no_point_predates_its_run() {
    let dir = tempfile::tempdir().unwrap();
    let stored = start(dir.path(), "p");
    let in_memory = Run::builder().mode(Mode::Debug).start().unwrap();
    for run in [stored, in_memory] {
        run.at("x").append(1.0).unwrap();
        let created: std::time::SystemTime = run
            .at("sys/creation_time")
            .fetch()
            .unwrap()
            .try_into()
            .unwrap();
        let logged = run.at("x").fetch_last().unwrap().timestamp;
        assert!(
            logged >= created,
            "{logged:?} < {created:?} in {:?}",
            run.mode()
        );
    }
}

#[test]
fn new_run_numbers_skip_ids_that_are_taken() {
    let dir = tempfile::tempdir().unwrap();
    let chosen = Run::builder()
        .project("p")
        .dir(dir.path())
        .run_id("P-2")
        .start()
        .unwrap();
    chosen.close().unwrap();
    let ids: Vec<String> = (0..2)
        .map(|_| {
            let run = start(dir.path(), "p");
            run.close().unwrap();
            run.id().to_owned()
        })
        .collect();
    assert_eq!(ids, ["P-1", "P-3"]);
}

/// The chunks of run `id`'s series `path`: their number and their bytes.
fn chunk_stats(dir: &Path, id: &str, path: &str) -> (i64, i64) {
    let conn = rusqlite_conn(&dir.join("hippocamp.db"));
    conn.query_row(
        "SELECT count(*), sum(length(data)) FROM chunks JOIN fields USING (field)
         JOIN runs USING (run) WHERE runs.id = ?1 AND fields.path = ?2",
        [id, path],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

#[test]
fn a_series_flushed_point_by_point_costs_what_one_written_at_once_does() {
    const POINTS: usize = 1_000;
    let dir = tempfile::tempdir().unwrap();
    // Written in one batch however slow the machine.
    let at_once = Run::builder()
        .project("p")
        .dir(dir.path())
        .flush_interval(std::time::Duration::from_secs(600))
        .start()
        .unwrap();
    let by_point = start(dir.path(), "p");
    // The same points, timestamps included (a point's timestamp costs
    // more bytes the longer after the one before it was logged).
    let time = |i: usize| std::time::UNIX_EPOCH + std::time::Duration::from_millis(i as u64);
    let log = |run: &Run, i: usize| {
        let options = LogOptions::new().timestamp(time(i));
        Appendable::append_at(&(i as f64).sin(), run.root(), "loss", &options).unwrap();
    };
    for i in 0..POINTS {
        log(&at_once, i);
    }
    for i in 0..POINTS {
        log(&by_point, i);
        by_point.flush().unwrap();
    }
    let (a, b) = (at_once.id().to_owned(), by_point.id().to_owned());
    at_once.close().unwrap();
    by_point.close().unwrap();
    let (one_chunk, bytes_at_once) = chunk_stats(dir.path(), &a, "loss");
    let (chunks, bytes_by_point) = chunk_stats(dir.path(), &b, "loss");
    assert_eq!(one_chunk, 1);
    // Small chunks merge eight at a time, like the carries of counting in
    // octal, up to chunks of 64 points, which stay: 1,000 points are 15
    // chunks of 64, 5 of 8 and none of 1.
    assert_eq!(
        chunks,
        (POINTS / 64 + POINTS % 64 / 8 + POINTS % 8) as i64,
        "{chunks} chunks"
    );
    eprintln!(
        "{POINTS} points: {:.2} bytes each flushed one by one, {:.2} written at once",
        bytes_by_point as f64 / POINTS as f64,
        bytes_at_once as f64 / POINTS as f64
    );
    // Each chunk's header, first timestamp and checksum cost a few dozen
    // bytes; the points themselves cost the same.
    assert!(
        bytes_by_point <= bytes_at_once + 64 * chunks,
        "{bytes_by_point} bytes by point against {bytes_at_once} at once"
    );
    let back = open(dir.path(), &b, Mode::ReadOnly);
    let points = back.at("loss").fetch_values().unwrap();
    assert_eq!(points.len(), POINTS);
    for (i, p) in points.iter().enumerate() {
        assert_eq!(p.step, i as f64);
        assert_eq!(p.value, Value::Float((i as f64).sin()));
    }
}

#[test]
fn a_store_of_schema_1_gets_writers_and_checksummed_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path(), "p");
    run.at("loss").extend([0.5, f64::NAN, 0.25]).unwrap();
    let id = run.id().to_owned();
    run.close().unwrap();
    drop(run);
    // Back to what schema 1 was: no writers, chunks without a checksum.
    let conn = rusqlite_conn(&dir.path().join("hippocamp.db"));
    let data: Vec<u8> = conn
        .query_row("SELECT data FROM chunks", [], |r| r.get(0))
        .unwrap();
    let mut legacy = data[..data.len() - 4].to_vec();
    legacy[0] = 1;
    conn.execute_batch(
        "DROP TABLE writers; ALTER TABLE fields DROP COLUMN crc; ALTER TABLE runs DROP COLUMN crc;
         ALTER TABLE chunks DROP COLUMN summary; DROP INDEX fields_by_path;
         UPDATE meta SET value = '1' WHERE key = 'schema_version';",
    )
    .unwrap();
    conn.execute("UPDATE chunks SET data = ?1", [&legacy])
        .unwrap();
    drop(conn);

    start(dir.path(), "p").close().unwrap();
    let conn = rusqlite_conn(&dir.path().join("hippocamp.db"));
    let migrated: Vec<u8> = conn
        .query_row(
            "SELECT data FROM chunks JOIN fields USING (field) WHERE path = 'loss'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(migrated, data, "rewritten with its checksum, as new");
    let unsealed: i64 = conn
        .query_row("SELECT count(*) FROM fields WHERE crc IS NULL", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(unsealed, 0, "every field row has its checksum");
    let writers: i64 = conn
        .query_row("SELECT count(*) FROM writers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(writers, 0, "both runs closed");
    let back = open(dir.path(), &id, Mode::ReadOnly);
    let values: Vec<u64> = back
        .at("loss")
        .fetch_values()
        .unwrap()
        .iter()
        .map(|p| match p.value {
            Value::Float(x) => x.to_bits(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        values,
        [0.5f64.to_bits(), f64::NAN.to_bits(), 0.25f64.to_bits()]
    );
}

#[test]
fn readers_see_a_new_run_only_with_its_sys_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    // The store exists, so that readers can open it from the start.
    start(&path, "p").close().unwrap();
    let writer = std::thread::spawn(move || {
        for _ in 0..20 {
            let run = Run::builder()
                .project("p")
                .name("named")
                .tags(["t"])
                .dir(&path)
                .start()
                .unwrap();
            run.at("x").assign(1).unwrap();
            run.close().unwrap();
        }
    });
    let mut seen = BTreeSet::new();
    loop {
        // Once the writer is done, one more listing sees every run.
        let done = writer.is_finished();
        let runs = Repository::open(dir.path()).unwrap().runs().unwrap();
        for info in runs.iter().filter(|r| seen.insert(r.id.clone())) {
            let back = open(dir.path(), &info.id, Mode::ReadOnly);
            assert_eq!(
                back.at("sys/id").fetch().unwrap(),
                Value::String(info.id.clone()),
                "{} is listed before its sys/ fields exist",
                info.id
            );
            if info.id != "P-1" {
                assert_eq!(info.name, "named");
                assert_eq!(info.tags, ["t"]);
            }
        }
        if done {
            break;
        }
    }
    writer.join().unwrap();
    assert_eq!(seen.len(), 21);
}

#[test]
fn import_applies_the_rules_of_start_to_ids_projects_and_file_names() {
    let source = tempfile::tempdir().unwrap();
    let run = start(source.path(), "p");
    run.at("model")
        .upload_bytes(b"w".to_vec(), "w.bin")
        .unwrap();
    let id = run.id().to_owned();
    run.close().unwrap();
    let dump = Repository::open(source.path())
        .unwrap()
        .export_run(&id)
        .unwrap();
    let target = tempfile::tempdir().unwrap();
    let mut store = Repository::open_for_writing(target.path()).unwrap();
    let mut bad_id = dump.clone();
    bad_id.id = "a\nb".into();
    let mut long_id = dump.clone();
    long_id.id = "x".repeat(300);
    let mut bad_project = dump.clone();
    bad_project.project = "\0".into();
    let mut bad_name = dump.clone();
    for field in &mut bad_name.fields {
        if let hippocamp_core::sqlite::FieldData::File(f) = &mut field.data {
            f.name = "w\0.bin".into();
        }
    }
    for (what, dump) in [
        ("id", bad_id),
        ("long id", long_id),
        ("project", bad_project),
        ("file name", bad_name),
    ] {
        assert!(
            store.import_run(&dump, Some(source.path())).is_err(),
            "a bad {what} is refused"
        );
    }
    assert!(store.runs().unwrap().is_empty());
}

#[test]
fn a_writer_refused_for_stale_steps_goes_on_after_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let id = "ddp-1";
    open(dir.path(), id, Mode::Async).close().unwrap();
    // Three writers of one run, as ranks would be; none has seen the
    // others' points.
    let first = open(dir.path(), id, Mode::Sync);
    let sync = open(dir.path(), id, Mode::Sync);
    let queued = open(dir.path(), id, Mode::Async);
    for i in 0..10 {
        first.at("loss").append(i as f64).unwrap();
    }
    // Refused at the call in sync mode, then on after the stored steps.
    match sync.at("loss").append(100.0) {
        Err(Error::StepNotIncreasing { step, last, path }) => {
            assert_eq!((path.as_str(), step, last), ("loss", 0.0, 9.0))
        }
        other => panic!("{other:?}"),
    }
    sync.at("loss").append(101.0).unwrap();
    // Refused at the flush in async mode, then on likewise.
    queued.at("loss").append(200.0).unwrap();
    match queued.flush() {
        Err(Error::StepNotIncreasing { last, .. }) => assert_eq!(last, 10.0),
        other => panic!("{other:?}"),
    }
    queued.at("loss").append(201.0).unwrap();
    queued.flush().unwrap();
    for run in [first, sync, queued] {
        run.close().unwrap();
    }
    let back = open(dir.path(), id, Mode::ReadOnly);
    let points = back.at("loss").fetch_values().unwrap();
    let steps: Vec<f64> = points.iter().map(|p| p.step).collect();
    assert_eq!(steps, (0..12).map(f64::from).collect::<Vec<_>>());
    assert_eq!(points[10].value, Value::Float(101.0));
    assert_eq!(points[11].value, Value::Float(201.0));
    assert_eq!(
        back.at("sys/state").fetch().unwrap(),
        Value::String("finished".into())
    );
}

#[test]
fn a_run_whose_id_predates_the_id_rules_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path(), "p");
    run.at("x").assign(1).unwrap();
    run.close().unwrap();
    drop(run);
    // As a store made before the rules (and before checksums) has it.
    let conn = rusqlite_conn(&dir.path().join("hippocamp.db"));
    conn.execute_batch(
        "UPDATE runs SET id = 'exp 1', crc = NULL;
         UPDATE fields SET text_value = 'exp 1', crc = NULL WHERE path = 'sys/id';",
    )
    .unwrap();
    drop(conn);
    let back = open(dir.path(), "exp 1", Mode::ReadOnly);
    assert_eq!(back.at("x").fetch().unwrap(), Value::Int(1));
    let resumed = open(dir.path(), "exp 1", Mode::Async);
    resumed.at("y").assign(2).unwrap();
    resumed.close().unwrap();
    // A new run gets no such id.
    match Run::builder().dir(dir.path()).run_id("exp 2").start() {
        Err(Error::InvalidSetting { setting, .. }) => assert_eq!(setting, "run_id"),
        other => panic!("{other:?}"),
    }
}
