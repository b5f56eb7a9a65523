//! What users read — the README, docs/, the examples, doc comments and the
//! command's help — refers to nothing they do not have (the project's
//! internal design notes), and installs the command reproducibly.

use std::path::{Path, PathBuf};

/// The files users read, relative to the workspace root.
fn user_facing_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut dirs: Vec<PathBuf> = [
        "docs",
        "examples",
        "src",
        "path/src",
        "core/src",
        "macros/src",
        "cli/src",
        "server/src",
        "server/static",
        "server/examples",
    ]
    .iter()
    .map(|d| root.join(d))
    .collect();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("rs" | "md" | "js" | "html")
            ) {
                files.push(path);
            }
        }
    }
    files
}

/// Phrases that point at documents users do not have (any case).
const INTERNAL: [&str; 5] = [
    "the design",
    "design's",
    "seed document",
    "the seed",
    "seed story",
];

/// The internal design notes by file name (as spelled, so a user-facing
/// `docs/http-api.md` is not taken for `API.md`).
const DOCUMENTS: [&str; 5] = ["PRODUCT.md", "API.md", "UI.md", "BACKENDS.md", "LAYOUT.md"];

/// Whether `line` names `document` as a file of its own (not as the end
/// of a longer name).
fn names(line: &str, document: &str) -> bool {
    line.match_indices(document).any(|(at, _)| {
        !line[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_')
    })
}

#[test]
fn docs_name_no_internal_document() {
    let mut found = Vec::new();
    for file in user_facing_files() {
        let shown = file
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .to_string_lossy()
            .trim_start_matches('/')
            .to_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let lower = line.to_lowercase();
            let internal = INTERNAL
                .iter()
                .any(|phrase| lower.contains(&phrase.to_lowercase()))
                || DOCUMENTS.iter().any(|document| names(line, document));
            if internal {
                found.push(format!("{shown}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "internal references:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_command_is_installed_with_its_lock_file() {
    for file in user_facing_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.contains("cargo install") {
                assert!(
                    line.contains("cargo install --locked"),
                    "{}:{}: {line}",
                    file.display(),
                    n + 1
                );
            }
        }
    }
}
