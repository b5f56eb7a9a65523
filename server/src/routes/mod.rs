//! The routes of the HTTP API, one file each.

pub(crate) mod events;
pub(crate) mod file;
pub(crate) mod openapi;
pub(crate) mod run;
pub(crate) mod runs;
pub(crate) mod series;

use hippocamp_core::{FieldType, Run};

use crate::error::ApiError;

/// The type of the field at `path` of `run`; a 404 naming the nearest
/// paths the run has when it has none there.
pub(crate) fn require_field(run: &Run, path: &str) -> Result<FieldType, ApiError> {
    if let Some(field_type) = run.at(path).field_type()? {
        return Ok(field_type);
    }
    let mut paths = Vec::new();
    collect(&run.root().structure()?.entries, "", &mut paths);
    let nearest = hippocamp_core::nearest(path, paths.iter().map(String::as_str));
    let hint = if nearest.is_empty() {
        " (there are none)".to_owned()
    } else {
        format!(" (nearest: {})", nearest.join(", "))
    };
    Err(ApiError::not_found(format!(
        "no field `{path}` in run {}{hint}",
        run.id()
    )))
}

fn collect(
    entries: &std::collections::BTreeMap<String, hippocamp_core::structure::Entry>,
    prefix: &str,
    out: &mut Vec<String>,
) {
    for (name, entry) in entries {
        let path = hippocamp_core::path::join(prefix, name);
        match entry {
            hippocamp_core::structure::Entry::Namespace(children) => collect(children, &path, out),
            hippocamp_core::structure::Entry::Field { .. } => out.push(path),
        }
    }
}
