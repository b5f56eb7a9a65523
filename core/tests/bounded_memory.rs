//! Peak memory of uploads, downloads and series reads does not grow with
//! their size. One test in its own binary, so that the process's peak
//! resident memory (reset between phases through `/proc/self/clear_refs`)
//! is this test's alone. Where the kernel cannot reset it, the test says
//! so and passes.

use std::io::Write;

use hippocamp_core::{Mode, Run};

/// The process's resident memory now and its peak since the last reset,
/// in bytes.
fn rss() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Resets the peak to the current resident memory.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// How much the peak rose above the resident memory at the reset while
/// `work` ran.
fn peak_growth(work: impl FnOnce()) -> u64 {
    assert!(reset_peak());
    let (before, _) = rss().unwrap();
    work();
    let (_, peak) = rss().unwrap();
    let grew = peak.saturating_sub(before);
    eprintln!("peak rose by {:.1} MiB", grew as f64 / MIB as f64);
    grew
}

const MIB: u64 = 1 << 20;

#[test]
fn uploads_downloads_and_series_reads_stay_bounded() {
    if !reset_peak() || rss().is_none() {
        eprintln!("skipped: this kernel cannot reset the peak resident memory");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("checkpoint.bin");
    {
        let mut file = std::fs::File::create(&source).unwrap();
        let block: Vec<u8> = (0..MIB).map(|i| (i * 31) as u8).collect();
        for _ in 0..64 {
            file.write_all(&block).unwrap();
        }
    }
    let store = dir.path().join("store");
    let run = Run::builder().dir(&store).start().unwrap();
    let id = run.id().to_owned();

    // A 64 MiB file: held in memory twice before (read, then copied).
    let grew = peak_growth(|| {
        run.at("model").upload(&source).unwrap();
        run.flush().unwrap();
    });
    assert!(grew < 16 * MIB, "uploading 64 MiB took {} MiB", grew / MIB);

    let target = dir.path().join("out.bin");
    let grew = peak_growth(|| {
        assert_eq!(run.at("model").download_to_path(&target).unwrap(), 64 * MIB);
    });
    assert!(
        grew < 16 * MIB,
        "downloading 64 MiB took {} MiB",
        grew / MIB
    );

    // 1.5 M points: some 120 MB as a Vec<Point>.
    run.at("train/loss")
        .extend((0..1_500_000).map(|i| i as f64))
        .unwrap();
    run.close().unwrap();
    let run = Run::builder()
        .dir(&store)
        .run_id(id)
        .mode(Mode::ReadOnly)
        .start()
        .unwrap();
    let grew = peak_growth(|| {
        let mut count = 0u64;
        run.at("train/loss")
            .for_each_point(.., |_| count += 1)
            .unwrap();
        assert_eq!(count, 1_500_000);
        let summary = run.at("train/loss").series_summary().unwrap();
        assert_eq!(summary.max, Some(1_499_999.0));
    });
    assert!(
        grew < 40 * MIB,
        "reading 1.5 M points took {} MiB",
        grew / MIB
    );
}
