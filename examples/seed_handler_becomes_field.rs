//! Story 2 of Neptune's "log to handlers" guide, in Rust: a handler at a path that holds nothing becomes a field.
//!
//! `cargo run --example seed_handler_becomes_field`

use hippocamp::{Mode, Run};

fn main() -> Result<(), hippocamp::Error> {
    let run = Run::builder().mode(Mode::Debug).start()?;

    // handler_object = run["train/acc"]: nothing is there yet.
    let handler_object = run.at("train/acc");

    // Appending makes it a FloatSeries...
    handler_object.append(0.72)?;
    print!("{}", run.structure()?);

    // ...which accepts only FloatSeries operations.
    match handler_object.upload("image.png") {
        Err(err) => println!("as expected: {err}"),
        Ok(()) => unreachable!("a FloatSeries takes no upload"),
    }
    run.close()
}
