//! The macros of hippocamp: `#[derive(LogNamespace)]` and `log!`.
//!
//! Use them through the `hippocamp` crate, which re-exports both; their
//! expansions name items of `hippocamp` and do not work without it.
//!
//! The crate is laid out like serde_derive: `attr` reads the
//! `#[log(...)]` attributes, `ast` turns the struct into checked fields,
//! `expand` writes the items, `log_macro` is `log!`, and `ctxt`
//! collects every error of an invocation so that all are reported at once,
//! each at its token.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use proc_macro::TokenStream;

mod ast;
mod attr;
mod bound;
mod ctxt;
mod expand;
mod log_macro;

/// Derives `LogNamespace` for a struct with named fields: its fields
/// become a namespace of typed fields, logged in one call and read back in
/// one call, with their paths known at compile time.
///
/// ```
/// use hippocamp::{log, LogNamespace, Mode, Run};
///
/// #[derive(LogNamespace)]
/// struct Optimizer {
///     name: String,        // a String field
///     momentum: f64,       // a Float field
/// }
///
/// #[derive(LogNamespace)]
/// struct Params {
///     max_epochs: u32,     // Int
///     learning_rate: f64,  // Float
///     #[log(rename = "batch")]
///     batch_size: usize,   // Int at ".../batch"
///     #[log(skip)]
///     api_key: String,     // never logged; read back as ""
///     optimizer: Optimizer, // a nested namespace ".../optimizer/..."
/// }
///
/// #[derive(LogNamespace)]
/// struct EpochMetrics {
///     #[log(series)]
///     loss: f64,           // FloatSeries, appended
///     #[log(series)]
///     acc: f64,
/// }
///
/// let run = Run::builder().mode(Mode::Debug).start()?;
/// let params = Params {
///     max_epochs: 20,
///     learning_rate: 0.005,
///     batch_size: 64,
///     api_key: "secret".into(),
///     optimizer: Optimizer { name: "sgd".into(), momentum: 0.9 },
/// };
/// log!(run, "params" => params)?;   // or run.at("params").assign(&params)?
/// for epoch in 0..3 {
///     let m = EpochMetrics { loss: 1.0 / (epoch + 1) as f64, acc: 0.5 };
///     log!(run, "epoch" += m, step = epoch)?;
/// }
///
/// // Typed paths, relative to where the struct is logged.
/// let p = Params::paths();
/// assert_eq!(p.optimizer.momentum.as_str(), "optimizer/momentum");
/// assert_eq!(p.batch_size.as_str(), "batch");
/// let lr = run.at("params").at(p.learning_rate);   // a Float handle
/// assert_eq!(lr.fetch()?, 0.005);
/// let loss = run.at("epoch").at(EpochMetrics::paths().loss); // a FloatSeries handle
/// assert_eq!(loss.fetch_last()?, 1.0 / 3.0);
///
/// // Reading the whole struct back.
/// let back: Params = run.at("params").fetch_as()?;
/// assert_eq!(back.batch_size, 64);
/// assert_eq!(back.api_key, "");   // skipped: Default::default()
/// # Ok::<(), hippocamp::Error>(())
/// ```
///
/// # Field attributes
///
/// `#[log(...)]` on a field takes, alone or together
/// (`#[log(series, rename = "x")]`, or several attributes):
///
/// | attribute | meaning | the field's type must be |
/// |---|---|---|
/// | *(none)* | assigned at the field's name | `LogField` (numbers, `bool`, `String`, `SystemTime`, `File`, sets of strings, `Option` of those, derived structs) |
/// | `rename = "seg"` | logged at `seg` instead of the field's name; `seg` must be one valid path segment | as above |
/// | `series` | appended (at the call's `step`) instead of assigned | `SeriesValue` (numbers, strings, `File`, `Option` of those) |
/// | `flatten` | the field's own fields are logged at this level | `LogNamespace` |
/// | `skip` | never logged; read back as `Default::default()` | `Default` |
///
/// `skip` with anything else, `flatten` with `rename` and `flatten` with
/// `series` are errors, and so are unknown or repeated attributes, a
/// `rename` that is not a path segment (`"a/b"`), and two fields logging to
/// the same name. A field type without the trait its role needs is a type
/// error at the field's type.
///
/// # What it generates
///
/// For `struct Params { … }` (generics carried over, with the bounds the
/// field types need):
///
/// - `struct ParamsPaths`, with the struct's visibility, one field per
///   logged field with that field's visibility: a
///   `TypedPath<kind::…>` for an atom or a series, the nested struct's
///   `…Paths` for a nested struct, the flattened struct's `…Paths` for a
///   `flatten` field. It is `Clone` and `Debug`.
/// - `impl LogNamespace for Params`: `Params::paths()` (and
///   `paths_at(prefix)`), `log_into(&handler, &options)` — plain fields
///   assigned, `series` fields appended, in declaration order, stopping at
///   the first error — and `fetch_from(&handler)`.
/// - `impl Loggable`, `impl Appendable` and `impl LogField for Params`, so a
///   `Params` can be assigned (`handler.assign(&params)`,
///   `log!(h, "p" => params)`), logged with `+=` (its `series` fields
///   appended at the call's step, the others assigned), be a field of
///   another derived struct, and be read back with `handler.fetch_as()`.
///
/// Reading back, a missing field is `Error::NotFound` naming its path (an
/// `Option` field reads as `None`), a field of another type is
/// `Error::Conversion` naming its path, and a `series` field reads the
/// series' last value.
#[proc_macro_derive(LogNamespace, attributes(log))]
pub fn derive_log_namespace(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}

/// Logs values to paths under a run, a handler or a namespace handle.
///
/// ```text
/// log!(TARGET, ENTRY, ENTRY…, OPTION…)
/// ENTRY:  "path" => value    assign (a number, string, bool, time, File, set, derived struct…)
///         "path" += value    append (to a series; a derived struct appends its series fields)
/// OPTION: step = s           the step of appended points (anything `IntoStep`)
///         timestamp = t      their time (a `SystemTime`)
/// ```
///
/// ```
/// use hippocamp::{log, Mode, Run};
///
/// let run = Run::builder().mode(Mode::Debug).start()?;
/// log!(run, "params/lr" => 0.01, "params/optimizer" => "adam")?;
/// for epoch in 0..3u32 {
///     let fold = epoch % 2;
///     log!(run, "train/loss" += 1.0 / f64::from(epoch + 1),
///               "cv/fold_{fold}/acc" += 0.9,    // a template: `fold` is formatted in
///               step = epoch)?;
/// }
/// let params = run.at("params");
/// log!(params, "batch" => 64)?;                // relative to a handler
/// assert_eq!(run.at("cv/fold_0/acc").fetch_values()?.len(), 2);
/// assert_eq!(run.at("params/batch").fetch()?, hippocamp::Value::Int(64));
/// # Ok::<(), hippocamp::Error>(())
/// ```
///
/// The target is any expression whose type is `Run`, `Handler`,
/// `Typed<kind::Namespace>` or a reference to one; it is borrowed, never
/// moved. Values are borrowed too.
///
/// The macro is an expression of type `Result<(), hippocamp::Error>`. The
/// target and options are evaluated first, then the entries in order; the
/// first entry that fails stops the call and its error is returned: the
/// entries before it stay written and the ones after it are not evaluated.
///
/// # Paths
///
/// Paths are string literals. A plain path is checked at compile time, and
/// a malformed one does not compile, with the error on the literal:
///
/// ```compile_fail
/// # use hippocamp::{log, Mode, Run};
/// # let run = Run::builder().mode(Mode::Debug).start().unwrap();
/// log!(run, "a//b" => 1); // invalid path `a//b`: empty segment (`//`) at byte 2
/// ```
///
/// A template such as `"cv/fold_{fold}/acc"` formats the variable `fold`
/// (any `Display`) into the path, as `format!` does; `{{` and `}}` are
/// literal braces. Its literal text is checked at compile time, the
/// rendered path at run time (a rendering that breaks the path grammar is
/// `Error::InvalidPath`).
///
/// Compile errors, each at its token: no entry, a path that is not a string
/// literal, an unknown or repeated option, an entry after an option, a
/// missing `=>`/`+=`, and malformed paths or templates.
#[proc_macro]
pub fn log(input: TokenStream) -> TokenStream {
    log_macro::expand(input.into()).into()
}

/// The messages of the `compile_error!`s in an expansion's text, for the
/// unit tests of both macros.
#[cfg(test)]
fn compile_error_messages(text: &str) -> Vec<String> {
    text.split("compile_error !")
        .skip(1)
        .filter_map(|rest| {
            let start = rest.find('"')?;
            let end = rest[start + 1..].find("\" }")?;
            Some(rest[start + 1..start + 1 + end].replace("\\\"", "\""))
        })
        .collect()
}
