//! `hippocamp check`: reads the whole store and lists every damaged part.
//!
//! ```text
//! run MNIST-3: `train/loss`: chunk 17: checksum mismatch (stored CRC-32C 1a2b3c4d, computed 5e6f7a8b)
//! file 9f86d08…: 3 bytes where 4 were stored
//! checked 12 runs, 340 fields, 96 chunks (6291456 points), 40 files: 2 damaged parts
//! ```
//!
//! Exit code 0 when the store is intact, 1 when something is damaged (the
//! lines above say what), 2 when the store cannot be read at all.

use std::io::Write;

use crate::args::CheckArgs;
use crate::store::Context;
use crate::CliError;

/// Runs `hippocamp check`.
pub fn run(ctx: &Context, _args: CheckArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let report = ctx.repository()?.check()?;
    for part in &report.damaged {
        writeln!(out, "{part}")?;
    }
    let summary = format!(
        "checked {}, {}, {} ({}), {}",
        counted(report.runs, "run"),
        counted(report.fields, "field"),
        counted(report.chunks, "chunk"),
        counted(report.points, "point"),
        counted(report.files, "file")
    );
    match report.damaged.len() {
        0 => {
            writeln!(out, "{summary}: intact")?;
            Ok(())
        }
        n => {
            let damaged = counted(n as u64, "damaged part");
            writeln!(out, "{summary}: {damaged}")?;
            Err(CliError::finding(format!(
                "{damaged} in the store at {} (listed above)",
                ctx.dir().display()
            )))
        }
    }
}

/// `1 run`, `2 runs`.
fn counted(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
