//! Peak memory while logging 50 million points as fast as possible into
//! the embedded store: it must not grow with the number of points (the
//! writer's queue is bounded). `cargo bench --bench memory`; the figures
//! are in BENCHMARKS.md.

use std::hint::black_box;
use std::time::Instant;

use hippocamp::Run;

/// The process's peak resident memory so far, in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    // `cargo bench` passes `--bench`; this target takes no options.
    let points: usize = std::env::var("HIPPOCAMP_MEMORY_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = Run::builder()
        .project("memory")
        .dir(dir.path())
        .start()
        .expect("a run starts");
    let loss = run.at("train/loss");
    let start = Instant::now();
    println!("points logged | peak RSS (MiB) | elapsed (s)");
    for i in 0..points {
        loss.append(black_box(i as f64)).expect("append");
        if (i + 1) % 5_000_000 == 0 {
            println!(
                "{:>13} | {:>14.1} | {:>11.1}",
                i + 1,
                peak_rss_mib().unwrap_or(f64::NAN),
                start.elapsed().as_secs_f64()
            );
        }
    }
    run.close().expect("close");
    println!(
        "after close: peak RSS {:.1} MiB, {:.2} M points/s durable",
        peak_rss_mib().unwrap_or(f64::NAN),
        points as f64 / start.elapsed().as_secs_f64() / 1e6
    );
}
