//! The API's errors: a status and `{"error": "…"}` saying what was wrong.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hippocamp_core::Error;

/// An error answered to a request.
///
/// ```
/// use hippocamp_server::ApiError;
/// let err = ApiError::bad_request("`buckets` is not a number");
/// assert_eq!(err.status.as_u16(), 400);
/// ```
#[derive(Debug)]
pub struct ApiError {
    /// The status: 4xx for what the request got wrong.
    pub status: StatusCode,
    /// What was wrong, in one line.
    pub message: String,
}

impl ApiError {
    /// A 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// A 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }
}

impl From<Error> for ApiError {
    /// What the request asked that the store does not have is a 404;
    /// what it asked wrongly, a 400; a store that fails (damaged, gone),
    /// a 500 that says why.
    fn from(err: Error) -> ApiError {
        let status = match &err {
            Error::RunNotFound { .. } | Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::InvalidPath { .. }
            | Error::InvalidSetting { .. }
            | Error::OutOfRange { .. }
            | Error::UnsupportedOperation { .. }
            | Error::Conversion { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        ApiError { status, message }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.message.replace('\n', " ") }));
        (self.status, body).into_response()
    }
}
