//! `hippocamp plot`: series as a line chart, in the terminal or to an SVG
//! or PNG file.
//!
//! `RUN:PATH` plots one FloatSeries, `RUN` alone every FloatSeries of the
//! run; with `--where`, `--tag` or `--project`, each `PATH` is plotted for
//! every run they select (runs without it are left out, with a warning).
//! All go on one chart, named `RUN:PATH` in the legend, each with its own
//! colour and dash (at most [`MAX_SERIES`]). The x axis is the step, or
//! with `--x time` the seconds since the series' first point (by step when
//! all points share one timestamp). NaN and ±Inf values are skipped, and
//! values at or below 0 on a log axis (`--log-x`, `--log-y`): the line
//! joins the points around them, and the legend or the closing line says
//! how many were skipped. `--smooth W` draws an exponential moving average
//! over the raw line, drawn faint. Long series are thinned keeping every
//! pixel column's minimum and maximum (see [`crate::chart::downsample`]).
//! In a terminal the chart fills it. `--follow` draws again whenever the
//! series change (in place on a terminal, or rewriting the file), until no
//! run plotted is running.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use hippocamp_core::structure::Entry;
use hippocamp_core::{FieldType, Point, Run, Value};

use terminal_size::{Height, Width};

use crate::args::{PlotArgs, XAxis};
use crate::chart::{self, Chart, Series, MAX_SERIES};
use crate::format;
use crate::store::{field_paths, nearest_hint, require_path, typed_field_paths, Context};
use crate::CliError;
use hippocamp_core::filter::Expr;

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

/// What one argument asks to plot: in run `runs[run]`, the FloatSeries at
/// `path`, or every FloatSeries of the run.
struct Target {
    run: usize,
    path: Option<String>,
}

/// Runs `hippocamp plot`: draws the series in the terminal (on `out`), or
/// writes an SVG or PNG file and says so on `out`; with `--follow`, again
/// each time the series change, until the runs end.
///
/// The terminal chart is coloured when stdout is a terminal and `NO_COLOR`
/// is not set, and then fills the terminal. Errors: an unknown run or
/// path, a path that is not a FloatSeries, a run without FloatSeries, no
/// run selected, more than [`MAX_SERIES`] series, an output file that is
/// neither `.svg` nor `.png` or cannot be written.
pub fn run(ctx: &Context, args: PlotArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let format = args.output.as_deref().map(image_format).transpose()?;
    if let Some(weight) = args.smooth {
        if !(0.0..1.0).contains(&weight) {
            return Err(CliError::new(format!(
                "--smooth takes a weight from 0 up to (not including) 1, such as 0.9; {weight} is not one"
            )));
        }
    }
    if !(args.interval.is_finite() && args.interval >= 0.01) {
        return Err(CliError::new(format!(
            "--interval takes seconds, at least 0.01; {} is not",
            args.interval
        )));
    }
    let selecting = args.filter.is_some() || !args.tag.is_empty() || args.project.is_some();
    let (runs, targets) = if selecting {
        select(ctx, &args)?
    } else {
        named(ctx, &args)?
    };

    let stdout = std::io::stdout();
    let on_terminal = stdout.is_terminal();
    let colour = on_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut shown: Option<Chart> = None;
    let mut frame_lines = 0;
    loop {
        // The state before the points: the last frame, drawn once the runs
        // have ended, holds all they logged.
        let running = args.follow && any_running(ctx, &runs)?;
        let chart = build(&runs, &targets, &args, running)?;
        if shown.as_ref() != Some(&chart) {
            match (args.output.as_deref(), format) {
                (Some(path), Some(format)) => {
                    write_image(&chart, path, format)?;
                    writeln!(out, "{}", written_note(&chart, path))?;
                }
                _ => {
                    let size = match terminal_size::terminal_size_of(&stdout) {
                        Some((Width(w), Height(h))) if on_terminal => {
                            chart::terminal_canvas(&chart, usize::from(w), usize::from(h))
                        }
                        _ => chart::TERMINAL_SIZE,
                    };
                    let text = chart::terminal(&chart, colour, size);
                    if on_terminal && frame_lines > 0 {
                        // Back to the top of the last frame, which is cleared.
                        write!(out, "\x1b[{frame_lines}A\x1b[J")?;
                    }
                    out.write_all(text.as_bytes())?;
                    frame_lines = text.lines().count();
                }
            }
            out.flush()?;
            shown = Some(chart);
        }
        if !running {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs_f64(args.interval));
    }
}

/// `wrote loss.svg (2 series, 1 NaN/Inf point not drawn)`.
fn written_note(chart: &Chart, path: &Path) -> String {
    let skipped: usize = chart.series.iter().map(|s| chart.not_drawn(s)).sum();
    let count = chart.series.len();
    let what = if chart.log_x || chart.log_y {
        "NaN/Inf or non-positive"
    } else {
        "NaN/Inf"
    };
    let mut note = format!("wrote {} ({count} series", path.display());
    match skipped {
        0 => {}
        1 => note.push_str(&format!(", 1 {what} point not drawn")),
        n => note.push_str(&format!(", {n} {what} points not drawn")),
    }
    note.push(')');
    note
}

fn write_image(chart: &Chart, path: &Path, format: ImageFormat) -> Result<(), CliError> {
    let bytes = match format {
        ImageFormat::Svg => chart::svg(chart)?.into_bytes(),
        ImageFormat::Png => chart::png(chart)?,
    };
    crate::output::write(path, &bytes)
}

/// The runs and series named as `RUN` or `RUN:PATH`, each checked.
fn named(ctx: &Context, args: &PlotArgs) -> Result<(Vec<Run>, Vec<Target>), CliError> {
    let mut runs: Vec<Run> = Vec::new();
    let mut targets = Vec::new();
    for spec in &args.series {
        let (id, path) = match spec.split_once(':') {
            Some((id, path)) => (id, Some(path)),
            None => (spec.as_str(), None),
        };
        if id.is_empty() {
            return Err(CliError::new(format!(
                "`{spec}` names no run: write RUN or RUN:PATH (or PATH with --where, --tag or --project)"
            )));
        }
        let index = match runs.iter().position(|r| r.id() == id) {
            Some(i) => i,
            None => {
                runs.push(ctx.open_run(id)?);
                runs.len() - 1
            }
        };
        let run = &runs[index];
        let path = match path {
            Some("") => {
                return Err(CliError::new(format!(
                "`{spec}` names no path: write {id} for every FloatSeries of the run, or {id}:PATH"
            )))
            }
            Some(path) => {
                // A run being followed may not have logged it yet.
                let waiting = args.follow
                    && run.at(path).field_type()?.is_none()
                    && hippocamp_core::path::validate(path).is_ok()
                    && ctx.run_info(id)?.state == "running";
                if !waiting {
                    check_float_series(run, path)?;
                }
                Some(path.to_owned())
            }
            None => {
                if !args.follow || ctx.run_info(id)?.state != "running" {
                    all_float_series(run)?;
                }
                None
            }
        };
        targets.push(Target { run: index, path });
    }
    Ok((runs, targets))
}

/// The runs `--where`, `--tag` and `--project` select (in the store's
/// order), and for each the FloatSeries at each PATH given. Runs selected
/// without such a series are left out, with a warning; none left is an
/// error.
fn select(ctx: &Context, args: &PlotArgs) -> Result<(Vec<Run>, Vec<Target>), CliError> {
    for path in &args.series {
        if path.contains(':') {
            return Err(CliError::new(format!(
                "`{path}`: with --where, --tag or --project, give field paths (train/loss), not RUN:PATH"
            )));
        }
        hippocamp_core::path::validate(path)
            .map_err(|e| CliError::new(format!("invalid field path `{path}`: {e}")))?;
    }
    let filter = match &args.filter {
        Some(source) => {
            Some(Expr::parse(source).map_err(|e| CliError::new(format!("--where: {e}")))?)
        }
        None => None,
    };
    let project_key = args.project.as_deref().map(hippocamp_core::project_key);
    let mut runs: Vec<Run> = Vec::new();
    let mut infos = Vec::new();
    for info in ctx.runs()? {
        let keep = project_key
            .as_ref()
            .is_none_or(|key| *key == hippocamp_core::project_key(&info.project))
            && args.tag.iter().all(|tag| info.tags.contains(tag));
        if !keep {
            continue;
        }
        let run = match ctx.open_run(&info.id) {
            Ok(run) => run,
            // Deleted since it was listed.
            Err(_) if ctx.run_info(&info.id).is_err() => continue,
            Err(err) => return Err(err),
        };
        if let Some(filter) = &filter {
            let mut failure = None;
            let matched = filter.matches(|path| match format::field_value(&run, path) {
                Ok(value) => Ok::<_, ()>(value),
                Err(err) => {
                    failure = Some(err);
                    Err(())
                }
            });
            if let Some(err) = failure {
                return Err(err);
            }
            if matched != Ok(true) {
                continue;
            }
        }
        runs.push(run);
        infos.push(info);
    }
    let criteria = selection_text(args);
    if runs.is_empty() {
        return Err(CliError::new(format!("no run matches {criteria}")));
    }

    let mut targets = Vec::new();
    for path in &args.series {
        let mut left_out = Vec::new();
        let mut known = std::collections::BTreeSet::new();
        for (index, (run, info)) in runs.iter().zip(&infos).enumerate() {
            let field_type = run.at(path.as_str()).field_type()?;
            let waiting = args.follow && field_type.is_none() && info.state == "running";
            if field_type == Some(FieldType::FloatSeries) || waiting {
                targets.push(Target {
                    run: index,
                    path: Some(path.clone()),
                });
            } else {
                left_out.push(run.id().to_owned());
                known.extend(float_series_paths(&run.structure()?.entries, ""));
            }
        }
        if left_out.len() == runs.len() {
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            return Err(CliError::new(format!(
                "none of the runs {criteria} selects ({}) has a FloatSeries `{path}`{}",
                left_out.join(", "),
                nearest_hint(path, &known)
            )));
        }
        if !left_out.is_empty() {
            ctx.warn(format!(
                "left out {}: no FloatSeries `{path}` in {}",
                left_out.join(", "),
                if left_out.len() == 1 { "it" } else { "them" }
            ));
        }
    }
    Ok((runs, targets))
}

/// `--where `…`, --tag x, --project p`, as an error names them.
fn selection_text(args: &PlotArgs) -> String {
    let mut parts = Vec::new();
    if let Some(filter) = &args.filter {
        parts.push(format!("--where `{filter}`"));
    }
    for tag in &args.tag {
        parts.push(format!("--tag {tag}"));
    }
    if let Some(project) = &args.project {
        parts.push(format!("--project {project}"));
    }
    parts.join(", ")
}

/// Whether any of `runs` is still running (by the store's account: a
/// writer with a fresh heartbeat).
fn any_running(ctx: &Context, runs: &[Run]) -> Result<bool, CliError> {
    Ok(ctx
        .runs()?
        .iter()
        .any(|info| info.state == "running" && runs.iter().any(|r| r.id() == info.id)))
}

/// The chart of the targets as they are now. `following`: a path not
/// logged yet is an empty series, not an error.
fn build(
    runs: &[Run],
    targets: &[Target],
    args: &PlotArgs,
    following: bool,
) -> Result<Chart, CliError> {
    let mut paths: Vec<(&Run, String)> = Vec::new();
    for target in targets {
        let run = &runs[target.run];
        let chosen = match &target.path {
            Some(path) => vec![path.clone()],
            None if following => float_series_paths(&run.structure()?.entries, ""),
            None => all_float_series(run)?,
        };
        for path in chosen {
            if !paths.iter().any(|(r, p)| r.id() == run.id() && *p == path) {
                paths.push((run, path));
            }
        }
    }
    if paths.len() > MAX_SERIES {
        return Err(CliError::new(format!(
            "{} series asked for: one chart draws at most {MAX_SERIES}, each with its own colour and dash (name fewer, or narrow with --where)",
            paths.len()
        )));
    }
    let read = |x: XAxis| -> Result<Vec<Series>, CliError> {
        paths
            .iter()
            .map(|(run, path)| {
                let points = match run.at(path.as_str()).field_type()? {
                    None if following => Vec::new(),
                    _ => read_points(run, path, x)?,
                };
                Ok(Series {
                    label: format!("{}:{path}", run.id()),
                    points,
                })
            })
            .collect()
    };
    let mut series = read(args.x)?;
    let mut x_label = match args.x {
        XAxis::Step => "step".to_owned(),
        XAxis::Time => "time (s)".to_owned(),
    };
    // Points that all share one timestamp make no time axis: by step then.
    if args.x == XAxis::Time && one_timestamp(&series) {
        series = read(XAxis::Step)?;
        x_label = "step (all points have one timestamp)".to_owned();
    }
    let y_label = match paths.first() {
        Some((_, first)) if paths.iter().all(|(_, p)| p == first) => first.clone(),
        _ => "value".to_owned(),
    };
    let mut y_notes = Vec::new();
    if args.log_y {
        y_notes.push("log".to_owned());
    }
    if let Some(weight) = args.smooth {
        y_notes.push(format!("EMA {weight}"));
    }
    let y_label = if y_notes.is_empty() {
        y_label
    } else {
        format!("{y_label} ({})", y_notes.join(", "))
    };
    if args.log_x {
        x_label.push_str(" (log)");
    }
    Ok(Chart {
        log_x: args.log_x,
        log_y: args.log_y,
        smoothing: args.smooth,
        digits: usize::from(args.precision),
        ..Chart::new(series, x_label, y_label)
    })
}

/// Whether the series have more than one point, all at one x (their
/// times since their first point are all 0).
fn one_timestamp(series: &[Series]) -> bool {
    let xs = || {
        series
            .iter()
            .flat_map(|s| &s.points)
            .map(|p| p.0)
            .filter(|x| x.is_finite())
    };
    xs().count() > 1 && xs().all(|x| x == 0.0)
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
