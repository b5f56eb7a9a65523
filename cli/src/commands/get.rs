//! `hippocamp get`: one field of a run.
//!
//! What it prints, by the field's type (with `--format json`, the JSON
//! beside it):
//!
//! | field | default | `--format json` |
//! |---|---|---|
//! | Float, Int, Bool, String, Datetime | the value, plain (strings unquoted) | the JSON value |
//! | StringSet | one item per line | an array |
//! | FloatSeries, StringSeries | `step,value,timestamp` CSV with a header | an array of `{step, value, timestamp}` |
//! | File | its bytes | `{name, extension, size}` |
//! | FileSeries | its last file's bytes | its points, each value `{name, extension, size}` |
//! | Namespace | `path: value` lines of the fields under it (series left out) | a nested object |
//!
//! `--last` gives a series' last point only (a FileSeries' last file is
//! its default anyway). NaN and infinities print as `NaN`, `inf`, `-inf`,
//! and in JSON, whose numbers cannot hold them, as those strings.
//! Timestamps are RFC 3339 in UTC with nanoseconds. Series and files are
//! streamed: a series of any length, or a file of any size, is written as
//! it is read, in bounded memory. A file's bytes are refused when stdout
//! is a terminal (give `-o` or a pipe). `-o FILE` writes to the file
//! instead of stdout, aside and moved into place once complete: on an
//! error the file is as it was, and no file is created through a dangling
//! symlink (see [`crate::output`]). On stdout, an error (a damaged
//! content, whose check ends only with its last byte) comes after what
//! was written, with exit code 2.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use hippocamp_core::{FieldType, Point, Value};

use crate::args::{GetArgs, SeriesFormat};
use crate::format;
use crate::store::{require_path, Context};
use crate::CliError;

/// Runs `hippocamp get`.
pub fn run(ctx: &Context, args: GetArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let run = ctx.open_run(&args.run)?;
    require_path(&run, &args.path)?;
    let path = args.path.as_str();
    let handler = run.at(path);
    let json = args.format == SeriesFormat::Json;
    let no_points =
        |what: &str| CliError::new(format!("`{path}` in run {} has no {what}", run.id()));
    let not_found = |err: hippocamp_core::Error, what: &str| match err {
        hippocamp_core::Error::NotFound { .. } => no_points(what),
        other => other.into(),
    };
    let field_type = handler
        .field_type()?
        .ok_or_else(|| CliError::new(format!("`{path}` was removed from run {}", run.id())))?;
    if args.last && !field_type.is_series() {
        return Err(CliError::new(format!(
            "--last takes a series; `{path}` in run {} is {}",
            run.id(),
            field_type.with_article()
        )));
    }

    let file_bytes = matches!(field_type, FieldType::File | FieldType::FileSeries) && !json;
    // Raw bytes would garble the terminal (and may be large).
    if file_bytes && args.output.is_none() && std::io::stdout().is_terminal() {
        return Err(CliError::new(format!(
            "`{path}` in run {} is {}: write its bytes with -o FILE or into a pipe, not to the terminal",
            run.id(),
            field_type.with_article()
        )));
    }
    let write = |w: &mut dyn Write| -> Result<(), CliError> {
        match field_type {
            FieldType::FloatSeries | FieldType::StringSeries | FieldType::FileSeries
                if json || field_type != FieldType::FileSeries =>
            {
                if args.last {
                    let last = match field_type {
                        FieldType::FileSeries => handler
                            .series_summary()?
                            .last
                            .ok_or_else(|| no_points("files"))?,
                        _ => handler.fetch_last().map_err(|e| not_found(e, "points"))?,
                    };
                    if json {
                        format::write_json(w, &format::point_json(&last))?;
                    } else {
                        write_points_csv(w, std::iter::once(Ok(last)))?;
                    }
                } else {
                    // A chunk at a time: any length in bounded memory.
                    let points = handler.fetch_points(..)?;
                    if json {
                        write_points_json(w, points)?;
                    } else {
                        write_points_csv(w, points)?;
                    }
                }
            }
            FieldType::File | FieldType::FileSeries if !json => {
                handler.download_to(w).map_err(|e| not_found(e, "files"))?;
            }
            _ => {
                let value = handler.fetch()?;
                if json {
                    format::write_json(w, &format::value_json(&value))?;
                } else {
                    write_plain(w, &value)?;
                }
            }
        }
        Ok(())
    };

    match &args.output {
        Some(file) => {
            let mut w = std::io::BufWriter::with_capacity(
                1 << 16,
                crate::output::OutputFile::create(file)?,
            );
            write(&mut w)?;
            w.into_inner()
                .map_err(|e| {
                    CliError::new(format!("cannot write {}: {}", file.display(), e.error()))
                })?
                .keep()?;
        }
        None => {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
            write(&mut w)?;
            w.flush()?;
        }
    }
    Ok(())
}

/// `step,value,timestamp` with a header, a point at a time.
fn write_points_csv(
    out: &mut dyn Write,
    points: impl Iterator<Item = hippocamp_core::Result<Point>>,
) -> Result<(), CliError> {
    let csv_error = |e: csv::Error| CliError::new(format!("cannot write CSV: {e}"));
    let mut writer = csv::Writer::from_writer(out);
    writer
        .write_record(["step", "value", "timestamp"])
        .map_err(csv_error)?;
    for point in points {
        let point = point?;
        writer
            .write_record([
                format::step(point.step),
                format::plain(&point.value),
                format::time(point.timestamp),
            ])
            .map_err(csv_error)?;
    }
    writer.flush().map_err(CliError::from)
}

/// A JSON array of `{step, value, timestamp}`, pretty-printed as
/// [`format::write_json`] prints a whole array, a point at a time.
fn write_points_json(
    out: &mut dyn Write,
    points: impl Iterator<Item = hippocamp_core::Result<Point>>,
) -> Result<(), CliError> {
    let mut first = true;
    for point in points {
        let point = point?;
        out.write_all(if first { b"[\n  " } else { b",\n  " })?;
        first = false;
        let text = serde_json::to_string_pretty(&format::point_json(&point))
            .map_err(|e| CliError::new(format!("cannot write JSON: {e}")))?;
        out.write_all(text.replace('\n', "\n  ").as_bytes())?;
    }
    out.write_all(if first { b"[]\n" } else { b"\n]\n" })?;
    Ok(())
}

/// An atom plain, a set one item per line, a namespace `path: value`.
fn write_plain(out: &mut dyn Write, value: &Value) -> Result<(), CliError> {
    match value {
        Value::StringSet(items) => {
            for item in items {
                writeln!(out, "{item}")?;
            }
        }
        Value::Namespace(_) => {
            let mut flat = BTreeMap::new();
            format::flatten("", value, &mut flat);
            for (path, value) in flat {
                writeln!(out, "{path}: {}", format::quoted(&value))?;
            }
        }
        other => writeln!(out, "{}", format::plain(other))?,
    }
    Ok(())
}
