//! The main job: a small training-like loop that logs its parameters, a
//! metric series per epoch, tags and a file, then prints the run's tree.
//!
//! `cargo run --example quickstart`
//!
//! The run lives in memory (`Mode::Debug`): the embedded on-disk store is
//! the next milestone.

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
        .mode(Mode::Debug)
        .start()?;

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

    println!("run {} ({})", run.id(), run.project());
    println!("{}", run.structure()?);
    let back: Params = run.at("params").fetch_as()?;
    println!(
        "params read back: lr = {}, optimizer = {}",
        back.learning_rate, back.optimizer.name
    );
    run.close()
}
