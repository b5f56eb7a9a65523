//! The example of ../shared/design/API.md, as close to verbatim as a test
//! can be (the store goes to a temporary directory instead of
//! ./.hippocamp, and `Params` gets values): the public names it uses are
//! the interface users and acceptance checks rely on.

use hippocamp::{log, LogNamespace, Mode, Run};

#[derive(LogNamespace)]
struct Optimizer {
    name: String,  // String
    momentum: f64, // Float
}

#[derive(LogNamespace)]
struct Params {
    max_epochs: u32,    // Int
    learning_rate: f64, // Float
    #[log(rename = "batch")]
    batch_size: usize, // Int at ".../batch"
    #[log(skip)]
    #[allow(dead_code)]
    api_key: String, // never logged
    optimizer: Optimizer, // nested namespace ".../optimizer/..."
}

#[derive(LogNamespace)]
struct EpochMetrics {
    #[log(series)]
    loss: f64, // FloatSeries, appended
    #[log(series)]
    acc: f64,
}

#[test]
fn the_api_md_example_runs() -> Result<(), hippocamp::Error> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = Run::builder()
        .project("mnist")
        .name("baseline")
        .tags(["cnn", "baseline"])
        .dir(dir.path())
        .start()?;
    assert_eq!(run.mode(), Mode::Async);

    run.at("params/max_epochs").assign(20)?;
    let params_ns = run.at("params");
    params_ns.at("learning_rate").assign(0.005)?;

    let acc = run.at("train/acc");
    acc.append(0.72)?;
    assert!(acc.upload("image.png").is_err());
    run.at("eval/loss").append_at(3, 0.5)?;

    let params = Params {
        max_epochs: 20,
        learning_rate: 0.005,
        batch_size: 64,
        api_key: "secret".into(),
        optimizer: Optimizer {
            name: "adam".into(),
            momentum: 0.9,
        },
    };
    log!(run, "params" => params)?;
    log!(params_ns, "learning_rate" => 0.005)?;
    for epoch in 0..3 {
        let m = EpochMetrics {
            loss: 1.0 / (epoch + 1) as f64,
            acc: 0.5,
        };
        log!(run, "epoch" += m, step = epoch)?;
        let fold = epoch % 2;
        log!(
            run,
            "cv/fold_{fold}/acc" += 0.9,
            "lr" += 0.001,
            step = epoch
        )?;
    }

    let p = Params::paths();
    params_ns.at(p.learning_rate).assign(0.01)?;
    params_ns.at(p.optimizer.momentum).assign(0.9)?;
    let m = EpochMetrics::paths();
    run.at("epoch").at(m.loss).append(0.25)?;

    let lr: f64 = params_ns.at("learning_rate").fetch()?.try_into()?;
    assert_eq!(lr, 0.01);
    let last: f64 = run.at("epoch/loss").fetch_last()?.try_into()?;
    assert_eq!(last, 0.25);
    let points = run.at("epoch/loss").fetch_values()?;
    assert_eq!(points.len(), 4);
    assert_eq!(points[3].step, 3.0, "step 3 follows 2");
    for p in points.iter() {
        let (_step, _value, _time) = (p.step, &p.value, p.timestamp);
    }
    let cfg: Params = params_ns.fetch_as()?;
    assert_eq!(
        (cfg.max_epochs, cfg.batch_size, cfg.optimizer.name.as_str()),
        (20, 64, "adam")
    );
    assert_eq!(cfg.api_key, "", "a skipped field reads back as Default");
    let tree = run.structure()?.to_string();
    assert!(tree.starts_with("|--> cv\n"), "{tree}");
    assert!(
        tree.contains("|--> params\n     |--> batch: 64\n     |--> learning_rate: 0.01\n"),
        "{tree}"
    );
    assert!(
        tree.contains("|--> train\n     |--> acc: FloatSeries\n"),
        "{tree}"
    );

    run.close()
}
