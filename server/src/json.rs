//! Values as the API writes them: JSON numbers, strings and booleans;
//! NaN and ±Inf, which JSON numbers cannot hold, as the strings `"NaN"`,
//! `"Infinity"` and `"-Infinity"`; times as RFC 3339 strings.

use std::time::SystemTime;

use hippocamp_core::window::Bucket;
use hippocamp_core::{format_rfc3339, FileInfo, Point, Value};
use serde_json::{json, Value as Json};

/// A float as JSON.
///
/// ```
/// use hippocamp_server::json::float;
/// assert_eq!(float(0.5), serde_json::json!(0.5));
/// assert_eq!(float(f64::NEG_INFINITY), serde_json::json!("-Infinity"));
/// ```
pub fn float(x: f64) -> Json {
    if x.is_nan() {
        json!("NaN")
    } else if x == f64::INFINITY {
        json!("Infinity")
    } else if x == f64::NEG_INFINITY {
        json!("-Infinity")
    } else {
        json!(x)
    }
}

/// A time as RFC 3339 with nanoseconds, in UTC.
pub fn time(t: SystemTime) -> Json {
    json!(format_rfc3339(t, 9))
}

/// A file's metadata.
pub fn file(info: &FileInfo) -> Json {
    json!({ "name": info.name, "size": info.size, "extension": info.extension })
}

/// A value as JSON.
pub fn value(value: &Value) -> Json {
    match value {
        Value::Float(x) => float(*x),
        Value::Int(i) => json!(i),
        Value::Bool(b) => json!(b),
        Value::String(s) => json!(s),
        Value::Datetime(t) => time(*t),
        Value::File(info) => file(info),
        Value::StringSet(items) => json!(items),
        Value::Namespace(children) => Json::Object(
            children
                .iter()
                .map(|(name, child)| (name.clone(), self::value(child)))
                .collect(),
        ),
        other => json!(other.to_string()),
    }
}

/// A point as `[step, value, timestamp]`.
pub fn point(p: &Point) -> Json {
    json!([float(p.step), value(&p.value), time(p.timestamp)])
}

/// A bucket of a series window.
pub fn bucket(b: &Bucket) -> Json {
    json!({
        "from": float(b.from),
        "to": float(b.to),
        "first": value(&b.first.value),
        "last": value(&b.last.value),
        "min": b.min.map_or(Json::Null, float),
        "max": b.max.map_or(Json::Null, float),
        "count": b.count,
        "from_time": time(b.first.timestamp),
        "to_time": time(b.last.timestamp),
    })
}
