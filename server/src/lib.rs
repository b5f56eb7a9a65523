//! `hippocamp ui`: a web page to browse, chart and compare the runs of a
//! store, and the HTTP API it reads, served from one binary.
//!
//! The server opens the store read-only: it never blocks, slows or
//! corrupts a run being logged, and it shows what a running run logs
//! within two seconds (server-sent events at `/api/events`). It binds
//! 127.0.0.1 by default; bound to any other address it needs an access
//! token. Everything logged is data: the page builds its text with the
//! DOM's `textContent`, the server sends a Content Security Policy that
//! allows its own scripts only, and files are attachments (only raster
//! images inline) with `nosniff`. Nothing in the API writes.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let ui = hippocamp_server::Ui::new(".hippocamp").port(0).bind().await?;
//! println!("{}", ui.url());
//! ui.serve(std::future::pending()).await?;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod assets;
mod error;
pub mod json;
mod params;
mod routes;
mod security;
mod state;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;

pub use error::ApiError;
pub use routes::events::POLL;
pub use routes::runs::MAX_LIMIT;
pub use routes::series::MAX_BUCKETS;
pub use security::{CONTENT_SECURITY_POLICY, TOKEN_COOKIE};

/// The port `hippocamp ui` serves on unless told otherwise.
pub const DEFAULT_PORT: u16 = 5180;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store is missing or cannot be read.
    #[error("{0}")]
    Store(#[from] hippocamp_core::Error),
    /// The address cannot be bound (in use, not this machine's).
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// The settings of a server; [`bind`](Self::bind) starts it.
///
/// ```
/// let ui = hippocamp_server::Ui::new("runs/").host("0.0.0.0".parse().unwrap()).port(8080);
/// assert!(ui.needs_token());
/// ```
#[derive(Debug, Clone)]
pub struct Ui {
    dir: PathBuf,
    host: IpAddr,
    port: u16,
    token: Option<String>,
}

impl Ui {
    /// A server of the store in `dir`, on 127.0.0.1:5180.
    pub fn new(dir: impl Into<PathBuf>) -> Ui {
        Ui {
            dir: dir.into(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            token: None,
        }
    }

    /// The address to listen on; any but a loopback one needs a token.
    pub fn host(mut self, host: IpAddr) -> Ui {
        self.host = host;
        self
    }

    /// The port (0: one the system picks).
    pub fn port(mut self, port: u16) -> Ui {
        self.port = port;
        self
    }

    /// The access token (else one is made when needed).
    pub fn token(mut self, token: Option<String>) -> Ui {
        self.token = token.filter(|t| !t.is_empty());
        self
    }

    /// Whether requests must show a token: on any address but a loopback
    /// one, or when a token was given.
    pub fn needs_token(&self) -> bool {
        self.token.is_some() || !self.host.is_loopback()
    }

    /// Opens the store (a missing or corrupt one is an error now, not at
    /// the first request) and listens.
    pub async fn bind(self) -> Result<BoundUi, StartError> {
        let dir = self.dir.clone();
        let open: state::Opener = Box::new(move || {
            Ok(Box::new(hippocamp_core::sqlite::Repository::open(&dir)?)
                as Box<dyn hippocamp_core::reader::StoreReader>)
        });
        // A missing or corrupt store is an error now, not at the first
        // request.
        let first = open()?;
        let token = match (&self.token, self.needs_token()) {
            (Some(token), _) => Some(token.clone()),
            (None, true) => Some(security::new_token().map_err(StartError::Serve)?),
            (None, false) => None,
        };
        let address = SocketAddr::new(self.host, self.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|source| StartError::Bind { address, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| StartError::Bind { address, source })?;
        let state = Arc::new(state::State::new(open, token.clone()));
        state.give_back(first);
        routes::events::watch(&state);
        let host = match bound.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let url = match &token {
            Some(token) => format!("http://{host}:{}/?token={token}", bound.port()),
            None => format!("http://{host}:{}/", bound.port()),
        };
        Ok(BoundUi {
            listener,
            router: router(state),
            url,
        })
    }
}

/// A server listening, not yet serving.
pub struct BoundUi {
    listener: tokio::net::TcpListener,
    router: Router,
    url: String,
}

impl BoundUi {
    /// The URL to open (with the token, when one is needed).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Serves until `shutdown` completes.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(StartError::Serve)
    }
}

fn router(state: Arc<state::State>) -> Router {
    Router::new()
        .route("/api/runs", get(routes::runs::list))
        .route("/api/runs/{id}", get(routes::run::show))
        .route("/api/runs/{id}/series", get(routes::series::window))
        .route("/api/runs/{id}/file", get(routes::file::download))
        .route("/api/events", get(routes::events::stream))
        .route("/api/openapi.json", get(routes::openapi::serve))
        .route("/static/{*path}", get(assets::asset))
        .fallback(assets::page)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        .with_state(state)
}
