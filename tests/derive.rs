//! `#[derive(LogNamespace)]`: what a derived struct logs, its typed paths,
//! and reading it back.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use hippocamp::structure::Entry;
use hippocamp::{kind, log, Error, FieldType, LogNamespace, Mode, Run, Typed, TypedPath, Value};

fn debug_run() -> Run {
    Run::builder()
        .mode(Mode::Debug)
        .start()
        .expect("a debug run starts")
}

#[derive(LogNamespace, Debug, Clone, PartialEq, Default)]
struct Optimizer {
    name: String,
    momentum: f64,
}

#[derive(LogNamespace, Debug, Clone, PartialEq)]
struct Params {
    max_epochs: u32,
    learning_rate: f64,
    #[log(rename = "batch")]
    batch_size: usize,
    #[log(skip)]
    api_key: String,
    optimizer: Optimizer,
}

fn params() -> Params {
    Params {
        max_epochs: 20,
        learning_rate: 0.005,
        batch_size: 64,
        api_key: "secret".into(),
        optimizer: Optimizer {
            name: "sgd".into(),
            momentum: 0.9,
        },
    }
}

#[derive(LogNamespace, Debug, Clone, Copy, PartialEq)]
struct EpochMetrics {
    #[log(series)]
    loss: f64,
    #[log(series)]
    acc: f64,
}

fn field_type(run: &Run, path: &str) -> Option<FieldType> {
    run.at(path).field_type().expect("field_type reads")
}

#[test]
fn a_struct_logs_as_a_namespace() -> Result<(), Error> {
    let run = debug_run();
    log!(run, "params" => params())?;
    assert_eq!(
        run.structure()?.to_string(),
        "\
|--> params
     |--> batch: 64
     |--> learning_rate: 0.005
     |--> max_epochs: 20
     |--> optimizer
          |--> momentum: 0.9
          |--> name: \"sgd\"
"
    );
    Ok(())
}

#[test]
fn assign_through_a_handler_is_the_same() -> Result<(), Error> {
    let run = debug_run();
    let p = params();
    run.at("params").assign(&p)?;
    assert_eq!(run.at("params/batch").fetch()?, Value::Int(64));
    assert_eq!(
        run.at("params/optimizer/name").fetch()?,
        Value::String("sgd".into())
    );
    Ok(())
}

#[test]
fn rename_logs_at_the_new_name_only() -> Result<(), Error> {
    let run = debug_run();
    log!(run, "params" => params())?;
    assert_eq!(field_type(&run, "params/batch"), Some(FieldType::Int));
    assert_eq!(field_type(&run, "params/batch_size"), None);
    Ok(())
}

#[test]
fn skip_is_never_logged_and_reads_back_as_default() -> Result<(), Error> {
    let run = debug_run();
    log!(run, "params" => params())?;
    assert_eq!(field_type(&run, "params/api_key"), None);
    let back: Params = run.at("params").fetch_as()?;
    assert_eq!(back.api_key, String::new());
    assert_eq!(
        back,
        Params {
            api_key: String::new(),
            ..params()
        }
    );
    Ok(())
}

#[test]
fn series_fields_are_appended() -> Result<(), Error> {
    let run = debug_run();
    for epoch in 0..3u32 {
        let m = EpochMetrics {
            loss: 1.0 / f64::from(epoch + 1),
            acc: 0.5,
        };
        log!(run, "epoch" += m, step = epoch)?;
    }
    assert_eq!(field_type(&run, "epoch/loss"), Some(FieldType::FloatSeries));
    assert_eq!(field_type(&run, "epoch/acc"), Some(FieldType::FloatSeries));
    let points = run.at("epoch/loss").fetch_values()?;
    let steps: Vec<f64> = points.iter().map(|p| p.step).collect();
    assert_eq!(steps, [0.0, 1.0, 2.0]);
    assert_eq!(points[2].value, Value::Float(1.0 / 3.0));
    // Read back: the last value of each series.
    let back: EpochMetrics = run.at("epoch").fetch_as()?;
    assert_eq!(
        back,
        EpochMetrics {
            loss: 1.0 / 3.0,
            acc: 0.5
        }
    );
    Ok(())
}

#[test]
fn series_fields_are_appended_by_assign_too() -> Result<(), Error> {
    // A derived struct logs the same way whichever way it is given:
    // `series` fields append (at the next step without `step =`).
    let run = debug_run();
    let m = EpochMetrics {
        loss: 0.5,
        acc: 0.25,
    };
    log!(run, "epoch" => m)?;
    run.at("epoch").assign(m)?;
    assert_eq!(run.at("epoch/loss").fetch_values()?.len(), 2);
    assert_eq!(run.at("epoch/acc").fetch_last()?.step, 1.0);
    Ok(())
}

#[test]
fn append_with_a_struct_and_an_explicit_step() -> Result<(), Error> {
    let run = debug_run();
    let m = EpochMetrics {
        loss: 0.5,
        acc: 0.25,
    };
    log!(run, "epoch" += m, step = 10)?;
    log!(run, "epoch" += m, step = 12.5)?;
    let steps: Vec<f64> = run
        .at("epoch/acc")
        .fetch_values()?
        .iter()
        .map(|p| p.step)
        .collect();
    assert_eq!(steps, [10.0, 12.5]);
    // A step that does not increase is refused, naming the series.
    let err = log!(run, "epoch" += m, step = 12).unwrap_err();
    assert!(
        matches!(&err, Error::StepNotIncreasing { path, .. } if path == "epoch/loss"),
        "{err}"
    );
    Ok(())
}

#[derive(LogNamespace, Debug, PartialEq)]
struct Common {
    seed: u64,
    device: String,
}

#[derive(LogNamespace, Debug, PartialEq)]
struct Experiment {
    #[log(flatten)]
    common: Common,
    lr: f64,
    #[log(series, rename = "train_loss")]
    loss: f32,
}

#[test]
fn flatten_logs_the_fields_at_this_level() -> Result<(), Error> {
    let run = debug_run();
    let e = Experiment {
        common: Common {
            seed: 7,
            device: "cuda:0".into(),
        },
        lr: 0.1,
        loss: 0.5,
    };
    log!(run, "exp" => e)?;
    assert_eq!(
        run.structure()?.to_string(),
        "\
|--> exp
     |--> device: \"cuda:0\"
     |--> lr: 0.1
     |--> seed: 7
     |--> train_loss: FloatSeries
"
    );
    let back: Experiment = run.at("exp").fetch_as()?;
    assert_eq!(back, e);

    let p = Experiment::paths();
    assert_eq!(p.common.seed.as_str(), "seed");
    assert_eq!(p.loss.as_str(), "train_loss");
    let at: Vec<&str> = vec![p.common.device.as_str(), p.lr.as_str()];
    assert_eq!(at, ["device", "lr"]);
    Ok(())
}

#[test]
fn paths_are_typed_and_nested() {
    let p = Params::paths();
    assert_eq!(p.max_epochs.as_str(), "max_epochs");
    assert_eq!(p.learning_rate.as_str(), "learning_rate");
    assert_eq!(p.batch_size.as_str(), "batch");
    assert_eq!(p.optimizer.name.as_str(), "optimizer/name");
    assert_eq!(p.optimizer.momentum.as_str(), "optimizer/momentum");
    // The field types of the paths struct.
    let _: TypedPath<kind::Int> = p.max_epochs.clone();
    let _: TypedPath<kind::Float> = p.learning_rate.clone();
    let _: TypedPath<kind::String> = p.optimizer.name.clone();
    let _: OptimizerPaths = p.optimizer.clone();
    let m: EpochMetricsPaths = EpochMetrics::paths();
    let _: TypedPath<kind::FloatSeries> = m.loss;
    // Paths with a prefix.
    let q = Params::paths_at("run/params".into());
    assert_eq!(
        q.optimizer.momentum.as_str(),
        "run/params/optimizer/momentum"
    );
    assert_eq!(q.batch_size.to_string(), "run/params/batch");
}

#[test]
fn typed_handles_from_paths_offer_their_types_operations() -> Result<(), Error> {
    let run = debug_run();
    log!(run, "params" => params())?;
    let params_ns = run.at("params");
    let p = Params::paths();

    let lr: Typed<kind::Float> = params_ns.at(p.learning_rate);
    assert_eq!(lr.path(), "params/learning_rate");
    assert_eq!(lr.fetch()?, 0.005);
    lr.assign(0.01)?;
    assert_eq!(lr.fetch()?, 0.01);

    let momentum = params_ns.at(&p.optimizer.momentum);
    momentum.assign(0.95)?;
    assert_eq!(
        run.at("params/optimizer/momentum").fetch()?,
        Value::Float(0.95)
    );

    let epochs: Typed<kind::Int> = params_ns.at(p.max_epochs);
    assert_eq!(epochs.fetch()?, 20);

    let name: Typed<kind::String> = params_ns.at(p.optimizer.name);
    assert_eq!(name.fetch()?, "sgd");

    let m = EpochMetrics::paths();
    let loss: Typed<kind::FloatSeries> = run.at("epoch").at(m.loss);
    loss.append(0.5)?;
    loss.append_at(3, 0.25)?;
    assert_eq!(loss.fetch_last()?, 0.25);
    assert_eq!(loss.fetch_values()?.len(), 2);
    assert_eq!(loss.field_type(), FieldType::FloatSeries);
    Ok(())
}

#[derive(LogNamespace, Debug, PartialEq)]
struct Optional {
    note: Option<String>,
    threshold: Option<f64>,
    #[log(series)]
    val_loss: Option<f64>,
}

#[test]
fn option_none_writes_nothing_and_reads_back_as_none() -> Result<(), Error> {
    let run = debug_run();
    log!(run, "o" => Optional { note: None, threshold: Some(0.5), val_loss: None })?;
    assert_eq!(field_type(&run, "o/note"), None);
    assert_eq!(field_type(&run, "o/val_loss"), None);
    assert_eq!(field_type(&run, "o/threshold"), Some(FieldType::Float));
    let back: Optional = run.at("o").fetch_as()?;
    assert_eq!(
        back,
        Optional {
            note: None,
            threshold: Some(0.5),
            val_loss: None
        }
    );

    log!(run, "o" => Optional { note: Some("hi".into()), threshold: None, val_loss: Some(0.25) })?;
    assert_eq!(run.at("o/note").fetch()?, Value::String("hi".into()));
    assert_eq!(field_type(&run, "o/val_loss"), Some(FieldType::FloatSeries));
    // `threshold: None` left the earlier value alone.
    let back: Optional = run.at("o").fetch_as()?;
    assert_eq!(
        back,
        Optional {
            note: Some("hi".into()),
            threshold: Some(0.5),
            val_loss: Some(0.25)
        }
    );
    // The typed path of an Option field is its inner type's.
    let _: TypedPath<kind::String> = Optional::paths().note;
    Ok(())
}

#[derive(LogNamespace, Debug, PartialEq)]
struct Wrapper<T> {
    inner: T,
    label: String,
}

#[derive(LogNamespace, Debug, PartialEq)]
struct Tracked<M> {
    #[log(series)]
    value: M,
    #[log(skip)]
    cache: Vec<M>,
}

#[derive(LogNamespace, Debug, PartialEq)]
struct Bounded<T: Copy, U = String>
where
    T: Default,
{
    #[log(rename = "value")]
    v: T,
    label: U,
    #[log(skip)]
    spare: T,
}

#[test]
fn generic_structs_with_bounds_and_defaults() -> Result<(), Error> {
    let run = debug_run();
    log!(run, "b" => Bounded { v: 2.5f64, label: String::from("x"), spare: 1.0 })?;
    let back: Bounded<f64> = run.at("b").fetch_as()?;
    assert_eq!(
        back,
        Bounded {
            v: 2.5,
            label: "x".into(),
            spare: 0.0
        }
    );
    assert_eq!(Bounded::<f64>::paths().v.as_str(), "value");
    Ok(())
}

#[test]
fn generic_structs() -> Result<(), Error> {
    let run = debug_run();
    log!(run, "w" => Wrapper { inner: 3i64, label: "three".into() })?;
    log!(run, "opt" => Wrapper { inner: Optimizer { name: "adam".into(), momentum: 0.8 }, label: "o".into() })?;
    assert_eq!(run.at("w/inner").fetch()?, Value::Int(3));
    assert_eq!(
        run.at("opt/inner/name").fetch()?,
        Value::String("adam".into())
    );
    let back: Wrapper<i64> = run.at("w").fetch_as()?;
    assert_eq!(back.inner, 3);
    assert_eq!(back.label, "three");
    let back: Wrapper<Optimizer> = run.at("opt").fetch_as()?;
    assert_eq!(back.inner.momentum, 0.8);

    let _: TypedPath<kind::Int> = Wrapper::<i64>::paths().inner;
    let nested = Wrapper::<Optimizer>::paths();
    assert_eq!(nested.inner.momentum.as_str(), "inner/momentum");
    let _: TypedPath<kind::Float> = nested.inner.momentum;

    log!(
        run,
        "t" += Tracked {
            value: 0.5f32,
            cache: vec![1.0]
        },
        step = 1
    )?;
    log!(
        run,
        "t" += Tracked {
            value: 0.25f32,
            cache: vec![]
        },
        step = 2
    )?;
    assert_eq!(field_type(&run, "t/value"), Some(FieldType::FloatSeries));
    assert_eq!(field_type(&run, "t/cache"), None);
    let back: Tracked<f32> = run.at("t").fetch_as()?;
    assert_eq!(
        back,
        Tracked {
            value: 0.25,
            cache: vec![]
        }
    );
    let _: TypedPath<kind::FloatSeries> = Tracked::<f32>::paths().value;
    Ok(())
}

#[test]
fn fetch_as_round_trip() -> Result<(), Error> {
    let run = debug_run();
    let p = params();
    log!(run, "params" => p)?;
    let back: Params = run.at("params").fetch_as()?;
    assert_eq!(back.max_epochs, 20);
    assert_eq!(back.learning_rate, 0.005);
    assert_eq!(back.batch_size, 64);
    assert_eq!(back.optimizer, p.optimizer);
    // Through a typed namespace handle and a nested struct alone.
    let o: Optimizer = run.at("params/optimizer").fetch_as()?;
    assert_eq!(o, p.optimizer);
    Ok(())
}

#[test]
fn fetch_as_names_the_missing_field() -> Result<(), Error> {
    let run = debug_run();
    run.at("params/max_epochs").assign(20)?;
    run.at("params/learning_rate").assign(0.1)?;
    run.at("params/batch").assign(8)?;
    // optimizer/* missing
    let err = run.at("params").fetch_as::<Params>().unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { path } if path == "params/optimizer/name"),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn fetch_as_names_the_mistyped_field() -> Result<(), Error> {
    let run = debug_run();
    log!(run, "params" => params())?;
    run.at("other/max_epochs").assign("twenty")?;
    run.at("other/learning_rate").assign(0.1)?;
    let err = run.at("other").fetch_as::<Params>().unwrap_err();
    match &err {
        Error::Conversion {
            path: Some(path),
            found,
            ..
        } => {
            assert_eq!(path, "other/max_epochs");
            assert_eq!(*found, FieldType::String);
        }
        other => panic!("expected a conversion error, got {other:?}"),
    }
    // A Float where an Int is expected is refused too.
    run.at("more/max_epochs").assign(2.5)?;
    let err = run.at("more").fetch_as::<Params>().unwrap_err();
    assert!(
        matches!(&err, Error::Conversion { path: Some(path), .. } if path == "more/max_epochs"),
        "{err:?}"
    );
    Ok(())
}

#[derive(LogNamespace)]
struct Everything {
    flag: bool,
    count: i32,
    ratio: f32,
    title: String,
    started: SystemTime,
    tags: BTreeSet<String>,
    #[log(series)]
    notes: String,
    nested: Optimizer,
    r#type: String, // logged at "type"
}

#[test]
fn every_field_type() -> Result<(), Error> {
    let run = debug_run();
    let started = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let e = Everything {
        flag: true,
        count: -3,
        ratio: 0.5,
        title: "t".into(),
        started,
        tags: ["a", "b"].into_iter().map(String::from).collect(),
        notes: "first".into(),
        nested: Optimizer::default(),
        r#type: "cnn".into(),
    };
    log!(run, "e" => e)?;
    let s = run.structure()?;
    let types: Vec<(&str, FieldType)> = [
        ("e/flag", FieldType::Bool),
        ("e/count", FieldType::Int),
        ("e/ratio", FieldType::Float),
        ("e/title", FieldType::String),
        ("e/started", FieldType::Datetime),
        ("e/tags", FieldType::StringSet),
        ("e/notes", FieldType::StringSeries),
        ("e/nested/momentum", FieldType::Float),
        ("e/type", FieldType::String),
    ]
    .into_iter()
    .collect();
    for (path, expected) in types {
        match s.get(path) {
            Some(Entry::Field { field_type, .. }) => assert_eq!(*field_type, expected, "{path}"),
            other => panic!("{path}: {other:?}"),
        }
    }
    let back: Everything = run.at("e").fetch_as()?;
    assert!(back.flag);
    assert_eq!(
        (back.count, back.ratio, back.title.as_str()),
        (-3, 0.5, "t")
    );
    assert_eq!(back.nested, Optimizer::default());
    assert_eq!(back.started, started);
    assert_eq!(back.tags.len(), 2);
    assert_eq!(back.notes, "first");
    assert_eq!(back.r#type, "cnn");
    let p = Everything::paths();
    let _: TypedPath<kind::StringSet> = p.tags;
    let _: TypedPath<kind::StringSeries> = p.notes;
    let _: TypedPath<kind::Datetime> = p.started;
    let _: TypedPath<kind::Bool> = p.flag;
    Ok(())
}

#[derive(LogNamespace)]
struct Empty {}

#[test]
fn an_empty_struct_logs_nothing() -> Result<(), Error> {
    let run = debug_run();
    log!(run, "nothing" => Empty {})?;
    assert!(run.structure()?.is_empty());
    let _: Empty = run.at("nothing").fetch_as()?;
    let _ = Empty::paths().clone();
    Ok(())
}

#[test]
fn the_first_failing_field_stops_and_earlier_fields_stay() -> Result<(), Error> {
    let run = debug_run();
    // `learning_rate` is already a series: assigning to it fails.
    run.at("params/learning_rate").append(0.1)?;
    let err = log!(run, "params" => params()).unwrap_err();
    assert!(
        matches!(&err, Error::UnsupportedOperation { path, .. } if path == "params/learning_rate"),
        "{err:?}"
    );
    assert_eq!(run.at("params/max_epochs").fetch()?, Value::Int(20)); // before: written
    assert_eq!(field_type(&run, "params/batch"), None); // after: not written
    Ok(())
}
