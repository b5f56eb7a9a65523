//! The README's promise to a new user: after `cargo run --example
//! quickstart`, every command of its "The `hippocamp` command" section
//! works on first try, in a fresh directory.

use std::path::Path;
use std::process::Command;

// The example itself, compiled into this test (its `main` unused here).
#[allow(dead_code)]
#[path = "../../examples/quickstart.rs"]
mod quickstart;

/// The commands of the README's `sh` block under "## The `hippocamp`
/// command", each split into words as a shell would (quotes removed,
/// comments dropped).
fn readme_commands() -> Vec<Vec<String>> {
    let readme = include_str!("../../README.md");
    let section = readme
        .split_once("## The `hippocamp` command")
        .expect("the README has the section")
        .1;
    let block = section
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("the section has a sh block")
        .0;
    block
        .lines()
        .map(shell_words)
        .filter(|words| !words.is_empty())
        .collect()
}

/// A line split into words: `'…'` and `"…"` quote, `#` outside quotes
/// starts a comment.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, '#') if word.is_none() => break,
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(quote.is_none(), "unclosed quote in {line:?}");
    words.extend(word);
    words
}

#[test]
fn shell_words_split_as_a_shell_does() {
    assert_eq!(
        shell_words(r#"hippocamp ls --where 'a > 1 and b = "x"'   # a comment"#),
        ["hippocamp", "ls", "--where", r#"a > 1 and b = "x""#]
    );
    assert_eq!(shell_words("   # only a comment"), Vec::<String>::new());
}

#[test]
fn the_readme_commands_work_on_the_quickstart_store() {
    let cwd = tempfile::tempdir().unwrap();
    let store = cwd.path().join(".hippocamp");
    // The only test of this binary that touches the environment.
    std::env::set_var("HIPPOCAMP_HOME", &store);
    let mut printed = Vec::new();
    quickstart::quickstart(&mut printed).unwrap();
    let printed = String::from_utf8(printed).unwrap();
    // It ends by naming the command that shows a run.
    let last = printed.lines().last().unwrap();
    assert!(
        last.starts_with("  cargo run -p hippocamp-cli -- show MNIST-"),
        "{printed}"
    );

    let commands = readme_commands();
    assert!(commands.len() >= 10, "{commands:?}");
    for words in &commands {
        assert_eq!(words[0], "hippocamp", "{words:?}");
        let output = Command::new(env!("CARGO_BIN_EXE_hippocamp"))
            .args(&words[1..])
            .current_dir(cwd.path())
            .env("HIPPOCAMP_HOME", &store)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stderr.is_empty(),
            "`{}` failed (exit {:?}):\n{stderr}{stdout}",
            words.join(" "),
            output.status.code()
        );
        // What each command is there to show, shown.
        match words[1].as_str() {
            "ls" if words.len() == 2 => assert_eq!(stdout.lines().count(), 4, "{stdout}"),
            "ls" => assert!(stdout.lines().count() >= 2, "an empty table:\n{stdout}"),
            "diff" => assert!(stdout.contains("params/learning_rate"), "{stdout}"),
            "plot" if !words.contains(&"-o".to_owned()) => {
                assert!(stdout.contains("1 ⠒⠒ MNIST-1:train/loss"), "{stdout}")
            }
            _ => {}
        }
    }
    assert!(Path::new(&cwd.path().join("loss.svg")).exists());
}
