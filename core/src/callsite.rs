//! The static callsite cache of `log!`: the hot path skips path checks
//! and lookups for a literal path it has resolved before.
//!
//! Each literal path of a `log!` entry (and each field of a derived
//! struct) gets a `static Callsite`. After a write through it succeeds, the
//! callsite remembers, in one atomic word, the base namespace's process-wide
//! node uid and the field's node. The next write under the same base reads
//! the word under the run's lock, checks the base uid and that the field is
//! still alive, and writes to the field directly. Any mismatch (another run,
//! another base, a deleted field) falls back to the full path: a callsite
//! never changes what a write does, only how fast it finds its field.

use std::sync::atomic::{AtomicU64, Ordering};

/// A literal path of a `log!` entry or a derived struct's field, with the
/// field it last resolved to. Made by the macros' expansions.
///
/// ```
/// use hippocamp_core::__private::Callsite;
/// static SITE: Callsite = Callsite::new("train/loss");
/// assert_eq!(SITE.path(), "train/loss");
/// ```
#[derive(Debug)]
pub struct Callsite {
    path: &'static str,
    /// `base uid << 32 | field node`, or 0 when nothing is remembered.
    slot: AtomicU64,
}

impl Callsite {
    /// A callsite for `path` (checked like any path when first used).
    pub const fn new(path: &'static str) -> Callsite {
        Callsite {
            path,
            slot: AtomicU64::new(0),
        }
    }

    /// The literal path.
    pub fn path(&self) -> &'static str {
        self.path
    }

    // Relaxed is enough: the word is self-contained, and what it points at
    // is read under the run's lock and checked before use.
    #[inline]
    pub(crate) fn get(&self) -> Option<(u32, u32)> {
        match self.slot.load(Ordering::Relaxed) {
            0 => None,
            word => Some(((word >> 32) as u32, word as u32)),
        }
    }

    #[inline]
    pub(crate) fn set(&self, base_uid: u32, node: u32) {
        self.slot.store(
            u64::from(base_uid) << 32 | u64::from(node),
            Ordering::Relaxed,
        );
    }
}
