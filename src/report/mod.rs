//! Reports: every file tailwatch writes, each format in its own module.

pub mod analysis;
pub mod describe;
pub mod escape;
pub mod html;
pub mod markdown;
pub mod output;
pub mod plots;
pub mod study;
pub mod tables;
