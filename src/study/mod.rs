//! Config-driven studies: a YAML file of models and reported errors → analyses → correlations →
//! a report (methods.md §15).

pub(crate) mod cache;
pub mod config;
pub mod run;
pub mod shard;

pub use config::{Stage, Study, Target};
pub use run::{Progress, Quiet, StudyOutcome, run};
