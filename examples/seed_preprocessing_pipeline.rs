//! Story 4 of Neptune's "log to handlers" guide, in Rust: a handler
//! gathers the metadata of one pipeline step under a `preprocessing`
//! namespace, used as if it were a run.
//!
//! `cargo run --example seed_preprocessing_pipeline`

use hippocamp::{log, File, LogNamespace, Mode, Run};

#[derive(LogNamespace)]
struct DatasetConfig {
    name: String,
    min_faces_per_person: u32,
    resize: f64,
    n_samples: usize,
    n_classes: usize,
}

fn main() -> Result<(), hippocamp::Error> {
    let run = Run::builder().project("faces").mode(Mode::Debug).start()?;
    let dataset_config = DatasetConfig {
        name: "lfw_people".into(),
        min_faces_per_person: 70,
        resize: 0.4,
        n_samples: 1288,
        n_classes: 7,
    };

    // preprocessing_handler = run["preprocessing"]
    let preprocessing_handler = run.at("preprocessing");

    // preprocessing_handler["dataset/config"] = dataset_config
    log!(preprocessing_handler, "dataset/config" => dataset_config)?;

    // Log scaler and features files (stand-ins for the real artefacts).
    preprocessing_handler
        .at("scaler")
        .assign(File::from_bytes(b"scaler-state".to_vec(), "scaler.pkl"))?;
    preprocessing_handler
        .at("features")
        .assign(File::from_bytes(b"pca-components".to_vec(), "features.npy"))?;

    print!("{}", run.structure()?);
    run.close()
}
