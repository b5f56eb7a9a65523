//! `hippocamp plot`: series as a line chart, in the terminal or to an SVG
//! or PNG file.
//!
//! `RUN:PATH` plots one FloatSeries, `RUN` alone every FloatSeries of the
//! run; all on one chart, named `RUN:PATH` in the legend. The x axis is the
//! step, or with `--x time` the seconds since the series' first point.
//! NaN and ±Inf values are skipped (the line joins the points around
//! them, and the legend or the closing line says how many were skipped);
//! long series are thinned keeping every pixel column's minimum and
//! maximum (see [`crate::chart::downsample`]).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::SystemTime;

use hippocamp_core::structure::Entry;
use hippocamp_core::{FieldType, Run, Value};

use crate::args::{PlotArgs, XAxis};
use crate::chart::{self, Chart, Series};
use crate::store::{field_paths, require_path, typed_field_paths, Context};
use crate::CliError;

/// The kinds of file `plot -o` writes, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImageFormat {
    Svg,
    Png,
}

/// The format named by the output file's extension, or an error.
fn image_format(path: &Path) -> Result<ImageFormat, CliError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("svg") => Ok(ImageFormat::Svg),
        Some("png") => Ok(ImageFormat::Png),
        Some(other) => Err(CliError::new(format!(
            "cannot write {}: unknown chart format .{other} (use .svg or .png)",
            path.display()
        ))),
        None => Err(CliError::new(format!(
            "cannot write {}: name a .svg or .png file",
            path.display()
        ))),
    }
}

/// Runs `hippocamp plot`: draws the series in the terminal (on `out`), or
/// writes an SVG or PNG file and says so on `out`.
///
/// The terminal chart is coloured when stdout is a terminal and `NO_COLOR`
/// is not set. Errors: an unknown run or path, a path that is not a
/// FloatSeries, a run without FloatSeries, an output file that is neither
/// `.svg` nor `.png` or cannot be written.
pub fn run(ctx: &Context, args: PlotArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let format = args.output.as_deref().map(image_format).transpose()?;

    let mut runs: Vec<Run> = Vec::new();
    let mut series: Vec<Series> = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    for spec in &args.series {
        let (id, path) = match spec.split_once(':') {
            Some((id, path)) => (id, Some(path)),
            None => (spec.as_str(), None),
        };
        if id.is_empty() {
            return Err(CliError::new(format!(
                "`{spec}` names no run: write RUN or RUN:PATH"
            )));
        }
        let run = match runs.iter().position(|r| r.id() == id) {
            Some(i) => &runs[i],
            None => {
                runs.push(ctx.open_run(id)?);
                &runs[runs.len() - 1]
            }
        };
        let chosen = match path {
            Some("") => {
                return Err(CliError::new(format!(
                "`{spec}` names no path: write {id} for every FloatSeries of the run, or {id}:PATH"
            )))
            }
            Some(path) => {
                check_float_series(run, path)?;
                vec![path.to_owned()]
            }
            None => all_float_series(run)?,
        };
        for path in chosen {
            let label = format!("{}:{path}", run.id());
            if series.iter().any(|s| s.label == label) {
                continue;
            }
            let points = read_points(run, &path, args.x)?;
            series.push(Series { label, points });
            paths.push(path);
        }
    }

    let y_label = match paths.first() {
        Some(first) if paths.iter().all(|p| p == first) => first.clone(),
        _ => "value".to_owned(),
    };
    let x_label = match args.x {
        XAxis::Step => "step",
        XAxis::Time => "time (s)",
    };
    let chart = Chart {
        series,
        x_label: x_label.to_owned(),
        y_label,
    };

    let (Some(path), Some(format)) = (args.output.as_deref(), format) else {
        let colour = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        out.write_all(chart::terminal(&chart, colour).as_bytes())?;
        return Ok(());
    };
    let bytes = match format {
        ImageFormat::Svg => chart::svg(&chart)?.into_bytes(),
        ImageFormat::Png => chart::png(&chart)?,
    };
    crate::output::create(path)?
        .write_all(&bytes)
        .map_err(|err| CliError::new(format!("cannot write {}: {err}", path.display())))?;
    let skipped: usize = chart.series.iter().map(Series::skipped).sum();
    let count = chart.series.len();
    let mut note = format!("wrote {} ({count} series", path.display());
    match skipped {
        0 => {}
        1 => note.push_str(", 1 NaN/Inf point not drawn"),
        n => note.push_str(&format!(", {n} NaN/Inf points not drawn")),
    }
    writeln!(out, "{note})")?;
    Ok(())
}

/// Checks that `path` holds a FloatSeries in `run`; else says what it is.
fn check_float_series(run: &Run, path: &str) -> Result<(), CliError> {
    require_path(run, path)?;
    match run.at(path).field_type()? {
        Some(FieldType::FloatSeries) => Ok(()),
        Some(FieldType::Namespace) => {
            let inside = float_series_paths(&run.at(path).structure()?.entries, path);
            let hint = if inside.is_empty() {
                String::new()
            } else {
                let shown: Vec<&str> = inside.iter().take(3).map(String::as_str).collect();
                let more = if inside.len() > 3 { ", …" } else { "" };
                format!(" (FloatSeries in it: {}{more})", shown.join(", "))
            };
            Err(CliError::new(format!(
                "`{path}` in run {} is a namespace, not a FloatSeries{hint}",
                run.id()
            )))
        }
        Some(other) => Err(CliError::new(format!(
            "`{path}` in run {} is a {other}, not a FloatSeries: plot draws FloatSeries only",
            run.id()
        ))),
        None => Err(CliError::new(format!(
            "no field `{path}` in run {}",
            run.id()
        ))),
    }
}

/// Every FloatSeries of `run`, by path; none is an error.
fn all_float_series(run: &Run) -> Result<Vec<String>, CliError> {
    let structure = run.structure()?;
    let found = float_series_paths(&structure.entries, "");
    if found.is_empty() {
        let fields = field_paths(&structure);
        let listed = if fields.is_empty() {
            " (it has no fields)".to_owned()
        } else {
            let shown: Vec<&str> = fields.iter().take(5).map(String::as_str).collect();
            let more = if fields.len() > 5 { ", …" } else { "" };
            format!(" (its fields: {}{more})", shown.join(", "))
        };
        return Err(CliError::new(format!(
            "run {} has no FloatSeries to plot{listed}",
            run.id()
        )));
    }
    Ok(found)
}

/// The paths of the FloatSeries among `entries`, under `prefix`, sorted.
fn float_series_paths(
    entries: &std::collections::BTreeMap<String, Entry>,
    prefix: &str,
) -> Vec<String> {
    typed_field_paths(entries, prefix)
        .into_iter()
        .filter(|(_, t)| *t == FieldType::FloatSeries)
        .map(|(path, _)| path)
        .collect()
}

/// The series' points as (x, y): x is the step, or the seconds since the
/// series' first point.
fn read_points(run: &Run, path: &str, x: XAxis) -> Result<Vec<(f64, f64)>, CliError> {
    let points = run.at(path).fetch_values()?;
    let start = points.first().map(|p| p.timestamp);
    Ok(points
        .into_iter()
        .map(|p| {
            let y = match p.value {
                Value::Float(v) => v,
                _ => f64::NAN,
            };
            let x = match (x, start) {
                (XAxis::Time, Some(start)) => seconds_since(start, p.timestamp),
                _ => p.step,
            };
            (x, y)
        })
        .collect())
}

/// `t - start` in seconds, negative when `t` is earlier.
fn seconds_since(start: SystemTime, t: SystemTime) -> f64 {
    match t.duration_since(start) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_extension_picks_the_format() {
        assert_eq!(image_format(Path::new("a.svg")).unwrap(), ImageFormat::Svg);
        assert_eq!(
            image_format(Path::new("dir/a.PNG")).unwrap(),
            ImageFormat::Png
        );
        let err = image_format(Path::new("a.pdf")).unwrap_err().to_string();
        assert_eq!(
            err,
            "cannot write a.pdf: unknown chart format .pdf (use .svg or .png)"
        );
        assert!(image_format(Path::new("chart")).is_err());
    }

    #[test]
    fn time_runs_both_ways() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        assert_eq!(seconds_since(t0, t0 + Duration::from_millis(1500)), 1.5);
        assert_eq!(seconds_since(t0, t0 - Duration::from_secs(2)), -2.0);
    }
}
