//! `log!`: entries, templates, options, targets and evaluation order.

use std::cell::Cell;
use std::time::{Duration, SystemTime};

use hippocamp::{kind, log, Error, FieldType, LogNamespace, Mode, Run, Typed, TypedPath, Value};

fn debug_run() -> Run {
    Run::builder()
        .mode(Mode::Debug)
        .start()
        .expect("a debug run starts")
}

fn field_type(run: &Run, path: &str) -> Option<FieldType> {
    run.at(path).field_type().expect("field_type reads")
}

#[test]
fn assign_and_append() -> Result<(), Error> {
    let run = debug_run();
    log!(run, "params/lr" => 0.01)?;
    log!(run, "params/name" => "adam")?;
    log!(run, "params/epochs" => 20)?;
    log!(run, "train/loss" += 0.5)?;
    log!(run, "train/loss" += 0.25)?;
    log!(run, "train/log" += "epoch 0 done")?;
    assert_eq!(run.at("params/lr").fetch()?, Value::Float(0.01));
    assert_eq!(run.at("params/name").fetch()?, Value::String("adam".into()));
    assert_eq!(run.at("params/epochs").fetch()?, Value::Int(20));
    assert_eq!(field_type(&run, "train/loss"), Some(FieldType::FloatSeries));
    assert_eq!(run.at("train/loss").fetch_values()?.len(), 2);
    assert_eq!(field_type(&run, "train/log"), Some(FieldType::StringSeries));
    Ok(())
}

#[test]
fn values_are_borrowed_not_moved() -> Result<(), Error> {
    let run = debug_run();
    let name = String::from("resnet");
    log!(run, "model" => name)?;
    log!(run, "model_again" => &name)?;
    assert_eq!(name, "resnet"); // still ours
    Ok(())
}

#[test]
fn several_entries_and_a_trailing_comma() -> Result<(), Error> {
    let run = debug_run();
    log!(run, "a" => 1, "b" => 2.5, "c" += 0.1, "d" => true,)?;
    assert_eq!(run.at("a").fetch()?, Value::Int(1));
    assert_eq!(run.at("b").fetch()?, Value::Float(2.5));
    assert_eq!(field_type(&run, "c"), Some(FieldType::FloatSeries));
    assert_eq!(run.at("d").fetch()?, Value::Bool(true));
    Ok(())
}

#[test]
fn templates_format_variables_into_the_path() -> Result<(), Error> {
    let run = debug_run();
    for fold in 0..3 {
        log!(run, "cv/fold_{fold}/acc" += 0.9)?;
    }
    for fold in 0..3 {
        assert_eq!(
            field_type(&run, &format!("cv/fold_{fold}/acc")),
            Some(FieldType::FloatSeries)
        );
    }
    let split = "val";
    let metric = String::from("f1");
    log!(run, "{split}/{metric}" => 0.7, "{split}/{metric}_x{split}" => 1)?;
    assert_eq!(run.at("val/f1").fetch()?, Value::Float(0.7));
    assert_eq!(run.at("val/f1_xval").fetch()?, Value::Int(1));
    Ok(())
}

#[test]
fn doubled_braces_are_literal_braces() -> Result<(), Error> {
    let run = debug_run();
    let k = 3;
    log!(run, "sets/{{a}}" => 1, "sets/{{k={k}}}" => 2)?;
    assert_eq!(run.at("sets/{a}").fetch()?, Value::Int(1));
    assert_eq!(run.at("sets/{k=3}").fetch()?, Value::Int(2));
    Ok(())
}

#[test]
fn a_template_rendering_an_invalid_path_is_a_runtime_error() -> Result<(), Error> {
    let run = debug_run();
    let name = "a/";
    let err = log!(run, "runs/{name}" => 1).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPath { path, .. } if path == "runs/a/"),
        "{err:?}"
    );
    let empty = "";
    let err = log!(run, "runs/{empty}/x" => 1).unwrap_err();
    assert!(matches!(err, Error::InvalidPath { .. }), "{err:?}");
    let padded = " x";
    let err = log!(run, "runs/{padded}" => 1).unwrap_err();
    assert!(matches!(err, Error::InvalidPath { .. }), "{err:?}");
    assert!(run.structure()?.is_empty());
    Ok(())
}

#[test]
fn step_option() -> Result<(), Error> {
    let run = debug_run();
    log!(run, "loss" += 0.5, "acc" += 0.1, step = 5)?;
    log!(run, "loss" += 0.4, "acc" += 0.2, step = 7u64)?;
    log!(run, "loss" += 0.3, step = 8.5)?;
    let steps: Vec<f64> = run
        .at("loss")
        .fetch_values()?
        .iter()
        .map(|p| p.step)
        .collect();
    assert_eq!(steps, [5.0, 7.0, 8.5]);
    assert_eq!(run.at("acc").fetch_last()?.step, 7.0);
    // The step applies to appends; assignments ignore it.
    log!(run, "lr" => 0.1, step = 100)?;
    assert_eq!(run.at("lr").fetch()?, Value::Float(0.1));
    Ok(())
}

#[test]
fn timestamp_option() -> Result<(), Error> {
    let run = debug_run();
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    log!(run, "loss" += 0.5, timestamp = t)?;
    log!(
        run,
        "loss" += 0.4,
        step = 3,
        timestamp = t + Duration::from_secs(1)
    )?;
    log!(
        run,
        "loss" += 0.3,
        timestamp = t + Duration::from_secs(2),
        step = 4
    )?;
    let points = run.at("loss").fetch_values()?;
    assert_eq!(points[0].timestamp, t);
    assert_eq!(points[1].timestamp, t + Duration::from_secs(1));
    assert_eq!(
        (points[2].step, points[2].timestamp),
        (4.0, t + Duration::from_secs(2))
    );
    Ok(())
}

#[test]
fn targets_run_handler_and_typed_namespace() -> Result<(), Error> {
    let run = debug_run();
    log!(run, "a/run" => 1)?;
    log!(&run, "a/run_ref" => 2)?;
    let a = run.at("a");
    log!(a, "handler" => 3)?;
    log!(&a, "handler_ref" => 4)?;
    log!(run.at("a"), "temporary" => 5)?;
    let typed: Typed<kind::Namespace> = run.at(TypedPath::<kind::Namespace>::new("a"));
    log!(typed, "typed" => 6)?;
    log!(&typed, "typed_ref" => 7)?;
    let nested = run.at("a").at("b");
    log!(nested, "c" => 8)?;
    // The targets were borrowed, not moved.
    assert_eq!(a.path(), "a");
    assert_eq!(typed.path(), "a");
    assert_eq!(
        run.structure()?.to_string(),
        "\
|--> a
     |--> b
          |--> c: 8
     |--> handler: 3
     |--> handler_ref: 4
     |--> run: 1
     |--> run_ref: 2
     |--> temporary: 5
     |--> typed: 6
     |--> typed_ref: 7
"
    );
    Ok(())
}

#[test]
fn a_target_in_a_struct_and_a_reference_to_a_reference() -> Result<(), Error> {
    struct Trainer {
        run: Run,
    }
    let trainer = Trainer { run: debug_run() };
    let by_ref = &trainer;
    log!(by_ref.run, "x" => 1)?;
    let double = &&trainer.run;
    log!(double, "y" => 2)?;
    assert_eq!(trainer.run.at("x").fetch()?, Value::Int(1));
    assert_eq!(trainer.run.at("y").fetch()?, Value::Int(2));
    Ok(())
}

#[test]
fn the_first_failing_entry_stops_the_call() {
    let run = debug_run();
    run.at("fixed").assign("a string").unwrap();
    let evaluated = Cell::new(0);
    let next = || {
        evaluated.set(evaluated.get() + 1);
        evaluated.get()
    };
    let err = log!(run,
        "before/one" => next(),
        "before/two" => next(),
        "fixed" => next(),      // a String field: an Int is refused
        "after/one" => next(),
        "after/two" += next() as f64,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::TypeMismatch { path, .. } if path == "fixed"),
        "{err:?}"
    );
    // The entries before it stay; the ones after it were not evaluated.
    assert_eq!(evaluated.get(), 3);
    assert_eq!(run.at("before/one").fetch().unwrap(), Value::Int(1));
    assert_eq!(run.at("before/two").fetch().unwrap(), Value::Int(2));
    assert_eq!(field_type(&run, "after/one"), None);
    assert_eq!(field_type(&run, "after/two"), None);
}

#[test]
fn target_and_options_are_evaluated_before_the_entries() {
    let run = debug_run();
    let order = std::cell::RefCell::new(Vec::new());
    let note = |what: &'static str| order.borrow_mut().push(what);
    log!(
        {
            note("target");
            &run
        },
        "x" += {
            note("entry 1");
            1.0
        },
        "y" += {
            note("entry 2");
            2.0
        },
        step = {
            note("step");
            1
        },
        timestamp = {
            note("timestamp");
            SystemTime::now()
        },
    )
    .unwrap();
    assert_eq!(
        *order.borrow(),
        ["target", "step", "timestamp", "entry 1", "entry 2"]
    );
}

#[test]
fn question_mark_return_and_break_in_values_mean_what_they_mean_outside() {
    fn parse_and_log(run: &Run, text: &str) -> Result<(), Box<dyn std::error::Error>> {
        log!(run, "parsed" => text.parse::<i64>()?)?;
        Ok(())
    }
    let run = debug_run();
    assert!(parse_and_log(&run, "12").is_ok());
    assert!(parse_and_log(&run, "x").is_err()); // `?` returned from parse_and_log
    assert_eq!(run.at("parsed").fetch().unwrap(), Value::Int(12));

    let mut logged = 0;
    for i in 0..10 {
        log!(run, "loop" += if i == 3 { break } else { f64::from(i) }).unwrap();
        logged += 1;
    }
    assert_eq!(logged, 3);
    assert_eq!(run.at("loop").fetch_values().unwrap().len(), 3);
}

#[test]
fn literal_paths_resolve_again_under_another_target() -> Result<(), Error> {
    // One `log!` callsite, used under several bases and runs.
    let runs = [debug_run(), debug_run()];
    for (i, run) in runs.iter().enumerate() {
        for base in ["a", "b"] {
            let ns = run.at(base);
            for step in 0..3 {
                log!(ns, "loss" += (i * 10 + step) as f64, "name" => base)?;
            }
        }
    }
    for (i, run) in runs.iter().enumerate() {
        for base in ["a", "b"] {
            let values: Vec<Value> = run
                .at(format!("{base}/loss"))
                .fetch_values()?
                .into_iter()
                .map(|p| p.value)
                .collect();
            let expected: Vec<Value> = (0..3).map(|s| Value::Float((i * 10 + s) as f64)).collect();
            assert_eq!(values, expected);
            assert_eq!(
                run.at(format!("{base}/name")).fetch()?,
                Value::String(base.into())
            );
        }
    }
    Ok(())
}

#[test]
fn structs_and_files_as_values() -> Result<(), Error> {
    #[derive(LogNamespace)]
    struct Metrics {
        #[log(series)]
        loss: f64,
        best: f64,
    }
    let run = debug_run();
    log!(
        run,
        "m" += Metrics {
            loss: 0.5,
            best: 0.5
        },
        step = 1
    )?;
    log!(run, "m" => Metrics { loss: 0.25, best: 0.25 }, step = 2)?;
    assert_eq!(run.at("m/loss").fetch_last()?.step, 2.0);
    assert_eq!(run.at("m/best").fetch()?, Value::Float(0.25));
    log!(
        run,
        "img" += hippocamp::File::from_bytes(vec![1, 2], "a.png"),
        step = 4
    )?;
    assert_eq!(field_type(&run, "img"), Some(FieldType::FileSeries));
    Ok(())
}
