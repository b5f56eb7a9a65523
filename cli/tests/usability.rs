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

// ---- numbers --------------------------------------------------------------

/// Two runs whose floats have more digits than a person reads.
fn noisy_runs(dir: &Path) -> (String, String) {
    let a = run_with(dir, |run| {
        run.at("params/lr").assign(0.1 + 0.2).unwrap();
        run.at("eval/final_loss")
            .assign(0.17884799999999998)
            .unwrap();
        run.at("params/tiny").assign(1.000001).unwrap();
        run.at("train/loss").extend([0.9, 1.0 / 3.0]).unwrap();
    });
    let b = run_with(dir, |run| {
        run.at("params/lr").assign(0.1).unwrap();
        run.at("eval/final_loss")
            .assign(0.17884799999999998)
            .unwrap();
        run.at("params/tiny").assign(1.000002).unwrap();
        run.at("train/loss").extend([0.8, 2.0 / 3.0]).unwrap();
    });
    (a, b)
}

/// The last `n` of `cells`.
fn tail(cells: Vec<&str>, n: usize) -> Vec<&str> {
    cells[cells.len() - n..].to_vec()
}

/// The cells of the line of `out` that starts with `first`.
fn row<'a>(out: &'a str, first: &str) -> Vec<&'a str> {
    let line = out
        .lines()
        .find(|l| l.starts_with(first))
        .unwrap_or_else(|| panic!("no line {first:?} in\n{out}"));
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

#[test]
fn tables_and_trees_show_short_floats_get_and_exports_exact_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (a, b) = noisy_runs(d);
    let columns = "--columns=eval/final_loss,params/lr,train/loss";

    // ls: 6 significant digits by default, narrow columns.
    let table = ok(d, &["ls", columns]);
    assert_eq!(
        tail(row(&table, &a), 3),
        ["0.178848", "0.3", "0.333333"],
        "{table}"
    );
    assert_eq!(
        tail(row(&table, &b), 3),
        ["0.178848", "0.1", "0.666667"],
        "{table}"
    );
    let table = ok(d, &["ls", columns, "--precision", "2"]);
    assert_eq!(tail(row(&table, &a), 3), ["0.18", "0.3", "0.33"], "{table}");
    let table = ok(d, &["ls", columns, "--precision", "17"]);
    assert_eq!(
        tail(row(&table, &a), 3),
        [
            "0.17884799999999998",
            "0.30000000000000004",
            "0.3333333333333333"
        ],
        "{table}"
    );
    // ls CSV and JSON are exact.
    let csv = ok(d, &["ls", columns, "--format", "csv"]);
    assert!(
        csv.contains(",0.17884799999999998,0.30000000000000004,0.3333333333333333\n"),
        "{csv}"
    );
    let json = ok(d, &["ls", columns, "--format", "json"]);
    assert!(
        json.contains("\"params/lr\": 0.30000000000000004"),
        "{json}"
    );

    // show: atoms and series summaries.
    let tree = ok(d, &["show", &a]);
    assert!(tree.contains("|--> final_loss: 0.178848\n"), "{tree}");
    assert!(tree.contains("|--> lr: 0.3\n"), "{tree}");
    assert!(
        tree.contains(
            "|--> loss: FloatSeries (2 points, last 0.333333 at step 1, min 0.333333, max 0.9)"
        ),
        "{tree}"
    );
    let tree = ok(d, &["show", &a, "params", "--precision", "3"]);
    assert_eq!(tree, "|--> lr: 0.3\n|--> tiny: 1.0\n");

    // get: exact.
    assert_eq!(
        ok(d, &["get", &a, "eval/final_loss"]),
        "0.17884799999999998\n"
    );
    assert_eq!(
        ok(d, &["get", &a, "params"]),
        "lr: 0.30000000000000004\ntiny: 1.000001\n"
    );
    assert!(ok(d, &["get", &a, "train/loss"]).contains("\n1,0.3333333333333333,"));

    // diff: equal values are left out; values equal to 6 digits but not
    // exactly are shown with the digits that tell them apart.
    let diff = ok(d, &["diff", &a, &b]);
    assert!(!diff.contains("final_loss"), "{diff}");
    assert_eq!(
        row(&diff, "params/lr"),
        ["params/lr", "0.3", "0.1"],
        "{diff}"
    );
    assert_eq!(
        row(&diff, "params/tiny"),
        ["params/tiny", "1.000001", "1.000002"],
        "{diff}"
    );
    assert_eq!(
        row(&diff, "train/loss"),
        ["train/loss (last)", "0.333333", "0.666667"],
        "{diff}"
    );
    let diff = ok(d, &["diff", &a, &b, "--precision", "2"]);
    assert_eq!(
        row(&diff, "params/tiny"),
        ["params/tiny", "1.000001", "1.000002"]
    );
    assert_eq!(
        row(&diff, "train/loss"),
        ["train/loss (last)", "0.33", "0.67"]
    );

    // The export: exact.
    let exported = d.join("exported");
    ok(d, &["export", &a, "-o", exported.to_str().unwrap()]);
    let json = std::fs::read_to_string(exported.join(format!("{a}.json"))).unwrap();
    assert!(json.contains("0.17884799999999998"), "{json}");
}

#[test]
fn precision_takes_1_to_17() {
    let dir = tempfile::tempdir().unwrap();
    run_with(dir.path(), |run| run.at("x").assign(0.5).unwrap());
    for bad in ["0", "18", "six"] {
        let out = hippocamp(dir.path(), &["ls", "--precision", bad]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--precision"), "{stderr}");
    }
}

// ---- paths no run has -----------------------------------------------------

/// stdout and stderr of a command that succeeds.
fn ok_with_stderr(dir: &Path, args: &[&str]) -> (String, String) {
    let out = hippocamp(dir, args);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "hippocamp {args:?}: {stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

#[test]
fn options_name_the_nearest_paths_of_a_path_no_run_has() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = run_with(d, |run| {
        run.at("params/learning_rate").assign(0.1).unwrap();
        run.at("params/batch").assign(64).unwrap();
        run.at("train/loss").extend([0.5, 0.25]).unwrap();
    });
    let b = run_with(d, |run| {
        run.at("params/learning_rate").assign(0.001).unwrap();
    });

    // The case: an empty table, and a warning saying why.
    let (table, warning) = ok_with_stderr(d, &["ls", "--where", "learning_rate > 0.01"]);
    assert_eq!(table, "ID  NAME  STATE  CREATED  TAGS\n");
    assert_eq!(
        warning,
        "hippocamp: warning: --where: no run has `learning_rate` \
         (nearest: params/learning_rate, params, train)\n"
    );
    // A column and a sort key: the table is as it would be, and the
    // warning names a namespace for the start of its name.
    let (table, warning) = ok_with_stderr(d, &["ls", "--columns", "param", "--sort", "train/los"]);
    assert!(table.contains(&a) && table.contains(&b), "{table}");
    let lines: Vec<&str> = warning.lines().collect();
    assert_eq!(lines.len(), 2, "{warning}");
    assert!(
        lines[0]
            .starts_with("hippocamp: warning: --columns: no run has `param` (nearest: params, "),
        "{warning}"
    );
    assert!(
        lines[1].starts_with(
            "hippocamp: warning: --sort: no run has `train/los` (nearest: train/loss, "
        ),
        "{warning}"
    );
    // JSON and CSV too: the warning is on stderr, the output unchanged.
    let (json, warning) = ok_with_stderr(d, &["ls", "--columns", "lr", "--format", "json"]);
    assert!(json.starts_with('['), "{json}");
    assert!(warning.contains("--columns: no run has `lr`"), "{warning}");
    // A path some run has: no warning, even where others lack it; nor
    // for the built-in sort keys.
    let (table, warning) = ok_with_stderr(
        d,
        &[
            "ls",
            "--where",
            "train/loss < 1",
            "--columns",
            "params/batch",
            "--sort",
            "name",
        ],
    );
    assert_eq!(warning, "");
    assert!(table.contains(&a) && !table.contains(&b), "{table}");
    // Runs left out by --project are not looked at.
    let (_, warning) = ok_with_stderr(d, &["ls", "--project", "mnist", "--columns", "x/y"]);
    assert!(
        warning.starts_with("hippocamp: warning: --columns: none of the 2 runs --project, --tag and --state keep has `x/y`"),
        "{warning}"
    );
    // The same path twice is one warning.
    let (_, warning) = ok_with_stderr(d, &["ls", "--where", "zz = 1 or zz = 2", "--columns", "zz"]);
    assert_eq!(warning.lines().count(), 2, "{warning}");
}
