//! A snapshot of a run's tree, drawn the way Neptune's documentation
//! draws a run's structure.

use std::collections::BTreeMap;
use std::fmt;

use crate::value::{FieldType, Value};

/// A snapshot of a run's (or a namespace's) namespaces and fields.
///
/// `Display` draws it as Neptune's documentation does: one `|--> name`
/// line per entry, sorted by name, nested entries indented by five spaces,
/// atoms (Float, Int, Bool, String, Datetime) with their value and
/// everything else with its type.
///
/// ```
/// use hippocamp_core::{Mode, Run};
/// let run = Run::builder().mode(Mode::Debug).start()?;
/// run.at("params/max_epochs").assign(20)?;
/// run.at("params").at("learning_rate").assign(0.005)?;
/// run.at("train/acc").append(0.72)?;
/// assert_eq!(run.structure()?.to_string(), "\
/// |--> params
///      |--> learning_rate: 0.005
///      |--> max_epochs: 20
/// |--> train
///      |--> acc: FloatSeries
/// ");
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Structure {
    /// The entries at the top, by name.
    pub entries: BTreeMap<String, Entry>,
}

/// One entry of a [`Structure`].
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A namespace and its entries.
    Namespace(BTreeMap<String, Entry>),
    /// A field; `value` is there for atoms.
    Field {
        /// Its type.
        field_type: FieldType,
        /// Its value, for Float, Int, Bool, String and Datetime.
        value: Option<Value>,
    },
}

impl Structure {
    /// The entry at a `/` path inside the snapshot.
    ///
    /// ```
    /// use hippocamp_core::{structure::Entry, FieldType, Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("train/acc").append(0.5)?;
    /// let s = run.structure()?;
    /// assert!(matches!(s.get("train/acc"), Some(Entry::Field { field_type: FieldType::FloatSeries, .. })));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn get(&self, path: &str) -> Option<&Entry> {
        let mut segments = hippocamp_path::segments(path);
        let mut entry = self.entries.get(segments.next()?)?;
        for segment in segments {
            match entry {
                Entry::Namespace(children) => entry = children.get(segment)?,
                Entry::Field { .. } => return None,
            }
        }
        Some(entry)
    }

    /// Whether the snapshot has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn draw(
    f: &mut fmt::Formatter<'_>,
    entries: &BTreeMap<String, Entry>,
    depth: usize,
) -> fmt::Result {
    for (name, entry) in entries {
        write!(f, "{:indent$}|--> {name}", "", indent = depth * 5)?;
        match entry {
            Entry::Namespace(children) => {
                writeln!(f)?;
                draw(f, children, depth + 1)?;
            }
            Entry::Field {
                value: Some(value), ..
            } => writeln!(f, ": {value}")?,
            Entry::Field { field_type, .. } => writeln!(f, ": {field_type}")?,
        }
    }
    Ok(())
}

impl fmt::Display for Structure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        draw(f, &self.entries, 0)
    }
}
