//! `GET /api/runs/{id}/file`: the bytes of a File field, or of one point
//! of a FileSeries, streamed as they are read from the store (and checked
//! against their SHA-256 on the way). Raster images are served inline with
//! their type; every other file as an attachment, never interpreted.

use std::io::Write;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use hippocamp_core::window::WindowContent;
use hippocamp_core::{FieldType, FileInfo, Value};
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::params::Params;
use crate::routes::require_field;
use crate::state::Shared;

/// The bytes, in pieces of at most this many.
const PIECE: usize = 64 << 10;

/// Files up to this size are read under the shared run's lock at once.
const SMALL_FILE: u64 = 8 << 20;

/// The types shown inline: raster images only.
fn inline_type(extension: &str) -> Option<&'static str> {
    Some(match extension.to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        _ => return None,
    })
}

/// `Content-Disposition` for `name`: an ASCII fallback, and the name itself
/// percent-encoded (RFC 6266, RFC 5987).
fn disposition(kind: &str, name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Sends what is written into a channel, a piece at a time.
struct Pieces(mpsc::Sender<Result<Bytes, std::io::Error>>);

impl Write for Pieces {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the reader left"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(crate) async fn download(
    State(state): State<Shared>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(raw.as_deref(), &["path", "step"])?;
    let path = params.path("path")?.to_owned();
    let step = match params.one("step")? {
        None => None,
        Some(text) => Some(
            text.parse::<f64>()
                .ok()
                .filter(|s| s.is_finite())
                .ok_or_else(|| ApiError::bad_request(format!("`step` is {text:?}, not a step")))?,
        ),
    };
    let (sender, mut receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let (info_sender, info_receiver) =
        tokio::sync::oneshot::channel::<Result<FileInfo, ApiError>>();
    tokio::task::spawn_blocking(move || {
        let found = (|| -> Result<(hippocamp_core::Run, FileInfo, Option<f64>), ApiError> {
            let run = state.run(&id)?;
            let handler = run.at(path.as_str());
            let info = match (require_field(&run, &path)?, step) {
                (FieldType::File, None) => match handler.fetch()? {
                    Value::File(info) => info,
                    _ => return Err(ApiError::not_found(format!("`{path}` holds no file"))),
                },
                (FieldType::File, Some(_)) => {
                    return Err(ApiError::bad_request(format!(
                        "`{path}` is a File: it takes no `step`"
                    )))
                }
                (FieldType::FileSeries, step) => {
                    let point = match step {
                        Some(step) => match handler.fetch_window(step..=step, 1)?.content {
                            WindowContent::Points(points) => points.into_iter().next(),
                            WindowContent::Buckets(_) => None,
                        },
                        None => handler.series_summary()?.last,
                    };
                    match point.map(|p| p.value) {
                        Some(Value::File(info)) => info,
                        _ => {
                            return Err(ApiError::not_found(format!(
                                "`{path}` of run {id} has no file at step {}",
                                step.map_or("(last)".into(), |s| s.to_string())
                            )))
                        }
                    }
                }
                (other, _) => {
                    return Err(ApiError::bad_request(format!(
                        "`{path}` is {}, not a File or FileSeries",
                        other.with_article()
                    )))
                }
            };
            Ok((run, info, step))
        })();
        let (run, info, step) = match found {
            Ok(found) => found,
            Err(e) => {
                let _ = info_sender.send(Err(e));
                return;
            }
        };
        let size = info.size;
        let _ = info_sender.send(Ok(info));
        // A small file is read at once under the shared run's lock; a large
        // one streams at the client's pace, through a run of its own, so
        // it holds up no other request of the run.
        let run = if size <= SMALL_FILE {
            run
        } else {
            match state.open_run(&id) {
                Ok(run) => run,
                Err(e) => {
                    let _ = sender.blocking_send(Err(std::io::Error::other(e.to_string())));
                    return;
                }
            }
        };
        let mut out = std::io::BufWriter::with_capacity(PIECE, Pieces(sender.clone()));
        let handler = run.at(path.as_str());
        let copied = match step {
            Some(step) => handler.download_at_to(step, &mut out),
            None => handler.download_to(&mut out),
        };
        let flushed = out.flush();
        // A content found damaged at its end ends the body with an error:
        // the client sees the download fail, never a file that looks whole.
        if let Err(err) = copied
            .map(drop)
            .map_err(|e| e.to_string())
            .and(flushed.map_err(|e| e.to_string()))
        {
            log::warn!("hippocamp ui: a download failed: {err}");
            let _ = sender.blocking_send(Err(std::io::Error::other(err)));
        }
    });
    let info = info_receiver.await.map_err(|_| ApiError {
        status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        message: "the download stopped unexpectedly".into(),
    })??;
    // An error before the first byte (a content of the wrong size) is
    // still a proper error answer.
    let first = receiver.recv().await;
    if let Some(Err(err)) = &first {
        return Err(ApiError {
            status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            message: err.to_string(),
        });
    }
    let stream =
        futures_util::stream::unfold((first, receiver), |(first, mut receiver)| async move {
            match first {
                Some(item) => Some((item, (None, receiver))),
                None => receiver.recv().await.map(|item| (item, (None, receiver))),
            }
        });
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    match inline_type(&info.extension) {
        Some(kind) => {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
            headers.insert(
                header::CONTENT_DISPOSITION,
                disposition("inline", &info.name),
            );
        }
        None => {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            headers.insert(
                header::CONTENT_DISPOSITION,
                disposition("attachment", &info.name),
            );
        }
    }
    if let Ok(length) = HeaderValue::from_str(&info.size.to_string()) {
        headers.insert(header::CONTENT_LENGTH, length);
    }
    Ok(response)
}
