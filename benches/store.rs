//! The embedded store: caller-side cost in async mode, durable throughput
//! beside a plain rusqlite baseline and a raw file write of the same bytes,
//! and the cost of starting and closing a run.
//! `cargo bench --bench store`; figures in BENCHMARKS.md.

use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use divan::counter::ItemsCount;
use divan::Bencher;
use hippocamp::{Mode, Run};

fn main() {
    divan::main();
}

/// Points per throughput sample.
const POINTS: usize = 2_000_000;

fn store_run(dir: &Path) -> Run {
    Run::builder()
        .project("bench")
        .dir(dir)
        .mode(Mode::Async)
        .start()
        .expect("a run starts")
}

/// The caller's cost of `handler.append(v)` in async mode: checks and
/// queueing. Each sample starts with an empty queue (the generator
/// flushes, untimed), so this is the call, not the disk.
#[divan::bench(sample_size = 10_000, sample_count = 200)]
fn async_append_caller_side(bencher: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let run = store_run(dir.path());
    let loss = run.at("train/loss");
    loss.append(0.0).unwrap();
    bencher
        .with_inputs(|| run.flush().unwrap())
        .bench_local_values(|()| loss.append(black_box(0.5)).unwrap());
}

/// Durable throughput into one series: log the points, then `flush()`.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn durable_one_series(bencher: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let run = store_run(dir.path());
    let loss = run.at("train/loss");
    bencher.counter(ItemsCount::new(POINTS)).bench_local(|| {
        for i in 0..POINTS {
            loss.append(black_box(i as f64)).unwrap();
        }
        run.flush().unwrap();
    });
}

/// Durable throughput spread over 1,000 series.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn durable_1000_series(bencher: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let run = store_run(dir.path());
    let series: Vec<_> = (0..1000).map(|i| run.at(format!("many/s{i}"))).collect();
    bencher.counter(ItemsCount::new(POINTS)).bench_local(|| {
        for i in 0..POINTS {
            series[i % 1000].append(black_box(i as f64)).unwrap();
        }
        run.flush().unwrap();
    });
}

/// Baseline: plain rusqlite, one row per point, in transactions of
/// 100,000 rows, with the same durability settings (WAL, synchronous=FULL).
#[divan::bench(sample_count = 5, sample_size = 1, args = [1, 1000])]
fn baseline_rusqlite_row_per_point(bencher: Bencher, series: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = rusqlite::Connection::open(dir.path().join("baseline.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch(
        "CREATE TABLE points (series INTEGER, step REAL, value INTEGER, ts INTEGER,
                              PRIMARY KEY (series, step))",
    )
    .unwrap();
    let mut next_step = vec![0.0f64; series];
    bencher.counter(ItemsCount::new(POINTS)).bench_local(|| {
        for batch in 0..POINTS / 100_000 {
            let tx = conn.transaction().unwrap();
            {
                let mut insert = tx
                    .prepare_cached("INSERT INTO points VALUES (?1, ?2, ?3, ?4)")
                    .unwrap();
                for i in 0..100_000 {
                    let s = (batch * 100_000 + i) % series;
                    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
                    insert
                        .execute(rusqlite::params![
                            s as i64,
                            next_step[s],
                            (i as f64).to_bits() as i64,
                            now.as_nanos() as i64
                        ])
                        .unwrap();
                    next_step[s] += 1.0;
                }
            }
            tx.commit().unwrap();
        }
    });
}

/// Baseline: the same points as raw bytes (step, value, timestamp: 24
/// bytes each) written sequentially to a file and synced.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn baseline_raw_file_write(bencher: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let mut sample = 0;
    bencher.counter(ItemsCount::new(POINTS)).bench_local(|| {
        sample += 1;
        let file = std::fs::File::create(dir.path().join(format!("raw-{sample}"))).unwrap();
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        for i in 0..POINTS {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            out.write_all(&(i as f64).to_le_bytes()).unwrap();
            out.write_all(&(i as f64).to_bits().to_le_bytes()).unwrap();
            out.write_all(&(now.as_nanos() as u64).to_le_bytes())
                .unwrap();
        }
        out.into_inner().unwrap().sync_all().unwrap();
    });
}

/// `start()` and `close()` of a run that logs 20 params.
#[divan::bench(sample_count = 50, sample_size = 1)]
fn start_and_close_with_20_params(bencher: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    bencher.bench_local(|| {
        let run = store_run(dir.path());
        for i in 0..20 {
            run.at(format!("params/p{i}"))
                .assign(i as f64 * 0.1)
                .unwrap();
        }
        run.close().unwrap();
    });
}
