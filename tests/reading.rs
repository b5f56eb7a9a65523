//! Reading values back: the `as_…` accessors of `Value`, and typed reads
//! whose conversion errors name the path that was read.

use std::collections::BTreeSet;
use std::time::UNIX_EPOCH;

use hippocamp::{log, Error, FieldType, File, FileInfo, LogNamespace, Mode, Run, Value};

fn debug_run() -> Run {
    Run::builder().mode(Mode::Debug).start().unwrap()
}

/// The path and the two types of a conversion error.
#[track_caller]
fn conversion(err: Error) -> (Option<String>, &'static str, FieldType) {
    match err {
        Error::Conversion {
            path,
            expected,
            found,
        } => (path, expected, found),
        other => panic!("expected a conversion error, got {other:?}"),
    }
}

#[test]
fn accessors_give_the_value_of_their_type_only() {
    let info = FileInfo {
        name: "w.bin".into(),
        extension: "bin".into(),
        size: 4,
    };
    let set: BTreeSet<String> = ["a".to_string()].into();
    let values = [
        Value::Float(0.5),
        Value::Int(-3),
        Value::Bool(true),
        Value::String("s".into()),
        Value::Datetime(UNIX_EPOCH),
        Value::File(info.clone()),
        Value::StringSet(set.clone()),
        Value::Namespace(Default::default()),
    ];
    // Each accessor answers for its own variant (as_f64 for Int too) and
    // gives None for every other.
    let answers = |v: &Value| {
        [
            v.as_f64().is_some(),
            v.as_i64().is_some(),
            v.as_bool().is_some(),
            v.as_str().is_some(),
            v.as_datetime().is_some(),
            v.as_file().is_some(),
            v.as_string_set().is_some(),
            v.as_namespace().is_some(),
        ]
    };
    for (i, value) in values.iter().enumerate() {
        let expected: Vec<bool> = (0..8).map(|j| j == i || (i, j) == (1, 0)).collect();
        assert_eq!(answers(value).to_vec(), expected, "{value:?}");
    }
    assert_eq!(values[0].as_f64(), Some(0.5));
    assert_eq!(values[1].as_f64(), Some(-3.0), "an Int widens");
    assert_eq!(values[1].as_i64(), Some(-3));
    assert_eq!(Value::Float(2.0).as_i64(), None, "a Float is not narrowed");
    assert_eq!(values[2].as_bool(), Some(true));
    assert_eq!(values[3].as_str(), Some("s"));
    assert_eq!(values[4].as_datetime(), Some(UNIX_EPOCH));
    assert_eq!(values[5].as_file(), Some(&info));
    assert_eq!(values[6].as_string_set(), Some(&set));
    assert_eq!(Value::Float(f64::NAN).as_f64().map(f64::is_nan), Some(true));
}

#[test]
fn fetched_points_fold_with_accessors() -> Result<(), Error> {
    let run = debug_run();
    run.at("train/loss").extend([0.9, 0.4, 0.6])?;
    let points = run.at("train/loss").fetch_values()?;
    let min = points
        .iter()
        .filter_map(|p| p.value.as_f64())
        .fold(f64::INFINITY, f64::min);
    assert_eq!(min, 0.4);
    Ok(())
}

#[test]
fn typed_series_reads_name_the_path() -> Result<(), Error> {
    let run = debug_run();
    run.at("train/loss").extend([0.9, 0.5])?;
    run.at("train/log").append("epoch 1")?;
    assert_eq!(run.at("train/loss").fetch_last_as::<f64>()?, 0.5);
    assert_eq!(run.at("train/log").fetch_last_as::<String>()?, "epoch 1");
    assert_eq!(run.at("nothing").fetch_last_as::<Option<f64>>()?, None);

    let err = run.at("train/log").fetch_last_as::<f64>().unwrap_err();
    assert_eq!(
        conversion(err),
        (Some("train/log".into()), "f64", FieldType::String)
    );
    // Through a namespace handler: the full path.
    let err = run
        .at("train")
        .at("loss")
        .fetch_last_as::<String>()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot read `train/loss`, a Float as String"
    );

    let points = run.at("train/loss").fetch_values_as::<f64>()?;
    let values: Vec<f64> = points.iter().map(|p| p.value).collect();
    assert_eq!(values, [0.9, 0.5]);
    assert_eq!(points[1].step, 1.0);
    let err = run.at("train/log").fetch_values_as::<f64>().unwrap_err();
    assert_eq!(
        conversion(err),
        (Some("train/log".into()), "f64", FieldType::String)
    );

    // A file series' points as FileInfo.
    run.at("images")
        .append(File::from_bytes(b"png".to_vec(), "0.png"))?;
    let files = run.at("images").fetch_values_as::<FileInfo>()?;
    assert_eq!(files[0].value.name, "0.png");
    Ok(())
}

#[test]
fn try_into_keeps_compiling_and_with_path_names_the_path() -> Result<(), Error> {
    let run = debug_run();
    run.at("params/lr").assign(0.01)?;
    // The API's form: a Value has no path, so the error names none…
    let lr: f64 = run.at("params/lr").fetch()?.try_into()?;
    assert_eq!(lr, 0.01);
    let handler = run.at("params/lr");
    let err = String::try_from(handler.fetch()?).unwrap_err();
    assert_eq!(err.to_string(), "cannot read a Float as String");
    // …with_path adds it; fetch_as names it by itself.
    let err = err.with_path(handler.path());
    assert_eq!(
        err.to_string(),
        "cannot read `params/lr`, a Float as String"
    );
    let err = handler.fetch_as::<String>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot read `params/lr`, a Float as String"
    );
    // with_path leaves other errors, and a path already named, alone.
    let named = Error::Conversion {
        path: Some("a".into()),
        expected: "f64",
        found: FieldType::Bool,
    };
    assert_eq!(conversion(named.with_path("b")).0.as_deref(), Some("a"));
    let not_found = run.at("nothing").fetch().unwrap_err().with_path("x");
    assert!(matches!(not_found, Error::NotFound { path } if path == "nothing"));
    Ok(())
}

#[derive(LogNamespace, Debug)]
struct Optimizer {
    name: String,
    momentum: f64,
}

#[derive(LogNamespace, Debug)]
struct Params {
    learning_rate: f64,
    optimizer: Optimizer,
}

#[derive(LogNamespace, Debug)]
struct Metrics {
    #[log(series)]
    loss: f64,
}

#[test]
fn derived_structs_name_the_mistyped_field() -> Result<(), Error> {
    let run = debug_run();
    run.at("params/learning_rate").assign(0.1)?;
    run.at("params/optimizer/name").assign(3)?;
    run.at("params/optimizer/momentum").assign(0.9)?;
    let err = run.at("params").fetch_as::<Params>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot read `params/optimizer/name`, an Int as String"
    );
    log!(run, "epoch/loss" += "not a number")?;
    let err = run.at("epoch").fetch_as::<Metrics>().unwrap_err();
    assert_eq!(
        conversion(err),
        (Some("epoch/loss".into()), "f64", FieldType::String)
    );
    Ok(())
}
