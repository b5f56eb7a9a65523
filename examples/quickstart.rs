//! The main job: a small sweep of training-like runs — three learning
//! rates and two optimizers — each logging its parameters, a metric series
//! per epoch, tags and a file into the embedded store (`./.hippocamp`, or
//! `$HIPPOCAMP_HOME`). Then it opens the best run again read-only, as
//! another process would, and shows what is on disk.
//!
//! `cargo run --example quickstart`

use std::io::Write;

use hippocamp::{log, File, LogNamespace, Mode, Run};

#[derive(LogNamespace)]
struct Optimizer {
    name: String,
    momentum: f64,
}

#[derive(LogNamespace)]
struct Params {
    max_epochs: u32,
    learning_rate: f64,
    #[log(rename = "batch")]
    batch_size: usize,
    #[log(skip)]
    #[allow(dead_code)] // read by the training code, never logged
    api_key: String,
    optimizer: Optimizer,
}

#[derive(LogNamespace)]
struct EpochMetrics {
    #[log(series)]
    loss: f64,
    #[log(series)]
    acc: f64,
}

/// The sweep: (learning rate, optimizer) of each run.
const SWEEP: [(f64, &str); 3] = [(0.001, "sgd"), (0.005, "sgd"), (0.02, "adam")];

/// Logs one run of the sweep and closes it; its id and final loss.
fn train(learning_rate: f64, optimizer: &str) -> Result<(String, f64), hippocamp::Error> {
    let run = Run::builder()
        .project("mnist")
        .name(format!("{optimizer}-lr{learning_rate}"))
        .tags(["cnn", "quickstart"])
        .start()?; // async mode, into the embedded store

    let params = Params {
        max_epochs: 5,
        learning_rate,
        batch_size: 64,
        api_key: "secret".into(),
        optimizer: Optimizer {
            name: optimizer.into(),
            momentum: 0.9,
        },
    };
    log!(run, "params" => params)?;

    // A pretend training loop: the loss falls, faster with a larger
    // learning rate; the accuracy rises.
    let mut loss = 2.3;
    for epoch in 0..params.max_epochs {
        loss *= 0.9 - 10.0 * learning_rate;
        let metrics = EpochMetrics {
            loss,
            acc: 1.0 - loss / 2.5,
        };
        log!(run, "train" += metrics, step = epoch)?;
        let fold = epoch % 2;
        log!(run, "cv/fold_{fold}/acc" += metrics.acc, step = epoch)?;
    }

    // A typed handle from the struct's paths offers FloatSeries operations only.
    let last_loss = run
        .at("train")
        .at(EpochMetrics::paths().loss)
        .fetch_last()?;
    run.at("eval/final_loss").assign(last_loss)?;
    run.at("model/weights")
        .assign(File::from_bytes(vec![0u8; 1024], "weights.bin"))?;
    run.at("sys/tags").add(["finished-training"])?;

    let id = run.id().to_owned();
    run.close()?; // flushes, marks the run finished
    Ok((id, last_loss))
}

/// Runs the sweep, then reads the best run back; writes what it did to `out`.
/// (Public: the README's test, `cli/tests/readme.rs`, runs it too.)
pub fn quickstart(out: &mut dyn Write) -> Result<(), Box<dyn std::error::Error>> {
    let mut runs = Vec::new();
    for (learning_rate, optimizer) in SWEEP {
        let (id, final_loss) = train(learning_rate, optimizer)?;
        writeln!(
            out,
            "logged {id}: {optimizer}, learning rate {learning_rate}, final loss {final_loss:.4}"
        )?;
        runs.push((id, final_loss));
    }
    let (best, _) = runs
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .ok_or("the sweep is empty")?;

    // Read it back from disk, as another process (or the CLI) would.
    let stored = Run::builder().run_id(best).mode(Mode::ReadOnly).start()?;
    let dir = std::env::var("HIPPOCAMP_HOME").unwrap_or_else(|_| "./.hippocamp".into());
    writeln!(out)?;
    writeln!(
        out,
        "the best run, {best} (project {}), as stored in {dir}:",
        stored.project()
    )?;
    writeln!(out, "{}", stored.structure()?)?;
    let back: Params = stored.at("params").fetch_as()?;
    let losses = stored.at("train/loss").fetch_values()?;
    writeln!(
        out,
        "read back: lr = {}, optimizer = {}, {} loss points, state = {}",
        back.learning_rate,
        back.optimizer.name,
        losses.len(),
        stored.at("sys/state").fetch()?
    )?;
    let (first, second) = (&runs[0].0, &runs[1].0);
    writeln!(out)?;
    writeln!(
        out,
        "Compare the runs from the terminal with the hippocamp command:"
    )?;
    writeln!(
        out,
        "  cargo run -p hippocamp-cli -- ls --columns params/learning_rate,train/loss"
    )?;
    writeln!(out, "  cargo run -p hippocamp-cli -- diff {first} {second}")?;
    writeln!(
        out,
        "  cargo run -p hippocamp-cli -- plot {first}:train/loss {second}:train/loss"
    )?;
    writeln!(out, "and see the best one (or `hippocamp show {best}` after `cargo install --locked --path cli`):")?;
    writeln!(out, "  cargo run -p hippocamp-cli -- show {best}")?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    quickstart(&mut std::io::stdout())
}
