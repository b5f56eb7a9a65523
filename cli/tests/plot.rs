//! `hippocamp plot` end to end: the binary on stores written by the
//! library, its SVG, PNG and terminal charts checked for their content.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use hippocamp_cli::chart::{downsample, IMAGE_SIZE, PALETTE};
use hippocamp_core::{Appendable, LogOptions, Run};

/// A run of project `p` in `dir`, filled by `fill`, closed; its id.
fn run_with(dir: &Path, fill: impl FnOnce(&Run)) -> String {
    let run = Run::builder().dir(dir).project("p").start().unwrap();
    fill(&run);
    let id = run.id().to_owned();
    run.close().unwrap();
    id
}

fn hippocamp(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hippocamp"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Exit code 2, one line on stderr containing `wanted`, nothing on stdout.
fn fails_with(out: &Output, wanted: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.starts_with("hippocamp: "), "stderr: {stderr}");
    assert!(stderr.contains(wanted), "{stderr:?} lacks {wanted:?}");
    assert!(out.stdout.is_empty());
}

/// The SVG elements named `tag`, as (attributes, text) pairs.
fn elements<'a>(svg: &'a str, tag: &str) -> Vec<(Vec<(&'a str, &'a str)>, &'a str)> {
    let open = format!("<{tag} ");
    let mut found = Vec::new();
    for piece in svg.split(open.as_str()).skip(1) {
        let end = piece.find('>').unwrap();
        let (head, rest) = piece.split_at(end);
        let mut attrs = Vec::new();
        for attr in head.trim_end_matches('/').split("\" ") {
            if let Some((name, value)) = attr.trim().split_once("=\"") {
                attrs.push((name, value.trim_end_matches('"')));
            }
        }
        let text = match rest[1..].find(&format!("</{tag}>")) {
            Some(close) if !head.ends_with('/') => rest[1..1 + close].trim(),
            _ => "",
        };
        found.push((attrs, text));
    }
    found
}

fn attr<'a>(attrs: &[(&'a str, &'a str)], name: &str) -> &'a str {
    attrs
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .unwrap_or("")
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02X}{g:02X}{b:02X}")
}

/// The points of the series drawn in colour `i` of the palette.
fn series_points(svg: &str, i: usize) -> Vec<Vec<(i32, i32)>> {
    elements(svg, "polyline")
        .into_iter()
        .filter(|(a, _)| attr(a, "stroke") == hex(PALETTE[i]) && attr(a, "stroke-width") == "2")
        .map(|(a, _)| {
            attr(&a, "points")
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

fn texts(svg: &str) -> Vec<String> {
    elements(svg, "text")
        .into_iter()
        .map(|(_, t)| t.to_owned())
        .collect()
}

#[test]
fn svg_holds_each_series_the_axes_and_the_legend() {
    let dir = tempfile::tempdir().unwrap();
    let id = run_with(dir.path(), |run| {
        run.at("params/lr").assign(0.01).unwrap();
        let loss: Vec<f64> = (0..50).map(|i| 1.0 / (1.0 + i as f64)).collect();
        run.at("train/loss").extend(loss).unwrap();
        run.at("train/acc")
            .extend((0..30).map(|i| i as f64 / 30.0))
            .unwrap();
        run.at("train/acc").append(f64::NAN).unwrap();
        run.at("train/acc").append(f64::INFINITY).unwrap();
    });
    let file = dir.path().join("chart.svg");
    let out = hippocamp(dir.path(), &["plot", &id, "-o", file.to_str().unwrap()]);
    assert_eq!(
        stdout(&out),
        format!(
            "wrote {} (2 series, 2 NaN/Inf points not drawn)\n",
            file.display()
        )
    );
    let svg = std::fs::read_to_string(&file).unwrap();
    assert!(svg.starts_with("<svg"));

    // Every FloatSeries of the run, sorted by path: train/acc, train/loss.
    let acc = series_points(&svg, 0);
    let loss = series_points(&svg, 1);
    assert_eq!(acc.len(), 1);
    assert_eq!(acc[0].len(), 30, "NaN and Inf points are not drawn");
    assert_eq!(loss.len(), 1);
    assert_eq!(loss[0].len(), 50);
    // Loss falls: its line goes down the image (y grows).
    assert!(loss[0].first().unwrap().1 < loss[0].last().unwrap().1);
    assert!(loss[0].windows(2).all(|w| w[0].0 < w[1].0));

    let texts = texts(&svg);
    for wanted in [
        "step",
        "value",
        &format!("{id}:train/acc"),
        &format!("{id}:train/loss"),
    ] {
        assert!(
            texts.iter().any(|t| t == wanted),
            "no text {wanted:?} in {texts:?}"
        );
    }
    // The legend strokes in the series' colours.
    let strokes: Vec<String> = elements(&svg, "polyline")
        .into_iter()
        .filter(|(a, _)| attr(a, "stroke-width") == "3")
        .map(|(a, _)| attr(&a, "stroke").to_owned())
        .collect();
    assert_eq!(strokes, [hex(PALETTE[0]), hex(PALETTE[1])]);
}

#[test]
fn svg_with_time_on_the_x_axis() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let id = run_with(dir.path(), |run| {
        let loss = run.at("eval/loss");
        for i in 0..11 {
            let at = LogOptions::new().timestamp(t0 + Duration::from_secs(60 * i));
            (1.0 / (i as f64 + 1.0)).append_at(&loss, "", &at).unwrap();
        }
    });
    let file = dir.path().join("time.svg");
    let spec = format!("{id}:eval/loss");
    let out = hippocamp(
        dir.path(),
        &["plot", &spec, "--x", "time", "-o", file.to_str().unwrap()],
    );
    stdout(&out);
    let svg = std::fs::read_to_string(&file).unwrap();
    assert_eq!(series_points(&svg, 0)[0].len(), 11);
    let texts = texts(&svg);
    // One path: the y axis is named after it.
    for wanted in ["time (s)", "eval/loss", spec.as_str()] {
        assert!(
            texts.iter().any(|t| t == wanted),
            "no text {wanted:?} in {texts:?}"
        );
    }
    assert!(!texts.iter().any(|t| t == "step"));
    // x ticks (centred under the axis) count seconds: 0 to 600, not steps 0 to 10.
    let x_ticks: Vec<f64> = elements(&svg, "text")
        .into_iter()
        .filter(|(a, _)| attr(a, "text-anchor") == "middle")
        .filter_map(|(_, t)| t.parse().ok())
        .collect();
    assert!(x_ticks.len() >= 3, "{x_ticks:?}");
    assert!(
        x_ticks.iter().all(|t| (0.0..=600.0).contains(t)),
        "{x_ticks:?}"
    );
    assert!(x_ticks.iter().any(|t| *t >= 300.0), "{x_ticks:?}");
}

#[test]
fn png_shows_several_runs_with_labelled_axes() {
    let dir = tempfile::tempdir().unwrap();
    let a = run_with(dir.path(), |run| {
        run.at("train/loss")
            .extend((0..200).map(|i| (i as f64 / 20.0).sin()))
            .unwrap();
    });
    let b = run_with(dir.path(), |run| {
        run.at("train/loss")
            .extend((0..200).map(|i| (i as f64 / 15.0).cos()))
            .unwrap();
    });
    let file = dir.path().join("chart.png");
    let (spec_a, spec_b) = (format!("{a}:train/loss"), format!("{b}:train/loss"));
    let out = hippocamp(
        dir.path(),
        &["plot", &spec_a, &spec_b, "-o", file.to_str().unwrap()],
    );
    assert!(stdout(&out).contains("(2 series)"));

    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&file).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), IMAGE_SIZE);
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let (w, h) = (info.width as usize, info.height as usize);
    let pixel = |x: usize, y: usize| {
        let i = (y * w + x) * 3;
        (pixels[i], pixels[i + 1], pixels[i + 2])
    };
    let count = |xs: std::ops::Range<usize>,
                 ys: std::ops::Range<usize>,
                 f: &dyn Fn((u8, u8, u8)) -> bool| {
        let mut n = 0;
        for y in ys {
            for x in xs.clone() {
                n += f(pixel(x, y)) as usize;
            }
        }
        n
    };
    let dark = |(r, g, b): (u8, u8, u8)| r < 90 && g < 90 && b < 90;

    // Each series' colour, in the plot area (left of the legend), in
    // quantity: lines, not a legend stroke.
    for colour in [PALETTE[0], PALETTE[1]] {
        let in_plot = count(100..w / 2, 0..h - 60, &|p| p == colour);
        assert!(in_plot > 300, "{colour:?}: {in_plot} pixels");
    }
    assert_eq!(
        count(0..w, 0..h, &|p| p == PALETTE[2]),
        0,
        "only two series"
    );
    // The legend, at the right: both colours and (dark) text.
    let legend = w - 150..w;
    assert!(count(legend.clone(), 0..80, &|p| p == PALETTE[0]) > 0);
    assert!(count(legend.clone(), 0..80, &|p| p == PALETTE[1]) > 0);
    assert!(count(legend, 0..80, &dark) > 50);
    // The axis names: "step" centred under the tick labels, "train/loss"
    // turned along the left edge; the plot's middle has no dark pixels.
    assert!(count(200..500, h - 30..h, &dark) > 30, "no x axis name");
    assert!(count(0..40, 150..450, &dark) > 50, "no y axis name");
    assert_eq!(count(300..400, 250..300, &dark), 0);
}

#[test]
fn the_terminal_chart_draws_lines_and_a_legend() {
    let dir = tempfile::tempdir().unwrap();
    let a = run_with(dir.path(), |run| {
        run.at("train/loss")
            .extend((0..100).map(|i| 2.0 - i as f64 / 50.0))
            .unwrap();
        run.at("train/loss").append(f64::NAN).unwrap();
    });
    let b = run_with(dir.path(), |run| {
        run.at("train/loss")
            .extend((0..100).map(|i| i as f64 / 100.0))
            .unwrap();
    });
    let spec_a = format!("{a}:train/loss");
    let one = stdout(&hippocamp(dir.path(), &["plot", &spec_a]));
    assert!(one.starts_with("train/loss\n"), "{one}");
    assert!(
        one.contains(&format!(
            "  ⠒⠒ {a}:train/loss  (1 NaN/Inf point not drawn)\n"
        )),
        "{one}"
    );
    assert!(
        one.contains("step") && one.contains('└') && one.contains('┤'),
        "{one}"
    );
    let braille = one
        .chars()
        .filter(|c| ('\u{2801}'..='\u{28ff}').contains(c))
        .count();
    assert!(braille > 60, "{one}");
    // The y axis runs from the maximum (top) to the minimum (bottom).
    let rows: Vec<&str> = one.lines().collect();
    assert!(rows[1].trim_start().starts_with("2 ┤"), "{one}");
    assert!(rows[16].trim_start().starts_with("0.02 ┤"), "{one}");
    assert!(!one.contains('\x1b'));

    let spec_b = format!("{b}:train/loss");
    let both = stdout(&hippocamp(dir.path(), &["plot", &spec_a, &spec_b]));
    assert!(both.contains(&format!("  1 ⠒⠒ {a}:train/loss")), "{both}");
    assert!(both.contains(&format!("  2 ⠒⠒ {b}:train/loss\n")), "{both}");
}

#[test]
fn a_million_points_keep_their_minimum_and_maximum() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1_000_000;
    let value = |i: usize| match i {
        123_457 => 1.0,
        876_543 => -1.0,
        _ => 0.0,
    };
    let id = run_with(dir.path(), |run| {
        run.at("train/loss").extend((0..n).map(value)).unwrap();
    });
    let file = dir.path().join("million.svg");
    stdout(&hippocamp(
        dir.path(),
        &["plot", &id, "-o", file.to_str().unwrap()],
    ));
    let svg = std::fs::read_to_string(&file).unwrap();
    let lines = series_points(&svg, 0);
    assert_eq!(lines.len(), 1);
    let points = &lines[0];
    // At most two points a pixel column, and the spike and the dip drawn.
    assert!(
        points.len() <= 2 * IMAGE_SIZE.0 as usize + 2,
        "{}",
        points.len()
    );
    assert!(points.len() > 100, "{}", points.len());
    // Exactly the points `downsample` keeps for the plot's width in pixels.
    let columns = (points[points.len() - 1].0 - points[0].0 + 1) as usize;
    let data: Vec<(f64, f64)> = (0..n).map(|i| (i as f64, value(i))).collect();
    assert_eq!(
        points.len(),
        downsample(&data, columns).len(),
        "{columns} columns"
    );
    let zero = points[0].1;
    assert_eq!(points.iter().filter(|p| p.1 < zero).count(), 1, "the spike");
    assert_eq!(points.iter().filter(|p| p.1 > zero).count(), 1, "the dip");
    let spike = points.iter().position(|p| p.1 < zero).unwrap();
    let dip = points.iter().position(|p| p.1 > zero).unwrap();
    assert!(spike < dip);

    // The terminal chart too: dots at its top and bottom rows.
    let text = stdout(&hippocamp(dir.path(), &["plot", &id]));
    let rows: Vec<&str> = text.lines().collect();
    let drawn = |row: &str| row.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c));
    assert!(
        rows[1].trim_start().starts_with("1 ┤") && drawn(rows[1]),
        "{text}"
    );
    assert!(
        rows[16].trim_start().starts_with("-1 ┤") && drawn(rows[16]),
        "{text}"
    );
}

#[test]
fn errors_are_one_line_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let id = run_with(dir.path(), |run| {
        run.at("params/lr").assign(0.01).unwrap();
        run.at("train/loss").extend([0.5, 0.4]).unwrap();
        run.at("train/text").append("hello").unwrap();
    });
    let empty = run_with(dir.path(), |run| run.at("params/lr").assign(0.1).unwrap());
    let d = dir.path();
    let bad_path = format!("{id}:train/los");
    let namespace = format!("{id}:train");
    let atom = format!("{id}:params/lr");
    let strings = format!("{id}:train/text");
    let good = format!("{id}:train/loss");

    fails_with(&hippocamp(d, &["plot", "P-99"]), "no run P-99");
    fails_with(&hippocamp(d, &["plot", "P-99"]), "nearest: ");
    fails_with(&hippocamp(d, &["plot", "P-99:train/loss"]), "no run P-99");
    fails_with(&hippocamp(d, &["plot", &bad_path]), "(nearest: train/loss");
    fails_with(
        &hippocamp(d, &["plot", &namespace]),
        &format!(
            "`train` in run {id} is a namespace, not a FloatSeries (FloatSeries in it: train/loss)"
        ),
    );
    fails_with(
        &hippocamp(d, &["plot", &atom]),
        "is a Float, not a FloatSeries",
    );
    fails_with(
        &hippocamp(d, &["plot", &strings]),
        "is a StringSeries, not a FloatSeries",
    );
    fails_with(
        &hippocamp(d, &["plot", &empty]),
        &format!("run {empty} has no FloatSeries"),
    );
    fails_with(&hippocamp(d, &["plot", ":train/loss"]), "names no run");
    fails_with(&hippocamp(d, &["plot", &format!("{id}:")]), "names no path");
    fails_with(&hippocamp(d, &["plot", &format!("{id}:a//b")]), "a//b");
    // A good series, but one error among several fails the whole command.
    fails_with(&hippocamp(d, &["plot", &good, &atom]), "is a Float");

    let pdf = d.join("chart.pdf");
    fails_with(
        &hippocamp(d, &["plot", &good, "-o", pdf.to_str().unwrap()]),
        "unknown chart format .pdf (use .svg or .png)",
    );
    assert!(!pdf.exists());
    fails_with(
        &hippocamp(d, &["plot", &good, "-o", "chart"]),
        "name a .svg or .png file",
    );
    let nowhere = d.join("missing/chart.svg");
    fails_with(
        &hippocamp(d, &["plot", &good, "-o", nowhere.to_str().unwrap()]),
        "cannot write",
    );
    let no_store = tempfile::tempdir().unwrap();
    fails_with(
        &hippocamp(no_store.path(), &["plot", &good]),
        "no hippocamp store",
    );
}
