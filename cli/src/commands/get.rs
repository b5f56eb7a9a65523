//! `hippocamp get`.

use std::io::Write;

use crate::args::GetArgs;
use crate::store::Context;
use crate::CliError;

/// Runs `hippocamp get`.
pub fn run(_ctx: &Context, _args: GetArgs, _out: &mut dyn Write) -> Result<(), CliError> {
    Err(CliError::new("`hippocamp get` is not implemented yet"))
}
