//! Screenshots of the three pages of `hippocamp ui`, for the README:
//! `cargo run -p hippocamp-server --example ui_screenshots` logs a small
//! sweep into a temporary store, serves it, opens each page in headless
//! Chromium (Debian's `chromium` and `chromium-driver`) and writes
//! `docs/ui-runs.png`, `docs/ui-run.png` and `docs/ui-compare.png`.

#[path = "../tests/common/browser.rs"]
mod browser;

use std::path::Path;

use hippocamp_core::Run;

/// A sweep of four learning rates: params, a noisy loss of 20,000 steps
/// with its validation accuracy, a learning-rate schedule and a log.
fn sweep(dir: &Path) {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    for (i, (lr, optimizer)) in [
        (0.1f64, "sgd"),
        (0.03, "adam"),
        (0.01, "adam"),
        (0.003, "adamw"),
    ]
    .into_iter()
    .enumerate()
    {
        let run = Run::builder()
            .project("mnist")
            .name(format!("{optimizer}-lr{lr}"))
            .tags(["sweep", if i == 2 { "best" } else { "baseline" }])
            .dir(dir)
            .start()
            .unwrap();
        run.at("params/learning_rate").assign(lr).unwrap();
        run.at("params/optimizer").assign(optimizer).unwrap();
        run.at("params/batch_size").assign(128).unwrap();
        run.at("params/epochs").assign(20).unwrap();
        let speed = 1.0 + (lr * 40.0).ln().abs();
        let loss: Vec<f64> = (0..20_000)
            .map(|s| {
                let t = s as f64 / 1000.0;
                2.3 * (-t / speed).exp() + 0.08 * (i as f64 + 1.0) + 0.05 * noise()
            })
            .collect();
        run.at("train/loss").extend(loss).unwrap();
        for epoch in 0..20 {
            let acc = 0.98 - 0.5 * (-(epoch as f64) / (2.0 * speed)).exp() - 0.01 * i as f64;
            run.at("val/acc").append_at(epoch, acc).unwrap();
            run.at("train/lr")
                .append_at(
                    epoch,
                    lr * 0.5 * (1.0 + (std::f64::consts::PI * epoch as f64 / 20.0).cos()),
                )
                .unwrap();
            run.at("log")
                .append_at(epoch, format!("epoch {epoch}: val/acc {acc:.4}"))
                .unwrap();
        }
        run.close().unwrap();
    }
}

fn main() {
    let store = tempfile::tempdir().unwrap();
    sweep(store.path());
    let Some(b) = browser::browser(store.path()) else {
        eprintln!("no browser: install chromium and chromium-driver to take the screenshots");
        return;
    };
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let drawn = "const charts = [...document.querySelectorAll('[data-testid=chart]')];
                 return charts.length > 0 && charts.every(c => c.dataset.state === 'ready' || c.dataset.state === 'empty')";
    let pages = [
        ("/?columns=params/learning_rate,params/optimizer,train/loss,val/acc&sort=val/acc&desc=true", "ui-runs.png", "return document.querySelectorAll('[data-testid=run-row]').length === 4"),
        ("/run/MNIST-3", "ui-run.png", drawn),
        ("/compare?runs=MNIST-1,MNIST-2,MNIST-3,MNIST-4", "ui-compare.png", drawn),
    ];
    for (path, file, ready) in pages {
        b.goto(path);
        b.until(file, ready);
        // Let the charts' last frame settle.
        std::thread::sleep(std::time::Duration::from_millis(500));
        let png = b.runtime.block_on(b.client.screenshot()).unwrap();
        std::fs::write(docs.join(file), png).unwrap();
        println!("wrote docs/{file}");
    }
}
