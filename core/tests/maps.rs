//! Maps assigned to a namespace merge into it, key by key.

use std::collections::{BTreeMap, HashMap};

use hippocamp_core::{Error, Mode, PathErrorKind, Run, Value};

fn run() -> Run {
    Run::builder().mode(Mode::Debug).start().unwrap()
}

#[test]
fn a_map_merges_into_a_namespace() {
    let run = run();
    run.at("params/lr").assign(0.1).unwrap();
    let more = BTreeMap::from([("momentum", 0.9), ("lr", 0.2)]);
    run.at("params").assign(&more).unwrap();
    assert_eq!(run.at("params/lr").fetch().unwrap(), Value::Float(0.2));
    assert_eq!(
        run.at("params/momentum").fetch().unwrap(),
        Value::Float(0.9)
    );
}

#[test]
fn nested_maps_make_nested_namespaces() {
    let run = run();
    let inner = HashMap::from([("depth".to_string(), 3)]);
    let outer = BTreeMap::from([("model", inner)]);
    run.at("cfg").assign(outer).unwrap();
    assert_eq!(run.at("cfg/model/depth").fetch().unwrap(), Value::Int(3));
}

#[test]
fn a_key_that_is_not_a_segment_is_refused_not_rewritten() {
    let run = run();
    let bad = BTreeMap::from([("a/b", 1)]);
    match run.at("cfg").assign(bad) {
        Err(Error::InvalidPath { path, source }) => {
            assert_eq!(path, "cfg/a/b");
            assert_eq!(source.kind, PathErrorKind::SeparatorInSegment);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(run.at("cfg").field_type().unwrap(), None);
}

#[test]
fn an_empty_map_writes_nothing() {
    let run = run();
    run.at("cfg")
        .assign(BTreeMap::<String, f64>::new())
        .unwrap();
    assert_eq!(run.at("cfg").field_type().unwrap(), None);
}
