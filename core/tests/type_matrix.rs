//! Every field type × every operation, through the untyped `Handler`.
//!
//! For each of the 11 field types a fresh run gets a field of that type, and
//! each of the 13 operations is attempted on it: it must succeed exactly when
//! `FieldType::accepted()` lists it, and otherwise fail with
//! `Error::UnsupportedOperation` naming the path, the type and the operation,
//! leaving the field as it was.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use hippocamp_core::{
    Conflict, Error, FieldType, File, Handler, LogOptions, Loggable, Mode, Operation, Result, Run,
    Value,
};

/// Where the field under test lives (nested, so paths are checked in full).
const PATH: &str = "matrix/field";

/// The design's table (PRODUCT.md, "Field types and what they accept").
fn design_table(field_type: FieldType) -> &'static [Operation] {
    use Operation::*;
    match field_type {
        FieldType::Float
        | FieldType::Int
        | FieldType::Bool
        | FieldType::String
        | FieldType::Datetime => &[Assign, Fetch],
        FieldType::File => &[Upload, Assign, Fetch, Download],
        FieldType::FloatSeries | FieldType::StringSeries => {
            &[Append, AppendAt, Extend, Clear, FetchLast, FetchValues]
        }
        FieldType::FileSeries => &[Append, Extend, Clear, FetchValues, Download],
        FieldType::StringSet => &[Add, Remove, Clear, Fetch],
        FieldType::Namespace => &[Assign, Fetch, Delete],
        other => panic!("no row for {other:?} in the design's table"),
    }
}

/// Where the runtime deliberately accepts more than the design's table.
fn deliberate_extras(field_type: FieldType) -> &'static [Operation] {
    match field_type {
        // A FileSeries takes an explicit step like the other series.
        FieldType::FileSeries => &[Operation::AppendAt],
        // Assigning a set replaces the items (what a struct's set field
        // does when the struct is logged again).
        FieldType::StringSet => &[Operation::Assign],
        _ => &[],
    }
}

/// A struct merged into a namespace, as a derived `LogNamespace` would be.
struct Merge;

impl Loggable for Merge {
    fn log_at(&self, target: &Handler, rel: &str, _: &LogOptions) -> Result<()> {
        let ns = if rel.is_empty() {
            target.clone()
        } else {
            target.at(rel)
        };
        ns.at("merged").assign(2)
    }
}

fn new_run() -> Run {
    Run::builder()
        .project("matrix")
        .mode(Mode::Debug)
        .start()
        .expect("a debug run starts")
}

/// Makes `PATH` a field of `field_type` (a namespace holding `child`).
fn create(run: &Run, field_type: FieldType) -> Handler {
    let h = run.at(PATH);
    let created = match field_type {
        FieldType::Float => h.assign(1.5),
        FieldType::Int => h.assign(1),
        FieldType::Bool => h.assign(true),
        FieldType::String => h.assign("first"),
        FieldType::Datetime => h.assign(SystemTime::UNIX_EPOCH + Duration::from_secs(1)),
        FieldType::File => h.upload_bytes(vec![1, 2, 3], "a.bin"),
        FieldType::FloatSeries => h.append(0.5),
        FieldType::StringSeries => h.append("first"),
        FieldType::FileSeries => h.append(File::from_bytes(vec![4, 5], "img.png")),
        FieldType::StringSet => h.add(["x"]),
        FieldType::Namespace => h.at("child").assign(1),
        other => panic!("cannot create {other:?}"),
    };
    created.unwrap_or_else(|e| panic!("creating a {field_type}: {e}"));
    assert_eq!(h.field_type().unwrap(), Some(field_type));
    h
}

/// What a series or an assign of the field's own kind carries.
enum Kind {
    Number,
    Text,
    Blob,
}

fn element_kind(field_type: FieldType) -> Kind {
    match field_type {
        FieldType::String | FieldType::StringSeries | FieldType::StringSet => Kind::Text,
        FieldType::File | FieldType::FileSeries => Kind::Blob,
        _ => Kind::Number,
    }
}

fn assign_own_kind(h: &Handler, field_type: FieldType) -> Result<()> {
    match field_type {
        FieldType::Float => h.assign(2.5),
        FieldType::Int => h.assign(2),
        FieldType::Bool => h.assign(false),
        FieldType::String => h.assign("second"),
        FieldType::Datetime => h.assign(SystemTime::UNIX_EPOCH + Duration::from_secs(2)),
        FieldType::File => h.assign(File::from_bytes(vec![7], "b.bin")),
        FieldType::FloatSeries => h.assign(2.5),
        FieldType::StringSeries => h.assign("second"),
        FieldType::FileSeries => h.assign(File::from_bytes(vec![7], "b.png")),
        FieldType::StringSet => h.assign(BTreeSet::from(["y".to_owned()])),
        FieldType::Namespace => h.assign(Merge),
        other => panic!("no value for {other:?}"),
    }
}

fn append_own_kind(h: &Handler, field_type: FieldType, step: Option<u32>) -> Result<()> {
    match (element_kind(field_type), step) {
        (Kind::Number, None) => h.append(0.25),
        (Kind::Number, Some(s)) => h.append_at(s, 0.25),
        (Kind::Text, None) => h.append("next"),
        (Kind::Text, Some(s)) => h.append_at(s, "next"),
        (Kind::Blob, None) => h.append(File::from_bytes(vec![8], "next.png")),
        (Kind::Blob, Some(s)) => h.append_at(s, File::from_bytes(vec![8], "next.png")),
    }
}

fn extend_own_kind(h: &Handler, field_type: FieldType) -> Result<()> {
    match element_kind(field_type) {
        Kind::Number => h.extend([0.25, 0.125]),
        Kind::Text => h.extend(["a", "b"]),
        Kind::Blob => h.extend([
            File::from_bytes(vec![1], "1.png"),
            File::from_bytes(vec![2], "2.png"),
        ]),
    }
}

fn attempt(h: &Handler, field_type: FieldType, operation: Operation) -> Result<()> {
    match operation {
        Operation::Assign => assign_own_kind(h, field_type),
        Operation::Fetch => h.fetch().map(drop),
        Operation::Upload => h.upload_bytes(vec![9, 9], "up.bin"),
        Operation::Download => h.download().map(drop),
        Operation::Append => append_own_kind(h, field_type, None),
        Operation::AppendAt => append_own_kind(h, field_type, Some(100)),
        Operation::Extend => extend_own_kind(h, field_type),
        Operation::Clear => h.clear(),
        Operation::FetchLast => h.fetch_last().map(drop),
        Operation::FetchValues => h.fetch_values().map(drop),
        Operation::Add => h.add(["y"]),
        Operation::Remove => h.remove(["x"]),
        Operation::Delete => h.delete(),
        other => panic!("no way to attempt {other:?}"),
    }
}

/// What a refused operation must leave untouched.
fn snapshot(run: &Run, field_type: FieldType) -> String {
    let h = run.at(PATH);
    let mut out = run.root().structure().unwrap().to_string();
    if field_type.accepts(Operation::Fetch) {
        out += &format!("{:?}", h.fetch().unwrap());
    }
    if field_type.is_series() {
        let points = h.fetch_values().unwrap();
        let steps: Vec<f64> = points.iter().map(|p| p.step).collect();
        let values: Vec<&Value> = points.iter().map(|p| &p.value).collect();
        out += &format!("{steps:?}{values:?}");
    }
    out
}

fn same_operations(a: &[Operation], b: &[Operation]) -> bool {
    a.len() == b.len() && a.iter().all(|op| b.contains(op))
}

#[test]
fn accepted_is_the_design_table_plus_the_deliberate_extras() {
    assert_eq!(FieldType::ALL.len(), 11);
    assert_eq!(Operation::ALL.len(), 13);
    for field_type in FieldType::ALL {
        let mut expected = design_table(field_type).to_vec();
        expected.extend_from_slice(deliberate_extras(field_type));
        assert!(
            same_operations(field_type.accepted(), &expected),
            "{field_type}: accepted() is {:?}, the table (plus extras) says {expected:?}",
            field_type.accepted()
        );
        for op in Operation::ALL {
            assert_eq!(
                field_type.accepts(op),
                expected.contains(&op),
                "{field_type} {op}"
            );
        }
    }
}

#[test]
fn every_type_times_every_operation() {
    let mut pairs = 0;
    let mut accepted = 0;
    for field_type in FieldType::ALL {
        for operation in Operation::ALL {
            pairs += 1;
            let run = new_run();
            let h = create(&run, field_type);
            let before = snapshot(&run, field_type);
            let result = attempt(&h, field_type, operation);
            if field_type.accepts(operation) {
                accepted += 1;
                if let Err(e) = result {
                    panic!("{operation} on a {field_type} should be accepted, got {e:?}");
                }
                // The path keeps its type, except a deleted namespace.
                let now = run.at(PATH).field_type().unwrap();
                if operation == Operation::Delete {
                    assert_eq!(now, None, "{field_type} {operation}");
                } else {
                    assert_eq!(now, Some(field_type), "{field_type} {operation}");
                }
                continue;
            }
            match result {
                Err(Error::UnsupportedOperation {
                    path,
                    field_type: ft,
                    operation: op,
                }) => {
                    assert_eq!(path, PATH, "{field_type} {operation}");
                    assert_eq!(ft, field_type, "{field_type} {operation}");
                    assert_eq!(op, operation, "{field_type} {operation}");
                }
                other => panic!(
                    "{operation} on a {field_type} should be UnsupportedOperation, got {other:?}"
                ),
            }
            assert_eq!(
                snapshot(&run, field_type),
                before,
                "a refused {operation} changed the {field_type}"
            );
        }
    }
    assert_eq!(pairs, 11 * 13);
    let listed: usize = FieldType::ALL.iter().map(|t| t.accepted().len()).sum();
    assert_eq!(accepted, listed);
}

#[test]
fn accepted_operations_take_effect() {
    // Spot checks that "accepted" is not just "returned Ok".
    let run = new_run();
    let ns = create(&run, FieldType::Namespace);
    ns.assign(Merge).unwrap();
    assert_eq!(ns.fetch().unwrap().get("child"), Some(&Value::Int(1)));
    assert_eq!(ns.fetch().unwrap().get("merged"), Some(&Value::Int(2)));

    let run = new_run();
    let set = create(&run, FieldType::StringSet);
    assign_own_kind(&set, FieldType::StringSet).unwrap();
    assert_eq!(
        set.fetch().unwrap(),
        Value::StringSet(BTreeSet::from(["y".to_owned()]))
    );

    let run = new_run();
    let files = create(&run, FieldType::FileSeries);
    append_own_kind(&files, FieldType::FileSeries, Some(100)).unwrap();
    let steps: Vec<f64> = files
        .fetch_values()
        .unwrap()
        .iter()
        .map(|p| p.step)
        .collect();
    assert_eq!(steps, [0.0, 100.0]);
    assert_eq!(files.download().unwrap(), [8]);

    let run = new_run();
    let file = create(&run, FieldType::File);
    file.upload_bytes(vec![9, 9], "up.bin").unwrap();
    assert_eq!(file.download().unwrap(), [9, 9]);
}

#[test]
fn a_scalar_assigned_onto_a_namespace_is_a_namespace_conflict() {
    for (value_type, result) in [
        (
            FieldType::Float,
            create(&new_run(), FieldType::Namespace).assign(1.5),
        ),
        (
            FieldType::Int,
            create(&new_run(), FieldType::Namespace).assign(3),
        ),
        (
            FieldType::Bool,
            create(&new_run(), FieldType::Namespace).assign(true),
        ),
        (
            FieldType::String,
            create(&new_run(), FieldType::Namespace).assign("x"),
        ),
        (
            FieldType::Datetime,
            create(&new_run(), FieldType::Namespace).assign(SystemTime::UNIX_EPOCH),
        ),
        (
            FieldType::File,
            create(&new_run(), FieldType::Namespace).assign(File::from_bytes(vec![1], "f.bin")),
        ),
        (
            FieldType::StringSet,
            create(&new_run(), FieldType::Namespace).assign(BTreeSet::from(["a".to_owned()])),
        ),
    ] {
        match result {
            Err(Error::NamespaceConflict {
                path,
                conflict:
                    Conflict::ValueOntoNamespace {
                        path: conflict_path,
                        value_type: vt,
                    },
            }) => {
                assert_eq!(path, PATH);
                assert_eq!(conflict_path, PATH);
                assert_eq!(vt, value_type);
            }
            other => panic!("assigning a {value_type} onto a namespace gave {other:?}"),
        }
    }
}

#[test]
fn a_value_of_another_kind_assigned_to_a_field_that_accepts_assign_is_a_type_mismatch() {
    type Write = fn(&Handler) -> Result<()>;
    let cases: [(FieldType, FieldType, Write); 4] = [
        (FieldType::Float, FieldType::File, |h| {
            h.assign(File::from_bytes(vec![1], "f.bin"))
        }),
        (FieldType::Int, FieldType::StringSet, |h| {
            h.assign(BTreeSet::from(["a".to_owned()]))
        }),
        (FieldType::File, FieldType::Float, |h| h.assign(1.0)),
        (FieldType::StringSet, FieldType::String, |h| h.assign("a")),
    ];
    for (field_type, value_type, write) in cases {
        let run = new_run();
        let h = create(&run, field_type);
        match write(&h) {
            Err(Error::TypeMismatch {
                path,
                field_type: ft,
                value_type: vt,
            }) => {
                assert_eq!(
                    (path.as_str(), ft, vt),
                    (PATH, field_type, value_type),
                    "a {value_type} into a {field_type}"
                );
            }
            other => panic!("a {value_type} into a {field_type} gave {other:?}"),
        }
    }
}

#[test]
fn upload_onto_a_float_series_message() {
    let run = new_run();
    run.at("train/acc").append(0.72).unwrap();
    let err = run
        .at("train/acc")
        .upload_bytes(vec![1, 2, 3], "image.png")
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::UnsupportedOperation { path, field_type: FieldType::FloatSeries, operation: Operation::Upload }
                if path == "train/acc"
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "`upload` is not supported by `train/acc`, a FloatSeries, which accepts \
         append, append_at, extend, clear, fetch_last, fetch_values"
    );
}
