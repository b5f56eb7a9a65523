//! The rules of PRODUCT.md and docs/behaviour.md, one behaviour per test,
//! through the public API of `hippocamp-core`.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::ErrorKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use hippocamp_core::path::{PathErrorKind, MAX_PATH_BYTES};
use hippocamp_core::store::MemoryStore;
use hippocamp_core::{
    Appendable, Conflict, Error, FieldType, File, FileInfo, LogOptions, Mode, Operation,
    ReadOnlyReason, Run, Value, MAX_STRING_BYTES,
};

/// One write through a handler, for tables of cases.
type Write = fn(&hippocamp_core::Handler) -> Result<(), Error>;

fn new_run() -> Run {
    Run::builder()
        .project("rules")
        .mode(Mode::Debug)
        .start()
        .expect("a debug run starts")
}

fn steps(run: &Run, path: &str) -> Vec<f64> {
    run.at(path)
        .fetch_values()
        .unwrap()
        .iter()
        .map(|p| p.step)
        .collect()
}

fn floats(run: &Run, path: &str) -> Vec<f64> {
    run.at(path)
        .fetch_values()
        .unwrap()
        .into_iter()
        .map(|p| match p.value {
            Value::Float(x) => x,
            other => panic!("not a float: {other:?}"),
        })
        .collect()
}

#[track_caller]
fn assert_type_mismatch(err: Error, path: &str, field_type: FieldType, value_type: FieldType) {
    match err {
        Error::TypeMismatch {
            path: p,
            field_type: ft,
            value_type: vt,
        } => assert_eq!((p.as_str(), ft, vt), (path, field_type, value_type)),
        other => panic!("expected TypeMismatch, got {other:?}"),
    }
}

#[track_caller]
fn assert_not_found(err: Error, path: &str) {
    match err {
        Error::NotFound { path: p } => assert_eq!(p, path),
        other => panic!("expected NotFound at {path}, got {other:?}"),
    }
}

#[track_caller]
fn assert_unsupported(err: Error, path: &str, field_type: FieldType, operation: Operation) {
    match err {
        Error::UnsupportedOperation {
            path: p,
            field_type: ft,
            operation: op,
        } => assert_eq!((p.as_str(), ft, op), (path, field_type, operation)),
        other => panic!("expected UnsupportedOperation, got {other:?}"),
    }
}

#[track_caller]
fn assert_out_of_range(err: Error, path: &str, detail_has: &str) {
    match err {
        Error::OutOfRange { path: p, detail } => {
            assert_eq!(p, path);
            assert!(
                detail.contains(detail_has),
                "{detail:?} lacks {detail_has:?}"
            );
        }
        other => panic!("expected OutOfRange, got {other:?}"),
    }
}

#[track_caller]
fn assert_read_only(err: Error, path: &str, reason: ReadOnlyReason) {
    match err {
        Error::ReadOnly { path: p, reason: r } => assert_eq!((p.as_str(), r), (path, reason)),
        other => panic!("expected ReadOnly at {path}, got {other:?}"),
    }
}

#[track_caller]
fn assert_invalid_path(err: Error, path: &str, kind: PathErrorKind, offset: usize) {
    match err {
        Error::InvalidPath { path: p, source } => {
            assert_eq!(p, path);
            assert_eq!(source.kind, kind, "{path:?}");
            assert_eq!(source.offset, offset, "{path:?}");
        }
        other => panic!("expected InvalidPath, got {other:?}"),
    }
}

#[track_caller]
fn assert_closed(result: Result<(), Error>, run_id: &str) {
    match result {
        Err(Error::Closed { run_id: id }) => assert_eq!(id, run_id),
        other => panic!("expected Closed, got {other:?}"),
    }
}

/// A path in the temp folder no other test uses.
fn temp_file(name: &str) -> std::path::PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "hippocamp-rules-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

// ---- the first write fixes the type ----------------------------------

#[test]
fn the_first_write_fixes_the_type() {
    let run = new_run();
    run.at("params/lr").assign(0.5).unwrap();
    let err = run.at("params/lr").assign("fast").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot write a String to `params/lr`, a Float \
         (a field keeps the type of its first write; Int widens to Float)"
    );
    assert_type_mismatch(err, "params/lr", FieldType::Float, FieldType::String);
    assert_eq!(run.at("params/lr").fetch().unwrap(), Value::Float(0.5));

    // Each atom type refuses each other one.
    let writes: [(FieldType, Write); 5] = [
        (FieldType::Float, |h| h.assign(1.5)),
        (FieldType::Int, |h| h.assign(7)),
        (FieldType::Bool, |h| h.assign(true)),
        (FieldType::String, |h| h.assign("s")),
        (FieldType::Datetime, |h| h.assign(SystemTime::UNIX_EPOCH)),
    ];
    for (first, write_first) in writes {
        for (second, write_second) in writes {
            let run = new_run();
            let h = run.at("x");
            write_first(&h).unwrap();
            let before = h.fetch().unwrap();
            let result = write_second(&h);
            if first == second || (first, second) == (FieldType::Float, FieldType::Int) {
                result.unwrap();
            } else {
                assert_type_mismatch(result.unwrap_err(), "x", first, second);
                assert_eq!(h.fetch().unwrap(), before);
            }
            assert_eq!(h.field_type().unwrap(), Some(first));
        }
    }
}

#[test]
fn an_int_into_a_float_widens_and_reads_back_as_a_float() {
    let run = new_run();
    let lr = run.at("lr");
    lr.assign(0.5).unwrap();
    lr.assign(3).unwrap();
    assert_eq!(lr.fetch().unwrap(), Value::Float(3.0));
    lr.assign(-2i8).unwrap();
    assert_eq!(lr.fetch().unwrap(), Value::Float(-2.0));
    lr.assign(7u32).unwrap();
    assert_eq!(lr.fetch().unwrap(), Value::Float(7.0));
    assert_eq!(lr.field_type().unwrap(), Some(FieldType::Float));
    let x: f64 = lr.fetch().unwrap().try_into().unwrap();
    assert_eq!(x, 7.0);
    // An f32 is a Float too.
    run.at("f32").assign(0.5f32).unwrap();
    assert_eq!(run.at("f32").fetch().unwrap(), Value::Float(0.5));
}

#[test]
fn a_float_into_an_int_is_refused() {
    let run = new_run();
    run.at("epochs").assign(20).unwrap();
    let err = run.at("epochs").assign(20.5).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot write a Float to `epochs`, an Int (a field keeps the type of its first write)"
    );
    assert_type_mismatch(err, "epochs", FieldType::Int, FieldType::Float);
    assert_eq!(run.at("epochs").fetch().unwrap(), Value::Int(20));
}

#[test]
fn a_series_keeps_the_kind_of_its_first_point() {
    let run = new_run();
    run.at("acc").append(0.5).unwrap();
    assert_type_mismatch(
        run.at("acc").append("high").unwrap_err(),
        "acc",
        FieldType::FloatSeries,
        FieldType::String,
    );
    assert_type_mismatch(
        run.at("acc")
            .append(File::from_bytes(vec![1], "a.png"))
            .unwrap_err(),
        "acc",
        FieldType::FloatSeries,
        FieldType::File,
    );
    run.at("log").append("started").unwrap();
    assert_type_mismatch(
        run.at("log").append(1.0).unwrap_err(),
        "log",
        FieldType::StringSeries,
        FieldType::Float,
    );
    run.at("imgs")
        .append(File::from_bytes(vec![1], "a.png"))
        .unwrap();
    assert_type_mismatch(
        run.at("imgs").append_at(5, "x").unwrap_err(),
        "imgs",
        FieldType::FileSeries,
        FieldType::String,
    );
    // Refused points left no trace.
    assert_eq!(steps(&run, "acc"), [0.0]);
    assert_eq!(steps(&run, "log"), [0.0]);
    assert_eq!(steps(&run, "imgs"), [0.0]);
    // Integers append to a FloatSeries as floats.
    run.at("acc").append(1u8).unwrap();
    assert_eq!(floats(&run, "acc"), [0.5, 1.0]);
}

// ---- fields and namespaces -------------------------------------------

#[test]
fn a_path_under_an_existing_field_is_a_namespace_conflict() {
    let run = new_run();
    run.at("train/acc").append(0.5).unwrap();
    for (handler, path) in [
        (run.at("train/acc/top5"), "train/acc/top5"),
        (run.at("train/acc/x/y"), "train/acc/x/y"),
        (run.at("train").at("acc/top5"), "train/acc/top5"),
        (run.at("train/acc").at("top5"), "train/acc/top5"),
    ] {
        let err = handler.append(0.9).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot create `{path}`: `train/acc` is a FloatSeries field, \
                 and a field cannot hold other fields"
            )
        );
        match err {
            Error::NamespaceConflict {
                path: p,
                conflict:
                    Conflict::UnderField {
                        path: cp,
                        field,
                        field_type,
                    },
            } => {
                assert_eq!(p, path);
                assert_eq!(cp, path);
                assert_eq!(field, "train/acc");
                assert_eq!(field_type, FieldType::FloatSeries);
            }
            other => panic!("{other:?}"),
        }
        // Every kind of write is refused the same way.
        assert!(matches!(
            handler.assign(1).unwrap_err(),
            Error::NamespaceConflict {
                conflict: Conflict::UnderField { .. },
                ..
            }
        ));
        assert!(matches!(
            handler.upload_bytes(vec![1], "f").unwrap_err(),
            Error::NamespaceConflict {
                conflict: Conflict::UnderField { .. },
                ..
            }
        ));
        assert!(matches!(
            handler.add(["a"]).unwrap_err(),
            Error::NamespaceConflict {
                conflict: Conflict::UnderField { .. },
                ..
            }
        ));
        // Reading there finds nothing.
        assert_not_found(handler.fetch().unwrap_err(), path);
        assert_eq!(handler.field_type().unwrap(), None);
    }
    assert_eq!(steps(&run, "train/acc"), [0.0]);
}

#[test]
fn a_scalar_onto_a_namespace_is_a_namespace_conflict() {
    let run = new_run();
    run.at("params/lr").assign(0.1).unwrap();
    let err = run.at("params").assign(3).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot assign an Int to `params`: it is a namespace, \
         which takes a struct or map (merged into it), not a single value"
    );
    match err {
        Error::NamespaceConflict {
            path,
            conflict:
                Conflict::ValueOntoNamespace {
                    path: cp,
                    value_type,
                },
        } => {
            assert_eq!((path.as_str(), cp.as_str()), ("params", "params"));
            assert_eq!(value_type, FieldType::Int);
        }
        other => panic!("{other:?}"),
    }
    match run.root().assign("x").unwrap_err() {
        Error::NamespaceConflict {
            path,
            conflict: Conflict::ValueOntoNamespace { value_type, .. },
        } => assert_eq!((path.as_str(), value_type), ("", FieldType::String)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        run.at("params").field_type().unwrap(),
        Some(FieldType::Namespace)
    );
}

#[test]
fn reading_a_path_that_holds_nothing_is_not_found() {
    let run = new_run();
    run.at("other").assign(1).unwrap();
    let before = run.root().structure().unwrap();
    let h = run.at("nothing/here");
    assert_not_found(h.fetch().unwrap_err(), "nothing/here");
    assert_not_found(h.fetch_last().unwrap_err(), "nothing/here");
    assert_not_found(h.fetch_values().unwrap_err(), "nothing/here");
    assert_not_found(h.download().unwrap_err(), "nothing/here");
    assert_not_found(h.download_at(1).unwrap_err(), "nothing/here");
    assert_not_found(h.clear().unwrap_err(), "nothing/here");
    assert_not_found(h.remove(["a"]).unwrap_err(), "nothing/here");
    assert_not_found(h.delete().unwrap_err(), "nothing/here");
    assert_not_found(h.structure().unwrap_err(), "nothing/here");
    assert_not_found(h.fetch_as::<i64>().unwrap_err(), "nothing/here");
    assert_eq!(h.fetch_as::<Option<i64>>().unwrap(), None);
    assert_eq!(h.field_type().unwrap(), None);
    let err = run.at("ghost").fetch().unwrap_err();
    assert_eq!(
        err.to_string(),
        "`ghost` not found: nothing has been logged there"
    );
    // Reading created nothing.
    assert_eq!(run.root().structure().unwrap(), before);
}

#[test]
fn a_refused_write_creates_nothing() {
    let run = new_run();
    let too_long = "x".repeat(MAX_STRING_BYTES + 1);
    assert!(run.at("a/s").assign(too_long.as_str()).is_err());
    assert!(run.at("b/s").append(too_long.as_str()).is_err());
    assert!(run.at("c/s").add([too_long.as_str()]).is_err());
    assert!(run.at("d/n").assign(u64::MAX).is_err());
    assert!(run.at("e/f").upload(temp_file("missing")).is_err());
    assert!(run.at("f/s").append_at(f64::NAN, 1.0).is_err());
    assert!(run.at("g/s").append_at(f64::INFINITY, "x").is_err());
    assert!(run.at("h//s").assign(1).is_err());
    assert!(
        run.structure().unwrap().is_empty(),
        "{}",
        run.structure().unwrap()
    );
    // And the paths are still free to become anything.
    run.at("f/s").assign("now a string").unwrap();
    assert_eq!(run.at("f/s").field_type().unwrap(), Some(FieldType::String));
}

// ---- series -------------------------------------------------------------

#[test]
fn default_steps_are_zero_one_two() {
    let run = new_run();
    let loss = run.at("train/loss");
    loss.append(0.9).unwrap();
    loss.append(0.8).unwrap();
    loss.append(0.7).unwrap();
    assert_eq!(steps(&run, "train/loss"), [0.0, 1.0, 2.0]);
    assert_eq!(floats(&run, "train/loss"), [0.9, 0.8, 0.7]);
    let last = loss.fetch_last().unwrap();
    assert_eq!((last.step, last.value), (2.0, Value::Float(0.7)));
}

#[test]
fn explicit_steps_are_kept_and_defaults_follow_them() {
    let run = new_run();
    let loss = run.at("eval/loss");
    loss.append_at(3, 0.5).unwrap();
    loss.append_at(10.5, 0.4).unwrap();
    loss.append(0.3).unwrap();
    loss.append_at(100u64, 0.2).unwrap();
    loss.append_at(-0.0 + 200.0f32, 0.1).unwrap();
    assert_eq!(steps(&run, "eval/loss"), [3.0, 10.5, 11.5, 100.0, 200.0]);
    // A first explicit step may be negative.
    run.at("neg").append_at(-5, 1.0).unwrap();
    run.at("neg").append(2.0).unwrap();
    assert_eq!(steps(&run, "neg"), [-5.0, -4.0]);
}

#[test]
fn a_step_not_above_the_last_is_refused() {
    let run = new_run();
    let loss = run.at("eval/loss");
    loss.append_at(3, 0.5).unwrap();
    for step in [3.0, 2.0, -1.0, 3.0 - f64::EPSILON * 2.0] {
        match loss.append_at(step, 0.4).unwrap_err() {
            Error::StepNotIncreasing {
                path,
                step: s,
                last,
            } => assert_eq!((path.as_str(), s, last), ("eval/loss", step, 3.0)),
            other => panic!("{other:?}"),
        }
    }
    let err = loss.append_at(1, 0.4).unwrap_err();
    assert_eq!(
        err.to_string(),
        "step 1 for `eval/loss` is not after its last step 3 (steps of a series must strictly increase)"
    );
    // -0.0 is not above 0.0.
    run.at("z").append(1.0).unwrap();
    assert!(matches!(
        run.at("z").append_at(-0.0, 1.0).unwrap_err(),
        Error::StepNotIncreasing { last, .. } if last == 0.0
    ));
    assert_eq!(steps(&run, "eval/loss"), [3.0]);
    // The refusals did not move the default step.
    loss.append(0.1).unwrap();
    assert_eq!(steps(&run, "eval/loss"), [3.0, 4.0]);
}

#[test]
fn a_step_that_is_not_finite_is_refused() {
    let run = new_run();
    run.at("loss").append(1.0).unwrap();
    for step in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        for path in ["loss", "fresh"] {
            match run.at(path).append_at(step, 0.5).unwrap_err() {
                Error::InvalidStep { path: p, step: s } => {
                    assert_eq!(p, path);
                    assert_eq!(s.to_bits(), step.to_bits());
                }
                other => panic!("{other:?}"),
            }
        }
    }
    let err = run.at("loss").append_at(f64::INFINITY, 0.5).unwrap_err();
    assert_eq!(
        err.to_string(),
        "step inf for `loss` is not a finite number"
    );
    assert_eq!(steps(&run, "loss"), [0.0]);
    assert_eq!(run.at("fresh").field_type().unwrap(), None);
}

#[test]
fn a_default_step_that_cannot_go_above_the_last_is_refused() {
    // Above 2^53, last + 1 == last: the next default step would repeat.
    let run = new_run();
    let big = 2f64.powi(53);
    run.at("s").append_at(big, 1.0).unwrap();
    match run.at("s").append(2.0).unwrap_err() {
        Error::StepNotIncreasing { path, step, last } => {
            assert_eq!((path.as_str(), step, last), ("s", big, big))
        }
        other => panic!("{other:?}"),
    }
    run.at("m").append_at(f64::MAX, 1.0).unwrap();
    assert!(matches!(
        run.at("m").append(2.0).unwrap_err(),
        Error::StepNotIncreasing { .. }
    ));
    assert_eq!(steps(&run, "s"), [big]);
    assert_eq!(steps(&run, "m"), [f64::MAX]);
}

#[test]
fn nan_inf_and_negative_zero_are_stored_bit_for_bit() {
    let specials = [
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff8_0000_dead_beef), // a NaN with a payload
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        f64::MIN_POSITIVE / 2.0, // subnormal
        f64::MAX,
    ];
    let run = new_run();
    let series = run.at("series");
    for x in specials {
        series.append(x).unwrap();
        assert_eq!(series.fetch_last().unwrap().value_bits(), x.to_bits());
    }
    let stored: Vec<u64> = floats(&run, "series").iter().map(|x| x.to_bits()).collect();
    let given: Vec<u64> = specials.iter().map(|x| x.to_bits()).collect();
    assert_eq!(stored, given);
    // Float fields too.
    for (i, x) in specials.into_iter().enumerate() {
        let h = run.at(format!("atoms/{i}"));
        h.assign(x).unwrap();
        let Value::Float(back) = h.fetch().unwrap() else {
            panic!("not a float")
        };
        assert_eq!(back.to_bits(), x.to_bits(), "{x}");
    }
}

trait ValueBits {
    fn value_bits(&self) -> u64;
}

impl ValueBits for hippocamp_core::Point {
    fn value_bits(&self) -> u64 {
        match self.value {
            Value::Float(x) => x.to_bits(),
            ref other => panic!("not a float: {other:?}"),
        }
    }
}

#[test]
fn clear_empties_a_series_and_restarts_its_steps_at_zero() {
    let run = new_run();
    for (path, append) in [
        ("f", (|h| h.append(1.0)) as Write),
        ("s", |h| h.append("x")),
        ("i", |h| h.append(File::from_bytes(vec![1], "a.png"))),
    ] {
        let h = run.at(path);
        append(&h).unwrap();
        append(&h).unwrap();
        append(&h).unwrap();
        assert_eq!(steps(&run, path), [0.0, 1.0, 2.0], "{path}");
        h.clear().unwrap();
        assert!(h.fetch_values().unwrap().is_empty());
        if h.field_type().unwrap() != Some(FieldType::FileSeries) {
            assert_not_found(h.fetch_last().unwrap_err(), path);
        }
        append(&h).unwrap();
        assert_eq!(steps(&run, path), [0.0], "{path}");
        // Clearing twice is fine.
        h.clear().unwrap();
        h.clear().unwrap();
        assert!(h.fetch_values().unwrap().is_empty());
    }
}

#[test]
fn extend_appends_at_consecutive_steps() {
    let run = new_run();
    let lr = run.at("lr");
    lr.extend([0.1, 0.05, 0.01]).unwrap();
    assert_eq!(steps(&run, "lr"), [0.0, 1.0, 2.0]);
    lr.append_at(10, 0.005).unwrap();
    lr.extend(vec![0.001, 0.0005]).unwrap();
    assert_eq!(steps(&run, "lr"), [0.0, 1.0, 2.0, 10.0, 11.0, 12.0]);
    assert_eq!(floats(&run, "lr"), [0.1, 0.05, 0.01, 0.005, 0.001, 0.0005]);
    run.at("log").extend(["a", "b"]).unwrap();
    run.at("log").extend(vec!["c".to_owned()]).unwrap();
    let texts: Vec<Value> = run
        .at("log")
        .fetch_values()
        .unwrap()
        .into_iter()
        .map(|p| p.value)
        .collect();
    assert_eq!(texts, ["a", "b", "c"].map(|s| Value::String(s.to_owned())));
    // On an error, the values before it stay.
    let too_long = "x".repeat(MAX_STRING_BYTES + 1);
    let err = run
        .at("log")
        .extend(["d", too_long.as_str(), "e"])
        .unwrap_err();
    assert_out_of_range(err, "log", "longer than the limit");
    assert_eq!(steps(&run, "log"), [0.0, 1.0, 2.0, 3.0]);
    // No values on an empty path: nothing is created.
    run.at("empty").extend(Vec::<f64>::new()).unwrap();
    assert_eq!(run.at("empty").field_type().unwrap(), None);
    // No values on a field that takes no extend: refused all the same.
    run.at("n").assign(1).unwrap();
    assert_unsupported(
        run.at("n").extend(Vec::<f64>::new()).unwrap_err(),
        "n",
        FieldType::Int,
        Operation::Extend,
    );
}

#[test]
fn timestamps_default_to_now_and_explicit_ones_are_kept() {
    let run = new_run();
    let before = SystemTime::now();
    run.at("loss").append(1.0).unwrap();
    let after = SystemTime::now();
    let t = run.at("loss").fetch_last().unwrap().timestamp;
    // Points are stamped by a coarse clock, which may lag by a tick.
    let tick = Duration::from_millis(50);
    assert!(
        before - tick <= t && t <= after,
        "{t:?} not in [{before:?} - 50ms, {after:?}]"
    );

    let given = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let h = run.at("loss");
    Appendable::append_at(&2.0, &h, "", &LogOptions::new().step(5).timestamp(given)).unwrap();
    let last = h.fetch_last().unwrap();
    assert_eq!(
        (last.step, last.value, last.timestamp),
        (5.0, Value::Float(2.0), given)
    );
    // A timestamp without a step: the default step, the given time.
    let earlier = SystemTime::UNIX_EPOCH + Duration::from_secs(1);
    Appendable::append_at(&3.0, &h, "", &LogOptions::new().timestamp(earlier)).unwrap();
    let last = h.fetch_last().unwrap();
    assert_eq!((last.step, last.timestamp), (6.0, earlier));
    // Relative to a namespace handler, strings too.
    Appendable::append_at(
        &"note",
        run.root(),
        "notes/text",
        &LogOptions::new().step(2).timestamp(given),
    )
    .unwrap();
    let p = run.at("notes/text").fetch_last().unwrap();
    assert_eq!((p.step, p.timestamp), (2.0, given));
    assert_eq!(p.value, Value::String("note".into()));
    // Points keep their own time.
    let times: Vec<SystemTime> = run
        .at("loss")
        .fetch_values()
        .unwrap()
        .iter()
        .map(|p| p.timestamp)
        .collect();
    assert_eq!(times[1..], [given, earlier]);
}

// ---- limits --------------------------------------------------------------

#[test]
fn strings_longer_than_the_limit_are_refused_and_the_limit_is_accepted() {
    assert_eq!(MAX_STRING_BYTES, 1 << 20);
    let run = new_run();
    let max = "x".repeat(MAX_STRING_BYTES);
    let over = "x".repeat(MAX_STRING_BYTES + 1);
    let detail = format!("a string of {} bytes", MAX_STRING_BYTES + 1);

    run.at("text").assign(max.as_str()).unwrap();
    assert_eq!(run.at("text").fetch().unwrap(), Value::String(max.clone()));
    assert_out_of_range(
        run.at("text").assign(over.as_str()).unwrap_err(),
        "text",
        &detail,
    );
    assert_eq!(run.at("text").fetch().unwrap(), Value::String(max.clone()));

    run.at("log").append(max.as_str()).unwrap();
    assert_out_of_range(
        run.at("log").append(over.clone()).unwrap_err(),
        "log",
        &detail,
    );
    assert_out_of_range(
        run.at("log").append_at(9, over.as_str()).unwrap_err(),
        "log",
        &detail,
    );
    assert_eq!(steps(&run, "log"), [0.0]);

    run.at("tags").add([max.as_str()]).unwrap();
    assert_out_of_range(
        run.at("tags").add(["ok", over.as_str()]).unwrap_err(),
        "tags",
        &detail,
    );
    assert_out_of_range(
        run.at("tags")
            .assign(BTreeSet::from([over.clone()]))
            .unwrap_err(),
        "tags",
        &detail,
    );
    assert_eq!(
        run.at("tags").fetch().unwrap(),
        Value::StringSet(BTreeSet::from([max]))
    );

    // The limit counts bytes, not characters.
    let wide = "é".repeat(MAX_STRING_BYTES / 2 + 1); // 2 bytes each
    assert!(wide.chars().count() < MAX_STRING_BYTES);
    assert_out_of_range(
        run.at("wide").assign(wide.as_str()).unwrap_err(),
        "wide",
        &format!("a string of {} bytes", wide.len()),
    );
    let err = run.at("x/y").assign(over.as_str()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "value for `x/y` is out of range: a string of {} bytes is longer than the limit \
             of {MAX_STRING_BYTES} bytes (log long text as a File)",
            MAX_STRING_BYTES + 1
        )
    );
}

#[test]
fn times_beyond_what_a_store_keeps_exactly_are_refused_not_clamped() {
    let run = new_run();
    let epoch = SystemTime::UNIX_EPOCH;
    // The extremes of nanoseconds since 1970 in an i64 are accepted.
    let first = epoch - Duration::from_nanos(i64::MIN.unsigned_abs());
    let last = epoch + Duration::from_nanos(i64::MAX as u64);
    run.at("t/first").assign(first).unwrap();
    run.at("t/last").assign(last).unwrap();
    assert_eq!(run.at("t/first").fetch().unwrap(), Value::Datetime(first));
    let detail = "outside the times a store keeps exactly";
    for (path, t) in [
        ("t/first", first - Duration::from_nanos(1)),
        ("t/last", last + Duration::from_nanos(1)),
        ("t/new", epoch + Duration::from_secs(400 * 365 * 86_400)),
    ] {
        assert_out_of_range(run.at(path).assign(t).unwrap_err(), path, detail);
    }
    assert_eq!(run.at("t/last").fetch().unwrap(), Value::Datetime(last));
    assert_eq!(run.at("t/new").field_type().unwrap(), None);

    // A point's timestamp too, on the first point (no empty series is left)
    // and on a later one.
    let late = LogOptions::new().timestamp(last + Duration::from_secs(1));
    assert_out_of_range(
        0.5.append_at(run.root(), "loss", &late).unwrap_err(),
        "loss",
        detail,
    );
    assert_eq!(run.at("loss").field_type().unwrap(), None);
    run.at("loss").append(0.5).unwrap();
    assert_out_of_range(
        0.25.append_at(&run.at("loss"), "", &late).unwrap_err(),
        "loss",
        detail,
    );
    assert_eq!(steps(&run, "loss"), [0.0]);
}

#[test]
fn integers_beyond_i64_are_refused() {
    let run = new_run();
    assert_out_of_range(
        run.at("n").assign(u64::MAX).unwrap_err(),
        "n",
        "18446744073709551615 does not fit an Int (64-bit signed)",
    );
    assert_out_of_range(
        run.at("ns")
            .at("n")
            .assign(i64::MAX as u64 + 1)
            .unwrap_err(),
        "ns/n",
        "9223372036854775808",
    );
    assert_out_of_range(
        run.at("w").assign(u128::MAX).unwrap_err(),
        "w",
        "does not fit",
    );
    assert_out_of_range(
        run.at("w").assign(i128::MIN).unwrap_err(),
        "w",
        "does not fit",
    );
    assert_eq!(run.at("n").field_type().unwrap(), None);
    run.at("n").assign(i64::MAX as u64).unwrap();
    assert_eq!(run.at("n").fetch().unwrap(), Value::Int(i64::MAX));
    run.at("m").assign(i64::MIN).unwrap();
    assert_eq!(run.at("m").fetch().unwrap(), Value::Int(i64::MIN));
    run.at("u").assign(usize::MAX >> 1).unwrap();
    // Reading back into a narrower type is a range error too.
    run.at("big").assign(300).unwrap();
    assert_out_of_range(
        run.at("big").fetch_as::<u8>().unwrap_err(),
        "big",
        "300 does not fit u8",
    );
    assert_eq!(run.at("big").fetch_as::<u16>().unwrap(), 300);
}

#[test]
fn invalid_paths_are_reported_with_the_joined_path_and_offset() {
    let run = new_run();
    assert_invalid_path(
        run.at("a//b").assign(1).unwrap_err(),
        "a//b",
        PathErrorKind::EmptySegment,
        2,
    );
    // The offset is within the joined path, as `validate` gives it there.
    let err = run.at("params").at("a//b").assign(1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid path `params/a//b`: empty segment (`//`) at byte 9"
    );
    let expected = hippocamp_core::path::validate("params/a//b").unwrap_err();
    assert_invalid_path(err, "params/a//b", expected.kind, expected.offset);
    assert_invalid_path(
        run.at("params").at("lr ").fetch().unwrap_err(),
        "params/lr ",
        PathErrorKind::TrailingWhitespace,
        9,
    );
    assert_invalid_path(
        run.at("params").at("x").at("\ty").append(1.0).unwrap_err(),
        "params/x/\ty",
        PathErrorKind::ControlCharacter('\t'),
        9,
    );
    // A bad base makes every handler under it bad, at the base's offset.
    let bad = run.at("a//b");
    assert_invalid_path(
        bad.at("c").assign(1).unwrap_err(),
        "a//b/c",
        PathErrorKind::EmptySegment,
        2,
    );
    // Every operation reports it, reads included; nothing was created.
    let h = run.at("p").at("q//r");
    let results = [
        h.assign(1),
        h.append(1.0),
        h.append_at(1, 1.0),
        h.extend([1.0]),
        h.upload_bytes(vec![1], "f"),
        h.add(["a"]),
        h.remove(["a"]),
        h.clear(),
        h.delete(),
        h.fetch().map(drop),
        h.fetch_last().map(drop),
        h.fetch_values().map(drop),
        h.download().map(drop),
        h.field_type().map(drop),
        h.structure().map(drop),
    ];
    for result in results {
        assert_invalid_path(
            result.unwrap_err(),
            "p/q//r",
            PathErrorKind::EmptySegment,
            4,
        );
    }
    assert!(run.structure().unwrap().is_empty());
}

#[test]
fn paths_up_to_1024_bytes_are_accepted_and_longer_ones_refused() {
    assert_eq!(MAX_PATH_BYTES, 1024);
    let run = new_run();
    let exact = "a".repeat(1024);
    run.at(exact.as_str()).assign(1).unwrap();
    assert_eq!(run.at(exact.as_str()).fetch().unwrap(), Value::Int(1));
    let over = "a".repeat(1025);
    assert_invalid_path(
        run.at(over.as_str()).assign(1).unwrap_err(),
        &over,
        PathErrorKind::TooLong(1025),
        1024,
    );
    // The limit is on the joined path.
    let ns = run.at("p");
    let rel = "b".repeat(1022);
    ns.at(rel.as_str()).assign(1).unwrap();
    let rel = "b".repeat(1023);
    assert_invalid_path(
        ns.at(rel.as_str()).assign(1).unwrap_err(),
        &format!("p/{rel}"),
        PathErrorKind::TooLong(1025),
        1024,
    );
    // Multi-byte characters count in bytes: 512 × 'é' is 1024 bytes.
    let wide = "é".repeat(512);
    run.at(wide.as_str()).assign(1).unwrap();
    let wider = format!("{wide}x");
    assert_invalid_path(
        run.at(wider.as_str()).assign(1).unwrap_err(),
        &wider,
        PathErrorKind::TooLong(1025),
        1024,
    );
}

// ---- delete ------------------------------------------------------------

#[test]
fn a_deleted_namespace_path_can_become_another_type() {
    let run = new_run();
    run.at("tmp/x").assign(1).unwrap();
    run.at("tmp/loss").append(0.5).unwrap();
    run.at("tmp").delete().unwrap();
    assert_eq!(run.at("tmp").field_type().unwrap(), None);
    run.at("tmp").assign(2.5).unwrap();
    assert_eq!(run.at("tmp").field_type().unwrap(), Some(FieldType::Float));
    assert_eq!(run.at("tmp").fetch().unwrap(), Value::Float(2.5));
    // And a namespace again under another name, with a series that starts
    // afresh.
    run.at("again/loss").extend([1.0, 2.0, 3.0]).unwrap();
    run.at("again").delete().unwrap();
    run.at("again/loss").append(9.0).unwrap();
    assert_eq!(floats(&run, "again/loss"), [9.0]);
    assert_eq!(steps(&run, "again/loss"), [0.0]);
    run.at("again").delete().unwrap();
    run.at("again/loss").assign("text").unwrap();
    assert_eq!(
        run.at("again/loss").fetch().unwrap(),
        Value::String("text".into())
    );
}

#[test]
fn delete_removes_everything_under_the_namespace() {
    let run = new_run();
    run.at("exp/params/lr").assign(0.1).unwrap();
    run.at("exp/params/opt/name").assign("adam").unwrap();
    run.at("exp/train/loss").append(0.5).unwrap();
    run.at("exp/model")
        .upload_bytes(vec![1, 2], "m.bin")
        .unwrap();
    run.at("exp/tags").add(["a"]).unwrap();
    run.at("keep").assign(1).unwrap();
    run.at("exp").delete().unwrap();
    for path in [
        "exp",
        "exp/params",
        "exp/params/lr",
        "exp/params/opt/name",
        "exp/train/loss",
        "exp/model",
        "exp/tags",
    ] {
        assert_not_found(run.at(path).fetch().unwrap_err(), path);
        assert_eq!(run.at(path).field_type().unwrap(), None);
    }
    assert_not_found(
        run.at("exp/train/loss").fetch_values().unwrap_err(),
        "exp/train/loss",
    );
    assert_not_found(run.at("exp/model").download().unwrap_err(), "exp/model");
    assert_not_found(run.at("exp").delete().unwrap_err(), "exp");
    assert_eq!(run.structure().unwrap().to_string(), "|--> keep: 1\n");
}

#[test]
fn empty_parent_namespaces_disappear_after_a_delete() {
    let run = new_run();
    run.at("a/b/c/x").assign(1).unwrap();
    run.at("a/keep").assign(2).unwrap();
    run.at("a/b/c").delete().unwrap();
    // `a/b` held only `c`: it is gone; `a` still holds `keep`.
    assert_eq!(run.at("a/b").field_type().unwrap(), None);
    assert_eq!(
        run.at("a").field_type().unwrap(),
        Some(FieldType::Namespace)
    );
    assert_eq!(
        run.structure().unwrap().to_string(),
        "|--> a\n     |--> keep: 2\n"
    );
    // A chain with nothing else goes up to the root.
    run.at("p/q/r/s").assign(1).unwrap();
    run.at("p/q/r").delete().unwrap();
    assert_eq!(run.at("p").field_type().unwrap(), None);
    assert_eq!(run.at("p/q").field_type().unwrap(), None);
    // The freed name can be a field now.
    run.at("p").assign(true).unwrap();
    assert_eq!(run.at("p").fetch().unwrap(), Value::Bool(true));
}

#[test]
fn delete_applies_to_namespaces_only() {
    let run = new_run();
    run.at("f").assign(1.0).unwrap();
    assert_unsupported(
        run.at("f").delete().unwrap_err(),
        "f",
        FieldType::Float,
        Operation::Delete,
    );
    assert_eq!(run.at("f").fetch().unwrap(), Value::Float(1.0));
}

#[test]
fn a_handler_made_before_a_delete_and_recreate_sees_the_new_field() {
    let run = new_run();
    let x = run.at("tmp/x");
    let ns = run.at("tmp");
    x.assign(1).unwrap();
    assert_eq!(x.fetch().unwrap(), Value::Int(1)); // resolved and cached
    assert_eq!(ns.fetch().unwrap().get("x"), Some(&Value::Int(1)));
    let cloned = x.clone();

    run.at("tmp").delete().unwrap();
    assert_not_found(x.fetch().unwrap_err(), "tmp/x");
    assert_not_found(ns.fetch().unwrap_err(), "tmp");

    run.at("tmp/x").assign("new").unwrap();
    assert_eq!(x.fetch().unwrap(), Value::String("new".into()));
    assert_eq!(cloned.fetch().unwrap(), Value::String("new".into()));
    assert_eq!(
        ns.fetch().unwrap().get("x"),
        Some(&Value::String("new".into()))
    );
    assert_type_mismatch(
        x.assign(2).unwrap_err(),
        "tmp/x",
        FieldType::String,
        FieldType::Int,
    );

    // A handler's namespace replaced by a field: children are under a field.
    run.at("tmp").delete().unwrap();
    run.at("tmp").assign(5).unwrap();
    assert_eq!(ns.fetch().unwrap(), Value::Int(5));
    assert_not_found(x.fetch().unwrap_err(), "tmp/x");
    assert!(matches!(
        ns.at("x").assign(1).unwrap_err(),
        Error::NamespaceConflict { conflict: Conflict::UnderField { field, .. }, .. } if field == "tmp"
    ));
}

// ---- sys/ ------------------------------------------------------------------

#[test]
fn system_fields_are_read_only() {
    let run = new_run();
    let cases: [(&str, FieldType, Write); 6] = [
        ("sys/id", FieldType::String, |h| h.assign("mine")),
        ("sys/creation_time", FieldType::Datetime, |h| {
            h.assign(SystemTime::now())
        }),
        ("sys/state", FieldType::String, |h| h.assign("finished")),
        ("sys/hostname", FieldType::String, |h| h.assign("elsewhere")),
        ("sys/failed", FieldType::Bool, |h| h.assign(true)),
        ("sys/project", FieldType::String, |h| h.assign("other")),
    ];
    for (path, field_type, write) in cases {
        let h = run.at(path);
        assert_eq!(h.field_type().unwrap(), Some(field_type), "{path}");
        let before = h.fetch().unwrap();
        let err = write(&h).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot write `{path}`: it is owned by the system (in `sys/` only \
                 `sys/name`, `sys/description` and `sys/tags` are the user's)"
            )
        );
        assert_read_only(err, path, ReadOnlyReason::SystemField);
        // Relative handlers too, and every kind of write.
        let rel = run.at("sys").at(path.trim_start_matches("sys/"));
        assert_read_only(write(&rel).unwrap_err(), path, ReadOnlyReason::SystemField);
        assert_read_only(
            h.append(1.0).unwrap_err(),
            path,
            ReadOnlyReason::SystemField,
        );
        assert_read_only(h.clear().unwrap_err(), path, ReadOnlyReason::SystemField);
        assert_read_only(h.add(["x"]).unwrap_err(), path, ReadOnlyReason::SystemField);
        assert_read_only(
            h.upload_bytes(vec![1], "f").unwrap_err(),
            path,
            ReadOnlyReason::SystemField,
        );
        assert_eq!(h.fetch().unwrap(), before, "{path}");
    }
}

#[test]
fn nothing_can_be_created_under_sys_and_sys_cannot_be_deleted() {
    let run = new_run();
    let before = run.at("sys").structure().unwrap();
    assert_read_only(
        run.at("sys/anything").assign(1).unwrap_err(),
        "sys/anything",
        ReadOnlyReason::SystemField,
    );
    assert_read_only(
        run.at("sys").at("deep/er").append(1.0).unwrap_err(),
        "sys/deep/er",
        ReadOnlyReason::SystemField,
    );
    assert_read_only(
        run.at("sys/files").upload_bytes(vec![1], "f").unwrap_err(),
        "sys/files",
        ReadOnlyReason::SystemField,
    );
    assert_read_only(
        run.at("sys/set").add(["a"]).unwrap_err(),
        "sys/set",
        ReadOnlyReason::SystemField,
    );
    assert_read_only(
        run.at("sys").delete().unwrap_err(),
        "sys",
        ReadOnlyReason::SystemField,
    );
    assert_read_only(
        run.root().delete().unwrap_err(),
        "sys",
        ReadOnlyReason::SystemField,
    );
    match run.at("sys").assign(1).unwrap_err() {
        Error::ReadOnly { path, .. } | Error::NamespaceConflict { path, .. } => {
            assert_eq!(path, "sys")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(run.at("sys").structure().unwrap(), before);
    // A user's field under sys/ holds nothing either.
    assert!(matches!(
        run.at("sys/name/x").assign(1).unwrap_err(),
        Error::NamespaceConflict { conflict: Conflict::UnderField { field, .. }, .. } if field == "sys/name"
    ));
}

#[test]
fn name_description_and_tags_are_the_users() {
    let run = Run::builder()
        .project("rules")
        .name("baseline")
        .description("first try")
        .tags(["cnn", "baseline"])
        .tags(vec!["more".to_owned()])
        .mode(Mode::Debug)
        .start()
        .unwrap();
    assert_eq!(
        run.at("sys/name").fetch().unwrap(),
        Value::String("baseline".into())
    );
    assert_eq!(
        run.at("sys/description").fetch().unwrap(),
        Value::String("first try".into())
    );
    let tags: BTreeSet<String> = run.at("sys/tags").fetch().unwrap().try_into().unwrap();
    assert_eq!(
        tags,
        BTreeSet::from(["cnn", "baseline", "more"].map(String::from))
    );
    assert_eq!(
        run.at("sys/name").field_type().unwrap(),
        Some(FieldType::String)
    );
    assert_eq!(
        run.at("sys/description").field_type().unwrap(),
        Some(FieldType::String)
    );
    assert_eq!(
        run.at("sys/tags").field_type().unwrap(),
        Some(FieldType::StringSet)
    );

    run.at("sys/name").assign("renamed").unwrap();
    run.at("sys")
        .at("description")
        .assign(String::from("second"))
        .unwrap();
    run.at("sys/tags").add(["x"]).unwrap();
    run.at("sys/tags").remove(["cnn"]).unwrap();
    assert_eq!(
        run.at("sys/name").fetch().unwrap(),
        Value::String("renamed".into())
    );
    assert_eq!(
        run.at("sys/description").fetch().unwrap(),
        Value::String("second".into())
    );
    let tags: BTreeSet<String> = run.at("sys/tags").fetch().unwrap().try_into().unwrap();
    assert_eq!(
        tags,
        BTreeSet::from(["baseline", "more", "x"].map(String::from))
    );
    run.at("sys/tags").assign(HashSet::from(["only"])).unwrap();
    assert_eq!(
        run.at("sys/tags").fetch().unwrap(),
        Value::StringSet(BTreeSet::from(["only".to_owned()]))
    );
    run.at("sys/tags").clear().unwrap();
    assert_eq!(
        run.at("sys/tags").fetch().unwrap(),
        Value::StringSet(BTreeSet::new())
    );

    // Their types are fixed.
    assert_type_mismatch(
        run.at("sys/name").assign(1).unwrap_err(),
        "sys/name",
        FieldType::String,
        FieldType::Int,
    );
    assert_unsupported(
        run.at("sys/tags").append("x").unwrap_err(),
        "sys/tags",
        FieldType::StringSet,
        Operation::Append,
    );
    assert_unsupported(
        run.at("sys/name").delete().unwrap_err(),
        "sys/name",
        FieldType::String,
        Operation::Delete,
    );

    // Without the builder's settings they exist, empty.
    let plain = new_run();
    assert_eq!(
        plain.at("sys/name").fetch().unwrap(),
        Value::String(String::new())
    );
    assert_eq!(
        plain.at("sys/description").fetch().unwrap(),
        Value::String(String::new())
    );
    assert_eq!(
        plain.at("sys/tags").fetch().unwrap(),
        Value::StringSet(BTreeSet::new())
    );
}

#[test]
fn system_fields_hold_the_runs_facts() {
    let before = SystemTime::now();
    let run = Run::builder()
        .project("facts")
        .mode(Mode::Debug)
        .start()
        .unwrap();
    let after = SystemTime::now();
    assert_eq!(
        run.at("sys/id").fetch().unwrap(),
        Value::String(run.id().to_owned())
    );
    assert_eq!(
        run.at("sys/project").fetch().unwrap(),
        Value::String("facts".into())
    );
    assert_eq!(run.project(), "facts");
    assert_eq!(run.mode(), Mode::Debug);
    let created: SystemTime = run
        .at("sys/creation_time")
        .fetch()
        .unwrap()
        .try_into()
        .unwrap();
    // The creation time comes from the points' coarse clock, which may
    // lag `SystemTime::now()` by one tick (a few ms), never lead it.
    assert!(created <= after, "{created:?} > {after:?}");
    assert!(before.duration_since(created).unwrap_or_default() < Duration::from_millis(50));
    let host: String = run.at("sys/hostname").fetch().unwrap().try_into().unwrap();
    assert!(!host.is_empty());
    assert_eq!(
        run.at("sys/state").fetch().unwrap(),
        Value::String("running".into())
    );
    assert_eq!(run.at("sys/failed").fetch().unwrap(), Value::Bool(false));
    let sys = run.at("sys").fetch().unwrap();
    let Value::Namespace(map) = &sys else {
        panic!("{sys:?}")
    };
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "creation_time",
            "description",
            "failed",
            "hostname",
            "id",
            "name",
            "project",
            "state",
            "tags"
        ]
    );
    assert_eq!(run.root().run_id(), run.id());
    assert_eq!(run.at("a/b").run_id(), run.id());
}

#[test]
fn set_failed_marks_the_run() {
    let run = new_run();
    run.set_failed(true).unwrap();
    assert_eq!(run.at("sys/failed").fetch().unwrap(), Value::Bool(true));
    run.set_failed(false).unwrap();
    assert_eq!(run.at("sys/failed").fetch().unwrap(), Value::Bool(false));
    run.set_failed(true).unwrap();
    run.close().unwrap();
    assert_eq!(run.at("sys/failed").fetch().unwrap(), Value::Bool(true));
    assert_closed(run.set_failed(false), run.id());
    assert_eq!(run.at("sys/failed").fetch().unwrap(), Value::Bool(true));
}

// ---- closing -----------------------------------------------------------------

#[test]
fn state_is_running_then_finished_after_close() {
    let run = new_run();
    let state = run.at("sys/state");
    assert_eq!(state.fetch().unwrap(), Value::String("running".into()));
    run.flush().unwrap();
    assert_eq!(state.fetch().unwrap(), Value::String("running".into()));
    run.close().unwrap();
    assert_eq!(state.fetch().unwrap(), Value::String("finished".into()));
}

#[test]
fn writes_after_close_are_refused_and_reads_still_work() {
    let run = new_run();
    run.at("n").assign(1).unwrap();
    run.at("loss").append(0.5).unwrap();
    run.at("tags").add(["a"]).unwrap();
    run.at("ns/x").assign(1).unwrap();
    run.at("f").upload_bytes(vec![1, 2], "f.bin").unwrap();
    let structure = run.structure().unwrap();
    let clone = run.clone();
    run.close().unwrap();

    let id = run.id().to_owned();
    let err = run.at("n").assign(2).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("run {id} is closed; start or resume it again to log more")
    );
    assert_closed(Err(err), &id);
    assert_closed(run.at("new").assign(2), &id);
    assert_closed(run.at("loss").append(0.1), &id);
    assert_closed(run.at("loss").append_at(9, 0.1), &id);
    assert_closed(run.at("loss").extend([0.1]), &id);
    assert_closed(run.at("loss").clear(), &id);
    assert_closed(run.at("tags").add(["b"]), &id);
    assert_closed(run.at("tags").remove(["a"]), &id);
    assert_closed(run.at("ns").delete(), &id);
    assert_closed(run.at("f").upload_bytes(vec![3], "g"), &id);
    assert_closed(clone.at("n").assign(3), &id);
    assert_closed(run.at("sys/name").assign("late"), &id);

    assert_eq!(run.at("n").fetch().unwrap(), Value::Int(1));
    assert_eq!(
        run.at("loss").fetch_last().unwrap().value,
        Value::Float(0.5)
    );
    assert_eq!(run.at("loss").fetch_values().unwrap().len(), 1);
    assert_eq!(run.at("f").download().unwrap(), [1, 2]);
    assert_eq!(
        clone.at("ns").fetch().unwrap().get("x"),
        Some(&Value::Int(1))
    );
    assert_eq!(run.structure().unwrap(), structure);

    run.close().unwrap();
    clone.close().unwrap();
    run.flush().unwrap();
    assert_eq!(
        run.at("sys/state").fetch().unwrap(),
        Value::String("finished".into())
    );
}

// ---- runs --------------------------------------------------------------------

fn number(id: &str, key: &str) -> u64 {
    let n = id
        .strip_prefix(key)
        .and_then(|rest| rest.strip_prefix('-'))
        .unwrap_or_else(|| panic!("{id} does not start with {key}-"));
    n.parse()
        .unwrap_or_else(|_| panic!("{id}: {n} is not a number"))
}

#[test]
fn run_ids_are_numbered_per_project() {
    let start = |project: &str| {
        Run::builder()
            .project(project)
            .mode(Mode::Debug)
            .start()
            .unwrap()
    };
    // Only this test uses these projects, so the numbers follow each other.
    let a1 = start("mnist");
    let a2 = start("mnist");
    let b1 = start("ids-other");
    let a3 = start("MNIST");
    let b2 = start("ids other");
    assert_eq!(number(a2.id(), "MNIST"), number(a1.id(), "MNIST") + 1);
    assert_eq!(number(a3.id(), "MNIST"), number(a2.id(), "MNIST") + 1);
    assert_eq!(number(b2.id(), "IDSOTHER"), number(b1.id(), "IDSOTHER") + 1);
    assert_eq!(number(b1.id(), "IDSOTHER"), 1);
    // The default project.
    let d = Run::builder().mode(Mode::Debug).start().unwrap();
    assert_eq!(d.project(), "default");
    number(d.id(), "DEFAULT");
    // A project key of no letters or digits.
    number(start("---").id(), "RUN");
    assert_eq!(hippocamp_core::project_key("my-proj 2"), "MYPROJ2");
}

#[test]
fn a_chosen_run_id_is_used_as_given() {
    let run = Run::builder()
        .project("mnist")
        .run_id("ddp-42.x_1")
        .mode(Mode::Debug)
        .start()
        .unwrap();
    assert_eq!(run.id(), "ddp-42.x_1");
    assert_eq!(
        run.at("sys/id").fetch().unwrap(),
        Value::String("ddp-42.x_1".into())
    );
    assert_eq!(
        run.at("sys/project").fetch().unwrap(),
        Value::String("mnist".into())
    );
}

#[test]
fn run_ids_projects_and_file_names_follow_one_set_of_rules() {
    let dir = tempfile::tempdir().unwrap();
    let long_id = "x".repeat(2 << 20);
    for mode in [Mode::Debug, Mode::Async] {
        for id in ["", "a\nb", "nul\0", "a b", "a:b", long_id.as_str()] {
            match Run::builder().run_id(id).mode(mode).dir(dir.path()).start() {
                Err(Error::InvalidSetting { setting, detail }) => {
                    assert_eq!(setting, "run_id");
                    assert!(detail.len() < 200, "the message stays short: {detail}");
                }
                other => panic!("{:?}: {other:?}", id.get(..10)),
            }
        }
        for project in ["", " mnist", "a\u{0}b", &"p".repeat(2 << 20)] {
            match Run::builder()
                .project(project)
                .mode(mode)
                .dir(dir.path())
                .start()
            {
                Err(Error::InvalidSetting { setting, .. }) => assert_eq!(setting, "project"),
                other => panic!("{:?}: {other:?}", project.get(..10)),
            }
        }
    }
    // No run was made of those.
    let runs = hippocamp_core::sqlite::Repository::open(dir.path())
        .map(|repo| repo.runs().unwrap().len())
        .unwrap_or(0);
    assert_eq!(runs, 0);
    let run = Run::builder().mode(Mode::Debug).start().unwrap();
    let long_name = "f".repeat(2 << 20);
    for name in ["", "nul\0.bin", "a/b.png", long_name.as_str()] {
        match run.at("model").upload_bytes(b"x".to_vec(), name) {
            Err(Error::OutOfRange { path, .. }) => assert_eq!(path, "model"),
            other => panic!("{:?}: {other:?}", name.get(..10)),
        }
        let file = File::from_bytes(b"x".to_vec(), name);
        assert!(matches!(
            run.at("samples").append(file),
            Err(Error::OutOfRange { .. })
        ));
    }
    assert!(run.at("model").field_type().unwrap().is_none());
}

#[test]
fn the_default_mode_is_async() {
    assert_eq!(Mode::default(), Mode::Async);
}

#[test]
fn a_read_only_run_refuses_every_write() {
    let run = Run::from_parts(
        "RO-1".into(),
        "ro".into(),
        Mode::ReadOnly,
        Box::new(MemoryStore::default()),
    );
    assert_eq!(run.mode(), Mode::ReadOnly);
    let err = run.at("a/b").assign(1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot write `a/b`: the run was opened in read-only mode (Mode::ReadOnly)"
    );
    assert_read_only(err, "a/b", ReadOnlyReason::ReadOnlyMode);
    assert_read_only(
        run.at("s").append(1.0).unwrap_err(),
        "s",
        ReadOnlyReason::ReadOnlyMode,
    );
    assert_read_only(
        run.at("t").add(["a"]).unwrap_err(),
        "t",
        ReadOnlyReason::ReadOnlyMode,
    );
    assert_read_only(
        run.set_failed(true).unwrap_err(),
        "sys/failed",
        ReadOnlyReason::ReadOnlyMode,
    );
    assert!(run.structure().unwrap().is_empty());
    run.close().unwrap();
    // Closing a read-only run writes no state.
    assert_not_found(run.at("sys/state").fetch().unwrap_err(), "sys/state");
}

// ---- files ---------------------------------------------------------------------

#[test]
fn uploaded_bytes_download_back() {
    let run = new_run();
    let h = run.at("preprocessing/scaler");
    h.upload_bytes(b"weights".to_vec(), "scaler.pkl").unwrap();
    assert_eq!(h.download().unwrap(), b"weights");
    assert_eq!(
        h.fetch().unwrap(),
        Value::File(FileInfo {
            name: "scaler.pkl".into(),
            extension: "pkl".into(),
            size: 7
        })
    );
    // A new upload replaces it; so does assigning a File.
    h.upload_bytes(vec![1, 2, 3], "scaler.bin").unwrap();
    assert_eq!(h.download().unwrap(), [1, 2, 3]);
    h.assign(File::from_bytes(vec![4], "s.npy")).unwrap();
    assert_eq!(h.download().unwrap(), [4]);
    let info: FileInfo = h.fetch().unwrap().try_into().unwrap();
    assert_eq!(
        (info.name.as_str(), info.extension.as_str(), info.size),
        ("s.npy", "npy", 1)
    );
    // Empty files and names without an extension.
    run.at("empty").upload_bytes(Vec::new(), "README").unwrap();
    assert_eq!(run.at("empty").download().unwrap(), Vec::<u8>::new());
    let info: FileInfo = run.at("empty").fetch().unwrap().try_into().unwrap();
    assert_eq!((info.extension.as_str(), info.size), ("", 0));
    // A File has no steps.
    assert_not_found(h.download_at(0).unwrap_err(), "preprocessing/scaler@0");
}

#[test]
fn a_file_on_disk_is_uploaded_and_a_missing_one_is_an_error() {
    let run = new_run();
    let path = temp_file("model.onnx");
    std::fs::write(&path, b"onnx bytes").unwrap();
    let uploaded = run.at("model").upload(&path);
    let assigned = run
        .at("copy")
        .assign(File::from_path(&path).with_name("renamed.bin"));
    std::fs::remove_file(&path).unwrap();
    uploaded.unwrap();
    assigned.unwrap();
    // The bytes were read at the call: gone from disk, still in the run.
    assert_eq!(run.at("model").download().unwrap(), b"onnx bytes");
    let info: FileInfo = run.at("model").fetch().unwrap().try_into().unwrap();
    assert_eq!(info.name, path.file_name().unwrap().to_str().unwrap());
    assert_eq!((info.extension.as_str(), info.size), ("onnx", 10));
    let info: FileInfo = run.at("copy").fetch().unwrap().try_into().unwrap();
    assert_eq!(info.name, "renamed.bin");

    let missing = temp_file("missing.png");
    for result in [
        run.at("img").upload(&missing),
        run.at("img").assign(File::from_path(&missing)),
        run.at("imgs").append(File::from_path(&missing)),
    ] {
        let err = result.unwrap_err();
        assert!(err.to_string().starts_with("cannot upload `"), "{err}");
        match err {
            Error::File { path, file, source } => {
                assert!(path == "img" || path == "imgs", "{path}");
                assert_eq!(file, missing);
                assert_eq!(source.kind(), ErrorKind::NotFound);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(run.at("img").field_type().unwrap(), None);
    assert_eq!(run.at("imgs").field_type().unwrap(), None);
}

#[test]
fn a_file_series_appends_and_downloads_by_step() {
    let run = new_run();
    let imgs = run.at("eval/images");
    imgs.append(File::from_bytes(vec![0], "epoch0.png"))
        .unwrap();
    imgs.append(File::from_bytes(vec![1, 1], "epoch1.png"))
        .unwrap();
    imgs.append_at(10, File::from_bytes(vec![10], "epoch10.png"))
        .unwrap();
    assert_eq!(imgs.field_type().unwrap(), Some(FieldType::FileSeries));
    assert_eq!(imgs.download().unwrap(), [10]);
    assert_eq!(imgs.download_at(0).unwrap(), [0]);
    assert_eq!(imgs.download_at(1u8).unwrap(), [1, 1]);
    assert_eq!(imgs.download_at(10.0).unwrap(), [10]);
    assert_not_found(imgs.download_at(7).unwrap_err(), "eval/images@7");
    let points = imgs.fetch_values().unwrap();
    let seen: Vec<(f64, FileInfo)> = points
        .into_iter()
        .map(|p| (p.step, p.value.try_into().unwrap()))
        .collect();
    assert_eq!(seen[1].0, 1.0);
    assert_eq!(
        seen[1].1,
        FileInfo {
            name: "epoch1.png".into(),
            extension: "png".into(),
            size: 2
        }
    );
    assert_eq!(seen.len(), 3);
    imgs.clear().unwrap();
    assert_not_found(imgs.download().unwrap_err(), "eval/images");
    assert_not_found(imgs.download_at(0).unwrap_err(), "eval/images@0");
}

#[test]
fn file_names_and_extensions() {
    for (name, ext) in [
        ("image.png", "png"),
        ("archive.tar.gz", "gz"),
        (".bashrc", ""),
        ("noext", ""),
        ("trailing.", ""),
    ] {
        assert_eq!(
            File::from_bytes(Vec::new(), name).extension(),
            ext,
            "{name}"
        );
    }
    let f = File::from_path("/some/dir/scaler.pkl");
    assert_eq!((f.name(), f.extension()), ("scaler.pkl", "pkl"));
}

// ---- sets ------------------------------------------------------------------

#[test]
fn a_string_set_adds_removes_clears_and_fetches() {
    let run = new_run();
    let tags = run.at("tags");
    tags.add(["b", "a"]).unwrap();
    tags.add(vec!["a".to_owned(), "c".to_owned()]).unwrap();
    let set = |items: &[&str]| Value::StringSet(items.iter().map(|s| s.to_string()).collect());
    assert_eq!(tags.fetch().unwrap(), set(&["a", "b", "c"]));
    tags.remove(["a", "absent"]).unwrap();
    assert_eq!(tags.fetch().unwrap(), set(&["b", "c"]));
    tags.add(Vec::<String>::new()).unwrap();
    assert_eq!(tags.fetch().unwrap(), set(&["b", "c"]));
    tags.clear().unwrap();
    assert_eq!(tags.fetch().unwrap(), set(&[]));
    tags.add([""]).unwrap();
    assert_eq!(tags.fetch().unwrap(), set(&[""]));
    // Assigning a set replaces the items; a new path becomes a StringSet.
    tags.assign(BTreeSet::from(["x".to_owned(), "y".to_owned()]))
        .unwrap();
    assert_eq!(tags.fetch().unwrap(), set(&["x", "y"]));
    run.at("other").assign(HashSet::from(["z"])).unwrap();
    assert_eq!(
        run.at("other").field_type().unwrap(),
        Some(FieldType::StringSet)
    );
    // An empty add creates an empty set.
    run.at("empty").add(Vec::<&str>::new()).unwrap();
    assert_eq!(run.at("empty").fetch().unwrap(), set(&[]));
}

// ---- fetch on namespaces, conversions ------------------------------------

#[test]
fn fetch_on_a_namespace_returns_the_nested_values_without_series() {
    let run = new_run();
    run.at("params/lr").assign(0.01).unwrap();
    run.at("params/epochs").assign(20).unwrap();
    run.at("params/opt/name").assign("adam").unwrap();
    run.at("params/opt/nesterov").assign(true).unwrap();
    run.at("params/tags").add(["t"]).unwrap();
    run.at("params/model")
        .upload_bytes(vec![1, 2], "m.bin")
        .unwrap();
    run.at("params/loss").append(0.5).unwrap();
    run.at("params/log").append("x").unwrap();
    run.at("params/opt/history").append(0.1).unwrap();
    run.at("elsewhere").assign(1).unwrap();

    let value = run.at("params").fetch().unwrap();
    let expected = Value::Namespace(BTreeMap::from([
        ("lr".to_owned(), Value::Float(0.01)),
        ("epochs".to_owned(), Value::Int(20)),
        (
            "opt".to_owned(),
            Value::Namespace(BTreeMap::from([
                ("name".to_owned(), Value::String("adam".into())),
                ("nesterov".to_owned(), Value::Bool(true)),
            ])),
        ),
        (
            "tags".to_owned(),
            Value::StringSet(BTreeSet::from(["t".to_owned()])),
        ),
        (
            "model".to_owned(),
            Value::File(FileInfo {
                name: "m.bin".into(),
                extension: "bin".into(),
                size: 2,
            }),
        ),
    ]));
    assert_eq!(value, expected);
    assert_eq!(value.get("opt/name"), Some(&Value::String("adam".into())));
    assert_eq!(value.get("loss"), None);
    assert_eq!(value.get("lr/x"), None);
    assert_eq!(value.field_type(), FieldType::Namespace);
    assert_eq!(
        value.to_string(),
        "{epochs: 20, lr: 0.01, model: File(m.bin, 2 bytes), opt: {name: \"adam\", nesterov: true}, tags: {\"t\"}}"
    );
    // The root holds sys too.
    let root = run.root().fetch().unwrap();
    assert_eq!(root.get("elsewhere"), Some(&Value::Int(1)));
    assert_eq!(
        root.get("sys/id"),
        Some(&Value::String(run.id().to_owned()))
    );
    // A series alone cannot be fetched.
    assert_unsupported(
        run.at("params/loss").fetch().unwrap_err(),
        "params/loss",
        FieldType::FloatSeries,
        Operation::Fetch,
    );
}

#[test]
fn values_convert_to_rust_types() {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(5);
    let set = BTreeSet::from(["a".to_owned()]);
    let info = FileInfo {
        name: "f.txt".into(),
        extension: "txt".into(),
        size: 3,
    };
    assert_eq!(f64::try_from(Value::Float(0.5)).unwrap(), 0.5);
    assert_eq!(f64::try_from(Value::Int(3)).unwrap(), 3.0);
    assert_eq!(i64::try_from(Value::Int(-3)).unwrap(), -3);
    assert!(bool::try_from(Value::Bool(true)).unwrap());
    assert_eq!(String::try_from(Value::String("s".into())).unwrap(), "s");
    assert_eq!(SystemTime::try_from(Value::Datetime(t)).unwrap(), t);
    assert_eq!(
        BTreeSet::<String>::try_from(Value::StringSet(set.clone())).unwrap(),
        set
    );
    assert_eq!(FileInfo::try_from(Value::File(info.clone())).unwrap(), info);

    #[track_caller]
    fn refused<T: TryFrom<Value, Error = Error> + std::fmt::Debug>(
        value: Value,
        expected: &str,
        found: FieldType,
    ) {
        match T::try_from(value) {
            Err(Error::Conversion {
                path,
                expected: e,
                found: f,
            }) => {
                assert_eq!(path, None);
                assert_eq!((e, f), (expected, found));
            }
            other => panic!("{other:?}"),
        }
    }
    refused::<i64>(Value::Float(1.5), "i64", FieldType::Float);
    refused::<f64>(Value::String("1".into()), "f64", FieldType::String);
    refused::<f64>(Value::Bool(true), "f64", FieldType::Bool);
    refused::<bool>(Value::Int(1), "bool", FieldType::Int);
    refused::<String>(
        Value::StringSet(set.clone()),
        "String",
        FieldType::StringSet,
    );
    refused::<SystemTime>(Value::Int(0), "SystemTime", FieldType::Int);
    refused::<BTreeSet<String>>(
        Value::String("a".into()),
        "BTreeSet<String>",
        FieldType::String,
    );
    refused::<FileInfo>(
        Value::Namespace(BTreeMap::new()),
        "FileInfo",
        FieldType::Namespace,
    );
    refused::<i64>(Value::Datetime(t), "i64", FieldType::Datetime);
    refused::<String>(Value::File(info), "String", FieldType::File);

    let err = i64::try_from(Value::Float(1.5)).unwrap_err();
    assert_eq!(err.to_string(), "cannot read a Float as i64");
}

#[test]
fn fetch_as_reads_rust_types_with_paths_in_errors() {
    let run = new_run();
    run.at("n").assign(3).unwrap();
    run.at("lr").assign(0.5).unwrap();
    run.at("s").assign("x").unwrap();
    assert_eq!(run.at("n").fetch_as::<u32>().unwrap(), 3);
    assert_eq!(run.at("n").fetch_as::<f64>().unwrap(), 3.0);
    assert_eq!(run.at("lr").fetch_as::<f32>().unwrap(), 0.5);
    assert_eq!(run.at("s").fetch_as::<String>().unwrap(), "x");
    assert_eq!(run.at("n").fetch_as::<Option<i64>>().unwrap(), Some(3));
    match run.at("lr").fetch_as::<i64>().unwrap_err() {
        Error::Conversion {
            path,
            expected,
            found,
        } => assert_eq!(
            (path.as_deref(), expected, found),
            (Some("lr"), "i64", FieldType::Float)
        ),
        other => panic!("{other:?}"),
    }
    let err = run.at("s").fetch_as::<bool>().unwrap_err();
    assert_eq!(err.to_string(), "cannot read `s`, a String as bool");
}

#[test]
fn assigning_none_writes_nothing() {
    let run = new_run();
    run.at("maybe").assign(None::<i64>).unwrap();
    assert_eq!(run.at("maybe").field_type().unwrap(), None);
    run.at("maybe").assign(Some(4)).unwrap();
    assert_eq!(run.at("maybe").fetch().unwrap(), Value::Int(4));
    run.at("s").append(None::<f64>).unwrap();
    assert_eq!(run.at("s").field_type().unwrap(), None);
}

#[test]
fn deleting_the_root_of_a_run_without_sys_empties_it() {
    let run = Run::from_parts(
        "BARE-1".into(),
        "bare".into(),
        Mode::Debug,
        Box::new(MemoryStore::default()),
    );
    run.at("a/b").assign(1).unwrap();
    run.at("loss").append(0.5).unwrap();
    let a = run.at("a/b");
    assert_eq!(a.fetch().unwrap(), Value::Int(1));
    run.root().delete().unwrap();
    assert!(run.root().structure().unwrap().is_empty());
    assert_eq!(run.root().field_type().unwrap(), Some(FieldType::Namespace));
    assert_not_found(a.fetch().unwrap_err(), "a/b");
    // Everything can be written again, as anything.
    run.at("a").assign("now a string").unwrap();
    run.at("loss/x").assign(2).unwrap();
    assert_eq!(
        run.structure().unwrap().to_string(),
        "|--> a: \"now a string\"\n|--> loss\n     |--> x: 2\n"
    );
    // Nothing under sys/ can be written in such a run either.
    assert_read_only(
        run.at("sys/x").assign(1).unwrap_err(),
        "sys/x",
        ReadOnlyReason::SystemField,
    );
}
