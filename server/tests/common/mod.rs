//! Helpers of the server's tests.

pub mod browser;
