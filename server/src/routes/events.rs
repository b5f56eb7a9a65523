//! `GET /api/events`: server-sent events, one per change of a run, so a
//! page shows a running run's points and state within a second or two
//! without reloading.
//!
//! A watcher thread looks at the store every [`POLL`]: when another
//! process committed (SQLite's `data_version` moved), it reads every run's
//! state (one indexed statement, a few milliseconds over 10,000 runs) and
//! compares each running run's version with the last it saw; every 2 s it
//! also reads the states for those that change with time alone (a run
//! whose writer stopped becomes `crashed`). Each event's data is
//! `{"run": id, "change": "new" | "points" | "state" | "removed"}`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use serde_json::json;
use tokio::sync::broadcast;

use crate::error::ApiError;
use crate::params::Params;
use crate::state::{Shared, State as Shared_};

/// How often the watcher looks.
pub const POLL: Duration = Duration::from_millis(500);

/// How often the runs are listed even when nothing was committed.
const LIST_EVERY: Duration = Duration::from_secs(2);

pub(crate) async fn stream(
    State(state): State<Shared>,
    RawQuery(raw): RawQuery,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    Params::parse(raw.as_deref(), &[])?;
    let receiver = state.events.subscribe();
    let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(line) => return Some((Ok(Event::default().data(line)), receiver)),
                // A slow reader skips what it missed (the page refetches
                // what it shows on the next event anyway).
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// Starts the watcher; it stops when the server's state goes.
pub(crate) fn watch(state: &Arc<Shared_>) {
    let state: Weak<Shared_> = Arc::downgrade(state);
    let spawned = std::thread::Builder::new()
        .name("hippocamp-ui-watcher".into())
        .spawn(move || {
            let mut seen: HashMap<String, (String, Option<i64>)> = HashMap::new();
            let mut version = None;
            let mut listed = Instant::now() - LIST_EVERY;
            let mut first = true;
            loop {
                let Some(state) = state.upgrade() else {
                    return;
                };
                let result = state.with_reader(|repo| {
                    let now = repo.data_version()?;
                    let committed = version != Some(now);
                    if !committed && listed.elapsed() < LIST_EVERY {
                        return Ok(Vec::new());
                    }
                    version = Some(now);
                    listed = Instant::now();
                    let mut changes = Vec::new();
                    let mut current = HashMap::new();
                    for (id, run_state) in repo.run_states()? {
                        let previous = seen.remove(&id);
                        // Only a running run's points move (the last of them
                        // land with its finish); a finished one's version is
                        // read again when it runs again.
                        let watched = run_state == "running"
                            || previous.as_ref().is_some_and(|(was, _)| was == "running");
                        let run_version = match &previous {
                            Some((_, v)) if !(committed && watched) => *v,
                            _ if watched => repo.run_version(&id)?,
                            _ => None,
                        };
                        match &previous {
                            None if !first => changes.push((id.clone(), "new")),
                            None => {}
                            Some((was, v)) => {
                                if *was != run_state {
                                    changes.push((id.clone(), "state"));
                                }
                                if v.is_some() && *v != run_version {
                                    changes.push((id.clone(), "points"));
                                }
                            }
                        }
                        current.insert(id, (run_state, run_version));
                    }
                    for id in seen.keys() {
                        changes.push((id.clone(), "removed"));
                    }
                    seen = current;
                    first = false;
                    Ok(changes)
                });
                match result {
                    Ok(changes) => {
                        for (run, change) in changes {
                            let _ = state
                                .events
                                .send(json!({ "run": run, "change": change }).to_string());
                        }
                    }
                    Err(err) => log::warn!("hippocamp ui: cannot watch the store: {err}"),
                }
                drop(state);
                std::thread::sleep(POLL);
            }
        });
    if let Err(err) = spawned {
        log::error!("hippocamp ui: cannot start the watcher: {err}");
    }
}
