//! The model summary's layout (docs/methods.md §13): the per-row metrics averaged into it, and
//! the counts written beside them, each declared once.

use serde::{Deserialize, Serialize};

use super::columns::Column;
use crate::options::AnalysisOptions;

/// Which fit a summary mean depends on: rows whose fit failed are left out of it (natively).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FitNeed {
    /// No fit: every analyzed row counts.
    None,
    /// A successful power-law fit (`status: success`).
    PowerLaw,
    /// A successful Marchenko–Pastur fit (`mp_status: success`); the mean is written only with
    /// `mp_fit: true`.
    MarchenkoPastur,
}

/// One mean of the summary: the mean of a column over the analyzed rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SummaryMean {
    /// The column averaged; the mean is written under its name.
    pub column: Column,
    /// Which rows it leaves out.
    pub needs: FitNeed,
}

const fn mean(column: Column, needs: FitNeed) -> SummaryMean {
    SummaryMean { column, needs }
}

/// The summary means, in output order (WeightWatcher's `get_summary()` keys).
pub const SUMMARY_MEANS: &[SummaryMean] = &[
    mean(Column::LogNorm, FitNeed::None),
    mean(Column::Alpha, FitNeed::PowerLaw),
    mean(Column::AlphaWeighted, FitNeed::PowerLaw),
    mean(Column::LogAlphaNorm, FitNeed::PowerLaw),
    mean(Column::LogSpectralNorm, FitNeed::None),
    mean(Column::StableRank, FitNeed::None),
    mean(Column::MpSoftrank, FitNeed::MarchenkoPastur),
];

impl SummaryMean {
    /// The summary mean of `column`, if the summary has one.
    pub fn of(column: Column) -> Option<SummaryMean> {
        SUMMARY_MEANS.iter().copied().find(|m| m.column == column)
    }

    /// The summary mean called `name`, if any.
    pub fn from_name(name: &str) -> Option<SummaryMean> {
        Column::from_name(name).and_then(SummaryMean::of)
    }

    /// The mean's name in outputs (the column's).
    pub const fn name(self) -> &'static str {
        self.column.name()
    }

    /// Whether a summary under these options has this mean (the MP mean needs `mp_fit`).
    pub fn applies(self, opts: &AnalysisOptions) -> bool {
        self.needs != FitNeed::MarchenkoPastur || opts.mp_fit
    }
}

/// The means a summary under these options has, in output order.
pub fn means_for(opts: &AnalysisOptions) -> Vec<SummaryMean> {
    SUMMARY_MEANS
        .iter()
        .copied()
        .filter(|m| m.applies(opts))
        .collect()
}

macro_rules! counts {
    ($( $(#[doc = $doc:literal])* $field:ident, )*) => {
        /// The counts of a model summary, written after the means in this order.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub struct Counts {
            $( $(#[doc = $doc])* pub $field: usize, )*
        }

        impl Counts {
            /// Every count's name, in output order.
            pub const NAMES: &'static [&'static str] = &[ $( stringify!($field), )* ];

            /// (name, value) of every count, in output order.
            pub fn entries(&self) -> Vec<(&'static str, usize)> {
                vec![ $( (stringify!($field), self.$field), )* ]
            }

            /// The count called `name`, if any.
            pub fn get(&self, name: &str) -> Option<usize> {
                match name { $( stringify!($field) => Some(self.$field), )* _ => None }
            }
        }
    };
}

counts! {
    /// Weight layers found (analyzed, failed or skipped).
    n_layers,
    /// Rows of details (slices count one each in sliced mode).
    n_rows,
    /// Weight layers left out by the size filter.
    n_skipped,
    /// Rows whose weights could not be analyzed (NaN/Inf, unsupported dtype, over budget…).
    n_invalid,
    /// Analyzed rows whose power-law fit failed.
    n_fit_failed,
    /// Analyzed rows whose Marchenko–Pastur fit failed.
    n_mp_failed,
    /// Analyzed rows warned over-trained (alpha < 2) with a successful fit.
    n_over_trained,
    /// Analyzed rows warned under-trained (alpha > 6).
    n_under_trained,
}
