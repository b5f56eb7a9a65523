//! Handlers: references to a path of a run.

use std::collections::BTreeSet;
use std::fmt;
use std::io::Write;
use std::ops::{Bound, ControlFlow, RangeBounds};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use hippocamp_path::{PathError, MAX_PATH_BYTES};

use crate::callsite::Callsite;
use crate::error::{Error, Result, StorageError};
use crate::file::{File, FileContent, FileData, FileSource, StageError, StagedFile};
use crate::log::{Appendable, IntoStep, LogField, LogOptions, Loggable, SeriesValue};
use crate::run::RunInner;
use crate::store::SeriesSummary;
use crate::structure::Structure;
use crate::tree::{SeriesItem, Target, Tree};
use crate::typed::{Typed, TypedPath};
use crate::value::{FieldType, Operation, Point, Value};

/// A reference to a path of a run, which becomes whatever is first written
/// to it: a field of the type of that first write, or a namespace when
/// something is written under it.
///
/// Once a field exists, only its type's operations are accepted; every
/// refusal is an [`Error`] naming the path, the type and what it accepts.
/// Cloning is cheap; handlers are `Send + Sync`.
///
/// ```
/// use hippocamp_core::{Error, Mode, Run};
/// let run = Run::builder().mode(Mode::Debug).start()?;
/// let acc = run.at("train/acc");     // nothing there yet
/// acc.append(0.72)?;                  // now a FloatSeries
/// assert!(matches!(acc.assign(1.0), Err(Error::UnsupportedOperation { .. })));
/// let train = run.at("train");        // a namespace, through what it holds
/// assert_eq!(train.at("acc").fetch_last()?.value, hippocamp_core::Value::Float(0.72));
/// # Ok::<(), Error>(())
/// ```
pub struct Handler {
    inner: Arc<RunInner>,
    path: Arc<str>,
    /// Set when `path` breaks the grammar: every operation returns it.
    invalid: Option<PathError>,
    /// The node `path` resolved to (see `Target::cache`; 0: not yet).
    cache: AtomicU64,
}

impl Clone for Handler {
    fn clone(&self) -> Self {
        Handler {
            inner: self.inner.clone(),
            path: self.path.clone(),
            invalid: self.invalid.clone(),
            cache: AtomicU64::new(self.cache.load(Ordering::Relaxed)),
        }
    }
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handler")
            .field("run", &self.inner.id)
            .field("path", &self.path)
            .finish()
    }
}

/// What [`Run::at`](crate::Run::at) and [`Handler::at`] take: a string path
/// (giving a [`Handler`]) or a typed path (giving a [`Typed`] handle).
pub trait IntoHandle {
    /// The handle it gives.
    type Handle;
    /// The handle at this path relative to `base`.
    fn into_handle(self, base: &Handler) -> Self::Handle;
}

impl IntoHandle for &str {
    type Handle = Handler;
    fn into_handle(self, base: &Handler) -> Handler {
        base.child(self)
    }
}

impl IntoHandle for String {
    type Handle = Handler;
    fn into_handle(self, base: &Handler) -> Handler {
        base.child(&self)
    }
}

impl IntoHandle for &String {
    type Handle = Handler;
    fn into_handle(self, base: &Handler) -> Handler {
        base.child(self)
    }
}

impl<K> IntoHandle for TypedPath<K> {
    type Handle = Typed<K>;
    fn into_handle(self, base: &Handler) -> Typed<K> {
        Typed::new(base.child(self.as_str()))
    }
}

impl<K> IntoHandle for &TypedPath<K> {
    type Handle = Typed<K>;
    fn into_handle(self, base: &Handler) -> Typed<K> {
        Typed::new(base.child(self.as_str()))
    }
}

/// Checks `rel` against the grammar and the joined length, without
/// joining: the hot path logs to valid paths, and only an error needs the
/// joined path (offsets in the error are in the joined path).
fn check_rel(base: &str, rel: &str) -> Result<(), PathError> {
    let shift = if base.is_empty() { 0 } else { base.len() + 1 };
    let joined_len = if rel.is_empty() {
        base.len()
    } else {
        shift + rel.len()
    };
    // The length first, as `validate` on the joined path does.
    if joined_len > MAX_PATH_BYTES {
        // Joined only now, to find the character the limit falls in.
        return Err(PathError::too_long(&hippocamp_path::join(base, rel)));
    }
    hippocamp_path::validate(rel).map_err(|err| PathError {
        offset: err.offset + shift,
        kind: err.kind,
    })
}

impl Handler {
    pub(crate) fn root(inner: Arc<RunInner>) -> Handler {
        Handler {
            inner,
            path: Arc::from(""),
            invalid: None,
            cache: AtomicU64::new(0),
        }
    }

    fn child(&self, rel: &str) -> Handler {
        let error = check_rel(&self.path, rel).err();
        Handler {
            inner: self.inner.clone(),
            path: Arc::from(hippocamp_path::join(&self.path, rel)),
            invalid: self.invalid.clone().or(error),
            cache: AtomicU64::new(0),
        }
    }

    /// A handler at `path` relative to this one (a typed path gives a
    /// typed handle). An invalid path is reported by its first operation.
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// let params = run.at("params");
    /// params.at("learning_rate").assign(0.005)?;
    /// assert_eq!(params.at("learning_rate").path(), "params/learning_rate");
    /// assert!(params.at("a//b").assign(1).is_err());
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn at<P: IntoHandle>(&self, path: P) -> P::Handle {
        path.into_handle(self)
    }

    /// The full path from the run's root (`""` for the root).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The id of the run this handler belongs to.
    pub fn run_id(&self) -> &str {
        &self.inner.id
    }

    /// What the path holds now: a field's type, [`FieldType::Namespace`],
    /// or `None` when it holds nothing.
    ///
    /// ```
    /// # use hippocamp_core::{FieldType, Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// assert_eq!(run.at("train/acc").field_type()?, None);
    /// run.at("train/acc").append(0.5)?;
    /// assert_eq!(run.at("train").field_type()?, Some(FieldType::Namespace));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn field_type(&self) -> Result<Option<FieldType>> {
        self.read_at("", |tree, target| Ok(tree.field_type(target)))
    }

    // ---- the plumbing every operation goes through ------------------

    /// Checks this handler's path and `rel` under it.
    pub(crate) fn check_path(&self, rel: &str) -> Result<()> {
        if let Some(source) = &self.invalid {
            return Err(Error::InvalidPath {
                path: hippocamp_path::join(&self.path, rel),
                source: source.clone(),
            });
        }
        if !rel.is_empty() {
            check_rel(&self.path, rel).map_err(|source| Error::InvalidPath {
                path: hippocamp_path::join(&self.path, rel),
                source,
            })?;
        }
        Ok(())
    }

    fn target<'a>(&'a self, rel: &'a str) -> Target<'a> {
        Target {
            base: &self.path,
            cache: &self.cache,
            rel,
        }
    }

    /// Runs a write at `rel` (relative to this handler) under the run's lock.
    pub(crate) fn write_at<R>(
        &self,
        rel: &str,
        write: impl FnOnce(&mut Tree, &Target<'_>) -> Result<R>,
    ) -> Result<R> {
        self.check_path(rel)?;
        let mut state = self
            .inner
            .lock_for_write(|| hippocamp_path::join(&self.path, rel))?;
        write(&mut state, &self.target(rel))
    }

    /// Runs a read at `rel` under the run's lock.
    pub(crate) fn read_at<R>(
        &self,
        rel: &str,
        read: impl FnOnce(&mut Tree, &Target<'_>) -> Result<R>,
    ) -> Result<R> {
        self.check_path(rel)?;
        let mut state = self.inner.lock_for_read()?;
        read(&mut state, &self.target(rel))
    }

    /// Runs a write at a callsite's literal path: straight to the field it
    /// remembers (`fast`), or through the path (`slow`), remembering the
    /// field for next time.
    #[inline]
    fn write_site<V, R>(
        &self,
        site: &Callsite,
        value: V,
        fast: impl FnOnce(&mut Tree, u32, V) -> Result<R>,
        slow: impl FnOnce(&mut Tree, &Target<'_>, V) -> Result<R>,
    ) -> Result<R> {
        self.check_path("")?;
        let mut state = self
            .inner
            .lock_for_write(|| hippocamp_path::join(&self.path, site.path()))?;
        if let Some(node) = state.site_node(&self.target(""), site) {
            return fast(&mut state, node, value);
        }
        self.check_path(site.path())?;
        let target = self.target(site.path());
        let result = slow(&mut state, &target, value);
        if result.is_ok() {
            state.remember_site(&target, site);
        }
        result
    }

    pub(crate) fn assign_value_site(&self, site: &Callsite, value: Value) -> Result<()> {
        self.write_site(
            site,
            value,
            |tree, id, value| tree.assign_to(id, value),
            |tree, target, value| tree.assign(target, value),
        )
    }

    /// Appends a number or string at a callsite's literal path.
    pub(crate) fn append_site(
        &self,
        site: &Callsite,
        item: SeriesItem<'_>,
        options: &LogOptions,
    ) -> Result<()> {
        self.write_site(
            site,
            item,
            |tree, id, item| tree.append_to(id, item, options.step, options.timestamp),
            |tree, target, item| tree.append(target, item, options.step, options.timestamp),
        )
    }

    pub(crate) fn assign_value_at(&self, rel: &str, value: Value) -> Result<()> {
        self.write_at(rel, |tree, target| tree.assign(target, value))
    }

    /// Appends a point at `rel` (a file's bytes already read).
    pub(crate) fn append_item_at(
        &self,
        rel: &str,
        item: SeriesItem<'_>,
        options: &LogOptions,
    ) -> Result<()> {
        self.write_at(rel, |tree, target| {
            tree.append(target, item, options.step, options.timestamp)
        })
    }

    pub(crate) fn append_file_at(
        &self,
        rel: &str,
        file: &File,
        options: &LogOptions,
    ) -> Result<()> {
        self.check_path(rel)?;
        // The rules first: a file that would be refused is never read.
        let staging = match file.source() {
            FileSource::Bytes(_) => None,
            FileSource::Path(_) => self.write_at(rel, |tree, target| {
                tree.check_file_append(target, options.step, options.timestamp)?;
                Ok(tree.store.staging_dir())
            })?,
        };
        let data = self.read_file(rel, file, staging)?;
        self.append_item_at(rel, SeriesItem::File(&data), options)
    }

    /// Stores a file; `operation` is `Upload`, or `Assign` for a [`File`]
    /// assigned, and is what errors name.
    pub(crate) fn upload_at(&self, rel: &str, file: &File, operation: Operation) -> Result<()> {
        self.check_path(rel)?;
        // The rules first: a file that would be refused is never read.
        let staging = match file.source() {
            FileSource::Bytes(_) => None,
            FileSource::Path(_) => self.write_at(rel, |tree, target| {
                tree.check_upload(target, operation)?;
                Ok(tree.store.staging_dir())
            })?,
        };
        let data = self.read_file(rel, file, staging)?;
        self.write_at(rel, |tree, target| tree.upload(target, &data, operation))
    }

    pub(crate) fn set_strings_at(&self, rel: &str, items: &[String], replace: bool) -> Result<()> {
        self.write_at(rel, |tree, target| tree.add_strings(target, items, replace))
    }

    pub(crate) fn fetch_at(&self, rel: &str) -> Result<Value> {
        self.read_at(rel, |tree, target| tree.fetch(target))
    }

    pub(crate) fn fetch_last_at(&self, rel: &str) -> Result<Point> {
        self.read_at(rel, |tree, target| tree.fetch_last(target))
    }

    pub(crate) fn exists_at(&self, rel: &str) -> Result<bool> {
        self.read_at(rel, |tree, target| Ok(tree.field_type(target).is_some()))
    }

    /// Takes a file's content outside the run's lock: bytes as they are; a
    /// file from disk copied into `staging` (the store's, while hashing
    /// it) or, without one, read into memory. Either way the content is
    /// the file's as it is now. A name no store may hold is refused first.
    fn read_file(&self, rel: &str, file: &File, staging: Option<PathBuf>) -> Result<FileData> {
        crate::identity::check_file_name(file.name(), || hippocamp_path::join(&self.path, rel))?;
        let content = match file.source() {
            FileSource::Bytes(bytes) => FileContent::Bytes(bytes.clone()),
            FileSource::Path(path) => {
                let file_error = |source| Error::File {
                    path: hippocamp_path::join(&self.path, rel),
                    file: path.clone(),
                    source,
                };
                match staging {
                    None => FileContent::Bytes(Arc::from(std::fs::read(path).map_err(file_error)?)),
                    Some(dir) => {
                        let mut source = std::fs::File::open(path).map_err(file_error)?;
                        let staged =
                            StagedFile::copy_from(&mut source, &dir).map_err(|e| match e {
                                StageError::Read(e) => file_error(e),
                                StageError::Write { path: copy, source } => {
                                    Error::from(StorageError::with_source(
                                        format!(
                                            "cannot store a copy of {} for `{}` in {}",
                                            path.display(),
                                            hippocamp_path::join(&self.path, rel),
                                            copy.parent().unwrap_or(&dir).display()
                                        ),
                                        source,
                                    ))
                                }
                            })?;
                        FileContent::Staged(Arc::new(staged))
                    }
                }
            }
        };
        Ok(FileData {
            name: file.name().to_owned(),
            content,
        })
    }

    // ---- the operations ----------------------------------------------

    /// Assigns a value: a number, bool, string, time, [`File`] or set makes
    /// (or updates) a field; a struct deriving `LogNamespace`, or a
    /// [`Serde`](crate::Serde) value, is merged into the namespace here.
    ///
    /// ```
    /// # use hippocamp_core::{Error, Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("params/lr").assign(0.01)?;
    /// run.at("params/lr").assign(1)?;            // Int widens to Float
    /// assert!(matches!(run.at("params/lr").assign("x"), Err(Error::TypeMismatch { .. })));
    /// assert!(matches!(run.at("params").assign(3), Err(Error::NamespaceConflict { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn assign<V: Loggable>(&self, value: V) -> Result<()> {
        value.log_at(self, "", &LogOptions::default())
    }

    /// Appends a value to a series at the next step (the last plus one;
    /// the first is 0), creating the series if the path holds nothing.
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// let loss = run.at("train/loss");
    /// loss.append(0.9)?;
    /// loss.append(f64::NAN)?; // kept as it is
    /// assert_eq!(loss.fetch_values()?.len(), 2);
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn append<V: Appendable>(&self, value: V) -> Result<()> {
        value.append_at(self, "", &LogOptions::default())
    }

    /// Appends a value at an explicit step, which must be finite and above
    /// the series' last step.
    ///
    /// ```
    /// # use hippocamp_core::{Error, Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("eval/loss").append_at(3, 0.5)?;
    /// let err = run.at("eval/loss").append_at(3, 0.4).unwrap_err();
    /// assert!(matches!(err, Error::StepNotIncreasing { .. }));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn append_at<S: IntoStep, V: Appendable>(&self, step: S, value: V) -> Result<()> {
        value.append_at(self, "", &LogOptions::new().step(step))
    }

    /// Appends several values at consecutive steps. They are appended in
    /// order; on an error the ones before it stay. A field that takes no
    /// `extend` refuses it even with no values.
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("lr").extend([0.1, 0.05, 0.01])?;
    /// assert_eq!(run.at("lr").fetch_last()?.step, 2.0);
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn extend<I>(&self, values: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Appendable,
    {
        let unsupported = |field_type| Error::UnsupportedOperation {
            path: self.path.to_string(),
            field_type,
            operation: Operation::Extend,
        };
        if let Some(field_type) = self.field_type()? {
            if !field_type.accepts(Operation::Extend) {
                return Err(unsupported(field_type));
            }
        }
        let options = LogOptions::default();
        for value in values {
            // Each value is an append; a refusal names the call made.
            value
                .append_at(self, "", &options)
                .map_err(|err| match err {
                    Error::UnsupportedOperation {
                        field_type,
                        operation: Operation::Append,
                        ..
                    } => unsupported(field_type),
                    other => other,
                })?;
        }
        Ok(())
    }

    /// Removes every point of a series (the next default step is 0 again)
    /// or every item of a StringSet.
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// let loss = run.at("train/loss");
    /// loss.extend([0.9, 0.8])?;
    /// loss.clear()?;
    /// assert!(loss.fetch_values()?.is_empty());
    /// loss.append(0.7)?;
    /// assert_eq!(loss.fetch_last()?.step, 0.0);
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn clear(&self) -> Result<()> {
        self.write_at("", |tree, target| tree.clear(target))
    }

    /// Reads an atom's value, a StringSet's items, a File's metadata, or a
    /// namespace's nested values (series left out).
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run, Value};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("params/max_epochs").assign(20)?;
    /// let epochs: i64 = run.at("params/max_epochs").fetch()?.try_into()?;
    /// assert_eq!(epochs, 20);
    /// assert_eq!(run.at("params").fetch()?.get("max_epochs"), Some(&Value::Int(20)));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn fetch(&self) -> Result<Value> {
        self.fetch_at("")
    }

    /// Reads a value into a Rust type: an atom type, an `Option`, or a
    /// struct deriving `LogNamespace` (each field read from its path).
    ///
    /// A missing field is [`Error::NotFound`] naming its path (an `Option`
    /// field reads as `None` instead); a field of another type is
    /// [`Error::Conversion`] naming its path.
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("n").assign(3)?;
    /// let n: u32 = run.at("n").fetch_as()?;
    /// let missing: Option<u32> = run.at("m").fetch_as()?;
    /// assert_eq!((n, missing), (3, None));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn fetch_as<T: LogField>(&self) -> Result<T> {
        T::fetch_at(self, "")
    }

    /// The last value of a series read into a Rust type (`f64`, `f32`, an
    /// integer type, `String`, [`File`] with its bytes, or an `Option` of
    /// one, `None` when the path holds nothing). A value of another type is
    /// [`Error::Conversion`] naming the path, which
    /// `fetch_last()?.try_into()?` cannot know.
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("train/loss").extend([0.9, 0.5])?;
    /// run.at("train/log").append("epoch 1")?;
    /// let last: f64 = run.at("train/loss").fetch_last_as()?;
    /// assert_eq!(last, 0.5);
    /// let err = run.at("train/log").fetch_last_as::<f64>().unwrap_err();
    /// assert_eq!(err.to_string(), "cannot read `train/log`, a String as f64");
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn fetch_last_as<T: SeriesValue>(&self) -> Result<T> {
        T::fetch_last_at(self, "")
    }

    /// Every point of a series, in step order, with its value read into a
    /// Rust type (`f64`, `String`, [`FileInfo`](crate::FileInfo), …: what
    /// [`Value`] converts to). A value that does not convert is
    /// [`Error::Conversion`] naming the path.
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("train/loss").extend([1.0, 0.5, 0.0])?;
    /// let points = run.at("train/loss").fetch_values_as::<f64>()?;
    /// let mean = points.iter().map(|p| p.value).sum::<f64>() / points.len() as f64;
    /// assert_eq!(mean, 0.5);
    /// let err = run.at("train/loss").fetch_values_as::<String>().unwrap_err();
    /// assert_eq!(err.to_string(), "cannot read `train/loss`, a Float as String");
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn fetch_values_as<T>(&self) -> Result<Vec<Point<T>>>
    where
        T: TryFrom<Value, Error = Error>,
    {
        self.fetch_values()?
            .into_iter()
            .map(|point| {
                Ok(Point {
                    step: point.step,
                    value: T::try_from(point.value).map_err(|e| e.with_path(&self.path))?,
                    timestamp: point.timestamp,
                })
            })
            .collect()
    }

    /// The last point of a FloatSeries or StringSeries; a series with no
    /// point is [`Error::NotFound`].
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run, Value};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("log").append("epoch 1")?;
    /// run.at("log").append_at(5, "epoch 5")?;
    /// let last = run.at("log").fetch_last()?;
    /// assert_eq!((last.step, last.value), (5.0, Value::String("epoch 5".into())));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn fetch_last(&self) -> Result<Point> {
        self.fetch_last_at("")
    }

    /// Every point of a series, in step order.
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run, Value};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("acc").extend([0.5, 0.75])?;
    /// let points = run.at("acc").fetch_values()?;
    /// let steps: Vec<f64> = points.iter().map(|p| p.step).collect();
    /// assert_eq!(steps, [0.0, 1.0]);
    /// assert_eq!(points[1].value, Value::Float(0.75));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn fetch_values(&self) -> Result<Vec<Point>> {
        self.read_at("", |tree, target| tree.fetch_values(target))
    }

    /// The points of a series whose steps lie in `steps` (`..` for all,
    /// `10.0..=20.0`, `5.0..`), in step order, read a chunk at a time as
    /// the iterator goes: a series of any length is never held whole in
    /// memory. The run's lock is held only while a chunk is read, so the
    /// loop may log to the run.
    ///
    /// Each chunk is read when the iterator reaches it: a series being
    /// logged meanwhile yields the points it has then (a series cleared
    /// meanwhile may yield some old and some new points).
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run, Value};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("loss").extend([0.9, 0.5, 0.25, 0.125])?;
    /// let mut steps = Vec::new();
    /// for point in run.at("loss").fetch_points(1.0..=2.0)? {
    ///     steps.push(point?.step);
    /// }
    /// assert_eq!(steps, [1.0, 2.0]);
    /// assert_eq!(run.at("loss").fetch_points(..)?.count(), 4);
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn fetch_points(&self, steps: impl RangeBounds<f64>) -> Result<SeriesPoints> {
        // Refused now, not at the first point, if this is no series.
        self.read_at("", |tree, target| tree.check_series(target))?;
        let (from, to) = inclusive_steps(&steps);
        Ok(SeriesPoints {
            handler: self.clone(),
            from,
            to,
            chunk: Vec::new().into_iter(),
            done: from.is_nan() || to.is_nan() || from > to,
        })
    }

    /// Calls `f` with every point of a series whose step lies in `steps`,
    /// in step order, reading a chunk at a time (see
    /// [`fetch_points`](Self::fetch_points)).
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run, Value};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("acc").extend([0.5, 0.75, 0.875])?;
    /// let mut sum = 0.0;
    /// run.at("acc").for_each_point(1.0.., |p| {
    ///     if let Value::Float(x) = p.value {
    ///         sum += x;
    ///     }
    /// })?;
    /// assert_eq!(sum, 1.625);
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn for_each_point(
        &self,
        steps: impl RangeBounds<f64>,
        mut f: impl FnMut(&Point),
    ) -> Result<()> {
        let mut points = self.fetch_points(steps)?;
        while let Some(chunk) = points.next_chunk() {
            chunk?.iter().for_each(&mut f);
        }
        Ok(())
    }

    /// A series over the steps in `steps`, as a chart draws it: every
    /// point when the range holds at most `2 × buckets` of them, else at
    /// most `buckets` buckets of equal step width (a bucket says which
    /// steps it spans), each with its count, first and last point, and the
    /// exact minimum and maximum of its values (NaN left out). No point is
    /// sampled away: a one-point spike is its bucket's maximum at every
    /// zoom. The embedded store answers a wide range from summaries it
    /// keeps of its stored points, decoding only those at the range's
    /// edges. `buckets` is 1 to [`MAX_BUCKETS`](crate::window::MAX_BUCKETS).
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// use hippocamp_core::window::WindowContent;
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// let mut loss: Vec<f64> = (0..10_000).map(|i| 1.0 / (1.0 + i as f64)).collect();
    /// loss[6_543] = 50.0; // a spike
    /// run.at("loss").extend(loss)?;
    /// let window = run.at("loss").fetch_window(.., 100)?;
    /// assert_eq!(window.count, 10_000);
    /// let WindowContent::Buckets(buckets) = window.content else { unreachable!() };
    /// assert!(buckets.len() <= 100);
    /// assert!(buckets.iter().any(|b| b.max == Some(50.0)));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn fetch_window(
        &self,
        steps: impl RangeBounds<f64>,
        buckets: usize,
    ) -> Result<crate::window::SeriesWindow> {
        let (from, to) = inclusive_steps(&steps);
        self.read_at("", |tree, target| {
            tree.read_window(target, from..=to, buckets)
        })
    }

    /// What a series holds, without reading it into memory: its number of
    /// points, first and last point, and for a FloatSeries its smallest
    /// and largest value with NaN left out.
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("loss").extend([0.9, f64::NAN, 0.25])?;
    /// let summary = run.at("loss").series_summary()?;
    /// assert_eq!(summary.count, 3);
    /// assert_eq!((summary.min, summary.max), (Some(0.25), Some(0.9)));
    /// assert_eq!(summary.last.map(|p| p.step), Some(2.0));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn series_summary(&self) -> Result<SeriesSummary> {
        self.read_at("", |tree, target| tree.series_summary(target))
    }

    /// Stores a file from disk in a File field. The field's rules are
    /// checked first; then the file is read, at this call: a missing file
    /// is this call's error, and what is stored is the file as it is now,
    /// even if it changes once the call returns. In the embedded store the
    /// file is copied into the store as it is hashed, never held in memory
    /// (a full disk is this call's error, and leaves no partial copy).
    ///
    /// ```
    /// # use hippocamp_core::{Error, Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// let missing = run.at("model").upload("/no/such/file.onnx");
    /// assert!(matches!(missing, Err(Error::File { .. })));
    /// run.at("train/acc").append(0.72)?;
    /// let refused = run.at("train/acc").upload("/no/such/image.png");
    /// assert!(matches!(refused, Err(Error::UnsupportedOperation { .. })));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn upload(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        self.upload_at("", &File::from_path(path), Operation::Upload)
    }

    /// Stores bytes with a file name (`"image.png"`) in a File field.
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("preprocessing/scaler").upload_bytes(b"weights".to_vec(), "scaler.pkl")?;
    /// assert_eq!(run.at("preprocessing/scaler").download()?, b"weights");
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn upload_bytes(&self, bytes: impl Into<Vec<u8>>, name: impl Into<String>) -> Result<()> {
        self.upload_at("", &File::from_bytes(bytes, name), Operation::Upload)
    }

    /// A File's bytes, or the last file of a FileSeries, in memory. The
    /// embedded store checks them against their SHA-256: content that was
    /// altered, truncated or replaced in the store is an error naming the
    /// run, the path and the content. For large files,
    /// [`download_to_path`](Self::download_to_path) does not hold them in
    /// memory.
    ///
    /// ```
    /// # use hippocamp_core::{File, Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("images").append(File::from_bytes(b"first".to_vec(), "0.png"))?;
    /// run.at("images").append(File::from_bytes(b"second".to_vec(), "1.png"))?;
    /// assert_eq!(run.at("images").download()?, b"second");
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn download(&self) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.read_at("", |tree, target| {
            tree.download_to(target, None, &mut bytes)
        })?;
        Ok(bytes)
    }

    /// The file of a FileSeries at `step`; a step without a file is
    /// [`Error::NotFound`].
    ///
    /// ```
    /// # use hippocamp_core::{Error, File, Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("images").append_at(3, File::from_bytes(b"epoch 3".to_vec(), "3.png"))?;
    /// assert_eq!(run.at("images").download_at(3)?, b"epoch 3");
    /// assert!(matches!(run.at("images").download_at(4), Err(Error::NotFound { .. })));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn download_at<S: IntoStep>(&self, step: S) -> Result<Vec<u8>> {
        let step = step.into_step();
        let mut bytes = Vec::new();
        self.read_at("", |tree, target| {
            tree.download_to(target, Some(step), &mut bytes)
        })?;
        Ok(bytes)
    }

    /// Writes a File's bytes, or the last file of a FileSeries, into `out`
    /// as they are read, and returns how many: a file of any size is never
    /// held in memory. The embedded store checks them against their
    /// SHA-256 on the way; a content of the wrong size is refused before
    /// anything is written, one altered at the same size once all is
    /// written (the error names the run, the path and the content), so
    /// keep what was written only on `Ok` — as
    /// [`download_to_path`](Self::download_to_path) does. The run's lock is
    /// held meanwhile: `out` must not log to this run.
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("model").upload_bytes(b"weights".to_vec(), "model.bin")?;
    /// let mut out = Vec::new();
    /// assert_eq!(run.at("model").download_to(&mut out)?, 7);
    /// assert_eq!(out, b"weights");
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn download_to<W: Write>(&self, mut out: W) -> Result<u64> {
        self.read_at("", |tree, target| tree.download_to(target, None, &mut out))
    }

    /// Writes the file of a FileSeries' point at `step` into `out` as it is
    /// read, and returns how many bytes: as
    /// [`download_to`](Self::download_to) does for the last one.
    ///
    /// ```
    /// # use hippocamp_core::{File, Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("images").append_at(3, File::from_bytes(b"epoch 3".to_vec(), "3.png"))?;
    /// let mut out = Vec::new();
    /// run.at("images").download_at_to(3, &mut out)?;
    /// assert_eq!(out, b"epoch 3");
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn download_at_to<S: IntoStep, W: Write>(&self, step: S, mut out: W) -> Result<u64> {
        let step = step.into_step();
        self.read_at("", |tree, target| {
            tree.download_to(target, Some(step), &mut out)
        })
    }

    /// Writes a File's bytes, or the last file of a FileSeries, to the
    /// file `path`, and returns how many. They are written into a
    /// temporary file beside it, which replaces `path` only once all is
    /// written and checked: on an error, `path` is as it was.
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("model").upload_bytes(b"weights".to_vec(), "model.bin")?;
    /// let dir = tempfile::tempdir().unwrap();
    /// run.at("model").download_to_path(dir.path().join("model.bin"))?;
    /// assert_eq!(std::fs::read(dir.path().join("model.bin")).unwrap(), b"weights");
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn download_to_path(&self, path: impl AsRef<Path>) -> Result<u64> {
        let path = path.as_ref();
        let error = |source| Error::Download {
            path: self.path.to_string(),
            file: path.to_path_buf(),
            source,
        };
        let tmp = TempOutput::beside(path).map_err(error)?;
        let mut out = std::io::BufWriter::new(&tmp.file);
        let written = self.download_to(&mut out)?;
        out.flush().map_err(error)?;
        drop(out);
        tmp.keep().map_err(error)?;
        Ok(written)
    }

    /// Adds strings to a StringSet, creating it if the path holds nothing.
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("sys/tags").add(["cnn", "baseline"])?;
    /// run.at("sys/tags").remove(["cnn"])?;
    /// let tags: std::collections::BTreeSet<String> = run.at("sys/tags").fetch()?.try_into()?;
    /// assert_eq!(tags.into_iter().collect::<Vec<_>>(), ["baseline"]);
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn add<I, S>(&self, items: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let items: Vec<String> = items.into_iter().map(Into::into).collect();
        self.set_strings_at("", &items, false)
    }

    /// Removes strings from a StringSet (absent ones are ignored).
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run, Value};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("labels").add(["a", "b"])?;
    /// run.at("labels").remove(["a", "never-there"])?;
    /// assert_eq!(run.at("labels").fetch()?, Value::StringSet(["b".to_string()].into()));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn remove<I, S>(&self, items: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let items: Vec<String> = items.into_iter().map(Into::into).collect();
        self.write_at("", |tree, target| tree.remove_strings(target, &items))
    }

    /// Removes a namespace and everything under it; its path may then
    /// become anything again.
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("tmp/x").assign(1)?;
    /// run.at("tmp").delete()?;
    /// run.at("tmp").assign(2.5)?; // a Float now
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn delete(&self) -> Result<()> {
        self.write_at("", |tree, target| tree.delete(target))
    }

    /// The tree under this handler (a field shows as a one-entry tree).
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("params/lr").assign(0.01)?;
    /// assert_eq!(run.at("params").structure()?.to_string(), "|--> lr: 0.01\n");
    /// assert_eq!(run.at("params/lr").structure()?.to_string(), "|--> lr: 0.01\n");
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn structure(&self) -> Result<Structure> {
        self.structure_inner(false)
    }

    pub(crate) fn structure_inner(&self, skip_sys: bool) -> Result<Structure> {
        self.read_at("", |tree, target| tree.structure(target, skip_sys))
    }
}

/// Items of a StringSet read back as a set.
pub(crate) fn as_string_set(value: Value, path: &str) -> Result<BTreeSet<String>> {
    match value {
        Value::StringSet(set) => Ok(set),
        other => Err(Error::Conversion {
            path: Some(path.to_owned()),
            expected: "a set of strings",
            found: other.field_type(),
        }),
    }
}

/// `steps` as an inclusive range of steps; an empty one has `from > to`
/// (or a NaN end).
fn inclusive_steps(steps: &impl RangeBounds<f64>) -> (f64, f64) {
    let from = match steps.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s.next_up(),
        Bound::Unbounded => f64::NEG_INFINITY,
    };
    let to = match steps.end_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s.next_down(),
        Bound::Unbounded => f64::INFINITY,
    };
    (from, to)
}

/// The points of a series, read a chunk at a time: what
/// [`Handler::fetch_points`] returns. Each item is a point, or the error
/// that ended the reading (the iterator ends after it).
///
/// ```
/// # use hippocamp_core::{Mode, Run};
/// let run = Run::builder().mode(Mode::Debug).start()?;
/// run.at("loss").extend((0..100_000).map(|i| i as f64))?;
/// let mut points = run.at("loss").fetch_points(..)?;
/// let mut count = 0;
/// while let Some(chunk) = points.next_chunk() {
///     count += chunk?.len(); // at most 65,536 points at a time
/// }
/// assert_eq!(count, 100_000);
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Debug)]
pub struct SeriesPoints {
    handler: Handler,
    /// The lowest step not yet read, and the highest wanted.
    from: f64,
    to: f64,
    chunk: std::vec::IntoIter<Point>,
    done: bool,
}

impl SeriesPoints {
    /// The next points, as many as the store reads at once (at most
    /// [`READ_CHUNK_POINTS`](crate::store::READ_CHUNK_POINTS)), or `None`
    /// at the end. After an error, `None`.
    pub fn next_chunk(&mut self) -> Option<Result<Vec<Point>>> {
        if self.chunk.len() > 0 {
            return Some(Ok(std::mem::take(&mut self.chunk).collect()));
        }
        if self.done {
            return None;
        }
        let mut read = Vec::new();
        let steps = self.from..=self.to;
        let result = self.handler.read_at("", |tree, target| {
            tree.read_range(target, steps, &mut |points| {
                read = points;
                ControlFlow::Break(())
            })
        });
        if let Err(err) = result {
            self.done = true;
            return Some(Err(err));
        }
        match read.last() {
            None => {
                self.done = true;
                None
            }
            Some(last) => {
                // The next chunk starts just above this one's last step.
                self.from = last.step.next_up();
                self.done = self.from.is_nan() || self.from > self.to;
                Some(Ok(read))
            }
        }
    }
}

impl Iterator for SeriesPoints {
    type Item = Result<Point>;

    fn next(&mut self) -> Option<Result<Point>> {
        if let Some(point) = self.chunk.next() {
            return Some(Ok(point));
        }
        match self.next_chunk()? {
            Ok(chunk) => {
                self.chunk = chunk.into_iter();
                self.chunk.next().map(Ok)
            }
            Err(err) => Some(Err(err)),
        }
    }
}

/// A temporary file beside a download's target, which replaces the target
/// when kept and is removed otherwise.
struct TempOutput {
    tmp: PathBuf,
    target: PathBuf,
    file: std::fs::File,
    kept: bool,
}

impl TempOutput {
    fn beside(target: &Path) -> std::io::Result<TempOutput> {
        static OUTPUTS: AtomicU64 = AtomicU64::new(0);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = target.with_file_name(format!(
            ".{name}.hippocamp-{}-{}.tmp",
            std::process::id(),
            OUTPUTS.fetch_add(1, Ordering::Relaxed)
        ));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        Ok(TempOutput {
            tmp,
            target: target.to_path_buf(),
            file,
            kept: false,
        })
    }

    fn keep(mut self) -> std::io::Result<()> {
        self.file.sync_all()?;
        std::fs::rename(&self.tmp, &self.target)?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
