//! The `hippocamp` command line: list, inspect, compare, plot and export
//! the runs of a hippocamp store, without writing code.
//!
//! Every command works on `--dir`, else `$HIPPOCAMP_HOME`, else
//! `./.hippocamp`, and opens the store read-only unless it writes (`tag`,
//! `rm`, `gc`, `import`), so it never blocks or corrupts a run that is being
//! logged. Errors are one line on stderr and exit code 2; nothing is
//! changed then.

#![forbid(unsafe_code)]

pub mod args;
pub mod chart;
pub mod commands;
pub mod error;
pub mod format;
pub mod output;
pub mod runfile;
pub mod store;
pub mod tables;

use std::io::Write;

pub use error::CliError;

/// Runs one parsed command, writing its output to `out`.
///
/// ```no_run
/// use clap::Parser;
/// let cli = hippocamp_cli::args::Cli::parse_from(["hippocamp", "ls"]);
/// hippocamp_cli::run(cli, &mut std::io::stdout()).unwrap();
/// ```
pub fn run(cli: args::Cli, out: &mut dyn Write) -> Result<(), CliError> {
    let dir = hippocamp_core::sqlite::resolve_dir(cli.dir.as_deref());
    let ctx = store::Context::new(dir);
    use args::Command::*;
    match cli.command {
        Ls(a) => commands::ls::run(&ctx, a, out),
        Show(a) => commands::show::run(&ctx, a, out),
        Get(a) => commands::get::run(&ctx, a, out),
        Diff(a) => commands::diff::run(&ctx, a, out),
        Plot(a) => commands::plot::run(&ctx, a, out),
        Export(a) => commands::export::run(&ctx, a, out),
        Import(a) => commands::import::run(&ctx, a, out),
        Tag(a) => commands::tag::run(&ctx, a, out),
        Rm(a) => commands::rm::run(&ctx, a, out),
        Gc(a) => commands::gc::run(&ctx, a, out),
        Check(a) => commands::check::run(&ctx, a, out),
        Ui(a) => commands::ui::run(&ctx, a, out),
    }
}
