//! `hippocamp ls`.

use std::io::Write;

use crate::args::LsArgs;
use crate::store::Context;
use crate::CliError;

/// Runs `hippocamp ls`.
pub fn run(_ctx: &Context, _args: LsArgs, _out: &mut dyn Write) -> Result<(), CliError> {
    Err(CliError::new("`hippocamp ls` is not implemented yet"))
}
