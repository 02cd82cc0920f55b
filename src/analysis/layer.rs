//! One weight layer → its rows of `details`: spectra, fits and metrics in pipeline order.

use faer::Par;

use crate::fits::{self, FitStatus, MpFit, PowerLawFit, Warning};
use crate::metrics::norms::{self, SpectrumMetrics};
use crate::metrics::randomize::{self, StreamKey};
use crate::metrics::row::Row;
use crate::metrics::vectors;
use crate::options::{AnalysisOptions, Quirk};
use crate::schema::{Column, RowStatus};
use crate::spectra::{self, MatrixRef, Spectrum};
use crate::weights::{Dims, WeightLayer, WeightMatrix};

/// The spectrum of one row, kept for `--save-esd` and plots. `key` is `layer_id` or
/// `layer_id:slice_id`, as in the reference `__evals.csv` files.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RowEsd {
    /// `layer_id`, or `layer_id:slice_id` for a slice.
    pub key: String,
    /// The row's eigenvalues, ascending.
    pub evals: Vec<f64>,
    /// With `randomize`: the eigenvalues of the row's element-shuffled copies (all replicas,
    /// ascending), the random baseline the ESD is drawn against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rand_evals: Option<Vec<f64>>,
}

impl RowEsd {
    /// The key of `row`'s ESD (`layer_id`, or `layer_id:slice_id` for a slice); None for a row
    /// without a layer id.
    pub fn key_of(row: &Row) -> Option<String> {
        let id = row.num(Column::LayerId)?;
        Some(match row.num(Column::SliceId) {
            Some(s) => format!("{id}:{s}"),
            None => format!("{id}"),
        })
    }
}

/// What a row is made of: which matrices, how they are scaled, how the row is identified.
pub(crate) struct RowPlan<'a> {
    pub layer: &'a WeightLayer,
    pub dims: Dims,
    pub slice_id: Option<usize>,
    pub matrices: Vec<MatrixRef<'a>>,
    /// The conv factor c/2 of methods.md §2.4 (1 for dense rows).
    pub scale_sq: f64,
    /// Threads inside the eigensolver: `Par::Seq` unless the layer runs alone (`spectra::cost`).
    pub par: Par,
}

/// Cut a decoded layer into rows: pooled (one row, all slices) or one row per conv slice.
pub(crate) fn plan_rows<'a>(
    layer: &'a WeightLayer,
    dims: Dims,
    w: &'a WeightMatrix,
    opts: &AnalysisOptions,
    par: Par,
) -> Result<Vec<RowPlan<'a>>, spectra::SpectrumError> {
    let size = w.rows * w.cols;
    let matrices = (0..w.slices)
        .map(|p| {
            let data = w.data.get(p * size..(p + 1) * size).unwrap_or(&[]);
            MatrixRef::new(w.rows, w.cols, data)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let conv = layer.kind.is_conv();
    let scale = |c: usize| {
        if conv && opts.conv2d_norm {
            c as f64 / 2.0
        } else {
            1.0
        }
    };
    if opts.pool || !conv {
        return Ok(vec![RowPlan {
            layer,
            dims,
            slice_id: (!opts.pool).then_some(0),
            matrices,
            scale_sq: scale(1),
            par,
        }]);
    }
    let rf = matrices.len();
    Ok(matrices
        .into_iter()
        .enumerate()
        .map(|(p, m)| RowPlan {
            layer,
            dims,
            slice_id: Some(p),
            matrices: vec![m],
            scale_sq: scale(rf),
            par,
        })
        .collect())
}

/// The one row of a dense layer decoded in bands (`Extraction::stream_rows`): as `plan_rows`
/// makes it, without matrices (its Gram matrix is formed as the bands arrive).
pub(crate) fn streamed_row<'a>(
    layer: &'a WeightLayer,
    dims: Dims,
    opts: &AnalysisOptions,
    par: Par,
) -> RowPlan<'a> {
    RowPlan {
        layer,
        dims,
        slice_id: (!opts.pool).then_some(0),
        matrices: Vec::new(),
        scale_sq: 1.0,
        par,
    }
}

impl RowPlan<'_> {
    /// The same row without its matrices (so without a borrow of them): enough to finish a row
    /// whose options read no matrix after its spectrum (`needs_matrices`).
    pub fn detached<'b>(&self, layer: &'b WeightLayer) -> RowPlan<'b> {
        RowPlan {
            layer,
            dims: self.dims,
            slice_id: self.slice_id,
            matrices: Vec::new(),
            scale_sq: self.scale_sq,
            par: self.par,
        }
    }
}

/// Whether finishing a row reads its matrices again (randomized ESD, eigenvector localization);
/// otherwise a layer's matrix can be freed as soon as its spectra exist.
pub(crate) fn needs_matrices(opts: &AnalysisOptions) -> bool {
    opts.randomize || opts.vectors
}

/// The ESD of one row.
pub(crate) fn row_spectrum(
    plan: &RowPlan<'_>,
    opts: &AnalysisOptions,
) -> Result<Spectrum, spectra::SpectrumError> {
    spectra::row_spectrum_par(&plan.matrices, plan.scale_sq, opts.eigensolver, plan.par)
}

/// The first half of a row's ESD: Gram products (or SVDs), after which the matrices can go.
pub(crate) fn prepare_spectrum(
    plan: &RowPlan<'_>,
    opts: &AnalysisOptions,
) -> Result<spectra::PreparedRow, spectra::SpectrumError> {
    spectra::prepare_row(&plan.matrices, plan.scale_sq, opts.eigensolver, plan.par)
}

/// Every column of one row from its spectrum.
pub(crate) fn finish_row(
    plan: &RowPlan<'_>,
    spec: Spectrum,
    opts: &AnalysisOptions,
) -> Result<(Row, RowEsd), spectra::SpectrumError> {
    let mut row = identity(plan.layer, plan.slice_id, &plan.dims);
    let sm = norms::spectrum_metrics(&spec, plan.dims.n, opts);
    let pl = fits::fit_power_law(&spec.evals, opts);
    put_power_law(&mut row, &pl, opts);
    put_spectrum(&mut row, &sm, &spec, opts);
    put_alpha_metrics(&mut row, &spec, &pl, opts);
    if opts.mp_fit || opts.randomize {
        let mp = fits::fit_mp(&spec.evals, plan.dims.n, plan.dims.m);
        if opts.mp_fit {
            put_mp(&mut row, MpOf::Row, &mp, opts);
        }
    }
    let rand_evals = if opts.randomize {
        Some(put_randomized(&mut row, plan, &spec, opts)?)
    } else {
        None
    };
    if opts.detx {
        put_detx(&mut row, &spec, &pl, opts);
    }
    if opts.vectors {
        let loc = vectors::localization(&plan.matrices, plan.scale_sq, pl.xmin)?;
        put_vectors(&mut row, &loc);
    }
    let key = match plan.slice_id {
        Some(s) if !opts.pool => format!("{}:{s}", plan.layer.layer_id),
        _ => plan.layer.layer_id.to_string(),
    };
    Ok((
        row,
        RowEsd {
            key,
            evals: spec.evals,
            rand_evals,
        },
    ))
}

/// The identity columns every row has, analyzed or not.
pub(crate) fn identity(layer: &WeightLayer, slice_id: Option<usize>, dims: &Dims) -> Row {
    let mut row = Row::default();
    row.set(Column::LayerId, layer.layer_id);
    row.set(Column::Name, layer.name.as_str());
    row.set(Column::Longname, layer.name.as_str());
    if let Some(s) = slice_id {
        row.set(Column::SliceId, s);
    }
    row.set(Column::LayerType, layer.kind.as_str());
    row.set(Column::N, dims.n);
    row.set(Column::M, dims.m);
    row.set(Column::Q, dims.q);
    row.set(Column::Rf, dims.rf);
    if !layer.flags.is_empty() {
        row.set(Column::Flags, layer.flags.join(";"));
    }
    row.set(Column::Dtype, layer.dtype.as_str());
    row.set(Column::Origin, layer.origin.as_str());
    row
}

fn put_spectrum(row: &mut Row, sm: &SpectrumMetrics, spec: &Spectrum, opts: &AnalysisOptions) {
    row.set(Column::NumEvals, sm.num_evals);
    row.set(Column::HasEsd, true);
    row.set(Column::LambdaMax, sm.lambda_max);
    row.set(Column::Norm, sm.norm);
    row.set(Column::LogNorm, sm.log_norm);
    row.set(Column::SpectralNorm, sm.spectral_norm);
    row.set(Column::LogSpectralNorm, sm.log_spectral_norm);
    row.set(Column::StableRank, sm.stable_rank);
    row.set(Column::Entropy, sm.entropy);
    row.set(Column::MatrixRank, sm.matrix_rank);
    row.set(Column::RankLoss, sm.rank_loss);
    row.set(Column::WeakRankLoss, sm.weak_rank_loss);
    row.set(Column::SvMax, sm.sv_max);
    row.set(Column::SvMin, sm.sv_min);
    let near = near_threshold(&spec.evals, opts);
    if near > 0 {
        row.set(Column::NearThresholdEvals, near);
    }
}

/// Eigenvalues within ~1e3·ε·λ_max of an absolute threshold could flip with the solver (§4.2).
fn near_threshold(evals: &[f64], opts: &AnalysisOptions) -> usize {
    let band = 1e3 * f64::EPSILON * evals.last().copied().unwrap_or(0.0);
    evals
        .iter()
        .filter(|&&l| (l - opts.evals_thresh).abs() <= band || (l - opts.tolerance).abs() <= band)
        .count()
}

/// The fit cells of a row, native or as WW renders them.
struct FitCells {
    warning: Warning,
    alpha: Option<f64>,
    xmin: Option<f64>,
    xmax: Option<f64>,
    d: Option<f64>,
    sigma: Option<f64>,
    num_pl_spikes: Option<i64>,
    num_fingers: Option<usize>,
    raw_alpha: Option<f64>,
    lambda: Option<f64>,
}

fn fit_cells(pl: &PowerLawFit, opts: &AnalysisOptions, clip: bool, tpl: bool) -> FitCells {
    if pl.status == FitStatus::Failed && opts.quirk(Quirk::FailedAsMinusOne) {
        // WW writes a failed fit as numbers: −1, and −1 < 2 reads as over-trained (Q3/Q11).
        let ww = pl.as_ww(clip, tpl);
        return FitCells {
            warning: ww.warning,
            alpha: Some(ww.alpha),
            xmin: Some(ww.xmin),
            xmax: ww.xmax,
            d: Some(ww.d),
            sigma: ww.sigma,
            num_pl_spikes: Some(ww.num_pl_spikes),
            num_fingers: ww.num_fingers,
            raw_alpha: ww.raw_alpha,
            lambda: ww.lambda,
        };
    }
    // WW leaves xmax empty for `powerlaw`-package fits unless it is forced (Q16).
    let hide_xmax = opts.quirk(Quirk::PowerlawXmaxEmpty) && !pl.xmax_in_ww_output;
    FitCells {
        warning: pl.warning,
        alpha: pl.alpha,
        xmin: pl.xmin,
        xmax: if hide_xmax { None } else { pl.xmax },
        d: pl.d,
        sigma: pl.sigma,
        num_pl_spikes: pl
            .num_pl_spikes
            .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
        num_fingers: pl.num_fingers,
        raw_alpha: pl.raw_alpha,
        lambda: pl.lambda,
    }
}

fn put_power_law(row: &mut Row, pl: &PowerLawFit, opts: &AnalysisOptions) {
    let failed = pl.status == FitStatus::Failed;
    row.set(
        Column::Status,
        if failed {
            RowStatus::Failed
        } else {
            RowStatus::Success
        },
    );
    let clip = opts.fix_fingers == Some(crate::options::FixFingers::ClipXmax);
    let tpl = opts.fit != crate::options::FitKind::PowerLaw;
    let c = fit_cells(pl, opts, clip, tpl);
    row.set(Column::Warning, c.warning);
    row.set(Column::Alpha, c.alpha);
    row.set(Column::Xmin, c.xmin);
    row.set(Column::Xmax, c.xmax);
    row.set(Column::D, c.d);
    row.set(Column::Sigma, c.sigma);
    row.set(Column::NumPlSpikes, c.num_pl_spikes);
    if clip {
        row.set(Column::NumFingers, c.num_fingers);
        row.set(Column::RawAlpha, c.raw_alpha);
    }
    if tpl {
        row.set(Column::Lambda, c.lambda);
    }
    if let Some(f) = &pl.failure {
        row.set(Column::FitFailure, f.as_str());
    }
}

fn put_alpha_metrics(row: &mut Row, spec: &Spectrum, pl: &PowerLawFit, opts: &AnalysisOptions) {
    let alpha = match pl.status {
        FitStatus::Success => pl.alpha,
        // Under compat Q3 WW computes these with alpha = −1.
        FitStatus::Failed if opts.quirk(Quirk::FailedAsMinusOne) => Some(-1.0),
        FitStatus::Failed => None,
    };
    let am = norms::alpha_metrics(&spec.evals, alpha);
    row.set(Column::AlphaWeighted, am.alpha_weighted);
    row.set(Column::LogAlphaNorm, am.log_alpha_norm);
}

/// Which ESD an MP fit is of: the row's own, or its randomized copy (`rand_` columns).
#[derive(Clone, Copy, PartialEq, Eq)]
enum MpOf {
    Row,
    Randomized,
}

/// MP columns of the row's ESD or of its randomized copy.
fn put_mp(row: &mut Row, of: MpOf, mp: &MpFit, opts: &AnalysisOptions) {
    let ww_failed = mp.status == FitStatus::Failed && opts.quirk(Quirk::FailedAsMinusOne);
    let f = |v: Option<f64>| if ww_failed { Some(-1.0) } else { v };
    let cols: [(Column, Column, Option<f64>); 5] = [
        (Column::SigmaMp, Column::RandSigmaMp, f(mp.sigma_mp)),
        (
            Column::MpSoftrank,
            Column::RandMpSoftrank,
            f(mp.mp_softrank),
        ),
        (Column::BulkMax, Column::RandBulkMax, f(mp.bulk_max)),
        (Column::BulkMin, Column::RandBulkMin, f(mp.bulk_min)),
        (Column::WScale, Column::RandWScale, f(mp.w_scale)),
    ];
    for (plain, rand, v) in cols {
        row.set(if of == MpOf::Row { plain } else { rand }, v);
    }
    let spikes = if ww_failed {
        Some(-1i64)
    } else {
        mp.num_spikes.map(|s| i64::try_from(s).unwrap_or(i64::MAX))
    };
    match of {
        MpOf::Row => {
            row.set(Column::NumSpikes, spikes);
            row.set(Column::MpStatus, mp.status);
        }
        MpOf::Randomized => {
            row.set(Column::RandNumSpikes, spikes);
            row.set(Column::NumTraps, spikes);
        }
    }
}

fn put_randomized(
    row: &mut Row,
    plan: &RowPlan<'_>,
    spec: &Spectrum,
    opts: &AnalysisOptions,
) -> Result<Vec<f64>, spectra::SpectrumError> {
    let layer = plan.layer;
    // n_comp: M for dense rows, the layer's M·rf for conv rows, even on slices (§10 step 2).
    let n_comp = if layer.kind.is_conv() {
        plan.dims.m * plan.dims.rf
    } else {
        plan.dims.m
    };
    let key = StreamKey {
        seed: opts.seed,
        layer_id: layer.layer_id,
        slice_id: plan.slice_id.unwrap_or(0),
        replica: 0,
    };
    let r = randomize::randomize(
        &plan.matrices,
        plan.scale_sq,
        &spec.evals,
        key,
        randomize::replicas(n_comp),
        opts.eigensolver,
    )?;
    row.set(Column::MaxRandEval, r.max_rand_eval);
    row.set(Column::RandDistance, r.rand_distance);
    row.set(Column::WwSoftrank, r.ww_softrank);
    row.set(Column::WwMaxdist, r.ww_maxdist);
    let mp = fits::fit_mp(&r.rand_evals, plan.dims.n, plan.dims.m);
    put_mp(row, MpOf::Randomized, &mp, opts);
    Ok(r.rand_evals)
}

fn put_detx(row: &mut Row, spec: &Spectrum, pl: &PowerLawFit, opts: &AnalysisOptions) {
    let d = fits::detx(&spec.evals, opts.quirk(Quirk::DetxPlainProduct));
    row.set(Column::DetxNum, d.detx_num);
    row.set(Column::DetxVal, d.detx_val);
    // WW names the rescaled value `detX_val_unrescaled` (Q8).
    let rescaled = if opts.quirk(Quirk::DetxNames) {
        Column::DetxValUnrescaled
    } else {
        Column::DetxValRescaled
    };
    row.set(rescaled, d.detx_val_rescaled);
    if !opts.quirk(Quirk::DetxNames) {
        row.set(Column::DetxReached, d.reached);
    }
    row.set(Column::NumErgSpikes, d.detx_num);
    let gap = match (pl.status, pl.num_pl_spikes) {
        (FitStatus::Success, Some(s)) => Some(d.detx_num as i64 - s as i64),
        (FitStatus::Failed, _) if opts.quirk(Quirk::FailedAsMinusOne) => {
            Some(d.detx_num as i64 + 1)
        }
        _ => None,
    };
    row.set(Column::ErgGap, gap);
}

fn put_vectors(row: &mut Row, loc: &vectors::Localization) {
    use Column::*;
    let (b, t) = (&loc.bulk, &loc.tail);
    let cells = [
        (BulkMeanVecEntropy, BulkVarVecEntropy, b.vec_entropy),
        (BulkMeanLocRatio, BulkVarLocRatio, b.loc_ratio),
        (BulkMeanPartRatio, BulkVarPartRatio, b.part_ratio),
        (TailMeanVecEntropy, TailVarVecEntropy, t.vec_entropy),
        (TailMeanLocRatio, TailVarLocRatio, t.loc_ratio),
        (TailMeanPartRatio, TailVarPartRatio, t.part_ratio),
    ];
    for (mean, var, mv) in cells {
        row.set(mean, mv.mean);
        row.set(var, mv.var);
    }
}
