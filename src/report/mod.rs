//! Reports: every file tailwatch writes, each format in its own module.

pub mod analysis;
pub mod audit;
pub mod escape;
pub(crate) mod html;
pub(crate) mod markdown;
pub mod output;
pub(crate) mod page;
pub mod plots;
pub mod profiles;
pub mod study;
pub(crate) mod tables;
