//! Page load in headless Chromium: from navigation to a drawn chart of 10
//! runs × 1 M points (the compare page, one `train/loss` per run), beside
//! the baseline of the runs table of the same store (10 rows) in the same
//! browser.
//! Medians of 7 loads. `cargo bench -p hippocamp-server --bench page`;
//! figures in BENCHMARKS.md.

#[path = "../tests/common/browser.rs"]
mod browser;

use std::time::{Duration, Instant};

use hippocamp_core::Run;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let store = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    for r in 0..10 {
        let run = Run::builder()
            .project("load")
            .dir(store.path())
            .start()
            .unwrap();
        let loss = run.at("train/loss");
        for i in 0..1_000_000u64 {
            loss.append(1.0 / (1.0 + i as f64 * 1e-4) + r as f64 * 0.01)
                .unwrap();
        }
        ids.push(run.id().to_owned());
        run.close().unwrap();
    }
    let Some(b) = browser::browser(store.path()) else {
        eprintln!("no browser: install chromium and chromium-driver to measure page loads");
        return;
    };
    let compare = format!("/compare?runs={}", ids.join(","));
    let drawn = "const c = document.querySelector('[data-testid=chart][data-path=\"train/loss\"]');
                 return c && c.dataset.state === 'ready' && c.querySelectorAll('.u-legend .u-series').length > 10";
    let listed = "return document.querySelectorAll('[data-testid=run-row]').length === 10";
    // One load to warm the server's open runs, as a user's second visit.
    b.goto(&compare);
    b.until("a drawn chart", drawn);
    let mut loads = Vec::new();
    let mut baseline = Vec::new();
    for _ in 0..7 {
        b.goto("/static/README.md");
        let started = Instant::now();
        b.goto(&compare);
        b.until("a drawn chart", drawn);
        loads.push(started.elapsed());
        b.goto("/static/README.md");
        let started = Instant::now();
        b.goto("/");
        b.until("the runs table", listed);
        baseline.push(started.elapsed());
    }
    println!(
        "page load to a drawn chart of 10 runs x 1 M points: median {:.0} ms (of {:?}); \
         baseline, the runs table of those 10 runs: median {:.0} ms",
        median(loads.clone()).as_secs_f64() * 1e3,
        loads.iter().map(|d| d.as_millis()).collect::<Vec<_>>(),
        median(baseline).as_secs_f64() * 1e3,
    );
}
