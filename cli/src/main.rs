//! The `hippocamp` command. See `hippocamp --help`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = hippocamp_cli::args::Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match hippocamp_cli::run(cli, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        // `hippocamp get … | head`: the reader has what it wanted.
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("hippocamp: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
