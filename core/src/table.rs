//! The runs table: which runs, which of their fields, in which order —
//! what `hippocamp ls` prints and the web UI's runs page shows. The query
//! and its ordering live here, once; a store answers it with
//! [`Repository::runs_table`](crate::sqlite::Repository::runs_table),
//! reading only the fields the query names.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::error::{Error, Result};
use crate::filter::Expr;
use crate::sqlite::RunInfo;
use crate::value::Value;

/// The states a query's `state` takes: a run's state, or `failed` for the
/// runs marked failed.
pub const STATES: [&str; 5] = ["running", "finished", "crashed", "failed", "damaged"];

/// What the runs table is sorted by.
///
/// ```
/// use hippocamp_core::table::SortKey;
/// assert_eq!(SortKey::parse("created")?, SortKey::Created);
/// assert_eq!(SortKey::parse("train/loss")?, SortKey::Field("train/loss".into()));
/// assert!(SortKey::parse("a//b").is_err());
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// The run's id, naturally (`MNIST-2` before `MNIST-10`).
    Id,
    /// `sys/name`.
    Name,
    /// The state.
    State,
    /// The creation time.
    Created,
    /// The project.
    Project,
    /// A field's value (a series' last); runs without it go last.
    Field(String),
}

impl SortKey {
    /// `id`, `name`, `state`, `created`, `project`, or a field path.
    pub fn parse(key: &str) -> Result<SortKey> {
        Ok(match key {
            "id" => SortKey::Id,
            "name" => SortKey::Name,
            "state" => SortKey::State,
            "created" => SortKey::Created,
            "project" => SortKey::Project,
            path => {
                hippocamp_path::validate(path).map_err(|source| Error::InvalidPath {
                    path: path.to_owned(),
                    source,
                })?;
                SortKey::Field(path.to_owned())
            }
        })
    }
}

/// Which runs, which fields, in which order.
///
/// ```
/// use hippocamp_core::table::{RunsQuery, SortKey};
/// let query = RunsQuery {
///     filter: Some(hippocamp_core::filter::Expr::parse("params/lr > 0.001").unwrap()),
///     columns: vec!["params/lr".into(), "train/loss".into()],
///     sort: Some(SortKey::parse("train/loss")?),
///     limit: Some(10),
///     ..RunsQuery::default()
/// };
/// assert_eq!(query.paths(), ["params/lr", "train/loss"]);
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct RunsQuery {
    /// Only runs of this project (its name, or its run ids' key).
    pub project: Option<String>,
    /// Only runs with all these tags.
    pub tags: Vec<String>,
    /// Only runs in this state (one of [`STATES`]).
    pub state: Option<String>,
    /// Only runs for which this holds.
    pub filter: Option<Expr>,
    /// The fields each row carries (a series gives its last value).
    pub columns: Vec<String>,
    /// The order (default: the store's, oldest first).
    pub sort: Option<SortKey>,
    /// Descending.
    pub desc: bool,
    /// Rows to skip (after sorting).
    pub offset: usize,
    /// The most rows.
    pub limit: Option<usize>,
}

impl RunsQuery {
    /// Every field path the query reads (filter, columns, sort), each once.
    pub fn paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = Vec::new();
        let wanted = self
            .filter
            .iter()
            .flat_map(|f| f.paths())
            .chain(self.columns.iter().map(String::as_str))
            .chain(match &self.sort {
                Some(SortKey::Field(path)) => Some(path.as_str()),
                _ => None,
            });
        for path in wanted {
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        paths
    }

    /// Refuses a query that no store could answer: an unknown state, a
    /// malformed column path.
    pub fn check(&self) -> Result<()> {
        if let Some(state) = &self.state {
            if !STATES.contains(&state.as_str()) {
                return Err(Error::InvalidSetting {
                    setting: "state",
                    detail: format!("no state `{state}` (the states are {})", STATES.join(", ")),
                });
            }
        }
        for path in &self.columns {
            hippocamp_path::validate(path).map_err(|source| Error::InvalidPath {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// Whether a run passes the project, tag and state filters (those a
    /// run's listing answers, before any field is read).
    pub(crate) fn keeps(&self, info: &RunInfo) -> bool {
        self.project
            .as_deref()
            .is_none_or(|p| crate::run::project_key(p) == crate::run::project_key(&info.project))
            && self.tags.iter().all(|tag| info.tags.contains(tag))
            && match self.state.as_deref() {
                None => true,
                Some("failed") => info.failed,
                Some(state) => info.state == state,
            }
    }

    /// Filters, sorts and pages `rows` (every run the store keeps, with
    /// the query's fields read).
    pub(crate) fn arrange(&self, rows: Vec<RunRow>) -> RunsTable {
        let mut rows: Vec<RunRow> = rows
            .into_iter()
            .filter(|row| match &self.filter {
                None => true,
                Some(filter) => filter
                    .matches(|path| {
                        Ok::<_, std::convert::Infallible>(row.fields.get(path).cloned())
                    })
                    .unwrap_or_else(|never| match never {}),
            })
            .collect();
        if let Some(key) = &self.sort {
            let mut keyed: Vec<(Option<SortValue>, RunRow)> = rows
                .into_iter()
                .map(|row| {
                    let value = match key {
                        SortKey::Field(path) => row.fields.get(path).cloned().and_then(sort_value),
                        _ => None,
                    };
                    (value, row)
                })
                .collect();
            keyed.sort_by(|(va, a), (vb, b)| {
                let ordering = match key {
                    SortKey::Id => natural(&a.info.id, &b.info.id),
                    SortKey::Name => a.info.name.cmp(&b.info.name),
                    SortKey::State => a.info.state.cmp(&b.info.state),
                    SortKey::Created => a.info.creation_time.cmp(&b.info.creation_time),
                    SortKey::Project => a.info.project.cmp(&b.info.project),
                    SortKey::Field(_) => match (va, vb) {
                        (Some(x), Some(y)) => x.cmp(y),
                        // Missing values go last, whatever the direction.
                        (Some(_), None) => return Ordering::Less,
                        (None, Some(_)) => return Ordering::Greater,
                        (None, None) => Ordering::Equal,
                    },
                };
                if self.desc {
                    ordering.reverse()
                } else {
                    ordering
                }
            });
            rows = keyed.into_iter().map(|(_, row)| row).collect();
        } else if self.desc {
            rows.reverse();
        }
        let total = rows.len();
        let rows: Vec<RunRow> = rows
            .into_iter()
            .skip(self.offset)
            .take(self.limit.unwrap_or(usize::MAX))
            .collect();
        RunsTable {
            rows,
            total,
            considered: 0,
            missing: Vec::new(),
        }
    }
}

/// A run of the table, with the query's fields it has.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    /// What the listing says of the run.
    pub info: RunInfo,
    /// The value at each of the query's paths the run has: an atom's, a
    /// series' last point's, a set's items, a file's metadata.
    pub fields: BTreeMap<String, Value>,
}

/// The answer to a [`RunsQuery`].
#[derive(Debug, Clone, PartialEq)]
pub struct RunsTable {
    /// The rows asked for (after `offset` and `limit`).
    pub rows: Vec<RunRow>,
    /// How many runs match, before `offset` and `limit`.
    pub total: usize,
    /// How many runs the project, tag and state filters kept (and whose
    /// fields could be read): the runs `missing` speaks of.
    pub considered: usize,
    /// The query's paths that none of the runs kept by the project, tag
    /// and state filters has, each with the nearest paths those runs have:
    /// most likely mistyped.
    pub missing: Vec<MissingPath>,
}

/// A path of a query that no run has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPath {
    /// The path.
    pub path: String,
    /// The nearest paths the runs have (at most three).
    pub nearest: Vec<String>,
}

/// A field's value as sorting orders it: numbers, then strings, then
/// booleans, then times; NaN counts as missing.
#[derive(Debug, Clone, PartialEq)]
enum SortValue {
    Number(f64),
    Text(String),
    Bool(bool),
    Time(SystemTime),
}

impl Eq for SortValue {}

impl PartialOrd for SortValue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortValue {
    fn cmp(&self, other: &Self) -> Ordering {
        use SortValue::*;
        let rank = |v: &SortValue| match v {
            Number(_) => 0,
            Text(_) => 1,
            Bool(_) => 2,
            Time(_) => 3,
        };
        match (self, other) {
            (Number(a), Number(b)) => a.total_cmp(b),
            (Text(a), Text(b)) => a.cmp(b),
            (Bool(a), Bool(b)) => a.cmp(b),
            (Time(a), Time(b)) => a.cmp(b),
            (a, b) => rank(a).cmp(&rank(b)),
        }
    }
}

fn sort_value(value: Value) -> Option<SortValue> {
    Some(match value {
        Value::Float(x) if x.is_nan() => return None,
        Value::Float(x) => SortValue::Number(x),
        Value::Int(i) => SortValue::Number(i as f64),
        Value::Bool(b) => SortValue::Bool(b),
        Value::Datetime(t) => SortValue::Time(t),
        Value::String(s) => SortValue::Text(s),
        Value::File(f) => SortValue::Text(f.name),
        Value::StringSet(items) => SortValue::Text(items.into_iter().collect::<Vec<_>>().join(",")),
        other => SortValue::Text(other.to_string()),
    })
}

/// Orders `MNIST-2` before `MNIST-10`: runs of digits compare as numbers
/// (ties, such as `02` and `2`, by their text).
///
/// ```
/// use std::cmp::Ordering;
/// assert_eq!(hippocamp_core::table::natural("MNIST-2", "MNIST-10"), Ordering::Less);
/// ```
pub fn natural(a: &str, b: &str) -> Ordering {
    natural_parts(a, b).then_with(|| a.cmp(b))
}

fn natural_parts(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.len() - a.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let nb = b.len() - b.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let (da, db) = (&a[..na], &b[..nb]);
                let (ta, tb) = (da.trim_start_matches('0'), db.trim_start_matches('0'));
                let ordering = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                if ordering != Ordering::Equal {
                    return ordering;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                a = &a[x.len_utf8()..];
                b = &b[y.len_utf8()..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_naturally() {
        let mut ids = ["MNIST-10", "MNIST-2", "CIFAR-1", "MNIST-1", "MNIST-02"];
        ids.sort_by(|a, b| natural(a, b));
        assert_eq!(
            ids,
            ["CIFAR-1", "MNIST-1", "MNIST-02", "MNIST-2", "MNIST-10"]
        );
    }

    #[test]
    fn sort_values_order_numbers_first() {
        let mut values = vec![
            SortValue::Text("b".into()),
            SortValue::Number(2.0),
            SortValue::Number(f64::NEG_INFINITY),
            SortValue::Bool(false),
        ];
        values.sort();
        assert_eq!(
            values,
            [
                SortValue::Number(f64::NEG_INFINITY),
                SortValue::Number(2.0),
                SortValue::Text("b".into()),
                SortValue::Bool(false),
            ]
        );
        assert_eq!(sort_value(Value::Float(f64::NAN)), None);
    }
}
