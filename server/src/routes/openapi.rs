//! `GET /api/openapi.json`: the API described as OpenAPI 3.1.

use axum::Json;
use serde_json::{json, Value};

fn param(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

fn required(mut param: Value) -> Value {
    param["required"] = json!(true);
    param
}

fn id() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "description": "A run's id, e.g. MNIST-3", "schema": { "type": "string" } })
}

fn errors() -> Value {
    let error = json!({
        "description": "What was wrong",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    });
    json!({ "400": error, "404": error, "401": error })
}

/// The document.
pub(crate) fn document() -> Value {
    let mut responses = errors();
    responses["200"] = json!({ "description": "The runs table", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Runs" } } } });
    let runs = responses;
    let mut responses = errors();
    responses["200"] = json!({ "description": "The run's fields, sys/ included", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Run" } } } });
    let run = responses;
    let mut responses = errors();
    responses["200"] = json!({ "description": "The points, or at most `buckets` exact buckets", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Series" } } } });
    let series = responses;
    let mut responses = errors();
    responses["200"] = json!({ "description": "The file's bytes: raster images inline, other files as attachments", "content": { "application/octet-stream": {} } });
    let file = responses;
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "hippocamp",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The runs of a hippocamp store, read-only. Numbers that JSON cannot hold (NaN, ±Inf) are the strings \"NaN\", \"Infinity\", \"-Infinity\"; times are RFC 3339 strings. A server bound beyond this machine takes its access token as `?token=`, as `Authorization: Bearer`, or as the cookie the first page load sets."
        },
        "paths": {
            "/api/runs": { "get": {
                "summary": "The runs table",
                "parameters": [
                    param("where", "A filter in the `hippocamp ls --where` language", json!({ "type": "string" })),
                    param("tag", "Only runs with this tag (repeat for several)", json!({ "type": "string" })),
                    param("state", "running, finished, crashed, failed or damaged", json!({ "type": "string" })),
                    param("project", "Only runs of this project", json!({ "type": "string" })),
                    param("columns", "Field paths, comma-separated (a series gives its last value)", json!({ "type": "string" })),
                    param("sort", "id, name, state, created, project or a field path", json!({ "type": "string" })),
                    param("desc", "Descending", json!({ "type": "boolean" })),
                    param("limit", "At most this many runs (1 to 10000, default 100)", json!({ "type": "integer" })),
                    param("offset", "Skip this many", json!({ "type": "integer" })),
                ],
                "responses": runs
            }},
            "/api/runs/{id}": { "get": { "summary": "A run's fields", "parameters": [id()], "responses": run } },
            "/api/runs/{id}/series": { "get": {
                "summary": "A series over a step range",
                "parameters": [
                    id(),
                    required(param("path", "The series' path", json!({ "type": "string" }))),
                    param("from", "The first step (inclusive)", json!({ "type": "number" })),
                    param("to", "The last step (inclusive)", json!({ "type": "number" })),
                    param("buckets", "At most this many buckets (1 to 10000, default 1000)", json!({ "type": "integer" })),
                ],
                "responses": series
            }},
            "/api/runs/{id}/file": { "get": {
                "summary": "A File's bytes, or a FileSeries point's",
                "parameters": [
                    id(),
                    required(param("path", "The field's path", json!({ "type": "string" }))),
                    param("step", "A FileSeries point's step (default: its last)", json!({ "type": "number" })),
                ],
                "responses": file
            }},
            "/api/events": { "get": {
                "summary": "Server-sent events: {\"run\", \"change\": new | points | state | removed} per change",
                "responses": { "200": { "description": "An event stream", "content": { "text/event-stream": {} } } }
            }},
        },
        "components": { "schemas": {
            "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" } } },
            "Runs": { "type": "object", "properties": {
                "runs": { "type": "array", "items": { "type": "object", "properties": {
                    "id": { "type": "string" }, "name": { "type": "string" }, "project": { "type": "string" },
                    "state": { "type": "string" }, "failed": { "type": "boolean" }, "created": { "type": "string" },
                    "tags": { "type": "array", "items": { "type": "string" } },
                    "columns": { "type": "object" }
                }}},
                "total": { "type": "integer" },
                "missing": { "type": "array", "items": { "type": "object" } }
            }},
            "Run": { "type": "object", "properties": {
                "id": { "type": "string" },
                "fields": { "type": "array", "items": { "type": "object", "required": ["path", "type"], "properties": {
                    "path": { "type": "string" }, "type": { "type": "string" }, "value": {}, "count": { "type": "integer" },
                    "last": { "type": "array" }, "min": {}, "max": {}, "size": { "type": "integer" }
                }}}
            }},
            "Series": { "type": "object", "properties": {
                "path": { "type": "string" }, "type": { "type": "string" }, "count": { "type": "integer" },
                "points": { "type": "array", "items": { "type": "array" } },
                "buckets": { "type": "array", "items": { "type": "object", "properties": {
                    "from": {}, "to": {}, "first": {}, "last": {}, "min": {}, "max": {}, "count": { "type": "integer" },
                    "from_time": { "type": "string" }, "to_time": { "type": "string" }
                }}}
            }}
        }}
    })
}

pub(crate) async fn serve() -> Json<Value> {
    Json(document())
}
