//! `structure()` draws the tree the way the seed document does: one
//! `|--> name` line per entry, sorted, five more spaces per level, atoms
//! with their values and everything else with its type.

use std::time::{Duration, SystemTime};

use hippocamp_core::structure::Entry;
use hippocamp_core::{Error, FieldType, File, Mode, Run, Value};

fn new_run() -> Run {
    Run::builder()
        .project("structure")
        .mode(Mode::Debug)
        .start()
        .expect("a debug run starts")
}

#[test]
fn the_seed_example() {
    let run = new_run();
    run.at("params/max_epochs").assign(20).unwrap();
    let params = run.at("params");
    params.at("learning_rate").assign(0.01).unwrap();
    run.at("train/acc").append(0.72).unwrap();
    assert_eq!(
        run.structure().unwrap().to_string(),
        "\
|--> params
     |--> learning_rate: 0.01
     |--> max_epochs: 20
|--> train
     |--> acc: FloatSeries
"
    );
}

#[test]
fn atoms_show_their_values_and_other_fields_their_types() {
    let run = new_run();
    let t = SystemTime::UNIX_EPOCH + Duration::from_micros(1_500_000);
    run.at("a/float_whole").assign(20.0).unwrap();
    run.at("a/float_widened").assign(20.0).unwrap();
    run.at("a/float_widened").assign(3).unwrap();
    run.at("a/float_small").assign(1e-7).unwrap();
    run.at("a/float_nan").assign(f64::NAN).unwrap();
    run.at("a/float_neg_zero").assign(-0.0).unwrap();
    run.at("a/float_inf").assign(f64::NEG_INFINITY).unwrap();
    run.at("a/int").assign(20).unwrap();
    run.at("a/int_neg").assign(-7).unwrap();
    run.at("a/bool").assign(false).unwrap();
    run.at("a/string").assign("adam").unwrap();
    run.at("a/string_escaped").assign("say \"hi\"\n").unwrap();
    run.at("a/string_empty").assign("").unwrap();
    run.at("a/time").assign(t).unwrap();
    run.at("b/file").upload_bytes(vec![1], "f.bin").unwrap();
    run.at("b/floats").append(1.0).unwrap();
    run.at("b/strings").append("x").unwrap();
    run.at("b/files")
        .append(File::from_bytes(vec![1], "i.png"))
        .unwrap();
    run.at("b/set").add(["x", "y"]).unwrap();
    assert_eq!(
        run.structure().unwrap().to_string(),
        "\
|--> a
     |--> bool: false
     |--> float_inf: -inf
     |--> float_nan: NaN
     |--> float_neg_zero: -0.0
     |--> float_small: 1e-7
     |--> float_whole: 20.0
     |--> float_widened: 3.0
     |--> int: 20
     |--> int_neg: -7
     |--> string: \"adam\"
     |--> string_empty: \"\"
     |--> string_escaped: \"say \\\"hi\\\"\\n\"
     |--> time: 1970-01-01T00:00:01.500000Z
|--> b
     |--> file: File
     |--> files: FileSeries
     |--> floats: FloatSeries
     |--> set: StringSet
     |--> strings: StringSeries
"
    );
}

#[test]
fn entries_are_sorted_by_name_bytes_and_indented_five_spaces_per_level() {
    let run = new_run();
    for path in [
        "z",
        "b/9",
        "b/10",
        "B",
        "a/b/c/d/e",
        "a/b/c/x",
        "a/a",
        "é",
        "a b",
        "a-b",
    ] {
        run.at(path).assign(1).unwrap();
    }
    assert_eq!(
        run.structure().unwrap().to_string(),
        "\
|--> B: 1
|--> a
     |--> a: 1
     |--> b
          |--> c
               |--> d
                    |--> e: 1
               |--> x: 1
|--> a b: 1
|--> a-b: 1
|--> b
     |--> 10: 1
     |--> 9: 1
|--> z: 1
|--> é: 1
"
    );
}

#[test]
fn the_runs_structure_leaves_sys_out_and_sys_shows_it() {
    let run = Run::builder()
        .project("structure")
        .name("baseline")
        .tags(["cnn"])
        .mode(Mode::Debug)
        .start()
        .unwrap();
    assert!(run.structure().unwrap().is_empty());
    assert_eq!(run.structure().unwrap().to_string(), "");
    run.at("x").assign(1).unwrap();
    assert_eq!(run.structure().unwrap().to_string(), "|--> x: 1\n");

    let created = run.at("sys/creation_time").fetch().unwrap();
    let Value::String(host) = run.at("sys/hostname").fetch().unwrap() else {
        panic!("hostname is a String")
    };
    let sys = format!(
        "\
|--> creation_time: {created}
|--> description: \"\"
|--> failed: false
|--> hostname: {host:?}
|--> id: {id:?}
|--> name: \"baseline\"
|--> project: \"structure\"
|--> state: \"running\"
|--> tags: StringSet
",
        id = run.id()
    );
    assert_eq!(run.at("sys").structure().unwrap().to_string(), sys);
    // The root handler shows everything, sys included.
    let indented: String = sys.lines().map(|l| format!("     {l}\n")).collect();
    assert_eq!(
        run.root().structure().unwrap().to_string(),
        format!("|--> sys\n{indented}|--> x: 1\n")
    );
    run.close().unwrap();
    assert!(run
        .at("sys")
        .structure()
        .unwrap()
        .to_string()
        .contains("|--> state: \"finished\"\n"));
}

#[test]
fn the_structure_under_a_namespace_and_of_a_single_field() {
    let run = new_run();
    run.at("params/lr").assign(0.01).unwrap();
    run.at("params/opt/name").assign("adam").unwrap();
    run.at("train/acc").append(0.5).unwrap();
    assert_eq!(
        run.at("params").structure().unwrap().to_string(),
        "\
|--> lr: 0.01
|--> opt
     |--> name: \"adam\"
"
    );
    assert_eq!(
        run.at("params").at("opt").structure().unwrap().to_string(),
        "|--> name: \"adam\"\n"
    );
    assert_eq!(
        run.at("train/acc").structure().unwrap().to_string(),
        "|--> acc: FloatSeries\n"
    );
    assert_eq!(
        run.at("params/lr").structure().unwrap().to_string(),
        "|--> lr: 0.01\n"
    );
    match run.at("params/nothing").structure().unwrap_err() {
        Error::NotFound { path } => assert_eq!(path, "params/nothing"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_structure_is_a_snapshot_with_entries() {
    let run = new_run();
    run.at("params/lr").assign(0.01).unwrap();
    run.at("train/acc").append(0.5).unwrap();
    let s = run.structure().unwrap();
    assert_eq!(
        s.get("params/lr"),
        Some(&Entry::Field {
            field_type: FieldType::Float,
            value: Some(Value::Float(0.01))
        })
    );
    assert_eq!(
        s.get("train/acc"),
        Some(&Entry::Field {
            field_type: FieldType::FloatSeries,
            value: None
        })
    );
    assert!(matches!(s.get("train"), Some(Entry::Namespace(children)) if children.len() == 1));
    assert_eq!(s.get("params/lr/x"), None);
    assert_eq!(s.get("nothing"), None);
    assert_eq!(s.entries.keys().collect::<Vec<_>>(), ["params", "train"]);
    // Later writes do not change a snapshot taken before.
    let before = s.to_string();
    run.at("params/lr").assign(0.02).unwrap();
    run.at("new").assign(1).unwrap();
    assert_eq!(s.to_string(), before);
    assert_ne!(run.structure().unwrap().to_string(), before);
    // Deleted namespaces leave the tree.
    run.at("params").delete().unwrap();
    assert_eq!(
        run.structure().unwrap().to_string(),
        "|--> new: 1\n|--> train\n     |--> acc: FloatSeries\n"
    );
}
