//! Every example of the seed document (`log-to-handlers`), in Rust, with
//! the run structure asserted exactly as the seed draws it.

use hippocamp::{log, Error, FieldType, File, LogNamespace, Mode, Operation, Run, Value};

fn debug_run() -> Run {
    Run::builder()
        .mode(Mode::Debug)
        .start()
        .expect("a debug run starts")
}

/// Story 1: parameters through an absolute path and through a namespace
/// handler with a relative path.
#[test]
fn params_through_an_absolute_path_and_a_namespace_handler() -> Result<(), Error> {
    let run = debug_run();

    // run["params/max_epochs"] = 20
    run.at("params/max_epochs").assign(20)?;

    // params_namespace = run["params"]
    // params_namespace["learning_rate"] = 0.005
    let params_namespace = run.at("params");
    params_namespace.at("learning_rate").assign(0.005)?;

    // The seed lists max_epochs first; the structure is sorted by name.
    assert_eq!(
        run.structure()?.to_string(),
        "\
|--> params
     |--> learning_rate: 0.005
     |--> max_epochs: 20
"
    );
    assert_eq!(params_namespace.field_type()?, Some(FieldType::Namespace));

    // The same with log!, absolute and relative.
    let run = debug_run();
    log!(run, "params/max_epochs" => 20)?;
    log!(params_namespace_of(&run), "learning_rate" => 0.005)?;
    assert_eq!(
        run.structure()?.to_string(),
        "\
|--> params
     |--> learning_rate: 0.005
     |--> max_epochs: 20
"
    );
    Ok(())
}

fn params_namespace_of(run: &Run) -> hippocamp::Handler {
    run.at("params")
}

/// Story 2: a handler at a path that holds nothing becomes the field first
/// written to it, and then accepts only that field type's operations.
#[test]
fn handler_becomes_a_field() -> Result<(), Error> {
    let run = debug_run();

    // handler_object = run["train/acc"]
    let handler_object = run.at("train/acc");
    assert_eq!(handler_object.field_type()?, None); // nothing there yet

    // handler_object.append(0.72)  # Works
    handler_object.append(0.72)?;
    assert_eq!(handler_object.field_type()?, Some(FieldType::FloatSeries));
    assert_eq!(
        run.structure()?.to_string(),
        "\
|--> train
     |--> acc: FloatSeries
"
    );

    // handler_object.upload("image.png")  # Error: Can't upload an image to a FloatSeries
    let err = handler_object
        .upload_bytes(b"\x89PNG".to_vec(), "image.png")
        .unwrap_err();
    match &err {
        Error::UnsupportedOperation {
            path,
            field_type,
            operation,
        } => {
            assert_eq!(path, "train/acc");
            assert_eq!(*field_type, FieldType::FloatSeries);
            assert_eq!(*operation, Operation::Upload);
        }
        other => panic!("expected UnsupportedOperation, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "`upload` is not supported by `train/acc`, a FloatSeries, which accepts \
         append, append_at, extend, clear, fetch_last, fetch_values"
    );
    // The same with a real image file on disk, as the seed writes it.
    let dir = std::env::temp_dir().join(format!("hippocamp-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let image = dir.join("image.png");
    std::fs::write(&image, b"\x89PNG").expect("a temporary file");
    let err = handler_object.upload(&image).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        matches!(
            err,
            Error::UnsupportedOperation {
                operation: Operation::Upload,
                ..
            }
        ),
        "{err:?}"
    );
    // Nothing changed.
    assert_eq!(handler_object.fetch_values()?.len(), 1);

    // Appending still works.
    handler_object.append(0.75)?;
    assert_eq!(handler_object.fetch_values()?.len(), 2);
    Ok(())
}

/// Story 3: a handler becomes a namespace once something is nested under
/// it; the resulting structure is the same as story 2's.
#[test]
fn handler_becomes_a_namespace() -> Result<(), Error> {
    let run = debug_run();

    // handler_object = run["train"]
    let handler_object = run.at("train");
    assert_eq!(handler_object.field_type()?, None);

    // handler_object["acc"] = 0.82
    //
    // The seed says "assign", but the structure it draws shows
    // `acc: FloatSeries`, as in story 2: in Neptune, assigning a float to a
    // new path makes a Float, so the drawn structure only holds if the
    // value is appended. hippocamp keeps assign and append apart, and the
    // structure is the acceptance check, so this appends.
    handler_object.at("acc").append(0.82)?;

    assert_eq!(handler_object.field_type()?, Some(FieldType::Namespace));
    assert_eq!(
        run.structure()?.to_string(),
        "\
|--> train
     |--> acc: FloatSeries
"
    );

    // The same through log!, relative to the handler.
    let run = debug_run();
    let handler_object = run.at("train");
    log!(handler_object, "acc" += 0.82)?;
    assert_eq!(
        run.structure()?.to_string(),
        "\
|--> train
     |--> acc: FloatSeries
"
    );
    Ok(())
}

#[derive(LogNamespace, Debug, Clone, PartialEq)]
struct DatasetConfig {
    name: String,
    min_faces_per_person: u32,
    resize: f64,
    n_samples: usize,
    n_classes: usize,
}

/// Story 4: the metadata of one pipeline step gathered under a
/// `preprocessing` namespace through a handler used as if it were a run.
#[test]
fn preprocessing_pipeline() -> Result<(), Error> {
    // run = neptune.init_run(); dataset_config = {...}
    let run = debug_run();
    let dataset_config = DatasetConfig {
        name: "lfw_people".into(),
        min_faces_per_person: 70,
        resize: 0.4,
        n_samples: 1288,
        n_classes: 7,
    };

    // preprocessing_handler = run["preprocessing"]
    let preprocessing = run.at("preprocessing");

    // preprocessing_handler["dataset/config"] = dataset_config
    log!(preprocessing, "dataset/config" => dataset_config)?;

    // Log scaler and features files
    preprocessing
        .at("scaler")
        .upload_bytes(b"scaler-state".to_vec(), "scaler.pkl")?;
    preprocessing
        .at("features")
        .upload_bytes(b"pca-components".to_vec(), "features.npy")?;

    // Everything logged through the handler is under preprocessing/.
    assert_eq!(
        run.structure()?.to_string(),
        "\
|--> preprocessing
     |--> dataset
          |--> config
               |--> min_faces_per_person: 70
               |--> n_classes: 7
               |--> n_samples: 1288
               |--> name: \"lfw_people\"
               |--> resize: 0.4
     |--> features: File
     |--> scaler: File
"
    );
    assert_eq!(
        run.at("preprocessing/dataset/config/name").fetch()?,
        Value::String("lfw_people".into())
    );
    assert_eq!(
        run.at("preprocessing/dataset/config/n_samples").fetch()?,
        Value::Int(1288)
    );
    assert_eq!(run.at("preprocessing/scaler").download()?, b"scaler-state");
    assert_eq!(
        run.at("preprocessing/features").download()?,
        b"pca-components"
    );
    match run.at("preprocessing/features").fetch()? {
        Value::File(info) => assert_eq!(info.name, "features.npy"),
        other => panic!("expected a File, got {other:?}"),
    }

    // The config reads back whole, through the handler or the run.
    let back: DatasetConfig = preprocessing.at("dataset/config").fetch_as()?;
    assert_eq!(back, dataset_config);
    let p = DatasetConfig::paths();
    assert_eq!(
        run.at("preprocessing/dataset/config")
            .at(p.resize)
            .fetch()?,
        0.4
    );

    // Files given as values of log! land there too.
    log!(preprocessing, "report" => File::from_bytes(b"ok".to_vec(), "report.txt"))?;
    assert_eq!(
        run.at("preprocessing/report").field_type()?,
        Some(FieldType::File)
    );
    Ok(())
}
