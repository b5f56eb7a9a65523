//! What every request shares: the store's folder, open connections to it,
//! the runs opened read-only, and the channel of change events.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use hippocamp_core::sqlite::Repository;
use hippocamp_core::{Error, Mode, Run};
use tokio::sync::broadcast;

use crate::error::ApiError;

/// How many runs stay open between requests (a read-only run reloads only
/// when its store changed, so charts of one run are cheap).
const OPEN_RUNS: usize = 64;

/// The server's state, shared by every request.
pub(crate) struct State {
    pub(crate) dir: PathBuf,
    /// Connections not in use (a connection serves one request at a time).
    repositories: Mutex<Vec<Repository>>,
    /// Runs opened read-only, the most recently used last.
    runs: Mutex<VecDeque<(String, Run)>>,
    /// One line of JSON per change of a run (see `routes::events`).
    pub(crate) events: broadcast::Sender<String>,
    /// The access token, when one is needed.
    pub(crate) token: Option<String>,
}

pub(crate) type Shared = Arc<State>;

impl State {
    pub(crate) fn new(dir: PathBuf, token: Option<String>) -> State {
        State {
            dir,
            repositories: Mutex::new(Vec::new()),
            runs: Mutex::new(VecDeque::new()),
            events: broadcast::channel(1024).0,
            token,
        }
    }

    /// Runs `f` with a connection to the store (one of the pool, or a new
    /// one).
    pub(crate) fn with_repository<T>(
        &self,
        f: impl FnOnce(&Repository) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let taken = self
            .repositories
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        let repository = match taken {
            Some(repository) => repository,
            None => Repository::open(&self.dir)?,
        };
        let result = f(&repository);
        self.repositories
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(repository);
        result
    }

    /// The run `id`, opened read-only (once, then kept among the last
    /// [`OPEN_RUNS`] used).
    pub(crate) fn run(&self, id: &str) -> Result<Run, Error> {
        {
            let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(at) = runs.iter().position(|(open, _)| open == id) {
                let entry = runs.remove(at).expect("the position is in range");
                let run = entry.1.clone();
                runs.push_back(entry);
                return Ok(run);
            }
        }
        let run = self.open_run(id)?;
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        runs.push_back((id.to_owned(), run.clone()));
        if runs.len() > OPEN_RUNS {
            runs.pop_front();
        }
        Ok(run)
    }
}

impl State {
    /// The run `id`, opened read-only for one use (not kept).
    pub(crate) fn open_run(&self, id: &str) -> Result<Run, Error> {
        Run::builder()
            .dir(&self.dir)
            .run_id(id)
            .mode(Mode::ReadOnly)
            .start()
    }
}

/// Runs blocking store work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|_| {
        Err(ApiError {
            status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            message: "the request's work stopped unexpectedly".into(),
        })
    })
}
