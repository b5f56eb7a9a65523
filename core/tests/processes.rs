//! Several processes and threads on one store, and crashes: nothing
//! flushed is lost, ordinary contention never surfaces as "database is
//! locked", and a run whose process died shows as crashed.
//!
//! Child processes are this test binary run again: the parent starts
//! `current_exe() --exact child_… --nocapture --test-threads=1` with
//! [`CHILD_ENV`] naming the child, and reads the lines it prints. The
//! `child_…` functions are helpers, not tests: without [`CHILD_ENV`] (an
//! ordinary `cargo test`) they return at once and pass trivially.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Lines, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hippocamp_core::sqlite::{Repository, CRASH_AFTER, DATABASE_FILE};
use hippocamp_core::{Error, FieldType, Mode, Point, Run, Value};

/// Names the child function a child process is to run.
const CHILD_ENV: &str = "HIPPOCAMP_TEST_CHILD";
/// The store's directory, for a child.
const DIR_ENV: &str = "HIPPOCAMP_TEST_DIR";
/// The run a child logs to, if it is given one.
const RUN_ENV: &str = "HIPPOCAMP_TEST_RUN_ID";
/// The child's number among its siblings.
const WORKER_ENV: &str = "HIPPOCAMP_TEST_WORKER";

/// A child's settings, when this process is the child `name`.
struct ChildEnv {
    dir: PathBuf,
    run_id: Option<String>,
    worker: usize,
}

/// `Some` only in a child process started to run `name`.
fn child_env(name: &str) -> Option<ChildEnv> {
    if std::env::var(CHILD_ENV).ok()? != name {
        return None;
    }
    Some(ChildEnv {
        dir: std::env::var_os(DIR_ENV)
            .map(PathBuf::from)
            .expect("a child is given its store"),
        run_id: std::env::var(RUN_ENV).ok(),
        worker: std::env::var(WORKER_ENV)
            .ok()
            .map_or(0, |w| w.parse().expect("a worker number")),
    })
}

/// Waits for the parent's go (one line on stdin), so that siblings start
/// at the same moment.
fn wait_for_go() {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).expect("stdin");
}

/// Marks a child's messages to its parent.
const MARK: &str = "@@ ";

/// Tells the parent something: one line on stdout. (The test harness
/// prints `test child_… ... ` without a line break before the test's own
/// output, so messages are found by their mark, not at a line's start.)
fn say(message: impl std::fmt::Display) {
    println!("{MARK}{message}");
}

/// The rest of `line` after a message mark and `prefix`.
fn message(line: &str, prefix: &str) -> Option<String> {
    let at = line.find(MARK)?;
    let rest = line[at + MARK.len()..].strip_prefix(prefix)?;
    Some(rest.trim().to_owned())
}

/// A child process, killed if the test fails before it ends.
struct Proc {
    name: String,
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    stderr: Option<JoinHandle<String>>,
}

/// What a finished child did.
struct Exit {
    status: ExitStatus,
    /// The lines it printed after those already read.
    stdout: Vec<String>,
    stderr: String,
}

impl Exit {
    /// Asserts the child ran without any error.
    fn assert_ok(&self, name: &str) {
        assert!(
            self.status.success(),
            "child {name} failed ({}):\n{}\n{}",
            self.status,
            self.stdout.join("\n"),
            self.stderr
        );
        assert!(
            !self.stderr.contains("locked") && !self.stdout.iter().any(|l| l.contains("locked")),
            "child {name} met a locked database:\n{}",
            self.stderr
        );
    }
}

fn spawn_child(name: &str, dir: &Path, run_id: Option<&str>, worker: usize) -> Proc {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, name)
        .env(DIR_ENV, dir)
        .env(WORKER_ENV, worker.to_string())
        .env_remove(RUN_ENV)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(id) = run_id {
        command.env(RUN_ENV, id);
    }
    let mut child = command.spawn().expect("the child starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    // Read stderr aside so that a chatty child never blocks on it.
    let stderr = thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    Proc {
        name: format!("{name}#{worker}"),
        child,
        lines: BufReader::new(stdout).lines(),
        stderr: Some(stderr),
    }
}

impl Proc {
    /// Lets a child waiting in [`wait_for_go`] start.
    fn go(&mut self) {
        let stdin = self.child.stdin.as_mut().expect("piped stdin");
        stdin.write_all(b"go\n").expect("the child reads its stdin");
        stdin.flush().unwrap();
    }

    /// The rest of the next message the child [`say`]s that starts with
    /// `prefix`, skipping the test harness's output; `None` at its end.
    fn next(&mut self, prefix: &str) -> Option<String> {
        for line in self.lines.by_ref() {
            if let Some(rest) = message(&line.expect("the child's stdout"), prefix) {
                return Some(rest);
            }
        }
        None
    }

    /// Waits for the child's end.
    fn wait(mut self) -> Exit {
        let stdout: Vec<String> = self.lines.by_ref().map_while(|l| l.ok()).collect();
        let status = self.child.wait().expect("the child ends");
        let stderr = self.stderr.take().unwrap().join().unwrap_or_default();
        Exit {
            status,
            stdout,
            stderr,
        }
    }

    /// Kills the child (SIGKILL on Unix), then collects what it printed.
    fn kill(mut self) -> Exit {
        self.child.kill().expect("the child is killed");
        self.wait()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // Only reached with the child still running when a test fails.
        if let Ok(None) = self.child.try_wait() {
            eprintln!("killing child {}", self.name);
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn open(dir: &Path, id: &str, mode: Mode) -> Run {
    Run::builder()
        .dir(dir)
        .run_id(id)
        .mode(mode)
        .start()
        .unwrap_or_else(|e| panic!("run {id} opens in {} mode: {e}", mode.name()))
}

fn state(run: &Run) -> String {
    match run.at("sys/state").fetch().expect("sys/state") {
        Value::String(s) => s,
        other => panic!("sys/state is {other:?}"),
    }
}

fn repository_state(dir: &Path, id: &str) -> String {
    Repository::open(dir)
        .unwrap()
        .runs()
        .unwrap()
        .into_iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("run {id} is listed"))
        .state
}

fn float(p: &Point) -> f64 {
    match p.value {
        Value::Float(x) => x,
        ref other => panic!("not a float: {other:?}"),
    }
}

/// Asserts the points are steps 0, 1, 2, … with `value(step)`.
fn assert_consecutive(what: &str, points: &[Point], value: impl Fn(u64) -> Value) {
    for (i, p) in points.iter().enumerate() {
        assert_eq!(p.step, i as f64, "{what}: a gap or disorder at {i}");
        assert_eq!(p.value, value(i as u64), "{what}: value at step {i}");
    }
}

/// SQLite's own check of the whole database file.
fn assert_integrity(dir: &Path) {
    let conn = rusqlite::Connection::open_with_flags(
        dir.join(DATABASE_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let check: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(check, ["ok"]);
    let orphans: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(orphans, 0, "rows whose parent is missing");
}

fn heartbeat(dir: &Path, id: &str) -> SystemTime {
    let conn = rusqlite::Connection::open_with_flags(
        dir.join(DATABASE_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let nanos: i64 = conn
        .query_row("SELECT heartbeat_ns FROM runs WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap();
    UNIX_EPOCH + Duration::from_nanos(nanos as u64)
}

// ---------------------------------------------------------------------
// The crash test.

fn crash_loss(step: u64) -> Value {
    Value::Float(step as f64 * 0.25)
}

/// Long enough that the queue fills a batch (by bytes), and the writer
/// commits it, between two flushes.
fn crash_message(step: u64) -> String {
    format!("{step:>100}")
}

/// Flushes after every this many points.
const CRASH_FLUSH_EVERY: u64 = 25_000;

/// How long after its 4th flush each crash child is killed, so that the
/// kills land in different places: appending, committing a batch the
/// queue filled, committing a flush.
const KILL_DELAYS_MS: [u64; 6] = [0, 10, 25, 40, 60, 80];

/// Child helper (not a test): logs in a tight loop, printing `flushed N`
/// once steps `0..=N` are durable, until it is killed.
#[test]
fn child_crash_writer() {
    let Some(env) = child_env("child_crash_writer") else {
        return;
    };
    let run = Run::builder()
        .dir(&env.dir)
        .run_id(env.run_id.expect("a run id"))
        .start()
        .unwrap();
    run.at("params/lr").assign(0.1).unwrap();
    let loss = run.at("train/loss");
    let message = run.at("train/message");
    // An orphan (its parent died) stops by itself.
    let deadline = Instant::now() + Duration::from_secs(60);
    for step in 0u64.. {
        loss.append(step as f64 * 0.25).unwrap();
        message.append(crash_message(step)).unwrap();
        if step % CRASH_FLUSH_EVERY == CRASH_FLUSH_EVERY - 1 {
            run.flush().unwrap();
            say(format_args!("flushed {step}"));
            if Instant::now() > deadline {
                break;
            }
        }
    }
    std::process::exit(3);
}

/// Asserts both series are steps 0, 1, … with the crash child's values;
/// returns how many points each has.
fn assert_crash_points(run: &Run, id: &str) -> (u64, u64) {
    let loss = run.at("train/loss").fetch_values().unwrap();
    assert_consecutive(&format!("{id} train/loss"), &loss, crash_loss);
    let messages = run.at("train/message").fetch_values().unwrap();
    assert_consecutive(&format!("{id} train/message"), &messages, |s| {
        Value::String(crash_message(s))
    });
    (loss.len() as u64, messages.len() as u64)
}

#[test]
fn killed_writers_lose_nothing_flushed_show_crashed_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let mut crashed = Vec::new();
    let mut open_readers = Vec::new();
    // One after another in one store: each starts on the WAL the
    // previous crash left.
    for (k, delay) in KILL_DELAYS_MS.into_iter().enumerate() {
        let id = format!("crash-{k}");
        let mut child = spawn_child("child_crash_writer", dir, Some(&id), k);
        let mut flushed = None;
        for _ in 0..4 {
            let line = child.next("flushed ").expect("the child flushes");
            flushed = Some(line.parse::<u64>().unwrap());
        }
        thread::sleep(Duration::from_millis(delay));
        let killed_at = SystemTime::now();
        let exit = child.kill();
        assert!(!exit.status.success(), "killed, not ended: {}", exit.stderr);
        // Flushes that completed before the kill, whose lines were not read.
        for line in &exit.stdout {
            if let Some(n) = message(line, "flushed ") {
                flushed = flushed.max(Some(n.parse().unwrap()));
            }
        }
        let flushed = flushed.unwrap();

        // A reader opens the store as the crash left it.
        let reader = open(dir, &id, Mode::ReadOnly);
        let (points, messages) = assert_crash_points(&reader, &id);
        assert!(
            points > flushed && messages > flushed,
            "{id}: flushed up to step {flushed}, but only {points} and {messages} points \
             are stored"
        );
        // Past the flush, whole batches are kept or lost: a prefix of
        // what was logged (loss before message at each step).
        assert!(
            points == messages || points == messages + 1,
            "{id}: {points} and {messages} points are not a prefix of what was logged"
        );
        eprintln!(
            "{id}: killed {delay} ms after a flush; flushed 0..={flushed}, \
             stored {points} and {messages} points"
        );
        assert_eq!(reader.at("params/lr").fetch().unwrap(), Value::Float(0.1));
        assert!(heartbeat(dir, &id) <= killed_at);
        // Its heartbeat is fresh: running, until CRASH_AFTER has passed.
        if SystemTime::now() < heartbeat(dir, &id) + CRASH_AFTER {
            assert_eq!(state(&reader), "running");
        }
        assert_integrity(dir);
        crashed.push((id, points, messages));
        // Kept open across the wait: nothing is committed after the last
        // kill, so the last reader must notice the crash from the clock alone.
        open_readers.push(reader);
    }

    // The one wait: until the newest heartbeat is CRASH_AFTER old.
    let newest = crashed
        .iter()
        .map(|(id, ..)| heartbeat(dir, id))
        .max()
        .unwrap();
    let crash_shown = newest + CRASH_AFTER + Duration::from_millis(100);
    if let Ok(wait) = crash_shown.duration_since(SystemTime::now()) {
        thread::sleep(wait);
    }
    let runs = Repository::open(dir).unwrap().runs().unwrap();
    assert_eq!(runs.len(), crashed.len());
    assert!(runs.iter().all(|r| r.state == "crashed"), "{runs:?}");
    for reader in open_readers {
        assert_eq!(
            state(&reader),
            "crashed",
            "{} read before the wait",
            reader.id()
        );
    }

    for (id, points, messages) in crashed {
        let reader = open(dir, &id, Mode::ReadOnly);
        assert_eq!(state(&reader), "crashed");
        drop(reader);

        // Resumed: running again at once; steps and types go on.
        let run = open(dir, &id, Mode::Async);
        run.flush().unwrap();
        // A batch whose commit the kill interrupted may show up now: its
        // frames reached the WAL file, but not the WAL's index that readers
        // share, and SQLite rebuilds the index from the file once no
        // connection has it open. Still a prefix of what was logged.
        let (seen_points, seen_messages) = (points, messages);
        let (points, messages) = assert_crash_points(&run, &id);
        assert!(points >= seen_points && messages >= seen_messages);
        assert!(points == messages || points == messages + 1);
        assert_eq!(state(&run), "running");
        assert_eq!(repository_state(dir, &id), "running");
        run.at("train/loss").append(points as f64 * 0.25).unwrap();
        run.at("train/message")
            .append(crash_message(messages))
            .unwrap();
        assert_eq!(
            run.at("train/loss").fetch_last().unwrap().step,
            points as f64
        );
        assert!(matches!(
            run.at("train/loss").append_at(points - 1, 1.0),
            Err(Error::StepNotIncreasing { .. })
        ));
        assert!(matches!(
            run.at("train/loss").append("text"),
            Err(Error::TypeMismatch {
                field_type: FieldType::FloatSeries,
                ..
            })
        ));
        assert!(matches!(
            run.at("params/lr").assign("x"),
            Err(Error::TypeMismatch {
                field_type: FieldType::Float,
                ..
            })
        ));
        run.close().unwrap();
        drop(run);

        let back = open(dir, &id, Mode::ReadOnly);
        assert_eq!(assert_crash_points(&back, &id), (points + 1, messages + 1));
        assert_eq!(state(&back), "finished");
    }
    assert_integrity(dir);
}

// ---------------------------------------------------------------------
// Two processes logging to one run.

const SHARED_POINTS: u64 = 20_000;

fn shared_value(worker: usize, step: u64) -> Value {
    Value::Float((worker as u64 * 1_000_000 + step) as f64)
}

/// Child helper (not a test): resumes the given run and logs to its own
/// paths, flushing every 2000 points.
#[test]
fn child_shared_run_writer() {
    let Some(env) = child_env("child_shared_run_writer") else {
        return;
    };
    let run = Run::builder()
        .dir(&env.dir)
        .run_id(env.run_id.expect("a run id"))
        .start()
        .unwrap();
    wait_for_go();
    let k = env.worker;
    // One field both processes write: their items merge.
    run.at("sys/tags").add([format!("worker-{k}")]).unwrap();
    let loss = run.at(format!("workers/{k}/loss"));
    for step in 0..SHARED_POINTS {
        loss.append((k as u64 * 1_000_000 + step) as f64).unwrap();
        if step % 2000 == 1999 {
            run.at(format!("workers/{k}/progress"))
                .assign(step as i64)
                .unwrap();
            run.flush().unwrap();
            say(format_args!("flushed {step}"));
        }
    }
    run.close().unwrap();
    say("done");
}

#[test]
fn two_processes_log_to_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let id = "shared-1";
    // The parent creates the run, so the children only resume it.
    let run = Run::builder()
        .dir(dir)
        .run_id(id)
        .tags(["ddp"])
        .start()
        .unwrap();
    run.at("params/workers").assign(2).unwrap();
    run.close().unwrap();
    drop(run);

    let mut children: Vec<Proc> = (0..2)
        .map(|k| spawn_child("child_shared_run_writer", dir, Some(id), k))
        .collect();
    for child in &mut children {
        child.go();
    }
    for child in children {
        let name = child.name.clone();
        child.wait().assert_ok(&name);
    }

    let back = open(dir, id, Mode::ReadOnly);
    for k in 0..2 {
        let points = back.at(format!("workers/{k}/loss")).fetch_values().unwrap();
        assert_eq!(points.len() as u64, SHARED_POINTS, "worker {k}");
        assert_consecutive(&format!("worker {k}"), &points, |s| shared_value(k, s));
        assert_eq!(
            back.at(format!("workers/{k}/progress")).fetch().unwrap(),
            Value::Int(SHARED_POINTS as i64 - 1)
        );
    }
    assert_eq!(back.at("params/workers").fetch().unwrap(), Value::Int(2));
    let tags: BTreeSet<String> = back.at("sys/tags").fetch().unwrap().try_into().unwrap();
    assert_eq!(
        tags,
        BTreeSet::from(["ddp".into(), "worker-0".into(), "worker-1".into()])
    );
    assert_eq!(state(&back), "finished");
    drop(back);
    assert_integrity(dir);
}

// ---------------------------------------------------------------------
// Several processes, each starting its own run in one (new) store.

const OWN_POINTS: u64 = 10_000;

/// Child helper (not a test): starts a new run of project `multi` (no id
/// given) when told to go, prints its id and logs to it.
#[test]
fn child_own_run_writer() {
    let Some(env) = child_env("child_own_run_writer") else {
        return;
    };
    wait_for_go();
    let run = Run::builder()
        .project("multi")
        .name(format!("worker {}", env.worker))
        .dir(&env.dir)
        .start()
        .unwrap();
    say(format_args!("id {}", run.id()));
    let loss = run.at("loss");
    for step in 0..OWN_POINTS {
        loss.append(step as f64).unwrap();
        if step % 1000 == 999 {
            run.flush().unwrap();
        }
    }
    run.close().unwrap();
    say("done");
}

#[test]
fn processes_starting_runs_at_once_get_distinct_numbers() {
    const PROCESSES: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    // Not created yet: the children race to create the store, too.
    let dir = dir.path().join("store");
    let mut children: Vec<Proc> = (0..PROCESSES)
        .map(|k| spawn_child("child_own_run_writer", &dir, None, k))
        .collect();
    for child in &mut children {
        child.go();
    }
    let mut ids = Vec::new();
    for mut child in children {
        let name = child.name.clone();
        let id = child.next("id ");
        let exit = child.wait();
        exit.assert_ok(&name);
        ids.push(id.unwrap_or_else(|| panic!("{name} printed no id")));
    }
    ids.sort();
    assert_eq!(ids, ["MULTI-1", "MULTI-2", "MULTI-3", "MULTI-4"]);

    for id in &ids {
        let back = open(&dir, id, Mode::ReadOnly);
        assert_eq!(
            back.at("sys/id").fetch().unwrap(),
            Value::String(id.clone())
        );
        let points = back.at("loss").fetch_values().unwrap();
        assert_eq!(points.len() as u64, OWN_POINTS, "{id}");
        assert_consecutive(id, &points, |s| Value::Float(s as f64));
    }
    let runs = Repository::open(&dir).unwrap().runs().unwrap();
    assert_eq!(runs.len(), PROCESSES);
    let mut names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["worker 0", "worker 1", "worker 2", "worker 3"]);
    assert!(runs.iter().all(|r| r.state == "finished"), "{runs:?}");
    assert_integrity(&dir);
}

// ---------------------------------------------------------------------
// A reader while a writer writes.

const STREAM_POINTS: u64 = 20_000;
const STREAM_FLUSH_EVERY: u64 = 250;

/// Child helper (not a test): logs, printing `flushed N` after each
/// flush, then closes.
#[test]
fn child_streaming_writer() {
    let Some(env) = child_env("child_streaming_writer") else {
        return;
    };
    let run = Run::builder()
        .dir(&env.dir)
        .run_id(env.run_id.expect("a run id"))
        .start()
        .unwrap();
    let loss = run.at("loss");
    for step in 0..STREAM_POINTS {
        loss.append(step as f64).unwrap();
        if step % STREAM_FLUSH_EVERY == STREAM_FLUSH_EVERY - 1 {
            run.flush().unwrap();
            say(format_args!("flushed {step}"));
        }
    }
    run.close().unwrap();
    say("done");
}

#[test]
fn readers_see_a_writer_progress_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().to_path_buf();
    let id = "stream-1";
    let mut child = spawn_child("child_streaming_writer", &dir, Some(id), 0);
    let first: u64 = child.next("flushed ").expect("a flush").parse().unwrap();

    // A free-running reader in another thread, with its own connection.
    let stop = Arc::new(AtomicBool::new(false));
    let free_reader = {
        let (dir, stop) = (dir.clone(), stop.clone());
        thread::spawn(move || {
            let reader = open(&dir, id, Mode::ReadOnly);
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let points = reader.at("loss").fetch_values().unwrap();
                assert_eq!(
                    points.last().map(|p| p.step),
                    points.len().checked_sub(1).map(|n| n as f64),
                    "no gaps"
                );
                if let Some(&last) = seen.last() {
                    assert!(points.len() >= last, "{} after {last}", points.len());
                }
                seen.push(points.len());
                let state = repository_state(&dir, id);
                assert!(state == "running" || state == "finished", "{state}");
            }
            seen
        })
    };

    // And one in step with the writer: it sees at least what was flushed.
    let reader = open(&dir, id, Mode::ReadOnly);
    let mut last_count = 0;
    let mut flushed = Some(first);
    while let Some(n) = flushed {
        let count = reader.at("loss").fetch_values().unwrap().len();
        assert!(count as u64 > n, "flushed up to {n}, read {count}");
        assert!(count >= last_count, "{count} after {last_count}");
        last_count = count;
        flushed = child.next("flushed ").map(|l| l.parse().unwrap());
    }
    child.wait().assert_ok("child_streaming_writer");
    stop.store(true, Ordering::Relaxed);
    let seen = free_reader.join().expect("the free reader never fails");
    assert!(!seen.is_empty());

    let points = reader.at("loss").fetch_values().unwrap();
    assert_eq!(points.len() as u64, STREAM_POINTS);
    assert_consecutive("loss", &points, |s| Value::Float(s as f64));
    assert_eq!(state(&reader), "finished");
}

// ---------------------------------------------------------------------
// In one process.

#[test]
fn threads_sharing_one_stored_run_lose_nothing() {
    const THREADS: usize = 8;
    const POINTS: u64 = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .project("threads")
        .dir(dir.path())
        .start()
        .unwrap();
    let id = run.id().to_owned();
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (run, start) = (run.clone(), start.clone());
            thread::spawn(move || {
                let loss = run.at(format!("workers/{t}/loss"));
                start.wait();
                for step in 0..POINTS {
                    loss.append((t as u64 * POINTS + step) as f64)?;
                    if step % 2500 == 0 {
                        run.flush()?;
                    }
                }
                Ok::<_, Error>(())
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("no panic").expect("no error");
    }
    run.close().unwrap();
    drop(run);

    let back = open(dir.path(), &id, Mode::ReadOnly);
    for t in 0..THREADS {
        let points = back.at(format!("workers/{t}/loss")).fetch_values().unwrap();
        assert_eq!(points.len() as u64, POINTS, "thread {t}");
        for (i, p) in points.iter().enumerate() {
            assert_eq!(p.step, i as f64, "thread {t}");
            assert_eq!(float(p), (t as u64 * POINTS + i as u64) as f64);
        }
    }
    assert_eq!(state(&back), "finished");
}

#[test]
fn dropping_the_last_handle_flushes_and_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .dir(dir.path())
        // Nothing is stored by the interval: the writer only wakes for
        // its heartbeat (every 2 s; this test takes milliseconds).
        .flush_interval(Duration::from_secs(60))
        .start()
        .unwrap();
    let id = run.id().to_owned();
    let clone = run.clone();
    thread::spawn(move || clone.at("early").append(1.0).unwrap())
        .join()
        .unwrap();
    // A clone dropped: the run goes on.
    run.at("loss").extend((0..1000).map(f64::from)).unwrap();
    assert_eq!(repository_state(dir.path(), &id), "running");
    drop(run);

    let back = open(dir.path(), &id, Mode::ReadOnly);
    let points = back.at("loss").fetch_values().unwrap();
    assert_eq!(points.len(), 1000);
    assert_consecutive("loss", &points, |s| Value::Float(s as f64));
    assert_eq!(back.at("early").fetch_values().unwrap().len(), 1);
    assert_eq!(state(&back), "finished");
    assert_eq!(repository_state(dir.path(), &id), "finished");
}

// ---------------------------------------------------------------------
// Ranks: several processes resuming one run id (data-parallel training).

const RANKS: usize = 4;
const RANK_POINTS: u64 = 1_000;

/// Child helper (not a test): starts (or resumes) the given run id with a
/// tag of its own, `20 ms × worker` after the go, logs to its own series,
/// then closes.
#[test]
fn child_rank_starting() {
    let Some(env) = child_env("child_rank_starting") else {
        return;
    };
    wait_for_go();
    thread::sleep(Duration::from_millis(20 * env.worker as u64));
    let run = Run::builder()
        .dir(&env.dir)
        .run_id(env.run_id.expect("a run id"))
        .tags([format!("rank-{}", env.worker)])
        .start()
        .unwrap_or_else(|e| panic!("rank {} starts: {e}", env.worker));
    let loss = run.at(format!("ranks/{}/loss", env.worker));
    for step in 0..RANK_POINTS {
        loss.append(step as f64).unwrap();
    }
    run.close().unwrap();
    say("done");
}

#[test]
fn ranks_starting_one_new_id_moments_apart_all_start() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let id = "ddp-42";
    let mut children: Vec<Proc> = (0..RANKS)
        .map(|k| spawn_child("child_rank_starting", dir, Some(id), k))
        .collect();
    for child in &mut children {
        child.go();
    }
    for child in children {
        let name = child.name.clone();
        child.wait().assert_ok(&name);
    }
    let back = open(dir, id, Mode::ReadOnly);
    let tags: BTreeSet<String> = back.at("sys/tags").fetch().unwrap().try_into().unwrap();
    let expected: BTreeSet<String> = (0..RANKS).map(|k| format!("rank-{k}")).collect();
    assert_eq!(tags, expected);
    for k in 0..RANKS {
        let points = back.at(format!("ranks/{k}/loss")).fetch_values().unwrap();
        assert_eq!(points.len() as u64, RANK_POINTS, "rank {k}");
    }
    assert_eq!(back.at("sys/id").fetch().unwrap(), Value::String(id.into()));
    assert_eq!(state(&back), "finished");
    drop(back);
    assert_integrity(dir);
}

/// A point of rank `worker`'s `n`th append: the value says who and which.
fn rank_value(worker: usize, n: u64) -> f64 {
    (worker as u64 * 1_000_000 + n) as f64
}

/// Child helper (not a test): resumes the run and appends to the series
/// all ranks share, with default steps; even ranks in sync mode (each
/// refusal comes back from its call), odd ones in async mode (at flush).
/// Prints how many appends the store took (sync) and how many it refused.
#[test]
fn child_rank_sharing_a_series() {
    let Some(env) = child_env("child_rank_sharing_a_series") else {
        return;
    };
    let sync = env.worker % 2 == 0;
    let run = Run::builder()
        .dir(&env.dir)
        .run_id(env.run_id.expect("a run id"))
        .mode(if sync { Mode::Sync } else { Mode::Async })
        .start()
        .unwrap();
    wait_for_go();
    let loss = run.at("train/loss");
    let (mut taken, mut refused) = (0u64, 0u64);
    for n in 0..RANK_POINTS {
        match loss.append(rank_value(env.worker, n)) {
            Ok(()) => taken += 1,
            Err(Error::StepNotIncreasing { .. }) => refused += 1,
            Err(other) => panic!("only stale steps may be refused: {other}"),
        }
        if n % 50 == 49 {
            // Async: this flush reports the refusals of its batch (one
            // error for them); the parent checks order, not numbers.
            match run.flush() {
                Ok(()) => {}
                Err(Error::StepNotIncreasing { .. }) => refused += 1,
                Err(other) => panic!("only stale steps may be refused: {other}"),
            }
        }
    }
    match run.close() {
        Ok(()) | Err(Error::StepNotIncreasing { .. }) => {}
        Err(other) => panic!("{other}"),
    }
    say(format_args!("taken {taken}"));
    say(format_args!("refused {refused}"));
}

#[test]
fn ranks_appending_to_one_series_never_store_steps_out_of_order() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let id = "ddp-7";
    Run::builder()
        .dir(dir)
        .run_id(id)
        .start()
        .unwrap()
        .close()
        .unwrap();
    let mut children: Vec<Proc> = (0..RANKS)
        .map(|k| spawn_child("child_rank_sharing_a_series", dir, Some(id), k))
        .collect();
    for child in &mut children {
        child.go();
    }
    let mut taken = Vec::new();
    let mut refusals = 0;
    for mut child in children {
        let name = child.name.clone();
        let sync_taken: u64 = child.next("taken ").expect("taken").parse().unwrap();
        let refused: u64 = child.next("refused ").expect("refused").parse().unwrap();
        child.wait().assert_ok(&name);
        taken.push(sync_taken);
        refusals += refused;
    }
    let back = open(dir, id, Mode::ReadOnly);
    let points = back.at("train/loss").fetch_values().unwrap();
    // The store never holds a step that does not follow the one before.
    for pair in points.windows(2) {
        assert!(
            pair[0].step < pair[1].step,
            "{} then {}",
            pair[0].step,
            pair[1].step
        );
    }
    assert!(
        refusals > 0,
        "four ranks on one series with default steps must clash"
    );
    // What a sync rank was told was taken is there, and nothing else of it.
    for k in (0..RANKS).step_by(2) {
        let of_rank = points
            .iter()
            .filter(|p| (float(p) as u64) / 1_000_000 == k as u64)
            .count() as u64;
        assert_eq!(of_rank, taken[k], "rank {k}");
    }
    // And the run exports and imports whole.
    drop(back);
    let dump = Repository::open(dir).unwrap().export_run(id).unwrap();
    let other = tempfile::tempdir().unwrap();
    let mut target = Repository::open_for_writing(other.path()).unwrap();
    assert_eq!(target.import_run(&dump, None).unwrap(), id);
    assert_integrity(dir);
}

/// Child helper (not a test): resumes the run, logs, says `ready`, then
/// closes when told to (a line on stdin), or waits to be killed.
#[test]
fn child_rank_closing_when_told() {
    let Some(env) = child_env("child_rank_closing_when_told") else {
        return;
    };
    let run = Run::builder()
        .dir(&env.dir)
        .run_id(env.run_id.expect("a run id"))
        .start()
        .unwrap();
    run.at(format!("ranks/{}/loss", env.worker))
        .extend([0.5, 0.25])
        .unwrap();
    run.flush().unwrap();
    say(format_args!("ready {}", std::process::id()));
    wait_for_go();
    run.close().unwrap();
    say(format_args!("closed {}", state(&run)));
}

#[test]
fn a_run_is_finished_by_its_last_writer_and_crashed_when_one_died() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let id = "ddp-9";
    Run::builder()
        .dir(dir)
        .run_id(id)
        .start()
        .unwrap()
        .close()
        .unwrap();
    let mut first = spawn_child("child_rank_closing_when_told", dir, Some(id), 0);
    let mut second = spawn_child("child_rank_closing_when_told", dir, Some(id), 1);
    first.next("ready ").expect("the first rank is ready");
    let second_pid = second.next("ready ").expect("the second rank is ready");
    // The first to close leaves the run running for the other.
    first.go();
    assert_eq!(first.next("closed ").as_deref(), Some("running"));
    first.wait().assert_ok("first rank");
    assert_eq!(repository_state(dir, id), "running");
    // No `rm` under a live writer: it names the writer.
    let err = Repository::open_for_writing(dir)
        .unwrap()
        .delete_runs(&[id])
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("process {second_pid}")), "{err}");
    // The other dies: once its heartbeat is stale the run shows crashed
    // (made stale here rather than waited for: the crash test above waits
    // out the real interval).
    second.kill();
    let conn = rusqlite::Connection::open(dir.join(DATABASE_FILE)).unwrap();
    let long_ago = SystemTime::now() - CRASH_AFTER - Duration::from_secs(5);
    let long_ago = long_ago.duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64;
    conn.execute("UPDATE writers SET heartbeat_ns = ?1", [long_ago])
        .unwrap();
    drop(conn);
    assert_eq!(repository_state(dir, id), "crashed");
    assert_eq!(state(&open(dir, id, Mode::ReadOnly)), "crashed");
    // It can be deleted now, or resumed: resuming clears the dead writer
    // and the run finishes normally.
    let resumed = open(dir, id, Mode::Async);
    assert_eq!(repository_state(dir, id), "running");
    resumed.close().unwrap();
    assert_eq!(repository_state(dir, id), "finished");
    assert_integrity(dir);
}

#[test]
fn a_run_resumed_moments_after_its_writer_died_finishes_normally() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let id = "ddp-11";
    Run::builder()
        .dir(dir)
        .run_id(id)
        .start()
        .unwrap()
        .close()
        .unwrap();
    let mut child = spawn_child("child_rank_closing_when_told", dir, Some(id), 0);
    child.next("ready ").expect("the rank is ready");
    // Killed as Ctrl-C would (no destructor runs), and restarted before
    // its heartbeat is stale; its last heartbeat is past due (made so
    // here rather than waited for).
    child.kill();
    let conn = rusqlite::Connection::open(dir.join(DATABASE_FILE)).unwrap();
    let overdue = SystemTime::now() - Duration::from_secs(5);
    let overdue = overdue.duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64;
    conn.execute("UPDATE writers SET heartbeat_ns = ?1", [overdue])
        .unwrap();
    drop(conn);
    let resumed = open(dir, id, Mode::Async);
    resumed.at("ranks/0/loss").append(0.125).unwrap();
    resumed.close().unwrap();
    assert_eq!(state(&resumed), "finished");
    assert_eq!(repository_state(dir, id), "finished");
}
