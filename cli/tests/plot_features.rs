//! `hippocamp plot` end to end, beyond drawing: the terminal's size,
//! styles past ten series, one-timestamp series, choosing runs with
//! `--where`/`--tag`, smoothing, log axes and `--follow`.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use hippocamp_cli::chart::PALETTE;
use hippocamp_core::{Appendable, LogOptions, Run};

#[cfg(unix)]
mod common {
    pub mod terminal;
}

/// A closed run of project `p` in `dir`, tagged `tags`, filled by `fill`.
fn run_with(dir: &Path, tags: &[&str], fill: impl FnOnce(&Run)) -> String {
    let run = Run::builder()
        .dir(dir)
        .project("p")
        .tags(tags.iter().copied())
        .start()
        .unwrap();
    fill(&run);
    let id = run.id().to_owned();
    run.close().unwrap();
    id
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hippocamp"));
    command
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1");
    command
}

fn hippocamp(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Exit code 2 and one line on stderr containing `wanted`.
fn fails_with(out: &Output, wanted: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.contains(wanted), "{stderr:?} lacks {wanted:?}");
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02X}{g:02X}{b:02X}")
}

/// The `<polyline …>` tags of an SVG stroked in `colour` at `width`.
fn polylines(svg: &str, colour: (u8, u8, u8), width: u32) -> Vec<&str> {
    let stroke = format!("stroke=\"{}\"", hex(colour));
    let width = format!("stroke-width=\"{width}\"");
    svg.split("<polyline ")
        .skip(1)
        .map(|piece| &piece[..piece.find('>').unwrap()])
        .filter(|tag| tag.contains(&stroke) && tag.contains(&width))
        .collect()
}

#[cfg(unix)]
#[test]
fn the_terminal_chart_fills_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let id = run_with(dir.path(), &[], |run| {
        run.at("train/loss")
            .extend((0..300).map(|i| 1.0 / (1.0 + i as f64)))
            .unwrap();
        run.at("train/acc")
            .extend((0..300).map(|i| i as f64 / 300.0))
            .unwrap();
    });
    for (columns, rows) in [(120, 40), (70, 20)] {
        let shown =
            common::terminal::run_on_terminal(command(dir.path(), &["plot", &id]), columns, rows);
        assert!(shown.status.success(), "{}", shown.stderr);
        let lines: Vec<&str> = shown.screen.lines().collect();
        // All of it but a line for the prompt, and as wide as it is.
        assert_eq!(lines.len(), usize::from(rows) - 1, "{}", shown.screen);
        let widest = lines.iter().map(|l| l.chars().count()).max().unwrap();
        assert!(
            widest <= usize::from(columns) && widest + 2 >= usize::from(columns),
            "{columns} columns, widest line {widest}:\n{}",
            shown.screen
        );
    }
    // Into a pipe: the fixed size (16 rows of braille).
    let piped = stdout(&hippocamp(dir.path(), &["plot", &id]));
    assert_eq!(
        piped
            .lines()
            .filter(|l| l.contains('│') || l.contains('┤'))
            .count(),
        16
    );
}

#[test]
fn more_than_ten_series_differ_by_dash_and_at_most_forty_are_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let id = run_with(dir.path(), &[], |run| {
        for i in 0..12 {
            run.at(format!("s/{i:02}").as_str())
                .extend((0..50).map(|x| (x * (i + 1)) as f64))
                .unwrap();
        }
    });
    let file = dir.path().join("many.svg");
    stdout(&hippocamp(
        dir.path(),
        &["plot", &id, "-o", file.to_str().unwrap()],
    ));
    let svg = std::fs::read_to_string(&file).unwrap();
    // Series 1 and 11 share a colour: the first is one solid line of 50
    // points, the 11th dashes (many short pieces); so with 2 and 12.
    for i in [0, 1] {
        let lengths: Vec<usize> = polylines(&svg, PALETTE[i], 2)
            .iter()
            .map(|tag| point_count(tag))
            .collect();
        assert_eq!(
            lengths.iter().filter(|n| **n == 50).count(),
            1,
            "{lengths:?}"
        );
        let dashes = lengths.iter().filter(|n| **n <= 4).count();
        assert!(dashes > 10, "series {}: {lengths:?}", i + 10);
        assert_eq!(dashes + 1, lengths.len(), "{lengths:?}");
    }
    // The third colour is used once: solid.
    assert_eq!(polylines(&svg, PALETTE[2], 2).len(), 1);

    let id = run_with(dir.path(), &[], |run| {
        for i in 0..41 {
            run.at(format!("s/{i:02}").as_str()).append(1.0).unwrap();
        }
    });
    fails_with(
        &hippocamp(dir.path(), &["plot", &id]),
        "41 series asked for: one chart draws at most 40",
    );
}

/// The number of points of a `<polyline …>` tag.
fn point_count(tag: &str) -> usize {
    let points = tag.split("points=\"").nth(1).unwrap();
    points[..points.find('"').unwrap()]
        .split_whitespace()
        .count()
}

#[test]
fn points_with_one_timestamp_are_drawn_by_step() {
    let dir = tempfile::tempdir().unwrap();
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let id = run_with(dir.path(), &[], |run| {
        let loss = run.at("train/loss");
        for i in 0..20 {
            (1.0 / (i as f64 + 1.0))
                .append_at(&loss, "", &LogOptions::new().timestamp(t))
                .unwrap();
        }
    });
    let spec = format!("{id}:train/loss");
    let text = stdout(&hippocamp(dir.path(), &["plot", &spec, "--x", "time"]));
    assert!(
        text.contains("step (all points have one timestamp)"),
        "{text}"
    );
    // The x axis runs over the steps, 0 to 19.
    let axis = text
        .lines()
        .skip_while(|l| !l.contains('└'))
        .nth(1)
        .unwrap();
    let numbers: Vec<&str> = axis.split_whitespace().collect();
    assert_eq!(numbers, ["0", "19"], "{text}");
}

#[test]
fn where_tag_and_project_choose_the_runs_of_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let loss = |lr: f64| {
        move |run: &Run| {
            run.at("params/lr").assign(lr).unwrap();
            run.at("train/loss").extend([1.0, 0.5, lr]).unwrap();
        }
    };
    let a = run_with(d, &["sweep"], loss(0.1));
    let b = run_with(d, &["sweep"], loss(0.01));
    let c = run_with(d, &[], loss(0.001));
    let untrained = run_with(d, &["sweep"], |run| {
        run.at("params/lr").assign(0.5).unwrap()
    });

    let text = stdout(&hippocamp(
        d,
        &["plot", "train/loss", "--where", "params/lr < 0.05"],
    ));
    assert!(text.contains(&format!("1 ⠒⠒ {b}:train/loss\n")), "{text}");
    assert!(text.contains(&format!("2 ⠒⠒ {c}:train/loss\n")), "{text}");
    assert!(!text.contains(&a), "{text}");

    // By tag: the run without the series is left out, with a warning.
    let out = hippocamp(d, &["plot", "train/loss", "--tag", "sweep"]);
    let text = stdout(&out);
    assert!(text.contains(&format!("{a}:train/loss")) && text.contains(&format!("{b}:train/loss")));
    assert!(!text.contains(&c) && !text.contains(&untrained), "{text}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("hippocamp: warning: left out {untrained}: no FloatSeries `train/loss` in it\n")
    );
    // Both, and several paths; a project that matches all.
    let text = stdout(&hippocamp(
        d,
        &[
            "plot",
            "train/loss",
            "--tag",
            "sweep",
            "--where",
            "params/lr >= 0.1",
            "--project",
            "p",
        ],
    ));
    assert!(text.contains(&format!("  ⠒⠒ {a}:train/loss\n")), "{text}");

    fails_with(
        &hippocamp(d, &["plot", "train/loss", "--tag", "nope"]),
        "no run matches --tag nope",
    );
    fails_with(
        &hippocamp(d, &["plot", "train/los", "--tag", "sweep"]),
        "has a FloatSeries `train/los` (nearest: train/loss",
    );
    fails_with(
        &hippocamp(d, &["plot", &format!("{a}:train/loss"), "--tag", "sweep"]),
        "give field paths (train/loss), not RUN:PATH",
    );
    fails_with(
        &hippocamp(d, &["plot", "train/loss", "--where", "params/lr >"]),
        "--where: ",
    );
}

#[test]
fn smoothing_and_log_axes_in_images() {
    let dir = tempfile::tempdir().unwrap();
    let id = run_with(dir.path(), &[], |run| {
        let noisy: Vec<f64> = (0..100)
            .map(|i| 10f64.powf(-(i as f64) / 25.0) * if i % 2 == 0 { 2.0 } else { 0.5 })
            .collect();
        run.at("train/loss").extend(noisy).unwrap();
        run.at("train/loss").append(0.0).unwrap();
    });
    let spec = format!("{id}:train/loss");
    let file = dir.path().join("smooth.svg");
    let note = stdout(&hippocamp(
        dir.path(),
        &[
            "plot",
            &spec,
            "--smooth",
            "0.8",
            "--log-y",
            "-o",
            file.to_str().unwrap(),
        ],
    ));
    assert!(
        note.ends_with("(1 series, 1 NaN/Inf or non-positive point not drawn)\n"),
        "{note}"
    );
    let svg = std::fs::read_to_string(&file).unwrap();
    // The smoothed line in the series' colour, the raw one faint under it.
    assert_eq!(polylines(&svg, PALETTE[0], 2).len(), 1);
    assert!(svg.contains("stroke-width=\"1\""), "no faint raw line");
    assert!(
        svg.contains("\ntrain/loss (log, EMA 0.8)\n"),
        "the y axis says how it is drawn"
    );
    // Decades on the log axis.
    for tick in ["0.001", "0.01", "0.1", "1"] {
        assert!(
            svg.contains(&format!(">\n{tick}\n</text>")),
            "no tick {tick}"
        );
    }

    let text = stdout(&hippocamp(
        dir.path(),
        &["plot", &spec, "--smooth", "0.8", "--log-y", "--log-x"],
    ));
    assert!(text.starts_with("train/loss (log, EMA 0.8)\n"), "{text}");
    assert!(text.contains("step (log)"), "{text}");
    for bad in ["--smooth=1", "--smooth=-0.1", "--smooth=1.5"] {
        fails_with(
            &hippocamp(dir.path(), &["plot", &spec, bad]),
            "--smooth takes a weight from 0 up to (not including) 1",
        );
    }
    // Axis numbers to the precision asked for.
    let text = stdout(&hippocamp(dir.path(), &["plot", &spec, "--precision", "2"]));
    assert!(
        text.lines().nth(1).unwrap().trim_start().starts_with("2 ┤"),
        "{text}"
    );
}

/// The frames of piped `--follow` output: each starts with the y label's
/// line.
fn frames(text: &str, y_label: &str) -> Vec<String> {
    let mut frames: Vec<String> = Vec::new();
    for line in text.lines() {
        if line == y_label {
            frames.push(String::new());
        }
        if let Some(frame) = frames.last_mut() {
            frame.push_str(line);
            frame.push('\n');
        }
    }
    frames
}

#[test]
fn follow_redraws_until_the_run_ends() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder().dir(dir.path()).project("p").start().unwrap();
    run.at("train/loss").append(1.0).unwrap();
    run.flush().unwrap();
    let spec = format!("{}:train/loss", run.id());
    let mut child = command(
        dir.path(),
        &["plot", &spec, "--follow", "--interval", "0.05"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // The output, line by line, as it comes.
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let collector = std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::BufRead::read_line(&mut reader, &mut line).unwrap() > 0 {
            let _ = lines_tx.send(std::mem::take(&mut line));
        }
    });
    let mut text = String::new();
    // Each value once the frame before it is drawn (its legend line).
    for value in [2.0, 3.0, 4.0] {
        loop {
            let line = lines_rx.recv_timeout(Duration::from_secs(30)).unwrap();
            text.push_str(&line);
            if line.contains(":train/loss") {
                break;
            }
        }
        run.at("train/loss").append(value).unwrap();
        run.flush().unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));
    run.close().unwrap();
    collector.join().unwrap();
    text.extend(lines_rx.try_iter());
    let status = child.wait().unwrap();
    assert!(status.success());
    // Into a pipe each frame follows the last: one per change.
    let drawn = frames(&text, "train/loss");
    assert!(drawn.len() >= 4, "{} frames:\n{text}", drawn.len());
    let top = |frame: &str| {
        frame
            .lines()
            .nth(1)
            .unwrap()
            .split('┤')
            .next()
            .unwrap()
            .trim()
            .to_owned()
    };
    assert_eq!(top(drawn.last().unwrap()), "4", "{text}");
    assert_ne!(top(&drawn[0]), "4", "{text}");
    // A finished run is drawn once.
    let once = stdout(&hippocamp(dir.path(), &["plot", &spec, "--follow"]));
    assert_eq!(frames(&once, "train/loss").len(), 1, "{once}");
}

#[test]
fn follow_waits_for_a_path_not_logged_yet() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder().dir(dir.path()).project("p").start().unwrap();
    run.at("params/lr").assign(0.1).unwrap();
    run.flush().unwrap();
    let spec = format!("{}:train/loss", run.id());
    // Without --follow it is an error; with it, the chart waits.
    fails_with(
        &hippocamp(dir.path(), &["plot", &spec]),
        "no field or namespace `train/loss`",
    );
    let child = command(
        dir.path(),
        &["plot", &spec, "--follow", "--interval", "0.05"],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    run.at("train/loss").extend([0.5, 0.25]).unwrap();
    run.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    run.close().unwrap();
    let out = child.wait_with_output().unwrap();
    let text = stdout(&out);
    let drawn = frames(&text, "train/loss");
    let last = drawn.last().unwrap();
    assert!(
        last.lines()
            .nth(1)
            .unwrap()
            .trim_start()
            .starts_with("0.5 ┤"),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn follow_redraws_in_place_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder().dir(dir.path()).project("p").start().unwrap();
    run.at("train/loss").append(1.0).unwrap();
    run.flush().unwrap();
    let spec = format!("{}:train/loss", run.id());
    let path = dir.path().to_owned();
    let plot = std::thread::spawn(move || {
        common::terminal::run_on_terminal(
            command(&path, &["plot", &spec, "--follow", "--interval", "0.05"]),
            80,
            24,
        )
    });
    std::thread::sleep(Duration::from_millis(1000));
    run.at("train/loss").append(2.0).unwrap();
    run.flush().unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    run.close().unwrap();
    let shown = plot.join().unwrap();
    assert!(shown.status.success(), "{}", shown.stderr);
    // Each later frame goes back up over the last one (23 lines) and
    // clears it.
    assert!(
        shown.screen.matches("\x1b[23A\x1b[J").count() >= 1,
        "{:?}",
        shown.screen
    );
    let last = shown.screen.rsplit("\x1b[J").next().unwrap();
    assert_eq!(last.lines().count(), 23);
    assert!(
        last.lines().nth(1).unwrap().trim_start().starts_with("2 ┤"),
        "{last}"
    );
}

#[cfg(unix)]
#[test]
fn an_image_is_not_created_through_a_dangling_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let id = run_with(dir.path(), &[], |run| {
        run.at("loss").extend([1.0, 0.5]).unwrap()
    });
    let link = dir.path().join("chart.svg");
    let nowhere = dir.path().join("elsewhere.svg");
    std::os::unix::fs::symlink(&nowhere, &link).unwrap();
    fails_with(
        &hippocamp(dir.path(), &["plot", &id, "-o", link.to_str().unwrap()]),
        "which does not exist (no file is created through a symlink",
    );
    assert!(!nowhere.exists());
}
