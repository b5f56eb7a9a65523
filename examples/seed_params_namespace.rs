//! Story 1 of Neptune's "log to handlers" guide, in Rust: "You can upload the value through an absolute path, or
//! with a namespace handler and a relative path".
//!
//! `cargo run --example seed_params_namespace`

use hippocamp::{Mode, Run};

fn main() -> Result<(), hippocamp::Error> {
    let run = Run::builder().mode(Mode::Debug).start()?;

    // run["params/max_epochs"] = 20
    run.at("params/max_epochs").assign(20)?;

    // params_namespace = run["params"]
    // params_namespace["learning_rate"] = 0.005
    let params_namespace = run.at("params");
    params_namespace.at("learning_rate").assign(0.005)?;

    print!("{}", run.structure()?);
    run.close()
}
