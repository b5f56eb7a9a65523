//! Typed handles: `TypedPath::new` + `run.at(&path)` give a handle with only
//! its field type's operations, taking and returning plain Rust types; the
//! run still checks its rules at run time.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use hippocamp_core::path::PathErrorKind;
use hippocamp_core::typed::{kind, Typed, TypedPath};
use hippocamp_core::{
    Error, FieldType, File, FileInfo, Handler, LogField, LogNamespace, LogOptions, Loggable, Mode,
    Operation, Result, Run, Value,
};

fn new_run() -> Run {
    Run::builder()
        .project("typed")
        .mode(Mode::Debug)
        .start()
        .expect("a debug run starts")
}

fn path<K>(p: &'static str) -> TypedPath<K> {
    TypedPath::new(p)
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
fn assert_conversion(err: Error, path: &str, expected: &str, found: FieldType) {
    match err {
        Error::Conversion {
            path: p,
            expected: e,
            found: f,
        } => assert_eq!((p.as_deref(), e, f), (Some(path), expected, found)),
        other => panic!("expected Conversion, got {other:?}"),
    }
}

#[test]
fn typed_paths_and_handles_know_their_path_and_type() {
    let run = new_run();
    let lr: TypedPath<kind::Float> = TypedPath::new("learning_rate");
    assert_eq!(lr.as_str(), "learning_rate");
    assert_eq!(lr.to_string(), "learning_rate");
    assert_eq!(format!("{lr:?}"), "TypedPath<Float>(\"learning_rate\")");
    assert_eq!(lr.clone(), lr);
    let owned: TypedPath<kind::Float> = TypedPath::new(String::from("learning_rate"));
    assert_eq!(owned, lr);

    let h = run.at("params").at(&lr);
    assert_eq!(h.path(), "params/learning_rate");
    assert_eq!(h.handler().path(), "params/learning_rate");
    assert_eq!(h.field_type(), FieldType::Float);
    assert_eq!(format!("{h:?}"), "Typed<Float>(\"params/learning_rate\")");
    // By value too, and from the run's root.
    let by_value: Typed<kind::Float> = run.at(lr.clone());
    assert_eq!(by_value.path(), "learning_rate");
    assert_eq!(h.clone().path(), h.path());
}

#[test]
fn atom_handles_assign_and_fetch_plain_types() {
    let run = new_run();
    let params = run.at("params");

    let lr = params.at(&path::<kind::Float>("lr"));
    lr.assign(0.5).unwrap();
    assert_eq!(lr.fetch().unwrap(), 0.5);
    lr.assign(0.25f32).unwrap();
    assert_eq!(lr.fetch().unwrap(), 0.25);
    lr.assign(3).unwrap(); // Int widens
    assert_eq!(lr.fetch().unwrap(), 3.0);

    let epochs = params.at(&path::<kind::Int>("epochs"));
    epochs.assign(20u32).unwrap();
    let n: i64 = epochs.fetch().unwrap();
    assert_eq!(n, 20);
    epochs.assign(-1i64).unwrap();
    assert_eq!(epochs.fetch().unwrap(), -1);

    let flag = params.at(&path::<kind::Bool>("nesterov"));
    flag.assign(true).unwrap();
    assert!(flag.fetch().unwrap());

    let name = params.at(&path::<kind::String>("opt/name"));
    name.assign("adam").unwrap();
    let s: String = name.fetch().unwrap();
    assert_eq!(s, "adam");
    name.assign(String::from("sgd")).unwrap();
    let owned = String::from("rmsprop");
    name.assign(&owned).unwrap();
    assert_eq!(name.fetch().unwrap(), owned);

    let when = params.at(&path::<kind::Datetime>("started"));
    let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
    when.assign(t).unwrap();
    assert_eq!(when.fetch().unwrap(), t);

    // What the typed handles wrote is what untyped handlers see.
    let all = run.at("params").fetch().unwrap();
    assert_eq!(all.get("lr"), Some(&Value::Float(3.0)));
    assert_eq!(all.get("epochs"), Some(&Value::Int(-1)));
    assert_eq!(all.get("nesterov"), Some(&Value::Bool(true)));
    assert_eq!(all.get("opt/name"), Some(&Value::String("rmsprop".into())));
    assert_eq!(all.get("started"), Some(&Value::Datetime(t)));
}

#[test]
fn a_float_handle_makes_a_float_field_even_from_an_integer() {
    // The handle's type is Float: its first write must make a Float field,
    // or its own fetch could not read it back.
    let run = new_run();
    let lr = run.at(&path::<kind::Float>("lr"));
    lr.assign(1).unwrap();
    assert_eq!(lr.handler().field_type().unwrap(), Some(FieldType::Float));
    assert_eq!(lr.fetch().unwrap(), 1.0);
    let big = run.at(&path::<kind::Float>("big"));
    big.assign(u64::MAX).unwrap();
    assert_eq!(big.fetch().unwrap(), u64::MAX as f64);
}

#[test]
fn int_handles_refuse_values_beyond_i64() {
    let run = new_run();
    let n = run.at(&path::<kind::Int>("n"));
    match n.assign(u64::MAX).unwrap_err() {
        Error::OutOfRange { path, detail } => {
            assert_eq!(path, "n");
            assert!(detail.contains("does not fit an Int"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    n.assign(i128::from(i64::MIN)).unwrap();
    assert_eq!(n.fetch().unwrap(), i64::MIN);
}

#[test]
fn file_handles_upload_fetch_and_download() {
    let run = new_run();
    let model = run.at("artifacts").at(&path::<kind::File>("model"));
    model.upload_bytes(vec![1, 2, 3], "model.onnx").unwrap();
    let info: FileInfo = model.fetch().unwrap();
    assert_eq!(
        info,
        FileInfo {
            name: "model.onnx".into(),
            extension: "onnx".into(),
            size: 3
        }
    );
    assert_eq!(model.download().unwrap(), [1, 2, 3]);
    model.assign(File::from_bytes(vec![4], "v2.onnx")).unwrap();
    assert_eq!(model.download().unwrap(), [4]);
    assert_eq!(model.fetch().unwrap().name, "v2.onnx");

    let on_disk = std::env::temp_dir().join(format!(
        "hippocamp-typed-{}-weights.bin",
        std::process::id()
    ));
    std::fs::write(&on_disk, b"w").unwrap();
    let result = model.upload(&on_disk);
    std::fs::remove_file(&on_disk).unwrap();
    result.unwrap();
    assert_eq!(model.download().unwrap(), b"w");
    match model.upload(&on_disk).unwrap_err() {
        Error::File { path, file, .. } => {
            assert_eq!(path, "artifacts/model");
            assert_eq!(file, on_disk);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn float_series_handles() {
    let run = new_run();
    let loss = run.at("train").at(&path::<kind::FloatSeries>("loss"));
    loss.append(0.9).unwrap();
    loss.append(1u8).unwrap();
    loss.append_at(10, 0.5f32).unwrap();
    loss.extend([0.4, 0.3]).unwrap();
    let last: f64 = loss.fetch_last().unwrap();
    assert_eq!(last, 0.3);
    let points = loss.fetch_values().unwrap();
    let got: Vec<(f64, f64)> = points.iter().map(|p| (p.step, p.value)).collect();
    assert_eq!(
        got,
        [
            (0.0, 0.9),
            (1.0, 1.0),
            (10.0, 0.5),
            (11.0, 0.4),
            (12.0, 0.3)
        ]
    );
    match loss.append_at(12, 0.1).unwrap_err() {
        Error::StepNotIncreasing { path, step, last } => {
            assert_eq!((path.as_str(), step, last), ("train/loss", 12.0, 12.0))
        }
        other => panic!("{other:?}"),
    }
    loss.clear().unwrap();
    assert!(loss.fetch_values().unwrap().is_empty());
    match loss.fetch_last().unwrap_err() {
        Error::NotFound { path } => assert_eq!(path, "train/loss"),
        other => panic!("{other:?}"),
    }
    loss.append(f64::NAN).unwrap();
    assert!(loss.fetch_last().unwrap().is_nan());
    assert_eq!(loss.fetch_values().unwrap()[0].step, 0.0);
}

#[test]
fn string_series_handles() {
    let run = new_run();
    let log = run.at(&path::<kind::StringSeries>("log"));
    log.append("start").unwrap();
    log.append(String::from("epoch 1")).unwrap();
    let owned = String::from("epoch 5");
    log.append_at(5, &owned).unwrap();
    assert_eq!(owned, "epoch 5");
    log.extend(["a", "b"]).unwrap();
    let last: String = log.fetch_last().unwrap();
    assert_eq!(last, "b");
    let got: Vec<(f64, String)> = log
        .fetch_values()
        .unwrap()
        .into_iter()
        .map(|p| (p.step, p.value))
        .collect();
    assert_eq!(
        got,
        [
            (0.0, "start".to_owned()),
            (1.0, "epoch 1".to_owned()),
            (5.0, "epoch 5".to_owned()),
            (6.0, "a".to_owned()),
            (7.0, "b".to_owned()),
        ]
    );
    log.clear().unwrap();
    assert!(log.fetch_values().unwrap().is_empty());
}

#[test]
fn file_series_handles() {
    let run = new_run();
    let images = run.at("eval").at(&path::<kind::FileSeries>("images"));
    images.append(File::from_bytes(vec![0], "e0.png")).unwrap();
    images
        .append_at(5, File::from_bytes(vec![5, 5], "e5.png"))
        .unwrap();
    images
        .extend([
            File::from_bytes(vec![6], "e6.png"),
            File::from_bytes(vec![7], "e7.jpg"),
        ])
        .unwrap();
    assert_eq!(images.download().unwrap(), [7]);
    assert_eq!(images.download_at(5).unwrap(), [5, 5]);
    assert_eq!(images.download_at(0.0).unwrap(), [0]);
    match images.download_at(3).unwrap_err() {
        Error::NotFound { path } => assert_eq!(path, "eval/images@3"),
        other => panic!("{other:?}"),
    }
    let points = images.fetch_values().unwrap();
    let got: Vec<(f64, &str, u64)> = points
        .iter()
        .map(|p| (p.step, p.value.name.as_str(), p.value.size))
        .collect();
    assert_eq!(
        got,
        [
            (0.0, "e0.png", 1),
            (5.0, "e5.png", 2),
            (6.0, "e6.png", 1),
            (7.0, "e7.jpg", 1)
        ]
    );
    assert_eq!(points[3].value.extension, "jpg");
    images.clear().unwrap();
    assert!(images.fetch_values().unwrap().is_empty());
}

#[test]
fn string_set_handles() {
    let run = new_run();
    let tags = run.at(&path::<kind::StringSet>("sys/tags"));
    tags.add(["cnn", "baseline"]).unwrap();
    tags.add(vec![String::from("extra")]).unwrap();
    tags.remove(["cnn", "absent"]).unwrap();
    let set: BTreeSet<String> = tags.fetch().unwrap();
    assert_eq!(set, BTreeSet::from(["baseline".into(), "extra".into()]));
    tags.clear().unwrap();
    assert!(tags.fetch().unwrap().is_empty());
}

// A struct as `#[derive(LogNamespace)]` would make it.
#[derive(Debug, PartialEq)]
struct Optimizer {
    name: String,
    momentum: f64,
}

struct OptimizerPaths {
    name: TypedPath<kind::String>,
    momentum: TypedPath<kind::Float>,
}

fn join(prefix: &str, name: &'static str) -> Cow<'static, str> {
    if prefix.is_empty() {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(format!("{prefix}/{name}"))
    }
}

fn sub(target: &Handler, rel: &str) -> Handler {
    if rel.is_empty() {
        target.clone()
    } else {
        target.at(rel)
    }
}

impl LogNamespace for Optimizer {
    type Paths = OptimizerPaths;
    fn paths_at(prefix: Cow<'static, str>) -> OptimizerPaths {
        OptimizerPaths {
            name: TypedPath::new(join(&prefix, "name")),
            momentum: TypedPath::new(join(&prefix, "momentum")),
        }
    }
    fn log_into(&self, ns: &Handler, options: &LogOptions) -> Result<()> {
        self.name.log_at(ns, "name", options)?;
        self.momentum.log_at(ns, "momentum", options)
    }
    fn fetch_from(ns: &Handler) -> Result<Self> {
        Ok(Optimizer {
            name: String::fetch_at(ns, "name")?,
            momentum: f64::fetch_at(ns, "momentum")?,
        })
    }
}

impl Loggable for Optimizer {
    fn log_at(&self, target: &Handler, rel: &str, options: &LogOptions) -> Result<()> {
        self.log_into(&sub(target, rel), options)
    }
}

impl LogField for Optimizer {
    type Paths = OptimizerPaths;
    fn paths_at(path: Cow<'static, str>) -> OptimizerPaths {
        <Optimizer as LogNamespace>::paths_at(path)
    }
    fn fetch_at(target: &Handler, rel: &str) -> Result<Self> {
        Self::fetch_from(&sub(target, rel))
    }
}

#[test]
fn namespace_handles_nest_merge_fetch_and_delete() {
    let run = new_run();
    let opt = run.at(&path::<kind::Namespace>("params/optimizer"));
    opt.assign(Optimizer {
        name: "adam".into(),
        momentum: 0.9,
    })
    .unwrap();
    // Typed paths of the struct, relative to where it is logged.
    let paths = <Optimizer as LogNamespace>::paths();
    assert_eq!(paths.momentum.as_str(), "momentum");
    opt.at(&paths.momentum).assign(0.95).unwrap();
    assert_eq!(opt.at(&paths.momentum).fetch().unwrap(), 0.95);
    let nested = <Optimizer as LogNamespace>::paths_at("params/optimizer".into());
    assert_eq!(run.at(&nested.name).fetch().unwrap(), "adam");
    // Untyped children too.
    opt.at("extra").assign(1).unwrap();

    let map: BTreeMap<String, Value> = opt.fetch().unwrap();
    assert_eq!(
        map,
        BTreeMap::from([
            ("extra".to_owned(), Value::Int(1)),
            ("momentum".to_owned(), Value::Float(0.95)),
            ("name".to_owned(), Value::String("adam".into())),
        ])
    );
    let back: Optimizer = opt.fetch_as().unwrap();
    assert_eq!(
        back,
        Optimizer {
            name: "adam".into(),
            momentum: 0.95
        }
    );
    // Merging again keeps what the struct does not name.
    opt.assign(Optimizer {
        name: "sgd".into(),
        momentum: 0.0,
    })
    .unwrap();
    assert_eq!(opt.fetch().unwrap().len(), 3);

    opt.delete().unwrap();
    assert_eq!(run.at("params").field_type().unwrap(), None);
    match opt.fetch().unwrap_err() {
        Error::NotFound { path } => assert_eq!(path, "params/optimizer"),
        other => panic!("{other:?}"),
    }
    // A missing struct field is NotFound naming its path.
    run.at("params/optimizer/name").assign("only").unwrap();
    match opt.fetch_as::<Optimizer>().unwrap_err() {
        Error::NotFound { path } => assert_eq!(path, "params/optimizer/momentum"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_typed_handle_still_gets_the_runs_runtime_errors() {
    let run = new_run();

    // A Float handle whose path an untyped handler made a FloatSeries.
    let lr = run.at(&path::<kind::Float>("lr"));
    run.at("lr").append(0.1).unwrap();
    assert_unsupported(
        lr.assign(0.5).unwrap_err(),
        "lr",
        FieldType::FloatSeries,
        Operation::Assign,
    );
    assert_unsupported(
        lr.fetch().unwrap_err(),
        "lr",
        FieldType::FloatSeries,
        Operation::Fetch,
    );

    // A FloatSeries handle over a String.
    let loss = run.at("train").at(&path::<kind::FloatSeries>("loss"));
    run.at("train/loss").assign("text").unwrap();
    assert_unsupported(
        loss.append(1.0).unwrap_err(),
        "train/loss",
        FieldType::String,
        Operation::Append,
    );
    assert_unsupported(
        loss.append_at(3, 1.0).unwrap_err(),
        "train/loss",
        FieldType::String,
        Operation::AppendAt,
    );
    assert_unsupported(
        loss.extend([1.0]).unwrap_err(),
        "train/loss",
        FieldType::String,
        Operation::Extend,
    );
    assert_unsupported(
        loss.clear().unwrap_err(),
        "train/loss",
        FieldType::String,
        Operation::Clear,
    );
    assert_unsupported(
        loss.fetch_last().unwrap_err(),
        "train/loss",
        FieldType::String,
        Operation::FetchLast,
    );
    assert_unsupported(
        loss.fetch_values().unwrap_err(),
        "train/loss",
        FieldType::String,
        Operation::FetchValues,
    );

    // A FloatSeries handle over a StringSeries: the rules allow the reads,
    // the values do not convert.
    let acc = run.at(&path::<kind::FloatSeries>("acc"));
    run.at("acc").append("high").unwrap();
    match acc.append(0.5).unwrap_err() {
        Error::TypeMismatch {
            path,
            field_type,
            value_type,
        } => assert_eq!(
            (path.as_str(), field_type, value_type),
            ("acc", FieldType::StringSeries, FieldType::Float)
        ),
        other => panic!("{other:?}"),
    }
    assert_conversion(
        acc.fetch_last().unwrap_err(),
        "acc",
        "f64",
        FieldType::String,
    );
    assert_conversion(
        acc.fetch_values().unwrap_err(),
        "acc",
        "f64",
        FieldType::String,
    );

    // An Int handle over a Float: the assign widens, the fetch does not convert.
    let n = run.at(&path::<kind::Int>("n"));
    run.at("n").assign(0.5).unwrap();
    n.assign(2).unwrap();
    assert_eq!(run.at("n").fetch().unwrap(), Value::Float(2.0));
    assert_conversion(n.fetch().unwrap_err(), "n", "i64", FieldType::Float);

    // Other atoms.
    run.at("b").assign(1).unwrap();
    assert_conversion(
        run.at(&path::<kind::Bool>("b")).fetch().unwrap_err(),
        "b",
        "bool",
        FieldType::Int,
    );
    match run.at(&path::<kind::Bool>("b")).assign(true).unwrap_err() {
        Error::TypeMismatch {
            field_type,
            value_type,
            ..
        } => {
            assert_eq!((field_type, value_type), (FieldType::Int, FieldType::Bool))
        }
        other => panic!("{other:?}"),
    }
    run.at("s").add(["x"]).unwrap();
    assert_conversion(
        run.at(&path::<kind::String>("s")).fetch().unwrap_err(),
        "s",
        "String",
        FieldType::StringSet,
    );
    run.at("set").assign("x").unwrap();
    assert_conversion(
        run.at(&path::<kind::StringSet>("set")).fetch().unwrap_err(),
        "set",
        "a set of strings",
        FieldType::String,
    );
    assert_unsupported(
        run.at(&path::<kind::StringSet>("set"))
            .add(["y"])
            .unwrap_err(),
        "set",
        FieldType::String,
        Operation::Add,
    );

    // A File handle over a FileSeries, a FileSeries handle over a File.
    run.at("f")
        .append(File::from_bytes(vec![1], "a.png"))
        .unwrap();
    let file = run.at(&path::<kind::File>("f"));
    assert_unsupported(
        file.upload_bytes(vec![1], "b.png").unwrap_err(),
        "f",
        FieldType::FileSeries,
        Operation::Upload,
    );
    assert_unsupported(
        file.assign(File::from_bytes(vec![1], "b.png")).unwrap_err(),
        "f",
        FieldType::FileSeries,
        Operation::Assign,
    );
    assert_unsupported(
        file.fetch().unwrap_err(),
        "f",
        FieldType::FileSeries,
        Operation::Fetch,
    );
    run.at("g").upload_bytes(vec![1], "g.bin").unwrap();
    let series = run.at(&path::<kind::FileSeries>("g"));
    assert_unsupported(
        series
            .append(File::from_bytes(vec![1], "b.png"))
            .unwrap_err(),
        "g",
        FieldType::File,
        Operation::Append,
    );
    assert_unsupported(
        series.fetch_values().unwrap_err(),
        "g",
        FieldType::File,
        Operation::FetchValues,
    );

    // A Namespace handle over a field.
    run.at("ns").assign(1).unwrap();
    let ns = run.at(&path::<kind::Namespace>("ns"));
    assert_conversion(ns.fetch().unwrap_err(), "ns", "a namespace", FieldType::Int);
    assert_unsupported(
        ns.delete().unwrap_err(),
        "ns",
        FieldType::Int,
        Operation::Delete,
    );
    assert!(matches!(
        ns.at("x").assign(1).unwrap_err(),
        Error::NamespaceConflict { .. }
    ));

    // Reading nothing is NotFound, through typed handles too.
    match run.at(&path::<kind::Float>("nothing")).fetch().unwrap_err() {
        Error::NotFound { path } => assert_eq!(path, "nothing"),
        other => panic!("{other:?}"),
    }

    // System fields stay read-only.
    match run
        .at(&path::<kind::String>("sys/id"))
        .assign("x")
        .unwrap_err()
    {
        Error::ReadOnly { path, .. } => assert_eq!(path, "sys/id"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn typed_paths_are_checked_against_the_grammar_when_used() {
    let run = new_run();
    let bad = run.at("params").at(&path::<kind::Float>("a//b"));
    match bad.assign(1.0).unwrap_err() {
        Error::InvalidPath { path, source } => {
            assert_eq!(path, "params/a//b");
            assert_eq!(source.kind, PathErrorKind::EmptySegment);
            assert_eq!(source.offset, 9);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        bad.fetch().unwrap_err(),
        Error::InvalidPath { .. }
    ));
    assert!(run.structure().unwrap().is_empty());
}
