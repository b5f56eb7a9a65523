//! The `where` language of the runs table (`hippocamp ls --where`, the web
//! UI's filter): conditions on field paths.
//!
//! ```text
//! params/lr > 0.001 and params/optimizer/name = "adam"
//! not (sys/tags = "draft") and (train/loss < 0.1 or eval/acc >= 0.9)
//! ```
//!
//! # Grammar
//!
//! ```text
//! expr       := or
//! or         := and ( "or" and )*
//! and        := not ( "and" not )*
//! not        := "not" not | "(" expr ")" | comparison
//! comparison := path op value
//! op         := "=" | "==" | "!=" | "<" | "<=" | ">" | ">="
//! value      := number | "string" | 'string' | true | false
//! path       := a field path written bare (params/lr), or in backticks
//!               when it has spaces or operator characters (`my field/x`)
//! ```
//!
//! Keywords (`and`, `or`, `not`, `true`, `false`) are lowercase or
//! uppercase. Numbers are what Rust reads as an `f64` (`3`, `-0.5`, `1e-3`,
//! `inf`, `nan`). Strings take the escapes `\"`, `\'`, `\\`, `\n`, `\t`.
//! A malformed expression is an error that gives the byte offset (from 0)
//! where it goes wrong: `expected a value after '>' at byte 12`.
//!
//! # Meaning
//!
//! - A comparison reads the field at its path: an atom's value, a series'
//!   last value, a StringSet's items.
//! - Ints and Floats compare as numbers, strings by their bytes, a
//!   Datetime with an RFC 3339 string or a date
//!   (`sys/creation_time > "2024-05-01T12:00:00Z"`, `… < "2024-05-02"`).
//!   A StringSet `= "x"` when it contains `x` (`sys/tags = "baseline"`),
//!   `!= "x"` when it does not. NaN is equal only to `nan`.
//! - A value of another type than the literal is unequal to it (`!=`
//!   holds), and neither below nor above it.
//! - A run missing the field (or a series with no point) does not match:
//!   such a comparison is *unknown*, and `not`, `and`, `or` follow SQL's
//!   three-valued logic, so `not params/lr > 0.1` does not match a run
//!   without `params/lr` either. A run matches when the whole expression
//!   is true.

use std::cmp::Ordering;
use std::fmt;
use std::time::SystemTime;

use crate::value::Value;

/// A parsed `--where` expression.
///
/// ```
/// use hippocamp_core::filter::Expr;
/// use hippocamp_core::Value;
/// let expr = Expr::parse(r#"params/lr > 0.001 and params/optimizer/name = "adam""#)?;
/// assert_eq!(expr.paths(), ["params/lr", "params/optimizer/name"]);
/// let run = |path: &str| -> Result<Option<Value>, ()> {
///     Ok(match path {
///         "params/lr" => Some(Value::Float(0.01)),
///         "params/optimizer/name" => Some(Value::String("adam".into())),
///         _ => None,
///     })
/// };
/// assert!(expr.matches(run).unwrap());
/// # Ok::<(), hippocamp_core::filter::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All of them hold (two or more).
    And(Vec<Expr>),
    /// One of them holds (two or more).
    Or(Vec<Expr>),
    /// The inner expression does not hold (unknown stays unknown).
    Not(Box<Expr>),
    /// A field compared with a value.
    Compare {
        /// The field's path.
        path: String,
        /// The comparison.
        op: Op,
        /// The value compared with.
        value: Literal,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=` or `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    /// Whether `a op b` holds when `a.cmp(b)` is `ordering`.
    ///
    /// ```
    /// use hippocamp_core::filter::Op;
    /// use std::cmp::Ordering;
    /// assert!(Op::Le.holds(Ordering::Less) && !Op::Gt.holds(Ordering::Equal));
    /// ```
    pub fn holds(self, ordering: Ordering) -> bool {
        match self {
            Op::Eq => ordering == Ordering::Equal,
            Op::Ne => ordering != Ordering::Equal,
            Op::Lt => ordering == Ordering::Less,
            Op::Le => ordering != Ordering::Greater,
            Op::Gt => ordering == Ordering::Greater,
            Op::Ge => ordering != Ordering::Less,
        }
    }

    /// How it is written.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// A value written in an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A number; `exact` is set when it was written as an integer that
    /// fits `i64`, so that Ints compare exactly.
    Number {
        /// Its value.
        value: f64,
        /// The integer it was written as, if it was one.
        exact: Option<i64>,
    },
    /// A quoted string.
    String(String),
    /// `true` or `false`.
    Bool(bool),
}

/// What is wrong with an expression, and at which byte (from 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Where it goes wrong: a byte offset in the expression.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

impl std::error::Error for ParseError {}

/// How deep parentheses and `not`s may nest: 64 levels are accepted,
/// deeper input is refused rather than risking the stack.
pub const MAX_DEPTH: usize = 64;

impl Expr {
    /// Parses an expression; see the module's documentation for the
    /// grammar.
    pub fn parse(source: &str) -> Result<Expr, ParseError> {
        let tokens = tokenize(source)?;
        let mut parser = Parser {
            tokens,
            pos: 0,
            end: source.len(),
        };
        let expr = parser.or(0)?;
        match parser.peek() {
            None => Ok(expr),
            Some(token) => Err(match &token.kind {
                Kind::RParen => ParseError {
                    offset: token.offset,
                    message: "unexpected ')' with no '(' to close".into(),
                },
                _ => ParseError {
                    offset: token.offset,
                    message: format!(
                        "expected `and`, `or` or the end, found {}",
                        token.kind.describe()
                    ),
                },
            }),
        }
    }

    /// The field paths it reads, in order of appearance, each once.
    pub fn paths(&self) -> Vec<&str> {
        fn walk<'a>(expr: &'a Expr, out: &mut Vec<&'a str>) {
            match expr {
                Expr::And(all) | Expr::Or(all) => {
                    for e in all {
                        walk(e, out);
                    }
                }
                Expr::Not(inner) => walk(inner, out),
                Expr::Compare { path, .. } => {
                    if !out.contains(&path.as_str()) {
                        out.push(path);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }

    /// Whether a run matches: `field` gives the value at a path (an
    /// atom's, a series' last), or `None` when the run has none there.
    /// Fields are read only as far as the answer needs them.
    pub fn matches<E>(
        &self,
        mut field: impl FnMut(&str) -> Result<Option<Value>, E>,
    ) -> Result<bool, E> {
        Ok(self.eval(&mut field)? == Truth::True)
    }

    fn eval<E>(&self, field: &mut dyn FnMut(&str) -> Result<Option<Value>, E>) -> Result<Truth, E> {
        Ok(match self {
            Expr::And(all) => {
                let mut truth = Truth::True;
                for e in all {
                    truth = truth.and(e.eval(field)?);
                    if truth == Truth::False {
                        break;
                    }
                }
                truth
            }
            Expr::Or(all) => {
                let mut truth = Truth::False;
                for e in all {
                    truth = truth.or(e.eval(field)?);
                    if truth == Truth::True {
                        break;
                    }
                }
                truth
            }
            Expr::Not(inner) => inner.eval(field)?.not(),
            Expr::Compare { path, op, value } => match field(path)? {
                None => Truth::Unknown,
                Some(found) => compare(&found, *op, value),
            },
        })
    }
}

/// Three-valued logic: a comparison on a missing field is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn of(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }

    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }

    fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }

    fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }
}

/// The truth of `found op literal`.
fn compare(found: &Value, op: Op, literal: &Literal) -> Truth {
    let ordered = |ordering: Option<Ordering>| match ordering {
        None => Truth::Unknown,
        Some(o) => Truth::of(op.holds(o)),
    };
    let equality_only = |equal: bool| match op {
        Op::Eq => Truth::of(equal),
        Op::Ne => Truth::of(!equal),
        _ => Truth::Unknown,
    };
    match (found, literal) {
        (Value::Int(i), Literal::Number { exact: Some(n), .. }) => ordered(Some(i.cmp(n))),
        (Value::Int(i), Literal::Number { value, .. }) => compare_floats(*i as f64, op, *value),
        (Value::Float(x), Literal::Number { value, .. }) => compare_floats(*x, op, *value),
        (Value::String(s), Literal::String(t)) => ordered(Some(s.as_str().cmp(t.as_str()))),
        (Value::Bool(b), Literal::Bool(c)) => equality_only(b == c),
        (Value::Datetime(t), Literal::String(s)) => match parse_time(s) {
            Some(wanted) => ordered(Some(t.cmp(&wanted))),
            None => Truth::Unknown,
        },
        (Value::StringSet(items), Literal::String(s)) => equality_only(items.contains(s)),
        // Another type than the literal's: unequal, and not ordered.
        _ => equality_only(false),
    }
}

/// Floats compare as numbers, except that NaN equals NaN (so `= nan`
/// finds them) and is neither below nor above anything.
fn compare_floats(x: f64, op: Op, y: f64) -> Truth {
    if x.is_nan() || y.is_nan() {
        let equal = x.is_nan() && y.is_nan();
        return match op {
            Op::Eq => Truth::of(equal),
            Op::Ne => Truth::of(!equal),
            _ => Truth::Unknown,
        };
    }
    match x.partial_cmp(&y) {
        Some(o) => Truth::of(op.holds(o)),
        None => Truth::Unknown,
    }
}

/// An RFC 3339 time (`2024-05-01T12:00:00Z`, the `T` may be a space and
/// the `Z` left out), or a date alone (`2024-05-01`, midnight UTC).
fn parse_time(s: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(s)
        .or_else(|_| humantime::parse_rfc3339_weak(&format!("{s}T00:00:00Z")))
        .ok()
}

// ---- tokens --------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    LParen,
    RParen,
    Op(Op),
    /// A quoted string.
    Str(String),
    /// A path in backticks.
    Quoted(String),
    /// A bare word: a path, a number or a keyword.
    Word(String),
}

impl Kind {
    fn describe(&self) -> String {
        match self {
            Kind::LParen => "'('".into(),
            Kind::RParen => "')'".into(),
            Kind::Op(op) => format!("'{}'", op.symbol()),
            Kind::Str(s) => format!("the string {s:?}"),
            Kind::Quoted(s) => format!("`{s}`"),
            Kind::Word(w) => format!("`{w}`"),
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self, Kind::Word(w) if is_keyword(w, keyword))
    }
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    offset: usize,
}

/// Whether `word` is `keyword` (given lowercase), in lowercase or uppercase.
fn is_keyword(word: &str, keyword: &str) -> bool {
    word == keyword || word == keyword.to_ascii_uppercase()
}

/// Characters that end a bare word.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '=' | '!' | '<' | '>' | '"' | '\'' | '`')
}

fn tokenize(source: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = source.char_indices().peekable();
    while let Some(&(offset, c)) = chars.peek() {
        let token = |kind| Token { kind, offset };
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' => {
                chars.next();
                tokens.push(token(if c == '(' { Kind::LParen } else { Kind::RParen }));
            }
            '=' | '!' | '<' | '>' => {
                chars.next();
                let then_eq = chars.next_if(|&(_, n)| n == '=').is_some();
                let op = match (c, then_eq) {
                    ('=', _) => Op::Eq,
                    ('!', true) => Op::Ne,
                    ('!', false) => {
                        return Err(ParseError {
                            offset,
                            message: "unexpected '!' (write `!=`, or `not` to negate)".into(),
                        })
                    }
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    _ => Op::Ge,
                };
                tokens.push(token(Kind::Op(op)));
            }
            '"' | '\'' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        None => {
                            return Err(ParseError {
                                offset,
                                message: "unterminated string".into(),
                            })
                        }
                        Some((_, q)) if q == c => break,
                        Some((at, '\\')) => match chars.next() {
                            Some((_, '"')) => text.push('"'),
                            Some((_, '\'')) => text.push('\''),
                            Some((_, '\\')) => text.push('\\'),
                            Some((_, 'n')) => text.push('\n'),
                            Some((_, 't')) => text.push('\t'),
                            Some((_, other)) => {
                                return Err(ParseError {
                                    offset: at,
                                    message: format!(
                                        "unknown escape `\\{other}` in a string \
                                         (known: \\\" \\' \\\\ \\n \\t)"
                                    ),
                                })
                            }
                            None => {
                                return Err(ParseError {
                                    offset,
                                    message: "unterminated string".into(),
                                })
                            }
                        },
                        Some((_, ch)) => text.push(ch),
                    }
                }
                tokens.push(token(Kind::Str(text)));
            }
            '`' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        None => {
                            return Err(ParseError {
                                offset,
                                message: "unterminated `quoted path`".into(),
                            })
                        }
                        Some((_, '`')) => break,
                        Some((_, ch)) => text.push(ch),
                    }
                }
                tokens.push(token(Kind::Quoted(text)));
            }
            _ => {
                let mut word = String::new();
                while let Some((_, ch)) = chars.next_if(|&(_, ch)| !ends_word(ch)) {
                    word.push(ch);
                }
                tokens.push(token(Kind::Word(word)));
            }
        }
    }
    Ok(tokens)
}

// ---- the recursive descent -------------------------------------------------

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// The expression's length: where "the end" is.
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    /// The offset of the next token, or the end.
    fn here(&self) -> usize {
        self.peek().map_or(self.end, |t| t.offset)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        if token.is_some() {
            self.pos += 1;
        }
        token
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        self.peek().is_some_and(|t| t.kind.is_keyword(keyword))
    }

    fn or(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let mut all = vec![self.and(depth)?];
        while self.at_keyword("or") {
            self.next();
            all.push(self.and(depth)?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Expr::Or(all)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let mut all = vec![self.not(depth)?];
        while self.at_keyword("and") {
            self.next();
            all.push(self.not(depth)?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Expr::And(all)
        })
    }

    /// `depth` counts the parentheses and `not`s around this term; the
    /// one that would make it `MAX_DEPTH + 1` is refused, at its offset.
    fn not(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let opens = self.at_keyword("not")
            || matches!(
                self.peek(),
                Some(Token {
                    kind: Kind::LParen,
                    ..
                })
            );
        if opens && depth >= MAX_DEPTH {
            return Err(ParseError {
                offset: self.here(),
                message: format!("more than {MAX_DEPTH} nested `not`s or parentheses"),
            });
        }
        if self.at_keyword("not") {
            self.next();
            return Ok(Expr::Not(Box::new(self.not(depth + 1)?)));
        }
        if matches!(
            self.peek(),
            Some(Token {
                kind: Kind::LParen,
                ..
            })
        ) {
            let open = self.here();
            self.next();
            let inner = self.or(depth + 1)?;
            return match self.next() {
                Some(Token {
                    kind: Kind::RParen, ..
                }) => Ok(inner),
                Some(token) => Err(ParseError {
                    offset: token.offset,
                    message: format!(
                        "expected `and`, `or` or ')' closing the '(' at byte {open}, found {}",
                        token.kind.describe()
                    ),
                }),
                None => Err(ParseError {
                    offset: self.end,
                    message: format!("expected ')' closing the '(' at byte {open}"),
                }),
            };
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let offset = self.here();
        let (path, quoted) = match self.next() {
            Some(Token {
                kind: Kind::Word(w),
                ..
            }) if !["and", "or", "true", "false"]
                .iter()
                .any(|k| is_keyword(&w, k)) =>
            {
                (w, false)
            }
            Some(Token {
                kind: Kind::Quoted(p),
                ..
            }) => (p, true),
            Some(Token {
                kind: Kind::Str(_), ..
            }) => {
                return Err(ParseError {
                    offset,
                    message: "expected a field path, found a string \
                              (a comparison starts with the path: params/name = \"adam\")"
                        .into(),
                })
            }
            Some(Token {
                kind: Kind::RParen, ..
            }) => {
                return Err(ParseError {
                    offset,
                    message: "expected a field path, found ')'".into(),
                })
            }
            Some(token) => {
                return Err(ParseError {
                    offset,
                    message: format!("expected a field path, found {}", token.kind.describe()),
                })
            }
            None if offset == 0 || self.tokens.is_empty() => {
                return Err(ParseError {
                    offset,
                    message: "expected a field path (the expression is empty)".into(),
                })
            }
            None => {
                return Err(ParseError {
                    offset,
                    message: "expected a field path".into(),
                })
            }
        };
        if let Err(err) = hippocamp_path::validate(&path) {
            // Inside backticks the path starts one byte later.
            let start = if quoted { offset + 1 } else { offset };
            return Err(ParseError {
                offset: start + err.offset,
                message: format!("invalid field path `{path}`: {}", err.kind),
            });
        }
        let op = match self.peek() {
            Some(Token {
                kind: Kind::Op(op), ..
            }) => *op,
            other => {
                let found = other
                    .map(|t| format!(", found {}", t.kind.describe()))
                    .unwrap_or_default();
                return Err(ParseError {
                    offset: self.here(),
                    message: format!(
                        "expected a comparison (= != < <= > >=) after `{path}`{found}"
                    ),
                });
            }
        };
        self.next();
        let after = format!("expected a value after '{}'", op.symbol());
        let offset = self.here();
        let value = match self.next() {
            Some(Token {
                kind: Kind::Str(s), ..
            }) => Literal::String(s),
            Some(Token {
                kind: Kind::Word(w),
                ..
            }) => literal_word(&w).ok_or_else(|| ParseError {
                offset,
                message: format!(
                    "{after}: `{w}` is not a number, a \"string\", true or false \
                     (quote strings)"
                ),
            })?,
            Some(token) => {
                return Err(ParseError {
                    offset,
                    message: format!("{after}, found {}", token.kind.describe()),
                })
            }
            None => {
                return Err(ParseError {
                    offset,
                    message: after,
                })
            }
        };
        Ok(Expr::Compare { path, op, value })
    }
}

/// A bare word as a value: true, false, or a number.
fn literal_word(word: &str) -> Option<Literal> {
    if is_keyword(word, "true") {
        return Some(Literal::Bool(true));
    }
    if is_keyword(word, "false") {
        return Some(Literal::Bool(false));
    }
    let value: f64 = word.parse().ok()?;
    Some(Literal::Number {
        value,
        exact: word.parse::<i64>().ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn err(source: &str) -> String {
        Expr::parse(source).unwrap_err().to_string()
    }

    fn cmp(path: &str, op: Op, value: Literal) -> Expr {
        Expr::Compare {
            path: path.into(),
            op,
            value,
        }
    }

    fn num(value: f64) -> Literal {
        Literal::Number { value, exact: None }
    }

    #[test]
    fn parses_the_example() {
        let expr = Expr::parse(r#"params/lr > 0.001 and params/optimizer/name = "adam""#).unwrap();
        assert_eq!(
            expr,
            Expr::And(vec![
                cmp("params/lr", Op::Gt, num(0.001)),
                cmp(
                    "params/optimizer/name",
                    Op::Eq,
                    Literal::String("adam".into())
                ),
            ])
        );
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_tighter_than_and() {
        let expr = Expr::parse("a = 1 or not b = 2 and c = 3").unwrap();
        let one = Literal::Number {
            value: 1.0,
            exact: Some(1),
        };
        let two = Literal::Number {
            value: 2.0,
            exact: Some(2),
        };
        let three = Literal::Number {
            value: 3.0,
            exact: Some(3),
        };
        assert_eq!(
            expr,
            Expr::Or(vec![
                cmp("a", Op::Eq, one),
                Expr::And(vec![
                    Expr::Not(Box::new(cmp("b", Op::Eq, two))),
                    cmp("c", Op::Eq, three),
                ]),
            ])
        );
    }

    #[test]
    fn parentheses_group() {
        let grouped = Expr::parse("(a = 1 or b = 2) and c = 3").unwrap();
        assert!(matches!(&grouped, Expr::And(all) if matches!(all[0], Expr::Or(..))));
        let nested = Expr::parse("((((x<=1))))").unwrap();
        assert!(matches!(nested, Expr::Compare { op: Op::Le, .. }));
    }

    #[test]
    fn every_operator_and_value_kind() {
        for (text, op) in [
            ("=", Op::Eq),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<", Op::Lt),
            ("<=", Op::Le),
            (">", Op::Gt),
            (">=", Op::Ge),
        ] {
            // With and without spaces around the operator.
            for source in [format!("x {text} 1"), format!("x{text}1")] {
                let Expr::Compare { op: parsed, .. } = Expr::parse(&source).unwrap() else {
                    panic!("{source}")
                };
                assert_eq!(parsed, op, "{source}");
            }
        }
        let value = |source: &str| match Expr::parse(source).unwrap() {
            Expr::Compare { value, .. } => value,
            other => panic!("{other:?}"),
        };
        assert_eq!(value("x = true"), Literal::Bool(true));
        assert_eq!(value("x = FALSE"), Literal::Bool(false));
        assert_eq!(value(r"x = 'it\'s'"), Literal::String("it's".into()));
        assert_eq!(
            value(r#"x = "a \"b\" \\ \n""#),
            Literal::String("a \"b\" \\ \n".into())
        );
        assert_eq!(value("x = -1e-3"), num(-0.001));
        assert_eq!(
            value("x = 42"),
            Literal::Number {
                value: 42.0,
                exact: Some(42)
            }
        );
        assert!(matches!(value("x = nan"), Literal::Number { value, .. } if value.is_nan()));
        assert_eq!(value("x = -inf"), num(f64::NEG_INFINITY));
    }

    #[test]
    fn paths_may_be_quoted_with_backticks() {
        let expr = Expr::parse("`my run/the lr` >= 2 AND NOT `and` = 1").unwrap();
        assert_eq!(expr.paths(), ["my run/the lr", "and"]);
    }

    #[test]
    fn keywords_are_lowercase_or_uppercase() {
        assert!(Expr::parse("a = 1 AND b = 2 Or c = 3").is_err());
        assert!(Expr::parse("a = 1 AND b = 2 OR c = 3").is_ok());
    }

    #[test]
    fn errors_point_at_the_byte() {
        assert_eq!(err("params/lr > "), "expected a value after '>' at byte 12");
        assert_eq!(err("params/lr >"), "expected a value after '>' at byte 11");
        assert_eq!(
            err("params/lr > adam"),
            "expected a value after '>': `adam` is not a number, a \"string\", true or false \
             (quote strings) at byte 12"
        );
        assert_eq!(
            err("params/lr > )"),
            "expected a value after '>', found ')' at byte 12"
        );
        assert_eq!(
            err("params/lr 0.1"),
            "expected a comparison (= != < <= > >=) after `params/lr`, found `0.1` at byte 10"
        );
        assert_eq!(
            err("params/lr"),
            "expected a comparison (= != < <= > >=) after `params/lr` at byte 9"
        );
        assert_eq!(
            err(""),
            "expected a field path (the expression is empty) at byte 0"
        );
        assert_eq!(
            err("   "),
            "expected a field path (the expression is empty) at byte 3"
        );
        assert_eq!(err("a = 1 and"), "expected a field path at byte 9");
        assert_eq!(
            err("a = 1 and or b = 2"),
            "expected a field path, found `or` at byte 10"
        );
        assert_eq!(
            err("a = 1 b = 2"),
            "expected `and`, `or` or the end, found `b` at byte 6"
        );
        assert_eq!(
            err("a = 1)"),
            "unexpected ')' with no '(' to close at byte 5"
        );
        assert_eq!(
            err("(a = 1"),
            "expected ')' closing the '(' at byte 0 at byte 6"
        );
        assert_eq!(
            err("(a = 1 b"),
            "expected `and`, `or` or ')' closing the '(' at byte 0, found `b` at byte 7"
        );
        assert_eq!(err("()"), "expected a field path, found ')' at byte 1");
        assert_eq!(err("a = \"adam"), "unterminated string at byte 4");
        assert_eq!(
            err(r#"a = "x\q""#),
            "unknown escape `\\q` in a string (known: \\\" \\' \\\\ \\n \\t) at byte 6"
        );
        assert_eq!(
            err("a ! 1"),
            "unexpected '!' (write `!=`, or `not` to negate) at byte 2"
        );
        assert_eq!(
            err("\"adam\" = a"),
            "expected a field path, found a string (a comparison starts with the path: \
             params/name = \"adam\") at byte 0"
        );
        assert_eq!(err("> 1"), "expected a field path, found '>' at byte 0");
        assert_eq!(
            err("x = 1 and params//lr = 1"),
            "invalid field path `params//lr`: empty segment (`//`) at byte 17"
        );
        assert_eq!(
            err("`a//b` = 1"),
            "invalid field path `a//b`: empty segment (`//`) at byte 3"
        );
        assert_eq!(err("`a = 1"), "unterminated `quoted path` at byte 0");
        assert_eq!(
            err("true = 1"),
            "expected a field path, found `true` at byte 0"
        );
    }

    #[test]
    fn offsets_are_bytes_not_characters() {
        assert_eq!(
            err("café = 1 >"),
            "expected `and`, `or` or the end, found '>' at byte 10"
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("{}a = 1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(err(&deep).starts_with("more than 64 nested"));
        let nots = format!("{}a = 1", "not ".repeat(100_000));
        assert!(err(&nots).starts_with("more than 64 nested"));
        let ok = format!("{}a = 1{}", "(".repeat(60), ")".repeat(60));
        assert!(Expr::parse(&ok).is_ok());
    }

    #[test]
    fn the_nesting_limit_is_the_one_the_message_names() {
        let nested = |n: usize| format!("{}a = 1{}", "(".repeat(n), ")".repeat(n));
        let nots = |n: usize| format!("{}a = 1", "not ".repeat(n));
        assert!(Expr::parse(&nested(MAX_DEPTH)).is_ok());
        assert!(Expr::parse(&nots(MAX_DEPTH)).is_ok());
        // Mixed: 32 parentheses around 32 `not`s.
        let mixed = format!(
            "{}{}a = 1{}",
            "(".repeat(32),
            "not ".repeat(32),
            ")".repeat(32)
        );
        assert!(Expr::parse(&mixed).is_ok());
        assert_eq!(
            err(&nested(MAX_DEPTH + 1)),
            "more than 64 nested `not`s or parentheses at byte 64"
        );
        assert_eq!(
            err(&nots(MAX_DEPTH + 1)),
            "more than 64 nested `not`s or parentheses at byte 256"
        );
    }

    #[test]
    fn long_chains_do_not_recurse() {
        let chain = vec!["a = 1 and b = 2"; 100_000].join(" or ");
        let expr = Expr::parse(&chain).unwrap();
        assert_eq!(expr.paths(), ["a", "b"]);
        let r = run(&[("a", Value::Int(1)), ("b", Value::Int(3))]);
        assert!(!expr.matches(|p| Ok::<_, ()>(r.get(p).cloned())).unwrap());
    }

    fn run(fields: &[(&str, Value)]) -> BTreeMap<String, Value> {
        fields
            .iter()
            .map(|(p, v)| (p.to_string(), v.clone()))
            .collect()
    }

    fn holds(source: &str, fields: &BTreeMap<String, Value>) -> bool {
        Expr::parse(source)
            .unwrap()
            .matches(|p| Ok::<_, ()>(fields.get(p).cloned()))
            .unwrap()
    }

    #[test]
    fn numbers_compare_across_int_and_float() {
        let r = run(&[
            ("lr", Value::Float(0.01)),
            ("epochs", Value::Int(20)),
            ("big", Value::Int(i64::MAX)),
        ]);
        assert!(holds("lr > 0.001", &r));
        assert!(holds("lr <= 0.01 and lr >= 0.01 and lr = 0.01", &r));
        assert!(!holds("lr < 0.01", &r));
        assert!(holds("epochs = 20 and epochs = 20.0 and epochs > 19.5", &r));
        assert!(holds("epochs != 21", &r));
        // Exact for integers past 2^53.
        assert!(holds("big = 9223372036854775807", &r));
        assert!(!holds("big = 9223372036854775806", &r));
    }

    #[test]
    fn strings_bools_times_and_sets() {
        let t = humantime::parse_rfc3339("2024-05-01T12:00:00Z").unwrap();
        let r = run(&[
            ("name", Value::String("adam".into())),
            ("flag", Value::Bool(true)),
            ("when", Value::Datetime(t)),
            (
                "tags",
                Value::StringSet(BTreeSet::from(["cnn".to_string(), "baseline".to_string()])),
            ),
        ]);
        assert!(holds(
            r#"name = "adam" and name != "sgd" and name < "b""#,
            &r
        ));
        assert!(holds("flag = true and flag != false", &r));
        assert!(!holds("flag > false", &r));
        assert!(holds(
            r#"when > "2024-05-01T00:00:00Z" and when < "2024-05-02""#,
            &r
        ));
        assert!(!holds(r#"when > "yesterday""#, &r));
        assert!(holds(r#"tags = "cnn" and tags != "draft""#, &r));
        assert!(!holds(r#"tags = "draft""#, &r));
    }

    #[test]
    fn other_types_are_unequal_and_unordered() {
        let r = run(&[
            ("name", Value::String("adam".into())),
            ("lr", Value::Float(0.1)),
        ]);
        assert!(!holds("name = 1", &r));
        assert!(holds("name != 1", &r));
        assert!(!holds("name > 1", &r));
        assert!(!holds("not name > 1", &r));
        assert!(!holds(r#"lr = "0.1""#, &r));
    }

    #[test]
    fn nan_equals_only_nan() {
        let r = run(&[
            ("loss", Value::Float(f64::NAN)),
            ("x", Value::Float(f64::INFINITY)),
        ]);
        assert!(holds("loss = nan", &r));
        assert!(!holds("loss != NaN", &r));
        assert!(!holds("loss > 0", &r));
        assert!(!holds("loss < 0", &r));
        assert!(holds("loss != 0", &r));
        assert!(holds("x > 1e308 and x = inf", &r));
    }

    #[test]
    fn a_missing_field_does_not_match_even_negated() {
        let r = run(&[("lr", Value::Float(0.1))]);
        assert!(!holds("momentum = 0.9", &r));
        assert!(!holds("momentum != 0.9", &r));
        assert!(!holds("not momentum = 0.9", &r));
        assert!(!holds("not (momentum = 0.9 and lr = 0.1)", &r));
        // Unknown or true is true; unknown and false is false.
        assert!(holds("momentum = 0.9 or lr = 0.1", &r));
        assert!(holds("not (momentum = 0.9 and lr = 0.5)", &r));
    }

    #[test]
    fn evaluation_reads_only_what_it_needs() {
        let expr = Expr::parse("a = 1 and b = 2 or c = 3").unwrap();
        let mut read = Vec::new();
        let matched = expr
            .matches(|p| {
                read.push(p.to_owned());
                Ok::<_, ()>(Some(Value::Int(if p == "c" { 3 } else { 0 })))
            })
            .unwrap();
        assert!(matched);
        assert_eq!(read, ["a", "c"]);
        // Errors of the lookup come through.
        assert_eq!(
            expr.matches(|_| Err::<Option<Value>, _>("boom")),
            Err("boom")
        );
    }
}
