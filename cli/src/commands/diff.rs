//! `hippocamp diff`.

use std::io::Write;

use crate::args::DiffArgs;
use crate::store::Context;
use crate::CliError;

/// Runs `hippocamp diff`.
pub fn run(_ctx: &Context, _args: DiffArgs, _out: &mut dyn Write) -> Result<(), CliError> {
    Err(CliError::new("`hippocamp diff` is not implemented yet"))
}
