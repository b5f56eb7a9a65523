//! Derived structs and `log!` in a crate that denies the lints careful
//! crates turn on: the generated code must not trip any of them.

#![deny(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    unused,
    unused_qualifications,
    unused_results,
    unused_lifetimes,
    single_use_lifetimes,
    trivial_casts,
    trivial_numeric_casts,
    elided_lifetimes_in_paths,
    clippy::all,
    clippy::pedantic
)]

use hippocamp::{log, LogNamespace, Mode, Run};

/// An optimizer's settings.
#[derive(LogNamespace, Debug)]
pub struct Optimizer {
    /// Its name.
    pub name: String,
    /// Its momentum.
    pub momentum: f64,
}

/// Training parameters.
#[derive(LogNamespace, Debug)]
pub struct Params {
    /// How many epochs.
    pub max_epochs: u32,
    /// The batch size.
    #[log(rename = "batch")]
    pub batch_size: usize,
    /// Never logged.
    #[log(skip)]
    pub api_key: String,
    /// The optimizer.
    pub optimizer: Optimizer,
    /// Shared settings.
    #[log(flatten)]
    pub common: Common,
    /// A loss per step.
    #[log(series)]
    pub loss: Option<f64>,
}

/// Settings shared by experiments.
#[derive(LogNamespace, Debug, Default)]
pub struct Common {
    /// The seed.
    pub seed: i64,
}

/// A generic wrapper.
#[derive(LogNamespace, Debug)]
pub struct Wrapper<'a, T, const N: usize> {
    /// The value.
    pub inner: T,
    /// Not logged.
    #[log(skip)]
    pub borrowed: Option<&'a str>,
}

/// Nothing at all.
#[derive(LogNamespace, Debug)]
pub struct Empty {}

#[test]
fn the_generated_code_is_lint_clean() -> Result<(), hippocamp::Error> {
    let run = Run::builder().mode(Mode::Debug).start()?;
    let params = Params {
        max_epochs: 3,
        batch_size: 8,
        api_key: String::new(),
        optimizer: Optimizer {
            name: "sgd".into(),
            momentum: 0.9,
        },
        common: Common { seed: 1 },
        loss: Some(0.5),
    };
    log!(run, "params" => params, "n" => 1, "x" += 0.5, step = 1)?;
    let fold = 2;
    log!(&run, "cv/{fold}/acc" += 0.5)?;
    let w: Wrapper<'_, i64, 4> = Wrapper {
        inner: 1,
        borrowed: None,
    };
    log!(run, "w" => w, "e" => Empty {})?;
    let back: Params = run.at("params").fetch_as()?;
    assert_eq!(back.batch_size, 8);
    let paths = Params::paths();
    assert_eq!(paths.common.seed.as_str(), "seed");
    assert_eq!(
        format!("{:?}", paths.optimizer),
        "OptimizerPaths { name: TypedPath<String>(\"optimizer/name\"), \
         momentum: TypedPath<Float>(\"optimizer/momentum\") }"
    );
    let _ = Wrapper::<'_, i64, 4>::paths().inner.clone();
    Ok(())
}
