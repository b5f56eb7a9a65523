//! Story 2 of Neptune's "log to handlers" guide, in Rust: a handler at a path that holds nothing becomes a field.
//!
//! `cargo run --example seed_handler_becomes_field`

use hippocamp::{Error, Mode, Run};

fn main() -> Result<(), hippocamp::Error> {
    let run = Run::builder().mode(Mode::Debug).start()?;

    // handler_object = run["train/acc"]: nothing is there yet.
    let handler_object = run.at("train/acc");

    // Appending makes it a FloatSeries...
    handler_object.append(0.72)?;
    print!("{}", run.structure()?);

    // ...which accepts only FloatSeries operations: the upload is refused
    // by the type rules, before the file is even looked for.
    match handler_object.upload("image.png") {
        Err(err @ Error::UnsupportedOperation { .. }) => println!("as expected: {err}"),
        other => panic!("a FloatSeries takes no upload, got {other:?}"),
    }
    run.close()
}
