//! What names a run, a project and a file may be: the same rules at
//! `start()`, at import and in the command line, so that nothing a run is
//! started with is refused later (by an export that names files after run
//! ids, by an import, by a URL of the web UI).
//!
//! - **Run ids**: 1 to [`MAX_RUN_ID_BYTES`] bytes of letters and digits (of
//!   any script), `-`, `_` and `.`, starting with a letter or digit:
//!   `MNIST-7`, `ddp-42`, `sweep_3.lr-0.01`. No spaces, `/`, `:` (the
//!   command line's `RUN:PATH`) or control characters.
//! - **Projects**: 1 to [`MAX_PROJECT_BYTES`] bytes, no control characters,
//!   no leading or trailing whitespace. A run id's key is the project's
//!   letters and digits, upper-cased, at most [`MAX_PROJECT_KEY_BYTES`].
//! - **File names** (File fields, FileSeries points): 1 to
//!   [`MAX_FILE_NAME_BYTES`] bytes, no `/`, no NUL or other control
//!   characters: a name as file systems take it.

use crate::error::{Error, Result};

/// The longest run id, in bytes of UTF-8.
pub const MAX_RUN_ID_BYTES: usize = 128;
/// The longest project name, in bytes of UTF-8.
pub const MAX_PROJECT_BYTES: usize = 256;
/// The longest project key in generated run ids (`MNIST` in `MNIST-7`), in
/// bytes of UTF-8; a longer key is cut at a character boundary.
pub const MAX_PROJECT_KEY_BYTES: usize = 24;
/// The longest file name, in bytes of UTF-8 (what file systems allow).
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// What is wrong with `id` as a run id, if anything.
///
/// ```
/// use hippocamp_core::identity::run_id_problem;
/// assert_eq!(run_id_problem("MNIST-7"), None);
/// assert!(run_id_problem("a b").unwrap().contains("' '"));
/// assert!(run_id_problem("").is_some());
/// ```
pub fn run_id_problem(id: &str) -> Option<String> {
    if id.is_empty() {
        return Some("a run id cannot be empty".into());
    }
    if id.len() > MAX_RUN_ID_BYTES {
        return Some(format!(
            "a run id of {} bytes is longer than the limit of {MAX_RUN_ID_BYTES}",
            id.len()
        ));
    }
    if !id.starts_with(char::is_alphanumeric) {
        return Some(format!(
            "{} starts with {}; a run id starts with a letter or digit",
            quoted(id),
            described(id.chars().next().unwrap_or_default())
        ));
    }
    id.chars()
        .find(|&c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .map(|c| {
            format!(
                "{} holds {}; a run id holds letters, digits, '-', '_' and '.'",
                quoted(id),
                described(c)
            )
        })
}

/// What is wrong with `project` as a project name, if anything.
///
/// ```
/// use hippocamp_core::identity::project_problem;
/// assert_eq!(project_problem("my project"), None);
/// assert!(project_problem(" padded").is_some());
/// ```
pub fn project_problem(project: &str) -> Option<String> {
    if project.trim().is_empty() {
        return Some("a project name cannot be empty or blank".into());
    }
    if project.len() > MAX_PROJECT_BYTES {
        return Some(format!(
            "a project name of {} bytes is longer than the limit of {MAX_PROJECT_BYTES}",
            project.len()
        ));
    }
    if project.trim() != project {
        return Some(format!(
            "{} starts or ends with whitespace",
            quoted(project)
        ));
    }
    project.chars().find(|c| c.is_control()).map(|c| {
        format!(
            "{} holds {}, a control character",
            quoted(project),
            described(c)
        )
    })
}

/// What is wrong with `name` as a stored file's name, if anything.
///
/// ```
/// use hippocamp_core::identity::file_name_problem;
/// assert_eq!(file_name_problem("confusion.png"), None);
/// assert!(file_name_problem("a/b.png").is_some());
/// assert!(file_name_problem("nul\0.bin").is_some());
/// ```
pub fn file_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a file needs a name (its extension tells readers what it holds)".into());
    }
    if name.len() > MAX_FILE_NAME_BYTES {
        return Some(format!(
            "a file name of {} bytes is longer than the limit of {MAX_FILE_NAME_BYTES}",
            name.len()
        ));
    }
    name.chars().find(|&c| c == '/' || c.is_control()).map(|c| {
        format!(
            "the file name {} holds {}; a name holds no '/' or control characters",
            quoted(name),
            described(c)
        )
    })
}

/// Refuses a run id the builder was given.
pub(crate) fn check_run_id(id: &str) -> Result<()> {
    match run_id_problem(id) {
        None => Ok(()),
        Some(detail) => Err(Error::InvalidSetting {
            setting: "run_id",
            detail,
        }),
    }
}

/// Refuses a project the builder was given.
pub(crate) fn check_project(project: &str) -> Result<()> {
    match project_problem(project) {
        None => Ok(()),
        Some(detail) => Err(Error::InvalidSetting {
            setting: "project",
            detail,
        }),
    }
}

/// Refuses a file name for the field at `path`.
pub(crate) fn check_file_name(name: &str, path: impl FnOnce() -> String) -> Result<()> {
    match file_name_problem(name) {
        None => Ok(()),
        Some(detail) => Err(Error::OutOfRange {
            path: path(),
            detail,
        }),
    }
}

/// A name in quotes, cut short when long.
fn quoted(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}

/// A character as a message names it: printable ones quoted, the others
/// by their code point.
fn described(c: char) -> String {
    if c.is_control() || c.is_whitespace() && c != ' ' {
        format!("U+{:04X}", c as u32)
    } else {
        format!("'{c}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids() {
        for ok in ["MNIST-7", "ddp-42", "a", "sweep_3.lr-0.01", "ÜBER-1", "7"] {
            assert_eq!(run_id_problem(ok), None, "{ok}");
        }
        let long = "x".repeat(MAX_RUN_ID_BYTES + 1);
        for bad in ["", "a b", "a/b", "a:b", "a\nb", "a\0b", "-a", ".a", &long] {
            assert!(run_id_problem(bad).is_some(), "{bad:?}");
        }
        assert_eq!(run_id_problem(&long[1..]), None);
        assert!(run_id_problem("a\nb").unwrap().contains("U+000A"));
    }

    #[test]
    fn projects_and_file_names() {
        assert_eq!(project_problem("Image classification: ResNet"), None);
        for bad in [
            "",
            "  ",
            "a\tb",
            " a",
            "a ",
            &"p".repeat(MAX_PROJECT_BYTES + 1),
        ] {
            assert!(project_problem(bad).is_some(), "{bad:?}");
        }
        assert_eq!(file_name_problem("model weights (v2).bin"), None);
        for bad in [
            "",
            "a/b",
            "a\0",
            "a\nb",
            &"f".repeat(MAX_FILE_NAME_BYTES + 1),
        ] {
            assert!(file_name_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn long_names_are_cut_in_messages_at_a_character() {
        let id = format!("{} b", "é".repeat(50));
        let message = run_id_problem(&id).unwrap();
        assert!(message.contains("é\"…"), "{message}");
        assert!(message.len() < 150, "{message}");
    }
}
