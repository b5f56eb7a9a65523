//! `hippocamp diff`: the fields where runs differ.
//!
//! One row per field whose value is not the same in every run, one column
//! per run, sorted by path. A series compares by its last value and its
//! row says `(last)`; a file by its name and size; a run without the field
//! shows `-`. Values are shown as in `show` (strings quoted), so that `1`
//! and `"1"` differ visibly. Of `sys/`, only `sys/name`, `sys/description`
//! and `sys/tags` take part: the rest (ids, creation times, hostnames,
//! states) differs between any two runs.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use hippocamp_core::structure::Entry;

use crate::args::DiffArgs;
use crate::format;
use crate::store::{field_paths, Context};
use crate::CliError;

/// The `sys/` fields that `diff` compares.
pub const COMPARED_SYS: [&str; 3] = ["sys/name", "sys/description", "sys/tags"];

/// Runs `hippocamp diff`.
pub fn run(ctx: &Context, args: DiffArgs, out: &mut dyn Write) -> Result<(), CliError> {
    // Every id is checked before anything is read.
    ctx.check_runs(&args.runs)?;
    let mut columns: Vec<BTreeMap<String, String>> = Vec::with_capacity(args.runs.len());
    let mut series: BTreeSet<String> = BTreeSet::new();
    for id in &args.runs {
        let run = ctx.open_run(id)?;
        let structure = run.root().structure()?;
        let mut values = BTreeMap::new();
        for path in field_paths(&structure) {
            if path.starts_with("sys/") && !COMPARED_SYS.contains(&path.as_str()) {
                continue;
            }
            let entry = structure.get(&path);
            let text = match entry {
                Some(Entry::Field {
                    value: Some(value), ..
                }) => Some(format::quoted(value)),
                Some(Entry::Field { field_type, .. }) => {
                    if field_type.is_series() {
                        series.insert(path.clone());
                    }
                    format::field_value(&run, &path)?.map(|value| match value {
                        hippocamp_core::Value::File(info) => format::file(&info),
                        other => format::quoted(&other),
                    })
                }
                _ => None,
            };
            values.insert(path, text.unwrap_or_else(|| "(empty)".to_owned()));
        }
        columns.push(values);
    }

    let paths: BTreeSet<&String> = columns.iter().flat_map(|c| c.keys()).collect();
    let mut rows = Vec::new();
    for path in paths {
        let cells: Vec<Option<&String>> = columns.iter().map(|c| c.get(path)).collect();
        if cells.iter().all(|c| *c == cells[0]) {
            continue;
        }
        let mut row = vec![if series.contains(path) {
            format!("{path} (last)")
        } else {
            path.clone()
        }];
        row.extend(
            cells
                .iter()
                .map(|c| c.map_or_else(|| "-".to_owned(), |text| format::cell(text))),
        );
        rows.push(row);
    }
    if rows.is_empty() {
        writeln!(
            out,
            "no field differs between {} (sys/ compared by name, description and tags only)",
            args.runs.join(", ")
        )?;
        return Ok(());
    }
    let mut header = vec!["PATH"];
    header.extend(args.runs.iter().map(String::as_str));
    format::write_table(out, &header, &rows)?;
    Ok(())
}
