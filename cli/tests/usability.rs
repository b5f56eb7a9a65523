//! End-to-end tests of what a new user meets in the first hour: defaults,
//! the precision of numbers, warnings about paths no run has.

use std::path::Path;
use std::process::{Command, Output};

use hippocamp_core::Run;

/// A finished run of project `mnist` in `dir`, filled by `fill`; its id.
fn run_with(dir: &Path, fill: impl FnOnce(&Run)) -> String {
    let run = Run::builder().dir(dir).project("mnist").start().unwrap();
    fill(&run);
    let id = run.id().to_owned();
    run.close().unwrap();
    id
}

/// Runs the binary on the store in `dir`, from `dir` as working directory.
fn hippocamp(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hippocamp"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .current_dir(dir)
        .env_remove("HIPPOCAMP_HOME")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// The stdout of a command that succeeds with nothing on stderr.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = hippocamp(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "hippocamp {args:?}: {stderr}");
    assert!(stderr.is_empty(), "hippocamp {args:?}: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

// ---- export -------------------------------------------------------------

#[test]
fn export_writes_json_without_format() {
    let dir = tempfile::tempdir().unwrap();
    let id = run_with(dir.path(), |run| run.at("params/lr").assign(0.01).unwrap());
    let out = dir.path().join("exported");
    let printed = ok(dir.path(), &["export", &id, "-o", out.to_str().unwrap()]);
    assert!(printed.contains("exported 1 run"), "{printed}");
    let json = std::fs::read_to_string(out.join(format!("{id}.json"))).unwrap();
    assert!(json.contains("params/lr"), "{json}");
    // And `import` reads it back.
    let other = tempfile::tempdir().unwrap();
    ok(other.path(), &["import", out.to_str().unwrap()]);
    assert!(ok(other.path(), &["ls"]).contains(&id));
}
