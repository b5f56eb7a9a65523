//! `GET /api/runs/{id}/series`: a series over a step range, as a chart
//! draws it (its points, or exact buckets: see `hippocamp_core::window`).

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use hippocamp_core::window::{WindowContent, DEFAULT_BUCKETS};
use serde_json::{json, Value as Json_};

use crate::error::ApiError;
use crate::json;
use crate::params::Params;
use crate::routes::require_field;
use crate::state::{blocking, Shared};

/// The most buckets one answer holds.
pub const MAX_BUCKETS: usize = 10_000;

/// `{"path", "type", "count", "points": [[step, value, time]]}` or
/// `{"path", "type", "count", "buckets": [{from, to, first, last, min, max, count, from_time, to_time}]}`.
pub(crate) async fn window(
    State(state): State<Shared>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Json_>, ApiError> {
    let params = Params::parse(raw.as_deref(), &["path", "from", "to", "buckets"])?;
    let path = params.path("path")?.to_owned();
    let from = params.step("from", f64::NEG_INFINITY)?;
    let to = params.step("to", f64::INFINITY)?;
    let buckets = params.count("buckets", DEFAULT_BUCKETS, 1, MAX_BUCKETS)?;
    if from > to {
        return Err(ApiError::bad_request(format!(
            "`from` ({from}) is after `to` ({to})"
        )));
    }
    blocking(move || {
        let run = state.run(&id)?;
        let field_type = require_field(&run, &path)?;
        if !field_type.is_series() {
            return Err(ApiError::bad_request(format!(
                "`{path}` in run {id} is {}, not a series",
                field_type.with_article()
            )));
        }
        let window = run.at(path.as_str()).fetch_window(from..=to, buckets)?;
        let mut answer = json!({
            "path": path,
            "type": field_type.name(),
            "count": window.count,
        });
        match &window.content {
            WindowContent::Points(points) => {
                answer["points"] = Json_::Array(points.iter().map(json::point).collect())
            }
            WindowContent::Buckets(buckets) => {
                answer["buckets"] = Json_::Array(buckets.iter().map(json::bucket).collect())
            }
        }
        Ok(Json(answer))
    })
    .await
}
