//! `hippocamp tag`.

use std::io::Write;

use crate::args::TagArgs;
use crate::store::Context;
use crate::CliError;

/// Runs `hippocamp tag`.
pub fn run(_ctx: &Context, _args: TagArgs, _out: &mut dyn Write) -> Result<(), CliError> {
    Err(CliError::new("`hippocamp tag` is not implemented yet"))
}
