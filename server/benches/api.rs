//! The HTTP API of `hippocamp ui` on a real server: the runs endpoint over
//! 10,000 runs (5 param columns and 2 series-last columns, sorted), and the
//! series endpoint (1,000 buckets) over series of 1 M and 10 M points, each
//! beside a baseline measured in the same run. The server's peak memory
//! while it serves the 10 M-point window is printed once.
//! `cargo bench -p hippocamp-server --bench api`; figures in BENCHMARKS.md.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

use divan::Bencher;
use hippocamp_core::sqlite::Repository;
use hippocamp_core::{Mode, Run};

fn main() {
    divan::main();
}

/// The number of runs of the runs-table store.
const RUNS: usize = 10_000;

struct Fixture {
    dir: tempfile::TempDir,
    url: String,
    /// Ids of the runs holding a 1 M- and a 10 M-point `loss`.
    long: Vec<(usize, String)>,
    _runtime: tokio::runtime::Runtime,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..RUNS {
            let run = Run::builder()
                .project("sweep")
                .dir(dir.path())
                .flush_interval(Duration::from_secs(60))
                .start()
                .unwrap();
            for p in 0..5 {
                run.at(format!("params/p{p}"))
                    .assign((i * 7 + p) as f64 * 0.001)
                    .unwrap();
            }
            run.at("train/loss")
                .extend((0..20).map(|s| 1.0 / (1.0 + (s + i) as f64)))
                .unwrap();
            run.at("train/acc")
                .extend((0..20).map(|s| s as f64 / 20.0))
                .unwrap();
            run.close().unwrap();
        }
        let mut long = Vec::new();
        for n in [1_000_000usize, 10_000_000] {
            let run = Run::builder()
                .project("long")
                .dir(dir.path())
                .start()
                .unwrap();
            let loss = run.at("loss");
            for i in 0..n {
                loss.append(1.0 / (1.0 + i as f64 * 1e-4)).unwrap();
            }
            long.push((n, run.id().to_owned()));
            run.close().unwrap();
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let bound = runtime
            .block_on(hippocamp_server::Ui::new(dir.path()).port(0).bind())
            .unwrap();
        let url = bound.url().trim_end_matches('/').to_owned();
        runtime.spawn(bound.serve(std::future::pending()));
        Fixture {
            dir,
            url,
            long,
            _runtime: runtime,
        }
    })
}

fn get(path: &str) -> Vec<u8> {
    let mut response = ureq::get(format!("{}{path}", fixture().url))
        .call()
        .unwrap();
    response.body_mut().read_to_vec().unwrap()
}

/// The runs page's request: 100 rows of 10,000 runs, 7 columns, sorted by
/// a series' last value.
#[divan::bench(sample_count = 20)]
fn runs_endpoint_10000_runs(bencher: Bencher) {
    let query = "/api/runs?project=sweep&columns=params/p0,params/p1,params/p2,params/p3,params/p4,train/loss,train/acc&sort=train/loss&desc=true&limit=100";
    bencher.bench(|| black_box(get(query)));
}

/// Baseline: listing the same runs (id, name, state, tags), no fields, in
/// the library.
#[divan::bench(sample_count = 20)]
fn baseline_runs_listing(bencher: Bencher) {
    let repo = Repository::open(fixture().dir.path()).unwrap();
    bencher.bench_local(|| black_box(repo.runs().unwrap()));
}

/// What the event watcher reads whenever a writer commits: every run's
/// state, beside the listing above (its baseline).
#[divan::bench(sample_count = 20)]
fn watcher_run_states_10000_runs(bencher: Bencher) {
    let repo = Repository::open(fixture().dir.path()).unwrap();
    bencher.bench_local(|| black_box(repo.run_states().unwrap()));
}

fn long_run(points: usize) -> &'static str {
    &fixture().long.iter().find(|(n, _)| *n == points).unwrap().1
}

/// The chart's request: 1,000 buckets over the whole series.
#[divan::bench(args = [1_000_000, 10_000_000], sample_count = 20)]
fn series_endpoint_1000_buckets(bencher: Bencher, points: usize) {
    let path = format!(
        "/api/runs/{}/series?path=loss&buckets=1000",
        long_run(points)
    );
    bencher.bench(|| black_box(get(&path)));
    if points == 10_000_000 {
        report_memory(&path);
    }
}

/// Baseline: decoding every point of the same series in the library (what
/// a server that buckets the points itself reads).
#[divan::bench(args = [1_000_000, 10_000_000], sample_count = 5)]
fn baseline_decode_every_point(bencher: Bencher, points: usize) {
    let run = Run::builder()
        .dir(fixture().dir.path())
        .run_id(long_run(points))
        .mode(Mode::ReadOnly)
        .start()
        .unwrap();
    let loss = run.at("loss");
    bencher.bench_local(|| {
        let mut n = 0u64;
        loss.for_each_point(.., |_| n += 1).unwrap();
        black_box(n)
    });
}

/// This process's peak resident memory, in KiB (`VmHWM`).
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// Prints how much the server's peak memory grows over 50 more answers
/// of the 10 M-point window (it holds one chunk's summaries at a time).
fn report_memory(path: &str) {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let before = peak_kib();
        for _ in 0..50 {
            black_box(get(path));
        }
        eprintln!(
            "\npeak RSS of the bench process (store, server and client): {:.1} MiB before \
             50 more 10 M-point windows, {:.1} MiB after",
            before as f64 / 1024.0,
            peak_kib() as f64 / 1024.0
        );
    });
}
