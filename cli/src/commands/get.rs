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
//! Timestamps are RFC 3339 in UTC with nanoseconds. `-o FILE` writes to
//! the file instead of stdout; on an error nothing is written. A file's
//! bytes are refused when stdout is a terminal (give `-o` or a pipe).
//! `-o` never creates a file through a dangling symlink (see
//! [`crate::output`]).

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

    let mut bytes = Vec::new();
    match field_type {
        FieldType::FloatSeries | FieldType::StringSeries | FieldType::FileSeries
            if json || field_type != FieldType::FileSeries =>
        {
            let points = if args.last {
                match field_type {
                    FieldType::FileSeries => handler
                        .fetch_values()?
                        .pop()
                        .map(|p| vec![p])
                        .ok_or_else(|| no_points("files"))?,
                    _ => vec![handler.fetch_last().map_err(|e| not_found(e, "points"))?],
                }
            } else {
                handler.fetch_values()?
            };
            if json {
                let value = match (args.last, points.first()) {
                    (true, Some(point)) => format::point_json(point),
                    _ => serde_json::Value::Array(points.iter().map(format::point_json).collect()),
                };
                format::write_json(&mut bytes, &value)?;
            } else {
                write_points_csv(&mut bytes, &points)?;
            }
        }
        FieldType::File | FieldType::FileSeries if !json => {
            // Raw bytes would garble the terminal (and may be large).
            if args.output.is_none() && std::io::stdout().is_terminal() {
                return Err(CliError::new(format!(
                    "`{path}` in run {} is {}: write its bytes with -o FILE or into a pipe, not to the terminal",
                    run.id(),
                    field_type.with_article()
                )));
            }
            bytes = handler.download().map_err(|e| not_found(e, "files"))?;
        }
        _ => {
            let value = handler.fetch()?;
            if json {
                format::write_json(&mut bytes, &format::value_json(&value))?;
            } else {
                write_plain(&mut bytes, &value)?;
            }
        }
    }

    match &args.output {
        Some(file) => crate::output::create(file)?
            .write_all(&bytes)
            .map_err(|e| CliError::new(format!("cannot write {}: {e}", file.display())))?,
        None => out.write_all(&bytes)?,
    }
    Ok(())
}

/// `step,value,timestamp` with a header.
fn write_points_csv(out: &mut dyn Write, points: &[Point]) -> Result<(), CliError> {
    let mut records = Vec::with_capacity(points.len() + 1);
    records.push(vec!["step".into(), "value".into(), "timestamp".into()]);
    for point in points {
        records.push(vec![
            format::step(point.step),
            format::plain(&point.value),
            format::time(point.timestamp),
        ]);
    }
    format::write_csv(out, &records)
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
