//! Series read a chunk at a time (`fetch_points`, `for_each_point`), and
//! summaries (`series_summary`), in the embedded store and in memory:
//! the same points as `fetch_values`, whatever the range and the chunks.

use std::path::Path;

use hippocamp_core::{Error, File, Mode, Point, Run, Value};

/// More than three stored chunks (of 65,536 points).
const POINTS: usize = 200_000;

fn logged(mode: Mode, dir: &Path) -> Run {
    let run = Run::builder().mode(mode).dir(dir).start().unwrap();
    let loss = run.at("train/loss");
    for i in 0..POINTS {
        let value = match i {
            7 => f64::NAN,
            150_000 => -5.0,
            _ => (i % 1000) as f64,
        };
        loss.append(value).unwrap();
    }
    run.at("log").extend(["a", "b", "c"]).unwrap();
    for step in [2, 4] {
        run.at("images")
            .append_at(
                step,
                File::from_bytes(vec![step as u8], format!("{step}.png")),
            )
            .unwrap();
    }
    run.at("params/lr").assign(0.1).unwrap();
    run
}

/// The run to read, in both stores: the embedded one reopened from disk.
fn each_store(check: impl Fn(&Run)) {
    let dir = tempfile::tempdir().unwrap();
    let memory = logged(Mode::Debug, dir.path());
    check(&memory);
    let dir = tempfile::tempdir().unwrap();
    let run = logged(Mode::Async, dir.path());
    check(&run); // while the run is open (reads flush first)
    let id = run.id().to_owned();
    run.close().unwrap();
    let read_only = Run::builder()
        .dir(dir.path())
        .run_id(id)
        .mode(Mode::ReadOnly)
        .start()
        .unwrap();
    check(&read_only);
}

fn steps(points: &[Point]) -> Vec<f64> {
    points.iter().map(|p| p.step).collect()
}

fn fetch(run: &Run, range: impl std::ops::RangeBounds<f64>) -> Vec<Point> {
    run.at("train/loss")
        .fetch_points(range)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn every_point_comes_back_in_order_a_chunk_at_a_time() {
    each_store(|run| {
        let all = run.at("train/loss").fetch_values().unwrap();
        assert_eq!(all.len(), POINTS);
        let streamed = fetch(run, ..);
        let bits = |p: &[Point]| -> Vec<(u64, u64, std::time::SystemTime)> {
            p.iter()
                .map(|p| match p.value {
                    Value::Float(x) => (p.step.to_bits(), x.to_bits(), p.timestamp),
                    _ => panic!("a float"),
                })
                .collect()
        };
        assert_eq!(bits(&streamed), bits(&all));
        let mut chunks = run.at("train/loss").fetch_points(..).unwrap();
        let mut sizes = Vec::new();
        while let Some(chunk) = chunks.next_chunk() {
            sizes.push(chunk.unwrap().len());
        }
        assert!(sizes.len() >= 4, "{sizes:?}");
        assert!(sizes.iter().all(|&n| n > 0 && n <= 65_536), "{sizes:?}");
        assert_eq!(sizes.iter().sum::<usize>(), POINTS);
        let mut count = 0;
        run.at("train/loss")
            .for_each_point(.., |_| count += 1)
            .unwrap();
        assert_eq!(count, POINTS);
    });
}

#[test]
fn ranges_are_inclusive_and_cross_chunks() {
    each_store(|run| {
        assert_eq!(
            steps(&fetch(run, 65_534.0..=65_537.5)),
            [65_534.0, 65_535.0, 65_536.0, 65_537.0]
        );
        assert_eq!(steps(&fetch(run, 65_534.0..65_536.0)), [65_534.0, 65_535.0]);
        assert_eq!(steps(&fetch(run, 199_998.0..)), [199_998.0, 199_999.0]);
        assert_eq!(steps(&fetch(run, ..=1.0)), [0.0, 1.0]);
        assert_eq!(steps(&fetch(run, 10.5..=10.7)), Vec::<f64>::new());
        assert_eq!(steps(&fetch(run, 5.0..=4.0)), Vec::<f64>::new());
        assert_eq!(steps(&fetch(run, f64::NAN..=4.0)), Vec::<f64>::new());
        assert_eq!(fetch(run, 1000.0..131_072.0).len(), 130_072);
        let log = run.at("log").fetch_points(1.0..).unwrap();
        let values: Vec<Value> = log.map(|p| p.unwrap().value).collect();
        assert_eq!(
            values,
            [Value::String("b".into()), Value::String("c".into())]
        );
    });
}

#[test]
fn summaries_count_and_leave_nan_out() {
    each_store(|run| {
        let summary = run.at("train/loss").series_summary().unwrap();
        assert_eq!(summary.count, POINTS as u64);
        assert_eq!(summary.first.as_ref().map(|p| p.step), Some(0.0));
        assert_eq!(summary.first.map(|p| p.value), Some(Value::Float(0.0)));
        let last = summary.last.unwrap();
        assert_eq!((last.step, last.value), (199_999.0, Value::Float(999.0)));
        assert_eq!((summary.min, summary.max), (Some(-5.0), Some(999.0)));

        let log = run.at("log").series_summary().unwrap();
        assert_eq!((log.count, log.min, log.max), (3, None, None));
        assert_eq!(log.last.map(|p| p.value), Some(Value::String("c".into())));

        let images = run.at("images").series_summary().unwrap();
        assert_eq!(images.count, 2);
        assert!(matches!(images.last.map(|p| p.value), Some(Value::File(f)) if f.name == "4.png"));
        assert_eq!(run.at("images").download().unwrap(), [4]);
        assert_eq!(run.at("images").download_at(2).unwrap(), [2]);
        assert!(matches!(
            run.at("images").download_at(3),
            Err(Error::NotFound { .. })
        ));
    });
}

#[test]
fn what_is_no_series_is_refused_at_the_call() {
    each_store(|run| {
        for path in ["params/lr", "params"] {
            assert!(matches!(
                run.at(path).fetch_points(..),
                Err(Error::UnsupportedOperation { .. })
            ));
            assert!(matches!(
                run.at(path).series_summary(),
                Err(Error::UnsupportedOperation { .. })
            ));
        }
        assert!(matches!(
            run.at("nothing").fetch_points(..),
            Err(Error::NotFound { .. })
        ));
    });
}

#[test]
fn an_empty_series_has_an_empty_summary() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder().dir(dir.path()).start().unwrap();
    run.at("loss").append(1.0).unwrap();
    run.at("loss").clear().unwrap();
    let summary = run.at("loss").series_summary().unwrap();
    assert_eq!(
        (summary.count, summary.first, summary.last),
        (0, None, None)
    );
    assert_eq!(run.at("loss").fetch_points(..).unwrap().count(), 0);
    run.close().unwrap();
}

#[test]
fn the_loop_may_log_to_the_run_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder().dir(dir.path()).start().unwrap();
    run.at("a").extend((0..70_000).map(|i| i as f64)).unwrap();
    // No lock is held between chunks: logging inside the loop works.
    for point in run.at("a").fetch_points(..).unwrap() {
        let point = point.unwrap();
        if (point.step as usize).is_multiple_of(10_000) {
            run.at("b").append(point.step).unwrap();
        }
    }
    assert_eq!(run.at("b").fetch_values().unwrap().len(), 7);
    run.close().unwrap();
}
