//! `hippocamp gc`.

use std::io::Write;

use crate::args::GcArgs;
use crate::store::Context;
use crate::CliError;

/// Runs `hippocamp gc`.
pub fn run(_ctx: &Context, _args: GcArgs, _out: &mut dyn Write) -> Result<(), CliError> {
    Err(CliError::new("`hippocamp gc` is not implemented yet"))
}
