//! Output formats.

pub mod describe;
