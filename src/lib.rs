//! hippocamp records the metadata of machine-learning runs — parameters,
//! metric series, text, files and tags — as a tree of typed fields under
//! `/` paths, checked by the compiler where it can and by the run where it
//! must.
//!
//! See the README for a tour; the items are documented where they are
//! defined, in `hippocamp-core` (the runtime model) and `hippocamp-macros`
//! (`#[derive(LogNamespace)]` and `log!`).
//!
//! # Runs and handlers
//!
//! A [`Run`] holds a tree of namespaces and typed fields. `run.at(path)`
//! gives a [`Handler`], which becomes whatever is first written to it;
//! after that it accepts only that field type's operations:
//!
//! ```
//! use hippocamp::{Error, FieldType, Mode, Run};
//!
//! let run = Run::builder().mode(Mode::Debug).start()?;
//! run.at("params/max_epochs").assign(20)?;        // an absolute path
//! let params = run.at("params");
//! params.at("learning_rate").assign(0.005)?;      // relative to a namespace
//!
//! let acc = run.at("train/acc");
//! acc.append(0.72)?;                              // now a FloatSeries
//! assert_eq!(acc.field_type()?, Some(FieldType::FloatSeries));
//! let refused = acc.upload_bytes(vec![0x89], "image.png");
//! assert!(matches!(refused, Err(Error::UnsupportedOperation { .. })));
//!
//! assert_eq!(run.structure()?.to_string(), "\
//! |--> params
//!      |--> learning_rate: 0.005
//!      |--> max_epochs: 20
//! |--> train
//!      |--> acc: FloatSeries
//! ");
//! # Ok::<(), Error>(())
//! ```
//!
//! # Structs as namespaces: `#[derive(LogNamespace)]`
//!
//! Deriving [`LogNamespace`](macro@LogNamespace) on a struct with named
//! fields makes it loggable in one call (its fields become a namespace),
//! readable back in one call, and gives it typed paths. Field attributes:
//! `#[log(rename = "seg")]`, `#[log(skip)]`, `#[log(series)]` (appended
//! instead of assigned) and `#[log(flatten)]`.
//!
//! ```
//! use hippocamp::{kind, log, LogNamespace, Mode, Run, Typed};
//!
//! #[derive(LogNamespace)]
//! struct Optimizer {
//!     name: String,
//!     momentum: f64,
//! }
//!
//! #[derive(LogNamespace)]
//! struct Params {
//!     max_epochs: u32,
//!     learning_rate: f64,
//!     #[log(rename = "batch")]
//!     batch_size: usize,
//!     #[log(skip)]
//!     api_key: String,
//!     optimizer: Optimizer,
//! }
//!
//! #[derive(LogNamespace)]
//! struct EpochMetrics {
//!     #[log(series)]
//!     loss: f64,
//!     #[log(series)]
//!     acc: f64,
//! }
//!
//! let run = Run::builder().mode(Mode::Debug).start()?;
//! let params = Params {
//!     max_epochs: 20,
//!     learning_rate: 0.005,
//!     batch_size: 64,
//!     api_key: "secret".into(),
//!     optimizer: Optimizer { name: "sgd".into(), momentum: 0.9 },
//! };
//! log!(run, "params" => params)?;
//! for epoch in 0..3 {
//!     let m = EpochMetrics { loss: 1.0 / f64::from(epoch + 1), acc: 0.5 };
//!     log!(run, "epoch" += m, step = epoch)?;   // appends epoch/loss and epoch/acc
//! }
//! assert_eq!(run.structure()?.to_string(), "\
//! |--> epoch
//!      |--> acc: FloatSeries
//!      |--> loss: FloatSeries
//! |--> params
//!      |--> batch: 64
//!      |--> learning_rate: 0.005
//!      |--> max_epochs: 20
//!      |--> optimizer
//!           |--> momentum: 0.9
//!           |--> name: \"sgd\"
//! ");
//!
//! // Typed paths, relative to where the struct is logged.
//! let p = Params::paths();
//! assert_eq!(p.optimizer.momentum.as_str(), "optimizer/momentum");
//! let lr: Typed<kind::Float> = run.at("params").at(p.learning_rate);
//! lr.assign(0.01)?;                           // a Float handle: assign and fetch
//! let loss = run.at("epoch").at(EpochMetrics::paths().loss);
//! loss.append(0.25)?;                         // a FloatSeries handle; step 3
//! assert_eq!(loss.fetch_values()?.len(), 4);
//!
//! // The whole struct read back (the skipped field is `Default::default()`).
//! let back: Params = run.at("params").fetch_as()?;
//! assert_eq!((back.learning_rate, back.api_key.as_str()), (0.01, ""));
//! # Ok::<(), hippocamp::Error>(())
//! ```
//!
//! A typed handle has only its field type's operations, so a wrong one
//! does not compile:
//!
//! ```compile_fail
//! # use hippocamp::{LogNamespace, Mode, Run};
//! #[derive(LogNamespace)]
//! struct EpochMetrics {
//!     #[log(series)]
//!     loss: f64,
//! }
//! let run = Run::builder().mode(Mode::Debug).start().unwrap();
//! run.at("epoch").at(EpochMetrics::paths().loss).upload("x.png"); // a FloatSeries has no upload
//! ```
//!
//! # Logging several values: `log!`
//!
//! [`log!`] logs to a run, a handler or a namespace handle: `"path" =>
//! value` assigns, `"path" += value` appends, and `step = …` /
//! `timestamp = …` after the entries set the step and time of appended
//! points. Paths are literals, checked at compile time; `{name}` in a path
//! formats a variable in. It returns `Result<(), Error>`; the first entry
//! that fails stops it (the ones before it stay written).
//!
//! ```
//! use hippocamp::{log, Error, Mode, Run, Value};
//!
//! let run = Run::builder().mode(Mode::Debug).start()?;
//! let params = run.at("params");
//! log!(params, "lr" => 0.01, "optimizer" => "adam")?;
//! for epoch in 0..4u32 {
//!     let fold = epoch % 2;
//!     log!(run, "train/loss" += 1.0 / f64::from(epoch + 1),
//!               "cv/fold_{fold}/acc" += 0.9,
//!               step = epoch)?;
//! }
//! assert_eq!(run.at("params/lr").fetch()?, Value::Float(0.01));
//! assert_eq!(run.at("cv/fold_1/acc").fetch_last()?.step, 3.0);
//!
//! // A template that renders an invalid path is refused when it runs.
//! let name = "a/";
//! assert!(matches!(log!(run, "runs/{name}" => 1), Err(Error::InvalidPath { .. })));
//! # Ok::<(), Error>(())
//! ```
//!
//! A malformed literal path does not compile, and the error points at it:
//!
//! ```compile_fail
//! # use hippocamp::{log, Mode, Run};
//! # let run = Run::builder().mode(Mode::Debug).start().unwrap();
//! log!(run, "a//b" => 1); // invalid path `a//b`: empty segment (`//`) at byte 2
//! ```

#![forbid(unsafe_code)]

pub use hippocamp_core::*;
pub use hippocamp_macros::{log, LogNamespace};
