//! Per-layer metrics and model summaries: everything computed from a row's spectrum and fits.

pub mod norms;
pub mod randomize;
pub mod row;
pub mod summary;
pub mod vectors;
