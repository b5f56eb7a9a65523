//! `hippocamp import`.

use std::io::Write;

use crate::args::ImportArgs;
use crate::store::Context;
use crate::CliError;

/// Runs `hippocamp import`.
pub fn run(_ctx: &Context, _args: ImportArgs, _out: &mut dyn Write) -> Result<(), CliError> {
    Err(CliError::new("`hippocamp import` is not implemented yet"))
}
