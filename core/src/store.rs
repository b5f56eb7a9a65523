//! The store behind a run, and the in-memory store of [`Mode::Debug`](crate::Mode::Debug).
//!
//! The run checks every operation against its field types first, in the
//! caller's thread; only operations that passed reach the store, as [`Op`]s.
//! A store therefore never decides type rules: an embedded SQLite store or
//! a shared PostgreSQL store implements the same trait and the rules stay
//! the same. The run keeps atom values, set items and each series' last
//! step in memory (it needs them for the rules and the structure tree); the
//! store keeps everything, and is asked for series points and file bytes.

use std::io::Write;
use std::ops::{ControlFlow, RangeInclusive};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use crate::error::{Error, StorageError};
use crate::file::{FileContent, FileData};
use crate::value::{FieldType, FileInfo, Point, Value};
use crate::window::{self, SeriesWindow};

/// The most points one call of a [`Store::read_range`] callback gets.
pub const READ_CHUNK_POINTS: usize = 65_536;

/// What a series holds, without its points: how many, the first and the
/// last, and for a FloatSeries the smallest and largest value (NaN left
/// out). What `hippocamp show` prints, read without holding the series in
/// memory.
///
/// ```
/// use hippocamp_core::{store::SeriesSummary, Point, Value};
/// let point = |step: f64, x: f64| Point { step, value: Value::Float(x), timestamp: std::time::UNIX_EPOCH };
/// let mut summary = SeriesSummary::default();
/// summary.include(&[point(0.0, 0.5), point(1.0, f64::NAN), point(2.0, -1.0)]);
/// assert_eq!((summary.count, summary.min, summary.max), (3, Some(-1.0), Some(0.5)));
/// assert_eq!(summary.last.map(|p| p.step), Some(2.0));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeriesSummary {
    /// The number of points.
    pub count: u64,
    /// The point with the lowest step.
    pub first: Option<Point>,
    /// The point with the highest step.
    pub last: Option<Point>,
    /// A FloatSeries' smallest value other than NaN (`None` when it has
    /// none, and for other series).
    pub min: Option<f64>,
    /// A FloatSeries' largest value other than NaN.
    pub max: Option<f64>,
}

impl SeriesSummary {
    /// Takes in the next points of the series, in step order.
    pub fn include(&mut self, points: &[Point]) {
        let (Some(first), Some(last)) = (points.first(), points.last()) else {
            return;
        };
        if self.first.is_none() {
            self.first = Some(first.clone());
        }
        self.last = Some(last.clone());
        self.count += points.len() as u64;
        for point in points {
            if let Value::Float(x) = point.value {
                self.include_value(x);
            }
        }
    }

    /// Takes a FloatSeries value into the minimum and maximum (NaN is
    /// left out).
    pub fn include_value(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        self.min = Some(self.min.map_or(x, |m| if x < m { x } else { m }));
        self.max = Some(self.max.map_or(x, |m| if x > m { x } else { m }));
    }
}

/// Identifies a field of one run: stable for the run's life, never reused
/// after a delete.
///
/// ```
/// let id = hippocamp_core::store::FieldId(3);
/// assert_eq!(id.index(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u32);

impl FieldId {
    /// The id as an index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One checked operation, handed to the store in the order of the calls.
///
/// Ops borrow their data so that a store that keeps it in memory copies
/// once, and one that queues it for a writer thread copies into its queue.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Op<'a> {
    /// A new field at `path` (full path from the run's root).
    CreateField {
        /// Its id.
        field: FieldId,
        /// Its full path.
        path: &'a str,
        /// Its type, fixed from now on.
        field_type: FieldType,
    },
    /// An atom's new value (Float, Int, Bool, String, Datetime).
    Assign {
        /// The field.
        field: FieldId,
        /// The value, of the field's type.
        value: &'a Value,
    },
    /// A File field's new content.
    Upload {
        /// The field.
        field: FieldId,
        /// Name and bytes.
        file: &'a FileData,
    },
    /// A point of a FloatSeries.
    AppendFloat {
        /// The field.
        field: FieldId,
        /// Its step, above the series' last.
        step: f64,
        /// The value, NaN and ±Inf included.
        value: f64,
        /// When.
        timestamp: SystemTime,
    },
    /// A point of a StringSeries.
    AppendString {
        /// The field.
        field: FieldId,
        /// Its step, above the series' last.
        step: f64,
        /// The value.
        value: &'a str,
        /// When.
        timestamp: SystemTime,
    },
    /// A point of a FileSeries.
    AppendFile {
        /// The field.
        field: FieldId,
        /// Its step, above the series' last.
        step: f64,
        /// Name and bytes.
        file: &'a FileData,
        /// When.
        timestamp: SystemTime,
    },
    /// Remove every point of a series or item of a set.
    Clear {
        /// The field.
        field: FieldId,
    },
    /// Add items to a StringSet.
    AddStrings {
        /// The field.
        field: FieldId,
        /// Items (some may already be there).
        items: &'a [String],
    },
    /// Remove items from a StringSet.
    RemoveStrings {
        /// The field.
        field: FieldId,
        /// Items (some may not be there).
        items: &'a [String],
    },
    /// Remove a field (its namespace was deleted).
    DeleteField {
        /// The field.
        field: FieldId,
    },
}

/// Where a run's data goes. One store value serves one run.
///
/// Calls come from the run, under the run's lock, in operation order.
pub trait Store: Send {
    /// Takes one checked operation.
    fn apply(&mut self, op: Op<'_>) -> Result<(), Error>;

    /// Returns once everything applied before is durable.
    fn flush(&mut self) -> Result<(), Error>;

    /// Flushes, ends this writer's part in the run and releases the store;
    /// no call follows. Says whether the run is finished now, or still
    /// written by other processes (data-parallel ranks resuming one id).
    fn close(&mut self) -> Result<Ending, Error>;

    /// The points of a series whose steps lie in `steps` (both ends
    /// included), in step order, handed to `each` a chunk at a time (at
    /// most [`READ_CHUNK_POINTS`] points per call), so that no series is
    /// ever held whole in memory. `each` returns
    /// [`ControlFlow::Break`] to stop the read early. FileSeries points
    /// hold [`Value::File`] metadata; their bytes come from
    /// [`Store::copy_file`].
    ///
    /// A callback rather than an iterator: the points come from inside the
    /// store (an SQLite statement, a database cursor) whose state borrows
    /// the store, which an iterator could not hold while the store stays
    /// usable; and the run calls it under its lock, so a callback makes
    /// plain how long the read lasts. Callers that want an iterator read a
    /// chunk per call (see [`Handler::fetch_points`](crate::Handler::fetch_points)).
    fn read_range(
        &mut self,
        field: FieldId,
        steps: RangeInclusive<f64>,
        each: &mut dyn FnMut(Vec<Point>) -> ControlFlow<()>,
    ) -> Result<(), Error>;

    /// The last point of a series, if it has one.
    fn read_last(&mut self, field: FieldId) -> Result<Option<Point>, Error>;

    /// What a series holds, in summary. The default reads every point
    /// through [`read_range`](Store::read_range) (one chunk in memory at a
    /// time); a store that keeps summaries answers faster.
    fn series_summary(&mut self, field: FieldId) -> Result<SeriesSummary, Error> {
        let mut summary = SeriesSummary::default();
        self.read_range(field, f64::NEG_INFINITY..=f64::INFINITY, &mut |points| {
            summary.include(&points);
            ControlFlow::Continue(())
        })?;
        Ok(summary)
    }

    /// A series over the steps `steps` (both ends included), as a chart
    /// draws it: every point when the range holds at most `2 × buckets`,
    /// else at most `buckets` buckets with exact counts, first and last
    /// points, minimums and maximums (see [`crate::window`]). The default
    /// reads the range's points twice through
    /// [`read_range`](Store::read_range); a store that keeps summaries of
    /// its stored points answers a wide range from them.
    fn read_window(
        &mut self,
        field: FieldId,
        steps: RangeInclusive<f64>,
        buckets: usize,
    ) -> Result<SeriesWindow, Error> {
        window::by_points(
            &mut |range, each| self.read_range(field, range, each),
            steps,
            buckets,
        )
    }

    /// Writes a File field's bytes (`step` is `None`), or a FileSeries
    /// point's, into `out` as they are read, and returns how many. A store
    /// that keeps contents under their SHA-256 checks them on the way: a
    /// content that does not match is an error naming the run, the path
    /// and the content, returned before anything is written when its size
    /// is wrong, else after the last byte (so write into a temporary file
    /// and keep it only on `Ok`).
    fn copy_file(
        &mut self,
        field: FieldId,
        step: Option<f64>,
        out: &mut dyn Write,
    ) -> Result<u64, Error>;

    /// Where files from disk are copied when they are logged (see
    /// [`StagedFile`](crate::StagedFile)), or `None` to read them into
    /// memory (the default). A folder on the file system where the store
    /// keeps its files lets the store move the copy into place without
    /// holding the file in memory.
    fn staging_dir(&self) -> Option<PathBuf> {
        None
    }

    /// Every point of a series, in step order: all of
    /// [`read_range`](Store::read_range), collected. FileSeries points hold
    /// [`Value::File`] metadata.
    fn read_series(&mut self, field: FieldId) -> Result<Vec<Point>, Error> {
        let mut all = Vec::new();
        self.read_range(field, f64::NEG_INFINITY..=f64::INFINITY, &mut |points| {
            all.extend(points);
            ControlFlow::Continue(())
        })?;
        Ok(all)
    }

    /// A File field's bytes (`step` is `None`), or a FileSeries point's:
    /// [`copy_file`](Store::copy_file) into memory.
    fn read_file(&mut self, field: FieldId, step: Option<f64>) -> Result<Arc<[u8]>, Error> {
        let mut bytes = Vec::new();
        self.copy_file(field, step, &mut bytes)?;
        Ok(Arc::from(bytes))
    }

    /// The run's fields as stored, to resume the run or read it. A new
    /// store has none.
    fn load(&mut self) -> Result<Vec<StoredField>, Error> {
        Ok(Vec::new())
    }

    /// Whether a [`load`](Store::load) now could give something else than
    /// the last one (another process wrote, or time made a run look
    /// crashed). A read-only run reloads only then; the default, `true`,
    /// is always right.
    fn changed_since_load(&mut self) -> Result<bool, Error> {
        Ok(true)
    }
}

/// What closing a run's store made of the run.
///
/// ```
/// use hippocamp_core::store::{Ending, MemoryStore, Store};
/// assert_eq!(MemoryStore::default().close()?, Ending::Finished);
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ending {
    /// This was the run's last writer: the run is finished.
    Finished,
    /// Other processes still write to the run: it stays running until the
    /// last of them closes.
    OthersWriting,
    /// The store was opened read-only: the run is as it was.
    Unchanged,
}

/// A field as a store holds it: what a run needs to rebuild its tree.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredField {
    /// Its full path.
    pub path: String,
    /// Its type.
    pub field_type: FieldType,
    /// An atom's value.
    pub value: Option<Value>,
    /// A StringSet's items.
    pub items: Vec<String>,
    /// A File's metadata.
    pub file: Option<FileInfo>,
    /// A series' last step.
    pub last_step: Option<f64>,
}

/// The store of [`Mode::Debug`](crate::Mode::Debug): everything in memory,
/// nothing persisted.
///
/// ```
/// use hippocamp_core::store::{FieldId, MemoryStore, Op, Store};
/// use hippocamp_core::FieldType;
/// let mut store = MemoryStore::default();
/// let field = FieldId(1);
/// store.apply(Op::CreateField { field, path: "loss", field_type: FieldType::FloatSeries })?;
/// for step in 0..3 {
///     let timestamp = std::time::SystemTime::now();
///     store.apply(Op::AppendFloat { field, step: step as f64, value: f64::NAN, timestamp })?;
/// }
/// assert!(store.read_last(field)?.is_some());
/// let mut steps = Vec::new();
/// store.read_range(field, 1.0..=5.0, &mut |points| {
///     steps.extend(points.iter().map(|p| p.step));
///     std::ops::ControlFlow::Continue(())
/// })?;
/// assert_eq!(steps, [1.0, 2.0]);
/// assert_eq!(store.series_summary(field)?.count, 3);
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Default)]
pub struct MemoryStore {
    slots: Vec<Slot>,
}

#[derive(Default)]
enum Slot {
    #[default]
    Empty,
    Floats(Vec<FloatPoint>),
    Strings(Vec<Point<String>>),
    Files(Vec<Point<FileData>>),
    File(Option<FileData>),
}

/// A float point kept compact: the hot path pushes these.
#[derive(Clone, Copy)]
struct FloatPoint {
    step: f64,
    value: f64,
    timestamp: SystemTime,
}

impl FloatPoint {
    fn to_point(self) -> Point {
        Point {
            step: self.step,
            value: Value::Float(self.value),
            timestamp: self.timestamp,
        }
    }
}

impl MemoryStore {
    /// The slot a write goes to, made if needed.
    fn slot(&mut self, field: FieldId) -> &mut Slot {
        let index = field.index();
        if index >= self.slots.len() {
            self.slots.resize_with(index + 1, Slot::default);
        }
        &mut self.slots[index]
    }

    /// The slot a read looks at: reading an unknown field makes nothing
    /// (a made-up id must not allocate a slot for every id below it).
    fn read_slot(&self, field: FieldId) -> &Slot {
        self.slots.get(field.index()).unwrap_or(&Slot::Empty)
    }

    fn missing(field: FieldId) -> Error {
        Error::from(StorageError::new(format!(
            "field {} has no data in the memory store",
            field.0
        )))
    }
}

impl Store for MemoryStore {
    fn apply(&mut self, op: Op<'_>) -> Result<(), Error> {
        match op {
            Op::CreateField {
                field, field_type, ..
            } => {
                *self.slot(field) = match field_type {
                    FieldType::FloatSeries => Slot::Floats(Vec::new()),
                    FieldType::StringSeries => Slot::Strings(Vec::new()),
                    FieldType::FileSeries => Slot::Files(Vec::new()),
                    FieldType::File => Slot::File(None),
                    _ => Slot::Empty,
                };
            }
            Op::AppendFloat {
                field,
                step,
                value,
                timestamp,
            } => match self.slot(field) {
                Slot::Floats(points) => points.push(FloatPoint {
                    step,
                    value,
                    timestamp,
                }),
                _ => return Err(Self::missing(field)),
            },
            Op::AppendString {
                field,
                step,
                value,
                timestamp,
            } => match self.slot(field) {
                Slot::Strings(points) => points.push(Point {
                    step,
                    value: value.to_owned(),
                    timestamp,
                }),
                _ => return Err(Self::missing(field)),
            },
            Op::AppendFile {
                field,
                step,
                file,
                timestamp,
            } => match self.slot(field) {
                Slot::Files(points) => points.push(Point {
                    step,
                    value: file.clone(),
                    timestamp,
                }),
                _ => return Err(Self::missing(field)),
            },
            Op::Upload { field, file } => *self.slot(field) = Slot::File(Some(file.clone())),
            Op::Clear { field } => match self.slot(field) {
                Slot::Floats(points) => points.clear(),
                Slot::Strings(points) => points.clear(),
                Slot::Files(points) => points.clear(),
                _ => {}
            },
            Op::DeleteField { field } => *self.slot(field) = Slot::Empty,
            // Atom values and set items live in the run's tree; a store that
            // persists would write them here.
            Op::Assign { .. } | Op::AddStrings { .. } | Op::RemoveStrings { .. } => {}
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }

    fn close(&mut self) -> Result<Ending, Error> {
        Ok(Ending::Finished)
    }

    fn read_range(
        &mut self,
        field: FieldId,
        steps: RangeInclusive<f64>,
        each: &mut dyn FnMut(Vec<Point>) -> ControlFlow<()>,
    ) -> Result<(), Error> {
        fn deliver<T>(
            points: &[T],
            step: impl Fn(&T) -> f64,
            to_point: impl Fn(&T) -> Point,
            steps: &RangeInclusive<f64>,
            each: &mut dyn FnMut(Vec<Point>) -> ControlFlow<()>,
        ) {
            let start = points.partition_point(|p| step(p) < *steps.start());
            let end = points.partition_point(|p| step(p) <= *steps.end());
            let Some(inside) = points.get(start..end.max(start)) else {
                return;
            };
            for chunk in inside.chunks(READ_CHUNK_POINTS) {
                if each(chunk.iter().map(&to_point).collect()).is_break() {
                    return;
                }
            }
        }
        match self.read_slot(field) {
            Slot::Floats(points) => deliver(points, |p| p.step, |p| p.to_point(), &steps, each),
            Slot::Strings(points) => deliver(
                points,
                |p| p.step,
                |p| p.clone().map(Value::String),
                &steps,
                each,
            ),
            Slot::Files(points) => deliver(
                points,
                |p| p.step,
                |p| p.clone().map(|f| Value::File(f.info())),
                &steps,
                each,
            ),
            _ => return Err(Self::missing(field)),
        }
        Ok(())
    }

    fn read_last(&mut self, field: FieldId) -> Result<Option<Point>, Error> {
        Ok(match self.read_slot(field) {
            Slot::Floats(points) => points.last().map(|p| p.to_point()),
            Slot::Strings(points) => points.last().map(|p| p.clone().map(Value::String)),
            Slot::Files(points) => points
                .last()
                .map(|p| p.clone().map(|f| Value::File(f.info()))),
            _ => return Err(Self::missing(field)),
        })
    }

    fn copy_file(
        &mut self,
        field: FieldId,
        step: Option<f64>,
        out: &mut dyn Write,
    ) -> Result<u64, Error> {
        let file = match (self.read_slot(field), step) {
            (Slot::File(Some(file)), None) => file,
            (Slot::Files(points), Some(step)) => points
                .iter()
                .find(|p| p.step == step)
                .map(|p| &p.value)
                .ok_or_else(|| StorageError::new(format!("no file at step {step}")))?,
            _ => return Err(Self::missing(field)),
        };
        let written = |e: std::io::Error| {
            Error::from(StorageError::with_source(
                format!("cannot write the bytes of file {:?}", file.name),
                e,
            ))
        };
        match &file.content {
            FileContent::Bytes(bytes) => {
                out.write_all(bytes).map_err(written)?;
                Ok(bytes.len() as u64)
            }
            // Kept as it was staged (a store that stages files hands them
            // to this one only when they are composed).
            FileContent::Staged(staged) => {
                let mut source = std::fs::File::open(staged.path()).map_err(|e| {
                    StorageError::with_source(format!("cannot read {}", staged.path().display()), e)
                })?;
                std::io::copy(&mut source, out).map_err(written)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_an_unknown_field_is_an_error_and_allocates_nothing() {
        let mut store = MemoryStore::default();
        let far = FieldId(u32::MAX);
        assert!(store.read_series(far).is_err());
        assert!(store.read_last(far).is_err());
        assert!(store.read_file(far, None).is_err());
        assert!(store.series_summary(far).is_err());
        assert!(store.copy_file(far, None, &mut Vec::new()).is_err());
        assert!(store.slots.is_empty());
    }
}
