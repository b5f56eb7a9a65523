//! Runs: starting one, its system fields, flushing and closing it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use crate::error::{Error, ReadOnlyReason, Result};
use crate::handler::{Handler, IntoHandle};
use crate::store::{Ending, MemoryStore, Store};
use crate::structure::Structure;
use crate::system::{StartSettings, STATE_FINISHED};
use crate::tree::Tree;
use crate::value::Value;

/// How a run stores what it logs.
///
/// ```
/// use hippocamp_core::{Mode, Run};
/// let run = Run::builder().mode(Mode::Debug).start()?;
/// assert_eq!(run.mode(), Mode::Debug);
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Calls return once checked and queued; a background writer stores
    /// them. The default.
    #[default]
    Async,
    /// Each call returns once what it wrote is durable.
    Sync,
    /// Like async, and never contacts a remote backend.
    Offline,
    /// Opens an existing run for reading; every write is an error.
    ReadOnly,
    /// In memory only, nothing persisted: for tests and trying things out.
    Debug,
}

impl Mode {
    /// The mode's name, as users write it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Async => "async",
            Mode::Sync => "sync",
            Mode::Offline => "offline",
            Mode::ReadOnly => "read-only",
            Mode::Debug => "debug",
        }
    }
}

/// Settings for a new (or resumed) run; from [`Run::builder`].
///
/// ```
/// use hippocamp_core::{Mode, Run};
/// let run = Run::builder()
///     .project("mnist")
///     .name("baseline")
///     .tags(["cnn", "baseline"])
///     .mode(Mode::Debug)
///     .start()?;
/// assert!(run.id().starts_with("MNIST-"));
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until `start()`"]
pub struct RunBuilder {
    project: Option<String>,
    name: Option<String>,
    description: Option<String>,
    tags: Vec<String>,
    run_id: Option<String>,
    mode: Mode,
    dir: Option<PathBuf>,
    flush_interval: Option<std::time::Duration>,
}

impl RunBuilder {
    /// The project the run belongs to (default `"default"`). Run ids are
    /// numbered per project: `MNIST-1`, `MNIST-2`, … A name is 1 to 256
    /// bytes without control characters or surrounding whitespace (see
    /// [`identity`](crate::identity)); another is refused at `start()`.
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// The run's name, in `sys/name`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The run's description, in `sys/description`.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Tags, in `sys/tags`.
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// A chosen id instead of the next number; a run with that id is
    /// resumed if it exists in the store. A new run's id is 1 to 128 bytes
    /// of letters, digits, `-`, `_` and `.`, starting with a letter or
    /// digit (see [`identity`](crate::identity)); another is refused at
    /// `start()`. A run the store already has is found by its id as it is.
    pub fn run_id(mut self, id: impl Into<String>) -> Self {
        self.run_id = Some(id.into());
        self
    }

    /// The mode (default [`Mode::Async`]).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The store's folder (default `$HIPPOCAMP_HOME`, else `./.hippocamp`).
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// How long logged data may wait in memory before the background
    /// writer stores it (default 500 ms, at most what a crash without
    /// `flush()` loses). Async and offline modes only.
    pub fn flush_interval(mut self, interval: std::time::Duration) -> Self {
        self.flush_interval = Some(interval);
        self
    }

    /// Starts the run: allocates its id (or finds the run to resume) and
    /// writes its `sys/` fields, in one step of the store: a run's `sys/`
    /// fields exist from the moment its id does.
    ///
    /// [`Mode::Debug`] keeps the run in memory; the other modes use the
    /// embedded store in [`dir`](Self::dir). A `run_id` that exists there
    /// is resumed: its fields, their types and each series' last step are
    /// loaded, so the type rules and default steps go on where they were.
    /// [`Mode::ReadOnly`] needs the `run_id` of an existing run, and takes
    /// no name, description or tags (it writes nothing).
    pub fn start(self) -> Result<Run> {
        let project = self
            .project
            .clone()
            .unwrap_or_else(|| DEFAULT_PROJECT.to_owned());
        crate::identity::check_project(&project)?;
        let settings = StartSettings {
            name: self.name,
            description: self.description,
            tags: self.tags,
            hostname: crate::system::hostname(),
        };
        settings.check()?;
        if self.mode == Mode::ReadOnly {
            if self.run_id.is_none() {
                return Err(Error::InvalidSetting {
                    setting: "run_id",
                    detail: "read-only mode opens an existing run: give its id with run_id(\"…\")"
                        .into(),
                });
            }
            let given = [
                ("name", settings.name.is_some()),
                ("description", settings.description.is_some()),
                ("tags", !settings.tags.is_empty()),
            ];
            if let Some((setting, _)) = given.into_iter().find(|(_, given)| *given) {
                return Err(Error::InvalidSetting {
                    setting,
                    detail: "a read-only run writes nothing; set it when the run is written".into(),
                });
            }
        }
        if self.mode == Mode::Debug {
            let id = match &self.run_id {
                Some(id) => {
                    crate::identity::check_run_id(id)?;
                    id.clone()
                }
                None => next_memory_id(&project),
            };
            let fields =
                crate::system::new_run_fields(&id, &project, crate::clock::now(), &settings);
            let run = Run::from_parts(id, project, self.mode, Box::new(MemoryStore::default()));
            run.inner.lock().restore(fields)?;
            return Ok(run);
        }
        let dir = crate::sqlite::resolve_dir(self.dir.as_deref());
        let read_only = self.mode == Mode::ReadOnly;
        let mut conn = crate::sqlite::connect(&dir, read_only)?;
        crate::sqlite::migrate(&mut conn, &dir, read_only)?;
        let record = crate::sqlite::open_or_create_run(
            &mut conn,
            &dir,
            &project,
            self.run_id.as_deref(),
            self.mode,
            &settings,
        )?;
        let mut store = crate::sqlite::SqliteStore::start(
            dir,
            conn,
            &record,
            self.mode,
            self.flush_interval
                .unwrap_or(crate::sqlite::DEFAULT_FLUSH_INTERVAL),
        )?;
        let stored = crate::store::Store::load(&mut store)?;
        let run = Run::from_parts(
            record.id.clone(),
            record.project.clone(),
            self.mode,
            Box::new(store),
        );
        run.inner.lock().restore(stored)?;
        Ok(run)
    }
}

/// The project of a run started without `project(…)`.
const DEFAULT_PROJECT: &str = "default";

/// Run ids of [`Mode::Debug`] runs: numbered per project in this process.
fn next_memory_id(project: &str) -> String {
    static COUNTERS: OnceLock<Mutex<HashMap<String, u64>>> = OnceLock::new();
    let key = project_key(project);
    let mut counters = COUNTERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let n = counters.entry(key.clone()).or_insert(0);
    *n += 1;
    format!("{key}-{n}")
}

/// The project's key in run ids: its letters and digits, upper-cased
/// (`"mnist"` → `MNIST`, `"my-proj 2"` → `MYPROJ2`), at most
/// [`MAX_PROJECT_KEY_BYTES`](crate::identity::MAX_PROJECT_KEY_BYTES) bytes.
///
/// ```
/// assert_eq!(hippocamp_core::project_key("my-proj 2"), "MYPROJ2");
/// assert_eq!(hippocamp_core::project_key("---"), "RUN");
/// assert_eq!(hippocamp_core::project_key(&"a".repeat(100)).len(), 24);
/// ```
pub fn project_key(project: &str) -> String {
    let mut key = String::new();
    // Upper-cased first: an upper case can hold a mark that is no letter
    // (`ǰ` is `J` and a combining caron), which a run id may not.
    for c in project
        .chars()
        .flat_map(char::to_uppercase)
        .filter(|c| c.is_alphanumeric())
    {
        if key.len() + c.len_utf8() > crate::identity::MAX_PROJECT_KEY_BYTES {
            break;
        }
        key.push(c);
    }
    if key.is_empty() {
        "RUN".to_owned()
    } else {
        key
    }
}

pub(crate) struct RunInner {
    pub(crate) id: String,
    pub(crate) project: String,
    pub(crate) mode: Mode,
    state: Mutex<State>,
}

pub(crate) struct State {
    pub(crate) tree: Tree,
    pub(crate) closed: bool,
}

impl std::ops::Deref for State {
    type Target = Tree;
    fn deref(&self) -> &Tree {
        &self.tree
    }
}

impl std::ops::DerefMut for State {
    fn deref_mut(&mut self) -> &mut Tree {
        &mut self.tree
    }
}

impl Drop for RunInner {
    /// Dropping the last handle of a run flushes and closes it; errors can
    /// only be logged here (call `close()` to see them).
    fn drop(&mut self) {
        if let Err(err) = self.close() {
            log::error!("hippocamp: closing run {} failed: {err}", self.id);
        }
    }
}

impl RunInner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the tree half-changed
        // in a way later calls rely on (each change is one assignment after
        // its checks), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn close(&self) -> Result<()> {
        let mut state = self.lock();
        if state.closed {
            return Ok(());
        }
        state.closed = true;
        // The store decides: the run is finished once its last writer
        // (of every process resuming it) closes.
        let ending = state
            .store
            .close()
            .inspect_err(|err| state.learn_from(err))?;
        if ending == Ending::Finished {
            state.set_stored_atom("sys/state", Value::String(STATE_FINISHED.into()));
        }
        Ok(())
    }

    /// The state for a read; a read-only run first reloads what the
    /// writing process has stored since (only when the store changed).
    pub(crate) fn lock_for_read(&self) -> Result<MutexGuard<'_, State>> {
        let mut state = self.lock();
        if self.mode == Mode::ReadOnly && state.store.changed_since_load()? {
            state.reload()?;
        }
        Ok(state)
    }

    /// The state for a write: refused in read-only mode and after close.
    pub(crate) fn lock_for_write(
        &self,
        path: impl FnOnce() -> String,
    ) -> Result<MutexGuard<'_, State>> {
        if self.mode == Mode::ReadOnly {
            return Err(Error::ReadOnly {
                path: path(),
                reason: ReadOnlyReason::ReadOnlyMode,
            });
        }
        let state = self.lock();
        if state.closed {
            return Err(Error::Closed {
                run_id: self.id.clone(),
            });
        }
        Ok(state)
    }
}

/// A run: a tree of namespaces and typed fields, and where it is stored.
///
/// Cloning is cheap (one reference count); `Run` is `Send + Sync`, so
/// several threads may log to one run at once.
///
/// ```
/// use hippocamp_core::{Mode, Run};
/// let run = Run::builder().project("mnist").mode(Mode::Debug).start()?;
/// run.at("params/max_epochs").assign(20)?;
/// let params = run.at("params");
/// params.at("learning_rate").assign(0.005)?;
/// let worker = run.clone();
/// std::thread::spawn(move || worker.at("train/loss").append(0.5)).join().unwrap()?;
/// run.close()?;
/// # Ok::<(), hippocamp_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Run {
    pub(crate) root: Handler,
    pub(crate) inner: Arc<RunInner>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("id", &self.inner.id)
            .field("project", &self.inner.project)
            .field("mode", &self.inner.mode)
            .finish()
    }
}

impl Run {
    /// Settings for a new run.
    pub fn builder() -> RunBuilder {
        RunBuilder::default()
    }

    /// A run over any [`Store`], with no `sys/` fields written: for store
    /// implementations and their tests.
    pub fn from_parts(id: String, project: String, mode: Mode, store: Box<dyn Store>) -> Run {
        let inner = Arc::new(RunInner {
            id,
            project,
            mode,
            state: Mutex::new(State {
                tree: Tree::new(store),
                closed: false,
            }),
        });
        Run {
            root: Handler::root(inner.clone()),
            inner,
        }
    }

    /// A handler at `path`: a `&str`/`String` path gives an untyped
    /// [`Handler`], a typed path from `T::paths()` a typed handle.
    ///
    /// An invalid path is reported by the handler's first operation.
    pub fn at<P: IntoHandle>(&self, path: P) -> P::Handle {
        self.root.at(path)
    }

    /// The handler at the run's root.
    pub fn root(&self) -> &Handler {
        &self.root
    }

    /// The run's id, e.g. `MNIST-7`.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The run's project.
    pub fn project(&self) -> &str {
        &self.inner.project
    }

    /// The run's mode.
    pub fn mode(&self) -> Mode {
        self.inner.mode
    }

    /// The tree of the user's namespaces and fields (`sys/` left out:
    /// `run.at("sys").structure()` shows it).
    pub fn structure(&self) -> Result<Structure> {
        self.root.structure_inner(true)
    }

    /// Marks the run as failed (`sys/failed`, which handlers cannot write).
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run, Value};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.set_failed(true)?;
    /// assert_eq!(run.at("sys/failed").fetch()?, Value::Bool(true));
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn set_failed(&self, failed: bool) -> Result<()> {
        let mut state = self.inner.lock_for_write(|| "sys/failed".to_owned())?;
        state.set_system("sys/failed", Value::Bool(failed))
    }

    /// Returns once everything logged before is durable; an error of the
    /// background writer since the last flush is returned here.
    ///
    /// ```
    /// # use hippocamp_core::{Mode, Run};
    /// let dir = tempfile::tempdir().unwrap();
    /// let run = Run::builder().dir(dir.path()).start()?; // async: queued
    /// run.at("train/loss").append(0.5)?;
    /// run.flush()?;                                       // now on disk
    /// let reader = Run::builder().dir(dir.path()).run_id(run.id()).mode(Mode::ReadOnly).start()?;
    /// assert_eq!(reader.at("train/loss").fetch_values()?.len(), 1);
    /// # Ok::<(), hippocamp_core::Error>(())
    /// ```
    pub fn flush(&self) -> Result<()> {
        let mut state = self.inner.lock();
        state.store.flush().inspect_err(|err| state.learn_from(err))
    }

    /// Flushes, marks the run finished and closes its store. Later writes
    /// are [`Error::Closed`]; reads still work. Closing twice is a no-op.
    ///
    /// ```
    /// # use hippocamp_core::{Error, Mode, Run, Value};
    /// let run = Run::builder().mode(Mode::Debug).start()?;
    /// run.at("x").assign(1)?;
    /// run.close()?;
    /// assert!(matches!(run.at("y").assign(2), Err(Error::Closed { .. })));
    /// assert_eq!(run.at("sys/state").fetch()?, Value::String("finished".into()));
    /// run.close()?;
    /// # Ok::<(), Error>(())
    /// ```
    pub fn close(&self) -> Result<()> {
        self.inner.close()
    }
}
