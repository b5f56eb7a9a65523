//! `hippocamp gc`: removes the file contents in the store that no run
//! refers to (left by deleted runs, cleared series or reassigned files),
//! and the temporary files in `files/` that a killed process or a full
//! disk left behind (untouched for an hour: a live upload is never that
//! old), and says how many it freed and how many bytes. `--dry-run` only
//! says.
//!
//! It holds the store's write lock while it works, so a file a running
//! run is storing right now is never taken.

use std::io::Write;

use hippocamp_core::sqlite::{GcReport, Repository, STALE_TEMPORARY_AFTER};

use crate::args::GcArgs;
use crate::store::Context;
use crate::CliError;

/// Runs `hippocamp gc`.
pub fn run(ctx: &Context, args: GcArgs, out: &mut dyn Write) -> Result<(), CliError> {
    // A missing store is an error here, not a new empty store.
    let repo = ctx.repository()?;
    let report = if args.dry_run {
        GcReport {
            blobs: repo.unreferenced_blobs()?,
            temporary: repo.stale_temporary_files()?,
            dry_run: true,
        }
    } else {
        drop(repo);
        Repository::open_for_writing(ctx.dir())?.gc(false)?
    };
    let count = report.blobs.len();
    let files = if count == 1 { "file" } else { "files" };
    let bytes = report.blob_bytes();
    let temporary = report.temporary.len();
    let temporary_line = (temporary > 0).then(|| {
        let tmp_bytes = report.bytes() - bytes;
        format!(
            "{temporary} stale temporary {} (untouched for {} h), {tmp_bytes} bytes ({})",
            if temporary == 1 { "file" } else { "files" },
            STALE_TEMPORARY_AFTER.as_secs() / 3600,
            human_bytes(tmp_bytes)
        )
    });
    if report.dry_run {
        writeln!(
            out,
            "would free {count} {files}, {bytes} bytes ({}) (dry run: nothing removed)",
            human_bytes(bytes)
        )?;
        for blob in &report.blobs {
            writeln!(out, "  {} {} bytes", blob.sha256, blob.size)?;
        }
        if let Some(line) = temporary_line {
            writeln!(out, "would remove {line}")?;
            for file in &report.temporary {
                writeln!(out, "  {} {} bytes", file.path.display(), file.size)?;
            }
        }
    } else {
        writeln!(
            out,
            "freed {count} {files}, {bytes} bytes ({})",
            human_bytes(bytes)
        )?;
        if let Some(line) = temporary_line {
            writeln!(out, "removed {line}")?;
        }
    }
    Ok(())
}

/// Bytes in binary units: `512 B`, `1.5 KiB`, `2.0 MiB`.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_read_well() {
        assert_eq!(super::human_bytes(512), "512 B");
        assert_eq!(super::human_bytes(1536), "1.5 KiB");
        assert_eq!(super::human_bytes(3 << 20), "3.0 MiB");
    }
}
