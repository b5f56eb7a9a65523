//! Story 3 of Neptune's "log to handlers" guide, in Rust: a handler
//! becomes a namespace once something is nested under it.
//!
//! `cargo run --example seed_handler_becomes_namespace`

use hippocamp::{FieldType, Mode, Run};

fn main() -> Result<(), hippocamp::Error> {
    let run = Run::builder().mode(Mode::Debug).start()?;

    // handler_object = run["train"]
    let handler_object = run.at("train");

    // handler_object["acc"] = 0.82 — the guide's resulting structure shows
    // a FloatSeries, so the value is appended.
    handler_object.at("acc").append(0.82)?;

    assert_eq!(handler_object.field_type()?, Some(FieldType::Namespace));
    print!("{}", run.structure()?);
    run.close()
}
