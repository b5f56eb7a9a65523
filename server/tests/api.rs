//! The HTTP API of `hippocamp ui`, against a real server on a free port
//! over a store the library wrote: every route's answer, every error a
//! request can make (4xx JSON, never a 500 for bad input), the security
//! headers and the access token, a run being written while it is read.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::{Duration, Instant};

use hippocamp_core::{File, Run};
use serde_json::Value;

/// A server on a free port, serving until the test ends.
struct Server {
    url: String,
    _runtime: tokio::runtime::Runtime,
}

fn serve(dir: &Path, token: Option<&str>) -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let bound = runtime
        .block_on(
            hippocamp_server::Ui::new(dir)
                .port(0)
                .token(token.map(str::to_owned))
                .bind(),
        )
        .unwrap();
    let url = bound
        .url()
        .split('?')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    runtime.spawn(bound.serve(std::future::pending()));
    Server {
        url,
        _runtime: runtime,
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// Status and body of a GET.
fn get(server: &Server, path: &str) -> (u16, String) {
    let mut response = agent().get(format!("{}{path}", server.url)).call().unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

fn json(server: &Server, path: &str) -> Value {
    let (status, body) = get(server, path);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The error message of a 4xx answer.
fn error(server: &Server, path: &str, status: u16) -> String {
    let (got, body) = get(server, path);
    assert_eq!(got, status, "{path}: {body}");
    let body: Value =
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: not JSON: {body}"));
    body["error"].as_str().unwrap().to_owned()
}

/// MNIST-1 (a loss of 5,000 points with a spike, NaN and +Inf, a string
/// series, a PNG series, a binary file, markup in its name and tags) and
/// MNIST-2.
fn store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .project("mnist")
        .name("<script>alert(1)</script>")
        .tags(["cnn", "<b>bold</b>"])
        .dir(dir.path())
        .start()
        .unwrap();
    run.at("params/lr").assign(0.01).unwrap();
    run.at("params/note")
        .assign("<img src=x onerror=alert(1)>")
        .unwrap();
    let mut loss: Vec<f64> = (0..5000).map(|i| 1.0 / (1.0 + i as f64)).collect();
    loss[1234] = 99.0;
    loss[10] = f64::NAN;
    loss[20] = f64::INFINITY;
    run.at("train/loss").extend(loss).unwrap();
    run.at("train/log").extend(["<i>start</i>", "end"]).unwrap();
    for step in 0..3 {
        run.at("samples")
            .append_at(
                step,
                File::from_bytes(vec![0x89, b'P', b'N', b'G', step as u8], "s.png"),
            )
            .unwrap();
    }
    run.at("model")
        .upload_bytes(vec![1, 2, 3], "model.bin")
        .unwrap();
    run.close().unwrap();
    let other = Run::builder()
        .project("mnist")
        .dir(dir.path())
        .start()
        .unwrap();
    other.at("params/lr").assign(0.1).unwrap();
    other.close().unwrap();
    dir
}

#[test]
fn the_runs_table() {
    let dir = store();
    let server = serve(dir.path(), None);
    let table = json(
        &server,
        "/api/runs?columns=params/lr,train/loss&sort=params/lr&desc=true",
    );
    assert_eq!(table["total"], 2);
    let runs = table["runs"].as_array().unwrap();
    assert_eq!(runs[0]["id"], "MNIST-2");
    assert_eq!(runs[1]["columns"]["params/lr"], 0.01);
    assert_eq!(runs[1]["columns"]["train/loss"], 1.0 / 5000.0);
    assert_eq!(runs[1]["name"], "<script>alert(1)</script>");
    assert_eq!(runs[1]["state"], "finished");
    assert!(runs[1]["created"].as_str().unwrap().ends_with('Z'));
    let filtered = json(
        &server,
        "/api/runs?where=params%2Flr%20%3C%200.05&tag=cnn&limit=1",
    );
    assert_eq!(filtered["total"], 1);
    assert_eq!(filtered["runs"][0]["id"], "MNIST-1");
    let paged = json(&server, "/api/runs?sort=id&offset=1&limit=1");
    assert_eq!(paged["runs"][0]["id"], "MNIST-2");
    let missing = json(&server, "/api/runs?columns=param");
    assert_eq!(missing["missing"][0]["path"], "param");
    assert_eq!(missing["missing"][0]["nearest"][0], "params");
}

#[test]
fn a_run_its_series_and_files() {
    let dir = store();
    let server = serve(dir.path(), None);
    let run = json(&server, "/api/runs/MNIST-1");
    let field = |path: &str| -> Value {
        run["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("{path} missing"))
            .clone()
    };
    assert_eq!(field("params/lr")["value"], 0.01);
    assert_eq!(field("sys/tags")["value"][0], "<b>bold</b>");
    let loss = field("train/loss");
    assert_eq!(
        (loss["count"].clone(), loss["max"].clone()),
        (Value::from(5000), Value::from("Infinity"))
    );
    assert_eq!(field("model")["size"], 3);
    assert_eq!(field("samples")["count"], 3);
    // A window of buckets: never more than asked, the spike kept.
    let series = json(
        &server,
        "/api/runs/MNIST-1/series?path=train/loss&buckets=100",
    );
    let buckets = series["buckets"].as_array().unwrap();
    assert!(buckets.len() <= 100);
    assert_eq!(series["count"], 5000);
    assert!(buckets.iter().any(|b| b["max"] == "Infinity"));
    let spike = json(
        &server,
        "/api/runs/MNIST-1/series?path=train/loss&from=1000&to=1500&buckets=100",
    );
    assert!(spike["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["max"] == 99.0));
    // Few points: the points.
    let zoom = json(
        &server,
        "/api/runs/MNIST-1/series?path=train/loss&from=5&to=25&buckets=100",
    );
    let points = zoom["points"].as_array().unwrap();
    assert_eq!(points.len(), 21);
    assert_eq!(points[5][1], "NaN");
    assert_eq!(points[15][1], "Infinity");
    let log = json(&server, "/api/runs/MNIST-1/series?path=train/log");
    assert_eq!(log["points"][0][1], "<i>start</i>");
    let samples = json(&server, "/api/runs/MNIST-1/series?path=samples");
    assert_eq!(samples["points"][2][1]["name"], "s.png");
    // Files: an image inline, anything else an attachment, never sniffed.
    let mut image = agent()
        .get(format!(
            "{}/api/runs/MNIST-1/file?path=samples&step=1",
            server.url
        ))
        .call()
        .unwrap();
    assert_eq!(image.headers()["content-type"], "image/png");
    assert!(image.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    assert_eq!(
        image.body_mut().read_to_vec().unwrap(),
        [0x89, b'P', b'N', b'G', 1]
    );
    let mut model = agent()
        .get(format!("{}/api/runs/MNIST-1/file?path=model", server.url))
        .call()
        .unwrap();
    assert_eq!(model.headers()["content-type"], "application/octet-stream");
    assert!(model.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"model.bin\""));
    assert_eq!(model.headers()["x-content-type-options"], "nosniff");
    assert_eq!(model.body_mut().read_to_vec().unwrap(), [1, 2, 3]);
    let openapi = json(&server, "/api/openapi.json");
    assert!(openapi["paths"]["/api/runs/{id}/series"].is_object());
}

#[test]
fn every_bad_request_is_a_4xx_that_says_what_was_wrong() {
    let dir = store();
    let server = serve(dir.path(), None);
    let cases: &[(&str, u16, &str)] = &[
        (
            "/api/runs?where=lr%20%3E",
            400,
            "expected a value after '>' at byte 4",
        ),
        ("/api/runs?state=done", 400, "no state `done`"),
        ("/api/runs?limit=0", 400, "`limit` is 0"),
        ("/api/runs?limit=x", 400, "not a whole number"),
        ("/api/runs?sort=a//b", 400, "`sort`"),
        ("/api/runs?color=red", 400, "unknown parameter `color`"),
        ("/api/runs?desc=maybe", 400, "`desc`"),
        ("/api/runs/MNIST-9", 404, "nearest: MNIST-1, MNIST-2"),
        (
            "/api/runs/MNIST-1/series?path=train/los",
            404,
            "nearest: train/loss",
        ),
        ("/api/runs/MNIST-1/series", 400, "`path` is missing"),
        (
            "/api/runs/MNIST-1/series?path=a//b",
            400,
            "not a field path",
        ),
        (
            "/api/runs/MNIST-1/series?path=params/lr",
            400,
            "not a series",
        ),
        (
            "/api/runs/MNIST-1/series?path=train/loss&buckets=0",
            400,
            "`buckets` is 0",
        ),
        (
            "/api/runs/MNIST-1/series?path=train/loss&buckets=100001",
            400,
            "`buckets`",
        ),
        (
            "/api/runs/MNIST-1/series?path=train/loss&from=9&to=1",
            400,
            "after `to`",
        ),
        (
            "/api/runs/MNIST-1/series?path=train/loss&from=NaN",
            400,
            "not a step",
        ),
        (
            "/api/runs/MNIST-1/series?path=train/loss&path=x",
            400,
            "more than once",
        ),
        ("/api/runs/MNIST-1/file?path=params/lr", 400, "not a File"),
        (
            "/api/runs/MNIST-1/file?path=model&step=1",
            400,
            "takes no `step`",
        ),
        (
            "/api/runs/MNIST-1/file?path=samples&step=7",
            404,
            "no file at step 7",
        ),
        (
            "/api/runs/MNIST-1/file?path=samples&step=inf",
            400,
            "not a step",
        ),
        ("/api/nothing", 404, "no route /api/nothing"),
    ];
    for (path, status, wanted) in cases {
        let message = error(&server, path, *status);
        assert!(message.contains(wanted), "{path}: {message}");
    }
    // Nothing writes.
    let mut posted = agent()
        .post(format!("{}/api/runs", server.url))
        .send("x")
        .unwrap();
    assert_eq!(posted.status(), 405);
    assert!(posted
        .body_mut()
        .read_to_string()
        .unwrap()
        .contains("nothing here writes"));
    // Whatever a query string holds, the answer is never a 500.
    let mut seed = 7u64;
    let pieces = [
        "where=",
        "%28",
        "%29",
        "and",
        "x",
        "%3E",
        "1",
        "%22",
        "&",
        "=",
        "limit=",
        "buckets=",
        "from=",
        "-",
        "e9",
        "%00",
        "%FF",
        "path=train/loss",
        "tag=",
    ];
    for _ in 0..200 {
        let mut query = String::new();
        for _ in 0..6 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            query.push_str(pieces[(seed % pieces.len() as u64) as usize]);
        }
        for route in [
            "/api/runs",
            "/api/runs/MNIST-1/series",
            "/api/runs/MNIST-1/file",
        ] {
            let (status, body) = get(&server, &format!("{route}?{query}"));
            assert!(status < 500, "{route}?{query}: {status} {body}");
        }
    }
}

#[test]
fn pages_and_headers() {
    let dir = store();
    let server = serve(dir.path(), None);
    for path in ["/", "/run/MNIST-1", "/compare?runs=MNIST-1,MNIST-2"] {
        let response = agent().get(format!("{}{path}", server.url)).call().unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert_eq!(response.headers()["x-frame-options"], "DENY");
    }
    assert_eq!(get(&server, "/static/no-such.js").0, 404);
    // No path outside the page's files, however written.
    for path in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/..%2fsrc%2flib.rs",
    ] {
        let (status, body) = get(&server, path);
        assert!(status == 404 || status == 400, "{path}: {status}");
        assert!(
            !body.contains("[package]") && !body.contains("forbid(unsafe_code)"),
            "{path}"
        );
    }
}

#[test]
fn a_token_is_needed_when_one_is_set() {
    let dir = store();
    let server = serve(dir.path(), Some("s3cret"));
    let message = error(&server, "/api/runs", 401);
    assert!(message.contains("access token"), "{message}");
    assert_eq!(get(&server, "/").0, 401);
    // A browser at the bare address gets a page asking for the token, and
    // the form in it opens the address again with it.
    let mut page = agent()
        .get(format!("{}/compare?runs=a", server.url))
        .header("Accept", "text/html,application/xhtml+xml")
        .call()
        .unwrap();
    assert_eq!(page.status(), 401);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("form-action 'self'") && !policy.contains("script-src"),
        "{policy}"
    );
    let body = page.body_mut().read_to_string().unwrap();
    assert!(
        body.contains(r#"action="/compare""#) && body.contains(r#"name="token""#),
        "{body}"
    );
    assert!(
        !body.contains("mnist") && !body.contains("<script"),
        "the page shows no data and runs nothing: {body}"
    );
    // The page's own API calls still get JSON.
    let mut api = agent()
        .get(format!("{}/api/runs", server.url))
        .header("Accept", "text/html")
        .call()
        .unwrap();
    assert_eq!(api.status(), 401);
    assert!(api.body_mut().read_to_string().unwrap().starts_with('{'));
    assert_eq!(get(&server, "/api/runs?token=wrong").0, 401);
    let with_query = agent()
        .get(format!("{}/api/runs?token=s3cret", server.url))
        .call()
        .unwrap();
    assert_eq!(with_query.status(), 200);
    let cookie = with_query.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.starts_with("hippocamp_token=s3cret") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let with_header = agent()
        .get(format!("{}/api/runs", server.url))
        .header("Authorization", "Bearer s3cret")
        .call()
        .unwrap();
    assert_eq!(with_header.status(), 200);
    let with_cookie = agent()
        .get(format!("{}/static/index.html", server.url))
        .header("Cookie", "hippocamp_token=s3cret")
        .call()
        .unwrap();
    assert_ne!(with_cookie.status(), 401);
    // Bound beyond this machine without one, it makes one.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let bound = runtime
        .block_on(
            hippocamp_server::Ui::new(dir.path())
                .host("0.0.0.0".parse().unwrap())
                .port(0)
                .bind(),
        )
        .unwrap();
    let token = bound.url().split("?token=").nth(1).unwrap();
    assert_eq!(token.len(), 32);
}

#[test]
fn a_missing_store_is_an_error_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let err = runtime
        .block_on(
            hippocamp_server::Ui::new(dir.path().join("none"))
                .port(0)
                .bind(),
        )
        .err()
        .expect("no store, no server");
    assert!(err.to_string().contains("no hippocamp store"), "{err}");
}

#[test]
fn a_run_being_written_is_seen_live() {
    let dir = store();
    let server = serve(dir.path(), None);
    let run = Run::builder()
        .project("mnist")
        .dir(dir.path())
        .start()
        .unwrap();
    let id = run.id().to_owned();
    run.at("train/loss").extend([1.0, 0.5]).unwrap();
    run.flush().unwrap();
    // Listen to the events, then log more.
    let response = agent()
        .get(format!("{}/api/events", server.url))
        .call()
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut lines = BufReader::new(response.into_body().into_reader()).lines();
    std::thread::sleep(Duration::from_millis(700));
    run.at("train/loss").extend([0.25, 0.125]).unwrap();
    run.flush().unwrap();
    assert!(
        next_event(&mut lines, &id, "points"),
        "no event for the new points within 5 s"
    );
    let series = json(&server, &format!("/api/runs/{id}/series?path=train/loss"));
    assert_eq!(series["count"], 4);
    let listed = json(&server, "/api/runs?state=running");
    assert_eq!(listed["runs"][0]["id"], id.as_str());
    run.close().unwrap();
    assert!(
        next_event(&mut lines, &id, "state"),
        "no event for the finish within 5 s"
    );
    let another = Run::builder().dir(dir.path()).start().unwrap();
    assert!(
        next_event(&mut lines, another.id(), "new"),
        "no event for a new run within 5 s"
    );
    another.close().unwrap();
}

/// Reads events until one says `change` of `run`, for at most 5 s.
fn next_event(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    run: &str,
    change: &str,
) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else {
            return false;
        };
        if let Some(data) = line.strip_prefix("data:") {
            let event: Value = serde_json::from_str(data.trim()).unwrap();
            if event["run"] == run && event["change"] == change {
                return true;
            }
        }
    }
    false
}

/// A fixed pseudo-random sequence (xorshift), so a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A float as the API writes it (NaN and ±Inf as strings).
fn number(x: &Value) -> f64 {
    match x {
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        other => other
            .as_f64()
            .unwrap_or_else(|| panic!("not a number: {other}")),
    }
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

#[test]
fn buckets_over_http_are_exact_against_every_point() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // 300,000 points at irregular steps: a noisy decay with one-point
    // spikes up and down at random steps, NaN and ±Inf among them.
    let mut step = 0.0;
    let points: Vec<(f64, f64)> = (0..300_000)
        .map(|i| {
            step += 1.0 + rng.below(3) as f64;
            let value = match rng.below(10_000) {
                0 => 1e6,
                1 => -1e6,
                2 => f64::NAN,
                3 => f64::INFINITY,
                4 => f64::NEG_INFINITY,
                r => 1.0 / (1.0 + i as f64 * 1e-3) + r as f64 * 1e-7,
            };
            (step, value)
        })
        .collect();
    let run = Run::builder()
        .dir(dir.path())
        .run_id("rand")
        .start()
        .unwrap();
    let loss = run.at("loss");
    for (i, &(step, value)) in points.iter().enumerate() {
        loss.append_at(step, value).unwrap();
        if i % 50_000 == 49_999 {
            run.flush().unwrap();
        }
    }
    run.close().unwrap();
    let server = serve(dir.path(), None);
    let last = points.last().unwrap().0;
    let mut ranges = vec![(None, None, 1000), (None, None, 7)];
    for _ in 0..25 {
        let a = rng.below(last as u64) as f64;
        let b = a + rng.below(60_000) as f64;
        ranges.push((Some(a), Some(b), 1 + rng.below(2000) as usize));
    }
    for (from, to, buckets) in ranges {
        let mut query = format!("/api/runs/rand/series?path=loss&buckets={buckets}");
        if let (Some(a), Some(b)) = (from, to) {
            query.push_str(&format!("&from={a}&to={b}"));
        }
        let answer = json(&server, &query);
        let (a, b) = (from.unwrap_or(f64::MIN), to.unwrap_or(f64::MAX));
        let inside: Vec<(f64, f64)> = points
            .iter()
            .copied()
            .filter(|&(s, _)| s >= a && s <= b)
            .collect();
        assert_eq!(answer["count"], inside.len(), "{query}");
        if let Some(raw) = answer["points"].as_array() {
            assert!(
                inside.len() <= 2 * buckets,
                "{query}: points for a range this long"
            );
            assert_eq!(raw.len(), inside.len(), "{query}");
            for (got, want) in raw.iter().zip(&inside) {
                assert!(
                    same(number(&got[0]), want.0) && same(number(&got[1]), want.1),
                    "{query}"
                );
            }
            continue;
        }
        let got = answer["buckets"].as_array().unwrap();
        assert!(got.len() <= buckets, "{query}: {} buckets", got.len());
        // The buckets cover the points in order, each exact.
        let mut at = 0;
        for bucket in got {
            let count = bucket["count"].as_u64().unwrap() as usize;
            let span = &inside[at..at + count];
            at += count;
            assert_eq!(number(&bucket["from"]), span[0].0, "{query}");
            assert_eq!(number(&bucket["to"]), span[count - 1].0, "{query}");
            assert!(same(number(&bucket["first"]), span[0].1), "{query}");
            assert!(same(number(&bucket["last"]), span[count - 1].1), "{query}");
            let values: Vec<f64> = span.iter().map(|p| p.1).filter(|x| !x.is_nan()).collect();
            let min = values.iter().copied().reduce(f64::min);
            let max = values.iter().copied().reduce(f64::max);
            let shown = |v: &Value| (!v.is_null()).then(|| number(v));
            assert_eq!(shown(&bucket["min"]), min, "{query}: min");
            assert_eq!(shown(&bucket["max"]), max, "{query}: max");
        }
        assert_eq!(at, inside.len(), "{query}: buckets cover every point");
    }
}

#[test]
fn docs_http_api_md_describes_every_route_and_parameter_the_server_has() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/http-api.md"))
        .unwrap();
    let dir = store();
    let server = serve(dir.path(), None);
    let openapi = json(&server, "/api/openapi.json");
    let paths = openapi["paths"].as_object().unwrap();
    assert!(paths.len() >= 5);
    for (route, item) in paths {
        assert!(
            docs.contains(&format!("## `GET {route}`")),
            "docs/http-api.md has no section for {route}"
        );
        for param in item["get"]["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap();
            if param["in"] == "query" {
                assert!(
                    docs.contains(&format!("| `{name}` |")),
                    "docs/http-api.md does not describe {route}'s `{name}`"
                );
                // And the server takes it (an unknown one is a 400 naming
                // what the route takes).
                let probe = route.replace("{id}", "MNIST-1");
                let (status, body) = get(&server, &format!("{probe}?nonsense=1"));
                assert_eq!(status, 400, "{probe}");
                assert!(
                    body.contains(name),
                    "{probe} does not take `{name}`: {body}"
                );
            }
        }
    }
    assert!(docs.contains("## `GET /api/openapi.json`"));
}
