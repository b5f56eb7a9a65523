//! What every answer carries and every request must show: the headers
//! that keep logged data from being taken for code (a Content Security
//! Policy allowing only the server's own scripts, `nosniff`, no framing),
//! and, on a server bound beyond this machine, the access token.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::Shared;

/// The cookie the first page load with a valid `?token=` sets.
pub const TOKEN_COOKIE: &str = "hippocamp_token";

/// Scripts, styles, images and connections from the server alone; no
/// plugins, no framing, no forms, no `<base>`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The token a request shows: `?token=`, `Authorization: Bearer`, or the
/// cookie.
fn shown_token<'a>(query: Option<&'a str>, headers: &'a HeaderMap) -> Option<String> {
    if let Some(query) = query {
        if let Some((_, token)) =
            form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "token")
        {
            return Some(token.into_owned());
        }
    }
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(token) = value.strip_prefix("Bearer ") {
            return Some(token.trim().to_owned());
        }
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == TOKEN_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Compares in time independent of where the strings differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Refuses a request without the token (when one is needed), only GETs
/// (nothing writes), and adds the security headers to every answer.
pub(crate) async fn guard(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let mut set_cookie = None;
    if let Some(token) = &state.token {
        let shown = shown_token(request.uri().query(), request.headers());
        match shown {
            Some(shown) if same(&shown, token) => {
                if request.uri().query().is_some_and(|q| q.contains("token=")) {
                    set_cookie = Some(format!(
                        "{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
                    ));
                }
            }
            _ => {
                let mut refused = if wants_page(&request) {
                    token_page(request.uri().path())
                } else {
                    ApiError {
                        status: StatusCode::UNAUTHORIZED,
                        message: "this server needs its access token: open the URL it printed \
                                  (with ?token=…), or send it as `Authorization: Bearer …`"
                            .into(),
                    }
                    .into_response()
                };
                headers(&mut refused);
                if wants_page(&request) {
                    // The page's one form sends the token back here.
                    refused.headers_mut().insert(
                        header::CONTENT_SECURITY_POLICY,
                        HeaderValue::from_static(TOKEN_PAGE_POLICY),
                    );
                }
                return refused;
            }
        }
    }
    let mut response = if request.method() == axum::http::Method::GET
        || request.method() == axum::http::Method::HEAD
    {
        next.run(request).await
    } else {
        ApiError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            message: format!("{} is not allowed: nothing here writes", request.method()),
        }
        .into_response()
    };
    if let Some(cookie) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    headers(&mut response);
    response
}

/// The policy of the page asking for the token: nothing but its form,
/// which may submit to this server.
const TOKEN_PAGE_POLICY: &str =
    "default-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Whether a refused request came from a browser opening a page (not from
/// the page's own API calls or a script), so it gets a page that asks for
/// the token rather than JSON.
fn wants_page(request: &Request) -> bool {
    !request.uri().path().starts_with("/api/")
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// A page with one form that opens `path` again with `?token=`: what a
/// browser shows at the bare address of a server that needs its token (a
/// 401 all the same; it holds no data).
fn token_page(path: &str) -> Response {
    let action: String = path
        .chars()
        .filter(|c| !matches!(c, '"' | '<' | '>' | '&' | '\'' | '`'))
        .collect();
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>hippocamp: access token</title></head><body>\
         <h1>hippocamp</h1><p>This server needs its access token. Open the URL \
         <code>hippocamp ui</code> printed (it ends in <code>?token=…</code>), or paste \
         the token:</p><form method=\"get\" action=\"{action}\">\
         <input name=\"token\" type=\"password\" autocomplete=\"off\" autofocus \
         aria-label=\"access token\" data-testid=\"token-input\"> \
         <button type=\"submit\">Open</button></form></body></html>\n"
    );
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A new random token: 128 bits in hex.
pub(crate) fn new_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
