//! `hippocamp ui`: serves the web page and its API over the store until
//! interrupted, printing the URL once it accepts connections.

use std::io::Write;

use crate::args::UiArgs;
use crate::store::Context;
use crate::CliError;

/// Runs `hippocamp ui`.
pub fn run(ctx: &Context, args: UiArgs, out: &mut dyn Write) -> Result<(), CliError> {
    // A missing store is this command's one-line error, before listening.
    ctx.repository()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the server: {e}")))?;
    runtime.block_on(async {
        let bound = hippocamp_server::Ui::new(ctx.dir())
            .host(args.host)
            .port(args.port)
            .token(args.token)
            .bind()
            .await
            .map_err(|e| match &e {
                hippocamp_server::StartError::Bind { source, .. }
                    if source.kind() == std::io::ErrorKind::AddrInUse =>
                {
                    CliError::new(format!("{e}; give another --port (0 picks a free one)"))
                }
                _ => CliError::new(e.to_string()),
            })?;
        writeln!(out, "{}", bound.url())?;
        out.flush()?;
        bound
            .serve(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| CliError::new(e.to_string()))
    })
}
