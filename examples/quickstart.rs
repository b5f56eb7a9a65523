//! The main job: a small training-like loop that logs its parameters, a
//! metric series per epoch, tags and a file into the embedded store
//! (`./.hippocamp`, or `$HIPPOCAMP_HOME`), then opens the run again
//! read-only, as another process would, and shows what is on disk.
//!
//! `cargo run --example quickstart`

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

fn main() -> Result<(), hippocamp::Error> {
    let run = Run::builder()
        .project("mnist")
        .name("baseline")
        .tags(["cnn", "quickstart"])
        .start()?; // async mode, into the embedded store

    let params = Params {
        max_epochs: 5,
        learning_rate: 0.005,
        batch_size: 64,
        api_key: "secret".into(),
        optimizer: Optimizer {
            name: "sgd".into(),
            momentum: 0.9,
        },
    };
    log!(run, "params" => params)?;

    // A pretend training loop: the loss falls, the accuracy rises.
    let mut loss = 2.3;
    for epoch in 0..params.max_epochs {
        loss *= 0.6;
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

    // Read it back from disk, as another process (or the CLI) would.
    let stored = Run::builder().run_id(&id).mode(Mode::ReadOnly).start()?;
    let dir = std::env::var("HIPPOCAMP_HOME").unwrap_or_else(|_| "./.hippocamp".into());
    println!(
        "run {id} (project {}) is stored in {dir}:",
        stored.project()
    );
    println!("{}", stored.structure()?);
    let back: Params = stored.at("params").fetch_as()?;
    let losses = stored.at("train/loss").fetch_values()?;
    println!(
        "read back: lr = {}, optimizer = {}, {} loss points, state = {}",
        back.learning_rate,
        back.optimizer.name,
        losses.len(),
        stored.at("sys/state").fetch()?
    );
    println!();
    println!("See it from the terminal with the hippocamp command:");
    println!("  cargo run -p hippocamp-cli -- show {id}");
    println!("  (or `hippocamp show {id}` after `cargo install --locked --path cli`)");
    Ok(())
}
