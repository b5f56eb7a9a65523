//! A run's `sys/` fields: which exist, what a new run holds in them, and
//! what starting (or resuming) a run changes in them.
//!
//! They are written by the backend in the same transaction that creates or
//! resumes the run, so a run's `sys/` fields exist from the moment its id
//! does: a second process resuming the id a moment later, or a reader,
//! never sees a run without them.

use std::time::SystemTime;

use crate::error::{Error, Result};
use crate::store::StoredField;
use crate::value::{FieldType, Value};

/// `sys/state` of a run some process is writing.
pub(crate) const STATE_RUNNING: &str = "running";
/// `sys/state` of a run whose last writer closed it.
pub(crate) const STATE_FINISHED: &str = "finished";
/// `sys/state` as readers show a running run whose writer stopped
/// proving it is alive.
pub(crate) const STATE_CRASHED: &str = "crashed";

/// What the builder says about the run's user-owned `sys/` fields and
/// where it runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct StartSettings {
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) hostname: String,
}

impl StartSettings {
    /// Refuses what a field could not hold, before anything is written.
    pub(crate) fn check(&self) -> Result<()> {
        let limits = [
            ("sys/name", self.name.as_deref()),
            ("sys/description", self.description.as_deref()),
        ];
        for (path, text) in limits {
            if let Some(text) = text {
                crate::tree::check_string_len(text, || path.to_owned())?;
            }
        }
        for tag in &self.tags {
            crate::tree::check_string_len(tag, || "sys/tags".to_owned())?;
        }
        Ok(())
    }
}

fn atom(path: &str, value: Value) -> StoredField {
    StoredField {
        path: path.to_owned(),
        field_type: value.field_type(),
        value: Some(value),
        items: Vec::new(),
        file: None,
        last_step: None,
    }
}

fn tags(items: &[String]) -> StoredField {
    let mut items = items.to_vec();
    items.sort();
    items.dedup();
    StoredField {
        path: "sys/tags".to_owned(),
        field_type: FieldType::StringSet,
        value: None,
        items,
        file: None,
        last_step: None,
    }
}

/// Every `sys/` field of a new run, with its value.
pub(crate) fn new_run_fields(
    id: &str,
    project: &str,
    created: SystemTime,
    settings: &StartSettings,
) -> Vec<StoredField> {
    vec![
        atom("sys/id", Value::String(id.to_owned())),
        atom("sys/project", Value::String(project.to_owned())),
        atom("sys/creation_time", Value::Datetime(created)),
        atom("sys/failed", Value::Bool(false)),
        atom("sys/hostname", Value::String(settings.hostname.clone())),
        atom("sys/state", Value::String(STATE_RUNNING.to_owned())),
        atom(
            "sys/name",
            Value::String(settings.name.clone().unwrap_or_default()),
        ),
        atom(
            "sys/description",
            Value::String(settings.description.clone().unwrap_or_default()),
        ),
        tags(&settings.tags),
    ]
}

/// What resuming a run writes: it is running (again) on this host, with
/// the name and description the builder gives (others are kept), and the
/// builder's tags added to those it has. A StringSet field's items are
/// items to add.
pub(crate) fn resumed_run_fields(settings: &StartSettings) -> Vec<StoredField> {
    let mut fields = vec![
        atom("sys/hostname", Value::String(settings.hostname.clone())),
        atom("sys/state", Value::String(STATE_RUNNING.to_owned())),
    ];
    if let Some(name) = &settings.name {
        fields.push(atom("sys/name", Value::String(name.clone())));
    }
    if let Some(description) = &settings.description {
        fields.push(atom("sys/description", Value::String(description.clone())));
    }
    if !settings.tags.is_empty() {
        fields.push(tags(&settings.tags));
    }
    fields
}

/// Checks that a resumed run's stored `sys/` field has the type the
/// system gives it: a store whose `sys/tags` is not a set (a damaged or
/// forged one) is refused rather than half-resumed.
pub(crate) fn check_stored_type(path: &str, stored: FieldType, wanted: FieldType) -> Result<()> {
    if stored == wanted {
        return Ok(());
    }
    Err(Error::TypeMismatch {
        path: path.to_owned(),
        field_type: stored,
        value_type: wanted,
    })
}

/// The machine's name, for `sys/hostname`.
pub(crate) fn hostname() -> String {
    // Linux keeps it here; elsewhere the usual environment variables.
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_run_has_every_system_field_and_the_users_three() {
        let settings = StartSettings {
            name: Some("baseline".into()),
            tags: vec!["b".into(), "a".into(), "b".into()],
            hostname: "node-1".into(),
            ..Default::default()
        };
        let fields = new_run_fields("MNIST-1", "mnist", SystemTime::UNIX_EPOCH, &settings);
        let paths: Vec<&str> = fields.iter().map(|f| f.path.as_str()).collect();
        for path in [
            "sys/id",
            "sys/project",
            "sys/creation_time",
            "sys/failed",
            "sys/hostname",
            "sys/state",
            "sys/name",
            "sys/description",
            "sys/tags",
        ] {
            assert!(paths.contains(&path), "{path} missing");
        }
        let tags = fields.iter().find(|f| f.path == "sys/tags").unwrap();
        assert_eq!(tags.items, ["a", "b"]);
        let resumed = resumed_run_fields(&StartSettings::default());
        let paths: Vec<&str> = resumed.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["sys/hostname", "sys/state"]);
    }
}
