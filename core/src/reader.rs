//! The read interface over a store of many runs: what a page or a command
//! that browses runs needs, whatever holds the bytes. `hippocamp ui` and
//! `hippocamp ls` read through it, so a store that implements it serves
//! both; the embedded store's [`Repository`](crate::sqlite::Repository) is
//! one.

use crate::table::{RunsQuery, RunsTable};
use crate::{Error, Run};

/// Reads a store of many runs: the runs table, their states and what
/// changed, and a run opened read-only for its tree, its series (in
/// buckets, over a step range: [`Handler::fetch_window`]) and its files
/// (as a stream: [`Handler::download_to`]).
///
/// One reader serves one request at a time (it may hold a connection);
/// a server keeps several.
///
/// [`Handler::fetch_window`]: crate::Handler::fetch_window
/// [`Handler::download_to`]: crate::Handler::download_to
///
/// ```
/// use hippocamp_core::reader::StoreReader;
/// use hippocamp_core::table::RunsQuery;
///
/// fn finished(store: &dyn StoreReader) -> hippocamp_core::Result<usize> {
///     let table = store.runs_table(&RunsQuery::default())?;
///     Ok(table.rows.iter().filter(|r| r.info.state == "finished").count())
/// }
///
/// let dir = tempfile::tempdir().unwrap();
/// let run = hippocamp_core::Run::builder().dir(dir.path()).run_id("a").start()?;
/// run.at("loss").append(0.5)?;
/// run.close()?;
/// let store = hippocamp_core::sqlite::Repository::open(dir.path())?;
/// assert_eq!(finished(&store)?, 1);
/// assert_eq!(store.open_run("a")?.at("loss").fetch_last_as::<f64>()?, 0.5);
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
pub trait StoreReader: Send {
    /// The runs a query keeps, with the fields it names, filtered, sorted
    /// and paged.
    fn runs_table(&self, query: &RunsQuery) -> Result<RunsTable, Error>;

    /// Every run's id and the state a reader should see (`running`,
    /// `finished`, `crashed`, …), oldest first: cheap enough to poll.
    fn run_states(&self) -> Result<Vec<(String, String)>, Error>;

    /// A number that changes whenever another connection or process
    /// commits to the store: a watcher reads again only when it moved.
    fn data_version(&self) -> Result<i64, Error>;

    /// A number that changes whenever run `id`'s points or fields do;
    /// `None` for an unknown run.
    fn run_version(&self, id: &str) -> Result<Option<i64>, Error>;

    /// Run `id`, opened read-only: its tree, series and files.
    fn open_run(&self, id: &str) -> Result<Run, Error>;
}
