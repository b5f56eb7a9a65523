//! `GET /api/runs/{id}`: a run's fields, `sys/` included, each with its
//! value or, for a series, its count, last point, minimum and maximum.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use hippocamp_core::structure::Entry;
use hippocamp_core::window::WindowContent;
use hippocamp_core::{FieldType, Run, Value};
use serde_json::{json, Value as Json_};

use crate::error::ApiError;
use crate::json;
use crate::params::Params;
use crate::state::{blocking, Shared};

/// `{"id", "fields": [{path, type, value?, count?, last?, min?, max?, size?}]}`.
pub(crate) async fn show(
    State(state): State<Shared>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Json_>, ApiError> {
    Params::parse(raw.as_deref(), &[])?;
    blocking(move || {
        let run = state.run(&id)?;
        let structure = run.root().structure()?;
        let mut fields = Vec::new();
        walk(&run, &structure.entries, "", &mut fields)?;
        Ok(Json(json!({ "id": id, "fields": fields })))
    })
    .await
}

fn walk(
    run: &Run,
    entries: &BTreeMap<String, Entry>,
    prefix: &str,
    out: &mut Vec<Json_>,
) -> Result<(), ApiError> {
    for (name, entry) in entries {
        let path = hippocamp_core::path::join(prefix, name);
        match entry {
            Entry::Namespace(children) => walk(run, children, &path, out)?,
            Entry::Field {
                field_type,
                value: Some(value),
            } => out.push(json!({
                "path": path,
                "type": field_type.name(),
                "value": json::value(value),
            })),
            Entry::Field { field_type, .. } => {
                if let Some(field) = describe(run, &path, *field_type)? {
                    out.push(field);
                }
            }
        }
    }
    Ok(())
}

/// A field that the tree does not hold the value of: a set, a file, a
/// series. `None` when it went away meanwhile (its run is being written).
fn describe(run: &Run, path: &str, field_type: FieldType) -> Result<Option<Json_>, ApiError> {
    let handler = run.at(path);
    let gone = |e: hippocamp_core::Error| match e {
        hippocamp_core::Error::NotFound { .. } => Ok(None),
        other => Err(ApiError::from(other)),
    };
    let mut field = json!({ "path": path, "type": field_type.name() });
    match field_type {
        FieldType::File | FieldType::StringSet => match handler.fetch() {
            Ok(Value::File(info)) => {
                field["value"] = json!(info.name);
                field["size"] = json!(info.size);
            }
            Ok(value) => field["value"] = json::value(&value),
            Err(e) => return gone(e),
        },
        // Count, last, minimum and maximum from the store's summaries: one
        // bucket over the whole series.
        FieldType::FloatSeries => match handler.fetch_window(.., 1) {
            Ok(window) => {
                field["count"] = json!(window.count);
                let (last, min, max) = match window.content {
                    WindowContent::Buckets(b) => match b.last() {
                        Some(bucket) => (Some(bucket.last.clone()), bucket.min, bucket.max),
                        None => (None, None, None),
                    },
                    WindowContent::Points(points) => {
                        let values = points
                            .iter()
                            .filter_map(|p| p.value.as_f64())
                            .filter(|x| !x.is_nan());
                        let min = values.clone().reduce(f64::min);
                        let max = values.reduce(f64::max);
                        (points.last().cloned(), min, max)
                    }
                };
                field["last"] = last.as_ref().map_or(Json_::Null, json::point);
                field["min"] = min.map_or(Json_::Null, json::float);
                field["max"] = max.map_or(Json_::Null, json::float);
            }
            Err(e) => return gone(e),
        },
        _ => match handler.series_summary() {
            Ok(summary) => {
                field["count"] = json!(summary.count);
                field["last"] = summary.last.as_ref().map_or(Json_::Null, json::point);
            }
            Err(e) => return gone(e),
        },
    }
    Ok(Some(field))
}
