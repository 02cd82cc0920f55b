//! Every column of `details` (the per-layer rows), declared once.
//!
//! Names and meanings are WeightWatcher 0.7.7's (docs/methods.md §8), so that notebooks carry
//! over; tailwatch's own columns come last. The declaration order is the canonical column order
//! of every writer. Each column says what its cells hold (`CellType`) and which stage of the
//! pipeline produces it (`Stage`), which tells the gate whether an option must be on for it.

use crate::fits::{FitStatus, Warning};
use crate::options::AnalysisOptions;

use super::status::RowStatus;

/// What the cells of a column hold. Every column may also be empty (a CSV blank, JSON null).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellType {
    Int,
    Float,
    Bool,
    /// Free text (names, messages).
    Text,
    /// One of a closed set of strings (a status or warning).
    Choice(&'static [&'static str]),
}

impl CellType {
    /// Whether cells are numbers (ints or floats).
    pub const fn is_numeric(self) -> bool {
        matches!(self, CellType::Int | CellType::Float)
    }
}

/// The pipeline stage that produces a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Which layer or slice a row is: names and ids, not measurements.
    Identity,
    /// The row's outcome: status, warning, what went wrong.
    Outcome,
    /// Matrix shape and ESD size.
    Shape,
    /// The power-law fit of the tail (docs/methods.md §5, §6).
    PowerLaw,
    /// Norms and ranks of the ESD (§8).
    Norms,
    /// The Marchenko–Pastur bulk fit (§7), with `mp_fit: true`.
    MarchenkoPastur,
    /// The randomized ESD (§10), with `randomize: true`.
    Randomize,
    /// detX / ERG (§11), with `detX: true`.
    DetX,
    /// Eigenvector localisation (§12), with `vectors: true`.
    Vectors,
}

impl Stage {
    /// The analysis option that turns the stage on, for stages that are off by default.
    pub const fn option(self) -> Option<&'static str> {
        match self {
            Stage::MarchenkoPastur => Some("mp_fit"),
            Stage::Randomize => Some("randomize"),
            Stage::DetX => Some("detX"),
            Stage::Vectors => Some("vectors"),
            Stage::Identity | Stage::Outcome | Stage::Shape | Stage::PowerLaw | Stage::Norms => {
                None
            }
        }
    }

    /// Whether the stage runs under these options.
    pub fn enabled(self, opts: &AnalysisOptions) -> bool {
        match self {
            Stage::MarchenkoPastur => opts.mp_fit,
            Stage::Randomize => opts.randomize,
            Stage::DetX => opts.detx,
            Stage::Vectors => opts.vectors,
            Stage::Identity | Stage::Outcome | Stage::Shape | Stage::PowerLaw | Stage::Norms => {
                true
            }
        }
    }
}

macro_rules! columns {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal : $ty:expr, $stage:ident; )*) => {
        /// A column of `details`. Its order here is the canonical output order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Column {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Column {
            /// Every column, in canonical order.
            pub const ALL: &'static [Column] = &[ $( Column::$variant, )* ];

            /// The name written to outputs (WeightWatcher's where it has one).
            pub const fn name(self) -> &'static str {
                match self { $( Column::$variant => $name, )* }
            }

            /// What the column's cells hold.
            pub const fn cell_type(self) -> CellType {
                match self { $( Column::$variant => $ty, )* }
            }

            /// The stage that produces the column.
            pub const fn stage(self) -> Stage {
                match self { $( Column::$variant => Stage::$stage, )* }
            }

            /// The column written as `name`, if any.
            pub fn from_name(name: &str) -> Option<Column> {
                match name { $( $name => Some(Column::$variant), )* _ => None }
            }
        }
    };
}

use CellType::{Bool, Float, Int, Text};
const ROW_STATUS: CellType = CellType::Choice(RowStatus::NAMES);
const WARNING: CellType = CellType::Choice(Warning::NAMES);
const FIT_STATUS: CellType = CellType::Choice(FitStatus::NAMES);

columns! {
    /// The model's name, in a study's `details.csv` only.
    Model = "model": Text, Identity;
    /// Position of the weight layer in the model (op-aware order, docs/methods.md §2.6).
    LayerId = "layer_id": Int, Identity;
    Name = "name": Text, Identity;
    Longname = "longname": Text, Identity;
    /// Kernel position of a conv slice, in sliced mode (`pool: false`).
    SliceId = "slice_id": Int, Identity;
    LayerType = "layer_type": Text, Identity;
    Status = "status": ROW_STATUS, Outcome;
    Warning = "warning": WARNING, Outcome;
    N = "N": Int, Shape;
    M = "M": Int, Shape;
    Q = "Q": Float, Shape;
    /// Receptive field: kernel positions of a conv layer (1 for dense).
    Rf = "rf": Int, Shape;
    NumEvals = "num_evals": Int, Shape;
    HasEsd = "has_esd": Bool, Shape;
    Alpha = "alpha": Float, PowerLaw;
    Xmin = "xmin": Float, PowerLaw;
    Xmax = "xmax": Float, PowerLaw;
    /// Kolmogorov–Smirnov distance of the fit.
    D = "D": Float, PowerLaw;
    Sigma = "sigma": Float, PowerLaw;
    NumPlSpikes = "num_pl_spikes": Int, PowerLaw;
    NumFingers = "num_fingers": Int, PowerLaw;
    RawAlpha = "raw_alpha": Float, PowerLaw;
    /// The truncated power law's exponential cut-off rate (`fit: TPL`).
    Lambda = "Lambda": Float, PowerLaw;
    LambdaMax = "lambda_max": Float, Norms;
    Norm = "norm": Float, Norms;
    LogNorm = "log_norm": Float, Norms;
    SpectralNorm = "spectral_norm": Float, Norms;
    LogSpectralNorm = "log_spectral_norm": Float, Norms;
    AlphaWeighted = "alpha_weighted": Float, Norms;
    LogAlphaNorm = "log_alpha_norm": Float, Norms;
    StableRank = "stable_rank": Float, Norms;
    Entropy = "entropy": Float, Norms;
    MatrixRank = "matrix_rank": Int, Norms;
    RankLoss = "rank_loss": Int, Norms;
    WeakRankLoss = "weak_rank_loss": Int, Norms;
    SvMax = "sv_max": Float, Norms;
    SvMin = "sv_min": Float, Norms;
    SigmaMp = "sigma_mp": Float, MarchenkoPastur;
    NumSpikes = "num_spikes": Int, MarchenkoPastur;
    MpSoftrank = "mp_softrank": Float, MarchenkoPastur;
    BulkMax = "bulk_max": Float, MarchenkoPastur;
    BulkMin = "bulk_min": Float, MarchenkoPastur;
    WScale = "W_scale": Float, MarchenkoPastur;
    MpStatus = "mp_status": FIT_STATUS, MarchenkoPastur;
    MaxRandEval = "max_rand_eval": Float, Randomize;
    RandDistance = "rand_distance": Float, Randomize;
    WwSoftrank = "ww_softrank": Float, Randomize;
    WwMaxdist = "ww_maxdist": Float, Randomize;
    RandNumSpikes = "rand_num_spikes": Int, Randomize;
    NumTraps = "num_traps": Int, Randomize;
    RandSigmaMp = "rand_sigma_mp": Float, Randomize;
    RandMpSoftrank = "rand_mp_softrank": Float, Randomize;
    RandWScale = "rand_W_scale": Float, Randomize;
    RandBulkMax = "rand_bulk_max": Float, Randomize;
    RandBulkMin = "rand_bulk_min": Float, Randomize;
    DetxNum = "detX_num": Int, DetX;
    DetxVal = "detX_val": Float, DetX;
    DetxValRescaled = "detX_val_rescaled": Float, DetX;
    /// WeightWatcher's name for the rescaled value (compat quirk Q8).
    DetxValUnrescaled = "detX_val_unrescaled": Float, DetX;
    DetxReached = "detX_reached": Bool, DetX;
    NumErgSpikes = "num_ERG_spikes": Int, DetX;
    ErgGap = "ERG_gap": Int, DetX;
    BulkMeanVecEntropy = "bulk_mean_vec_entropy": Float, Vectors;
    BulkVarVecEntropy = "bulk_var_vec_entropy": Float, Vectors;
    BulkMeanLocRatio = "bulk_mean_loc_ratio": Float, Vectors;
    BulkVarLocRatio = "bulk_var_loc_ratio": Float, Vectors;
    BulkMeanPartRatio = "bulk_mean_part_ratio": Float, Vectors;
    BulkVarPartRatio = "bulk_var_part_ratio": Float, Vectors;
    TailMeanVecEntropy = "tail_mean_vec_entropy": Float, Vectors;
    TailVarVecEntropy = "tail_var_vec_entropy": Float, Vectors;
    TailMeanLocRatio = "tail_mean_loc_ratio": Float, Vectors;
    TailVarLocRatio = "tail_var_loc_ratio": Float, Vectors;
    TailMeanPartRatio = "tail_mean_part_ratio": Float, Vectors;
    TailVarPartRatio = "tail_var_part_ratio": Float, Vectors;
    /// Why the power-law fit failed (tailwatch's own).
    FitFailure = "fit_failure": Text, Outcome;
    /// What kept the row's weights from being analyzed (tailwatch's own).
    Problem = "problem": Text, Outcome;
    /// Eigenvalues near an absolute threshold, which another solver could put on its other
    /// side (§4.2; tailwatch's own).
    NearThresholdEvals = "near_threshold_evals": Int, Shape;
    /// How the weight reached the op: folded, dequantized, shared… (tailwatch's own).
    Flags = "flags": Text, Identity;
}

impl Column {
    /// Whether the column is a measurement a rule may bound: numeric and not an id.
    pub const fn is_metric(self) -> bool {
        self.cell_type().is_numeric() && !matches!(self.stage(), Stage::Identity)
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for Column {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Column {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Column::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown column {name:?}")))
    }
}
