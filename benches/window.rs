//! Series windows: a chart's 1,000 buckets over a whole series of 1 M and
//! 10 M points, beside the baseline a naive reader pays (decoding every
//! point of the same series). `cargo bench --bench window`; figures in
//! BENCHMARKS.md.

use std::hint::black_box;
use std::sync::OnceLock;

use divan::Bencher;
use hippocamp::{Mode, Run};

fn main() {
    divan::main();
}

/// A store with `loss` of 1 M points in one run and of 10 M in another,
/// made once; the read-only runs on it.
fn runs() -> &'static [(usize, Run)] {
    static RUNS: OnceLock<(tempfile::TempDir, Vec<(usize, Run)>)> = OnceLock::new();
    &RUNS
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let mut runs = Vec::new();
            for n in [1_000_000usize, 10_000_000] {
                let run = Run::builder().dir(dir.path()).start().unwrap();
                let loss = run.at("loss");
                for i in 0..n {
                    let noise = ((i * 2_654_435_761) % 1000) as f64 * 1e-5;
                    loss.append(1.0 / (1.0 + i as f64 * 1e-4) + noise).unwrap();
                }
                let id = run.id().to_owned();
                run.close().unwrap();
                let reader = Run::builder()
                    .dir(dir.path())
                    .run_id(id)
                    .mode(Mode::ReadOnly)
                    .start()
                    .unwrap();
                runs.push((n, reader));
            }
            (dir, runs)
        })
        .1
}

fn run(points: usize) -> &'static Run {
    &runs().iter().find(|(n, _)| *n == points).unwrap().1
}

/// 1,000 buckets over the whole series, from the chunks' summaries.
#[divan::bench(args = [1_000_000, 10_000_000], sample_count = 30)]
fn window_1000_buckets(bencher: Bencher, points: usize) {
    let loss = run(points).at("loss");
    bencher.bench_local(|| black_box(loss.fetch_window(.., 1000).unwrap()));
}

/// Baseline: decoding every point of the same series (what a server that
/// buckets the points itself reads).
#[divan::bench(args = [1_000_000, 10_000_000], sample_count = 5)]
fn baseline_decode_every_point(bencher: Bencher, points: usize) {
    let loss = run(points).at("loss");
    bencher.bench_local(|| {
        let mut n = 0u64;
        loss.for_each_point(.., |p| {
            black_box(p);
            n += 1;
        })
        .unwrap();
        assert_eq!(n, points as u64);
    });
}
