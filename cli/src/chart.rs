//! Line charts of series: an SVG or PNG image, or braille drawn in the
//! terminal. `hippocamp plot` builds a [`Chart`] from a store's series and
//! hands it to [`svg`], [`png()`] or [`terminal`].
//!
//! Points whose x or y is NaN or ±Inf are skipped, and so are points at or
//! below 0 on a log axis: the line joins the points on either side of
//! them. Long series are thinned by [`downsample`] to about two points per
//! pixel column (or braille dot column), keeping each column's minimum and
//! maximum, so no spike or dip disappears. With [`Chart::smoothing`], each
//! series is drawn smoothed ([`ema`]) over its raw line, drawn faint.
//!
//! Each series has its own look: a colour of [`PALETTE`] and, from the
//! 11th series on, a dash style of [`DASHES`] ([`line_style`]), so no two of
//! at most [`MAX_SERIES`] lines look alike.
//!
//! Text in PNG images is drawn with DejaVu Sans, embedded in the binary
//! (`cli/assets/`), so charts look the same on every machine.

use std::sync::Once;

use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::CliError;

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend's name for it, e.g. `MNIST-3:train/loss`.
    pub label: String,
    /// Its `(x, y)` points in drawing order; non-finite ones are skipped.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// How many points are not drawn because x or y is NaN or ±Inf.
    pub fn skipped(&self) -> usize {
        self.points.iter().filter(|p| !finite(**p)).count()
    }
}

/// A line chart: its series, the names of its axes and how it is drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The lines, in legend order; each gets the next [`line_style`].
    pub series: Vec<Series>,
    /// The x axis' name, e.g. `step` or `time (s)`.
    pub x_label: String,
    /// The y axis' name, e.g. `train/loss`.
    pub y_label: String,
    /// A logarithmic x axis (points with x ≤ 0 are not drawn).
    pub log_x: bool,
    /// A logarithmic y axis (points with y ≤ 0 are not drawn).
    pub log_y: bool,
    /// The weight of the exponential moving average each series is drawn
    /// smoothed with (0 ≤ w < 1; see [`ema`]), its raw line faint; `None`
    /// draws the raw lines only.
    pub smoothing: Option<f64>,
    /// Significant digits of the axes' numbers (see [`format_number_to`]).
    pub digits: usize,
}

impl Chart {
    /// A chart of linear axes, without smoothing, its numbers to
    /// [`AXIS_DIGITS`] digits.
    ///
    /// ```
    /// use hippocamp_cli::chart::{Chart, Series};
    /// let chart = Chart::new(vec![Series { label: "A-1:loss".into(), points: vec![(0.0, 1.0)] }], "step", "loss");
    /// assert!(!chart.log_y && chart.smoothing.is_none());
    /// ```
    pub fn new(
        series: Vec<Series>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Chart {
        Chart {
            series,
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_x: false,
            log_y: false,
            smoothing: None,
            digits: AXIS_DIGITS,
        }
    }

    /// Whether a point is drawn: finite, and above 0 on a log axis.
    pub fn visible(&self, (x, y): (f64, f64)) -> bool {
        finite((x, y)) && (!self.log_x || x > 0.0) && (!self.log_y || y > 0.0)
    }

    /// How many points of `series` are not drawn (see [`Chart::visible`]).
    pub fn not_drawn(&self, series: &Series) -> usize {
        series.points.iter().filter(|p| !self.visible(**p)).count()
    }

    /// What the legend says of the points of `series` not drawn, e.g.
    /// `  (2 NaN/Inf points not drawn)`; empty when all are drawn.
    fn not_drawn_note(&self, series: &Series) -> String {
        let what = if self.log_x || self.log_y {
            "NaN/Inf or non-positive"
        } else {
            "NaN/Inf"
        };
        match self.not_drawn(series) {
            0 => String::new(),
            1 => format!("  (1 {what} point not drawn)"),
            n => format!("  ({n} {what} points not drawn)"),
        }
    }

    /// The lines to draw, in drawing order: for each series its visible
    /// points, or with smoothing its raw line (faint), and after all the
    /// faint ones the smoothed lines.
    fn lines(&self) -> Vec<Line> {
        let mut faint = Vec::new();
        let mut strong = Vec::new();
        for (i, s) in self.series.iter().enumerate() {
            let visible: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|p| self.visible(*p))
                .collect();
            let line = |faint, points| Line {
                series: i,
                faint,
                points,
            };
            match self.smoothing {
                Some(weight) => {
                    let smoothed = ema(&visible, weight);
                    faint.push(line(true, visible));
                    strong.push(line(false, smoothed));
                }
                None => strong.push(line(false, visible)),
            }
        }
        faint.extend(strong);
        faint
    }
}

/// One line drawn for a series: its raw line drawn faint under the
/// smoothed one, or the series itself.
#[derive(Debug, PartialEq)]
struct Line {
    /// The index of its series.
    series: usize,
    faint: bool,
    points: Vec<(f64, f64)>,
}

/// The most series one chart draws: every one has its own colour and
/// dash.
pub const MAX_SERIES: usize = PALETTE.len() * DASHES.len();

/// Significant digits of the axes' numbers unless `--precision` says
/// otherwise.
pub const AXIS_DIGITS: usize = 4;

/// The size of SVG and PNG charts, in pixels.
pub const IMAGE_SIZE: (u32, u32) = (960, 600);

/// The colours of the series in SVG and PNG charts (as RGB), in order;
/// the 11th series takes the first colour again, with the next dash of
/// [`DASHES`]. None is dark, so they never look like the (black) text.
pub const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// How a line is stroked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dash {
    /// A continuous line.
    Solid,
    /// Short dashes.
    Dashed,
    /// Dots.
    Dotted,
    /// Long dashes.
    LongDashed,
}

/// The dash styles, in the order series take them.
pub const DASHES: [Dash; 4] = [Dash::Solid, Dash::Dashed, Dash::Dotted, Dash::LongDashed];

impl Dash {
    /// (dash, gap) in pixels of an image; `None` for a solid line.
    fn pixels(self) -> Option<(i32, i32)> {
        match self {
            Dash::Solid => None,
            Dash::Dashed => Some((9, 6)),
            Dash::Dotted => Some((2, 5)),
            Dash::LongDashed => Some((22, 7)),
        }
    }

    /// Whether the `k`-th braille dot along a terminal line is drawn.
    fn dot_on(self, k: usize) -> bool {
        match self {
            Dash::Solid => true,
            Dash::Dashed => k % 6 < 4,
            Dash::Dotted => k.is_multiple_of(3),
            Dash::LongDashed => k % 12 < 9,
        }
    }

    /// The stroke a terminal legend shows for it.
    fn sample(self) -> &'static str {
        match self {
            Dash::Solid => "⠒⠒",
            Dash::Dashed => "⠒⠀⠒",
            Dash::Dotted => "⠂⠂⠂",
            Dash::LongDashed => "⠒⠒⠀⠒⠒",
        }
    }
}

/// The colour and dash of the `i`-th series of an image: the colours of
/// [`PALETTE`] in turn, solid; then again, dashed; then dotted; then long
/// dashed. No two of the first [`MAX_SERIES`] are alike.
///
/// ```
/// use hippocamp_cli::chart::{line_style, Dash, PALETTE};
/// assert_eq!(line_style(0), (PALETTE[0], Dash::Solid));
/// assert_eq!(line_style(10), (PALETTE[0], Dash::Dashed));
/// assert_eq!(line_style(23), (PALETTE[3], Dash::Dotted));
/// ```
pub fn line_style(i: usize) -> ((u8, u8, u8), Dash) {
    (
        PALETTE[i % PALETTE.len()],
        DASHES[(i / PALETTE.len()) % DASHES.len()],
    )
}

/// The ANSI colour codes of series in a coloured terminal chart, in order:
/// six colours, then their bright variants.
const ANSI: [u8; 12] = [34, 33, 32, 31, 35, 36, 94, 93, 92, 91, 95, 96];

/// The colour (an ANSI code) and dash of the `i`-th series of a terminal
/// chart: no two of the first 48 are alike.
fn terminal_style(i: usize) -> (u8, Dash) {
    (
        ANSI[i % ANSI.len()],
        DASHES[(i / ANSI.len()) % DASHES.len()],
    )
}

/// The font family name under which the embedded font is registered.
const FONT: &str = "sans-serif";

/// DejaVu Sans (see `cli/assets/DejaVuSans-LICENSE`).
static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn finite((x, y): (f64, f64)) -> bool {
    x.is_finite() && y.is_finite()
}

/// A series smoothed by an exponential moving average of weight `weight`
/// (0 ≤ w < 1; 0 leaves it as it is, 0.9 smooths much), bias-corrected so
/// that it starts at the first value (as TensorBoard smooths): the i-th
/// value is `m_i / (1 - w^(i+1))` with `m_i = w·m_(i-1) + (1 - w)·y_i`.
/// Points whose y is not finite are left out and do not move the average.
///
/// ```
/// use hippocamp_cli::chart::ema;
/// let smoothed = ema(&[(0.0, 1.0), (1.0, 0.0), (2.0, f64::NAN), (3.0, 0.0)], 0.5);
/// assert_eq!(smoothed, [(0.0, 1.0), (1.0, 1.0 / 3.0), (3.0, 1.0 / 7.0)]);
/// assert_eq!(ema(&[(0.0, 2.0), (1.0, 4.0)], 0.0), [(0.0, 2.0), (1.0, 4.0)]);
/// ```
pub fn ema(points: &[(f64, f64)], weight: f64) -> Vec<(f64, f64)> {
    let weight = if (0.0..1.0).contains(&weight) {
        weight
    } else {
        0.0
    };
    let mut average = 0.0;
    let mut debias = 1.0;
    let mut out = Vec::with_capacity(points.len());
    for &(x, y) in points {
        if !y.is_finite() {
            continue;
        }
        average = weight * average + (1.0 - weight) * y;
        debias *= weight;
        out.push((x, average / (1.0 - debias)));
    }
    out
}

/// Thins a series for drawing `columns` pixel columns wide, without losing
/// its extremes.
///
/// Points whose x or y is not finite are dropped. If at most
/// `2 * columns` points remain they are all kept. Otherwise the x range of
/// the points is cut into `columns` equal columns; of each run of
/// consecutive points falling in the same column, the one with the lowest
/// y and the one with the highest y are kept (in their order), and so are
/// the first and the last point. The result keeps every column's minimum
/// and maximum, in the original order, and has at most `2 * columns + 2`
/// points when x increases.
///
/// ```
/// use hippocamp_cli::chart::downsample;
/// let mut points: Vec<(f64, f64)> = (0..1_000_000).map(|i| (i as f64, 0.0)).collect();
/// points[123_457].1 = 5.0;
/// points[765_432].1 = -3.0;
/// let thin = downsample(&points, 100);
/// assert!(thin.len() <= 202);
/// assert!(thin.contains(&(123_457.0, 5.0)) && thin.contains(&(765_432.0, -3.0)));
/// assert_eq!((thin[0], thin[thin.len() - 1]), (points[0], points[999_999]));
/// ```
pub fn downsample(points: &[(f64, f64)], columns: usize) -> Vec<(f64, f64)> {
    let columns = columns.max(1);
    let kept: Vec<(f64, f64)> = points.iter().copied().filter(|p| finite(*p)).collect();
    if kept.len() <= 2 * columns {
        return kept;
    }
    let (lo, hi) = kept
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.0), hi.max(p.0))
        });
    let scale = columns as f64 / (hi - lo);
    let column = |x: f64| -> usize {
        let c = (x - lo) * scale;
        // NaN (no width) and out-of-range values go to the edge columns.
        if c.is_nan() || c < 0.0 {
            0
        } else {
            (c as usize).min(columns - 1)
        }
    };

    fn pick(i: usize, picked: &mut Vec<usize>) {
        if picked.last() != Some(&i) {
            picked.push(i);
        }
    }
    let mut picked: Vec<usize> = vec![0];
    let mut start = 0;
    while start < kept.len() {
        let col = column(kept[start].0);
        let (mut min, mut max) = (start, start);
        let mut end = start + 1;
        while end < kept.len() && column(kept[end].0) == col {
            if kept[end].1 < kept[min].1 {
                min = end;
            }
            if kept[end].1 > kept[max].1 {
                max = end;
            }
            end += 1;
        }
        pick(min.min(max), &mut picked);
        pick(min.max(max), &mut picked);
        start = end;
    }
    pick(kept.len() - 1, &mut picked);
    picked.into_iter().map(|i| kept[i]).collect()
}

/// A number as an axis shows it: at most four significant digits, in
/// scientific notation when very large or small.
///
/// ```
/// use hippocamp_cli::chart::format_number;
/// assert_eq!(format_number(0.30000000000000004), "0.3");
/// assert_eq!(format_number(12345.6), "12346");
/// assert_eq!(format_number(1_000_000.0), "1e6");
/// assert_eq!(format_number(-0.000125), "-1.25e-4");
/// ```
pub fn format_number(v: f64) -> String {
    format_number_to(v, AXIS_DIGITS)
}

/// A number as an axis shows it, with at most `digits` significant digits
/// (at least 2 in scientific notation), in scientific notation below 0.001
/// or from 10^(`digits` + 1).
///
/// ```
/// use hippocamp_cli::chart::format_number_to;
/// assert_eq!(format_number_to(0.123456, 4), "0.1235");
/// assert_eq!(format_number_to(0.123456, 2), "0.12");
/// assert_eq!(format_number_to(1234567.0, 6), "1234567");
/// assert_eq!(format_number_to(12345678.0, 6), "1.2346e7");
/// ```
pub fn format_number_to(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let digits = digits.clamp(1, 17);
    let a = v.abs();
    if a == 0.0 {
        return "0".to_owned();
    }
    let upper = 10f64.powi(digits as i32 + 1);
    let text = if !(1e-3..upper).contains(&a) {
        let s = format!("{v:.*e}", digits.saturating_sub(2).max(1));
        match s.split_once('e') {
            Some((mantissa, exp)) => format!("{}e{exp}", trim_zeros(mantissa)),
            None => s,
        }
    } else {
        let decimals = (digits as i32 - 1 - a.log10().floor() as i32).max(0) as usize;
        trim_zeros(&format!("{v:.decimals$}")).to_owned()
    };
    if text == "-0" {
        "0".to_owned()
    } else {
        text
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// The drawn points' x and y ranges, each widened when empty (see
/// [`widen`] and [`widen_log`]).
fn ranges(chart: &Chart) -> ((f64, f64), (f64, f64)) {
    let mut x = (f64::INFINITY, f64::NEG_INFINITY);
    let mut y = x;
    for s in &chart.series {
        for p in &s.points {
            if chart.visible(*p) {
                x = (x.0.min(p.0), x.1.max(p.0));
                y = (y.0.min(p.1), y.1.max(p.1));
            }
        }
    }
    let axis = |log: bool, r| if log { widen_log(r) } else { widen(r) };
    (axis(chart.log_x, x), axis(chart.log_y, y))
}

/// A finite range with some width: no points give 0..1, one value v ± 1
/// (or ±10% of it); ends past the largest f64 are pulled back to it, and
/// a width too large for an f64 is halved. Plotters does not return on an
/// infinite range, and near `f64::MAX` widening or padding overflows.
fn widen((lo, hi): (f64, f64)) -> (f64, f64) {
    if lo > hi {
        return (0.0, 1.0);
    }
    let (lo, hi) = if lo == hi {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() / 10.0 };
        (lo - d, hi + d)
    } else {
        (lo, hi)
    };
    let (lo, hi) = (lo.max(f64::MIN), hi.min(f64::MAX));
    if (hi - lo).is_finite() {
        (lo, hi)
    } else {
        (lo / 2.0, hi / 2.0)
    }
}

/// A range of positive numbers for a log axis: no points give 1..10, one
/// value v/2..2v; the ends stay positive and finite.
fn widen_log((lo, hi): (f64, f64)) -> (f64, f64) {
    if lo > hi {
        return (1.0, 10.0);
    }
    let (lo, hi) = if lo == hi {
        (lo / 2.0, hi * 2.0)
    } else {
        (lo, hi)
    };
    (lo.max(f64::MIN_POSITIVE), hi.min(f64::MAX))
}

/// `range` with `fraction` of its width added at each end (of its width in
/// logarithms, on a log axis).
fn padded((lo, hi): (f64, f64), fraction: f64, log: bool) -> (f64, f64) {
    if log {
        let factor = (hi / lo).powf(fraction);
        widen_log((lo / factor, hi * factor))
    } else {
        let pad = (hi - lo) * fraction;
        widen((lo - pad, hi + pad))
    }
}

fn register_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The bytes are a valid font; if ever not, drawing text reports
        // the missing font as an error.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

fn rgb((r, g, b): (u8, u8, u8)) -> RGBColor {
    RGBColor(r, g, b)
}

/// A colour mixed with white, for a raw line under its smoothed one.
fn faint((r, g, b): (u8, u8, u8)) -> RGBColor {
    let mix = |c: u8| (u16::from(c) + 2 * 255).div_ceil(3) as u8;
    RGBColor(mix(r), mix(g), mix(b))
}

fn draw_error(err: impl std::fmt::Display) -> CliError {
    CliError::new(format!("cannot draw the chart: {err}"))
}

/// Draws the chart on a backend's area: axes on the left, legend on the
/// right.
fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> Result<(), CliError> {
    register_font();
    let label_font = (FONT, 14).into_font();
    let legend_style = label_font.color(&BLACK);
    root.fill(&WHITE).map_err(draw_error)?;

    // The legend's width: its longest label, within 40% of the image.
    let (width, _) = root.dim_in_pixel();
    let max_legend = width * 2 / 5;
    let mut longest = 0;
    for s in &chart.series {
        let (w, _) = root
            .estimate_text_size(&s.label, &legend_style)
            .map_err(draw_error)?;
        longest = longest.max(w);
    }
    let legend_width = (longest + 60).min(max_legend);
    let (plot_area, legend_area) = root.split_horizontally(width - legend_width);

    let ((x0, x1), y) = ranges(chart);
    let (y0, y1) = padded(y, 0.05, chart.log_y);
    match (chart.log_x, chart.log_y) {
        (false, false) => draw_plot(&plot_area, chart, x0..x1, y0..y1)?,
        (true, false) => draw_plot(&plot_area, chart, (x0..x1).log_scale(), y0..y1)?,
        (false, true) => draw_plot(&plot_area, chart, x0..x1, (y0..y1).log_scale())?,
        (true, true) => draw_plot(
            &plot_area,
            chart,
            (x0..x1).log_scale(),
            (y0..y1).log_scale(),
        )?,
    }

    // The legend: a stroke of each series' colour and dash and its label,
    // as many as fit in the image's height.
    let top = 15 + 8;
    let step = 24;
    let (_, height) = legend_area.dim_in_pixel();
    let fitting = ((height as i32 - top) / step).max(1) as usize;
    for (i, s) in chart.series.iter().enumerate() {
        let y = top + step * i as i32;
        if i + 1 == fitting && chart.series.len() > fitting {
            let more = format!("and {} more", chart.series.len() - i);
            let style = legend_style.pos(Pos::new(HPos::Left, VPos::Center));
            legend_area
                .draw(&Text::new(more, (44, y), style))
                .map_err(draw_error)?;
            break;
        }
        let (colour, dash) = line_style(i);
        let stroke = rgb(colour).stroke_width(3);
        let sample = vec![(8, y), (36, y)];
        match dash.pixels() {
            None => legend_area.draw(&PathElement::new(sample, stroke)),
            Some((on, off)) => legend_area.draw(&DashedPathElement::new(sample, on, off, stroke)),
        }
        .map_err(draw_error)?;
        let style = legend_style.pos(Pos::new(HPos::Left, VPos::Center));
        let label = fit(&s.label, legend_width.saturating_sub(50), |t| {
            legend_area
                .estimate_text_size(t, &legend_style)
                .map(|(w, _)| w)
                .unwrap_or(0)
        });
        legend_area
            .draw(&Text::new(label, (44, y), style))
            .map_err(draw_error)?;
    }
    root.present().map_err(draw_error)
}

/// Draws the axes and the lines on `area`, in the coordinates `x` and `y`
/// (linear or logarithmic).
fn draw_plot<DB, X, Y>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart,
    x: X,
    y: Y,
) -> Result<(), CliError>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let label_font = (FONT, 14).into_font();
    let desc_font = (FONT, 17).into_font();
    let mut cartesian = ChartBuilder::on(area)
        .margin(15)
        .x_label_area_size(55)
        .y_label_area_size(80)
        .build_cartesian_2d(x, y)
        .map_err(draw_error)?;
    let digits = chart.digits;
    let fmt = |v: &f64| format_number_to(*v, digits);
    cartesian
        .configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .label_style(label_font)
        .axis_desc_style(desc_font)
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(draw_error)?;

    let columns = cartesian.plotting_area().dim_in_pixel().0 as usize;
    for Line {
        series: i,
        faint: is_faint,
        points,
    } in chart.lines()
    {
        let points = downsample(&points, columns);
        let (colour, dash) = line_style(i);
        let style = if is_faint {
            faint(colour).stroke_width(1)
        } else {
            rgb(colour).stroke_width(2)
        };
        if let [only] = points[..] {
            cartesian
                .draw_series(std::iter::once(Circle::new(only, 3, style.filled())))
                .map_err(draw_error)?;
            continue;
        }
        match dash.pixels() {
            Some((on, off)) if !is_faint => cartesian
                .draw_series(DashedLineSeries::new(points, on, off, style))
                .map(drop),
            _ => cartesian
                .draw_series(LineSeries::new(points, style))
                .map(drop),
        }
        .map_err(draw_error)?;
    }
    Ok(())
}

/// `text`, cut short with `…` until `measure` finds it at most `width` wide.
fn fit(text: &str, width: u32, measure: impl Fn(&str) -> u32) -> String {
    if measure(text) <= width {
        return text.to_owned();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let cut: String = chars.iter().chain(['…'].iter()).collect();
        if measure(&cut) <= width {
            return cut;
        }
    }
    "…".to_owned()
}

/// The chart as an SVG document, [`IMAGE_SIZE`] pixels large. Each series
/// is one `<polyline>` of its colour (a `<circle>` when it has one point);
/// texts are `<text>` elements.
pub fn svg(chart: &Chart) -> Result<String, CliError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, IMAGE_SIZE).into_drawing_area();
        draw(&root, chart)?;
    }
    Ok(out)
}

/// The chart as a PNG image (8-bit RGB), [`IMAGE_SIZE`] pixels large.
pub fn png(chart: &Chart) -> Result<Vec<u8>, CliError> {
    let (w, h) = IMAGE_SIZE;
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, IMAGE_SIZE).into_drawing_area();
        draw(&root, chart)?;
    }
    let encode_error =
        |err: png::EncodingError| CliError::new(format!("cannot encode the PNG: {err}"));
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(encode_error)?;
    writer.write_image_data(&pixels).map_err(encode_error)?;
    writer.finish().map_err(encode_error)?;
    Ok(out)
}

/// The size of terminal charts drawn where the terminal's size is not
/// known (stdout is a file or a pipe): columns of braille cells (each 2
/// dots wide) and rows (each 4 dots high), axis labels not included.
pub const TERMINAL_SIZE: (usize, usize) = (64, 16);

/// The smallest canvas [`terminal_canvas`] gives, however small the
/// terminal.
pub const MIN_TERMINAL_SIZE: (usize, usize) = (20, 5);

/// A grid of braille cells, remembering which series drew last in each
/// (and whether faintly).
struct Canvas {
    width: usize,
    height: usize,
    dots: Vec<u8>,
    owner: Vec<Option<(usize, bool)>>,
}

impl Canvas {
    fn new(width: usize, height: usize) -> Canvas {
        Canvas {
            width,
            height,
            dots: vec![0; width * height],
            owner: vec![None; width * height],
        }
    }

    /// Sets the dot at (x, y), counted in dots from the top left.
    fn set(&mut self, x: i64, y: i64, owner: (usize, bool)) {
        if x < 0 || y < 0 || x >= 2 * self.width as i64 || y >= 4 * self.height as i64 {
            return;
        }
        let (x, y) = (x as usize, y as usize);
        const BITS: [[u8; 4]; 2] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]];
        let cell = (y / 4) * self.width + x / 2;
        self.dots[cell] |= BITS[x % 2][y % 4];
        self.owner[cell] = Some(owner);
    }

    /// Draws a straight line of dots (Bresenham's), the `k`-th dot along
    /// the series only where `dash` has one (`k` goes on from line to line).
    fn line(
        &mut self,
        (x0, y0): (i64, i64),
        (x1, y1): (i64, i64),
        owner: (usize, bool),
        dash: Dash,
        k: &mut usize,
    ) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            if x == x1 && y == y1 {
                break;
            }
            if dash.dot_on(*k) {
                self.set(x, y, owner);
            }
            *k += 1;
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
        // The end point is the next line's start: drawn once, here.
        if dash.dot_on(*k) {
            self.set(x, y, owner);
        }
    }
}

/// The y axis' labels of a terminal chart `height` rows high: the maximum
/// (top row), the value at the middle row, the minimum (bottom row), as
/// (row, text).
fn y_ticks(chart: &Chart, (y0, y1): (f64, f64), height: usize) -> Vec<(usize, String)> {
    let dots_y = 4 * height;
    let mid_row = height / 2;
    let mid = y1 - (4.0 * mid_row as f64 + 1.5) / (dots_y - 1) as f64 * (y1 - y0);
    let shown = |v: f64| format_number_to(untransform(v, chart.log_y), chart.digits);
    let mut ticks = vec![(0, shown(y1))];
    if mid_row != 0 && mid_row + 1 < height {
        ticks.push((mid_row, shown(mid)));
    }
    ticks.push((height - 1, shown(y0)));
    ticks
}

/// A value on a terminal axis: its logarithm on a log axis.
fn transform(v: f64, log: bool) -> f64 {
    if log {
        v.log10()
    } else {
        v
    }
}

fn untransform(v: f64, log: bool) -> f64 {
    if log {
        10f64.powf(v)
    } else {
        v
    }
}

/// The chart's ranges in a terminal's coordinates (logarithms on a log
/// axis).
fn terminal_ranges(chart: &Chart) -> ((f64, f64), (f64, f64)) {
    let ((x0, x1), (y0, y1)) = ranges(chart);
    let t = |(lo, hi): (f64, f64), log: bool| (transform(lo, log), transform(hi, log));
    (t((x0, x1), chart.log_x), t((y0, y1), chart.log_y))
}

/// The canvas (in braille cells) a terminal chart gets in a terminal
/// `columns` wide and `rows` high: all of it but the axes' labels, the
/// legend and a line for the prompt; at least [`MIN_TERMINAL_SIZE`].
///
/// ```
/// use hippocamp_cli::chart::{terminal, terminal_canvas, Chart, Series};
/// let chart = Chart::new(vec![Series { label: "A-1:loss".into(), points: vec![(0.0, 1.0), (9.0, 0.5)] }], "step", "loss");
/// let canvas = terminal_canvas(&chart, 100, 30);
/// let text = terminal(&chart, false, canvas);
/// assert!(text.lines().count() < 30);
/// assert!(text.lines().all(|l| l.chars().count() <= 100));
/// assert!(text.lines().any(|l| l.chars().count() >= 95));
/// ```
pub fn terminal_canvas(chart: &Chart, columns: usize, rows: usize) -> (usize, usize) {
    // The y label, the x axis, its numbers and name, the legend, a prompt.
    let around = 1 + 3 + chart.series.len() + 1;
    let height = rows.saturating_sub(around).max(MIN_TERMINAL_SIZE.1);
    let (_, y) = terminal_ranges(chart);
    let label_width = y_ticks(chart, y, height)
        .iter()
        .map(|(_, t)| t.chars().count())
        .max()
        .unwrap_or(0);
    let width = columns
        .saturating_sub(label_width + 2)
        .max(MIN_TERMINAL_SIZE.0);
    (width, height)
}

/// The cell nearest to `cell` that no mark takes: `cell` itself, else the
/// closest by rows, then columns, within the canvas.
fn free_cell(
    cell: (usize, usize),
    taken: &[(usize, usize)],
    (width, height): (usize, usize),
) -> (usize, usize) {
    let (row, col) = (cell.0 as i64, cell.1 as i64);
    for distance in 0..(width.max(height) as i64) {
        let mut ring: Vec<(i64, i64)> = Vec::new();
        for dr in -distance..=distance {
            for dc in -distance..=distance {
                if dr.abs().max(dc.abs()) == distance {
                    ring.push((dr, dc));
                }
            }
        }
        // Up or down first (a mark stays at its point's x), then sideways.
        ring.sort_by_key(|(dr, dc)| (dc.abs(), dr.abs(), *dr));
        for (dr, dc) in ring {
            let (r, c) = (row + dr, col + dc);
            if r < 0 || c < 0 || r >= height as i64 || c >= width as i64 {
                continue;
            }
            let candidate = (r as usize, c as usize);
            if !taken.contains(&candidate) {
                return candidate;
            }
        }
    }
    cell
}

/// The chart drawn with braille characters for a terminal, legend below.
///
/// The canvas is `size` braille cells (columns, rows) large, plus the
/// axes' labels: [`TERMINAL_SIZE`] where the terminal's size is unknown,
/// or what [`terminal_canvas`] gives for it. With `colour`, each cell
/// takes the ANSI colour of the last series drawn in it, and a smoothed
/// series' raw line is drawn dim (without colour, it is not drawn). Series
/// differ by colour and, from the 13th on, by dash. With more than one
/// series, each is also marked by its number (`1`, `2`, …, as in the
/// legend) at its last point, or in the nearest cell no other mark takes.
///
/// ```
/// use hippocamp_cli::chart::{terminal, Chart, Series, TERMINAL_SIZE};
/// let chart = Chart::new(vec![Series { label: "RUN-1:loss".into(), points: vec![(0.0, 1.0), (9.0, 0.1)] }], "step", "loss");
/// let text = terminal(&chart, false, TERMINAL_SIZE);
/// assert!(text.contains("RUN-1:loss"));
/// assert!(text.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c)));
/// ```
pub fn terminal(chart: &Chart, colour: bool, size: (usize, usize)) -> String {
    let (width, height) = (size.0.max(1), size.1.max(2));
    let ((x0, x1), (y0, y1)) = terminal_ranges(chart);
    let (dots_x, dots_y) = (2 * width, 4 * height);
    let to_dot = |(x, y): (f64, f64)| -> (i64, i64) {
        let (x, y) = (transform(x, chart.log_x), transform(y, chart.log_y));
        let dx = (x - x0) / (x1 - x0) * (dots_x - 1) as f64;
        let dy = (y1 - y) / (y1 - y0) * (dots_y - 1) as f64;
        // Far-off dots (from a range too wide for an f64) are kept just
        // outside the canvas, so lines to them stay short.
        let clamp = |d: f64, n: usize| d.round().clamp(-1.0, n as f64) as i64;
        (clamp(dx, dots_x), clamp(dy, dots_y))
    };

    let mut canvas = Canvas::new(width, height);
    let several = chart.series.len() > 1;
    let mut ends: Vec<Option<(i64, i64)>> = vec![None; chart.series.len()];
    for Line {
        series: i,
        faint: is_faint,
        points,
    } in chart.lines()
    {
        if is_faint && !colour {
            continue;
        }
        let (_, dash) = terminal_style(i);
        let dash = if is_faint { Dash::Solid } else { dash };
        let points = downsample(&points, dots_x);
        let mut previous = None;
        let mut k = 0;
        for p in &points {
            let dot = to_dot(*p);
            match previous {
                Some(from) => canvas.line(from, dot, (i, is_faint), dash, &mut k),
                None => canvas.set(dot.0, dot.1, (i, is_faint)),
            }
            previous = Some(dot);
        }
        if !is_faint {
            ends[i] = previous;
        }
    }
    // The marks, each in a cell of its own.
    let mut marks: Vec<((usize, usize), usize)> = Vec::new();
    if several {
        for (i, end) in ends.iter().enumerate() {
            let Some((x, y)) = end else { continue };
            let cell = (
                y.clamp(&0, &(dots_y as i64 - 1)).unsigned_abs() as usize / 4,
                x.clamp(&0, &(dots_x as i64 - 1)).unsigned_abs() as usize / 2,
            );
            let taken: Vec<(usize, usize)> = marks.iter().map(|(c, _)| *c).collect();
            marks.push((free_cell(cell, &taken, (width, height)), i));
        }
    }

    let paint = |text: &str, owner: Option<(usize, bool)>| -> String {
        match (colour, owner) {
            (true, Some((i, true))) => format!("\x1b[2;{}m{text}\x1b[0m", terminal_style(i).0),
            (true, Some((i, false))) => format!("\x1b[{}m{text}\x1b[0m", terminal_style(i).0),
            _ => text.to_owned(),
        }
    };

    let ticks = y_ticks(chart, (y0, y1), height);
    let label_width = ticks
        .iter()
        .map(|(_, t)| t.chars().count())
        .max()
        .unwrap_or(0);

    let mut out = String::new();
    out.push_str(&chart.y_label);
    out.push('\n');
    for row in 0..height {
        let tick = ticks.iter().find(|(r, _)| *r == row);
        match tick {
            Some((_, t)) => out.push_str(&format!("{t:>label_width$} ┤")),
            None => out.push_str(&format!("{:label_width$} │", "")),
        }
        for col in 0..width {
            if let Some((_, i)) = marks.iter().find(|(c, _)| *c == (row, col)) {
                out.push_str(&paint(&series_mark(*i).to_string(), Some((*i, false))));
                continue;
            }
            let cell = row * width + col;
            let bits = canvas.dots[cell];
            let ch = char::from_u32(0x2800 + bits as u32).unwrap_or(' ');
            if bits == 0 {
                out.push(' ');
            } else {
                out.push_str(&paint(&ch.to_string(), canvas.owner[cell]));
            }
        }
        // No trailing spaces: a narrower terminal would wrap them.
        let trimmed = out.trim_end_matches(' ').len();
        out.truncate(trimmed);
        out.push('\n');
    }
    out.push_str(&format!("{:label_width$} └{}\n", "", "─".repeat(width)));
    let shown_x = |v: f64| format_number_to(untransform(v, chart.log_x), chart.digits);
    let (left, right) = (shown_x(x0), shown_x(x1));
    let gap = width
        .saturating_sub(left.chars().count() + right.chars().count())
        .max(1);
    out.push_str(&format!("{:label_width$}  {left}{:gap$}{right}\n", "", ""));
    let centre = label_width + 2 + width / 2;
    let x_label_pad = centre.saturating_sub(chart.x_label.chars().count() / 2);
    out.push_str(&format!("{:x_label_pad$}{}\n", "", chart.x_label));

    for (i, s) in chart.series.iter().enumerate() {
        let (_, dash) = terminal_style(i);
        let marker = if several {
            format!("{} {}", series_mark(i), dash.sample())
        } else {
            dash.sample().to_owned()
        };
        out.push_str(&format!(
            "  {} {}",
            paint(&marker, Some((i, false))),
            s.label
        ));
        out.push_str(&chart.not_drawn_note(s));
        out.push('\n');
    }
    out
}

/// The mark of the i-th series in a terminal chart: 1–9, then a–z, then
/// A–Z, then *.
fn series_mark(i: usize) -> char {
    match i {
        0..=8 => char::from(b'1' + i as u8),
        9..=34 => char::from(b'a' + (i - 9) as u8),
        35..=60 => char::from(b'A' + (i - 35) as u8),
        _ => '*',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random sequence in [-1, 1).
    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
            .collect()
    }

    fn column_extremes(points: &[(f64, f64)], columns: usize) -> Vec<(f64, f64)> {
        let lo = points.first().unwrap().0;
        let hi = points.last().unwrap().0;
        let mut extremes = vec![(f64::INFINITY, f64::NEG_INFINITY); columns];
        for &(x, y) in points {
            let c = (((x - lo) * columns as f64 / (hi - lo)) as usize).min(columns - 1);
            extremes[c] = (extremes[c].0.min(y), extremes[c].1.max(y));
        }
        extremes
    }

    #[test]
    fn every_columns_minimum_and_maximum_survive() {
        let ys = noise(100_003, 7);
        let mut points: Vec<(f64, f64)> = ys
            .iter()
            .enumerate()
            .map(|(i, y)| (i as f64 * 0.5, *y))
            .collect();
        points[4_321].1 = 40.0;
        points[77_777].1 = -25.0;
        let columns = 300;
        let thin = downsample(&points, columns);
        assert!(thin.len() <= 2 * columns + 2, "{} points", thin.len());
        assert!(thin.len() >= columns, "{} points", thin.len());
        assert_eq!(thin.first(), points.first());
        assert_eq!(thin.last(), points.last());
        assert!(thin.contains(&points[4_321]) && thin.contains(&points[77_777]));
        // Per column, the kept points have the same extremes as all points.
        let lo = points[0].0;
        let hi = points[points.len() - 1].0;
        let all = column_extremes(&points, columns);
        let mut kept = vec![(f64::INFINITY, f64::NEG_INFINITY); columns];
        for &(x, y) in &thin {
            let c = (((x - lo) * columns as f64 / (hi - lo)) as usize).min(columns - 1);
            kept[c] = (kept[c].0.min(y), kept[c].1.max(y));
        }
        assert_eq!(kept, all);
        // The points stay in their order, and are points of the series.
        assert!(thin.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(thin.iter().all(|p| points.contains(p)));
    }

    #[test]
    fn global_extremes_survive_uneven_steps() {
        // Steps crowded at the start: most columns are empty.
        let points: Vec<(f64, f64)> = noise(50_000, 3)
            .into_iter()
            .enumerate()
            .map(|(i, y)| (((i as f64) / 1000.0).powi(4), y))
            .collect();
        let thin = downsample(&points, 64);
        assert!(thin.len() <= 130);
        let min = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let max = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        assert!(thin.iter().any(|p| p.1 == min) && thin.iter().any(|p| p.1 == max));
    }

    #[test]
    fn short_series_are_kept_whole() {
        let points: Vec<(f64, f64)> = (0..20).map(|i| (i as f64, (i * i) as f64)).collect();
        assert_eq!(downsample(&points, 10), points);
        assert_eq!(downsample(&points, 100), points);
        assert_eq!(downsample(&[], 10), vec![]);
        assert_eq!(downsample(&[(1.0, 2.0)], 0), vec![(1.0, 2.0)]);
    }

    #[test]
    fn non_finite_points_are_dropped() {
        let points = vec![
            (0.0, 1.0),
            (1.0, f64::NAN),
            (2.0, f64::INFINITY),
            (3.0, f64::NEG_INFINITY),
            (f64::NAN, 4.0),
            (5.0, 2.0),
        ];
        assert_eq!(downsample(&points, 10), vec![(0.0, 1.0), (5.0, 2.0)]);
        let many: Vec<(f64, f64)> = (0..10_000)
            .map(|i| (i as f64, if i % 3 == 0 { f64::NAN } else { i as f64 }))
            .collect();
        let thin = downsample(&many, 10);
        assert!(thin.iter().all(|p| p.1.is_finite()));
        assert_eq!(thin.first(), Some(&(1.0, 1.0)));
        assert_eq!(thin.last(), Some(&(9_998.0, 9_998.0)));
    }

    #[test]
    fn one_x_or_unsorted_x_keep_extremes() {
        let same_x: Vec<(f64, f64)> = noise(1_000, 1).into_iter().map(|y| (3.0, y)).collect();
        let thin = downsample(&same_x, 5);
        assert!(thin.len() <= 4);
        let min = same_x.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let max = same_x.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        assert!(thin.iter().any(|p| p.1 == min) && thin.iter().any(|p| p.1 == max));

        // x going back and forth (timestamps need not increase).
        let zigzag: Vec<(f64, f64)> = noise(5_000, 2)
            .into_iter()
            .enumerate()
            .map(|(i, y)| ((i % 100) as f64, y))
            .collect();
        let thin = downsample(&zigzag, 10);
        let min = zigzag.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let max = zigzag.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        assert!(thin.iter().any(|p| p.1 == min) && thin.iter().any(|p| p.1 == max));
    }

    #[test]
    fn huge_ranges_do_not_break_drawing() {
        let chart = Chart {
            series: vec![Series {
                label: "R:x".into(),
                points: vec![
                    (-1e308, -1e308),
                    (0.0, 0.0),
                    (1e308, 1e308),
                    (f64::INFINITY, f64::NAN),
                ],
            }],
            x_label: "step".into(),
            y_label: "x".into(),
            ..Chart::new(Vec::new(), "", "")
        };
        let thin = downsample(&chart.series[0].points, 1);
        assert_eq!(thin, [(-1e308, -1e308), (1e308, 1e308)]);
        assert!(svg(&chart).is_ok());
        assert!(png(&chart).is_ok());
        assert!(terminal(&chart, true, TERMINAL_SIZE).contains("R:x"));
        let tiny = Chart {
            series: vec![Series {
                label: "R:y".into(),
                points: vec![(0.0, 1e-310), (1.0, 2e-310)],
            }],
            ..chart
        };
        assert!(svg(&tiny).is_ok());
        // At f64::MAX widening and padding overflow: the ranges must stay
        // finite, or plotters never returns.
        for points in [
            vec![(1.0, f64::MAX), (2.0, f64::MAX)],
            vec![(f64::MIN, 1.0), (f64::MAX, f64::MIN)],
        ] {
            let extreme = Chart {
                series: vec![Series {
                    label: "R:z".into(),
                    points,
                }],
                ..tiny.clone()
            };
            let ((x0, x1), (y0, y1)) = ranges(&extreme);
            assert!([x0, x1, y0, y1].iter().all(|v| v.is_finite()));
            assert!(x0 < x1 && y0 < y1);
            assert!(svg(&extreme).is_ok());
            assert!(png(&extreme).is_ok());
        }
        let (lo, hi) = widen((f64::MAX, f64::MAX));
        assert!(lo < f64::MAX && hi == f64::MAX);
        assert_eq!(widen((f64::INFINITY, f64::NEG_INFINITY)), (0.0, 1.0));
    }

    #[test]
    fn a_long_legend_ends_with_a_count() {
        let series = (0..40)
            .map(|i| Series {
                label: format!("R-{i}:x"),
                points: vec![(0.0, i as f64), (1.0, 0.0)],
            })
            .collect();
        let chart = Chart::new(series, "step", "x");
        let svg = svg(&chart).unwrap();
        assert!(svg.contains("R-0:x\n</text>"));
        assert!(svg.contains("and 17 more"), "{svg}");
        assert!(!svg.contains("R-39:x"));
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(1.0), "1");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(0.123456), "0.1235");
        assert_eq!(format_number(99999.0), "99999");
        assert_eq!(format_number(123456.0), "1.23e5");
        assert_eq!(format_number(0.0001), "1e-4");
    }

    #[test]
    fn long_labels_are_cut() {
        assert_eq!(fit("abcdef", 10, |t| t.chars().count() as u32), "abcdef");
        assert_eq!(fit("abcdef", 4, |t| t.chars().count() as u32), "abc…");
        assert_eq!(fit("abcdef", 0, |t| t.chars().count() as u32), "…");
    }

    #[test]
    fn the_terminal_chart_marks_several_series() {
        let chart = Chart {
            series: vec![
                Series {
                    label: "A-1:loss".into(),
                    points: vec![(0.0, 0.0), (10.0, 1.0)],
                },
                Series {
                    label: "A-2:loss".into(),
                    points: vec![(0.0, 1.0), (10.0, f64::NAN)],
                },
            ],
            x_label: "step".into(),
            y_label: "loss".into(),
            ..Chart::new(Vec::new(), "", "")
        };
        let text = terminal(&chart, false, TERMINAL_SIZE);
        assert!(text.contains("1 ⠒⠒ A-1:loss\n"), "{text}");
        assert!(
            text.contains("2 ⠒⠒ A-2:loss  (1 NaN/Inf point not drawn)\n"),
            "{text}"
        );
        assert!(!text.contains('\x1b'));
        let coloured = terminal(&chart, true, TERMINAL_SIZE);
        assert!(coloured.contains("\x1b[34m") && coloured.contains("\x1b[33m"));
    }

    fn series(label: &str, points: Vec<(f64, f64)>) -> Series {
        Series {
            label: label.into(),
            points,
        }
    }

    /// The cells of a terminal chart's canvas rows (between the y label
    /// line and the x axis), after the axis.
    fn canvas_rows(text: &str) -> Vec<String> {
        text.lines()
            .skip(1)
            .take_while(|l| !l.contains('└'))
            .map(|l| l.split_once(['┤', '│']).unwrap().1.to_owned())
            .collect()
    }

    #[test]
    fn end_marks_never_hide_each_other() {
        // Five series ending at the same point, two more at another.
        let mut all: Vec<Series> = (0..5)
            .map(|i| series(&format!("R-{i}:x"), vec![(0.0, i as f64), (10.0, 5.0)]))
            .collect();
        all.push(series("S-1:x", vec![(0.0, 0.0), (5.0, 0.0)]));
        all.push(series("S-2:x", vec![(1.0, 0.0), (5.0, 0.0)]));
        let chart = Chart::new(all, "step", "x");
        let text = terminal(&chart, false, TERMINAL_SIZE);
        let rows = canvas_rows(&text);
        for mark in ['1', '2', '3', '4', '5', '6', '7'] {
            let count: usize = rows.iter().map(|r| r.matches(mark).count()).sum();
            assert_eq!(count, 1, "mark {mark} in\n{text}");
        }
        // The marks of the five stay at the right edge, stacked.
        for mark in ['1', '2', '3', '4', '5'] {
            let row = rows.iter().find(|r| r.contains(mark)).unwrap();
            assert!(
                row.chars().count() >= TERMINAL_SIZE.0 - 1,
                "{mark}: {row:?}"
            );
        }
    }

    #[test]
    fn no_two_series_look_alike() {
        let mut styles: Vec<((u8, u8, u8), Dash)> = (0..MAX_SERIES).map(line_style).collect();
        styles.sort_by_key(|(c, d)| (*c, *d as u8));
        styles.dedup();
        assert_eq!(styles.len(), MAX_SERIES);
        let mut terminal: Vec<(u8, Dash)> = (0..MAX_SERIES).map(terminal_style).collect();
        terminal.sort_by_key(|(c, d)| (*c, *d as u8));
        terminal.dedup();
        assert_eq!(terminal.len(), MAX_SERIES);
        // Every series up to the limit has its own mark.
        let marks: std::collections::BTreeSet<char> = (0..MAX_SERIES).map(series_mark).collect();
        assert_eq!(marks.len(), MAX_SERIES);
        // A dashed line has gaps, a solid one none.
        assert!((0..50).all(|k| Dash::Solid.dot_on(k)));
        for dash in [Dash::Dashed, Dash::Dotted, Dash::LongDashed] {
            assert!((0..50).any(|k| !dash.dot_on(k)) && (0..50).any(|k| dash.dot_on(k)));
        }
    }

    #[test]
    fn the_13th_terminal_series_is_dashed() {
        let all: Vec<Series> = (0..13)
            .map(|i| series(&format!("R-{i}:x"), vec![(0.0, 0.0), (10.0, i as f64)]))
            .collect();
        let text = terminal(&Chart::new(all, "step", "x"), true, TERMINAL_SIZE);
        // The first and the 13th share a colour; the legend tells them apart.
        assert!(text.contains("\x1b[34m1 ⠒⠒\x1b[0m R-0:x"), "{text}");
        assert!(text.contains("\x1b[34md ⠒⠀⠒\x1b[0m R-12:x"), "{text}");
    }

    #[test]
    fn smoothing_draws_the_average_over_the_faint_raw_line() {
        let raw: Vec<(f64, f64)> = (0..40)
            .map(|i| (i as f64, if i % 2 == 0 { 1.0 } else { 0.0 }))
            .collect();
        let chart = Chart {
            smoothing: Some(0.9),
            ..Chart::new(vec![series("R:x", raw.clone())], "step", "x")
        };
        let lines = chart.lines();
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0].series, lines[0].faint), (0, true));
        assert_eq!(lines[0].points, raw);
        assert_eq!((lines[1].series, lines[1].faint), (0, false));
        assert_eq!(lines[1].points, ema(&raw, 0.9));
        // The average settles near the middle of the zigzag.
        let last = lines[1].points.last().unwrap().1;
        assert!((0.4..0.6).contains(&last), "{last}");
        // In colour the raw line is dim; without colour it is left out.
        let coloured = terminal(&chart, true, TERMINAL_SIZE);
        assert!(coloured.contains("\x1b[2;34m"), "{coloured}");
        let plain = terminal(&chart, false, TERMINAL_SIZE);
        let drawn: usize = canvas_rows(&plain)
            .iter()
            .map(|r| r.chars().filter(|c| *c != ' ').count())
            .sum();
        let raw_only = terminal(
            &Chart::new(chart.series.clone(), "step", "x"),
            false,
            TERMINAL_SIZE,
        );
        let drawn_raw: usize = canvas_rows(&raw_only)
            .iter()
            .map(|r| r.chars().filter(|c| *c != ' ').count())
            .sum();
        assert!(
            drawn < drawn_raw / 2,
            "smoothed {drawn} cells, raw {drawn_raw}"
        );
        assert!(svg(&chart).is_ok() && png(&chart).is_ok());
    }

    #[test]
    fn a_log_axis_leaves_out_what_it_cannot_show() {
        let chart = Chart {
            log_y: true,
            ..Chart::new(
                vec![series(
                    "R:x",
                    vec![(0.0, 1000.0), (1.0, 0.0), (2.0, -1.0), (3.0, 0.001)],
                )],
                "step",
                "x",
            )
        };
        assert_eq!(chart.not_drawn(&chart.series[0]), 2);
        let text = terminal(&chart, false, TERMINAL_SIZE);
        assert!(
            text.contains("(2 NaN/Inf or non-positive points not drawn)"),
            "{text}"
        );
        // The axis runs from 0.001 to 1000, its middle near 1.
        let rows: Vec<&str> = text.lines().collect();
        assert!(rows[1].trim_start().starts_with("1000 ┤"), "{text}");
        assert!(rows[16].trim_start().starts_with("0.001 ┤"), "{text}");
        let middle: f64 = rows[9].split('┤').next().unwrap().trim().parse().unwrap();
        assert!((0.5..2.0).contains(&middle), "{text}");
        let svg = svg(&chart).unwrap();
        for decade in ["0.001", "0.01", "0.1", "1", "10", "100", "1000"] {
            assert!(
                svg.contains(&format!(">\n{decade}\n</text>")),
                "no tick {decade}"
            );
        }
        assert!(png(&Chart {
            log_x: true,
            ..chart
        })
        .is_ok());
    }

    #[test]
    fn the_canvas_fills_the_terminal() {
        let chart = Chart::new(
            vec![
                series(
                    "A-1:loss",
                    (0..500).map(|i| (i as f64, (i as f64).sin())).collect(),
                ),
                series("A-2:loss", vec![(0.0, 0.0), (499.0, 0.5)]),
            ],
            "step",
            "loss",
        );
        for (columns, rows) in [(80, 24), (200, 60), (30, 12)] {
            let canvas = terminal_canvas(&chart, columns, rows);
            let text = terminal(&chart, false, canvas);
            let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
            assert!(
                widest <= columns.max(MIN_TERMINAL_SIZE.0 + 8),
                "{columns}: {widest}\n{text}"
            );
            assert!(widest + 2 >= columns, "{columns}: {widest}\n{text}");
            assert_eq!(text.lines().count(), rows - 1, "{rows}\n{text}");
        }
        // A tiny terminal still gets a chart.
        assert_eq!(terminal_canvas(&chart, 5, 3), MIN_TERMINAL_SIZE);
    }
}
