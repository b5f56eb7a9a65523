//! `hippocamp plot`.

use std::io::Write;

use crate::args::PlotArgs;
use crate::store::Context;
use crate::CliError;

/// Runs `hippocamp plot`.
pub fn run(_ctx: &Context, _args: PlotArgs, _out: &mut dyn Write) -> Result<(), CliError> {
    Err(CliError::new("`hippocamp plot` is not implemented yet"))
}
