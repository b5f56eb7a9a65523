//! The page of `hippocamp ui` in a real headless Chromium, driven over
//! WebDriver (chromedriver), against a real server on a free port: the
//! runs table, its filter and sorting, a run's charts drawn on their
//! canvases, zoom fetching the zoomed range again, comparing runs, a live
//! run's chart growing without a reload, and logged markup shown as text.
//!
//! Needs Debian's `chromium` and `chromium-driver`; where they are missing
//! the tests say so and pass, except under `CI=true`, where a missing
//! browser is a failure (`.ci/run` installs them).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hippocamp_core::Run;
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver, a browser session and a server, for one test.
struct Browser {
    client: Client,
    url: String,
    driver: Child,
    runtime: tokio::runtime::Runtime,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let client = self.client.clone();
        let _ = self.runtime.block_on(client.close());
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A browser on a server of the store in `dir`; `None` (after saying why)
/// where there is no browser, outside CI.
fn browser(dir: &Path) -> Option<Browser> {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "no {CHROMIUM} or {CHROMEDRIVER}: under CI=true the browser tests must run \
             (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "skipped: no {CHROMIUM} or {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
        );
        return None;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let bound = runtime
        .block_on(hippocamp_server::Ui::new(dir).port(0).bind())
        .unwrap();
    let url = bound.url().trim_end_matches('/').to_owned();
    runtime.spawn(bound.serve(std::future::pending()));
    let port = free_port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().unwrap();
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }
    });
    let capabilities = match capabilities {
        serde_json::Value::Object(map) => map,
        _ => unreachable!(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let client = loop {
        let connected = runtime.block_on(
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}")),
        );
        match connected {
            Ok(client) => break client,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("cannot start a browser session: {e}"),
        }
    };
    Some(Browser {
        client,
        url,
        driver,
        runtime,
        _profile: profile,
    })
}

impl Browser {
    fn goto(&self, path: &str) {
        self.runtime
            .block_on(self.client.goto(&format!("{}{path}", self.url)))
            .unwrap();
    }

    /// Runs `script` in the page and returns what it returns.
    fn eval(&self, script: &str) -> serde_json::Value {
        self.runtime
            .block_on(self.client.execute(script, vec![]))
            .unwrap()
    }

    /// Waits until `script` returns something truthy; returns it.
    fn until(&self, what: &str, script: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let value = self.eval(script);
            let truthy = match &value {
                serde_json::Value::Null | serde_json::Value::Bool(false) => false,
                serde_json::Value::Number(n) => n.as_f64() != Some(0.0),
                serde_json::Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "waited 15 s for {what}; the page says: {}",
                self.eval("return document.body.innerText.slice(0, 2000)")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn rows(&self) -> Vec<String> {
        let ids = self.eval(
            "return [...document.querySelectorAll('[data-testid=run-row]')].map(r => r.dataset.runId)",
        );
        serde_json::from_value(ids).unwrap()
    }

    /// Presses the mouse left of the element's centre, moves it right of
    /// it, and lets go.
    fn drag_across(&self, selector: &str) {
        use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
        let element = self
            .runtime
            .block_on(self.client.find(Locator::Css(selector)))
            .unwrap();
        let mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveToElement {
                element: element.clone(),
                duration: None,
                x: -120,
                y: 0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::MoveToElement {
                element,
                duration: Some(Duration::from_millis(300)),
                x: 120,
                y: 0,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        self.runtime
            .block_on(self.client.perform_actions(mouse))
            .unwrap();
    }

    fn type_into(&self, selector: &str, text: &str) {
        let field = self
            .runtime
            .block_on(self.client.find(Locator::Css(selector)))
            .unwrap();
        self.runtime.block_on(field.clear()).unwrap();
        self.runtime
            .block_on(field.send_keys(&format!("{text}\u{E007}")))
            .unwrap();
    }
}

/// Three runs of a sweep, one with markup everywhere a user can log text.
fn store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (i, lr) in [0.1, 0.01, 0.001].into_iter().enumerate() {
        let name = if i == 0 {
            "<img src=x onerror=\"window.__pwned=1\">".to_owned()
        } else {
            format!("run {i}")
        };
        let run = Run::builder()
            .project("mnist")
            .name(name)
            .tags(["sweep", "<script>window.__pwned=2</script>"])
            .dir(dir.path())
            .start()
            .unwrap();
        run.at("params/lr").assign(lr).unwrap();
        run.at("params/<b>bold</b>")
            .assign("<script>window.__pwned=3</script>")
            .unwrap();
        run.at("train/loss")
            .extend((0..5000).map(|s| (1.0 + lr) / (1.0 + s as f64 * lr)))
            .unwrap();
        run.at("train/log")
            .extend(["<i onmouseover=\"window.__pwned=4\">hover</i>", "done"])
            .unwrap();
        run.close().unwrap();
    }
    dir
}

#[test]
fn the_runs_table_filters_and_sorts() {
    let dir = store();
    let Some(b) = browser(dir.path()) else { return };
    b.goto("/");
    b.until(
        "three rows",
        "return document.querySelectorAll('[data-testid=run-row]').length === 3",
    );
    assert_eq!(b.rows(), ["MNIST-1", "MNIST-2", "MNIST-3"]);
    // The filter, in the CLI's language.
    b.type_into("[data-testid=filter]", "params/lr < 0.05");
    b.until(
        "two rows",
        "return document.querySelectorAll('[data-testid=run-row]').length === 2",
    );
    assert!(b
        .eval("return location.search")
        .as_str()
        .unwrap()
        .contains("where="));
    // A malformed one says where it is wrong.
    b.type_into("[data-testid=filter]", "params/lr <");
    let message = b.until(
        "the filter's error",
        "const e = document.querySelector('[data-testid=filter-error]'); return e && !e.hidden && e.textContent",
    );
    assert!(message.as_str().unwrap().contains("byte"), "{message}");
    // Sorting by a column, from the URL.
    b.goto("/?columns=params/lr&sort=params/lr&desc=true");
    b.until(
        "rows",
        "return document.querySelectorAll('[data-testid=run-row]').length === 3",
    );
    assert_eq!(b.rows(), ["MNIST-1", "MNIST-2", "MNIST-3"]);
    b.goto("/?columns=params/lr&sort=params/lr");
    b.until(
        "rows",
        "return document.querySelectorAll('[data-testid=run-row]').length === 3",
    );
    assert_eq!(b.rows(), ["MNIST-3", "MNIST-2", "MNIST-1"]);
}

/// How many pixels of the chart's canvases are drawn (not transparent).
const DRAWN: &str = "
    const chart = document.querySelector('[data-testid=chart][data-path=\"train/loss\"]');
    if (!chart || chart.dataset.state !== 'ready') return 0;
    let drawn = 0;
    for (const canvas of chart.querySelectorAll('canvas')) {
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn++;
    }
    return drawn;";

#[test]
fn a_run_page_draws_its_charts_and_zoom_fetches_again() {
    let dir = store();
    let Some(b) = browser(dir.path()) else { return };
    b.goto("/run/MNIST-2");
    let drawn = b.until("the loss chart drawn", DRAWN);
    assert!(drawn.as_u64().unwrap() > 200, "{drawn} pixels drawn");
    let fetches = |b: &Browser| {
        b.eval("return +document.querySelector('[data-testid=chart][data-path=\"train/loss\"]').dataset.fetches")
            .as_u64()
            .unwrap()
    };
    let before = fetches(&b);
    // Drag across the middle of the plot, as a user does: a zoom.
    b.drag_across("[data-testid=chart][data-path=\"train/loss\"] .u-over");
    b.until(
        "the zoomed range fetched",
        &format!(
            "const c = document.querySelector('[data-testid=chart][data-path=\"train/loss\"]');
             return c.dataset.zoomed === 'true' && +c.dataset.fetches > {before} && c.dataset.state === 'ready'"
        ),
    );
    let (from, to) = (
        b.eval("return +document.querySelector('[data-testid=chart][data-path=\"train/loss\"]').dataset.from"),
        b.eval("return +document.querySelector('[data-testid=chart][data-path=\"train/loss\"]').dataset.to"),
    );
    let (from, to) = (from.as_f64().unwrap(), to.as_f64().unwrap());
    assert!(
        from > 0.0 && to < 4999.0 && from < to,
        "zoomed to {from}..{to}"
    );
}

#[test]
fn compare_overlays_runs_in_their_own_colours() {
    let dir = store();
    let Some(b) = browser(dir.path()) else { return };
    b.goto("/compare?runs=MNIST-1,MNIST-3");
    b.until("the loss chart drawn", DRAWN);
    let runs = b.until(
        "both runs on the chart",
        "const c = document.querySelector('[data-testid=chart][data-path=\"train/loss\"]');
         const labels = [...c.querySelectorAll('.u-legend .u-series')].filter(s => s.textContent.includes('MNIST'));
         return labels.length >= 2 && labels.length",
    );
    assert!(runs.as_u64().unwrap() >= 2);
    let table = b.eval("return document.querySelector('[data-testid=compare-table]').innerText");
    assert!(table.as_str().unwrap().contains("params/lr"), "{table}");
}

#[test]
fn a_running_run_grows_on_its_page_without_a_reload() {
    let dir = store();
    let run = Run::builder()
        .project("mnist")
        .dir(dir.path())
        .start()
        .unwrap();
    let id = run.id().to_owned();
    run.at("train/loss")
        .extend((0..100).map(|s| 1.0 / (1.0 + s as f64)))
        .unwrap();
    run.flush().unwrap();
    let Some(b) = browser(dir.path()) else { return };
    b.goto(&format!("/run/{id}"));
    b.until("the loss chart drawn", DRAWN);
    b.eval("window.__sameDocument = true; return true");
    let count = "return +document.querySelector('[data-testid=chart][data-path=\"train/loss\"]').dataset.count";
    assert_eq!(b.eval(count).as_u64(), Some(100));
    run.at("train/loss")
        .extend((0..50).map(|s| 0.01 / (1.0 + s as f64)))
        .unwrap();
    run.flush().unwrap();
    let started = Instant::now();
    b.until("150 points", &format!("{count} === 150"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        b.eval("return window.__sameDocument === true"),
        json!(true),
        "the page reloaded"
    );
    let state = b.eval("return document.querySelector('[data-testid=live-state]').textContent");
    assert!(state.as_str().unwrap().contains("running"), "{state}");
    run.close().unwrap();
    b.until(
        "finished",
        "return document.querySelector('[data-testid=live-state]').textContent.includes('finished')",
    );
}

#[test]
fn logged_markup_is_text_and_runs_nothing() {
    let dir = store();
    let Some(b) = browser(dir.path()) else { return };
    for page in ["/", "/run/MNIST-1", "/compare?runs=MNIST-1,MNIST-2"] {
        b.goto(page);
        b.until(
            "the page shows the markup as text",
            "return document.body.innerText.includes('<img src=x onerror=')",
        );
        // Hover everything, to give any injected handler its chance.
        b.eval("document.querySelectorAll('*').forEach(e => e.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }))); return true");
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            b.eval("return window.__pwned === undefined"),
            json!(true),
            "{page} ran logged markup"
        );
        assert_eq!(
            b.eval("return document.querySelectorAll('img[src=\"x\"], script:not([src]), b, i[onmouseover]').length"),
            json!(0),
            "{page} made elements of logged markup"
        );
    }
    b.goto("/run/MNIST-1");
    b.until(
        "the text series",
        "return document.body.innerText.includes('<i onmouseover=')",
    );
    b.until(
        "the tags",
        "return document.body.innerText.includes('<script>window.__pwned=2</script>')",
    );
}
