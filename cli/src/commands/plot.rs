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
use hippocamp_core::{FieldType, Point, Run, Value};

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
    std::fs::write(path, bytes)
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

/// How many columns `plot` thins a long series to: far more
/// than any chart draws (960-pixel images, terminal charts of a few
/// hundred braille dots), so that drawing thins it again as if it had
/// every point: each column's minimum and maximum stay, placed within
/// 1/16,384 of the x range of where they are.
pub const READ_COLUMNS: usize = 1 << 14;

/// The most NaN/±Inf points `plot` keeps (as they are, for the
/// count of points not drawn that the legend shows); past it the count
/// stops there.
pub const MAX_KEPT_NON_FINITE: usize = 1 << 20;

/// The series' points as (x, y): x is the step, or the seconds since the
/// series' first point. The points are read a chunk at a time and a long
/// series (over `2 × READ_COLUMNS` points) is thinned as they arrive, as
/// [`chart::downsample`] thins it to [`READ_COLUMNS`] columns, keeping
/// every column's minimum and maximum: memory stays bounded whatever the
/// length. Points whose y is NaN or ±Inf are kept (up to
/// [`MAX_KEPT_NON_FINITE`]) after the others, for the legend's count.
fn read_points(run: &Run, path: &str, x: XAxis) -> Result<Vec<(f64, f64)>, CliError> {
    let handler = run.at(path);
    let summary = handler.series_summary()?;
    let (Some(first), Some(last)) = (&summary.first, &summary.last) else {
        return Ok(Vec::new());
    };
    let start = first.timestamp;
    let point = |p: &Point| -> (f64, f64) {
        let y = match p.value {
            Value::Float(v) => v,
            _ => f64::NAN,
        };
        let x = match x {
            XAxis::Time => seconds_since(start, p.timestamp),
            XAxis::Step => p.step,
        };
        (x, y)
    };
    if summary.count <= 2 * READ_COLUMNS as u64 {
        let mut points = Vec::with_capacity(summary.count as usize);
        handler.for_each_point(.., |p| points.push(point(p)))?;
        return Ok(points);
    }
    // The columns span the x range of the drawn points: steps increase,
    // times need a pass of their own.
    let (lo, hi) = match x {
        XAxis::Step => (first.step, last.step),
        XAxis::Time => {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            handler.for_each_point(.., |p| {
                let p = point(p);
                if p.0.is_finite() && p.1.is_finite() {
                    (lo, hi) = (lo.min(p.0), hi.max(p.0));
                }
            })?;
            (lo, hi)
        }
    };
    let mut thin = Thinning::new(lo, hi, READ_COLUMNS);
    handler.for_each_point(.., |p| thin.push(point(p)))?;
    Ok(thin.finish())
}

/// A point and its index among the finite points.
type Indexed = (usize, (f64, f64));

/// [`chart::downsample`] as the points arrive: of each run of consecutive
/// finite points in one column of `lo..=hi`, the lowest and the highest
/// (in their order), and the first and last point.
struct Thinning {
    lo: f64,
    scale: f64,
    columns: usize,
    out: Vec<(f64, f64)>,
    non_finite: Vec<(f64, f64)>,
    /// Finite points seen.
    seen: usize,
    /// The index of the last point put out, so none is put out twice.
    last_out: Option<usize>,
    /// The current run: its column, and its lowest and highest point.
    run: Option<(usize, Indexed, Indexed)>,
    last: Option<Indexed>,
}

impl Thinning {
    fn new(lo: f64, hi: f64, columns: usize) -> Thinning {
        let columns = columns.max(1);
        Thinning {
            lo,
            scale: columns as f64 / (hi - lo),
            columns,
            out: Vec::new(),
            non_finite: Vec::new(),
            seen: 0,
            last_out: None,
            run: None,
            last: None,
        }
    }

    fn column(&self, x: f64) -> usize {
        let c = (x - self.lo) * self.scale;
        // NaN (no width) and out-of-range values go to the edge columns.
        if c.is_nan() || c < 0.0 {
            0
        } else {
            (c as usize).min(self.columns - 1)
        }
    }

    fn put(&mut self, (i, p): Indexed) {
        if self.last_out != Some(i) {
            self.out.push(p);
            self.last_out = Some(i);
        }
    }

    fn end_run(&mut self) {
        if let Some((_, min, max)) = self.run.take() {
            let (a, b) = if min.0 <= max.0 {
                (min, max)
            } else {
                (max, min)
            };
            self.put(a);
            self.put(b);
        }
    }

    fn push(&mut self, p: (f64, f64)) {
        if !(p.0.is_finite() && p.1.is_finite()) {
            if self.non_finite.len() < MAX_KEPT_NON_FINITE {
                self.non_finite.push(p);
            }
            return;
        }
        let i = self.seen;
        self.seen += 1;
        if i == 0 {
            self.put((0, p));
        }
        let column = self.column(p.0);
        match &mut self.run {
            Some((c, min, max)) if *c == column => {
                if p.1 < min.1 .1 {
                    *min = (i, p);
                }
                if p.1 > max.1 .1 {
                    *max = (i, p);
                }
            }
            _ => {
                self.end_run();
                self.run = Some((column, (i, p), (i, p)));
            }
        }
        self.last = Some((i, p));
    }

    fn finish(mut self) -> Vec<(f64, f64)> {
        self.end_run();
        if let Some(last) = self.last {
            self.put(last);
        }
        let mut out = self.out;
        out.append(&mut self.non_finite);
        out
    }
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

    /// What [`Thinning`] keeps of `points`.
    fn thinned(points: &[(f64, f64)], columns: usize) -> Vec<(f64, f64)> {
        let finite: Vec<(f64, f64)> = points
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        let lo = finite.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let hi = finite.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let mut thin = Thinning::new(lo, hi, columns);
        points.iter().for_each(|&p| thin.push(p));
        thin.finish()
    }

    #[test]
    fn thinning_as_points_arrive_is_downsampling_them_all() {
        let mut seed = 7u64;
        let mut noise = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        let mut series: Vec<Vec<(f64, f64)>> = vec![
            (0..10_000).map(|i| (i as f64, noise())).collect(),
            (0..5_000)
                .map(|i| ((i * i) as f64, noise() - 0.5))
                .collect(),
            // Unsorted x (wall times that went back) and repeated values.
            (0..3_000)
                .map(|i| (((i * 7919) % 3_000) as f64, (i % 3) as f64))
                .collect(),
            (0..1_000).map(|_| (5.0, noise())).collect(),
        ];
        let mut with_gaps: Vec<(f64, f64)> = (0..4_000).map(|i| (i as f64, noise())).collect();
        for i in (0..4_000).step_by(97) {
            with_gaps[i].1 = if i % 2 == 0 { f64::NAN } else { f64::INFINITY };
        }
        series.push(with_gaps);
        for points in &series {
            for columns in [1, 7, 100, 1_000] {
                let expected = chart::downsample(points, columns);
                let got = thinned(points, columns);
                let finite: Vec<(f64, f64)> =
                    got.iter().copied().filter(|p| p.1.is_finite()).collect();
                if points.len() > 2 * columns {
                    assert_eq!(finite, expected, "{columns} columns");
                }
                let skipped = points.iter().filter(|p| !p.1.is_finite()).count();
                assert_eq!(got.len() - finite.len(), skipped);
            }
        }
    }

    #[test]
    fn time_runs_both_ways() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        assert_eq!(seconds_since(t0, t0 + Duration::from_millis(1500)), 1.5);
        assert_eq!(seconds_since(t0, t0 - Duration::from_secs(2)), -2.0);
    }
}
