//! Analysis options, presets and compat switches (methods.md §1, §14).
//!
//! Option names follow WeightWatcher's `analyze()` keywords so that settings carry over. Every
//! option is declared once, in `options!` below, which generates both the full option set and
//! its partial "overrides" form used by YAML files and `--set key=value` on the command line.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

use crate::error::{Error, Result};

/// Tail model (methods.md §5–6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FitKind {
    /// `PL`: a power law above xmin (§5).
    #[serde(rename = "PL")]
    PowerLaw,
    /// `TPL`: a truncated power law, x^−α·e^−λx (§6.3).
    #[serde(rename = "TPL")]
    TruncatedPowerLaw,
    /// `E_TPL`: WW's extended truncated power law (§6.3).
    #[serde(rename = "E_TPL")]
    ExtendedTruncatedPowerLaw,
}

/// Power-law fitter: WW's own KS scan (§5) or `powerlaw` 1.5 semantics (§6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlPackage {
    /// `ww`: WeightWatcher's own KS scan over xmin (§5).
    Ww,
    /// `powerlaw`: the `powerlaw` 1.5 package's semantics (§6.1).
    Powerlaw,
}

/// `fix_fingers` (§5.5, §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixFingers {
    /// `clip_xmax`: refit without the largest eigenvalues while alpha drops (§5.5).
    ClipXmax,
    /// `xmin_peak`: search xmin around the peak of the ESD (§6.2).
    XminPeak,
}

/// The `xmax` option (§5.4): none, drop the k largest eigenvalues, or force xmax = λ_max.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Xmax {
    /// `null`: no truncation.
    #[default]
    None,
    /// An integer k: drop the |k| largest eigenvalues before fitting.
    Drop(i64),
    /// `force`: xmax = λ_max (`pl_package: powerlaw` only).
    Force,
}

impl Serialize for Xmax {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Xmax::None => s.serialize_none(),
            Xmax::Drop(k) => s.serialize_i64(*k),
            Xmax::Force => s.serialize_str("force"),
        }
    }
}

impl<'de> Deserialize<'de> for Xmax {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Int(i64),
            Text(String),
        }
        match Option::<Repr>::deserialize(d)? {
            None => Ok(Xmax::None),
            Some(Repr::Int(k)) => Ok(Xmax::Drop(k)),
            Some(Repr::Text(t)) if t == "force" => Ok(Xmax::Force),
            Some(Repr::Text(t)) if t == "null" || t == "none" => Ok(Xmax::None),
            Some(Repr::Text(t)) => Err(serde::de::Error::custom(format!(
                "xmax must be null, an integer or \"force\", not {t:?}"
            ))),
        }
    }
}

/// Eigensolver for the ESD (§4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Eigensolver {
    /// Gram matrix of the smaller side, f64, symmetric eigensolver (default, fast).
    Gram,
    /// Full f64 SVD, singular values only (the reference path, for checking).
    Svd,
    /// [EXT] Gram matrix in f32 (≈2× faster GEMM), then the f64 symmetric eigensolver. Top
    /// eigenvalues agree to ~1e-7 relative; the small end of square layers does not (so
    /// matrix_rank, entropy and the MP bulk can move). Opt-in and recorded in the options.
    Gram32,
}

/// `norm`/`log_norm` as ‖W‖²_F (WW 0.7.x) or ‖W‖_F (WW 0.2.7, the Nature 2021 tables).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NormConvention {
    /// `squared`: ‖W‖²_F, as WW 0.7.x.
    Squared,
    /// `frobenius`: ‖W‖_F, as WW 0.2.7.
    Frobenius,
}

/// Selection rule of the small-N power-law fit (§5.3, quirk Q6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SmallNSelect {
    /// `D`: argmin of the KS distance D (what WW selects, Q6).
    D,
    /// `J`: argmin of J = D − 0.868/√n, the objective WW computes but does not use.
    J,
}

/// Grouped convolutions: the stored slice as is (parity) or its diagonal blocks (§2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupedConv {
    /// `stacked`: the stored [C_out, C_in/g] slice as is (parity).
    Stacked,
    /// `blocks`: each of the g diagonal blocks as its own slice.
    Blocks,
}

/// Where layers come from: op-aware extraction or WW's initializer scan (§2.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerSource {
    /// `ops`: the op-aware walk over the graph (onnx-weights.md).
    Ops,
    /// `initializers`: WW's scan of the main graph's 2-D and 4-D initializers (§2.6).
    Initializers,
}

/// One reproducible WeightWatcher 0.7.7 quirk (methods.md §14, reference README §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quirk {
    /// Q1/Q1a: N/M swapped per transposed conv slice.
    ConvNmSwap,
    /// Q2: sv_min is the max over slices of each slice's min σ.
    SvMin,
    /// Q3/Q11: failed fits written as −1 and warned over-trained.
    FailedAsMinusOne,
    /// Q4: clip_xmax clipping down to ≤ 1 point (or a post-check) fails the layer.
    ClipXmaxSmallFail,
    /// Q5: failed fits averaged into summaries.
    SummaryIncludeFailed,
    /// Q7: small-N fallback keeps sigma = −1/√n.
    SmallNStaleSigma,
    /// Q8: detX column names swapped.
    #[serde(rename = "detX_names")]
    DetxNames,
    /// detX running product may overflow to ∞.
    #[serde(rename = "detX_plain_product")]
    DetxPlainProduct,
    /// entropy of rank ≤ 1 layers divided by ln(1 + 1e-10).
    EntropyRank1,
    /// an int xmax > n/2 silently used as an eigenvalue value.
    XmaxIntAsValue,
    /// Q16: `powerlaw`-package fits report xmax empty unless xmax is forced.
    PowerlawXmaxEmpty,
}

impl Quirk {
    /// Every quirk: what `compat: ww-0.7.7` switches on.
    pub const ALL: [Quirk; 11] = [
        Quirk::ConvNmSwap,
        Quirk::SvMin,
        Quirk::FailedAsMinusOne,
        Quirk::ClipXmaxSmallFail,
        Quirk::SummaryIncludeFailed,
        Quirk::SmallNStaleSigma,
        Quirk::DetxNames,
        Quirk::DetxPlainProduct,
        Quirk::EntropyRank1,
        Quirk::XmaxIntAsValue,
        Quirk::PowerlawXmaxEmpty,
    ];
}

/// The active compat switches. YAML: `null`, `ww-0.7.7` (all) or a list of quirk ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Compat(pub BTreeSet<Quirk>);

impl Compat {
    /// `ww-0.7.7`: every quirk on.
    pub fn ww077() -> Self {
        Compat(Quirk::ALL.into_iter().collect())
    }
    /// Whether quirk `q` is on.
    pub fn has(&self, q: Quirk) -> bool {
        self.0.contains(&q)
    }
    /// Whether no quirk is on (native behaviour throughout).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Compat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.0.is_empty() {
            s.serialize_none()
        } else if *self == Compat::ww077() {
            s.serialize_str("ww-0.7.7")
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Compat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            All(String),
            List(Vec<Quirk>),
        }
        match Option::<Repr>::deserialize(d)? {
            None => Ok(Compat::default()),
            Some(Repr::All(s)) if s == "ww-0.7.7" => Ok(Compat::ww077()),
            Some(Repr::All(s)) => Err(serde::de::Error::custom(format!(
                "compat must be null, \"ww-0.7.7\" or a list of quirk ids, not {s:?}"
            ))),
            Some(Repr::List(l)) => Ok(Compat(l.into_iter().collect())),
        }
    }
}

/// One entry of the `layers` option: a layer's id or its name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LayerRef {
    /// A `layer_id` (the `layer_id` column); −k leaves layer k out.
    Id(i64),
    /// A layer's name (the `name` column), e.g. `fc1.weight`.
    Name(String),
}

impl fmt::Display for LayerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayerRef::Id(i) => write!(f, "{i}"),
            LayerRef::Name(n) => write!(f, "{:?}", crate::error::display_name(n)),
        }
    }
}

/// Declares every option once: the full set, its defaults (the `ww` preset) and the overrides.
macro_rules! options {
    ($( $(#[$doc:meta])* $field:ident $(as $rename:literal)? : $ty:ty = $default:expr ),* $(,)?) => {
        /// A complete, validated-on-use set of analysis options.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct AnalysisOptions {
            $( $(#[$doc])* $(#[serde(rename = $rename)])? pub $field: $ty, )*
        }

        impl Default for AnalysisOptions {
            /// The `ww` preset: WeightWatcher 0.7.7's `analyze()` defaults.
            fn default() -> Self {
                AnalysisOptions { $( $field: $default, )* }
            }
        }

        /// Options given in a file or on the command line, applied on top of a preset.
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct AnalysisOverrides {
            $( #[doc = concat!("Overrides [`AnalysisOptions::", stringify!($field), "`] when set.")]
               $(#[serde(rename = $rename)])?
               #[serde(default, skip_serializing_if = "Option::is_none")]
               pub $field: Option<$ty>, )*
        }

        impl AnalysisOverrides {
            /// Set every option of `opts` that this gives.
            pub fn apply_to(&self, opts: &mut AnalysisOptions) {
                $( if let Some(v) = &self.$field { opts.$field = v.clone(); } )*
            }

            /// Later overrides win field by field.
            pub fn merge(&mut self, later: &AnalysisOverrides) {
                $( if later.$field.is_some() { self.$field = later.$field.clone(); } )*
            }
        }

        /// Every option name as written in YAML and on the command line.
        pub const OPTION_NAMES: &[&str] = &[ $( options!(@name $field $(as $rename)?) ),* ];
    };
    (@name $field:ident) => { stringify!($field) };
    (@name $field:ident as $rename:literal) => { $rename };
}

options! {
    /// Conv: one pooled ESD per layer (true) or one row per kernel position (false).
    pool: bool = true,
    /// Apply the conv scaling √(c/2) (§2.4).
    conv2d_norm: bool = true,
    /// Size filter (§3): layers with fewer eigenvalues (M·rf pooled, M per slice) get no fit.
    min_evals: usize = 8,
    /// Size filter (§3): layers with more eigenvalues than this get no fit.
    max_evals: usize = 15000,
    /// Size filter (§3): layers with N above this get no fit (`max_N`).
    max_n as "max_N": usize = 50000,
    /// Tail model (§5, §6.3).
    fit: FitKind = FitKind::PowerLaw,
    /// Power-law fitter (§5, §6.1).
    pl_package: PlPackage = PlPackage::Ww,
    /// Truncation of the fitted sample (§5.4).
    xmax: Xmax = Xmax::None,
    /// Finger handling, none by default (§5.5, §6.2).
    fix_fingers: Option<FixFingers> = None,
    /// clip_xmax (§5.5): most eigenvalues dropped, tried as idx = 2 .. max_fingers − 1 (10 when
    /// null, negative or below n/2).
    max_fingers: Option<i64> = Some(10),
    /// clip_xmax (§5.5): the alpha drop that makes a refit win.
    finger_thresh: f64 = 1.0,
    /// Eigenvalues ≤ this are excluded from power-law fits (WW `EVALS_THRESH`).
    evals_thresh: f64 = 1e-5,
    /// `weak_rank_loss` threshold.
    tolerance: f64 = 1e-6,
    /// Fit the Marchenko–Pastur bulk (§7).
    mp_fit: bool = false,
    /// Add the randomized-ESD columns (§10).
    randomize: bool = false,
    /// Seed for every random draw (randomize); recorded in the output.
    seed: u64 = 0,
    /// Add the detX / ERG columns (§11; `detX`).
    detx as "detX": bool = false,
    /// Add the eigenvector localisation columns (§12).
    vectors: bool = false,
    /// [EXT] How the ESD is computed (§4.2).
    eigensolver: Eigensolver = Eigensolver::Gram,
    /// [EXT] `norm` as ‖W‖²_F or ‖W‖_F.
    norm_convention: NormConvention = NormConvention::Squared,
    /// [EXT] Selection rule of the small-sample fit (§5.3).
    small_n_select: SmallNSelect = SmallNSelect::D,
    /// [EXT] Grouped convolutions (§2.2).
    grouped_conv: GroupedConv = GroupedConv::Stacked,
    /// Where layers come from (§2.6).
    layer_source: LayerSource = LayerSource::Ops,
    /// WW 0.7.7 quirks to reproduce (§14).
    compat: Compat = Compat::default(),
    /// [EXT] linear bounds for xmin_peak instead of WW's log/linear mix (§6.2).
    xmin_peak_bounds: Option<[f64; 2]> = None,
    /// Upper bound of xmin_peak's candidate range (default 1.5·peak).
    xmin_max: Option<f64> = None,
    /// [EXT] analyze diag(γ/σ)·W for convs followed by BatchNormalization (onnx-weights.md §6).
    fold_bn: bool = false,
    /// [EXT] analyze LSTM/GRU/RNN gate matrices (onnx-weights.md §2.5).
    rnn: bool = false,
    /// Analyze only these layers, by `layer_id` or name (WeightWatcher's `layers`); all negative
    /// ids −k leave layers k out instead. Null or empty: every layer. An entry that matches no
    /// layer of the model is an error. Written to outputs only when set, so that options (and
    /// saved analyses keyed by them) without it read as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    layers: Option<Vec<LayerRef>> = None,
}

/// Named, coherent option sets (methods.md §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// WeightWatcher 0.7.7 `analyze()` defaults.
    #[default]
    Ww,
    /// The VGG "seed notebook": per-slice conv, mp_fit, min_evals 50.
    Ww2x,
    /// The conventions behind the Nature Communications 2021 tables (WW 0.2.7).
    Nature2021,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 3] = [Preset::Ww, Preset::Ww2x, Preset::Nature2021];

    /// The preset's name in files and on the command line (`ww`, `ww2x`, `nature2021`).
    pub fn name(self) -> &'static str {
        match self {
            Preset::Ww => "ww",
            Preset::Ww2x => "ww2x",
            Preset::Nature2021 => "nature2021",
        }
    }

    /// The preset named `s`; an [`Error::Options`] for an unknown name.
    pub fn parse(s: &str) -> Result<Preset> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| Error::Options(format!("unknown preset {s:?} (ww, ww2x, nature2021)")))
    }

    /// The preset's options (methods.md §1), before validation.
    pub fn options(self) -> AnalysisOptions {
        let mut o = AnalysisOptions::default();
        match self {
            Preset::Ww => {}
            Preset::Ww2x => {
                o.pool = false;
                o.min_evals = 50;
                o.mp_fit = true;
            }
            Preset::Nature2021 => {
                o.pool = false;
                o.min_evals = 50;
                o.pl_package = PlPackage::Powerlaw;
                o.xmax = Xmax::Force;
                o.norm_convention = NormConvention::Frobenius;
            }
        }
        o
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl AnalysisOptions {
    /// A preset with overrides applied, then validated.
    pub fn resolve(preset: Preset, overrides: &AnalysisOverrides) -> Result<AnalysisOptions> {
        let mut o = preset.options();
        overrides.apply_to(&mut o);
        o.validate()?;
        Ok(o)
    }

    /// Reject inconsistent combinations before any work (methods.md §3, §5.4, §5.5, §6).
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Options(m.to_string()));
        if !(self.min_evals < self.max_evals && self.max_evals <= self.max_n) {
            return bad("size filters need min_evals < max_evals <= max_N");
        }
        if !(self.evals_thresh.is_finite() && self.evals_thresh >= 0.0) {
            return bad("evals_thresh must be a finite number >= 0");
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return bad("tolerance must be a finite number >= 0");
        }
        if !self.finger_thresh.is_finite() {
            return bad("finger_thresh must be finite");
        }
        if self.xmax == Xmax::Force && self.pl_package != PlPackage::Powerlaw {
            return bad("xmax: force needs pl_package: powerlaw (WeightWatcher rejects it too)");
        }
        if let Xmax::Drop(k) = self.xmax
            && k == 0
            && !self.compat.has(Quirk::XmaxIntAsValue)
        {
            return bad("xmax: 0 would empty the sample; use null for no truncation");
        }
        if self.fix_fingers == Some(FixFingers::ClipXmax) {
            if matches!(self.xmax, Xmax::Drop(_)) {
                return bad("fix_fingers: clip_xmax cannot be combined with an integer xmax");
            }
            if self.fit == FitKind::ExtendedTruncatedPowerLaw {
                return bad("fix_fingers: clip_xmax cannot be combined with fit: E_TPL");
            }
            if self.fit == FitKind::TruncatedPowerLaw {
                // WW would refit a TPL at the clipped power law's xmin and mix its alpha with
                // the power law's D and sigma; tailwatch does not reproduce that hybrid.
                return bad("fix_fingers: clip_xmax cannot be combined with fit: TPL");
            }
        }
        if self.fix_fingers == Some(FixFingers::XminPeak) && self.pl_package != PlPackage::Powerlaw
        {
            return bad("fix_fingers: xmin_peak needs pl_package: powerlaw");
        }
        if self.fit != FitKind::PowerLaw && self.pl_package != PlPackage::Powerlaw {
            return bad("fit: TPL and E_TPL need pl_package: powerlaw");
        }
        if let Some(sel) = &self.layers {
            let negative = sel.iter().any(|r| matches!(r, LayerRef::Id(i) if *i < 0));
            let keep = sel.iter().any(|r| !matches!(r, LayerRef::Id(i) if *i < 0));
            if negative && keep {
                return bad(
                    "layers: negative ids (leave layers out) cannot be mixed with ids >= 0 or \
                     names (keep only those layers)",
                );
            }
        }
        if let Some([lo, hi]) = self.xmin_peak_bounds
            && !(lo.is_finite() && hi.is_finite() && 0.0 < lo && lo < hi)
        {
            return bad("xmin_peak_bounds must be two finite factors 0 < lo < hi");
        }
        Ok(())
    }

    /// The compat switch, or the matching native behaviour.
    pub fn quirk(&self, q: Quirk) -> bool {
        self.compat.has(q)
    }
}

/// An analysis config file (`analyze --config`): a preset and overrides, as in study files.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisConfig {
    /// The preset (`preset:`); the caller's default when absent.
    #[serde(default)]
    pub preset: Option<Preset>,
    /// Overrides applied on top of the preset (`analysis:`).
    #[serde(default)]
    pub analysis: AnalysisOverrides,
}

impl AnalysisConfig {
    /// Read and parse an analysis config file; an [`Error::Config`] when it is invalid.
    pub fn load(path: &std::path::Path) -> Result<AnalysisConfig> {
        let text = crate::io::read_config_text(path)?;
        serde_saphyr::from_str(&text)
            .map_err(|e| Error::config(path, format!("invalid analysis config: {e}")))
    }
}

impl AnalysisOverrides {
    /// Parse `key=value` pairs from the command line; values are YAML scalars or flow lists.
    pub fn from_pairs(pairs: &[String]) -> Result<AnalysisOverrides> {
        let mut yaml = String::new();
        for p in pairs {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| Error::Options(format!("--set expects key=value, got {p:?}")))?;
            let k = k.trim();
            if !OPTION_NAMES.contains(&k) {
                return Err(Error::Options(format!(
                    "unknown option {k:?}; known options: {}",
                    OPTION_NAMES.join(", ")
                )));
            }
            yaml.push_str(&format!("{k}: {}\n", v.trim()));
        }
        if yaml.is_empty() {
            return Ok(AnalysisOverrides::default());
        }
        serde_saphyr::from_str(&yaml).map_err(|e| Error::Options(format!("--set: {e}")))
    }
}

#[cfg(test)]
#[path = "options_tests.rs"]
mod tests;
