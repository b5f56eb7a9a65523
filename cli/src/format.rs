//! Shared formatting of values, times, tables and JSON for the commands.
//!
//! The rules, the same in every command:
//!
//! - a Float prints with a decimal point (`0.005`, `20.0`). `get`, the CSV
//!   and JSON outputs and exports print it exactly (the shortest text that
//!   reads back as the same `f64`, [`float`]); tables and trees (`ls`,
//!   `show`, `diff`) print the shortest text that reads back the same when
//!   both are rounded to [`DEFAULT_PRECISION`] significant digits, or the
//!   `--precision` given ([`float_shown`]: `0.17884799999999998` shows as
//!   `0.178848`);
//! - NaN and infinities print as `NaN`, `inf` and `-inf`, and in JSON,
//!   whose numbers cannot hold them, as the strings `"NaN"`, `"inf"` and
//!   `"-inf"`;
//! - times are RFC 3339 in UTC with nanoseconds
//!   (`2024-05-01T12:00:00.000000000Z`), except in the `ls` table, which
//!   shows whole seconds;
//! - a step prints as an integer when it is one (`3`), else as a float.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::SystemTime;

use hippocamp_core::{FieldType, FileInfo, Point, Run, Value};
use serde_json::json;

use crate::CliError;

/// A float as the commands print it: `0.5`, `20.0`, `NaN`, `inf`, `-inf`.
///
/// ```
/// use hippocamp_cli::format::float;
/// assert_eq!(float(20.0), "20.0");
/// assert_eq!(float(f64::NAN), "NaN");
/// assert_eq!(float(f64::NEG_INFINITY), "-inf");
/// ```
pub fn float(x: f64) -> String {
    format!("{x:?}")
}

/// How many significant digits tables and trees show of a float, unless
/// `--precision` says otherwise.
pub const DEFAULT_PRECISION: usize = 6;

/// The most significant digits `--precision` takes: 17 digits tell every
/// two `f64`s apart, so at 17 every float shows exactly.
pub const MAX_PRECISION: usize = 17;

/// A float as tables and trees show it: its shortest text that round-trips,
/// cut to `digits` significant digits (1 to [`MAX_PRECISION`]) when it has
/// more, trailing zeros dropped. It keeps a decimal point (`20.0`), and
/// uses an exponent when it is 10^`digits` or more, or below 0.0001
/// (`1.23457e8`, `1e-7`). NaN and infinities print as [`float`] does.
///
/// ```
/// use hippocamp_cli::format::float_shown;
/// assert_eq!(float_shown(0.17884799999999998, 6), "0.178848");
/// assert_eq!(float_shown(0.1 + 0.2, 6), "0.3");
/// assert_eq!(float_shown(20.0, 6), "20.0");
/// assert_eq!(float_shown(123456789.0, 6), "1.23457e8");
/// assert_eq!(float_shown(0.17884799999999998, 17), "0.17884799999999998");
/// assert_eq!(float_shown(f64::NAN, 6), "NaN");
/// ```
pub fn float_shown(x: f64, digits: usize) -> String {
    if !x.is_finite() || x == 0.0 {
        return float(x);
    }
    let digits = digits.clamp(1, MAX_PRECISION);
    // `{:e}` is the shortest round-trip text, in scientific notation.
    let mut scientific = format!("{x:e}");
    let significant = |text: &str| {
        let mantissa = text.split('e').next().unwrap_or("");
        mantissa.bytes().filter(u8::is_ascii_digit).count()
    };
    if significant(&scientific) > digits {
        scientific = format!("{x:.*e}", digits - 1);
    }
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return float(x);
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        return float(x);
    };
    let mantissa = if mantissa.contains('.') {
        mantissa.trim_end_matches('0').trim_end_matches('.')
    } else {
        mantissa
    };
    let sign = if x < 0.0 { "-" } else { "" };
    let figures: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if !(-4..digits as i32).contains(&exponent) {
        return format!("{mantissa}e{exponent}");
    }
    if exponent < 0 {
        let zeros = "0".repeat((-exponent - 1) as usize);
        return format!("{sign}0.{zeros}{figures}");
    }
    let whole = exponent as usize + 1;
    if figures.len() <= whole {
        let zeros = "0".repeat(whole - figures.len());
        format!("{sign}{figures}{zeros}.0")
    } else {
        format!("{sign}{}.{}", &figures[..whole], &figures[whole..])
    }
}

/// A step: `3` for an integral step, `2.5` otherwise.
///
/// ```
/// assert_eq!(hippocamp_cli::format::step(3.0), "3");
/// assert_eq!(hippocamp_cli::format::step(2.5), "2.5");
/// ```
pub fn step(step: f64) -> String {
    match integral(step) {
        Some(n) => n.to_string(),
        None => float(step),
    }
}

/// `x` as an `i64` when it is an integer that converts exactly.
fn integral(x: f64) -> Option<i64> {
    // 2^53: past it not every integer is a float.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    (x.fract() == 0.0 && x.abs() <= EXACT).then_some(x as i64)
}

/// A time, RFC 3339 in UTC with nanoseconds (lossless).
///
/// ```
/// let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(1_500);
/// assert_eq!(hippocamp_cli::format::time(t), "1970-01-01T00:00:00.000001500Z");
/// ```
pub fn time(t: SystemTime) -> String {
    hippocamp_core::format_rfc3339(t, 9)
}

/// A time, RFC 3339 in UTC to the second, for tables.
pub fn time_seconds(t: SystemTime) -> String {
    hippocamp_core::format_rfc3339(t, 0)
}

/// A file's name and size: `weights.bin (1024 bytes)`.
pub fn file(info: &FileInfo) -> String {
    format!("{} ({} bytes)", info.name, info.size)
}

/// A value as plain text: strings unquoted, a StringSet's items joined
/// with `,`, a namespace as `{key: value, …}` (its strings quoted).
///
/// ```
/// use hippocamp_core::Value;
/// use hippocamp_cli::format::plain;
/// assert_eq!(plain(&Value::String("adam".into())), "adam");
/// assert_eq!(plain(&Value::Float(f64::INFINITY)), "inf");
/// ```
pub fn plain(value: &Value) -> String {
    match value {
        Value::Float(x) => float(*x),
        Value::Int(x) => x.to_string(),
        Value::Bool(x) => x.to_string(),
        Value::String(s) => s.clone(),
        Value::Datetime(t) => time(*t),
        Value::File(info) => file(info),
        Value::StringSet(items) => items.iter().cloned().collect::<Vec<_>>().join(","),
        other => quoted(other),
    }
}

/// A value as the structure tree shows it: strings quoted, floats with
/// their decimal point, times with nanoseconds, sets as `{"a", "b"}`.
/// Floats are exact.
pub fn quoted(value: &Value) -> String {
    quoted_with(value, None)
}

/// A value as [`plain`] writes it, floats shown with `digits` significant
/// digits (see [`float_shown`]): for table cells.
///
/// ```
/// use hippocamp_core::Value;
/// use hippocamp_cli::format::plain_shown;
/// assert_eq!(plain_shown(&Value::Float(0.17884799999999998), 6), "0.178848");
/// assert_eq!(plain_shown(&Value::Int(123456789), 6), "123456789");
/// ```
pub fn plain_shown(value: &Value, digits: usize) -> String {
    match value {
        Value::Float(x) => float_shown(*x, digits),
        Value::Namespace(_) => quoted_with(value, Some(digits)),
        other => plain(other),
    }
}

/// A value as [`quoted`] writes it, floats (also inside a namespace)
/// shown with `digits` significant digits: for trees and comparisons.
///
/// ```
/// use hippocamp_core::Value;
/// use hippocamp_cli::format::quoted_shown;
/// assert_eq!(quoted_shown(&Value::Float(1.0 / 3.0), 3), "0.333");
/// assert_eq!(quoted_shown(&Value::String("a".into()), 3), "\"a\"");
/// ```
pub fn quoted_shown(value: &Value, digits: usize) -> String {
    quoted_with(value, Some(digits))
}

fn quoted_with(value: &Value, digits: Option<usize>) -> String {
    match value {
        Value::Float(x) => match digits {
            Some(digits) => float_shown(*x, digits),
            None => float(*x),
        },
        Value::Datetime(t) => time(*t),
        Value::File(info) => format!("File {}", file(info)),
        Value::Namespace(children) => {
            let inner: Vec<String> = children
                .iter()
                .map(|(k, v)| format!("{k}: {}", quoted_with(v, digits)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        other => other.to_string(),
    }
}

/// A float as JSON: a number, or `"NaN"`, `"inf"`, `"-inf"`.
pub fn float_json(x: f64) -> serde_json::Value {
    match serde_json::Number::from_f64(x) {
        Some(n) => serde_json::Value::Number(n),
        None => serde_json::Value::String(float(x)),
    }
}

/// A step as JSON: an integer when it is one.
pub fn step_json(s: f64) -> serde_json::Value {
    match integral(s) {
        Some(n) => json!(n),
        None => float_json(s),
    }
}

/// A value as JSON. Floats that JSON cannot hold become strings (see
/// [`float_json`]); times are RFC 3339 strings; a file is
/// `{"name", "extension", "size"}`; a set an array; a namespace an object.
pub fn value_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Float(x) => float_json(*x),
        Value::Int(x) => json!(x),
        Value::Bool(x) => json!(x),
        Value::String(s) => json!(s),
        Value::Datetime(t) => json!(time(*t)),
        Value::File(info) => json!({
            "name": info.name,
            "extension": info.extension,
            "size": info.size,
        }),
        Value::StringSet(items) => json!(items),
        Value::Namespace(children) => serde_json::Value::Object(
            children
                .iter()
                .map(|(k, v)| (k.clone(), value_json(v)))
                .collect(),
        ),
        // A variant added later: its display, as a string.
        other => json!(other.to_string()),
    }
}

/// A series point as JSON: `{"step", "value", "timestamp"}`.
pub fn point_json(point: &Point) -> serde_json::Value {
    json!({
        "step": step_json(point.step),
        "value": value_json(&point.value),
        "timestamp": time(point.timestamp),
    })
}

/// What one field of a run is worth in a table cell or a comparison: an
/// atom's value, a series' last value (a FileSeries' last file), a set's
/// items, a file's metadata, a namespace's nested values. `None` when the
/// path holds nothing, or a series with no point.
pub fn field_value(run: &Run, path: &str) -> Result<Option<Value>, CliError> {
    let handler = run.at(path);
    let result = match handler.field_type()? {
        None => return Ok(None),
        Some(FieldType::FloatSeries | FieldType::StringSeries) => {
            handler.fetch_last().map(|p| Some(p.value))
        }
        Some(FieldType::FileSeries) => handler
            .series_summary()
            .map(|summary| summary.last.map(|p| p.value)),
        Some(_) => handler.fetch().map(Some),
    };
    match result {
        Ok(value) => Ok(value),
        // An empty series, or a field removed by the writing process
        // between the two reads.
        Err(hippocamp_core::Error::NotFound { .. }) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// The widest a table cell gets; longer text is cut with `…`.
pub const MAX_CELL_CHARS: usize = 60;

/// Text made fit for one table cell: control characters escaped
/// (`\n`, `\t`), cut to [`MAX_CELL_CHARS`] characters.
///
/// ```
/// assert_eq!(hippocamp_cli::format::cell("a\nb"), "a\\nb");
/// ```
pub fn cell(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\t' => escaped.push_str("\\t"),
            '\r' => escaped.push_str("\\r"),
            c if c.is_control() => escaped.push_str(&c.escape_unicode().to_string()),
            c => escaped.push(c),
        }
    }
    if escaped.chars().count() > MAX_CELL_CHARS {
        let mut cut: String = escaped.chars().take(MAX_CELL_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        escaped
    }
}

/// Writes an aligned table: the header, then one line per row, columns
/// separated by two spaces, no trailing spaces. Cells should have gone
/// through [`cell`].
///
/// ```
/// let mut out = Vec::new();
/// hippocamp_cli::format::write_table(&mut out, &["ID", "LR"], &[vec!["A-1".into(), "0.1".into()]]).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "ID   LR\nA-1  0.1\n");
/// ```
pub fn write_table(
    out: &mut dyn Write,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, text) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(text.chars().count());
        }
    }
    let mut line = |cells: &mut dyn Iterator<Item = &str>| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(cell);
            if i + 1 < columns {
                let pad = widths[i].saturating_sub(cell.chars().count());
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(&mut header.iter().copied())?;
    for row in rows {
        line(&mut row.iter().map(String::as_str))?;
    }
    Ok(())
}

/// Writes records as CSV (the first is the header).
pub fn write_csv(out: &mut dyn Write, records: &[Vec<String>]) -> Result<(), CliError> {
    let mut writer = csv::Writer::from_writer(out);
    for record in records {
        writer
            .write_record(record)
            .map_err(|e| CliError::new(format!("cannot write CSV: {e}")))?;
    }
    writer
        .flush()
        .map_err(|e| CliError::new(format!("cannot write CSV: {e}")))
}

/// Writes a JSON value, pretty-printed, and a newline.
pub fn write_json(out: &mut dyn Write, value: &serde_json::Value) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, value)
        .map_err(|e| CliError::new(format!("cannot write JSON: {e}")))?;
    writeln!(out)?;
    Ok(())
}

/// A namespace value flattened to `(path, value)` pairs, sorted by path.
pub fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Namespace(children) => {
            for (name, child) in children {
                flatten(&hippocamp_core::path::join(prefix, name), child, out);
            }
        }
        other => {
            out.insert(prefix.to_owned(), other.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_show_their_shortest_text_to_the_precision() {
        let cases: &[(f64, usize, &str)] = &[
            (0.17884799999999998, 6, "0.178848"),
            (0.30000000000000004, 6, "0.3"),
            (0.005, 6, "0.005"),
            (20.0, 6, "20.0"),
            (-0.5, 6, "-0.5"),
            (123456.0, 6, "123456.0"),
            (1234567.0, 6, "1.23457e6"),
            (1e6, 6, "1e6"),
            (-2.5e-7, 6, "-2.5e-7"),
            (0.00012345678, 6, "0.000123457"),
            (0.00001, 6, "1e-5"),
            (9.9999999, 6, "10.0"),
            (99999.95, 6, "99999.9"),
            (999999.5, 6, "1e6"),
            (1.0 / 3.0, 3, "0.333"),
            (2.0 / 3.0, 1, "0.7"),
            (12.6, 2, "13.0"),
            (0.1, 17, "0.1"),
            (0.17884799999999998, 17, "0.17884799999999998"),
            (f64::MAX, 6, "1.79769e308"),
            (f64::MIN_POSITIVE, 6, "2.22507e-308"),
            (5e-324, 6, "5e-324"),
            (0.0, 6, "0.0"),
            (-0.0, 6, "-0.0"),
            (f64::NAN, 6, "NaN"),
            (f64::INFINITY, 6, "inf"),
            (f64::NEG_INFINITY, 6, "-inf"),
        ];
        for &(x, digits, text) in cases {
            assert_eq!(float_shown(x, digits), text, "{x:?} to {digits} digits");
        }
        // At 17 digits every float shows as the exact form does.
        for x in [0.1, 1.0 / 3.0, 123.456, 1e-300, 6.02214076e23, -7.5] {
            assert_eq!(float_shown(x, 17).parse::<f64>().unwrap(), x);
        }
        // Digits out of range are brought into it.
        assert_eq!(float_shown(1.0 / 3.0, 0), "0.3");
        assert_eq!(float_shown(0.1, 99), "0.1");
    }

    #[test]
    fn shown_text_reads_back_to_the_rounded_value() {
        let mut state = 42u64;
        for _ in 0..10_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = f64::from_bits(state >> 1);
            if !x.is_finite() {
                continue;
            }
            for digits in [1, 3, 6, 10, 17] {
                let shown = float_shown(x, digits);
                let rounded: f64 = format!("{x:.*e}", digits - 1).parse().unwrap();
                assert_eq!(shown.parse::<f64>().unwrap(), rounded, "{x:e} {digits}");
            }
        }
    }
}
