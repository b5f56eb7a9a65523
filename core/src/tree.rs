//! The run's tree of namespaces and fields, and the type rules on it.
//!
//! Every handler operation lands here, under the run's lock: find (or
//! create) the node, check the rule, hand the checked [`Op`] to the store.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::ops::{ControlFlow, RangeInclusive};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use rustc_hash::FxHashMap;

use crate::callsite::Callsite;
use crate::error::{Conflict, Error, ReadOnlyReason, Result};
use crate::file::FileData;
use crate::store::{FieldId, Op, SeriesSummary, Store, StoredField};
use crate::structure::{Entry, Structure};
use crate::value::{FieldType, FileInfo, Operation, Point, Value};

/// The longest string accepted in a String field, a StringSeries point or a
/// StringSet item, in bytes of UTF-8: 1 MiB. Longer strings are refused,
/// never truncated; a larger text belongs in a File.
pub const MAX_STRING_BYTES: usize = 1 << 20;

/// The root namespace's node.
pub(crate) const ROOT: u32 = 0;

/// The name of the system namespace.
pub(crate) const SYS: &str = "sys";

pub(crate) struct Node {
    pub(crate) path: Arc<str>,
    /// Unique among the nodes of every run of the process (0: none left),
    /// so that a `log!` callsite can remember which node a path resolved
    /// to under which base; see [`Callsite`].
    uid: u32,
    alive: bool,
    /// Owned by the system: the user may not write it (nor create under it,
    /// for a namespace).
    system: bool,
    pub(crate) kind: NodeKind,
}

pub(crate) enum NodeKind {
    Namespace(FxHashMap<Box<str>, u32>),
    /// Float, Int, Bool, String or Datetime.
    Atom(Value),
    File(Option<FileInfo>),
    Series {
        field_type: FieldType,
        last_step: Option<f64>,
    },
    StringSet(BTreeSet<String>),
}

impl NodeKind {
    fn field_type(&self) -> FieldType {
        match self {
            NodeKind::Namespace(_) => FieldType::Namespace,
            NodeKind::Atom(value) => value.field_type(),
            NodeKind::File(_) => FieldType::File,
            NodeKind::Series { field_type, .. } => *field_type,
            NodeKind::StringSet(_) => FieldType::StringSet,
        }
    }

    fn empty(field_type: FieldType) -> NodeKind {
        match field_type {
            FieldType::Namespace => NodeKind::Namespace(FxHashMap::default()),
            FieldType::File => NodeKind::File(None),
            FieldType::StringSet => NodeKind::StringSet(BTreeSet::new()),
            FieldType::FloatSeries | FieldType::StringSeries | FieldType::FileSeries => {
                NodeKind::Series {
                    field_type,
                    last_step: None,
                }
            }
            // Placeholder until the assign that created it sets the value.
            FieldType::Float => NodeKind::Atom(Value::Float(0.0)),
            FieldType::Int => NodeKind::Atom(Value::Int(0)),
            FieldType::Bool => NodeKind::Atom(Value::Bool(false)),
            FieldType::String => NodeKind::Atom(Value::String(String::new())),
            FieldType::Datetime => NodeKind::Atom(Value::Datetime(SystemTime::UNIX_EPOCH)),
        }
    }
}

/// Where an operation points: a base (a handler's path, with the node it
/// resolved to cached) and a path relative to it.
pub(crate) struct Target<'a> {
    pub(crate) base: &'a str,
    /// `uid << 32 | node + 1` of the node `base` resolved to, or 0.
    pub(crate) cache: &'a AtomicU64,
    pub(crate) rel: &'a str,
}

impl Target<'_> {
    pub(crate) fn full_path(&self) -> String {
        hippocamp_path::join(self.base, self.rel)
    }
}

enum Lookup {
    Found(u32),
    Missing,
    /// The path runs through this field.
    UnderField(u32),
}

/// A series value on its way in.
#[derive(Clone, Copy)]
pub(crate) enum SeriesItem<'a> {
    Float(f64),
    String(&'a str),
    File(&'a FileData),
}

impl SeriesItem<'_> {
    fn series_type(&self) -> FieldType {
        match self {
            SeriesItem::Float(_) => FieldType::FloatSeries,
            SeriesItem::String(_) => FieldType::StringSeries,
            SeriesItem::File(_) => FieldType::FileSeries,
        }
    }

    fn value_type(&self) -> FieldType {
        match self {
            SeriesItem::Float(_) => FieldType::Float,
            SeriesItem::String(_) => FieldType::String,
            SeriesItem::File(_) => FieldType::File,
        }
    }
}

pub(crate) struct Tree {
    nodes: Vec<Node>,
    pub(crate) store: Box<dyn Store>,
}

impl Tree {
    pub(crate) fn new(store: Box<dyn Store>) -> Tree {
        Tree {
            nodes: vec![Node {
                path: Arc::from(""),
                uid: next_uid(),
                alive: true,
                system: false,
                kind: NodeKind::Namespace(FxHashMap::default()),
            }],
            store,
        }
    }

    fn node(&self, id: u32) -> &Node {
        &self.nodes[id as usize]
    }

    fn lookup_from(&self, start: u32, rel: &str) -> Lookup {
        if rel.is_empty() {
            return Lookup::Found(start);
        }
        let mut current = start;
        for segment in hippocamp_path::segments(rel) {
            match &self.node(current).kind {
                NodeKind::Namespace(children) => match children.get(segment) {
                    Some(&child) => current = child,
                    None => return Lookup::Missing,
                },
                _ => return Lookup::UnderField(current),
            }
        }
        Lookup::Found(current)
    }

    /// The node a handler's base path names, through its cache.
    fn base_node(&self, target: &Target<'_>) -> Option<u32> {
        if target.base.is_empty() {
            return Some(ROOT);
        }
        // The uid check makes a cached node safe across deletes and across
        // a reload that renumbers the tree.
        let cached = target.cache.load(Ordering::Relaxed);
        if cached != 0 {
            let (uid, id) = ((cached >> 32) as u32, (cached as u32).wrapping_sub(1));
            if let Some(node) = self.nodes.get(id as usize) {
                if node.alive && node.uid == uid && uid != 0 {
                    return Some(id);
                }
            }
        }
        match self.lookup_from(ROOT, target.base) {
            Lookup::Found(id) => {
                let uid = self.node(id).uid;
                target
                    .cache
                    .store(u64::from(uid) << 32 | u64::from(id + 1), Ordering::Relaxed);
                Some(id)
            }
            _ => None,
        }
    }

    /// The field a callsite resolved to under `target`'s base, if it
    /// remembers one that is still there.
    #[inline]
    pub(crate) fn site_node(&self, target: &Target<'_>, site: &Callsite) -> Option<u32> {
        let base = self.base_node(target)?;
        let (uid, node) = site.get()?;
        if uid != self.node(base).uid || uid == 0 {
            return None;
        }
        self.nodes.get(node as usize).filter(|n| n.alive)?;
        Some(node)
    }

    /// Remembers in `site` the field that `target` (whose `rel` is the
    /// callsite's path) resolves to now.
    pub(crate) fn remember_site(&self, target: &Target<'_>, site: &Callsite) {
        let Some(base) = self.base_node(target) else {
            return;
        };
        if let Lookup::Found(node) = self.lookup_from(base, target.rel) {
            if !matches!(self.node(node).kind, NodeKind::Namespace(_)) {
                site.set(self.node(base).uid, node);
            }
        }
    }

    fn lookup(&self, target: &Target<'_>) -> Lookup {
        match self.base_node(target) {
            Some(base) => self.lookup_from(base, target.rel),
            None => self.lookup_from(ROOT, &target.full_path()),
        }
    }

    fn path_of(&self, target: &Target<'_>, lookup: &Lookup) -> String {
        match lookup {
            Lookup::Found(id) => self.node(*id).path.to_string(),
            _ => target.full_path(),
        }
    }

    /// Creates the field (and the namespaces on its way) at `path`.
    pub(crate) fn create(
        &mut self,
        path: &str,
        field_type: FieldType,
        system: bool,
    ) -> Result<u32> {
        let mut current = ROOT;
        let mut end = 0;
        for segment in hippocamp_path::segments(path) {
            end += if end == 0 {
                segment.len()
            } else {
                segment.len() + 1
            };
            let node = self.node(current);
            let NodeKind::Namespace(children) = &node.kind else {
                return Err(Error::NamespaceConflict {
                    path: path.to_owned(),
                    conflict: Conflict::UnderField {
                        path: path.to_owned(),
                        field: node.path.to_string(),
                        field_type: node.kind.field_type(),
                    },
                });
            };
            if let Some(&child) = children.get(segment) {
                current = child;
                continue;
            }
            if node.system && !system {
                return Err(Error::ReadOnly {
                    path: path.to_owned(),
                    reason: ReadOnlyReason::SystemField,
                });
            }
            let is_last = end == path.len();
            let kind = if is_last {
                NodeKind::empty(field_type)
            } else {
                NodeKind::empty(FieldType::Namespace)
            };
            let id = u32::try_from(self.nodes.len()).map_err(|_| Error::OutOfRange {
                path: path.to_owned(),
                detail: "a run holds at most 2^32 - 1 fields and namespaces".into(),
            })?;
            let node_path: Arc<str> = Arc::from(&path[..end]);
            let NodeKind::Namespace(children) = &mut self.nodes[current as usize].kind else {
                unreachable!("checked above that the parent is a namespace")
            };
            children.insert(Box::from(segment), id);
            let is_field = !matches!(kind, NodeKind::Namespace(_));
            self.nodes.push(Node {
                path: node_path.clone(),
                uid: next_uid(),
                alive: true,
                // The `sys` namespace itself is system-owned so nothing new
                // appears under it.
                system: system || (current == ROOT && segment == SYS),
                kind,
            });
            if is_field {
                self.store.apply(Op::CreateField {
                    field: FieldId(id),
                    path: &node_path,
                    field_type,
                })?;
            }
            current = id;
        }
        let node = self.node(current);
        if node.kind.field_type() != field_type {
            // The whole path existed already as something else; callers
            // only create what they found missing, so this is a namespace.
            return Err(Error::NamespaceConflict {
                path: path.to_owned(),
                conflict: Conflict::ValueOntoNamespace {
                    path: path.to_owned(),
                    value_type: field_type,
                },
            });
        }
        Ok(current)
    }

    /// Finds the field a write goes to, creating it as `created` if the
    /// path holds nothing. Refuses system-owned fields and namespaces.
    fn field_for_write(
        &mut self,
        target: &Target<'_>,
        created: FieldType,
        operation: Operation,
        value_type: FieldType,
    ) -> Result<u32> {
        match self.find_for_write(target, operation, value_type)? {
            Some(id) => Ok(id),
            None => {
                let path = target.full_path();
                self.create(&path, created, false)
            }
        }
    }

    /// The field a write goes to, or `None` when the path holds nothing
    /// and a field may be created there; the errors of
    /// [`field_for_write`](Self::field_for_write), without changing
    /// anything.
    fn find_for_write(
        &self,
        target: &Target<'_>,
        operation: Operation,
        value_type: FieldType,
    ) -> Result<Option<u32>> {
        let lookup = self.lookup(target);
        match lookup {
            Lookup::Found(id) => {
                let node = self.node(id);
                if node.system {
                    return Err(Error::ReadOnly {
                        path: node.path.to_string(),
                        reason: ReadOnlyReason::SystemField,
                    });
                }
                if let NodeKind::Namespace(_) = node.kind {
                    return Err(if operation == Operation::Assign {
                        Error::NamespaceConflict {
                            path: node.path.to_string(),
                            conflict: Conflict::ValueOntoNamespace {
                                path: node.path.to_string(),
                                value_type,
                            },
                        }
                    } else {
                        Error::UnsupportedOperation {
                            path: node.path.to_string(),
                            field_type: FieldType::Namespace,
                            operation,
                        }
                    });
                }
                Ok(Some(id))
            }
            Lookup::Missing => {
                let path = target.full_path();
                self.check_creatable(&path)?;
                Ok(None)
            }
            Lookup::UnderField(field) => {
                let node = self.node(field);
                let path = target.full_path();
                Err(Error::NamespaceConflict {
                    path: path.clone(),
                    conflict: Conflict::UnderField {
                        path,
                        field: node.path.to_string(),
                        field_type: node.kind.field_type(),
                    },
                })
            }
        }
    }

    /// Refuses what [`create`](Self::create) would refuse for a user's
    /// field at `path`, which holds nothing: a new name in a system-owned
    /// namespace.
    fn check_creatable(&self, path: &str) -> Result<()> {
        let mut current = ROOT;
        for segment in hippocamp_path::segments(path) {
            let node = self.node(current);
            let NodeKind::Namespace(children) = &node.kind else {
                return Ok(());
            };
            match children.get(segment) {
                Some(&child) => current = child,
                None if node.system => {
                    return Err(Error::ReadOnly {
                        path: path.to_owned(),
                        reason: ReadOnlyReason::SystemField,
                    })
                }
                None => return Ok(()),
            }
        }
        Ok(())
    }

    /// Refuses an upload (or an assigned [`File`](crate::File)) that
    /// [`upload`](Self::upload) would refuse, without writing: the rules
    /// come before the file is read.
    pub(crate) fn check_upload(&self, target: &Target<'_>, operation: Operation) -> Result<()> {
        match self.find_for_write(target, operation, FieldType::File)? {
            None => Ok(()),
            Some(id) => match self.node(id).kind {
                NodeKind::File(_) => Ok(()),
                _ => Err(self.refused_assign(id, operation, FieldType::File)),
            },
        }
    }

    /// Refuses a file appended to a FileSeries that [`append`](Self::append)
    /// would refuse, without writing: the rules come before the file is
    /// read.
    pub(crate) fn check_file_append(
        &self,
        target: &Target<'_>,
        step: Option<f64>,
        timestamp: Option<SystemTime>,
    ) -> Result<()> {
        let operation = append_operation(target, step, timestamp)?;
        match self.find_for_write(target, operation, FieldType::File)? {
            None => Ok(()),
            Some(id) => self
                .next_step(id, FieldType::FileSeries, FieldType::File, step)
                .map(|_| ()),
        }
    }

    /// Finds the node a read (or a clear, remove, delete) goes to.
    fn existing(&self, target: &Target<'_>) -> Result<u32> {
        let lookup = self.lookup(target);
        match lookup {
            Lookup::Found(id) => Ok(id),
            _ => Err(Error::NotFound {
                path: self.path_of(target, &lookup),
            }),
        }
    }

    fn unsupported(&self, id: u32, operation: Operation) -> Error {
        let node = self.node(id);
        Error::UnsupportedOperation {
            path: node.path.to_string(),
            field_type: node.kind.field_type(),
            operation,
        }
    }

    /// The error for a write of a `value_type` value to a field of another
    /// kind: a type mismatch when the field takes assigns (of its own kind)
    /// and the write is one, else the operation is unsupported.
    fn refused_assign(&self, id: u32, operation: Operation, value_type: FieldType) -> Error {
        let node = self.node(id);
        let field_type = node.kind.field_type();
        if operation == Operation::Assign && field_type.accepts(Operation::Assign) {
            Error::TypeMismatch {
                path: node.path.to_string(),
                field_type,
                value_type,
            }
        } else {
            self.unsupported(id, operation)
        }
    }

    fn check_writable(&self, id: u32) -> Result<()> {
        let node = self.node(id);
        if node.system {
            return Err(Error::ReadOnly {
                path: node.path.to_string(),
                reason: ReadOnlyReason::SystemField,
            });
        }
        Ok(())
    }

    // ---- writes -------------------------------------------------------

    /// Assigns a Float, Int, Bool, String or Datetime.
    pub(crate) fn assign(&mut self, target: &Target<'_>, value: Value) -> Result<()> {
        let value_type = value.field_type();
        debug_assert!(value_type.is_atom());
        // Before the field is made: a refused value leaves no field.
        check_atom(&value, || target.full_path())?;
        let id = self.field_for_write(target, value_type, Operation::Assign, value_type)?;
        self.set_atom(id, value)
    }

    /// Assigns an atom to the field `id`, which a write found before.
    pub(crate) fn assign_to(&mut self, id: u32, value: Value) -> Result<()> {
        check_atom(&value, || self.node(id).path.to_string())?;
        self.set_atom(id, value)
    }

    /// Sets an atom field's value, checking its type.
    pub(crate) fn set_atom(&mut self, id: u32, value: Value) -> Result<()> {
        let node = &mut self.nodes[id as usize];
        let NodeKind::Atom(current) = &mut node.kind else {
            let field_type = node.kind.field_type();
            return Err(if field_type.accepts(Operation::Assign) {
                // A File takes a File, a namespace a struct or map.
                Error::TypeMismatch {
                    path: node.path.to_string(),
                    field_type,
                    value_type: value.field_type(),
                }
            } else {
                self.unsupported(id, Operation::Assign)
            });
        };
        let value = match (&*current, value) {
            (Value::Float(_), Value::Int(i)) => Value::Float(i as f64),
            (current, value) if current.field_type() == value.field_type() => value,
            (current, value) => {
                return Err(Error::TypeMismatch {
                    path: node.path.to_string(),
                    field_type: current.field_type(),
                    value_type: value.field_type(),
                })
            }
        };
        *current = value;
        self.store.apply(Op::Assign {
            field: FieldId(id),
            value: current,
        })?;
        Ok(())
    }

    /// Stores a file in a File field; `operation` is [`Operation::Upload`]
    /// or [`Operation::Assign`] (a [`File`](crate::File) assigned), which
    /// the errors name.
    pub(crate) fn upload(
        &mut self,
        target: &Target<'_>,
        file: &FileData,
        operation: Operation,
    ) -> Result<()> {
        let id = self.field_for_write(target, FieldType::File, operation, FieldType::File)?;
        let node = &mut self.nodes[id as usize];
        let NodeKind::File(info) = &mut node.kind else {
            return Err(self.refused_assign(id, operation, FieldType::File));
        };
        *info = Some(file.info());
        self.store.apply(Op::Upload {
            field: FieldId(id),
            file,
        })?;
        Ok(())
    }

    /// Appends one point; `step` and `timestamp` default to the last step
    /// plus one and now.
    pub(crate) fn append(
        &mut self,
        target: &Target<'_>,
        item: SeriesItem<'_>,
        step: Option<f64>,
        timestamp: Option<SystemTime>,
    ) -> Result<()> {
        if let SeriesItem::String(s) = item {
            check_string_len(s, || target.full_path())?;
        }
        // Before the series is made: a refused point leaves no empty series.
        let operation = append_operation(target, step, timestamp)?;
        let id = self.field_for_write(target, item.series_type(), operation, item.value_type())?;
        self.append_to(id, item, step, timestamp)
    }

    /// Appends one point to the field `id`, which a write found or made.
    pub(crate) fn append_to(
        &mut self,
        id: u32,
        item: SeriesItem<'_>,
        step: Option<f64>,
        timestamp: Option<SystemTime>,
    ) -> Result<()> {
        if let SeriesItem::String(s) = item {
            check_string_len(s, || self.node(id).path.to_string())?;
        }
        if let Some(t) = timestamp {
            check_time(t, || self.node(id).path.to_string())?;
        }
        let step = self.next_step(id, item.series_type(), item.value_type(), step)?;
        let timestamp = timestamp.unwrap_or_else(crate::clock::now);
        let field = FieldId(id);
        let op = match item {
            SeriesItem::Float(value) => Op::AppendFloat {
                field,
                step,
                value,
                timestamp,
            },
            SeriesItem::String(value) => Op::AppendString {
                field,
                step,
                value,
                timestamp,
            },
            SeriesItem::File(file) => Op::AppendFile {
                field,
                step,
                file,
                timestamp,
            },
        };
        if let Err(err) = self.store.apply(op) {
            self.learn_from(&err);
            return Err(err);
        }
        // Only a point the store took moves the series on.
        if let NodeKind::Series { last_step, .. } = &mut self.nodes[id as usize].kind {
            *last_step = Some(step);
        }
        Ok(())
    }

    /// Learns from a store's refusal: points at steps another process has
    /// stored already (ranks of one run appending to one series) move this
    /// run's series on to that process's last step, so its next default
    /// steps follow it rather than be refused again.
    pub(crate) fn learn_from(&mut self, err: &Error) {
        let Error::StepNotIncreasing { path, last, .. } = err else {
            return;
        };
        if let Lookup::Found(id) = self.lookup_from(ROOT, path) {
            if let NodeKind::Series { last_step, .. } = &mut self.nodes[id as usize].kind {
                if last_step.is_none_or(|mine| mine < *last) {
                    *last_step = Some(*last);
                }
            }
        }
    }

    /// The step of a point of `value_type` appended to the field `id` (a
    /// `series_type`) at `step`, or at the default step: the checks of an
    /// append.
    #[inline]
    fn next_step(
        &self,
        id: u32,
        series_type: FieldType,
        value_type: FieldType,
        step: Option<f64>,
    ) -> Result<f64> {
        let operation = if step.is_some() {
            Operation::AppendAt
        } else {
            Operation::Append
        };
        let node = self.node(id);
        let NodeKind::Series {
            field_type,
            last_step,
        } = &node.kind
        else {
            return Err(self.unsupported(id, operation));
        };
        if *field_type != series_type {
            return Err(Error::TypeMismatch {
                path: node.path.to_string(),
                field_type: *field_type,
                value_type,
            });
        }
        match (step, *last_step) {
            (Some(step), _) if !step.is_finite() => Err(Error::InvalidStep {
                path: node.path.to_string(),
                step,
            }),
            (Some(step), Some(last)) if step <= last => Err(Error::StepNotIncreasing {
                path: node.path.to_string(),
                step,
                last,
            }),
            (Some(step), _) => Ok(step),
            // Above 2^53 the next integer rounds back to `last`.
            (None, Some(last)) if last + 1.0 <= last => Err(Error::StepNotIncreasing {
                path: node.path.to_string(),
                step: last + 1.0,
                last,
            }),
            (None, Some(last)) => Ok(last + 1.0),
            (None, None) => Ok(0.0),
        }
    }

    /// Adds strings to a StringSet (creating it), or replaces its items.
    pub(crate) fn add_strings(
        &mut self,
        target: &Target<'_>,
        items: &[String],
        replace: bool,
    ) -> Result<()> {
        for item in items {
            check_string_len(item, || target.full_path())?;
        }
        let operation = if replace {
            Operation::Assign
        } else {
            Operation::Add
        };
        let id = self.field_for_write(
            target,
            FieldType::StringSet,
            operation,
            FieldType::StringSet,
        )?;
        let node = &mut self.nodes[id as usize];
        let NodeKind::StringSet(set) = &mut node.kind else {
            return Err(self.refused_assign(id, operation, FieldType::StringSet));
        };
        if replace {
            set.clear();
        }
        set.extend(items.iter().cloned());
        let field = FieldId(id);
        if replace {
            self.store.apply(Op::Clear { field })?;
        }
        self.store.apply(Op::AddStrings { field, items })?;
        Ok(())
    }

    pub(crate) fn remove_strings(&mut self, target: &Target<'_>, items: &[String]) -> Result<()> {
        let id = self.existing(target)?;
        self.check_writable(id)?;
        let NodeKind::StringSet(set) = &mut self.nodes[id as usize].kind else {
            return Err(self.unsupported(id, Operation::Remove));
        };
        for item in items {
            set.remove(item);
        }
        self.store.apply(Op::RemoveStrings {
            field: FieldId(id),
            items,
        })?;
        Ok(())
    }

    pub(crate) fn clear(&mut self, target: &Target<'_>) -> Result<()> {
        let id = self.existing(target)?;
        self.check_writable(id)?;
        match &mut self.nodes[id as usize].kind {
            NodeKind::Series { last_step, .. } => *last_step = None,
            NodeKind::StringSet(set) => set.clear(),
            _ => return Err(self.unsupported(id, Operation::Clear)),
        }
        self.store.apply(Op::Clear { field: FieldId(id) })?;
        Ok(())
    }

    pub(crate) fn delete(&mut self, target: &Target<'_>) -> Result<()> {
        let id = self.existing(target)?;
        if !matches!(self.node(id).kind, NodeKind::Namespace(_)) {
            return Err(self.unsupported(id, Operation::Delete));
        }
        let mut doomed = Vec::new();
        self.collect(id, &mut doomed);
        if let Some(&system) = doomed.iter().find(|&&n| self.node(n).system) {
            return Err(Error::ReadOnly {
                path: self.node(system).path.to_string(),
                reason: ReadOnlyReason::SystemField,
            });
        }
        for &node in &doomed {
            if !matches!(self.node(node).kind, NodeKind::Namespace(_)) {
                self.store.apply(Op::DeleteField {
                    field: FieldId(node),
                })?;
            }
        }
        for &node in &doomed {
            self.nodes[node as usize].alive = false;
        }
        if id == ROOT {
            // The root stays; it only loses its children.
            self.nodes[0].alive = true;
            if let NodeKind::Namespace(children) = &mut self.nodes[0].kind {
                children.clear();
            }
        } else {
            self.detach(id);
        }
        Ok(())
    }

    /// Removes `id` from its parent, and empty parents from theirs: a
    /// namespace exists only through what it holds.
    fn detach(&mut self, mut id: u32) {
        loop {
            let path = self.node(id).path.clone();
            let (parent_path, name) = match path.rfind('/') {
                Some(slash) => (&path[..slash], &path[slash + 1..]),
                None => ("", &path[..]),
            };
            let Lookup::Found(parent) = self.lookup_from(ROOT, parent_path) else {
                return;
            };
            self.nodes[id as usize].alive = false;
            let NodeKind::Namespace(children) = &mut self.nodes[parent as usize].kind else {
                return;
            };
            children.remove(name);
            if parent == ROOT || !children.is_empty() {
                return;
            }
            id = parent;
        }
    }

    fn collect(&self, id: u32, out: &mut Vec<u32>) {
        out.push(id);
        if let NodeKind::Namespace(children) = &self.node(id).kind {
            for &child in children.values() {
                self.collect(child, out);
            }
        }
    }

    // ---- reads --------------------------------------------------------

    pub(crate) fn field_type(&self, target: &Target<'_>) -> Option<FieldType> {
        match self.lookup(target) {
            Lookup::Found(id) => Some(self.node(id).kind.field_type()),
            _ => None,
        }
    }

    pub(crate) fn fetch(&self, target: &Target<'_>) -> Result<Value> {
        let id = self.existing(target)?;
        self.value_of(id)
            .ok_or_else(|| self.unsupported(id, Operation::Fetch))
    }

    /// The value of an atom, set or file, or a namespace's nested values.
    fn value_of(&self, id: u32) -> Option<Value> {
        match &self.node(id).kind {
            NodeKind::Atom(value) => Some(value.clone()),
            NodeKind::StringSet(set) => Some(Value::StringSet(set.clone())),
            NodeKind::File(info) => info.clone().map(Value::File),
            NodeKind::Series { .. } => None,
            NodeKind::Namespace(children) => Some(Value::Namespace(
                children
                    .iter()
                    .filter_map(|(name, &child)| {
                        self.value_of(child).map(|v| (name.to_string(), v))
                    })
                    .collect(),
            )),
        }
    }

    fn series(&self, target: &Target<'_>, operation: Operation) -> Result<u32> {
        let id = self.existing(target)?;
        match self.node(id).kind.field_type() {
            t if t.accepts(operation) => Ok(id),
            _ => Err(self.unsupported(id, operation)),
        }
    }

    /// Refuses a read of series points from what is no series.
    pub(crate) fn check_series(&self, target: &Target<'_>) -> Result<()> {
        self.series(target, Operation::FetchValues).map(|_| ())
    }

    pub(crate) fn fetch_last(&mut self, target: &Target<'_>) -> Result<Point> {
        let id = self.series(target, Operation::FetchLast)?;
        self.store
            .read_last(FieldId(id))?
            .ok_or_else(|| Error::NotFound {
                path: self.node(id).path.to_string(),
            })
    }

    pub(crate) fn fetch_values(&mut self, target: &Target<'_>) -> Result<Vec<Point>> {
        let id = self.series(target, Operation::FetchValues)?;
        self.store.read_series(FieldId(id))
    }

    /// The points of a series with steps in `steps`, a chunk per call of
    /// `each` (see [`Store::read_range`]).
    pub(crate) fn read_range(
        &mut self,
        target: &Target<'_>,
        steps: RangeInclusive<f64>,
        each: &mut dyn FnMut(Vec<Point>) -> ControlFlow<()>,
    ) -> Result<()> {
        let id = self.series(target, Operation::FetchValues)?;
        self.store.read_range(FieldId(id), steps, each)
    }

    /// A series over `steps` as a chart draws it (see [`crate::window`]).
    pub(crate) fn read_window(
        &mut self,
        target: &Target<'_>,
        steps: RangeInclusive<f64>,
        buckets: usize,
    ) -> Result<crate::window::SeriesWindow> {
        let id = self.series(target, Operation::FetchValues)?;
        if !(1..=crate::window::MAX_BUCKETS).contains(&buckets) {
            return Err(Error::OutOfRange {
                path: self.node(id).path.to_string(),
                detail: format!(
                    "{buckets} buckets: a window has 1 to {} buckets",
                    crate::window::MAX_BUCKETS
                ),
            });
        }
        self.store.read_window(FieldId(id), steps, buckets)
    }

    /// A series' count, first and last point, minimum and maximum.
    pub(crate) fn series_summary(&mut self, target: &Target<'_>) -> Result<SeriesSummary> {
        let id = self.series(target, Operation::FetchValues)?;
        self.store.series_summary(FieldId(id))
    }

    /// Writes a File's bytes, or a FileSeries point's (the last one with
    /// `None`), into `out`.
    pub(crate) fn download_to(
        &mut self,
        target: &Target<'_>,
        step: Option<f64>,
        out: &mut dyn Write,
    ) -> Result<u64> {
        let id = self.existing(target)?;
        let not_found = |tree: &Tree| Error::NotFound {
            path: match step {
                Some(step) => format!("{}@{step}", tree.node(id).path),
                None => tree.node(id).path.to_string(),
            },
        };
        match &self.node(id).kind {
            NodeKind::File(Some(_)) if step.is_none() => {
                Ok(self.store.copy_file(FieldId(id), None, out)?)
            }
            // A File downloads (so this is no unsupported operation), but
            // has nothing at any step.
            NodeKind::File(Some(_)) => Err(not_found(self)),
            NodeKind::Series {
                field_type: FieldType::FileSeries,
                last_step,
            } => {
                let Some(step) = step.or(*last_step) else {
                    return Err(not_found(self));
                };
                let mut found = false;
                self.store
                    .read_range(FieldId(id), step..=step, &mut |points| {
                        found = !points.is_empty();
                        ControlFlow::Break(())
                    })?;
                if !found {
                    return Err(not_found(self));
                }
                Ok(self.store.copy_file(FieldId(id), Some(step), out)?)
            }
            _ => Err(self.unsupported(id, Operation::Download)),
        }
    }

    pub(crate) fn structure(&self, target: &Target<'_>, skip_sys: bool) -> Result<Structure> {
        let id = self.existing(target)?;
        let mut entries = BTreeMap::new();
        match &self.node(id).kind {
            NodeKind::Namespace(children) => {
                for (name, &child) in children {
                    if skip_sys && id == ROOT && &**name == SYS {
                        continue;
                    }
                    entries.insert(name.to_string(), self.entry(child));
                }
            }
            _ => {
                let path = &self.node(id).path;
                let name = path.rsplit('/').next().unwrap_or(path);
                entries.insert(name.to_owned(), self.entry(id));
            }
        }
        Ok(Structure { entries })
    }

    fn entry(&self, id: u32) -> Entry {
        match &self.node(id).kind {
            NodeKind::Namespace(children) => Entry::Namespace(
                children
                    .iter()
                    .map(|(name, &child)| (name.to_string(), self.entry(child)))
                    .collect(),
            ),
            NodeKind::Atom(value) => Entry::Field {
                field_type: value.field_type(),
                value: Some(value.clone()),
            },
            kind => Entry::Field {
                field_type: kind.field_type(),
                value: None,
            },
        }
    }

    /// Rebuilds fields from what a store holds (resume, read-only open).
    /// Only `CreateField` reaches the store: the values are already there.
    pub(crate) fn restore(&mut self, fields: Vec<StoredField>) -> Result<()> {
        for stored in fields {
            let path = stored.path.as_str();
            if hippocamp_path::validate(path).is_err() {
                log::warn!("hippocamp: skipping stored field with an invalid path {path:?}");
                continue;
            }
            let id = self.create(path, stored.field_type, true)?;
            // `create` marked everything it made as the system's; only the
            // `sys` namespace and its system fields are.
            for segment_end in path.match_indices('/').map(|(i, _)| i) {
                if let Lookup::Found(ns) = self.lookup_from(ROOT, &path[..segment_end]) {
                    self.nodes[ns as usize].system = &path[..segment_end] == SYS;
                }
            }
            let node = &mut self.nodes[id as usize];
            node.system = system_owned(path);
            match (&mut node.kind, stored) {
                (NodeKind::Atom(value), StoredField { value: Some(v), .. }) => *value = v,
                (NodeKind::StringSet(set), StoredField { items, .. }) => set.extend(items),
                (NodeKind::File(info), StoredField { file, .. }) => *info = file,
                (NodeKind::Series { last_step, .. }, StoredField { last_step: l, .. }) => {
                    *last_step = l
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Reads the whole tree again from the store: a read-only run sees
    /// what the writing process logged since. Node ids change; handlers'
    /// caches notice through the node uids.
    pub(crate) fn reload(&mut self) -> Result<()> {
        let fields = self.store.load()?;
        self.nodes.truncate(1);
        self.nodes[0] = Node {
            path: Arc::from(""),
            uid: next_uid(),
            alive: true,
            system: false,
            kind: NodeKind::Namespace(FxHashMap::default()),
        };
        self.restore(fields)
    }

    /// Sets a system field, bypassing the read-only rule (`sys/failed`).
    pub(crate) fn set_system(&mut self, path: &str, value: Value) -> Result<()> {
        let id = match self.lookup_from(ROOT, path) {
            Lookup::Found(id) => id,
            _ => self.create(path, value.field_type(), true)?,
        };
        self.set_atom(id, value)
    }

    /// Sets an atom the store has already written (the state a closed
    /// run's store reports): the tree only, no operation reaches the store.
    pub(crate) fn set_stored_atom(&mut self, path: &str, value: Value) {
        if let Lookup::Found(id) = self.lookup_from(ROOT, path) {
            if let NodeKind::Atom(current) = &mut self.nodes[id as usize].kind {
                if current.field_type() == value.field_type() {
                    *current = value;
                }
            }
        }
    }
}

/// The operation an append is (with a step or without), once its step and
/// timestamp pass the checks that come before any field is made.
fn append_operation(
    target: &Target<'_>,
    step: Option<f64>,
    timestamp: Option<SystemTime>,
) -> Result<Operation> {
    if let Some(step) = step.filter(|s| !s.is_finite()) {
        return Err(Error::InvalidStep {
            path: target.full_path(),
            step,
        });
    }
    if let Some(t) = timestamp {
        check_time(t, || target.full_path())?;
    }
    Ok(if step.is_some() {
        Operation::AppendAt
    } else {
        Operation::Append
    })
}

/// Whether a `sys/` path is the system's (all but the user's three).
pub(crate) fn system_owned(path: &str) -> bool {
    path.starts_with("sys/") && !matches!(path, "sys/name" | "sys/description" | "sys/tags")
}

/// The next node uid; 0 once 2^32 - 1 have been handed out (such nodes
/// are never cached).
fn next_uid() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_add(1))
        .unwrap_or(0)
}

/// Refuses an atom beyond a limit (a string's length, a time's range).
fn check_atom(value: &Value, path: impl FnOnce() -> String) -> Result<()> {
    match value {
        Value::String(s) => check_string_len(s, path),
        Value::Datetime(t) => check_time(*t, path),
        _ => Ok(()),
    }
}

/// Refuses a time a store cannot keep exactly: stores hold nanoseconds
/// since 1970 in an `i64` (1677-09-21 to 2262-04-11).
pub(crate) fn check_time(t: SystemTime, path: impl FnOnce() -> String) -> Result<()> {
    let fits = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => after.as_nanos() <= i64::MAX as u128,
        Err(before) => before.duration().as_nanos() <= u128::from(i64::MIN.unsigned_abs()),
    };
    if !fits {
        return Err(Error::OutOfRange {
            path: path(),
            detail: format!(
                "the time {} is outside the times a store keeps exactly \
                 (1677-09-21 to 2262-04-11: nanoseconds since 1970 in 64 bits)",
                Value::Datetime(t)
            ),
        });
    }
    Ok(())
}

pub(crate) fn check_string_len(s: &str, path: impl FnOnce() -> String) -> Result<()> {
    if s.len() > MAX_STRING_BYTES {
        return Err(Error::OutOfRange {
            path: path(),
            detail: format!(
                "a string of {} bytes is longer than the limit of {MAX_STRING_BYTES} bytes \
                 (log long text as a File)",
                s.len()
            ),
        });
    }
    Ok(())
}
