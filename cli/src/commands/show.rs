//! `hippocamp show`: the tree of a run, or of a namespace in it.
//!
//! The tree is drawn as `Run::structure()` draws it (one `|--> name` line
//! per entry, sorted, nested entries indented by five spaces), with more
//! on each field:
//!
//! ```text
//! |--> params
//!      |--> lr: 0.01
//!      |--> optimizer: "adam"
//! |--> model: File weights.bin (1024 bytes)
//! |--> train
//!      |--> loss: FloatSeries (5 points, last 0.1 at step 4, min 0.1, max 0.9)
//! ```
//!
//! Atoms show their value (strings quoted, floats to `--precision`
//! significant digits), series their number of points,
//! last value and step, and for a FloatSeries the minimum and maximum (NaN
//! left out of them), files their name and size, sets their items. The
//! whole run includes `sys` (id, state, hostname, tags, …), unlike
//! `Run::structure()`: on the command line it is what one looks for.

use std::collections::BTreeMap;
use std::io::Write;

use hippocamp_core::store::SeriesSummary;
use hippocamp_core::structure::Entry;
use hippocamp_core::{FieldType, Run, Value};

use crate::args::ShowArgs;
use crate::format;
use crate::store::{require_path, Context};
use crate::CliError;

/// Runs `hippocamp show`.
pub fn run(ctx: &Context, args: ShowArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let run = ctx.open_run(&args.run)?;
    let (base, structure) = match args.path.as_deref() {
        None | Some("") => (String::new(), run.root().structure()?),
        Some(path) => {
            require_path(&run, path)?;
            let handler = run.at(path);
            // A namespace's tree holds its children; a field's tree holds
            // the field itself, under its parent's path.
            let base = if handler.field_type()? == Some(FieldType::Namespace) {
                path.to_owned()
            } else {
                path.rsplit_once('/')
                    .map_or(String::new(), |(parent, _)| parent.to_owned())
            };
            (base, handler.structure()?)
        }
    };
    let mut text = String::new();
    let digits = args.precision.digits();
    draw(&run, &base, &structure.entries, 0, digits, &mut text)?;
    out.write_all(text.as_bytes())?;
    Ok(())
}

fn draw(
    run: &Run,
    base: &str,
    entries: &BTreeMap<String, Entry>,
    depth: usize,
    digits: usize,
    text: &mut String,
) -> Result<(), CliError> {
    for (name, entry) in entries {
        let path = hippocamp_core::path::join(base, name);
        text.push_str(&" ".repeat(depth * 5));
        text.push_str("|--> ");
        text.push_str(name);
        match entry {
            Entry::Namespace(children) => {
                text.push('\n');
                draw(run, &path, children, depth + 1, digits, text)?;
            }
            Entry::Field {
                value: Some(value), ..
            } => {
                text.push_str(": ");
                text.push_str(&format::quoted_shown(value, digits));
                text.push('\n');
            }
            Entry::Field { field_type, .. } => {
                text.push_str(": ");
                text.push_str(&describe(run, &path, *field_type, digits)?);
                text.push('\n');
            }
        }
    }
    Ok(())
}

/// A non-atom field in one line: its type and what it holds.
fn describe(
    run: &Run,
    path: &str,
    field_type: FieldType,
    digits: usize,
) -> Result<String, CliError> {
    let handler = run.at(path);
    let read = |result: hippocamp_core::Result<Value>| -> Result<Option<Value>, CliError> {
        match result {
            Ok(value) => Ok(Some(value)),
            // Removed by the writing process since the tree was read.
            Err(hippocamp_core::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(err.into()),
        }
    };
    let text = match field_type {
        FieldType::File => match read(handler.fetch())? {
            Some(value) => format::quoted(&value),
            None => field_type.to_string(),
        },
        FieldType::StringSet => match read(handler.fetch())? {
            Some(value) => format!("StringSet {}", format::quoted(&value)),
            None => field_type.to_string(),
        },
        t if t.is_series() => {
            // Count, last, min and max, read without the points in memory.
            let summary = match handler.series_summary() {
                Ok(summary) => summary,
                Err(hippocamp_core::Error::NotFound { .. }) => SeriesSummary::default(),
                Err(err) => return Err(err.into()),
            };
            format!("{t} ({})", series_summary(t, &summary, digits))
        }
        t => t.to_string(),
    };
    Ok(text)
}

/// `5 points, last 0.1 at step 4, min 0.1, max 0.9`.
fn series_summary(field_type: FieldType, summary: &SeriesSummary, digits: usize) -> String {
    let Some(last) = &summary.last else {
        return "no points".to_owned();
    };
    let count = match (summary.count, field_type) {
        (1, FieldType::FileSeries) => "1 file".to_owned(),
        (n, FieldType::FileSeries) => format!("{n} files"),
        (1, _) => "1 point".to_owned(),
        (n, _) => format!("{n} points"),
    };
    let mut text = format!(
        "{count}, last {} at step {}",
        match &last.value {
            Value::File(info) => format::file(info),
            other => format::quoted_shown(other, digits),
        },
        format::step(last.step)
    );
    if field_type == FieldType::FloatSeries {
        text.push_str(&format!(
            ", min {}, max {}",
            format::float_shown(summary.min.unwrap_or(f64::NAN), digits),
            format::float_shown(summary.max.unwrap_or(f64::NAN), digits)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use hippocamp_core::Point;
    use std::time::UNIX_EPOCH;

    fn point(step: f64, x: f64) -> Point {
        Point {
            step,
            value: Value::Float(x),
            timestamp: UNIX_EPOCH,
        }
    }

    fn summary(points: &[Point]) -> SeriesSummary {
        let mut summary = SeriesSummary::default();
        summary.include(points);
        summary
    }

    #[test]
    fn min_and_max_leave_nan_out() {
        let points = [point(0.0, 0.5), point(1.0, f64::NAN), point(2.0, -1.0)];
        assert_eq!(
            series_summary(FieldType::FloatSeries, &summary(&points), 6),
            "3 points, last -1.0 at step 2, min -1.0, max 0.5"
        );
        let all_nan = [point(0.5, f64::NAN)];
        assert_eq!(
            series_summary(FieldType::FloatSeries, &summary(&all_nan), 6),
            "1 point, last NaN at step 0.5, min NaN, max NaN"
        );
        assert_eq!(
            series_summary(FieldType::FloatSeries, &summary(&[]), 6),
            "no points"
        );
    }

    #[test]
    fn values_show_to_the_precision() {
        let points = summary(&[
            point(0.0, 0.30000000000000004),
            point(1.0, 0.17884799999999998),
        ]);
        assert_eq!(
            series_summary(FieldType::FloatSeries, &points, 6),
            "2 points, last 0.178848 at step 1, min 0.178848, max 0.3"
        );
        assert_eq!(
            series_summary(FieldType::FloatSeries, &points, 2),
            "2 points, last 0.18 at step 1, min 0.18, max 0.3"
        );
    }
}
