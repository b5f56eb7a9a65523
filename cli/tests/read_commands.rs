//! End-to-end tests of the read commands (`ls`, `show`, `get`, `diff`):
//! the binary run on stores written by the library, outputs snapshotted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hippocamp_core::{Appendable, File, Handler, LogOptions, Run};
use tempfile::TempDir;

#[cfg(unix)]
mod common {
    pub mod terminal;
}

/// The time of the `i`-th point of a series: fixed, in 2001, so that the
/// snapshots hold them while creation times (now) are masked.
fn at(i: usize) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_000_000_000 + 60 * i as u64) + Duration::from_nanos(123)
}

fn series<V: Appendable>(handler: &Handler, values: impl IntoIterator<Item = V>) {
    for (i, value) in values.into_iter().enumerate() {
        value
            .append_at(handler, "", &LogOptions::new().step(i).timestamp(at(i)))
            .unwrap();
    }
}

/// Four runs, in this order:
/// - MNIST-1 "baseline", finished, tags baseline+cnn: params, a loss
///   series, a text series, a file, a file series;
/// - MNIST-2 "bigger-lr", finished and failed, tag cnn;
/// - CIFAR-1 "resnet", crashed (its writer's heartbeat stopped), a loss
///   series with NaN and inf;
/// - MNIST-3, running, with no params and no loss.
fn store() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let start = |project: &str| Run::builder().dir(dir.path()).project(project);

    let run = start("mnist")
        .name("baseline")
        .tags(["cnn", "baseline"])
        .start()
        .unwrap();
    run.at("params/lr").assign(0.01).unwrap();
    run.at("params/epochs").assign(20).unwrap();
    run.at("params/optimizer/name").assign("adam").unwrap();
    run.at("params/optimizer/momentum").assign(0.9).unwrap();
    run.at("params/notes")
        .assign("first try\nwith defaults")
        .unwrap();
    series(&run.at("train/loss"), [0.9, 0.5, 0.25]);
    series(&run.at("train/log"), ["epoch 0", "epoch 1, done"]);
    run.at("model/weights")
        .upload_bytes(
            (0..=255u8).cycle().take(1024).collect::<Vec<u8>>(),
            "weights.bin",
        )
        .unwrap();
    series(
        &run.at("eval/samples"),
        [
            File::from_bytes(b"first".to_vec(), "sample-0.txt"),
            File::from_bytes(b"second sample".to_vec(), "sample-1.txt"),
        ],
    );
    run.close().unwrap();

    let run = start("mnist")
        .name("bigger-lr")
        .tags(["cnn"])
        .start()
        .unwrap();
    run.at("params/lr").assign(0.1).unwrap();
    run.at("params/epochs").assign(20).unwrap();
    run.at("params/optimizer/name").assign("sgd").unwrap();
    run.at("params/optimizer/momentum").assign(0.9).unwrap();
    run.at("params/notes")
        .assign("first try\nwith defaults")
        .unwrap();
    series(&run.at("train/loss"), [1.2, 0.7, 0.4]);
    run.set_failed(true).unwrap();
    run.close().unwrap();

    let run = start("cifar").name("resnet").start().unwrap();
    run.at("params/lr").assign(0.001).unwrap();
    run.at("params/epochs").assign(90).unwrap();
    series(&run.at("train/loss"), [2.0, f64::NAN, f64::INFINITY]);
    run.close().unwrap();

    let run = start("mnist").start().unwrap();
    run.at("params/optimizer/name").assign("adam").unwrap();
    run.close().unwrap();

    // States: CIFAR-1 was left running by a writer that stopped long ago
    // (crashed); MNIST-3's writer is alive (its heartbeat is recent). The
    // rows changed here lose their checksum, as rows written before
    // checksums have none (a row with a wrong one reads as damaged).
    let db = rusqlite::Connection::open(dir.path().join("hippocamp.db")).unwrap();
    let now_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    for (id, heartbeat) in [("CIFAR-1", 0), ("MNIST-3", now_ns + 3_600_000_000_000)] {
        db.execute(
            "UPDATE fields SET text_value = 'running', crc = NULL WHERE path = 'sys/state'
             AND run = (SELECT run FROM runs WHERE id = ?1)",
            [id],
        )
        .unwrap();
        db.execute(
            "UPDATE runs SET heartbeat_ns = ?2 WHERE id = ?1",
            rusqlite::params![id, heartbeat],
        )
        .unwrap();
    }
    dir
}

/// Runs the binary on the store in `dir` (from inside an empty working
/// directory, with no `HIPPOCAMP_HOME`).
fn hippocamp(dir: &Path, args: &[&str]) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_hippocamp"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .current_dir(cwd.path())
        .env_remove("HIPPOCAMP_HOME")
        .output()
        .unwrap();
    assert_eq!(
        std::fs::read_dir(cwd.path()).unwrap().count(),
        0,
        "hippocamp {args:?} wrote into its working directory"
    );
    output
}

/// The stdout of a command that must succeed, its store path masked.
fn ok(dir: &Path, args: &[&str]) -> String {
    let output = hippocamp(dir, args);
    assert!(
        output.status.success(),
        "hippocamp {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .replace(&dir.display().to_string(), "[store]")
}

/// What a store holds (each file's length and hash), to check that a
/// command changed nothing.
fn contents(dir: &Path) -> BTreeMap<PathBuf, (usize, u64)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if !name.ends_with("-shm") {
                // The shared-memory index holds readers' marks, not data;
                // SQLite's first reader makes an empty log (-wal) if
                // there is none: that is no change of what the store holds.
                let bytes = std::fs::read(&path).unwrap();
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                std::hash::Hash::hash(&bytes, &mut hasher);
                if !(name.ends_with("-wal") && bytes.is_empty()) {
                    out.insert(
                        path.clone(),
                        (bytes.len(), std::hash::Hasher::finish(&hasher)),
                    );
                }
            }
        }
    }
    out
}

/// The stderr of a command that must fail: exit code 2, one line, no
/// stdout, nothing changed in the store; its store path masked.
fn fails(dir: &Path, args: &[&str]) -> String {
    let before = contents(dir);
    let output = hippocamp(dir, args);
    assert_eq!(output.status.code(), Some(2), "hippocamp {args:?}");
    assert!(
        output.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with("hippocamp: "), "{stderr}");
    assert_eq!(
        contents(dir),
        before,
        "hippocamp {args:?} changed the store"
    );
    stderr.replace(&dir.display().to_string(), "[store]")
}

/// Masks what changes from one test run to the next: creation times
/// (they are now; the series' timestamps are in 2001) and the host name.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({filters => vec![
            (r"20[2-9]\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", "YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ"),
            (r"20[2-9]\d-\d\d-\d\dT\d\d:\d\d:\d\dZ", "YYYY-MM-DDThh:mm:ssZ"),
            (r#"hostname: "[^"]*""#, r#"hostname: "[host]""#),
        ]}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

// ---- ls -----------------------------------------------------------------

#[test]
fn ls_lists_every_run() {
    let dir = store();
    snapshot!("ls_plain", ok(dir.path(), &["ls"]));
}

#[test]
fn ls_shows_chosen_fields_and_last_values_of_series() {
    let dir = store();
    snapshot!(
        "ls_columns",
        ok(
            dir.path(),
            &[
                "ls",
                "--columns",
                "params/lr,params/optimizer/name,train/loss,model/weights,params/notes"
            ]
        )
    );
}

#[test]
fn ls_filters() {
    let dir = store();
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["ls", "--format", "csv"];
        all.extend(args);
        ok(dir.path(), &all)
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&["--project", "mnist"]),
        ["MNIST-1", "MNIST-2", "MNIST-3"]
    );
    assert_eq!(ids(&["--project", "CIFAR"]), ["CIFAR-1"]);
    assert_eq!(ids(&["--project", "none"]), Vec::<String>::new());
    assert_eq!(ids(&["--tag", "cnn"]), ["MNIST-1", "MNIST-2"]);
    assert_eq!(ids(&["--tag", "cnn", "--tag", "baseline"]), ["MNIST-1"]);
    assert_eq!(ids(&["--state", "finished"]), ["MNIST-1", "MNIST-2"]);
    assert_eq!(ids(&["--state", "crashed"]), ["CIFAR-1"]);
    assert_eq!(ids(&["--state", "running"]), ["MNIST-3"]);
    assert_eq!(ids(&["--state", "failed"]), ["MNIST-2"]);
    assert_eq!(
        ids(&[
            "--project",
            "mnist",
            "--state",
            "finished",
            "--tag",
            "baseline"
        ]),
        ["MNIST-1"]
    );
}

#[test]
fn ls_where() {
    let dir = store();
    let ids = |expr: &str| -> Vec<String> {
        ok(dir.path(), &["ls", "--format", "csv", "--where", expr])
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(r#"params/lr > 0.001 and params/optimizer/name = "adam""#),
        ["MNIST-1"]
    );
    assert_eq!(ids("params/lr >= 0.001"), ["MNIST-1", "MNIST-2", "CIFAR-1"]);
    // A series compares by its last value: inf is not below 0.5.
    assert_eq!(ids("train/loss < 0.5"), ["MNIST-1", "MNIST-2"]);
    assert_eq!(ids("train/loss = inf"), ["CIFAR-1"]);
    assert_eq!(ids(r#"train/log = "epoch 1, done""#), ["MNIST-1"]);
    // A run missing the field does not match, negated or not.
    assert_eq!(ids("not params/lr > 0.005"), ["CIFAR-1"]);
    assert_eq!(ids(r#"params/optimizer/name != "adam""#), ["MNIST-2"]);
    assert_eq!(
        ids("params/epochs = 20 and (params/lr < 0.05 or sys/failed = true)"),
        ["MNIST-1", "MNIST-2"]
    );
    assert_eq!(
        ids(r#"sys/tags = "baseline" or sys/name = "resnet""#),
        ["MNIST-1", "CIFAR-1"]
    );
    assert_eq!(
        ids(r#"sys/creation_time > "2001-01-01T00:00:00Z""#).len(),
        4
    );
    // A path no run has matches nothing, and a warning says so.
    let output = hippocamp(
        dir.path(),
        &["ls", "--format", "csv", "--where", "no/such/field = 1"],
    );
    assert!(output.status.success());
    assert_eq!(output.stdout.iter().filter(|b| **b == b'\n').count(), 1);
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .starts_with("hippocamp: warning: --where: no run has `no/such/field` (nearest: "));
    snapshot!(
        "ls_where_table",
        ok(
            dir.path(),
            &[
                "ls",
                "--where",
                "params/lr > 0.005",
                "--columns",
                "params/lr"
            ]
        )
    );
}

#[test]
fn ls_sorts_and_limits() {
    let dir = store();
    let args = ["ls", "--columns", "train/loss", "--sort", "train/loss"];
    snapshot!("ls_sort_series", ok(dir.path(), &args));
    // Descending: the run without a loss stays last.
    snapshot!(
        "ls_sort_series_desc",
        ok(dir.path(), &[&args[..], &["--desc"]].concat())
    );
    snapshot!(
        "ls_sort_desc_limit",
        ok(
            dir.path(),
            &[&args[..], &["--desc", "--limit", "2"]].concat()
        )
    );
    snapshot!("ls_sort_id", ok(dir.path(), &["ls", "--sort", "id"]));
    snapshot!(
        "ls_sort_name_desc",
        ok(dir.path(), &["ls", "--sort", "name", "--desc"])
    );
    snapshot!("ls_limit", ok(dir.path(), &["ls", "--limit", "1"]));
}

#[test]
fn ls_as_json() {
    let dir = store();
    let text = ok(
        dir.path(),
        &[
            "ls",
            "--format",
            "json",
            "--columns",
            "params/lr,train/loss,model/weights",
            "--tag",
            "cnn",
        ],
    );
    // Valid JSON, and as snapshotted.
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed.as_array().unwrap().len(), 2);
    snapshot!("ls_json", text);
    // NaN and infinities cannot be JSON numbers: they are strings.
    let cifar = ok(
        dir.path(),
        &[
            "ls",
            "--format",
            "json",
            "--columns",
            "train/loss",
            "--project",
            "cifar",
        ],
    );
    let parsed: serde_json::Value = serde_json::from_str(&cifar).unwrap();
    assert_eq!(parsed[0]["fields"]["train/loss"], "inf");
}

#[test]
fn ls_as_csv() {
    let dir = store();
    snapshot!(
        "ls_csv",
        ok(
            dir.path(),
            &[
                "ls",
                "--format",
                "csv",
                "--columns",
                "params/lr,train/loss,params/notes"
            ]
        )
    );
}

#[test]
fn ls_of_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    // A store whose only run was deleted.
    let run = Run::builder().dir(dir.path()).start().unwrap();
    run.close().unwrap();
    let db = rusqlite::Connection::open(dir.path().join("hippocamp.db")).unwrap();
    db.execute("DELETE FROM runs", []).unwrap();
    assert_eq!(ok(dir.path(), &["ls"]), "ID  NAME  STATE  CREATED  TAGS\n");
    assert_eq!(ok(dir.path(), &["ls", "--format", "json"]), "[]\n");
}

// ---- show ---------------------------------------------------------------

#[test]
fn show_a_run() {
    let dir = store();
    snapshot!("show_run", ok(dir.path(), &["show", "MNIST-1"]));
}

#[test]
fn show_a_namespace() {
    let dir = store();
    snapshot!(
        "show_namespace",
        ok(dir.path(), &["show", "MNIST-1", "params"])
    );
    snapshot!(
        "show_nested_namespace",
        ok(dir.path(), &["show", "MNIST-1", "params/optimizer"])
    );
}

#[test]
fn show_series_stats_and_files() {
    let dir = store();
    assert_eq!(
        ok(dir.path(), &["show", "MNIST-1", "train/loss"]),
        "|--> loss: FloatSeries (3 points, last 0.25 at step 2, min 0.25, max 0.9)\n"
    );
    // NaN is left out of min and max.
    assert_eq!(
        ok(dir.path(), &["show", "CIFAR-1", "train"]),
        "|--> loss: FloatSeries (3 points, last inf at step 2, min 2.0, max inf)\n"
    );
    assert_eq!(
        ok(dir.path(), &["show", "MNIST-1", "model/weights"]),
        "|--> weights: File weights.bin (1024 bytes)\n"
    );
    assert_eq!(
        ok(dir.path(), &["show", "MNIST-1", "eval"]),
        "|--> samples: FileSeries (2 files, last sample-1.txt (13 bytes) at step 1)\n"
    );
    assert_eq!(
        ok(dir.path(), &["show", "MNIST-1", "params/lr"]),
        "|--> lr: 0.01\n"
    );
}

// ---- get ----------------------------------------------------------------

#[test]
fn get_atoms() {
    let dir = store();
    assert_eq!(ok(dir.path(), &["get", "MNIST-1", "params/lr"]), "0.01\n");
    assert_eq!(ok(dir.path(), &["get", "MNIST-1", "params/epochs"]), "20\n");
    // Strings unquoted.
    assert_eq!(
        ok(dir.path(), &["get", "MNIST-1", "params/optimizer/name"]),
        "adam\n"
    );
    assert_eq!(
        ok(dir.path(), &["get", "MNIST-1", "params/notes"]),
        "first try\nwith defaults\n"
    );
    assert_eq!(ok(dir.path(), &["get", "MNIST-2", "sys/failed"]), "true\n");
    assert_eq!(
        ok(dir.path(), &["get", "MNIST-1", "sys/tags"]),
        "baseline\ncnn\n"
    );
    assert_eq!(
        ok(
            dir.path(),
            &["get", "MNIST-1", "params/notes", "--format", "json"]
        ),
        "\"first try\\nwith defaults\"\n"
    );
    assert_eq!(
        ok(
            dir.path(),
            &["get", "MNIST-1", "sys/tags", "--format", "json"]
        ),
        "[\n  \"baseline\",\n  \"cnn\"\n]\n"
    );
}

#[test]
fn get_a_namespace() {
    let dir = store();
    snapshot!(
        "get_namespace",
        ok(dir.path(), &["get", "MNIST-1", "params"])
    );
    snapshot!(
        "get_namespace_json",
        ok(
            dir.path(),
            &["get", "MNIST-1", "params", "--format", "json"]
        )
    );
}

#[test]
fn get_a_series() {
    let dir = store();
    snapshot!(
        "get_series_csv",
        ok(dir.path(), &["get", "MNIST-1", "train/loss"])
    );
    snapshot!(
        "get_series_json",
        ok(
            dir.path(),
            &["get", "MNIST-1", "train/loss", "--format", "json"]
        )
    );
    assert_eq!(
        ok(dir.path(), &["get", "MNIST-1", "train/loss", "--last"]),
        "step,value,timestamp\n2,0.25,2001-09-09T01:48:40.000000123Z\n"
    );
    assert_eq!(
        ok(dir.path(), &["get", "MNIST-1", "train/loss", "--last", "--format", "json"]),
        "{\n  \"step\": 2,\n  \"timestamp\": \"2001-09-09T01:48:40.000000123Z\",\n  \"value\": 0.25\n}\n"
    );
    // Text values are quoted as CSV needs.
    snapshot!(
        "get_string_series_csv",
        ok(dir.path(), &["get", "MNIST-1", "train/log"])
    );
}

#[test]
fn get_nan_and_inf() {
    let dir = store();
    snapshot!(
        "get_nan_csv",
        ok(dir.path(), &["get", "CIFAR-1", "train/loss"])
    );
    let json = ok(
        dir.path(),
        &["get", "CIFAR-1", "train/loss", "--format", "json"],
    );
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let values: Vec<&serde_json::Value> = parsed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["value"])
        .collect();
    assert_eq!(
        values,
        [
            &serde_json::json!(2.0),
            &serde_json::json!("NaN"),
            &serde_json::json!("inf")
        ]
    );
}

#[test]
fn get_a_file() {
    let dir = store();
    let expected: Vec<u8> = (0..=255u8).cycle().take(1024).collect();
    // To stdout, byte for byte.
    let output = hippocamp(dir.path(), &["get", "MNIST-1", "model/weights"]);
    assert!(output.status.success());
    assert_eq!(output.stdout, expected);
    // To a file with -o, and nothing on stdout.
    let out_dir = tempfile::tempdir().unwrap();
    let target = out_dir.path().join("weights.bin");
    let printed = ok(
        dir.path(),
        &[
            "get",
            "MNIST-1",
            "model/weights",
            "-o",
            target.to_str().unwrap(),
        ],
    );
    assert_eq!(printed, "");
    assert_eq!(std::fs::read(&target).unwrap(), expected);
    // Its metadata as JSON.
    assert_eq!(
        ok(
            dir.path(),
            &["get", "MNIST-1", "model/weights", "--format", "json"]
        ),
        "{\n  \"extension\": \"bin\",\n  \"name\": \"weights.bin\",\n  \"size\": 1024\n}\n"
    );
    // A FileSeries gives its last file; its points as JSON.
    assert_eq!(
        ok(dir.path(), &["get", "MNIST-1", "eval/samples"]),
        "second sample"
    );
    assert_eq!(
        ok(dir.path(), &["get", "MNIST-1", "eval/samples", "--last"]),
        "second sample"
    );
    snapshot!(
        "get_file_series_json",
        ok(
            dir.path(),
            &["get", "MNIST-1", "eval/samples", "--format", "json"]
        )
    );
    // A series' CSV to a file.
    let csv = out_dir.path().join("loss.csv");
    ok(
        dir.path(),
        &["get", "MNIST-1", "train/loss", "-o", csv.to_str().unwrap()],
    );
    assert!(std::fs::read_to_string(&csv)
        .unwrap()
        .starts_with("step,value,timestamp\n0,0.9,"));
}

#[cfg(unix)]
#[test]
fn get_refuses_a_files_bytes_on_a_terminal() {
    let dir = store();
    let on_terminal = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hippocamp"));
        command.arg("--dir").arg(dir.path()).args(args);
        common::terminal::run_on_terminal(command, 80, 24)
    };
    for (path, article) in [
        ("model/weights", "a File"),
        ("eval/samples", "a FileSeries"),
    ] {
        let shown = on_terminal(&["get", "MNIST-1", path]);
        assert_eq!(shown.status.code(), Some(2), "{}", shown.stderr);
        assert_eq!(
            shown.stderr,
            format!(
                "hippocamp: `{path}` in run MNIST-1 is {article}: write its bytes \
                 with -o FILE or into a pipe, not to the terminal\n"
            )
        );
        assert_eq!(shown.screen, "");
    }
    // With -o, on a terminal, the file is written and nothing shown.
    let out_dir = tempfile::tempdir().unwrap();
    let target = out_dir.path().join("weights.bin");
    let shown = on_terminal(&[
        "get",
        "MNIST-1",
        "model/weights",
        "-o",
        target.to_str().unwrap(),
    ]);
    assert!(shown.status.success(), "{}", shown.stderr);
    assert_eq!(shown.screen, "");
    assert_eq!(std::fs::read(&target).unwrap().len(), 1024);
    // Text still goes to the terminal: metadata as JSON, a series, an atom.
    let shown = on_terminal(&["get", "MNIST-1", "model/weights", "--format", "json"]);
    assert!(shown.status.success(), "{}", shown.stderr);
    assert!(
        shown.screen.contains("\"name\": \"weights.bin\""),
        "{}",
        shown.screen
    );
    let shown = on_terminal(&["get", "MNIST-1", "params/epochs"]);
    assert_eq!(shown.screen, "20\n");
}

#[cfg(unix)]
#[test]
fn get_output_is_never_created_through_a_dangling_symlink() {
    let dir = store();
    let out_dir = tempfile::tempdir().unwrap();
    let nowhere = out_dir.path().join("nowhere.bin");
    let link = out_dir.path().join("link.bin");
    std::os::unix::fs::symlink(&nowhere, &link).unwrap();
    let err = fails(
        dir.path(),
        &[
            "get",
            "MNIST-1",
            "model/weights",
            "-o",
            link.to_str().unwrap(),
        ],
    );
    assert_eq!(
        err,
        format!(
            "hippocamp: cannot write {}: it is a symlink to {}, which does not exist \
             (no file is created through a symlink; remove the link or name another file)\n",
            link.display(),
            nowhere.display()
        )
    );
    assert!(!nowhere.exists(), "the link's target was created");
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    // A symlink to a missing folder: the same.
    let deep = out_dir.path().join("deep.bin");
    std::os::unix::fs::symlink(out_dir.path().join("no/such/dir/x"), &deep).unwrap();
    assert!(fails(
        dir.path(),
        &["get", "MNIST-1", "params/lr", "-o", deep.to_str().unwrap()]
    )
    .contains("which does not exist"));
    // A symlink to an existing file: written through, the link kept.
    std::fs::write(&nowhere, b"old contents, longer than the new").unwrap();
    ok(
        dir.path(),
        &["get", "MNIST-1", "params/lr", "-o", link.to_str().unwrap()],
    );
    assert_eq!(std::fs::read_to_string(&nowhere).unwrap(), "0.01\n");
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    // A directory is no file to write.
    assert!(fails(
        dir.path(),
        &[
            "get",
            "MNIST-1",
            "params/lr",
            "-o",
            out_dir.path().to_str().unwrap()
        ]
    )
    .starts_with(&format!(
        "hippocamp: cannot write {}: ",
        out_dir.path().display()
    )));
}

// ---- diff ---------------------------------------------------------------

#[test]
fn diff_two_runs() {
    let dir = store();
    snapshot!("diff_two", ok(dir.path(), &["diff", "MNIST-1", "MNIST-2"]));
}

#[test]
fn diff_three_runs() {
    let dir = store();
    snapshot!(
        "diff_three",
        ok(dir.path(), &["diff", "MNIST-1", "MNIST-2", "CIFAR-1"])
    );
}

#[test]
fn diff_of_equal_runs() {
    let dir = store();
    assert_eq!(
        ok(dir.path(), &["diff", "MNIST-2", "MNIST-2"]),
        "no field differs between MNIST-2, MNIST-2 (sys/ compared by name, description and tags only)\n"
    );
}

// ---- errors -------------------------------------------------------------

#[test]
fn a_missing_store_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    for args in [
        &["ls"][..],
        &["show", "MNIST-1"],
        &["get", "MNIST-1", "params/lr"],
        &["diff", "MNIST-1", "MNIST-2"],
    ] {
        let err = fails(&missing, args);
        assert_eq!(
            err, "hippocamp: no hippocamp store at [store] (give --dir or set HIPPOCAMP_HOME)\n",
            "{args:?}"
        );
    }
    assert!(!missing.exists(), "a read created the store");
}

#[test]
fn an_unknown_run_names_the_nearest() {
    let dir = store();
    let expected = "hippocamp: no run MNIST-12 in [store] (nearest: MNIST-1, MNIST-2, MNIST-3)\n";
    assert_eq!(fails(dir.path(), &["show", "MNIST-12"]), expected);
    assert_eq!(
        fails(dir.path(), &["get", "MNIST-12", "params/lr"]),
        expected
    );
    assert_eq!(
        fails(dir.path(), &["diff", "MNIST-1", "MNIST-12"]),
        expected
    );
    assert_eq!(
        fails(dir.path(), &["show", "cifar-1"]),
        "hippocamp: no run cifar-1 in [store] (nearest: CIFAR-1, MNIST-1, MNIST-2)\n"
    );
}

#[test]
fn an_unknown_path_names_the_nearest() {
    let dir = store();
    snapshot!(
        "error_show_path",
        fails(dir.path(), &["show", "MNIST-1", "train/los"])
    );
    snapshot!(
        "error_get_path",
        fails(dir.path(), &["get", "MNIST-1", "params/optimizer/nme"])
    );
    assert_eq!(
        fails(dir.path(), &["get", "MNIST-1", "params//lr"]),
        "hippocamp: invalid path `params//lr`: empty segment (`//`) at byte 7\n"
    );
    // Nothing written to -o on an error.
    let out_dir = tempfile::tempdir().unwrap();
    let target = out_dir.path().join("x.bin");
    fails(
        dir.path(),
        &[
            "get",
            "MNIST-1",
            "model/weight",
            "-o",
            target.to_str().unwrap(),
        ],
    );
    fails(
        dir.path(),
        &[
            "get",
            "MNIST-1",
            "params/lr",
            "--last",
            "-o",
            target.to_str().unwrap(),
        ],
    );
    assert!(!target.exists());
    // A file that cannot be written: one line, naming it.
    let unwritable = out_dir.path().join("no/such/folder/lr.txt");
    let err = fails(
        dir.path(),
        &[
            "get",
            "MNIST-1",
            "params/lr",
            "-o",
            unwritable.to_str().unwrap(),
        ],
    );
    assert!(
        err.starts_with(&format!(
            "hippocamp: cannot write {}: ",
            unwritable.display()
        )),
        "{err}"
    );
}

#[test]
fn bad_options_are_one_line() {
    let dir = store();
    let cases = [
        (
            &["ls", "--where", "params/lr > "][..],
            "hippocamp: --where: expected a value after '>' at byte 12\n",
        ),
        (
            &["ls", "--where", "params/lr > 0.1 and"],
            "hippocamp: --where: expected a field path at byte 19\n",
        ),
        (
            &["ls", "--where", "params/name = adam"],
            "hippocamp: --where: expected a value after '=': `adam` is not a number, a \"string\", \
             true or false (quote strings) at byte 14\n",
        ),
        (
            &["ls", "--where", "(params/lr > 0.1"],
            "hippocamp: --where: expected ')' closing the '(' at byte 0 at byte 16\n",
        ),
        (
            &["ls", "--where", "params/lr > 0.1 params/x = 1"],
            "hippocamp: --where: expected `and`, `or` or the end, found `params/x` at byte 16\n",
        ),
        (
            &["ls", "--state", "done"],
            "hippocamp: --state: no state `done` (the states are running, finished, crashed, failed, damaged)\n",
        ),
        (
            &["ls", "--columns", "params/lr,/x"],
            "hippocamp: --columns: invalid field path `/x`: path starts with `/` at byte 0\n",
        ),
        (
            &["get", "MNIST-1", "params/lr", "--last"],
            "hippocamp: --last takes a series; `params/lr` in run MNIST-1 is a Float\n",
        ),
        (
            &["ls", "--sort", "train//loss"],
            "hippocamp: --sort: invalid field path `train//loss`: empty segment (`//`) at byte 6\n",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(fails(dir.path(), args), expected, "{args:?}");
    }
}

// ---- reading while another process writes --------------------------------

#[test]
fn reads_while_a_run_is_being_written() {
    let dir = store();
    let run = Run::builder()
        .dir(dir.path())
        .project("live")
        .flush_interval(Duration::from_millis(5))
        .start()
        .unwrap();
    run.at("params/lr").assign(0.5).unwrap();
    run.at("train/loss").append(1.0).unwrap();
    run.flush().unwrap();
    let id = run.id().to_owned();

    // The writer: this test process, logging and flushing all along; the
    // binary reading is another process.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (run, stop) = (run.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                run.at("train/loss").append(1.0 / n as f64).unwrap();
                run.at(format!("metrics/m{}", n % 50))
                    .append(n as f64)
                    .unwrap();
                if n.is_multiple_of(10) {
                    run.flush().unwrap();
                }
                // Enough to keep the store busy, not so much that the
                // series grows past what a test should read.
                std::thread::sleep(Duration::from_micros(200));
            }
            n
        })
    };
    let mut previous = 0;
    for _ in 0..8 {
        let listing = ok(
            dir.path(),
            &[
                "ls",
                "--columns",
                "train/loss",
                "--where",
                "train/loss <= 1",
            ],
        );
        assert!(listing.contains(&id), "{listing}");
        let points = ok(dir.path(), &["get", &id, "train/loss"]);
        let count = points.lines().count() - 1;
        assert!(count >= previous, "{count} points after {previous}");
        previous = count;
        for line in points.lines().skip(1) {
            assert_eq!(line.split(',').count(), 3, "{line}");
        }
        ok(dir.path(), &["get", &id, "train/loss", "--last"]);
        ok(dir.path(), &["show", &id]);
        ok(dir.path(), &["diff", &id, "MNIST-1"]);
    }
    stop.store(true, Ordering::Relaxed);
    let logged = writer.join().unwrap();
    run.close().unwrap();
    assert!(logged > 0);
    let state = ok(dir.path(), &["get", &id, "sys/state"]);
    assert_eq!(state, "finished\n");
    let all = ok(dir.path(), &["get", &id, "train/loss"]);
    assert_eq!(all.lines().count() as u64 - 1, logged + 1);
}
