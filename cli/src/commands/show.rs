//! `hippocamp show`.

use std::io::Write;

use crate::args::ShowArgs;
use crate::store::Context;
use crate::CliError;

/// Runs `hippocamp show`.
pub fn run(_ctx: &Context, _args: ShowArgs, _out: &mut dyn Write) -> Result<(), CliError> {
    Err(CliError::new("`hippocamp show` is not implemented yet"))
}
