//! The store behind a run, and the in-memory store of [`Mode::Debug`](crate::Mode::Debug).
//!
//! The run checks every operation against its field types first, in the
//! caller's thread; only operations that passed reach the store, as [`Op`]s.
//! A store therefore never decides type rules: an embedded SQLite store or
//! a shared PostgreSQL store implements the same trait and the rules stay
//! the same. The run keeps atom values, set items and each series' last
//! step in memory (it needs them for the rules and the structure tree); the
//! store keeps everything, and is asked for series points and file bytes.

use std::sync::Arc;
use std::time::SystemTime;

use crate::error::{Error, StorageError};
use crate::file::FileData;
use crate::value::{FieldType, FileInfo, Point, Value};

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

    /// Every point of a series, in step order. FileSeries points hold
    /// [`Value::File`] metadata; their bytes come from [`Store::read_file`].
    fn read_series(&mut self, field: FieldId) -> Result<Vec<Point>, Error>;

    /// The last point of a series, if it has one.
    fn read_last(&mut self, field: FieldId) -> Result<Option<Point>, Error>;

    /// A File field's bytes (`step` is `None`), or a FileSeries point's.
    fn read_file(&mut self, field: FieldId, step: Option<f64>) -> Result<Arc<[u8]>, Error>;

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
/// store.apply(Op::AppendFloat { field, step: 0.0, value: f64::NAN, timestamp: std::time::SystemTime::now() })?;
/// assert!(store.read_last(field)?.is_some());
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

    fn read_series(&mut self, field: FieldId) -> Result<Vec<Point>, Error> {
        Ok(match self.read_slot(field) {
            Slot::Floats(points) => points.iter().map(|p| p.to_point()).collect(),
            Slot::Strings(points) => points
                .iter()
                .map(|p| p.clone().map(Value::String))
                .collect(),
            Slot::Files(points) => points
                .iter()
                .map(|p| p.clone().map(|f| Value::File(f.info())))
                .collect(),
            _ => return Err(Self::missing(field)),
        })
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

    fn read_file(&mut self, field: FieldId, step: Option<f64>) -> Result<Arc<[u8]>, Error> {
        match (self.read_slot(field), step) {
            (Slot::File(Some(file)), None) => Ok(file.bytes.clone()),
            (Slot::Files(points), Some(step)) => points
                .iter()
                .find(|p| p.step == step)
                .map(|p| p.value.bytes.clone())
                .ok_or_else(|| StorageError::new(format!("no file at step {step}")).into()),
            _ => Err(Self::missing(field)),
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
        assert!(store.slots.is_empty());
    }
}
