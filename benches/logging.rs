//! The caller-side cost of logging, beside a baseline measured in the same
//! run. `cargo bench --bench logging`; figures in BENCHMARKS.md.
//!
//! The baseline is what a hand-rolled tracker would do per value: lock a
//! `Mutex<HashMap<String, Vec<(f64, f64)>>>`, look the path up and push
//! `(step, value)`. hippocamp does more per value (type rules, step checks,
//! a timestamp, the store's op), so it is held to at most twice that.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Mutex;

use divan::Bencher;
use hippocamp::{log, LogNamespace, Mode, Run};

fn main() {
    divan::main();
}

fn debug_run() -> Run {
    Run::builder()
        .project("bench")
        .mode(Mode::Debug)
        .start()
        .expect("a debug run starts")
}

/// Baseline: lock, look up the path, push `(step, value)`.
#[divan::bench]
fn baseline_mutex_hashmap_push(bencher: Bencher) {
    let series: Mutex<HashMap<String, Vec<(f64, f64)>>> = Mutex::new(HashMap::new());
    series
        .lock()
        .unwrap()
        .insert("train/loss".to_owned(), Vec::new());
    let mut step = 0.0;
    bencher.bench_local(|| {
        let mut map = series.lock().unwrap();
        let points = map.get_mut(black_box("train/loss")).unwrap();
        points.push((step, black_box(0.5)));
        step += 1.0;
    });
}

/// `handler.append(v)` on a handler made once, in debug mode.
#[divan::bench]
fn handler_append(bencher: Bencher) {
    let run = debug_run();
    let loss = run.at("train/loss");
    loss.append(0.0).unwrap();
    bencher.bench_local(|| loss.append(black_box(0.5)).unwrap());
}

/// `log!(run, "train/loss" += v)` in debug mode.
#[divan::bench]
fn log_macro_append(bencher: Bencher) {
    let run = debug_run();
    log!(run, "train/loss" += 0.0).unwrap();
    bencher.bench_local(|| log!(run, "train/loss" += black_box(0.5)).unwrap());
}

/// Ten metrics of one training step, all series.
#[derive(LogNamespace, Clone, Copy)]
struct StepMetrics {
    #[log(series)]
    loss: f64,
    #[log(series)]
    acc: f64,
    #[log(series)]
    lr: f64,
    #[log(series)]
    grad_norm: f64,
    #[log(series)]
    weight_norm: f64,
    #[log(series)]
    throughput: f64,
    #[log(series)]
    memory: f64,
    #[log(series)]
    precision: f64,
    #[log(series)]
    recall: f64,
    #[log(series)]
    f1: f64,
}

const METRICS: StepMetrics = StepMetrics {
    loss: 0.5,
    acc: 0.9,
    lr: 1e-3,
    grad_norm: 1.5,
    weight_norm: 30.0,
    throughput: 1200.0,
    memory: 2.5e9,
    precision: 0.8,
    recall: 0.7,
    f1: 0.75,
};

/// `log!(run, "train" += metrics)` of a 10-field derived struct.
#[divan::bench]
fn log_macro_struct_10_fields(bencher: Bencher) {
    let run = debug_run();
    log!(run, "train" += METRICS).unwrap();
    bencher.bench_local(|| log!(run, "train" += black_box(METRICS)).unwrap());
}

/// Baseline for the struct: ten lookup-and-push operations.
#[divan::bench]
fn baseline_mutex_hashmap_push_10(bencher: Bencher) {
    const PATHS: [&str; 10] = [
        "train/loss",
        "train/acc",
        "train/lr",
        "train/grad_norm",
        "train/weight_norm",
        "train/throughput",
        "train/memory",
        "train/precision",
        "train/recall",
        "train/f1",
    ];
    let series: Mutex<HashMap<String, Vec<(f64, f64)>>> = Mutex::new(HashMap::new());
    for path in PATHS {
        series.lock().unwrap().insert(path.to_owned(), Vec::new());
    }
    let mut step = 0.0;
    bencher.bench_local(|| {
        for path in PATHS {
            let mut map = series.lock().unwrap();
            map.get_mut(black_box(path))
                .unwrap()
                .push((step, black_box(0.5)));
        }
        step += 1.0;
    });
}
