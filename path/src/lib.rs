//! The path grammar of hippocamp, in one place.
//!
//! A run's fields live under `/`-separated paths such as `train/loss`. Both the
//! `log!` macro (at compile time, on string literals) and the core (at run
//! time, on every path a program builds) check paths with this crate, so a
//! path the compiler accepts is never refused at run time and the two can
//! never drift apart.
//!
//! The grammar:
//! - a path is one or more segments separated by `/`;
//! - no segment is empty (so no leading, trailing or doubled `/`);
//! - no segment starts or ends with whitespace;
//! - no character is a control character (`char::is_control`);
//! - the whole path is at most [`MAX_PATH_BYTES`] bytes of UTF-8.
//!
//! Paths are never rewritten: a path that breaks a rule is an error that says
//! which rule and at which byte offset.
//!
//! ```
//! use hippocamp_path::{validate, PathErrorKind};
//!
//! assert!(validate("train/loss").is_ok());
//! let err = validate("train//loss").unwrap_err();
//! assert_eq!(err.kind, PathErrorKind::EmptySegment);
//! assert_eq!(err.offset, 6);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;

pub mod template;

/// The longest path accepted, in bytes of UTF-8.
pub const MAX_PATH_BYTES: usize = 1024;

/// The separator between the segments of a path.
pub const SEPARATOR: char = '/';

/// Why a path was refused, and where.
///
/// ```
/// let err = hippocamp_path::validate("a/ b").unwrap_err();
/// assert_eq!(err.to_string(), "segment starts with whitespace at byte 2");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    /// Byte offset in the path where the problem is.
    pub offset: usize,
    /// Which rule the path breaks.
    pub kind: PathErrorKind,
}

/// The rule a path breaks.
///
/// ```
/// use hippocamp_path::{validate, PathErrorKind};
/// assert_eq!(validate("").unwrap_err().kind, PathErrorKind::Empty);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathErrorKind {
    /// The path is the empty string.
    Empty,
    /// The path starts with `/` (paths are relative to a run or namespace).
    LeadingSeparator,
    /// The path ends with `/`.
    TrailingSeparator,
    /// Two `/` follow each other.
    EmptySegment,
    /// A segment starts with whitespace.
    LeadingWhitespace,
    /// A segment ends with whitespace.
    TrailingWhitespace,
    /// A control character (newline, tab, NUL, …).
    ControlCharacter(char),
    /// The path is longer than [`MAX_PATH_BYTES`]; the field is its length.
    TooLong(usize),
    /// A segment was expected, but the text contains `/`.
    SeparatorInSegment,
}

impl fmt::Display for PathErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathErrorKind::Empty => f.write_str("path is empty"),
            PathErrorKind::LeadingSeparator => f.write_str("path starts with `/`"),
            PathErrorKind::TrailingSeparator => f.write_str("path ends with `/`"),
            PathErrorKind::EmptySegment => f.write_str("empty segment (`//`)"),
            PathErrorKind::LeadingWhitespace => f.write_str("segment starts with whitespace"),
            PathErrorKind::TrailingWhitespace => f.write_str("segment ends with whitespace"),
            PathErrorKind::ControlCharacter(c) => {
                write!(f, "control character {:?}", c)
            }
            PathErrorKind::TooLong(len) => write!(
                f,
                "path is {len} bytes long, longer than the limit of {MAX_PATH_BYTES} bytes"
            ),
            PathErrorKind::SeparatorInSegment => f.write_str("a segment cannot contain `/`"),
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for PathError {}

impl PathError {
    fn at(offset: usize, kind: PathErrorKind) -> Self {
        PathError { offset, kind }
    }

    /// The error for a path longer than [`MAX_PATH_BYTES`]: its offset is
    /// where the first character that does not fit the limit starts
    /// (always a character boundary, also when a multi-byte character
    /// straddles the limit).
    ///
    /// ```
    /// use hippocamp_path::{PathError, PathErrorKind, MAX_PATH_BYTES};
    /// // 1023 bytes, then `é` (2 bytes) across the limit.
    /// let path = format!("{}é", "a".repeat(MAX_PATH_BYTES - 1));
    /// let err = PathError::too_long(&path);
    /// assert_eq!(err.kind, PathErrorKind::TooLong(MAX_PATH_BYTES + 1));
    /// assert_eq!(err.offset, MAX_PATH_BYTES - 1);
    /// assert!(path.is_char_boundary(err.offset));
    /// ```
    pub fn too_long(path: &str) -> Self {
        // The largest character boundary at or below the limit.
        let mut offset = MAX_PATH_BYTES.min(path.len());
        while !path.is_char_boundary(offset) {
            offset -= 1;
        }
        PathError::at(offset, PathErrorKind::TooLong(path.len()))
    }
}

/// Checks a whole path against the grammar.
///
/// ```
/// assert!(hippocamp_path::validate("params/optimizer/name").is_ok());
/// assert!(hippocamp_path::validate("/params").is_err());
/// ```
pub fn validate(path: &str) -> Result<(), PathError> {
    if path.is_empty() {
        return Err(PathError::at(0, PathErrorKind::Empty));
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(PathError::too_long(path));
    }
    if path.starts_with(SEPARATOR) {
        return Err(PathError::at(0, PathErrorKind::LeadingSeparator));
    }
    if path.ends_with(SEPARATOR) {
        return Err(PathError::at(
            path.len() - 1,
            PathErrorKind::TrailingSeparator,
        ));
    }
    let mut start = 0;
    for segment in path.split(SEPARATOR) {
        check_segment_at(segment, start)?;
        start += segment.len() + 1;
    }
    Ok(())
}

/// Checks one segment (a name between two `/`), as used by `rename`.
///
/// ```
/// assert!(hippocamp_path::validate_segment("batch").is_ok());
/// assert!(hippocamp_path::validate_segment("a/b").is_err());
/// ```
pub fn validate_segment(segment: &str) -> Result<(), PathError> {
    if segment.is_empty() {
        return Err(PathError::at(0, PathErrorKind::Empty));
    }
    if segment.len() > MAX_PATH_BYTES {
        return Err(PathError::too_long(segment));
    }
    if let Some(offset) = segment.find(SEPARATOR) {
        return Err(PathError::at(offset, PathErrorKind::SeparatorInSegment));
    }
    check_segment_at(segment, 0)
}

/// Checks one segment that starts at byte `start` of its path.
fn check_segment_at(segment: &str, start: usize) -> Result<(), PathError> {
    if segment.is_empty() {
        // `start` is where the missing name should be: the second `/`.
        return Err(PathError::at(start, PathErrorKind::EmptySegment));
    }
    for (i, c) in segment.char_indices() {
        if c.is_control() {
            return Err(PathError::at(start + i, PathErrorKind::ControlCharacter(c)));
        }
    }
    if segment.starts_with(char::is_whitespace) {
        return Err(PathError::at(start, PathErrorKind::LeadingWhitespace));
    }
    if let Some(last) = segment.chars().next_back() {
        if last.is_whitespace() {
            let offset = start + segment.len() - last.len_utf8();
            return Err(PathError::at(offset, PathErrorKind::TrailingWhitespace));
        }
    }
    Ok(())
}

/// The segments of a path that [`validate`] accepted.
///
/// ```
/// let s: Vec<_> = hippocamp_path::segments("a/b/c").collect();
/// assert_eq!(s, ["a", "b", "c"]);
/// ```
pub fn segments(path: &str) -> std::str::Split<'_, char> {
    path.split(SEPARATOR)
}

/// Joins a base path and a relative path; either may be empty (the root).
///
/// ```
/// assert_eq!(hippocamp_path::join("train", "loss"), "train/loss");
/// assert_eq!(hippocamp_path::join("", "loss"), "loss");
/// ```
pub fn join(base: &str, relative: &str) -> String {
    match (base.is_empty(), relative.is_empty()) {
        (true, _) => relative.to_owned(),
        (_, true) => base.to_owned(),
        _ => {
            let mut joined = String::with_capacity(base.len() + 1 + relative.len());
            joined.push_str(base);
            joined.push(SEPARATOR);
            joined.push_str(relative);
            joined
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(path: &str) -> PathErrorKind {
        validate(path).unwrap_err().kind
    }

    #[test]
    fn accepts_ordinary_paths() {
        for p in [
            "a",
            "train/loss",
            "cv/fold_0/acc",
            "params/learning rate",
            "métriques/précision",
            "a.b-c/d e/ß",
            "0/1/2",
        ] {
            assert_eq!(validate(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn refuses_each_rule_with_its_offset() {
        let cases: &[(&str, PathErrorKind, usize)] = &[
            ("", PathErrorKind::Empty, 0),
            ("/a", PathErrorKind::LeadingSeparator, 0),
            ("a/", PathErrorKind::TrailingSeparator, 1),
            ("a//b", PathErrorKind::EmptySegment, 2),
            ("a/ b", PathErrorKind::LeadingWhitespace, 2),
            ("a/b /c", PathErrorKind::TrailingWhitespace, 3),
            ("a/b\nc", PathErrorKind::ControlCharacter('\n'), 3),
            ("\ta", PathErrorKind::ControlCharacter('\t'), 0),
            ("a/\u{7f}", PathErrorKind::ControlCharacter('\u{7f}'), 2),
        ];
        for (path, expected, offset) in cases {
            let err = validate(path).unwrap_err();
            assert_eq!(&err.kind, expected, "{path:?}");
            assert_eq!(err.offset, *offset, "{path:?}");
        }
    }

    #[test]
    fn length_limit_is_inclusive() {
        let ok = "a".repeat(MAX_PATH_BYTES);
        assert_eq!(validate(&ok), Ok(()));
        let long = "a".repeat(MAX_PATH_BYTES + 1);
        assert_eq!(kind(&long), PathErrorKind::TooLong(MAX_PATH_BYTES + 1));
    }

    #[test]
    fn the_too_long_offset_is_a_character_boundary() {
        // A character of 2, 3 and 4 bytes starting at each byte just
        // below the limit, so that it straddles it or ends on it.
        for c in ['é', '€', '𝄞'] {
            for before in MAX_PATH_BYTES - 4..=MAX_PATH_BYTES {
                let path = format!("{}{c}bbbbb", "a".repeat(before));
                let err = validate(&path).unwrap_err();
                assert_eq!(err.kind, PathErrorKind::TooLong(path.len()), "{before} {c}");
                assert!(path.is_char_boundary(err.offset), "{before} {c}");
                // The character at the offset is the first that does not
                // fit: everything before it does (after `c` come ASCII
                // letters, so when `c` fits, the limit itself).
                let fits = before + c.len_utf8() <= MAX_PATH_BYTES;
                let expected = if fits { MAX_PATH_BYTES } else { before };
                assert_eq!(err.offset, expected, "{before} {c}");
                let segment = validate_segment(&path).unwrap_err();
                assert_eq!(segment, err);
            }
        }
        // An ASCII path: the limit itself.
        let long = "a".repeat(MAX_PATH_BYTES + 1);
        assert_eq!(validate(&long).unwrap_err().offset, MAX_PATH_BYTES);
    }

    #[test]
    fn trailing_multibyte_whitespace_offset_is_its_first_byte() {
        // U+3000 IDEOGRAPHIC SPACE is three bytes.
        let err = validate("ab\u{3000}").unwrap_err();
        assert_eq!(err.kind, PathErrorKind::TrailingWhitespace);
        assert_eq!(err.offset, 2);
    }

    #[test]
    fn segments_refuse_separators() {
        assert_eq!(
            validate_segment("a/b").unwrap_err().kind,
            PathErrorKind::SeparatorInSegment
        );
        assert_eq!(validate_segment("").unwrap_err().kind, PathErrorKind::Empty);
        assert_eq!(
            validate_segment(" a").unwrap_err().kind,
            PathErrorKind::LeadingWhitespace
        );
        assert_eq!(validate_segment("batch"), Ok(()));
    }

    #[test]
    fn messages_name_rule_and_offset() {
        assert_eq!(
            validate("a//b").unwrap_err().to_string(),
            "empty segment (`//`) at byte 2"
        );
    }
}
