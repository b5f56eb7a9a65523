//! A headless Chromium driven over WebDriver (chromedriver) against a
//! real `hippocamp ui` on a free port: shared by the browser tests, the
//! page-load bench and the screenshots example.

#![allow(dead_code)] // each user takes what it needs

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver, a browser session and a server, for one test.
pub struct Browser {
    pub client: Client,
    pub url: String,
    driver: Child,
    pub runtime: tokio::runtime::Runtime,
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
pub fn browser(dir: &Path) -> Option<Browser> {
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
    pub fn goto(&self, path: &str) {
        self.runtime
            .block_on(self.client.goto(&format!("{}{path}", self.url)))
            .unwrap();
    }

    /// Runs `script` in the page and returns what it returns.
    pub fn eval(&self, script: &str) -> serde_json::Value {
        self.runtime
            .block_on(self.client.execute(script, vec![]))
            .unwrap()
    }

    /// Waits until `script` returns something truthy; returns it.
    pub fn until(&self, what: &str, script: &str) -> serde_json::Value {
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

    pub fn rows(&self) -> Vec<String> {
        let ids = self.eval(
            "return [...document.querySelectorAll('[data-testid=run-row]')].map(r => r.dataset.runId)",
        );
        serde_json::from_value(ids).unwrap()
    }

    /// Presses the mouse left of the element's centre, moves it right of
    /// it, and lets go.
    pub fn drag_across(&self, selector: &str) {
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

    pub fn type_into(&self, selector: &str, text: &str) {
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
