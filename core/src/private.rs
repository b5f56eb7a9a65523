//! What the macros' expansions call. Not a public API: names here may
//! change in any release.

use std::borrow::Cow;

pub use crate::callsite::Callsite;
pub use crate::error::{Error, Result};
pub use crate::handler::Handler;
pub use crate::log::{
    Appendable, IntoStep, LogField, LogNamespace, LogOptions, Loggable, SeriesValue,
};
pub use crate::typed::TypedPath;
pub use std::borrow::Cow as CowStr;
pub use std::clone::Clone;
pub use std::default::Default;
pub use std::fmt::{Debug, Formatter, Result as FmtResult};
pub use std::format;
pub use std::marker::PhantomData;
pub use std::result::Result::{Err, Ok};

/// What `log!` logs to: a run, a handler, or a typed namespace handle.
#[diagnostic::on_unimplemented(
    message = "`log!` cannot log to a `{Self}`",
    label = "not a run, a handler or a namespace handle",
    note = "log! logs to a `Run`, a `Handler` or a `Typed<kind::Namespace>` handle, or a reference to one"
)]
pub trait LogTarget {
    /// The handler paths are relative to.
    fn log_target(&self) -> &Handler;
}

impl LogTarget for crate::run::Run {
    fn log_target(&self) -> &Handler {
        self.root()
    }
}

impl LogTarget for Handler {
    fn log_target(&self) -> &Handler {
        self
    }
}

impl LogTarget for crate::typed::Typed<crate::typed::kind::Namespace> {
    fn log_target(&self) -> &Handler {
        self.handler()
    }
}

impl<T: LogTarget + ?Sized> LogTarget for &T {
    fn log_target(&self) -> &Handler {
        (**self).log_target()
    }
}

/// `log!(t, "p" => v)`.
#[inline]
pub fn assign<T: LogTarget + ?Sized, V: Loggable + ?Sized>(
    target: &T,
    path: &str,
    value: &V,
    options: &LogOptions,
) -> Result<()> {
    value.log_at(target.log_target(), path, options)
}

/// `log!(t, "p" => v)` with a literal path, through its callsite cache.
#[inline]
pub fn assign_site<T: LogTarget + ?Sized, V: Loggable + ?Sized>(
    target: &T,
    site: &Callsite,
    value: &V,
    options: &LogOptions,
) -> Result<()> {
    value.log_at_site(target.log_target(), site, options)
}

/// `log!(t, "p" += v)` with a literal path, through its callsite cache.
#[inline]
pub fn append_site<T: LogTarget + ?Sized, V: Appendable + ?Sized>(
    target: &T,
    site: &Callsite,
    value: &V,
    options: &LogOptions,
) -> Result<()> {
    value.append_at_site(target.log_target(), site, options)
}

/// `log!(t, "p" += v)`.
#[inline]
pub fn append<T: LogTarget + ?Sized, V: Appendable + ?Sized>(
    target: &T,
    path: &str,
    value: &V,
    options: &LogOptions,
) -> Result<()> {
    value.append_at(target.log_target(), path, options)
}

/// The path of a struct's field `name` under `prefix` (`""` is the root).
#[inline]
pub fn child_path(prefix: &str, name: &'static str) -> Cow<'static, str> {
    if prefix.is_empty() {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(hippocamp_path::join(prefix, name))
    }
}

/// The handler of a nested struct's namespace (`rel` may be `""`).
#[inline]
pub fn child<'a>(target: &'a Handler, rel: &str) -> Cow<'a, Handler> {
    crate::log::at_rel(target, rel)
}
