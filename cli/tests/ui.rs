//! `hippocamp ui` as a user starts it: the URL printed once it listens,
//! the API answering over the store, and every way it cannot start (no
//! store, a corrupt one, an address in use, a bad host) as one line on
//! stderr and exit code 2.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn ui(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hippocamp"))
        .arg("--dir")
        .arg(dir)
        .arg("ui")
        .args(args)
        .output()
        .unwrap()
}

fn assert_refused(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing printed on stdout");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(expected), "{stderr}");
}

#[test]
fn it_serves_the_store_at_the_url_it_prints() {
    let dir = tempfile::tempdir().unwrap();
    let run = hippocamp::Run::builder()
        .dir(dir.path())
        .run_id("first")
        .start()
        .unwrap();
    run.at("loss").extend([1.0, 0.5]).unwrap();
    run.close().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hippocamp"))
        .arg("--dir")
        .arg(dir.path())
        .args(["ui", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("not a local URL: {line:?}"))
        .to_owned();
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "GET /api/runs HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""id":"first""#), "{answer}");
}

#[test]
fn a_missing_store_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_refused(&ui(dir.path(), &["--port", "0"]), "no hippocamp store");
}

#[test]
fn a_corrupt_store_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(hippocamp::sqlite::DATABASE_FILE),
        vec![0x5a; 8192],
    )
    .unwrap();
    assert_refused(
        &ui(dir.path(), &["--port", "0"]),
        "not a readable hippocamp store",
    );
}

#[test]
fn an_address_in_use_or_a_bad_host_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    hippocamp::Run::builder()
        .dir(dir.path())
        .start()
        .unwrap()
        .close()
        .unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    assert_refused(&ui(dir.path(), &["--port", &port]), &port);
    assert_refused(&ui(dir.path(), &["--port", &port]), "give another --port");
    let bad = ui(dir.path(), &["--host", "localhost:80"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--host"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
