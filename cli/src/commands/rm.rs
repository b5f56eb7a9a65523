//! `hippocamp rm`.

use std::io::Write;

use crate::args::RmArgs;
use crate::store::Context;
use crate::CliError;

/// Runs `hippocamp rm`.
pub fn run(_ctx: &Context, _args: RmArgs, _out: &mut dyn Write) -> Result<(), CliError> {
    Err(CliError::new("`hippocamp rm` is not implemented yet"))
}
