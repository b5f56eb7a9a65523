//! End-to-end tests of the commands that write or export: `export`,
//! `import`, `tag`, `rm` and `gc`, run as the `hippocamp` binary on stores
//! that the library wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use hippocamp_core::sqlite::{Repository, RunInfo};
use hippocamp_core::{File, Mode, Run, Value};

/// A NaN with a payload other than the canonical one.
const ODD_NAN: u64 = 0x7ff8_0000_0000_0001;

fn hippocamp(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hippocamp"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Succeeded, and printed nothing on stderr (no progress bar off a terminal).
fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout(&output)
}

/// Failed with exit code 2 and one line on stderr containing `wanted`.
fn fails(output: Output, wanted: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    assert!(stderr.contains(wanted), "{stderr:?} lacks {wanted:?}");
    stderr
}

/// MNIST-1: every field type, non-finite floats, files, a file series and
/// tags; closed (finished).
fn full_run(dir: &Path) -> Run {
    let run = Run::builder()
        .project("mnist")
        .name("baseline")
        .tags(["cnn", "draft"])
        .dir(dir)
        .start()
        .unwrap();
    run.at("params/lr").assign(0.001).unwrap();
    run.at("params/nan").assign(f64::NAN).unwrap();
    run.at("params/odd_nan")
        .assign(f64::from_bits(ODD_NAN))
        .unwrap();
    run.at("params/inf").assign(f64::INFINITY).unwrap();
    run.at("params/neg_zero").assign(-0.0).unwrap();
    run.at("params/epochs").assign(i64::MIN).unwrap();
    run.at("params/shuffle").assign(true).unwrap();
    run.at("params/optimizer")
        .assign("adam, \"quoted\"\nline")
        .unwrap();
    run.at("params/started")
        .assign(std::time::UNIX_EPOCH + std::time::Duration::from_nanos(1_714_564_800_123_456_789))
        .unwrap();
    run.at("model")
        .upload_bytes(b"model weights".to_vec(), "model.bin")
        .unwrap();
    let loss = run.at("train/loss");
    loss.append_at(0.5, 1.0).unwrap();
    loss.append_at(2, f64::NAN).unwrap();
    loss.append_at(3, f64::from_bits(ODD_NAN)).unwrap();
    loss.append_at(10, f64::NEG_INFINITY).unwrap();
    loss.append_at(11, 0.1).unwrap();
    run.at("train/log").append("epoch 1, \"ok\"").unwrap();
    run.at("train/log").append("epoch 2").unwrap();
    run.at("images")
        .append(File::from_bytes(b"png 0".to_vec(), "0.png"))
        .unwrap();
    run.at("images")
        .append(File::from_bytes(b"png 1".to_vec(), "1.png"))
        .unwrap();
    run.at("labels").add(["a", "b,c"]).unwrap();
    run.close().unwrap();
    run
}

fn small_run(dir: &Path, file: &[u8]) -> String {
    let run = Run::builder().project("mnist").dir(dir).start().unwrap();
    run.at("params/lr").assign(0.1).unwrap();
    run.at("artifact")
        .upload_bytes(file.to_vec(), "artifact.bin")
        .unwrap();
    run.close().unwrap();
    run.id().to_owned()
}

fn runs(dir: &Path) -> Vec<RunInfo> {
    Repository::open(dir).unwrap().runs().unwrap()
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
}

#[test]
fn json_export_and_import_give_the_same_run() {
    let (a, b, out, again) = (tmp(), tmp(), tmp(), tmp());
    full_run(a.path());
    let printed = ok(hippocamp(
        a.path(),
        &[
            "export",
            "MNIST-1",
            "--format",
            "json",
            "-o",
            out.path().to_str().unwrap(),
        ],
    ));
    assert!(printed.contains("exported 1 run"), "{printed}");
    let json = read(out.path().join("MNIST-1.json"));
    assert!(json.starts_with("{\"format\":\"hippocamp-run\",\"version\":1,\"id\":\"MNIST-1\""));
    assert!(
        json.contains(r#"{"path":"params/nan","type":"Float","value":"NaN"}"#),
        "{json}"
    );
    assert!(json
        .contains(r#"{"path":"params/odd_nan","type":"Float","value":"nan:0x7ff8000000000001"}"#));
    assert!(json.contains(r#"{"path":"params/neg_zero","type":"Float","value":-0.0}"#));
    assert!(
        json.contains(r#"{"path":"params/started","type":"Datetime","value":1714564800123456789}"#)
    );
    assert!(json.contains(r#"{"path":"sys/tags","type":"StringSet","items":["cnn","draft"]}"#));
    assert!(json.contains(r#"{"step":10.0,"value":"-inf","timestamp_ns":"#));
    // File contents are copied beside the JSON, named by their SHA-256.
    let files: Vec<PathBuf> = std::fs::read_dir(out.path().join("MNIST-1.files"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 3);

    let printed = ok(hippocamp(
        b.path(),
        &["import", out.path().join("MNIST-1.json").to_str().unwrap()],
    ));
    assert_eq!(printed, "imported MNIST-1\n");
    // Exported again from the new store, the run is the same, byte for byte.
    ok(hippocamp(
        b.path(),
        &[
            "export",
            "--all",
            "--format",
            "json",
            "-o",
            again.path().to_str().unwrap(),
        ],
    ));
    assert_eq!(read(again.path().join("MNIST-1.json")), json);
    for file in &files {
        let name = file.file_name().unwrap();
        assert_eq!(
            std::fs::read(file).unwrap(),
            std::fs::read(again.path().join("MNIST-1.files").join(name)).unwrap()
        );
    }

    // And through the library: values, bits, steps, timestamps, files, state.
    let original = Run::builder()
        .dir(a.path())
        .run_id("MNIST-1")
        .mode(Mode::ReadOnly)
        .start()
        .unwrap();
    let imported = Run::builder()
        .dir(b.path())
        .run_id("MNIST-1")
        .mode(Mode::ReadOnly)
        .start()
        .unwrap();
    for path in [
        "params/lr",
        "params/epochs",
        "params/shuffle",
        "params/optimizer",
        "params/started",
        "labels",
        "sys/tags",
        "sys/name",
        "sys/state",
        "sys/creation_time",
    ] {
        assert_eq!(
            original.at(path).fetch().unwrap(),
            imported.at(path).fetch().unwrap(),
            "{path}"
        );
    }
    for path in [
        "params/nan",
        "params/odd_nan",
        "params/inf",
        "params/neg_zero",
    ] {
        let bits = |run: &Run| match run.at(path).fetch().unwrap() {
            Value::Float(x) => x.to_bits(),
            other => panic!("{other:?}"),
        };
        assert_eq!(bits(&original), bits(&imported), "{path}");
    }
    assert_eq!(
        match imported.at("params/odd_nan").fetch().unwrap() {
            Value::Float(x) => x.to_bits(),
            _ => 0,
        },
        ODD_NAN
    );
    for path in ["train/loss", "train/log", "images"] {
        let a_points = original.at(path).fetch_values().unwrap();
        let b_points = imported.at(path).fetch_values().unwrap();
        assert_eq!(a_points.len(), b_points.len());
        for (p, q) in a_points.iter().zip(&b_points) {
            assert_eq!(p.step.to_bits(), q.step.to_bits());
            assert_eq!(p.timestamp, q.timestamp);
            match (&p.value, &q.value) {
                (Value::Float(x), Value::Float(y)) => assert_eq!(x.to_bits(), y.to_bits()),
                (x, y) => assert_eq!(x, y),
            }
        }
    }
    assert_eq!(imported.at("model").download().unwrap(), b"model weights");
    assert_eq!(imported.at("images").download_at(1).unwrap(), b"png 1");
    let info = &runs(b.path())[0];
    assert_eq!(
        (info.state.as_str(), info.name.as_str()),
        ("finished", "baseline")
    );
    assert_eq!(info.creation_time, runs(a.path())[0].creation_time);

    // Imported again: the id clashes, so it says so and takes the next one.
    let printed = ok(hippocamp(
        b.path(),
        &["import", out.path().to_str().unwrap()],
    ));
    assert_eq!(
        printed,
        "imported MNIST-1 as MNIST-2 (the store has a run MNIST-1 already)\n"
    );
    let ids: Vec<String> = runs(b.path()).into_iter().map(|r| r.id).collect();
    assert_eq!(ids, ["MNIST-1", "MNIST-2"]);
    let copy = Run::builder()
        .dir(b.path())
        .run_id("MNIST-2")
        .mode(Mode::ReadOnly)
        .start()
        .unwrap();
    assert_eq!(
        copy.at("sys/id").fetch().unwrap(),
        Value::String("MNIST-2".into())
    );
    assert_eq!(copy.at("model").download().unwrap(), b"model weights");
    // A new run of the project is numbered after the imported ones.
    let next = Run::builder()
        .project("mnist")
        .dir(b.path())
        .start()
        .unwrap();
    assert_eq!(next.id(), "MNIST-3");
    next.close().unwrap();
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn import_reads_a_folder_of_exports() {
    let (a, b, out) = (tmp(), tmp(), tmp());
    small_run(a.path(), b"first");
    small_run(a.path(), b"second");
    let o = out.path().to_str().unwrap();
    let printed = ok(hippocamp(
        a.path(),
        &["export", "--all", "--format", "json", "-o", o],
    ));
    assert!(
        printed.ends_with(&format!("exported 2 runs to {o}\n")),
        "{printed}"
    );
    assert_eq!(
        ok(hippocamp(b.path(), &["import", o])),
        "imported MNIST-1\nimported MNIST-2\n"
    );
    let run = Run::builder()
        .dir(b.path())
        .run_id("MNIST-2")
        .mode(Mode::ReadOnly)
        .start()
        .unwrap();
    assert_eq!(run.at("artifact").download().unwrap(), b"second");
    // A folder with one bad export imports nothing.
    let c = tmp();
    std::fs::write(out.path().join("MNIST-3.json"), "{}").unwrap();
    fails(hippocamp(c.path(), &["import", o]), "MNIST-3.json");
    assert!(!c.path().join("hippocamp.db").exists());
}

#[test]
fn csv_export_writes_fields_series_and_files() {
    let (a, out) = (tmp(), tmp());
    let run = full_run(a.path());
    ok(hippocamp(
        a.path(),
        &[
            "export",
            "--all",
            "--format",
            "csv",
            "-o",
            out.path().to_str().unwrap(),
        ],
    ));
    let dir = out.path().join("MNIST-1");
    let fields = read(dir.join("fields.csv"));
    let mut lines = fields.lines();
    assert_eq!(lines.next(), Some("path,type,value"));
    for row in [
        "params/lr,Float,0.001",
        "params/nan,Float,NaN",
        "params/odd_nan,Float,nan:0x7ff8000000000001",
        "params/inf,Float,inf",
        "params/neg_zero,Float,-0.0",
        "params/epochs,Int,-9223372036854775808",
        "params/shuffle,Bool,true",
        "params/started,Datetime,1714564800123456789",
        "train/loss,FloatSeries,series/train/loss.csv",
        "train/log,StringSeries,series/train/log.csv",
        "images,FileSeries,series/images.csv",
        "labels,StringSet,\"[\"\"a\"\",\"\"b,c\"\"]\"",
        "sys/state,String,finished",
        "sys/name,String,baseline",
    ] {
        assert!(
            fields.lines().any(|l| l == row),
            "no row {row:?} in\n{fields}"
        );
    }
    assert!(
        fields.contains("params/optimizer,String,\"adam, \"\"quoted\"\"\nline\""),
        "{fields}"
    );
    let model_sha = sha_of(b"model weights");
    assert!(
        fields.contains(&format!(
            "model,File,\"{{\"\"name\"\":\"\"model.bin\"\",\"\"size\"\":13,\"\"sha256\"\":\"\"{model_sha}\"\"}}\""
        )),
        "{fields}"
    );
    assert_eq!(
        std::fs::read(dir.join("files").join(&model_sha)).unwrap(),
        b"model weights"
    );

    let ns = |run: &Run, path: &str| -> Vec<String> {
        run.at(path)
            .fetch_values()
            .unwrap()
            .iter()
            .map(|p| {
                p.timestamp
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
                    .to_string()
            })
            .collect()
    };
    let t = ns(&run, "train/loss");
    assert_eq!(
        read(dir.join("series/train/loss.csv")),
        format!(
            "step,value,timestamp_ns\n0.5,1.0,{}\n2.0,NaN,{}\n3.0,nan:0x7ff8000000000001,{}\n10.0,-inf,{}\n11.0,0.1,{}\n",
            t[0], t[1], t[2], t[3], t[4]
        )
    );
    let t = ns(&run, "train/log");
    assert_eq!(
        read(dir.join("series/train/log.csv")),
        format!(
            "step,value,timestamp_ns\n0.0,\"epoch 1, \"\"ok\"\"\",{}\n1.0,epoch 2,{}\n",
            t[0], t[1]
        )
    );
    let t = ns(&run, "images");
    assert_eq!(
        read(dir.join("series/images.csv")),
        format!(
            "step,name,size,sha256,timestamp_ns\n0.0,0.png,5,{},{}\n1.0,1.png,5,{},{}\n",
            sha_of(b"png 0"),
            t[0],
            sha_of(b"png 1"),
            t[1]
        )
    );
    assert_eq!(
        std::fs::read(dir.join("files").join(sha_of(b"png 1"))).unwrap(),
        b"png 1"
    );
}

#[test]
fn parquet_export_writes_fields_and_points_tables() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::{Field, Row};

    let (a, out) = (tmp(), tmp());
    let run = full_run(a.path());
    ok(hippocamp(
        a.path(),
        &[
            "export",
            "MNIST-1",
            "--format",
            "parquet",
            "-o",
            out.path().to_str().unwrap(),
        ],
    ));
    let dir = out.path().join("MNIST-1");
    let rows = |name: &str| -> Vec<Row> {
        let file = std::fs::File::open(dir.join(name)).unwrap();
        let reader = SerializedFileReader::new(file).unwrap();
        reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    let columns = |row: &Row| -> Vec<(String, Field)> {
        row.get_column_iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };

    let fields = rows("fields.parquet");
    let find = |path: &str| -> Vec<(String, Field)> {
        let row = fields
            .iter()
            .find(|r| matches!(&r.get_column_iter().next().unwrap().1, Field::Str(p) if p == path))
            .unwrap_or_else(|| panic!("no row {path}"));
        columns(row)
    };
    let field_names: Vec<String> = find("params/lr").into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        field_names,
        ["path", "type", "value", "float_value", "int_value"]
    );
    let odd = find("params/odd_nan");
    assert_eq!(odd[1].1, Field::Str("Float".into()));
    assert_eq!(odd[2].1, Field::Str("nan:0x7ff8000000000001".into()));
    match odd[3].1 {
        Field::Double(x) => assert_eq!(x.to_bits(), ODD_NAN),
        ref other => panic!("{other:?}"),
    }
    let started = find("params/started");
    assert_eq!(started[4].1, Field::Long(1_714_564_800_123_456_789));
    assert_eq!(find("params/shuffle")[4].1, Field::Long(1));
    assert_eq!(find("train/loss")[2].1, Field::Null);
    assert_eq!(
        find("sys/tags")[2].1,
        Field::Str(r#"["cnn","draft"]"#.into())
    );
    assert_eq!(
        fields.len(),
        Repository::open(a.path())
            .unwrap()
            .export_run("MNIST-1")
            .unwrap()
            .fields
            .len()
    );

    let points = rows("points.parquet");
    assert_eq!(points.len(), 5 + 2 + 2);
    let names: Vec<String> = columns(&points[0]).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "path",
            "step",
            "timestamp_ns",
            "float_value",
            "string_value",
            "file_name",
            "file_size",
            "file_sha256"
        ]
    );
    let loss: Vec<Vec<(String, Field)>> = points
        .iter()
        .map(columns)
        .filter(|c| c[0].1 == Field::Str("train/loss".into()))
        .collect();
    let expected = run.at("train/loss").fetch_values().unwrap();
    assert_eq!(loss.len(), expected.len());
    for (row, point) in loss.iter().zip(&expected) {
        assert_eq!(row[1].1, Field::Double(point.step));
        let ns = point
            .timestamp
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as i64;
        // TIMESTAMP(NANOS) has no converted type: the row reader gives the
        // integer nanoseconds as they are.
        assert_eq!(row[2].1, Field::Long(ns));
        let (Field::Double(x), Value::Float(y)) = (&row[3].1, &point.value) else {
            panic!("{row:?}")
        };
        assert_eq!(x.to_bits(), y.to_bits());
    }
    let image = points
        .iter()
        .map(columns)
        .find(|c| c[0].1 == Field::Str("images".into()))
        .unwrap();
    assert_eq!(image[5].1, Field::Str("0.png".into()));
    assert_eq!(image[6].1, Field::Long(5));
    assert_eq!(image[7].1, Field::Str(sha_of(b"png 0")));
    assert!(dir.join("files").join(sha_of(b"png 0")).is_file());
}

#[test]
fn tag_changes_tags_and_leaves_the_run_finished() {
    let (a, before, after) = (tmp(), tmp(), tmp());
    full_run(a.path());
    ok(hippocamp(
        a.path(),
        &[
            "export",
            "MNIST-1",
            "--format",
            "json",
            "-o",
            before.path().to_str().unwrap(),
        ],
    ));
    let printed = ok(hippocamp(
        a.path(),
        &["tag", "MNIST-1", "+best", "-draft", "+v2"],
    ));
    assert_eq!(printed, "MNIST-1: best, cnn, v2\n");
    let info = &runs(a.path())[0];
    assert_eq!(info.tags, ["best", "cnn", "v2"]);
    assert_eq!(info.state, "finished");
    // Nothing else changed: not sys/state, not the heartbeat.
    ok(hippocamp(
        a.path(),
        &[
            "export",
            "MNIST-1",
            "--format",
            "json",
            "-o",
            after.path().to_str().unwrap(),
        ],
    ));
    let strip_tags = |json: String| -> Vec<String> {
        json.lines()
            .filter(|l| !l.contains("\"sys/tags\""))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        strip_tags(read(before.path().join("MNIST-1.json"))),
        strip_tags(read(after.path().join("MNIST-1.json")))
    );
    fails(hippocamp(a.path(), &["tag", "MNIST-1", "best"]), "+best");
    fails(
        hippocamp(a.path(), &["tag", "MNIST-9", "+x"]),
        "nearest: MNIST-1",
    );
    fails(
        hippocamp(a.path(), &["tag", "MNIST-1", "+x", "-x"]),
        "both added and removed",
    );
}

#[test]
fn writing_commands_leave_a_running_run_alone() {
    let a = tmp();
    let run = Run::builder()
        .project("mnist")
        .dir(a.path())
        .start()
        .unwrap();
    run.at("train/loss").append(0.5).unwrap();
    run.flush().unwrap();
    // Tagging a running run changes its tags only; it goes on logging.
    ok(hippocamp(a.path(), &["tag", "MNIST-1", "+live"]));
    run.at("train/loss").append(0.4).unwrap();
    run.flush().unwrap();
    assert_eq!(runs(a.path())[0].state, "running");
    // Deleting it is refused, and nothing changes.
    fails(
        hippocamp(a.path(), &["rm", "MNIST-1", "--yes"]),
        "is running",
    );
    run.at("train/loss").append(0.3).unwrap();
    run.close().unwrap();
    let info = &runs(a.path())[0];
    assert_eq!(
        (info.state.as_str(), info.tags.clone()),
        ("finished", vec!["live".to_owned()])
    );
    let read_back = Run::builder()
        .dir(a.path())
        .run_id("MNIST-1")
        .mode(Mode::ReadOnly)
        .start()
        .unwrap();
    assert_eq!(read_back.at("train/loss").fetch_values().unwrap().len(), 3);
}

#[test]
fn rm_asks_or_takes_yes() {
    let a = tmp();
    for n in 0..3u8 {
        small_run(a.path(), &[n]);
    }
    // No terminal, no --yes: refused, nothing deleted.
    let err = fails(hippocamp(a.path(), &["rm", "MNIST-1", "MNIST-2"]), "--yes");
    assert!(err.contains("2 runs (MNIST-1, MNIST-2)"), "{err}");
    assert_eq!(runs(a.path()).len(), 3);
    // An unknown id: refused with the nearest ids, nothing deleted.
    fails(
        hippocamp(a.path(), &["rm", "MNIST-1", "MNIST-12", "--yes"]),
        "nearest: MNIST-1",
    );
    assert_eq!(runs(a.path()).len(), 3);
    let printed = ok(hippocamp(a.path(), &["rm", "MNIST-1", "MNIST-2", "--yes"]));
    assert!(
        printed.starts_with("deleted 2 runs (MNIST-1, MNIST-2)\n"),
        "{printed}"
    );
    let ids: Vec<String> = runs(a.path()).into_iter().map(|r| r.id).collect();
    assert_eq!(ids, ["MNIST-3"]);
    // Their rows went with them (cascade): only MNIST-3's fields are left.
    let db = rusqlite::Connection::open(a.path().join("hippocamp.db")).unwrap();
    let (fields, runs_left): (i64, i64) = db
        .query_row(
            "SELECT (SELECT count(DISTINCT run) FROM fields), (SELECT count(*) FROM runs)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((fields, runs_left), (1, 1));
}

#[test]
fn gc_frees_files_no_run_refers_to() {
    let a = tmp();
    full_run(a.path());
    let orphan = small_run(a.path(), b"only this run has it");
    let blob = a
        .path()
        .join("files")
        .join(&sha_of(b"only this run has it")[..2])
        .join(sha_of(b"only this run has it"));
    assert!(blob.is_file());
    assert_eq!(
        ok(hippocamp(a.path(), &["gc"])),
        "freed 0 files, 0 bytes (0 B)\n"
    );
    ok(hippocamp(a.path(), &["rm", &orphan, "--yes"]));
    let dry = ok(hippocamp(a.path(), &["gc", "--dry-run"]));
    assert!(dry.starts_with("would free 1 file, 20 bytes"), "{dry}");
    assert!(blob.is_file());
    assert_eq!(
        ok(hippocamp(a.path(), &["gc"])),
        "freed 1 file, 20 bytes (20 B)\n"
    );
    assert!(!blob.exists());
    // The other run's files are all there.
    let run = Run::builder()
        .dir(a.path())
        .run_id("MNIST-1")
        .mode(Mode::ReadOnly)
        .start()
        .unwrap();
    assert_eq!(run.at("model").download().unwrap(), b"model weights");
    assert_eq!(run.at("images").download_at(0).unwrap(), b"png 0");
    assert_eq!(
        ok(hippocamp(a.path(), &["gc"])),
        "freed 0 files, 0 bytes (0 B)\n"
    );
}

#[test]
fn errors_are_one_line_with_exit_code_2() {
    let (empty, a, out) = (tmp(), tmp(), tmp());
    let o = out.path().to_str().unwrap();
    fails(
        hippocamp(
            empty.path(),
            &["export", "--all", "--format", "json", "-o", o],
        ),
        "no hippocamp store",
    );
    fails(hippocamp(empty.path(), &["gc"]), "no hippocamp store");
    fails(
        hippocamp(empty.path(), &["tag", "X-1", "+a"]),
        "no hippocamp store",
    );
    fails(
        hippocamp(empty.path(), &["rm", "X-1", "--yes"]),
        "no hippocamp store",
    );
    assert!(!empty.path().join("hippocamp.db").exists());
    small_run(a.path(), b"x");
    fails(
        hippocamp(a.path(), &["export", "MNIST-4", "--format", "csv", "-o", o]),
        "nearest: MNIST-1",
    );
    let garbage = out.path().join("garbage.json");
    std::fs::write(&garbage, "{\"format\":\"hippocamp-run\",\"version\":1,").unwrap();
    fails(
        hippocamp(a.path(), &["import", garbage.to_str().unwrap()]),
        "garbage.json",
    );
    std::fs::write(&garbage, "[1, 2]").unwrap();
    fails(
        hippocamp(a.path(), &["import", garbage.to_str().unwrap()]),
        "not a hippocamp run export",
    );
    fails(
        hippocamp(a.path(), &["import", "/no/such/export.json"]),
        "cannot read",
    );
    // An export whose steps go backwards is refused before anything is written.
    let bad = r#"{"format":"hippocamp-run","version":1,"id":"B-1","project":"b","creation_time_ns":0,"heartbeat_ns":0,"fields":[
{"path":"loss","type":"FloatSeries","points":[{"step":2.0,"value":1.0,"timestamp_ns":0},{"step":1.0,"value":1.0,"timestamp_ns":0}]}
]}"#;
    std::fs::write(&garbage, bad).unwrap();
    fails(
        hippocamp(a.path(), &["import", garbage.to_str().unwrap()]),
        "step 1 for `loss`",
    );
    // Into a missing store, a refused import does not create one.
    fails(
        hippocamp(empty.path(), &["import", garbage.to_str().unwrap()]),
        "step 1 for `loss`",
    );
    assert!(!empty.path().join("hippocamp.db").exists());
    // A missing file content is refused too.
    let missing = format!(
        r#"{{"format":"hippocamp-run","version":1,"id":"B-1","project":"b","creation_time_ns":0,"heartbeat_ns":0,"files":"B-1.files","fields":[
{{"path":"f","type":"File","file":{{"name":"x","size":1,"sha256":"{}"}}}}
]}}"#,
        "ab".repeat(32)
    );
    std::fs::write(&garbage, missing).unwrap();
    fails(
        hippocamp(a.path(), &["import", garbage.to_str().unwrap()]),
        "is missing",
    );
    assert_eq!(runs(a.path()).len(), 1);
}

fn sha_of(bytes: &[u8]) -> String {
    // The store names contents by SHA-256; computed here through the store
    // itself, from a throwaway run.
    let dir = tmp();
    let run = Run::builder().dir(dir.path()).start().unwrap();
    run.at("f").upload_bytes(bytes.to_vec(), "f").unwrap();
    run.close().unwrap();
    let dump = Repository::open(dir.path())
        .unwrap()
        .export_run(run.id())
        .unwrap();
    dump.files()[0].sha256.clone()
}

#[test]
fn gc_never_takes_a_file_of_a_run_being_logged() {
    let a = tmp();
    let run = Run::builder()
        .project("mnist")
        .flush_interval(std::time::Duration::from_millis(5))
        .dir(a.path())
        .start()
        .unwrap();
    let logger = {
        let run = run.clone();
        std::thread::spawn(move || {
            for i in 0..150u32 {
                let bytes = format!("image {i}").into_bytes();
                run.at("images")
                    .append(File::from_bytes(bytes, format!("{i}.png")))
                    .unwrap();
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        })
    };
    for _ in 0..5 {
        ok(hippocamp(a.path(), &["gc"]));
    }
    logger.join().unwrap();
    run.close().unwrap();
    for i in 0..150u32 {
        assert_eq!(
            run.at("images").download_at(i).unwrap(),
            format!("image {i}").into_bytes()
        );
    }
}

/// Every file under `dir`, with its bytes: what a folder holds.
fn tree(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    out
}

#[test]
fn a_failed_export_leaves_the_folder_as_it_was() {
    let (a, out) = (tmp(), tmp());
    small_run(a.path(), b"first");
    small_run(a.path(), b"second");
    // MNIST-2's file content is gone from the store: its export fails,
    // after MNIST-1's is written.
    let sha = sha_of(b"second");
    std::fs::remove_file(a.path().join("files").join(&sha[..2]).join(&sha)).unwrap();
    std::fs::write(out.path().join("MNIST-1.json"), "an earlier export").unwrap();
    let before = tree(out.path());
    for format in ["json", "csv", "parquet"] {
        let o = out.path().to_str().unwrap();
        let err = fails(
            hippocamp(a.path(), &["export", "--all", "--format", format, "-o", o]),
            "cannot copy the content of file \"artifact.bin\" of run MNIST-2",
        );
        assert_eq!(tree(out.path()), before, "{format}: {err}");
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);
        // A folder the export created is removed again.
        let new = out.path().join("new");
        let n = new.to_str().unwrap();
        fails(
            hippocamp(a.path(), &["export", "--all", "--format", format, "-o", n]),
            "MNIST-2",
        );
        assert!(!new.exists(), "{format}");
    }
    // `-o` naming a file is an error too.
    let file = out.path().join("MNIST-1.json");
    fails(
        hippocamp(
            a.path(),
            &[
                "export",
                "MNIST-1",
                "--format",
                "json",
                "-o",
                file.to_str().unwrap(),
            ],
        ),
        "cannot create",
    );
    assert_eq!(tree(out.path()), before);
}

#[test]
fn exporting_again_replaces_the_earlier_export() {
    let (a, out) = (tmp(), tmp());
    small_run(a.path(), b"first");
    let o = out.path().to_str().unwrap();
    for format in ["json", "csv"] {
        ok(hippocamp(
            a.path(),
            &["export", "--all", "--format", format, "-o", o],
        ));
    }
    let first = tree(out.path());
    ok(hippocamp(a.path(), &["tag", "MNIST-1", "+again"]));
    for format in ["json", "csv"] {
        let printed = ok(hippocamp(
            a.path(),
            &["export", "MNIST-1", "--format", format, "-o", o],
        ));
        assert!(printed.starts_with("MNIST-1 -> "), "{printed}");
    }
    let second = tree(out.path());
    // The same files, only the tags changed; nothing left of the staging.
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    let json = String::from_utf8(second[Path::new("MNIST-1.json")].clone()).unwrap();
    assert!(json.contains(r#""items":["again"]"#), "{json}");
    let fields = String::from_utf8(second[&Path::new("MNIST-1").join("fields.csv")].clone());
    assert!(fields
        .unwrap()
        .contains(r#"sys/tags,StringSet,"[""again""]""#));
}

/// A JSON export with these fields (and `extra` top-level members).
fn export_json(id: &str, extra: &str, fields: &str) -> String {
    format!(
        r#"{{"format":"hippocamp-run","version":1,"id":"{id}","project":"b","creation_time_ns":0,"heartbeat_ns":0{extra},"fields":[{fields}]}}"#
    )
}

#[test]
fn hostile_exports_are_refused_before_anything_is_written() {
    let (a, exports) = (tmp(), tmp());
    small_run(a.path(), b"x");
    let before = runs(a.path()).len();
    let write = |name: &str, text: &str| -> String {
        let path = exports.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let file_field = |sha: &str, size: usize| {
        format!(
            r#"{{"path":"f","type":"File","file":{{"name":"x","size":{size},"sha256":"{sha}"}}}}"#
        )
    };

    // "files" must be a folder beside the export.
    let outside = write(
        "outside.json",
        &export_json(
            "B-1",
            r#","files":"../elsewhere""#,
            &file_field(&"ab".repeat(32), 1),
        ),
    );
    fails(
        hippocamp(a.path(), &["import", &outside]),
        "must name a folder beside it",
    );
    // A run's own fields keep their types.
    let tags = write(
        "tags.json",
        &export_json(
            "B-1",
            "",
            r#"{"path":"sys/tags","type":"Float","value":1.5}"#,
        ),
    );
    fails(
        hippocamp(a.path(), &["import", &tags]),
        "has `sys/tags` as a Float, not a StringSet",
    );
    let newer = write(
        "newer.json",
        &export_json("B-1", "", "").replace(r#""version":1"#, r#""version":2"#),
    );
    fails(
        hippocamp(a.path(), &["import", &newer]),
        "written by a newer hippocamp",
    );
    let other = write(
        "other.json",
        &export_json("B-1", "", "").replace("hippocamp-run", "mlflow-run"),
    );
    fails(
        hippocamp(a.path(), &["import", &other]),
        "its format is \"mlflow-run\", not \"hippocamp-run\"",
    );
    assert_eq!(runs(a.path()).len(), before);

    // In a folder of exports, a file content that is not what its export
    // says (SHA-256 or size) stops the whole import, before any run.
    let folder = exports.path().join("folder");
    std::fs::create_dir_all(folder.join("B-2.files")).unwrap();
    std::fs::write(folder.join("B-1.json"), export_json("B-1", "", "")).unwrap();
    let sha = sha_of(b"real content");
    std::fs::write(
        folder.join("B-2.json"),
        export_json("B-2", r#","files":"B-2.files""#, &file_field(&sha, 12)),
    )
    .unwrap();
    std::fs::write(folder.join("B-2.files").join(&sha), b"fake content").unwrap();
    fails(
        hippocamp(a.path(), &["import", folder.to_str().unwrap()]),
        "does not hold file \"x\"",
    );
    assert_eq!(runs(a.path()).len(), before);
    assert!(!a.path().join("files").join(&sha[..2]).join(&sha).exists());
    // With the right content it imports.
    std::fs::write(folder.join("B-2.files").join(&sha), b"real content").unwrap();
    assert_eq!(
        ok(hippocamp(a.path(), &["import", folder.to_str().unwrap()])),
        "imported B-1\nimported B-2\n"
    );

    // A folder without exports.
    let empty = exports.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    fails(
        hippocamp(a.path(), &["import", empty.to_str().unwrap()]),
        "no JSON exports",
    );
}

#[test]
fn an_imported_heartbeat_is_never_in_the_future() {
    let a = tmp();
    let json = export_json(
        "F-1",
        "",
        r#"{"path":"sys/state","type":"String","value":"running"}"#,
    )
    .replace(
        r#""heartbeat_ns":0"#,
        r#""heartbeat_ns":9223372036854775807"#,
    );
    let path = a.path().join("f.json");
    std::fs::write(&path, json).unwrap();
    let store = a.path().join("store");
    ok(hippocamp(&store, &["import", path.to_str().unwrap()]));
    let db = rusqlite::Connection::open(store.join("hippocamp.db")).unwrap();
    let heartbeat: i64 = db
        .query_row("SELECT heartbeat_ns FROM runs WHERE id = 'F-1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    // Stored as the time of the import: running for now, and shown as
    // crashed (and deletable) once its writer would have been silent long
    // enough, instead of never.
    assert!(
        heartbeat <= now && heartbeat > now - 60_000_000_000,
        "{heartbeat}"
    );
}

#[test]
fn a_forged_run_number_does_not_stop_the_numbering() {
    let a = tmp();
    let path = a.path().join("big.json");
    std::fs::write(&path, export_json("B-9223372036854775807", "", "")).unwrap();
    let store = a.path().join("store");
    ok(hippocamp(&store, &["import", path.to_str().unwrap()]));
    // New runs of the project are numbered as if it were not there (an
    // import of B-7 would have them go on at B-8).
    let run = Run::builder().project("b").dir(&store).start().unwrap();
    assert_eq!(run.id(), "B-1");
    run.close().unwrap();
    std::fs::write(&path, export_json("B-7", "", "")).unwrap();
    ok(hippocamp(&store, &["import", path.to_str().unwrap()]));
    let run = Run::builder().project("b").dir(&store).start().unwrap();
    assert_eq!(run.id(), "B-8");
    run.close().unwrap();
}
