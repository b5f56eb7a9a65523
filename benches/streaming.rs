//! Peak memory and wall time of the `hippocamp` commands on a 20 M-point
//! FloatSeries, and of uploading a 1 GiB file, each beside a baseline
//! measured in the same run: `hippocamp ls` on the same store for the
//! commands, `cat` of the same file for the upload. Figures in
//! BENCHMARKS.md.
//!
//! ```sh
//! cargo bench --bench streaming          # builds the CLI with --release first
//! ```
//!
//! `HIPPOCAMP_STREAM_POINTS` and `HIPPOCAMP_STREAM_UPLOAD_MIB` make it
//! smaller; `HIPPOCAMP_STREAM_RUNS` sets the runs per command (3; the
//! median is shown). Each command runs as its own process, whose peak
//! resident memory (`ru_maxrss`) comes from `wait4`; the bench itself
//! logs and uploads in child processes too, so that it stays small (a
//! child's peak counts from the memory of its parent when it forks).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `command` to its end; gives its wall time and peak resident
/// memory in MiB.
fn measure(command: &mut Command) -> (Duration, f64) {
    let start = Instant::now();
    let child = command.spawn().expect("the command starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value of that plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet waited for (`child` is never
    // waited on: dropping a `Child` does not wait), and both pointers are
    // to live, writable locals of the types wait4 expects.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert_eq!(waited, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{command:?} failed (status {status})"
    );
    drop(child);
    // Linux gives ru_maxrss in KiB.
    (elapsed, usage.ru_maxrss as f64 / 1024.0)
}

/// The median wall time and peak memory of `runs` runs.
fn median(runs: u64, mut make: impl FnMut() -> Command) -> (Duration, f64) {
    let mut times = Vec::new();
    let mut peaks = Vec::new();
    for _ in 0..runs {
        let (t, m) = measure(&mut make());
        times.push(t);
        peaks.push(m);
    }
    times.sort();
    peaks.sort_by(f64::total_cmp);
    (times[times.len() / 2], peaks[peaks.len() / 2])
}

/// The release build of the `hippocamp` binary.
fn hippocamp_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("HIPPOCAMP_BIN") {
        return PathBuf::from(bin);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let built = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "hippocamp-cli",
            "--bin",
            "hippocamp",
        ])
        .current_dir(root)
        .status()
        .expect("cargo runs");
    assert!(built.success(), "the CLI builds");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    target.join("release").join("hippocamp")
}

/// The child mode: upload `file` into a new run of the store `store`.
fn upload(file: &str, store: &str) {
    let run = hippocamp::Run::builder()
        .dir(store)
        .start()
        .expect("a run starts");
    run.at("checkpoint").upload(file).expect("the upload");
    run.close().expect("the run closes");
}

/// The child mode: log `points` points into `train/loss` of a new run.
fn log(points: &str, store: &str) {
    let points: u64 = points.parse().expect("a number of points");
    let run = hippocamp::Run::builder()
        .project("bench")
        .dir(store)
        .start()
        .expect("a run starts");
    let loss = run.at("train/loss");
    for i in 0..points {
        loss.append((i as f64 * 1e-4).sin()).expect("append");
    }
    run.close().expect("close");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, a, b] = &args[..] {
        match mode.as_str() {
            "--upload-child" => return upload(a, b),
            "--log-child" => return log(a, b),
            _ => {}
        }
    }
    let points = env_or("HIPPOCAMP_STREAM_POINTS", 20_000_000);
    let upload_mib = env_or("HIPPOCAMP_STREAM_UPLOAD_MIB", 1024);
    let runs = env_or("HIPPOCAMP_STREAM_RUNS", 3);
    let bin = hippocamp_binary();
    let work = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).expect("a work folder");
    let store = work.path().join("store");

    // Logged by a process of its own: a child's peak memory starts from
    // what its parent holds when it forks, so this one stays small.
    let me = std::env::current_exe().expect("this bench");
    let started = Instant::now();
    measure(
        Command::new(&me)
            .arg("--log-child")
            .arg(points.to_string())
            .arg(&store),
    );
    eprintln!(
        "logged {points} points in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let hippocamp = |args: &[&str]| {
        let mut command = Command::new(&bin);
        command
            .arg("--dir")
            .arg(&store)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        command
    };
    let export_dir = work.path().join("export");
    let svg = work.path().join("loss.svg");
    let svg_arg = svg.to_string_lossy().into_owned();
    let export_arg = export_dir.to_string_lossy().into_owned();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("baseline: hippocamp ls", vec!["ls"]),
        (
            "hippocamp get BENCH-1 train/loss (CSV)",
            vec!["get", "BENCH-1", "train/loss"],
        ),
        (
            "hippocamp get BENCH-1 train/loss --format json",
            vec!["get", "BENCH-1", "train/loss", "--format", "json"],
        ),
        ("hippocamp show BENCH-1", vec!["show", "BENCH-1"]),
        (
            "hippocamp plot BENCH-1:train/loss -o loss.svg",
            vec!["plot", "BENCH-1:train/loss", "-o", &svg_arg],
        ),
        (
            "hippocamp export BENCH-1 --format json",
            vec!["export", "BENCH-1", "--format", "json", "-o", &export_arg],
        ),
    ];
    println!("{points} points, medians of {runs} runs");
    println!();
    println!("| command | peak RSS | wall time |");
    println!("|---|---|---|");
    for (name, args) in &cases {
        let (time, peak) = median(runs, || {
            let _ = std::fs::remove_dir_all(&export_dir);
            hippocamp(args)
        });
        println!("| {name} | {peak:.1} MiB | {:.2} s |", time.as_secs_f64());
    }

    // The JSON export read back into a new store.
    let imported = work.path().join("imported");
    let export_file = export_dir.join("BENCH-1.json");
    let (time, peak) = median(runs, || {
        let _ = std::fs::remove_dir_all(&imported);
        let mut command = Command::new(&bin);
        command
            .arg("--dir")
            .arg(&imported)
            .arg("import")
            .arg(&export_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        command
    });
    println!(
        "| hippocamp import BENCH-1.json (the export above) | {peak:.1} MiB | {:.2} s |",
        time.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&imported);
    let _ = std::fs::remove_dir_all(&export_dir);

    // A 1 GiB file, uploaded by a process of its own.
    let file = work.path().join("checkpoint.bin");
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).expect("a file"));
        let block: Vec<u8> = (0..1u32 << 20)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        for _ in 0..upload_mib {
            out.write_all(&block).expect("written");
        }
        out.flush().expect("flushed");
    }
    let upload_store = work.path().join("upload-store");
    let copy = work.path().join("copy.bin");
    let (time, peak) = median(runs, || {
        let mut command = Command::new("sh");
        command.arg("-c").arg(format!(
            "cat '{}' > '{}' && sync '{}'",
            file.display(),
            copy.display(),
            copy.display()
        ));
        command
    });
    println!(
        "| baseline: cat of the {upload_mib} MiB file into a file, synced | {peak:.1} MiB | {:.2} s |",
        time.as_secs_f64()
    );
    let (time, peak) = median(runs, || {
        let _ = std::fs::remove_dir_all(&upload_store);
        let mut command = Command::new(&me);
        command
            .arg("--upload-child")
            .arg(&file)
            .arg(&upload_store)
            .stdin(Stdio::null());
        command
    });
    println!(
        "| `run.at(\"checkpoint\").upload(…)` of the {upload_mib} MiB file, then `close()` | {peak:.1} MiB | {:.2} s |",
        time.as_secs_f64()
    );
}
