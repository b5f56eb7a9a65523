//! `hippocamp rm`: deletes runs, after asking (or with `--yes`).
//!
//! Without a terminal to ask on and without `--yes`, it refuses and
//! changes nothing. A run that is still running is refused too. The runs'
//! file contents stay in the store until `hippocamp gc`.

use std::io::{BufRead, IsTerminal, Write};

use hippocamp_core::sqlite::Repository;

use crate::args::RmArgs;
use crate::store::Context;
use crate::CliError;

/// Runs `hippocamp rm`.
pub fn run(ctx: &Context, args: RmArgs, out: &mut dyn Write) -> Result<(), CliError> {
    // An unknown id is an error naming the nearest ones.
    ctx.check_runs(&args.runs)?;
    let mut ids: Vec<String> = Vec::new();
    for id in &args.runs {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    let what = format!(
        "{} run{} ({})",
        ids.len(),
        if ids.len() == 1 { "" } else { "s" },
        ids.join(", ")
    );
    if !args.yes {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Err(CliError::new(format!(
                "not deleting {what}: there is no terminal to confirm on; pass --yes to delete"
            )));
        }
        let mut stderr = std::io::stderr();
        write!(stderr, "delete {what}? [y/N] ")?;
        stderr.flush()?;
        let mut answer = String::new();
        stdin.lock().read_line(&mut answer)?;
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            writeln!(out, "nothing deleted")?;
            return Ok(());
        }
    }
    let mut repo = Repository::open_for_writing(ctx.dir())?;
    repo.delete_runs(&ids)?;
    writeln!(out, "deleted {what}")?;
    writeln!(
        out,
        "their files stay in the store until `hippocamp gc` removes those no run refers to"
    )?;
    Ok(())
}
