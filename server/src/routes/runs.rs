//! `GET /api/runs`: the runs table, as `hippocamp ls` gives it.

use axum::extract::{RawQuery, State};
use axum::Json;
use hippocamp_core::filter::Expr;
use hippocamp_core::table::{RunsQuery, SortKey};
use serde_json::{json, Value as Json_};

use crate::error::ApiError;
use crate::json;
use crate::params::Params;
use crate::state::{blocking, Shared};

/// The most rows one answer holds.
pub const MAX_LIMIT: usize = 10_000;

/// `{"runs": [{id, name, project, state, failed, created, tags, columns}], "total", "missing"}`.
pub(crate) async fn list(
    State(state): State<Shared>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Json_>, ApiError> {
    let params = Params::parse(
        raw.as_deref(),
        &[
            "where", "tag", "state", "project", "columns", "sort", "desc", "limit", "offset",
        ],
    )?;
    let filter = match params.one("where")?.filter(|w| !w.trim().is_empty()) {
        Some(source) => {
            Some(Expr::parse(source).map_err(|e| ApiError::bad_request(format!("`where`: {e}")))?)
        }
        None => None,
    };
    let columns: Vec<String> = params
        .one("columns")?
        .map(|c| {
            c.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let sort = params
        .one("sort")?
        .filter(|s| !s.is_empty())
        .map(SortKey::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(format!("`sort`: {e}")))?;
    let query = RunsQuery {
        project: params.one("project")?.map(str::to_owned),
        tags: params.all("tag").to_vec(),
        state: params
            .one("state")?
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        filter,
        columns,
        sort,
        desc: params.flag("desc")?,
        offset: params.count("offset", 0, 0, usize::MAX)?,
        limit: Some(params.count("limit", 100, 1, MAX_LIMIT)?),
    };
    let table = blocking(move || {
        state
            .with_reader(|repo| repo.runs_table(&query))
            .map_err(ApiError::from)
    })
    .await?;
    let runs: Vec<Json_> = table
        .rows
        .iter()
        .map(|row| {
            let info = &row.info;
            let columns: serde_json::Map<String, Json_> = row
                .fields
                .iter()
                .map(|(path, value)| (path.clone(), json::value(value)))
                .collect();
            json!({
                "id": info.id,
                "name": info.name,
                "project": info.project,
                "state": info.state,
                "failed": info.failed,
                "created": json::time(info.creation_time),
                "tags": info.tags,
                "columns": columns,
            })
        })
        .collect();
    let missing: Vec<Json_> = table
        .missing
        .iter()
        .map(|m| json!({ "path": m.path, "nearest": m.nearest }))
        .collect();
    Ok(Json(
        json!({ "runs": runs, "total": table.total, "missing": missing }),
    ))
}
