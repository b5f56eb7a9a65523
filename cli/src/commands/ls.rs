//! `hippocamp ls`: the runs table.
//!
//! Columns: id, name, state (`running`, `finished`, `crashed`, or
//! `damaged` when the run's record or `sys/` fields fail their checksum;
//! with ` (failed)` when `sys/failed` is set), creation time, tags, then the
//! `--columns` fields (a series shows its last value; a run without the
//! field shows `-`; floats to `--precision` significant digits in the
//! table, exactly in CSV and JSON). Filters apply in the order `--project`, `--tag`,
//! `--state`, `--where`; then `--sort` (`--desc` alone lists the newest
//! first), then `--limit`. The fields are read by the store's runs table
//! (`StoreReader::runs_table`): a statement per path, not a run opened per
//! run. A path of
//! `--where`, `--columns` or `--sort` that no run read has is named in a
//! warning on stderr, with the nearest paths those runs have; the output
//! and the exit code are the same as without it.

use std::io::Write;

use hippocamp_core::filter::Expr;
use hippocamp_core::sqlite::RunInfo;
use hippocamp_core::table::{RunsQuery, RunsTable, SortKey, STATES};
use hippocamp_core::Value;
use serde_json::json;

use crate::args::{LsArgs, TableFormat};
use crate::format;
use crate::store::Context;
use crate::CliError;

fn check_path(option: &str, path: &str) -> Result<(), CliError> {
    hippocamp_core::path::validate(path)
        .map_err(|e| CliError::new(format!("{option}: invalid field path `{path}`: {e}")))
}

/// Warns about each path of `option` that none of the runs read has,
/// naming the nearest paths those runs have.
fn warn_missing(ctx: &Context, option: &str, paths: &[&str], table: &RunsTable, filtered: bool) {
    if table.considered == 0 {
        return;
    }
    let which = if filtered {
        format!(
            "none of the {} runs --project, --tag and --state keep has",
            table.considered
        )
    } else {
        "no run has".to_owned()
    };
    let mut warned: Vec<&str> = Vec::new();
    for path in paths {
        let Some(missing) = table.missing.iter().find(|m| m.path == *path) else {
            continue;
        };
        if warned.contains(path) {
            continue;
        }
        warned.push(path);
        let hint = if missing.nearest.is_empty() {
            " (there are none)".to_owned()
        } else {
            format!(" (nearest: {})", missing.nearest.join(", "))
        };
        ctx.warn(format!("{option}: {which} `{path}`{hint}"));
    }
}

/// Runs `hippocamp ls`.
pub fn run(ctx: &Context, args: LsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    // The arguments first: a mistake there is reported before the store
    // is opened.
    let filter = match &args.filter {
        Some(source) => {
            Some(Expr::parse(source).map_err(|e| CliError::new(format!("--where: {e}")))?)
        }
        None => None,
    };
    if let Some(state) = &args.state {
        if !STATES.contains(&state.as_str()) {
            return Err(CliError::new(format!(
                "--state: no state `{state}` (the states are {})",
                STATES.join(", ")
            )));
        }
    }
    for column in &args.columns {
        check_path("--columns", column)?;
    }
    let sort = match args.sort.as_deref() {
        Some(key) => Some(SortKey::parse(key).map_err(|e| match e {
            hippocamp_core::Error::InvalidPath { path, source } => {
                CliError::new(format!("--sort: invalid field path `{path}`: {source}"))
            }
            other => other.into(),
        })?),
        None => None,
    };
    let query = RunsQuery {
        project: args.project.clone(),
        tags: args.tag.clone(),
        state: args.state.clone(),
        filter,
        columns: args.columns.clone(),
        sort,
        desc: args.desc,
        offset: 0,
        limit: args.limit,
    };
    let table = ctx.reader()?.runs_table(&query)?;

    // Paths no run has are most likely mistyped: an empty table or an
    // empty column would not say so.
    let filtered = args.project.is_some() || !args.tag.is_empty() || args.state.is_some();
    if let Some(filter) = &query.filter {
        warn_missing(ctx, "--where", &filter.paths(), &table, filtered);
    }
    let columns: Vec<&str> = args.columns.iter().map(String::as_str).collect();
    warn_missing(ctx, "--columns", &columns, &table, filtered);
    if let Some(SortKey::Field(path)) = &query.sort {
        warn_missing(ctx, "--sort", &[path.as_str()], &table, filtered);
    }
    let rows = table.rows;

    let columns: Vec<Vec<Option<Value>>> = rows
        .iter()
        .map(|row| {
            args.columns
                .iter()
                .map(|path| row.fields.get(path).cloned())
                .collect()
        })
        .collect();

    match args.format {
        TableFormat::Table => {
            let mut header = vec!["ID", "NAME", "STATE", "CREATED", "TAGS"];
            header.extend(args.columns.iter().map(String::as_str));
            let table: Vec<Vec<String>> = rows
                .iter()
                .zip(&columns)
                .map(|(row, values)| {
                    let mut cells = vec![
                        format::cell(&row.info.id),
                        format::cell(&row.info.name),
                        state(&row.info),
                        format::time_seconds(row.info.creation_time),
                        format::cell(&row.info.tags.join(",")),
                    ];
                    cells.extend(values.iter().map(|v| match v {
                        Some(v) => format::cell(&format::plain_shown(v, args.precision.digits())),
                        None => "-".to_owned(),
                    }));
                    cells
                })
                .collect();
            format::write_table(out, &header, &table)?;
        }
        TableFormat::Csv => {
            let mut records = Vec::with_capacity(rows.len() + 1);
            let mut header: Vec<String> = [
                "id", "project", "name", "state", "failed", "created", "tags",
            ]
            .map(String::from)
            .to_vec();
            header.extend(args.columns.iter().cloned());
            records.push(header);
            for (row, values) in rows.iter().zip(&columns) {
                let info = &row.info;
                let mut record = vec![
                    info.id.clone(),
                    info.project.clone(),
                    info.name.clone(),
                    info.state.clone(),
                    info.failed.to_string(),
                    format::time(info.creation_time),
                    info.tags.join(","),
                ];
                record.extend(
                    values
                        .iter()
                        .map(|v| v.as_ref().map(format::plain).unwrap_or_default()),
                );
                records.push(record);
            }
            format::write_csv(out, &records)?;
        }
        TableFormat::Json => {
            let list: Vec<serde_json::Value> = rows
                .iter()
                .zip(&columns)
                .map(|(row, values)| {
                    let info = &row.info;
                    let fields: serde_json::Map<String, serde_json::Value> = args
                        .columns
                        .iter()
                        .zip(values)
                        .map(|(path, v)| {
                            (
                                path.clone(),
                                v.as_ref()
                                    .map_or(serde_json::Value::Null, format::value_json),
                            )
                        })
                        .collect();
                    json!({
                        "id": info.id,
                        "project": info.project,
                        "name": info.name,
                        "state": info.state,
                        "failed": info.failed,
                        "created": format::time(info.creation_time),
                        "tags": info.tags,
                        "fields": fields,
                    })
                })
                .collect();
            format::write_json(out, &serde_json::Value::Array(list))?;
        }
    }
    Ok(())
}

fn state(info: &RunInfo) -> String {
    if info.failed {
        format!("{} (failed)", info.state)
    } else {
        info.state.clone()
    }
}
