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
    /// Integers.
    Int,
    /// Floating-point numbers.
    Float,
    /// `true` / `false`.
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
    /// The weight's name.
    Name = "name": Text, Identity;
    /// Same as `name` (WeightWatcher writes both).
    Longname = "longname": Text, Identity;
    /// Kernel position of a conv slice, in sliced mode (`pool: false`).
    SliceId = "slice_id": Int, Identity;
    /// The layer kind: `dense`, `conv2d`, and as extensions `conv1d`, `conv3d`, `conv_transpose`, `embedding`, `rnn`.
    LayerType = "layer_type": Text, Identity;
    /// How far the row got (`RowStatus`, §9).
    Status = "status": ROW_STATUS, Outcome;
    /// The HT-SR warning of the fit: `over-trained`, `under-trained`, `fit_failed` or empty (§9).
    Warning = "warning": WARNING, Outcome;
    /// N, the larger side of the row's matrices (§2.5; compat Q1 for convs).
    N = "N": Int, Shape;
    /// M, the smaller side of the row's matrices (§2.5).
    M = "M": Int, Shape;
    /// Q = N/M.
    Q = "Q": Float, Shape;
    /// Receptive field: kernel positions of a conv layer (1 for dense).
    Rf = "rf": Int, Shape;
    /// n, the number of eigenvalues in the row's ESD.
    NumEvals = "num_evals": Int, Shape;
    /// Whether the row has an ESD (always true on analyzed rows).
    HasEsd = "has_esd": Bool, Shape;
    /// The power-law exponent α of the tail (§5, §6).
    Alpha = "alpha": Float, PowerLaw;
    /// Smallest eigenvalue of the fitted tail.
    Xmin = "xmin": Float, PowerLaw;
    /// Largest eigenvalue of the fitted sample; empty where WeightWatcher leaves it so (Q16).
    Xmax = "xmax": Float, PowerLaw;
    /// Kolmogorov–Smirnov distance of the fit.
    D = "D": Float, PowerLaw;
    /// Standard error of alpha, (alpha − 1)/√n (§5.2).
    Sigma = "sigma": Float, PowerLaw;
    /// Eigenvalues in the fitted tail, λ ≥ xmin.
    NumPlSpikes = "num_pl_spikes": Int, PowerLaw;
    /// Largest eigenvalues dropped by `fix_fingers: clip_xmax` (§5.5).
    NumFingers = "num_fingers": Int, PowerLaw;
    /// clip_xmax: alpha of the first, unclipped fit (§5.5).
    RawAlpha = "raw_alpha": Float, PowerLaw;
    /// The truncated power law's exponential cut-off rate (`fit: TPL`).
    Lambda = "Lambda": Float, PowerLaw;
    /// max λ, the largest eigenvalue.
    LambdaMax = "lambda_max": Float, Norms;
    /// Σλ = ‖W‖²_F (√Σλ with `norm_convention: frobenius`, §8).
    Norm = "norm": Float, Norms;
    /// log10(`norm`).
    LogNorm = "log_norm": Float, Norms;
    /// max λ = σ_max² (§8).
    SpectralNorm = "spectral_norm": Float, Norms;
    /// log10(max λ).
    LogSpectralNorm = "log_spectral_norm": Float, Norms;
    /// α̂ = alpha · log10(max λ); needs a successful fit (§8).
    AlphaWeighted = "alpha_weighted": Float, Norms;
    /// log10(Σ λ_j^alpha) over all λ; needs a successful fit (§8).
    LogAlphaNorm = "log_alpha_norm": Float, Norms;
    /// Σλ / max λ.
    StableRank = "stable_rank": Float, Norms;
    /// Spectral entropy normalised by ln(matrix_rank) (§8); null for rank ≤ 1 natively.
    Entropy = "entropy": Float, Norms;
    /// #{√λ_j > max √λ · N · ε} over the pooled λ (§8).
    MatrixRank = "matrix_rank": Int, Norms;
    /// Σ over the matrices of len(σ) − #{σ > max σ · N · ε} (§4.1).
    RankLoss = "rank_loss": Int, Norms;
    /// #{λ < `tolerance`} (§4.1).
    WeakRankLoss = "weak_rank_loss": Int, Norms;
    /// The largest singular value over the row's matrices (= √λ_max).
    SvMax = "sv_max": Float, Norms;
    /// The smallest singular value over the row's matrices (compat Q2: WW's max of per-matrix minima).
    SvMin = "sv_min": Float, Norms;
    /// σ̂, the fitted Marchenko–Pastur scale (§7).
    SigmaMp = "sigma_mp": Float, MarchenkoPastur;
    /// Eigenvalues above the MP bulk edge plus the Tracy–Widom margin (§7).
    NumSpikes = "num_spikes": Int, MarchenkoPastur;
    /// MP bulk edge / max eigenvalue, in rescaled units (§7).
    MpSoftrank = "mp_softrank": Float, MarchenkoPastur;
    /// Upper edge of the fitted MP bulk, original units (§7).
    BulkMax = "bulk_max": Float, MarchenkoPastur;
    /// Lower edge of the fitted MP bulk, original units (§7).
    BulkMin = "bulk_min": Float, MarchenkoPastur;
    /// √n / √Σλ, the rescaling to mean-1 eigenvalues (§7.2).
    WScale = "W_scale": Float, MarchenkoPastur;
    /// Outcome of the MP fit: `success` or `failed`.
    MpStatus = "mp_status": FIT_STATUS, MarchenkoPastur;
    /// Largest eigenvalue of the randomized ESD (§10).
    MaxRandEval = "max_rand_eval": Float, Randomize;
    /// Jensen–Shannon distance between the ESD and a randomized one (§10).
    RandDistance = "rand_distance": Float, Randomize;
    /// max of a randomized ESD / max λ (§10).
    WwSoftrank = "ww_softrank": Float, Randomize;
    /// max λ − max of a randomized ESD (§10).
    WwMaxdist = "ww_maxdist": Float, Randomize;
    /// `num_spikes` of the MP fit to the randomized ESD (§10).
    RandNumSpikes = "rand_num_spikes": Int, Randomize;
    /// Same as `rand_num_spikes` (WeightWatcher writes both).
    NumTraps = "num_traps": Int, Randomize;
    /// `sigma_mp` of the MP fit to the randomized ESD (§10).
    RandSigmaMp = "rand_sigma_mp": Float, Randomize;
    /// `mp_softrank` of the MP fit to the randomized ESD (§10).
    RandMpSoftrank = "rand_mp_softrank": Float, Randomize;
    /// `W_scale` of the randomized ESD (§10).
    RandWScale = "rand_W_scale": Float, Randomize;
    /// `bulk_max` of the MP fit to the randomized ESD (§10).
    RandBulkMax = "rand_bulk_max": Float, Randomize;
    /// `bulk_min` of the MP fit to the randomized ESD (§10).
    RandBulkMin = "rand_bulk_min": Float, Randomize;
    /// detX tail size: the smallest tail whose rescaled product drops below 1 (§11).
    DetxNum = "detX_num": Int, DetX;
    /// λ at the detX tail's start, original units (§11).
    DetxVal = "detX_val": Float, DetX;
    /// The detX tail's start in mean-1 units (§11).
    DetxValRescaled = "detX_val_rescaled": Float, DetX;
    /// WeightWatcher's name for the rescaled value (compat quirk Q8).
    DetxValUnrescaled = "detX_val_unrescaled": Float, DetX;
    /// False when the product never dropped below 1 (Q9).
    DetxReached = "detX_reached": Bool, DetX;
    /// Same as `detX_num`.
    NumErgSpikes = "num_ERG_spikes": Int, DetX;
    /// detX_num − num_pl_spikes; null without a fit (§11).
    ErgGap = "ERG_gap": Int, DetX;
    /// Mean of `vec_entropy` over the bulk (eigenvalue < xmin) eigenvectors (§12).
    BulkMeanVecEntropy = "bulk_mean_vec_entropy": Float, Vectors;
    /// Population variance of `vec_entropy` over the bulk (eigenvalue < xmin) eigenvectors (§12).
    BulkVarVecEntropy = "bulk_var_vec_entropy": Float, Vectors;
    /// Mean of `loc_ratio` over the bulk (eigenvalue < xmin) eigenvectors (§12).
    BulkMeanLocRatio = "bulk_mean_loc_ratio": Float, Vectors;
    /// Population variance of `loc_ratio` over the bulk (eigenvalue < xmin) eigenvectors (§12).
    BulkVarLocRatio = "bulk_var_loc_ratio": Float, Vectors;
    /// Mean of `part_ratio` over the bulk (eigenvalue < xmin) eigenvectors (§12).
    BulkMeanPartRatio = "bulk_mean_part_ratio": Float, Vectors;
    /// Population variance of `part_ratio` over the bulk (eigenvalue < xmin) eigenvectors (§12).
    BulkVarPartRatio = "bulk_var_part_ratio": Float, Vectors;
    /// Mean of `vec_entropy` over the tail (eigenvalue ≥ xmin) eigenvectors (§12).
    TailMeanVecEntropy = "tail_mean_vec_entropy": Float, Vectors;
    /// Population variance of `vec_entropy` over the tail (eigenvalue ≥ xmin) eigenvectors (§12).
    TailVarVecEntropy = "tail_var_vec_entropy": Float, Vectors;
    /// Mean of `loc_ratio` over the tail (eigenvalue ≥ xmin) eigenvectors (§12).
    TailMeanLocRatio = "tail_mean_loc_ratio": Float, Vectors;
    /// Population variance of `loc_ratio` over the tail (eigenvalue ≥ xmin) eigenvectors (§12).
    TailVarLocRatio = "tail_var_loc_ratio": Float, Vectors;
    /// Mean of `part_ratio` over the tail (eigenvalue ≥ xmin) eigenvectors (§12).
    TailMeanPartRatio = "tail_mean_part_ratio": Float, Vectors;
    /// Population variance of `part_ratio` over the tail (eigenvalue ≥ xmin) eigenvectors (§12).
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
    /// The stored type, and for a quantized weight its form: `float`, `int8 (dequantized,
    /// per-axis 0, sym)`, `int4 (dequantized, block 32, asym)` (schema 3; tailwatch's own).
    Dtype = "dtype": Text, Identity;
    /// Where the values come from: `initializer`, `constant_node`, `folded`, `dequantized`…
    /// (schema 3; tailwatch's own).
    Origin = "origin": Text, Identity;
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
