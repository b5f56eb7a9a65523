//! Path templates: paths with `{name}` placeholders, as `log!` accepts them.
//!
//! A template such as `"cv/fold_{fold}/acc"` is a path in which `{ident}`
//! stands for the `Display` of a variable in scope, the way `format!`
//! captures identifiers. `{{` and `}}` stand for literal braces.
//!
//! The macro checks a template at compile time with [`parse`]: the braces
//! must balance, each placeholder must be an identifier, and the literal
//! text must obey the path grammar with every placeholder standing for a
//! plain name. What a placeholder renders to is only known at run time, so
//! the rendered path is checked again there (a value that renders as `""`
//! or contains `/` is refused then, never rewritten).
//!
//! ```
//! use hippocamp_path::template::{parse, Piece};
//!
//! let t = parse("cv/fold_{fold}/acc").unwrap();
//! assert_eq!(t.pieces, vec![
//!     Piece::Literal("cv/fold_".into()),
//!     Piece::Placeholder { name: "fold".into(), offset: 8 },
//!     Piece::Literal("/acc".into()),
//! ]);
//! ```

use std::fmt;

use crate::{validate, PathError};

/// A parsed path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Literal text and placeholders, in order.
    pub pieces: Vec<Piece>,
}

impl Template {
    /// Whether the template has no placeholder (it is a plain path).
    ///
    /// ```
    /// assert!(hippocamp_path::template::parse("a/b").unwrap().is_literal());
    /// ```
    pub fn is_literal(&self) -> bool {
        self.pieces.iter().all(|p| matches!(p, Piece::Literal(_)))
    }
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text taken as it is (braces already unescaped).
    Literal(String),
    /// `{name}`: the `Display` of the variable `name`.
    Placeholder {
        /// The identifier between the braces.
        name: String,
        /// Byte offset of the `{` in the template.
        offset: usize,
    },
}

/// Why a template was refused.
///
/// ```
/// let err = hippocamp_path::template::parse("a/{b").unwrap_err();
/// assert_eq!(err.to_string(), "unclosed `{` at byte 2 (write `{{` for a literal brace)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// A `{` without its `}`.
    UnclosedBrace {
        /// Byte offset of the `{`.
        offset: usize,
    },
    /// A `}` that closes nothing.
    UnmatchedClose {
        /// Byte offset of the `}`.
        offset: usize,
    },
    /// What stands between the braces is not an identifier.
    BadPlaceholder {
        /// Byte offset of the `{`.
        offset: usize,
        /// The text between the braces.
        text: String,
    },
    /// The literal text breaks the path grammar.
    Path(PathError),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::UnclosedBrace { offset } => write!(
                f,
                "unclosed `{{` at byte {offset} (write `{{{{` for a literal brace)"
            ),
            TemplateError::UnmatchedClose { offset } => write!(
                f,
                "unmatched `}}` at byte {offset} (write `}}}}` for a literal brace)"
            ),
            TemplateError::BadPlaceholder { offset, text } => write!(
                f,
                "placeholder `{{{text}}}` at byte {offset} is not an identifier \
                 (only `{{name}}` of a variable in scope is supported)"
            ),
            TemplateError::Path(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for TemplateError {}

/// Parses and checks a template; see the [module docs](self).
///
/// ```
/// use hippocamp_path::template::{parse, TemplateError};
/// assert!(parse("runs/{name}/loss").is_ok());
/// assert!(matches!(parse("a//{b}"), Err(TemplateError::Path(_))));
/// ```
pub fn parse(template: &str) -> Result<Template, TemplateError> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    // The template with each placeholder replaced by a plain name, and for
    // each of its bytes the template offset it came from, so that a grammar
    // error is reported where the user wrote it.
    let mut probe = String::with_capacity(template.len());
    let mut origin = Vec::with_capacity(template.len() + 1);

    let bytes = template.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' if bytes.get(i + 1) == Some(&b'{') => {
                literal.push('{');
                probe.push('{');
                origin.push(i);
                i += 2;
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => {
                literal.push('}');
                probe.push('}');
                origin.push(i);
                i += 2;
            }
            b'{' => {
                let close = template[i + 1..]
                    .find('}')
                    .ok_or(TemplateError::UnclosedBrace { offset: i })?;
                let text = &template[i + 1..i + 1 + close];
                if !is_identifier(text) {
                    return Err(TemplateError::BadPlaceholder {
                        offset: i,
                        text: text.to_owned(),
                    });
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Placeholder {
                    name: text.to_owned(),
                    offset: i,
                });
                probe.push('x');
                origin.push(i);
                i += close + 2;
            }
            b'}' => return Err(TemplateError::UnmatchedClose { offset: i }),
            _ => {
                // Copy one whole character (the template is valid UTF-8).
                let c = template[i..].chars().next().unwrap_or('\u{fffd}');
                literal.push(c);
                probe.push(c);
                origin.extend(std::iter::repeat_n(i, c.len_utf8()));
                i += c.len_utf8();
            }
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    origin.push(template.len());

    if let Err(err) = validate(&probe) {
        // For a path too long, where the probe's limit falls in the
        // template (the rendered length is only known at run time).
        let offset = origin.get(err.offset).copied().unwrap_or(template.len());
        return Err(TemplateError::Path(PathError {
            offset,
            kind: err.kind,
        }));
    }
    Ok(Template { pieces })
}

/// Whether `text` is a Rust identifier (ASCII letters, digits and `_`, or
/// alphabetic characters, not starting with a digit).
fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) if c == '_' || c.is_alphabetic() => {}
        _ => return false,
    }
    text != "_" && chars.all(|c| c == '_' || c.is_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PathErrorKind;

    #[test]
    fn plain_path_is_one_literal() {
        let t = parse("train/loss").unwrap();
        assert_eq!(t.pieces, vec![Piece::Literal("train/loss".into())]);
        assert!(t.is_literal());
    }

    #[test]
    fn escaped_braces_are_literal() {
        let t = parse("a/{{x}}").unwrap();
        assert_eq!(t.pieces, vec![Piece::Literal("a/{x}".into())]);
    }

    #[test]
    fn placeholders_may_form_whole_segments() {
        let t = parse("{a}/{b}").unwrap();
        assert_eq!(t.pieces.len(), 3);
        assert!(!t.is_literal());
    }

    #[test]
    fn brace_errors() {
        assert_eq!(
            parse("a/{b").unwrap_err(),
            TemplateError::UnclosedBrace { offset: 2 }
        );
        assert_eq!(
            parse("a/b}").unwrap_err(),
            TemplateError::UnmatchedClose { offset: 3 }
        );
        assert!(matches!(
            parse("a/{1x}").unwrap_err(),
            TemplateError::BadPlaceholder { offset: 2, .. }
        ));
        assert!(matches!(
            parse("a/{}").unwrap_err(),
            TemplateError::BadPlaceholder { .. }
        ));
        assert!(matches!(
            parse("a/{x.y}").unwrap_err(),
            TemplateError::BadPlaceholder { .. }
        ));
    }

    #[test]
    fn grammar_errors_point_into_the_template() {
        // The empty segment is after the placeholder: byte 2 of the probe
        // "x//x" is byte 7 of the template once offsets are mapped back.
        let err = parse("{fold}//x").unwrap_err();
        assert_eq!(
            err,
            TemplateError::Path(PathError {
                offset: 7,
                kind: PathErrorKind::EmptySegment
            })
        );
        let err = parse("é/ {x}").unwrap_err();
        assert_eq!(
            err,
            TemplateError::Path(PathError {
                offset: 3,
                kind: PathErrorKind::LeadingWhitespace
            })
        );
    }

    #[test]
    fn a_too_long_template_points_at_a_character_of_it() {
        // `{{` is one byte of the rendered path, two of the template; `é`
        // straddles the limit.
        let template = format!("{{{{{}é", "a".repeat(crate::MAX_PATH_BYTES - 2));
        let Err(TemplateError::Path(err)) = parse(&template) else {
            panic!("a template over the limit is refused")
        };
        assert!(matches!(err.kind, PathErrorKind::TooLong(_)));
        assert!(template.is_char_boundary(err.offset));
        assert_eq!(&template[err.offset..], "é");
    }
}
