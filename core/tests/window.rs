//! Series windows: at most the buckets asked for, each exact against a
//! brute-force reading of the points it spans, one-point spikes kept at
//! every zoom; the embedded store answering wide ranges from its chunks'
//! summaries (shown by damaging a chunk in the middle of a range: the
//! window still reads, its points do not), and every error.

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use hippocamp_core::sqlite::DATABASE_FILE;
use hippocamp_core::window::{Bucket, SeriesWindow, WindowContent};
use hippocamp_core::{Appendable, Error, LogOptions, Mode, Run, Value};

/// A fixed pseudo-random sequence (xorshift), so a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A noisy decaying loss with one-point spikes (up and down) at random
/// steps, NaN and ±Inf here and there, at irregular steps.
fn series(rng: &mut Rng, n: usize) -> Vec<(f64, f64)> {
    let mut step = 0.0;
    (0..n)
        .map(|i| {
            step += 1.0 + rng.below(3) as f64 * 0.5;
            let base = 1.0 / (1.0 + i as f64 * 1e-3) + rng.unit() * 0.01;
            let value = match rng.below(20_000) {
                0 => 1e6,
                1 => -1e6,
                2 => f64::NAN,
                3 => f64::INFINITY,
                4 => f64::NEG_INFINITY,
                _ => base,
            };
            (step, value)
        })
        .collect()
}

fn log(run: &Run, path: &str, points: &[(f64, f64)]) {
    for (i, &(step, value)) in points.iter().enumerate() {
        let options = LogOptions::new()
            .step(step)
            .timestamp(UNIX_EPOCH + Duration::from_millis(i as u64));
        Appendable::append_at(&value, run.root(), path, &options).unwrap();
        // Flushes now and then: chunks of many sizes, merged ones too.
        if i % 40_000 == 39_999 {
            run.flush().unwrap();
        }
    }
    run.flush().unwrap();
}

fn min_max(values: impl Iterator<Item = f64>) -> (Option<f64>, Option<f64>) {
    let values: Vec<f64> = values.filter(|x| !x.is_nan()).collect();
    (
        values.iter().copied().reduce(f64::min),
        values.iter().copied().reduce(f64::max),
    )
}

fn bits(x: f64) -> u64 {
    x.to_bits()
}

/// Checks a window against the points themselves.
fn assert_exact(window: &SeriesWindow, all: &[(f64, f64)], from: f64, to: f64, n: usize) {
    // The points are in step order: slices by binary search.
    let slice = |from: f64, to: f64| -> &[(f64, f64)] {
        let start = all.partition_point(|(s, _)| *s < from);
        let end = all.partition_point(|(s, _)| *s <= to).max(start);
        &all[start..end]
    };
    let inside = slice(from, to);
    assert_eq!(
        window.count,
        inside.len() as u64,
        "count over {from}..={to}"
    );
    match &window.content {
        WindowContent::Points(points) => {
            assert!(inside.len() <= 2 * n);
            assert_eq!(points.len(), inside.len());
            for (p, (s, v)) in points.iter().zip(inside) {
                assert_eq!(p.step, *s);
                assert_eq!(bits(p.value.as_f64().unwrap()), bits(*v));
            }
        }
        WindowContent::Buckets(buckets) => {
            assert!(inside.len() > 2 * n);
            assert!(
                !buckets.is_empty() && buckets.len() <= n,
                "{} buckets",
                buckets.len()
            );
            assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), window.count);
            for pair in buckets.windows(2) {
                assert!(
                    pair[0].to < pair[1].from,
                    "buckets overlap or are out of order"
                );
            }
            for b in buckets {
                let mine = slice(b.from, b.to);
                assert_eq!(b.count, mine.len() as u64, "bucket {}..={}", b.from, b.to);
                assert_eq!(min_max(mine.iter().map(|p| p.1)), (b.min, b.max));
                let (first, last) = (mine[0], mine[mine.len() - 1]);
                assert_eq!((b.first.step, b.last.step), (first.0, last.0));
                assert_eq!(bits(b.first.value.as_f64().unwrap()), bits(first.1));
                assert_eq!(bits(b.last.value.as_f64().unwrap()), bits(last.1));
            }
            // No spike is lost: the window's extremes are the range's.
            let (lo, hi) = min_max(inside.iter().map(|p| p.1));
            let shown_lo = buckets.iter().filter_map(|b| b.min).reduce(f64::min);
            let shown_hi = buckets.iter().filter_map(|b| b.max).reduce(f64::max);
            assert_eq!((shown_lo, shown_hi), (lo, hi));
        }
    }
}

fn buckets(window: &SeriesWindow) -> &[Bucket] {
    match &window.content {
        WindowContent::Buckets(b) => b,
        WindowContent::Points(_) => panic!("points, not buckets"),
    }
}

#[test]
fn windows_are_exact_at_every_zoom_in_both_stores() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let all = series(&mut rng, 200_000);
    let stored = Run::builder().dir(dir.path()).start().unwrap();
    let memory = Run::builder().mode(Mode::Debug).start().unwrap();
    log(&stored, "loss", &all);
    log(&memory, "loss", &all);
    let (first, last) = (all[0].0, all[all.len() - 1].0);
    let mut ranges = vec![(f64::NEG_INFINITY, f64::INFINITY), (first, last)];
    for _ in 0..20 {
        // Wide, narrow and tiny ranges, ends on and between steps.
        let a = first + rng.unit() * (last - first);
        let width = (last - first) * [1.0, 0.3, 0.01, 0.0005][rng.below(4) as usize];
        ranges.push((a, a + width * rng.unit()));
    }
    for (from, to) in ranges {
        for n in [1, 7, 100, 1000] {
            for run in [&stored, &memory] {
                let window = run.at("loss").fetch_window(from..=to, n).unwrap();
                assert_exact(&window, &all, from, to, n);
            }
        }
    }
    // The whole range, at 100 buckets, from the store's summaries: nearly
    // as many buckets as asked, of nearly equal width.
    let whole = stored.at("loss").fetch_window(.., 100).unwrap();
    assert!(buckets(&whole).len() >= 90, "{}", buckets(&whole).len());
    stored.close().unwrap();
}

#[test]
fn a_wide_window_reads_summaries_not_points() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder().dir(dir.path()).start().unwrap();
    let id = run.id().to_owned();
    let mut rng = Rng(7);
    let all = series(&mut rng, 400_000);
    log(&run, "loss", &all);
    run.close().unwrap();
    drop(run);
    // Damage a chunk in the middle: its bytes, not its summary.
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    let (chunk, mut data): (i64, Vec<u8>) = conn
        .query_row(
            "SELECT chunk, data FROM chunks ORDER BY last_step LIMIT 1 OFFSET 3",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let middle = data.len() / 2;
    data[middle] ^= 0xff;
    conn.execute(
        "UPDATE chunks SET data = ?1 WHERE chunk = ?2",
        rusqlite::params![data, chunk],
    )
    .unwrap();
    drop(conn);
    let back = Run::builder()
        .dir(dir.path())
        .run_id(&id)
        .mode(Mode::ReadOnly)
        .start()
        .unwrap();
    // The whole range: from summaries, the damaged chunk never decoded.
    let window = back.at("loss").fetch_window(.., 500).unwrap();
    assert_eq!(window.count, all.len() as u64);
    assert!(buckets(&window).len() > 400);
    // Its points cannot be read.
    let err = back.at("loss").fetch_values().unwrap_err().to_string();
    assert!(
        err.contains("`loss`") && err.contains(&format!("chunk {chunk}")),
        "{err}"
    );
    // Nor a window narrow enough to need them.
    assert!(back.at("loss").fetch_window(.., 100_000).is_err());
}

fn one_chunk_store(dir: &Path) -> String {
    let run = Run::builder().dir(dir).start().unwrap();
    run.at("loss")
        .extend((0..100_000).map(|i| (i as f64).sin()))
        .unwrap();
    let id = run.id().to_owned();
    run.close().unwrap();
    id
}

#[test]
fn a_damaged_summary_is_an_error_and_check_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    let id = one_chunk_store(dir.path());
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    let (chunk, mut summary): (i64, Vec<u8>) = conn
        .query_row(
            "SELECT chunk, summary FROM chunks ORDER BY last_step LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    summary[40] ^= 0x10;
    conn.execute(
        "UPDATE chunks SET summary = ?1 WHERE chunk = ?2",
        rusqlite::params![summary, chunk],
    )
    .unwrap();
    drop(conn);
    let back = Run::builder()
        .dir(dir.path())
        .run_id(&id)
        .mode(Mode::ReadOnly)
        .start()
        .unwrap();
    let err = back
        .at("loss")
        .fetch_window(.., 100)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("chunk {chunk}")) && err.contains("checksum"),
        "{err}"
    );
    // Its points are fine.
    assert_eq!(back.at("loss").fetch_values().unwrap().len(), 100_000);
    let report = hippocamp_core::sqlite::Repository::open(dir.path())
        .unwrap()
        .check()
        .unwrap();
    assert_eq!(report.damaged.len(), 1, "{:?}", report.damaged);
    assert!(
        report.damaged[0].detail.contains("summary"),
        "{:?}",
        report.damaged
    );
}

#[test]
fn a_store_of_schema_2_gets_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let id = one_chunk_store(dir.path());
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    conn.execute_batch(
        "ALTER TABLE chunks DROP COLUMN summary; DROP INDEX fields_by_path;
         UPDATE meta SET value = '2' WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(conn);
    Run::builder()
        .dir(dir.path())
        .start()
        .unwrap()
        .close()
        .unwrap();
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    let missing: i64 = conn
        .query_row(
            "SELECT count(*) FROM chunks WHERE summary IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(missing, 0);
    drop(conn);
    let back = Run::builder()
        .dir(dir.path())
        .run_id(&id)
        .mode(Mode::ReadOnly)
        .start()
        .unwrap();
    assert_eq!(back.at("loss").fetch_window(.., 10).unwrap().count, 100_000);
    assert!(hippocamp_core::sqlite::Repository::open(dir.path())
        .unwrap()
        .check()
        .unwrap()
        .is_intact());
}

#[test]
fn windows_of_other_series_and_bad_requests() {
    let run = Run::builder().mode(Mode::Debug).start().unwrap();
    run.at("log")
        .extend((0..5000).map(|i| format!("line {i}")))
        .unwrap();
    let window = run.at("log").fetch_window(.., 10).unwrap();
    let b = buckets(&window);
    assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), 5000);
    assert!(b.iter().all(|b| b.min.is_none() && b.max.is_none()));
    assert_eq!(b[0].first.value, Value::String("line 0".into()));
    // Few points: the points.
    let few = run.at("log").fetch_window(10.0..20.0, 10).unwrap();
    assert!(matches!(&few.content, WindowContent::Points(p) if p.len() == 10));
    // An empty or backwards range holds nothing.
    for window in [
        run.at("log").fetch_window(9000.0.., 10).unwrap(),
        run.at("log").fetch_window(20.0..=10.0, 10).unwrap(),
    ] {
        assert_eq!(window.count, 0);
    }
    // Bucket counts out of range, and fields that are no series.
    for n in [0, hippocamp_core::window::MAX_BUCKETS + 1] {
        assert!(matches!(
            run.at("log").fetch_window(.., n),
            Err(Error::OutOfRange { .. })
        ));
    }
    run.at("lr").assign(0.1).unwrap();
    assert!(matches!(
        run.at("lr").fetch_window(.., 10),
        Err(Error::UnsupportedOperation { .. })
    ));
    assert!(matches!(
        run.at("nothing").fetch_window(.., 10),
        Err(Error::NotFound { .. })
    ));
}
