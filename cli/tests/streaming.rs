//! Long series and damaged contents through the `hippocamp` binary:
//! `get`, `show`, `plot`, `export` and `import` stream series a chunk at a
//! time and give what the whole series would; a content that does not
//! match its SHA-256 is refused, naming the run, the path and the content.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, UNIX_EPOCH};

use hippocamp_core::sqlite::Repository;
use hippocamp_core::{LogOptions, Run};

fn hippocamp(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hippocamp"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn fails(output: Output, wanted: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    for w in wanted {
        assert!(stderr.contains(w), "{stderr:?} lacks {w:?}");
    }
    stderr
}

/// Points in more than three stored chunks.
const POINTS: usize = 150_000;

/// LONG-1: `train/loss` of POINTS points (one NaN, a spike, a dip),
/// `log` of three strings and a file; finished.
fn long_run(dir: &Path) {
    let run = Run::builder().project("long").dir(dir).start().unwrap();
    let loss = run.at("train/loss");
    for i in 0..POINTS {
        let value = match i {
            10 => f64::NAN,
            100_000 => 50.0,
            120_000 => -50.0,
            _ => (i % 100) as f64 / 100.0,
        };
        let at = UNIX_EPOCH + Duration::from_secs(1_000_000_000) + Duration::from_millis(i as u64);
        hippocamp_core::Appendable::append_at(
            &value,
            &loss,
            "",
            &LogOptions::new().step(i).timestamp(at),
        )
        .unwrap();
    }
    run.at("log").extend(["a", "b,c", "d"]).unwrap();
    run.at("model")
        .upload_bytes(b"model weights".to_vec(), "model.bin")
        .unwrap();
    run.close().unwrap();
}

#[test]
fn get_streams_a_long_series_as_the_whole_would_print() {
    let dir = tempfile::tempdir().unwrap();
    long_run(dir.path());
    let csv = ok(hippocamp(dir.path(), &["get", "LONG-1", "train/loss"]));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), POINTS + 1);
    assert_eq!(lines[0], "step,value,timestamp");
    assert_eq!(lines[1], "0,0.0,2001-09-09T01:46:40.000000000Z");
    assert_eq!(lines[11], "10,NaN,2001-09-09T01:46:40.010000000Z");
    assert_eq!(lines[100_001], "100000,50.0,2001-09-09T01:48:20.000000000Z");
    assert_eq!(lines[POINTS], "149999,0.99,2001-09-09T01:49:09.999000000Z");
    let json = ok(hippocamp(
        dir.path(),
        &["get", "LONG-1", "train/loss", "--format", "json"],
    ));
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let points = parsed.as_array().unwrap();
    assert_eq!(points.len(), POINTS);
    assert_eq!(points[10]["value"], "NaN");
    assert_eq!(points[149_999]["step"], 149_999);
    // The same bytes as the whole array pretty-printed at once.
    assert_eq!(
        json,
        format!("{}\n", serde_json::to_string_pretty(&parsed).unwrap())
    );
    let json = ok(hippocamp(
        dir.path(),
        &["get", "LONG-1", "log", "--format", "json"],
    ));
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        json,
        format!("{}\n", serde_json::to_string_pretty(&parsed).unwrap())
    );
    // -o: complete, or as it was.
    let out = dir.path().join("loss.csv");
    ok(hippocamp(
        dir.path(),
        &["get", "LONG-1", "train/loss", "-o", out.to_str().unwrap()],
    ));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), csv);
}

#[test]
fn show_and_plot_summarise_a_long_series() {
    let dir = tempfile::tempdir().unwrap();
    long_run(dir.path());
    let shown = ok(hippocamp(dir.path(), &["show", "LONG-1", "train/loss"]));
    assert_eq!(
        shown,
        "|--> loss: FloatSeries (150000 points, last 0.99 at step 149999, min -50.0, max 50.0)\n"
    );
    let svg = dir.path().join("loss.svg");
    let said = ok(hippocamp(
        dir.path(),
        &["plot", "LONG-1:train/loss", "-o", svg.to_str().unwrap()],
    ));
    assert!(said.contains("1 NaN/Inf point not drawn"), "{said}");
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(chart.contains("<svg"), "an SVG");
    let terminal = ok(hippocamp(
        dir.path(),
        &["plot", "LONG-1:train/loss", "--x", "time"],
    ));
    assert!(!terminal.is_empty());
}

#[test]
fn a_long_run_exports_and_imports_losslessly() {
    let dir = tempfile::tempdir().unwrap();
    long_run(dir.path());
    let out = tempfile::tempdir().unwrap();
    for format in ["json", "csv", "parquet"] {
        let target = out.path().join(format);
        ok(hippocamp(
            dir.path(),
            &[
                "export",
                "LONG-1",
                "--format",
                format,
                "-o",
                target.to_str().unwrap(),
            ],
        ));
    }
    let rows =
        std::fs::read_to_string(out.path().join("csv/LONG-1/series/train/loss.csv")).unwrap();
    assert_eq!(rows.lines().count(), POINTS + 1);
    let json = std::fs::read_to_string(out.path().join("json/LONG-1.json")).unwrap();
    // Byte for byte what the whole dump writes.
    let dump = Repository::open(dir.path())
        .unwrap()
        .export_run("LONG-1")
        .unwrap();
    let mut whole = Vec::new();
    hippocamp_cli::runfile::write_run(&dump, Some("LONG-1.files"), &mut whole).unwrap();
    assert_eq!(json.as_bytes(), whole.as_slice());

    let other = tempfile::tempdir().unwrap();
    let said = ok(hippocamp(
        other.path(),
        &["import", out.path().join("json").to_str().unwrap()],
    ));
    assert_eq!(said, "imported LONG-1\n");
    let back = Repository::open(other.path())
        .unwrap()
        .export_run("LONG-1")
        .unwrap();
    let mut again = Vec::new();
    hippocamp_cli::runfile::write_run(&back, Some("LONG-1.files"), &mut again).unwrap();
    assert_eq!(again, whole);
}

#[test]
fn an_import_with_a_bad_step_late_in_a_series_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    long_run(dir.path());
    let out = tempfile::tempdir().unwrap();
    ok(hippocamp(
        dir.path(),
        &[
            "export",
            "LONG-1",
            "-o",
            out.path().to_str().unwrap(),
            "--format",
            "json",
        ],
    ));
    let path = out.path().join("LONG-1.json");
    let json = std::fs::read_to_string(&path).unwrap();
    let broken = json.replace(r#"{"step":149999.0,"#, r#"{"step":5.0,"#);
    assert_ne!(broken, json);
    std::fs::write(&path, broken).unwrap();
    let other = tempfile::tempdir().unwrap();
    fails(
        hippocamp(other.path(), &["import", path.to_str().unwrap()]),
        &["train/loss", "not after its last step"],
    );
    assert!(!other.path().join("hippocamp.db").exists());
}

/// The content of `model` in LONG-1, altered at the same size.
fn damage(dir: &Path) -> String {
    let repo = Repository::open(dir).unwrap();
    let sha = repo.referenced_blobs().unwrap().into_iter().next().unwrap();
    let blob = repo.blob_path(&sha).unwrap();
    std::fs::write(&blob, b"model weighTs").unwrap();
    sha
}

#[test]
fn a_damaged_content_is_refused_by_get_and_export() {
    let dir = tempfile::tempdir().unwrap();
    long_run(dir.path());
    let sha = damage(dir.path());
    let out = dir.path().join("model.bin");
    fails(
        hippocamp(
            dir.path(),
            &["get", "LONG-1", "model", "-o", out.to_str().unwrap()],
        ),
        &["LONG-1", "`model`", &sha, "does not match its SHA-256"],
    );
    assert!(!out.exists(), "nothing written");
    let export = dir.path().join("export");
    fails(
        hippocamp(
            dir.path(),
            &[
                "export",
                "LONG-1",
                "--format",
                "json",
                "-o",
                export.to_str().unwrap(),
            ],
        ),
        &["LONG-1", &sha, "does not match its SHA-256"],
    );
    assert!(!export.exists(), "the export left nothing");
}

#[test]
fn gc_reports_stale_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    long_run(dir.path());
    let stale = dir.path().join("files/.upload.99.0.tmp");
    std::fs::write(&stale, vec![0u8; 2048]).unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let dry = ok(hippocamp(dir.path(), &["gc", "--dry-run"]));
    assert!(
        dry.contains("would remove 1 stale temporary file (untouched for 1 h), 2048 bytes"),
        "{dry}"
    );
    assert!(stale.exists());
    let done = ok(hippocamp(dir.path(), &["gc"]));
    assert!(done.starts_with("freed 0 files, 0 bytes"), "{done}");
    assert!(done.contains("removed 1 stale temporary file"), "{done}");
    assert!(!stale.exists());
}
