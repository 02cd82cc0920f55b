//! The release gate (`tailwatch gate`): a yes/no answer with reasons for model registries and CI.
//!
//! A gate file holds analysis options and rules (`rules`); the model (and optionally a baseline)
//! is analyzed and every rule is judged (`eval`) into a `Verdict` (`verdict`), written for people
//! (`verdict::human`), for machines (`verdict::to_json`), for CI test reports (`junit`) and for
//! CI step summaries and merge-request comments (`summary_md`). Rules that compare the weights
//! with a baseline read `crate::compare`.
//! Metric names and derived metrics live in `metrics`; baselines come from `baseline`.
//!
//! Fail closed: anything that cannot be evaluated is an error (exit 2), never a pass.

pub(crate) mod baseline;
pub mod eval;
pub mod junit;
pub(crate) mod metrics;
pub(crate) mod rules;
pub mod summary_md;
pub mod verdict;

pub use baseline::{BaselineSource, Evidence};
pub use eval::evaluate;
pub use rules::{Gate, Rule, RuleKind};
pub use verdict::{RuleOutcome, Status, Verdict};
