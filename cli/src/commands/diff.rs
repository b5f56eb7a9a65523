//! `hippocamp diff`: the fields where runs differ.
//!
//! One row per field whose value is not the same in every run, one column
//! per run, sorted by path. A series compares by its last value and its
//! row says `(last)`; a file by its name and size; a run without the field
//! shows `-`. Values are shown as in `show` (strings quoted), so that `1`
//! and `"1"` differ visibly. Values are compared exactly; floats are shown
//! to `--precision` significant digits, or to as many more as it takes to
//! tell apart two that differ. Of `sys/`, only `sys/name`, `sys/description`
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

/// What a run holds at a path, for the comparison: a value (a series' last,
/// a FileSeries' last file), or nothing (`(empty)`: a series with no point).
type Held = Option<hippocamp_core::Value>;

/// The text of a cell: floats exact when `digits` is `None`.
fn text(held: &Held, digits: Option<usize>) -> String {
    match (held, digits) {
        (None, _) => "(empty)".to_owned(),
        (Some(hippocamp_core::Value::File(info)), _) => format::file(info),
        (Some(value), None) => format::quoted(value),
        (Some(value), Some(digits)) => format::quoted_shown(value, digits),
    }
}

/// The cells of a row, floats to `digits` significant digits, or to as
/// many more as it takes to show that values which differ do.
fn shown_cells(cells: &[Option<&Held>], digits: usize) -> Vec<String> {
    let exact: Vec<Option<String>> = cells.iter().map(|c| c.map(|h| text(h, None))).collect();
    let mut digits = digits;
    loop {
        let shown: Vec<Option<String>> = cells
            .iter()
            .map(|c| c.map(|h| text(h, Some(digits))))
            .collect();
        let ambiguous =
            (0..cells.len()).any(|i| (0..i).any(|j| exact[i] != exact[j] && shown[i] == shown[j]));
        if !ambiguous || digits >= format::MAX_PRECISION {
            return shown
                .into_iter()
                .map(|s| s.map_or_else(|| "-".to_owned(), |t| format::cell(&t)))
                .collect();
        }
        digits += 1;
    }
}

/// Runs `hippocamp diff`.
pub fn run(ctx: &Context, args: DiffArgs, out: &mut dyn Write) -> Result<(), CliError> {
    // Every id is checked before anything is read.
    ctx.check_runs(&args.runs)?;
    let mut columns: Vec<BTreeMap<String, Held>> = Vec::with_capacity(args.runs.len());
    let mut series: BTreeSet<String> = BTreeSet::new();
    for id in &args.runs {
        let run = ctx.open_run(id)?;
        let structure = run.root().structure()?;
        let mut values = BTreeMap::new();
        for path in field_paths(&structure) {
            if path.starts_with("sys/") && !COMPARED_SYS.contains(&path.as_str()) {
                continue;
            }
            let held = match structure.get(&path) {
                Some(Entry::Field {
                    value: Some(value), ..
                }) => Some(value.clone()),
                Some(Entry::Field { field_type, .. }) => {
                    if field_type.is_series() {
                        series.insert(path.clone());
                    }
                    format::field_value(&run, &path)?
                }
                _ => None,
            };
            values.insert(path, held);
        }
        columns.push(values);
    }

    let paths: BTreeSet<&String> = columns.iter().flat_map(|c| c.keys()).collect();
    let mut rows = Vec::new();
    for path in paths {
        let cells: Vec<Option<&Held>> = columns.iter().map(|c| c.get(path)).collect();
        // Compared exactly: a difference past the shown digits is one.
        let exact: Vec<Option<String>> = cells.iter().map(|c| c.map(|h| text(h, None))).collect();
        if exact.iter().all(|c| *c == exact[0]) {
            continue;
        }
        let mut row = vec![if series.contains(path) {
            format!("{path} (last)")
        } else {
            path.clone()
        }];
        row.extend(shown_cells(&cells, args.precision.digits()));
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
