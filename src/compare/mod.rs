//! Comparing a model with a baseline (the model in production), layer by layer.
//!
//! [`matching`] pairs the rows of the two analyses (by weight name, or by order, type and shape
//! when a re-export renamed them). [`compare_models`] then decodes every matched layer of both
//! files again and measures how far it moved ([`layer`]: WeightWatcher's `distances()`, the same
//! relative to the baseline's norm, the overlap of the top singular subspaces), adds the
//! Jensen–Shannon distance between the two ESDs from the analyses, and aggregates per model.
//! The gate's `compare` and `compare_layer` rules read these metrics (docs/gate.md).

pub mod layer;
pub mod matching;

use std::collections::BTreeMap;
use std::path::Path;

use rayon::prelude::*;

pub use layer::PairMetrics;
pub use matching::{MatchedBy, Matching, match_rows, row_key};

use crate::analysis::RowEsd;
use crate::error::Result;
use crate::metrics::randomize::jensen_shannon;
use crate::metrics::row::Row;
use crate::onnx::{self, Limits};
use crate::options::AnalysisOptions;
use crate::schema::Column;
use crate::weights::{self, Extraction, WeightLayer};

macro_rules! metrics {
    ($(#[$m:meta])* $name:ident { $( $(#[doc = $doc:literal])* $v:ident = $s:literal, )* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $( $(#[doc = $doc])* $v, )* }
        impl $name {
            /// Every metric, in output order.
            pub const ALL: &'static [$name] = &[$( $name::$v, )*];
            /// The metric's name in gate files and outputs.
            pub const fn name(self) -> &'static str {
                match self { $( $name::$v => $s, )* }
            }
            /// The metric called `name`, if any.
            pub fn from_name(name: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|m| m.name() == name)
            }
        }
    };
}

metrics! {
    /// A per-layer comparison metric (`compare_layer:` rules; `layer` module docs).
    LayerMetric {
        /// WeightWatcher's `delta_W`: mean over the layer's matrices of ‖W − W_base‖_F.
        DeltaW = "delta_w",
        /// ‖W − W_base‖_F / ‖W_base‖_F.
        DeltaWRel = "delta_w_rel",
        /// Jensen–Shannon distance between the layer's ESD and the baseline's (largest over
        /// the layer's rows in sliced mode), as `rand_distance` compares two spectra.
        EsdDistance = "esd_distance",
        /// Overlap of the top-k left singular subspaces, ‖U_kᵀU'_k‖²_F / k.
        OverlapLeft = "overlap_left",
        /// Overlap of the top-k right singular subspaces.
        OverlapRight = "overlap_right",
        /// The smaller of the two overlaps.
        Overlap = "overlap",
        /// Mean |⟨u_i, u'_i⟩| of the top-k left singular vectors.
        AgreementLeft = "agreement_left",
        /// The same for the right singular vectors.
        AgreementRight = "agreement_right",
    }
}

metrics! {
    /// A model-level comparison metric (`compare:` rules), aggregated over the compared layers.
    ModelMetric {
        /// Mean `delta_w`: WeightWatcher's `avg_dW`, the first value `distances()` returns.
        DeltaWMean = "delta_w_mean",
        /// Mean `delta_w_rel`.
        DeltaWRelMean = "delta_w_rel_mean",
        /// Largest `delta_w_rel`.
        DeltaWRelMax = "delta_w_rel_max",
        /// Largest `esd_distance`.
        EsdDistanceMax = "esd_distance_max",
        /// Mean `overlap`.
        OverlapMean = "overlap_mean",
        /// Smallest `overlap`.
        OverlapMin = "overlap_min",
        /// Layers compared.
        NCompared = "n_compared",
    }
}

/// One compared layer.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LayerComparison {
    /// The model's weight name.
    pub layer: String,
    /// The baseline's weight name (the same unless matched by position).
    pub baseline_layer: String,
    /// The measured values.
    #[serde(flatten)]
    pub metrics: PairMetrics,
    /// Jensen–Shannon distance between the ESDs.
    pub esd_distance: Option<f64>,
    /// Why the pair could not be compared, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl LayerComparison {
    /// The value of a metric; None when the pair has none.
    pub fn get(&self, m: LayerMetric) -> Option<f64> {
        if self.problem.is_some() {
            return None;
        }
        let p = &self.metrics;
        let v = match m {
            LayerMetric::DeltaW => Some(p.delta_w),
            LayerMetric::DeltaWRel => p.delta_w_rel,
            LayerMetric::EsdDistance => self.esd_distance,
            LayerMetric::OverlapLeft => p.overlap_left,
            LayerMetric::OverlapRight => p.overlap_right,
            LayerMetric::Overlap => match (p.overlap_left, p.overlap_right) {
                (Some(a), Some(b)) => Some(a.min(b)),
                _ => None,
            },
            LayerMetric::AgreementLeft => p.agreement_left,
            LayerMetric::AgreementRight => p.agreement_right,
        };
        v.filter(|x| x.is_finite())
    }
}

/// The whole comparison of a model with its baseline.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// How the layers were matched.
    pub matched_by: MatchedBy,
    /// Said when the layers were matched by position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// One entry per compared layer, in model order (layers not analyzed on either side are
    /// left out: the gate judges them by their status).
    pub layers: Vec<LayerComparison>,
}

impl Comparison {
    /// A model-level metric; None when no layer has a value for it.
    pub fn get(&self, m: ModelMetric) -> Option<f64> {
        let vals = |lm| -> Vec<f64> { self.layers.iter().filter_map(|l| l.get(lm)).collect() };
        let mean = |v: Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        let max = |v: Vec<f64>| v.into_iter().reduce(f64::max);
        let min = |v: Vec<f64>| v.into_iter().reduce(f64::min);
        match m {
            ModelMetric::DeltaWMean => mean(vals(LayerMetric::DeltaW)),
            ModelMetric::DeltaWRelMean => mean(vals(LayerMetric::DeltaWRel)),
            ModelMetric::DeltaWRelMax => max(vals(LayerMetric::DeltaWRel)),
            ModelMetric::EsdDistanceMax => max(vals(LayerMetric::EsdDistance)),
            ModelMetric::OverlapMean => mean(vals(LayerMetric::Overlap)),
            ModelMetric::OverlapMin => min(vals(LayerMetric::Overlap)),
            ModelMetric::NCompared => Some(self.layers.len() as f64),
        }
    }

    /// The model metrics by name, for outputs.
    pub fn summary(&self) -> BTreeMap<&'static str, Option<f64>> {
        ModelMetric::ALL
            .iter()
            .map(|m| (m.name(), self.get(*m)))
            .collect()
    }
}

/// One side of a comparison: the model file and its analysis.
#[derive(Clone, Copy, Debug)]
pub struct Side<'a> {
    /// The ONNX file, decoded again for the weights.
    pub path: &'a Path,
    /// Its analysis rows.
    pub rows: &'a [Row],
    /// Its analysis ESDs.
    pub esd: &'a [RowEsd],
}

/// Compare every matched, analyzed layer of `model` with the baseline's: both files are
/// decoded again with `opts` (the options their analyses used). Errors are files that cannot be
/// read; a pair that cannot be compared carries its `problem`.
pub fn compare_models(
    model: Side<'_>,
    base: Side<'_>,
    matching: &Matching,
    opts: &AnalysisOptions,
    limits: &Limits,
) -> Result<Comparison> {
    let (mm, bm) = (
        onnx::load(model.path, limits)?,
        onnx::load(base.path, limits)?,
    );
    let (mx, bx) = (weights::extract(&mm, opts)?, weights::extract(&bm, opts)?);
    let esd = |s: &Side<'_>| -> BTreeMap<String, Vec<f64>> {
        s.esd
            .iter()
            .map(|e| (e.key.clone(), e.evals.clone()))
            .collect()
    };
    let (me, be) = (esd(&model), esd(&base));
    // Layers in model order, each with the ESD distances of its row pairs.
    let mut order: Vec<(usize, usize)> = Vec::new();
    let mut esd_d: BTreeMap<(usize, usize), Option<f64>> = BTreeMap::new();
    for &(i, j) in &matching.pairs {
        let (r, b) = (&model.rows[i], &base.rows[j]);
        if !(r.is_analyzed() && b.is_analyzed()) {
            continue;
        }
        let (Some(li), Some(lj)) = (r.num(Column::LayerId), b.num(Column::LayerId)) else {
            continue;
        };
        let key = (li as usize, lj as usize);
        let d = match (
            RowEsd::key_of(r).and_then(|k| me.get(&k)),
            RowEsd::key_of(b).and_then(|k| be.get(&k)),
        ) {
            (Some(x), Some(y)) if x.len() == y.len() => Some(jensen_shannon(x, y)),
            _ => None,
        };
        match esd_d.get_mut(&key) {
            Some(slot) => *slot = slot.zip(d).map(|(a, b)| a.max(b)),
            None => {
                order.push(key);
                esd_d.insert(key, d);
            }
        }
    }
    let layers = order
        .par_iter()
        .map(|key| {
            let d = esd_d.get(key).copied().flatten();
            compare_layer(&mx, &bx, *key, d)
        })
        .collect();
    Ok(Comparison {
        matched_by: matching.by,
        warning: matching.warning.clone(),
        layers,
    })
}

fn find<'a>(x: &'a Extraction<'_>, id: usize) -> Option<&'a WeightLayer> {
    x.layers.iter().find(|l| l.layer_id == id)
}

fn compare_layer(
    mx: &Extraction<'_>,
    bx: &Extraction<'_>,
    (mi, bi): (usize, usize),
    esd_distance: Option<f64>,
) -> LayerComparison {
    let (ml, bl) = (find(mx, mi), find(bx, bi));
    let name = |l: Option<&WeightLayer>, id| l.map_or(format!("layer {id}"), |l| l.name.clone());
    let mut out = LayerComparison {
        layer: name(ml, mi),
        baseline_layer: name(bl, bi),
        metrics: PairMetrics::default(),
        esd_distance,
        problem: None,
    };
    let (Some(ml), Some(bl)) = (ml, bl) else {
        out.problem = Some("the layer is not in the file's extraction".into());
        return out;
    };
    let res = mx
        .matrix(ml)
        .map_err(|e| format!("model: {e}"))
        .and_then(|w| {
            let b = bx.matrix(bl).map_err(|e| format!("baseline: {e}"))?;
            layer::compare(&w, &b).map_err(|e| e.to_string())
        });
    match res {
        Ok(m) => out.metrics = m,
        Err(e) => out.problem = Some(e),
    }
    out
}
