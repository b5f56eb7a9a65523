//! `hippocamp ls`: the runs table.
//!
//! Columns: id, name, state (`running`, `finished`, `crashed`, or
//! `damaged` when the run's record or `sys/` fields fail their checksum;
//! with ` (failed)` when `sys/failed` is set), creation time, tags, then the
//! `--columns` fields (a series shows its last value; a run without the
//! field shows `-`; floats to `--precision` significant digits in the
//! table, exactly in CSV and JSON). Filters apply in the order `--project`, `--tag`,
//! `--state`, `--where`; then `--sort` (`--desc` alone lists the newest
//! first), then `--limit`. A run is opened (read-only) only when a field
//! of it is needed, and closed before the next one is opened. A path of
//! `--where`, `--columns` or `--sort` that no run read has is named in a
//! warning on stderr, with the nearest paths those runs have; the output
//! and the exit code are the same as without it.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::time::SystemTime;

use hippocamp_core::sqlite::RunInfo;
use hippocamp_core::{Mode, Run, Value};
use serde_json::json;

use crate::args::{LsArgs, TableFormat};
use crate::filter::Expr;
use crate::format;
use crate::store::{field_paths, nearest_hint, Context};
use crate::CliError;

/// The states `--state` takes.
const STATES: [&str; 5] = ["running", "finished", "crashed", "failed", "damaged"];

/// What `--sort` sorts by.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SortKey {
    Id,
    Name,
    State,
    Created,
    Project,
    Field(String),
}

impl SortKey {
    fn parse(key: &str) -> Result<SortKey, CliError> {
        Ok(match key {
            "id" => SortKey::Id,
            "name" => SortKey::Name,
            "state" => SortKey::State,
            "created" => SortKey::Created,
            "project" => SortKey::Project,
            path => {
                check_path("--sort", path)?;
                SortKey::Field(path.to_owned())
            }
        })
    }
}

fn check_path(option: &str, path: &str) -> Result<(), CliError> {
    hippocamp_core::path::validate(path)
        .map_err(|e| CliError::new(format!("{option}: invalid field path `{path}`: {e}")))
}

/// A run of the listing, with the fields read from it.
struct Row {
    info: RunInfo,
    fields: HashMap<String, Option<Value>>,
}

impl Row {
    /// The value read at `path` (an atom's, a series' last), if any.
    fn field(&self, path: &str) -> Option<Value> {
        self.fields.get(path).cloned().flatten()
    }
}

/// Which of the wanted paths the runs read have, and the paths those runs
/// have instead (for the nearest names of paths no run has).
#[derive(Default)]
struct Seen {
    found: HashSet<String>,
    known: BTreeSet<String>,
    runs: usize,
}

/// Reads `paths` of the run `info` (opened read-only, and closed again so
/// that a long listing holds no more than one run open), noting in `seen`
/// which it has. `None` when the run was deleted since it was listed.
fn read_fields(
    ctx: &Context,
    info: RunInfo,
    paths: &[&str],
    seen: &mut Seen,
) -> Result<Option<Row>, CliError> {
    let mut fields = HashMap::new();
    // A damaged run is listed (to be found, checked and removed) without
    // its fields, which cannot be read.
    if !paths.is_empty() && info.damage.is_none() {
        let run = match Run::builder()
            .dir(ctx.dir())
            .run_id(&info.id)
            .mode(Mode::ReadOnly)
            .start()
        {
            Ok(run) => run,
            // Removed since it was listed.
            Err(hippocamp_core::Error::RunNotFound { .. }) => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        seen.runs += 1;
        let mut lacks = false;
        for path in paths {
            if run.at(*path).field_type()?.is_some() {
                seen.found.insert((*path).to_owned());
            } else {
                lacks = true;
            }
            fields.insert((*path).to_owned(), format::field_value(&run, path)?);
        }
        // What this run has instead, only when it lacks a wanted path.
        if lacks {
            seen.known.extend(field_paths(&run.root().structure()?));
        }
    }
    Ok(Some(Row { info, fields }))
}

/// Warns about each path of `option` that no run read has, naming the
/// nearest paths those runs have.
fn warn_missing(ctx: &Context, option: &str, paths: &[&str], seen: &Seen, filtered: bool) {
    if seen.runs == 0 {
        return;
    }
    let known: Vec<&str> = seen.known.iter().map(String::as_str).collect();
    let which = if filtered {
        format!(
            "none of the {} runs --project, --tag and --state keep has",
            seen.runs
        )
    } else {
        "no run has".to_owned()
    };
    let mut warned: Vec<&str> = Vec::new();
    for path in paths {
        if !seen.found.contains(*path) && !warned.contains(path) {
            warned.push(path);
            ctx.warn(format!(
                "{option}: {which} `{path}`{}",
                nearest_hint(path, &known)
            ));
        }
    }
}

/// Runs `hippocamp ls`.
pub fn run(ctx: &Context, args: LsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    // The arguments first: a mistake there is reported before the store
    // is opened.
    let filter = match &args.filter {
        Some(source) => {
            Some(Expr::parse(source).map_err(|e| CliError::new(format!("--where: {e}")))?)
        }
        None => None,
    };
    if let Some(state) = &args.state {
        if !STATES.contains(&state.as_str()) {
            return Err(CliError::new(format!(
                "--state: no state `{state}` (the states are {})",
                STATES.join(", ")
            )));
        }
    }
    for column in &args.columns {
        check_path("--columns", column)?;
    }
    let sort = args.sort.as_deref().map(SortKey::parse).transpose()?;

    // Every field any option needs, read once per run.
    let mut paths: Vec<&str> = Vec::new();
    let wanted = filter
        .iter()
        .flat_map(|f| f.paths())
        .chain(args.columns.iter().map(String::as_str))
        .chain(match &sort {
            Some(SortKey::Field(path)) => Some(path.as_str()),
            _ => None,
        });
    for path in wanted {
        if !paths.contains(&path) {
            paths.push(path);
        }
    }

    let project_key = args.project.as_deref().map(hippocamp_core::project_key);
    let mut rows: Vec<Row> = Vec::new();
    let mut seen = Seen::default();
    for info in ctx.runs()? {
        let keep = project_key
            .as_ref()
            .is_none_or(|key| *key == hippocamp_core::project_key(&info.project))
            && args.tag.iter().all(|tag| info.tags.contains(tag))
            && match args.state.as_deref() {
                None => true,
                Some("failed") => info.failed,
                Some(state) => info.state == state,
            };
        if !keep {
            continue;
        }
        let Some(row) = read_fields(ctx, info, &paths, &mut seen)? else {
            continue;
        };
        let matches = match &filter {
            None => true,
            Some(filter) => filter
                .matches(|path| Ok::<_, std::convert::Infallible>(row.field(path)))
                .unwrap_or_else(|never| match never {}),
        };
        if matches {
            rows.push(row);
        }
    }

    // Paths no run has are most likely mistyped: an empty table or an
    // empty column would not say so.
    let filtered = args.project.is_some() || !args.tag.is_empty() || args.state.is_some();
    if let Some(filter) = &filter {
        warn_missing(ctx, "--where", &filter.paths(), &seen, filtered);
    }
    let columns: Vec<&str> = args.columns.iter().map(String::as_str).collect();
    warn_missing(ctx, "--columns", &columns, &seen, filtered);
    if let Some(SortKey::Field(path)) = &sort {
        warn_missing(ctx, "--sort", &[path.as_str()], &seen, filtered);
    }

    if let Some(key) = &sort {
        let mut keyed: Vec<(Option<SortValue>, Row)> = rows
            .into_iter()
            .map(|row| {
                let value = match key {
                    SortKey::Field(path) => row.field(path).and_then(sort_value),
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
            if args.desc {
                ordering.reverse()
            } else {
                ordering
            }
        });
        rows = keyed.into_iter().map(|(_, row)| row).collect();
    } else if args.desc {
        rows.reverse();
    }
    if let Some(limit) = args.limit {
        rows.truncate(limit);
    }

    let columns: Vec<Vec<Option<Value>>> = rows
        .iter()
        .map(|row| args.columns.iter().map(|path| row.field(path)).collect())
        .collect();

    match args.format {
        TableFormat::Table => {
            let mut header = vec!["ID", "NAME", "STATE", "CREATED", "TAGS"];
            header.extend(args.columns.iter().map(String::as_str));
            let table: Vec<Vec<String>> = rows
                .iter()
                .zip(&columns)
                .map(|(row, values)| {
                    let mut cells = vec![
                        format::cell(&row.info.id),
                        format::cell(&row.info.name),
                        state(&row.info),
                        format::time_seconds(row.info.creation_time),
                        format::cell(&row.info.tags.join(",")),
                    ];
                    cells.extend(values.iter().map(|v| match v {
                        Some(v) => format::cell(&format::plain_shown(v, args.precision.digits())),
                        None => "-".to_owned(),
                    }));
                    cells
                })
                .collect();
            format::write_table(out, &header, &table)?;
        }
        TableFormat::Csv => {
            let mut records = Vec::with_capacity(rows.len() + 1);
            let mut header: Vec<String> = [
                "id", "project", "name", "state", "failed", "created", "tags",
            ]
            .map(String::from)
            .to_vec();
            header.extend(args.columns.iter().cloned());
            records.push(header);
            for (row, values) in rows.iter().zip(&columns) {
                let info = &row.info;
                let mut record = vec![
                    info.id.clone(),
                    info.project.clone(),
                    info.name.clone(),
                    info.state.clone(),
                    info.failed.to_string(),
                    format::time(info.creation_time),
                    info.tags.join(","),
                ];
                record.extend(
                    values
                        .iter()
                        .map(|v| v.as_ref().map(format::plain).unwrap_or_default()),
                );
                records.push(record);
            }
            format::write_csv(out, &records)?;
        }
        TableFormat::Json => {
            let list: Vec<serde_json::Value> = rows
                .iter()
                .zip(&columns)
                .map(|(row, values)| {
                    let info = &row.info;
                    let fields: serde_json::Map<String, serde_json::Value> = args
                        .columns
                        .iter()
                        .zip(values)
                        .map(|(path, v)| {
                            (
                                path.clone(),
                                v.as_ref()
                                    .map_or(serde_json::Value::Null, format::value_json),
                            )
                        })
                        .collect();
                    json!({
                        "id": info.id,
                        "project": info.project,
                        "name": info.name,
                        "state": info.state,
                        "failed": info.failed,
                        "created": format::time(info.creation_time),
                        "tags": info.tags,
                        "fields": fields,
                    })
                })
                .collect();
            format::write_json(out, &serde_json::Value::Array(list))?;
        }
    }
    Ok(())
}

fn state(info: &RunInfo) -> String {
    if info.failed {
        format!("{} (failed)", info.state)
    } else {
        info.state.clone()
    }
}

/// A field's value as `--sort` orders it: numbers, then strings, then
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
        other => SortValue::Text(format::plain(&other)),
    })
}

/// Orders `MNIST-2` before `MNIST-10`: runs of digits compare as numbers
/// (ties, such as `02` and `2`, by their text).
fn natural(a: &str, b: &str) -> Ordering {
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
