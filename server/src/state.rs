//! What every request shares: how to open a reader of the store, the
//! readers not in use, the runs opened read-only, and the channel of
//! change events. Everything read goes through the core's
//! [`StoreReader`], so any store that implements it can be served.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use hippocamp_core::reader::StoreReader;
use hippocamp_core::{Error, Run};
use tokio::sync::broadcast;

use crate::error::ApiError;

/// How many runs stay open between requests (a read-only run reloads only
/// when its store changed, so charts of one run are cheap).
const OPEN_RUNS: usize = 64;

/// Opens one more reader of the store.
pub(crate) type Opener = Box<dyn Fn() -> Result<Box<dyn StoreReader>, Error> + Send + Sync>;

/// The server's state, shared by every request.
pub(crate) struct State {
    open: Opener,
    /// Readers not in use (a reader serves one request at a time).
    readers: Mutex<Vec<Box<dyn StoreReader>>>,
    /// Runs opened read-only, the most recently used last.
    runs: Mutex<VecDeque<(String, Run)>>,
    /// One line of JSON per change of a run (see `routes::events`).
    pub(crate) events: broadcast::Sender<String>,
    /// The access token, when one is needed.
    pub(crate) token: Option<String>,
}

pub(crate) type Shared = Arc<State>;

impl State {
    pub(crate) fn new(open: Opener, token: Option<String>) -> State {
        State {
            open,
            readers: Mutex::new(Vec::new()),
            runs: Mutex::new(VecDeque::new()),
            events: broadcast::channel(1024).0,
            token,
        }
    }

    /// Runs `f` with a reader of the store (one of the pool, or a new
    /// one).
    pub(crate) fn with_reader<T>(
        &self,
        f: impl FnOnce(&dyn StoreReader) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let taken = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let reader = match taken {
            Some(reader) => reader,
            None => (self.open)()?,
        };
        let result = f(reader.as_ref());
        self.give_back(reader);
        result
    }

    /// Keeps `reader` for the next request.
    pub(crate) fn give_back(&self, reader: Box<dyn StoreReader>) {
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(reader);
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
        self.with_reader(|reader| reader.open_run(id))
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
