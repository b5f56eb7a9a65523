//! Line charts of series: an SVG or PNG image, or braille drawn in the
//! terminal. `hippocamp plot` builds a [`Chart`] from a store's series and
//! hands it to [`svg`], [`png()`] or [`terminal`].
//!
//! Points whose x or y is NaN or ±Inf are skipped: the line joins the
//! points on either side of them. Long series are thinned by [`downsample`]
//! to about two points per pixel column (or braille dot column), keeping
//! each column's minimum and maximum, so no spike or dip disappears.
//!
//! Text in PNG images is drawn with DejaVu Sans, embedded in the binary
//! (`cli/assets/`), so charts look the same on every machine.

use std::sync::Once;

use plotters::coord::Shift;
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

/// A line chart: its series and the names of its axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The lines, in legend order; each gets the next colour of [`PALETTE`].
    pub series: Vec<Series>,
    /// The x axis' name, e.g. `step` or `time (s)`.
    pub x_label: String,
    /// The y axis' name, e.g. `train/loss`.
    pub y_label: String,
}

/// The size of SVG and PNG charts, in pixels.
pub const IMAGE_SIZE: (u32, u32) = (960, 600);

/// The colours of the series in SVG and PNG charts (as RGB), in order;
/// the 11th series takes the first colour again. None is dark, so they
/// never look like the (black) text.
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

/// The ANSI colour codes of series in a coloured terminal chart, in order.
const ANSI: [u8; 6] = [34, 33, 32, 31, 35, 36];

/// The font family name under which the embedded font is registered.
const FONT: &str = "sans-serif";

/// DejaVu Sans (see `cli/assets/DejaVuSans-LICENSE`).
static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn finite((x, y): (f64, f64)) -> bool {
    x.is_finite() && y.is_finite()
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
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    if a == 0.0 {
        return "0".to_owned();
    }
    let text = if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.2e}");
        match s.split_once('e') {
            Some((mantissa, exp)) => format!("{}e{exp}", trim_zeros(mantissa)),
            None => s,
        }
    } else {
        let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
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

/// The finite points' x and y ranges, each widened when empty.
fn ranges(chart: &Chart) -> ((f64, f64), (f64, f64)) {
    let mut x = (f64::INFINITY, f64::NEG_INFINITY);
    let mut y = x;
    for p in chart.series.iter().flat_map(|s| &s.points) {
        if finite(*p) {
            x = (x.0.min(p.0), x.1.max(p.0));
            y = (y.0.min(p.1), y.1.max(p.1));
        }
    }
    (widen(x), widen(y))
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

fn register_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The bytes are a valid font; if ever not, drawing text reports
        // the missing font as an error.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

fn colour(i: usize) -> RGBColor {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBColor(r, g, b)
}

fn draw_error(err: impl std::fmt::Display) -> CliError {
    CliError::new(format!("cannot draw the chart: {err}"))
}

/// Draws the chart on a backend's area: axes on the left, legend on the
/// right.
fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> Result<(), CliError> {
    register_font();
    let label_font = (FONT, 14).into_font();
    let desc_font = (FONT, 17).into_font();
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

    let ((x0, x1), (y0, y1)) = ranges(chart);
    let pad = (y1 - y0) / 20.0;
    let (y0, y1) = widen((y0 - pad, y1 + pad));
    let mut cartesian = ChartBuilder::on(&plot_area)
        .margin(15)
        .x_label_area_size(55)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(draw_error)?;
    let fmt = |v: &f64| format_number(*v);
    cartesian
        .configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .label_style(label_font.clone())
        .axis_desc_style(desc_font)
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(draw_error)?;

    let columns = cartesian.plotting_area().dim_in_pixel().0 as usize;
    for (i, s) in chart.series.iter().enumerate() {
        let points = downsample(&s.points, columns);
        let style = colour(i).stroke_width(2);
        if let [only] = points[..] {
            cartesian
                .draw_series(std::iter::once(Circle::new(only, 3, style.filled())))
                .map_err(draw_error)?;
        } else {
            cartesian
                .draw_series(LineSeries::new(points, style))
                .map_err(draw_error)?;
        }
    }

    // The legend: a stroke of each series' colour and its label, as many
    // as fit in the image's height.
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
        legend_area
            .draw(&PathElement::new(
                vec![(8, y), (36, y)],
                colour(i).stroke_width(3),
            ))
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

/// The size of terminal charts: columns of braille cells (each 2 dots
/// wide) and rows (each 4 dots high), axis labels not included.
pub const TERMINAL_SIZE: (usize, usize) = (64, 16);

/// A grid of braille cells, remembering which series drew last in each.
struct Canvas {
    width: usize,
    height: usize,
    dots: Vec<u8>,
    owner: Vec<Option<usize>>,
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
    fn set(&mut self, x: i64, y: i64, series: usize) {
        if x < 0 || y < 0 || x >= 2 * self.width as i64 || y >= 4 * self.height as i64 {
            return;
        }
        let (x, y) = (x as usize, y as usize);
        const BITS: [[u8; 4]; 2] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]];
        let cell = (y / 4) * self.width + x / 2;
        self.dots[cell] |= BITS[x % 2][y % 4];
        self.owner[cell] = Some(series);
    }

    /// Draws a straight line of dots (Bresenham's).
    fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), series: usize) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            self.set(x, y, series);
            if x == x1 && y == y1 {
                break;
            }
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
    }
}

/// The chart drawn with braille characters for a terminal, legend below.
///
/// [`TERMINAL_SIZE`] cells large plus the axes' labels. With `colour`,
/// each cell takes the ANSI colour of the last series drawn in it. With
/// more than one series, each is also marked by its number (`1`, `2`, …,
/// as in the legend) at its last point.
///
/// ```
/// use hippocamp_cli::chart::{terminal, Chart, Series};
/// let chart = Chart {
///     series: vec![Series { label: "RUN-1:loss".into(), points: vec![(0.0, 1.0), (9.0, 0.1)] }],
///     x_label: "step".into(),
///     y_label: "loss".into(),
/// };
/// let text = terminal(&chart, false);
/// assert!(text.contains("RUN-1:loss"));
/// assert!(text.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c)));
/// ```
pub fn terminal(chart: &Chart, colour: bool) -> String {
    let (width, height) = TERMINAL_SIZE;
    let ((x0, x1), (y0, y1)) = ranges(chart);
    let (dots_x, dots_y) = (2 * width, 4 * height);
    let to_dot = |(x, y): (f64, f64)| -> (i64, i64) {
        let dx = (x - x0) / (x1 - x0) * (dots_x - 1) as f64;
        let dy = (y1 - y) / (y1 - y0) * (dots_y - 1) as f64;
        // Far-off dots (from a range too wide for an f64) are kept just
        // outside the canvas, so lines to them stay short.
        let clamp = |d: f64, n: usize| d.round().clamp(-1.0, n as f64) as i64;
        (clamp(dx, dots_x), clamp(dy, dots_y))
    };

    let mut canvas = Canvas::new(width, height);
    let several = chart.series.len() > 1;
    let mut marks: Vec<(usize, char)> = Vec::new();
    for (i, s) in chart.series.iter().enumerate() {
        let points = downsample(&s.points, dots_x);
        let mut previous = None;
        for p in &points {
            let dot = to_dot(*p);
            match previous {
                Some(from) => canvas.line(from, dot, i),
                None => canvas.set(dot.0, dot.1, i),
            }
            previous = Some(dot);
        }
        if let (true, Some((x, y))) = (several, previous) {
            let cell = (y.clamp(0, dots_y as i64 - 1) as usize / 4) * width
                + x.clamp(0, dots_x as i64 - 1) as usize / 2;
            marks.push((cell, series_mark(i)));
        }
    }

    let paint = |text: &str, series: Option<usize>| -> String {
        match (colour, series) {
            (true, Some(i)) => format!("\x1b[{}m{text}\x1b[0m", ANSI[i % ANSI.len()]),
            _ => text.to_owned(),
        }
    };

    // The y axis: the top row shows the maximum, the bottom one the
    // minimum, the middle one the value at its centre.
    let mid_row = height / 2;
    let mid_value = y1 - (4.0 * mid_row as f64 + 1.5) / (dots_y - 1) as f64 * (y1 - y0);
    let ticks = [
        (0, format_number(y1)),
        (mid_row, format_number(mid_value)),
        (height - 1, format_number(y0)),
    ];
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
            let cell = row * width + col;
            if let Some((_, mark)) = marks.iter().rev().find(|(c, _)| *c == cell) {
                out.push_str(&paint(&mark.to_string(), canvas.owner[cell]));
                continue;
            }
            let bits = canvas.dots[cell];
            let ch = char::from_u32(0x2800 + bits as u32).unwrap_or(' ');
            if bits == 0 {
                out.push(' ');
            } else {
                out.push_str(&paint(&ch.to_string(), canvas.owner[cell]));
            }
        }
        out.push('\n');
    }
    out.push_str(&format!("{:label_width$} └{}\n", "", "─".repeat(width)));
    let (left, right) = (format_number(x0), format_number(x1));
    let gap = width
        .saturating_sub(left.chars().count() + right.chars().count())
        .max(1);
    out.push_str(&format!("{:label_width$}  {left}{:gap$}{right}\n", "", ""));
    let centre = label_width + 2 + width / 2;
    let x_label_pad = centre.saturating_sub(chart.x_label.chars().count() / 2);
    out.push_str(&format!("{:x_label_pad$}{}\n", "", chart.x_label));

    for (i, s) in chart.series.iter().enumerate() {
        let marker = if several {
            format!("{} ⠒⠒", series_mark(i))
        } else {
            "⠒⠒".to_owned()
        };
        out.push_str(&format!("  {} {}", paint(&marker, Some(i)), s.label));
        match s.skipped() {
            0 => {}
            1 => out.push_str("  (1 NaN/Inf point not drawn)"),
            n => out.push_str(&format!("  ({n} NaN/Inf points not drawn)")),
        }
        out.push('\n');
    }
    out
}

/// The mark of the i-th series in a terminal chart: 1–9, then a–z, then *.
fn series_mark(i: usize) -> char {
    match i {
        0..=8 => char::from(b'1' + i as u8),
        9..=34 => char::from(b'a' + (i - 9) as u8),
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
        };
        let thin = downsample(&chart.series[0].points, 1);
        assert_eq!(thin, [(-1e308, -1e308), (1e308, 1e308)]);
        assert!(svg(&chart).is_ok());
        assert!(png(&chart).is_ok());
        assert!(terminal(&chart, true).contains("R:x"));
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
        let chart = Chart {
            series,
            x_label: "step".into(),
            y_label: "x".into(),
        };
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
        };
        let text = terminal(&chart, false);
        assert!(text.contains("1 ⠒⠒ A-1:loss\n"), "{text}");
        assert!(
            text.contains("2 ⠒⠒ A-2:loss  (1 NaN/Inf point not drawn)\n"),
            "{text}"
        );
        assert!(!text.contains('\x1b'));
        let coloured = terminal(&chart, true);
        assert!(coloured.contains("\x1b[34m") && coloured.contains("\x1b[33m"));
    }
}
