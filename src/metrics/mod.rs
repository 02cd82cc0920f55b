//! Per-layer metrics and model summaries: everything computed from a row's spectrum and fits.

pub(crate) mod norms;
pub(crate) mod randomize;
pub mod row;
pub mod summary;
pub(crate) mod vectors;
