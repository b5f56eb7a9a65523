//! The page's files, built into the binary from `server/static/`: served
//! at `/static/…`, and `index.html` at `/` and at every other path that is
//! not the API's (the page routes in the browser).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use include_dir::{include_dir, Dir};

use crate::error::ApiError;

static STATIC: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/static");

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "md" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn file(path: &str) -> Option<Response> {
    let file = STATIC.get_file(path)?;
    let mut response = file.contents().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    Some(response)
}

/// `GET /static/{*path}`.
pub(crate) async fn asset(
    axum::extract::Path(path): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    file(&path).ok_or_else(|| ApiError::not_found(format!("no file /static/{path}")))
}

/// The page, at any path that is neither the API's nor a file's.
pub(crate) async fn page(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") || uri.path() == "/api" {
        return ApiError::not_found(format!("no route {}", uri.path())).into_response();
    }
    file("index.html").unwrap_or_else(|| (StatusCode::NOT_FOUND, "no page").into_response())
}
