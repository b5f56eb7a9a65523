//! `hippocamp export`.

use std::io::Write;

use crate::args::ExportArgs;
use crate::store::Context;
use crate::CliError;

/// Runs `hippocamp export`.
pub fn run(_ctx: &Context, _args: ExportArgs, _out: &mut dyn Write) -> Result<(), CliError> {
    Err(CliError::new("`hippocamp export` is not implemented yet"))
}
