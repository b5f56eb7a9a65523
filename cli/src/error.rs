//! The command's one error type: a one-line message and exit code 2.

use std::fmt;

/// A failure of a command, shown as one line on stderr.
///
/// ```
/// let err = hippocamp_cli::CliError::new("no run MNIST-9 (nearest: MNIST-8)");
/// assert_eq!(err.to_string(), "no run MNIST-9 (nearest: MNIST-8)");
/// assert_eq!(err.exit_code(), 2);
/// ```
#[derive(Debug)]
pub struct CliError {
    message: String,
    exit_code: u8,
    /// The reader of our output went away (`hippocamp get … | head`).
    broken_pipe: bool,
}

impl CliError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            exit_code: 2,
            broken_pipe: false,
        }
    }

    /// A finding rather than a failure (`hippocamp check` found damage):
    /// exit code 1, as `diff` and `cmp` use for "differs".
    ///
    /// ```
    /// let err = hippocamp_cli::CliError::finding("2 damaged parts");
    /// assert_eq!(err.exit_code(), 1);
    /// ```
    pub fn finding(message: impl Into<String>) -> CliError {
        CliError {
            exit_code: 1,
            ..CliError::new(message)
        }
    }

    /// Whether the output's reader closed it: not a failure of ours, and
    /// nothing to report.
    pub fn is_broken_pipe(&self) -> bool {
        self.broken_pipe
    }

    /// The process's exit code for it: 2, as for usage errors, or 1 for
    /// a [finding](Self::finding).
    pub fn exit_code(&self) -> u8 {
        self.exit_code
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line: a multi-line cause is folded.
        f.write_str(&self.message.replace('\n', " "))
    }
}

impl std::error::Error for CliError {}

impl CliError {
    /// A core error with its causes, in one line.
    pub fn from_core(err: &hippocamp_core::Error) -> CliError {
        let mut message = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        CliError::new(message)
    }
}

impl From<hippocamp_core::Error> for CliError {
    fn from(err: hippocamp_core::Error) -> Self {
        CliError::from_core(&err)
    }
}

impl From<std::io::Error> for CliError {
    fn from(err: std::io::Error) -> Self {
        CliError {
            broken_pipe: err.kind() == std::io::ErrorKind::BrokenPipe,
            ..CliError::new(err.to_string())
        }
    }
}
