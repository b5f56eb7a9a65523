//! One module per command.

pub mod check;
pub mod diff;
pub mod export;
pub mod gc;
pub mod get;
pub mod import;
pub mod ls;
pub mod plot;
pub mod rm;
pub mod show;
pub mod tag;
pub mod ui;
