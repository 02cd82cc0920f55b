//! Decoding one layer to its matrices: evaluate its recipe, fold a following BatchNormalization,
//! refuse NaN/Inf and all-zero weights, cut the result into the layer's matrix view.

use super::fold::{self, Eval, Expr, nbits};
use super::ops::Bn;
use super::view::{self, Layout, MatrixView};
use super::{Extraction, LayerProblem, Orientation, WeightLayer, WeightMatrix};
use crate::error::display_name;
use crate::onnx::tensor::Dense;

impl Extraction<'_> {
    /// Decode one layer's matrix now, in its effective orientation. Callable from several
    /// threads.
    pub fn matrix(&self, layer: &WeightLayer) -> std::result::Result<WeightMatrix, LayerProblem> {
        self.matrix_in(layer, Orientation::Effective)
    }

    /// As `matrix`, in the given orientation.
    pub fn matrix_in(
        &self,
        layer: &WeightLayer,
        orientation: Orientation,
    ) -> std::result::Result<WeightMatrix, LayerProblem> {
        let idx = self
            .layers
            .iter()
            .position(|l| l.layer_id == layer.layer_id && l.name == layer.name)
            .ok_or_else(|| {
                LayerProblem::Malformed("layer is not part of this extraction".into())
            })?;
        let r = self
            .recipes
            .get(idx)
            .ok_or_else(|| LayerProblem::Malformed("no recipe for layer".into()))?;
        layer_budget(&layer.view, self.model.limits().layer_memory_budget)?;
        let mut ev = Eval::new(self.model);
        // Only a transpose at the top of a plain stacked layout is dropped: a transpose under a
        // dequantisation or scale, RNN gate blocks and convolutions keep their effective order.
        let stored = match (orientation, r.expr.as_ref(), &r.layout, &r.bn) {
            (Orientation::Any, Expr::SwapLast2(inner), Layout::Stacked { rows: None }, None) => {
                Some(inner)
            }
            _ => None,
        };
        let mut t = ev.eval(stored.unwrap_or(&r.expr))?;
        if self.fold_bn
            && let Some(bn) = &r.bn
        {
            fold_bn(&mut ev, &mut t, bn)?;
        }
        let (nan, inf) = t.data.iter().fold((0, 0), |(n, i), v| {
            (
                n + usize::from(v.is_nan()),
                i + usize::from(v.is_infinite()),
            )
        });
        if nan + inf > 0 {
            return Err(LayerProblem::InvalidValues { nan, inf });
        }
        if t.data.iter().all(|&v| v == 0.0) {
            return Err(LayerProblem::Degenerate(format!(
                "all {} values are zero",
                t.data.len()
            )));
        }
        let mut v = layer.view.clone();
        if stored.is_some() {
            std::mem::swap(&mut v.rows, &mut v.cols);
        }
        let data = view::slices_of(&r.layout, &v, t).map_err(LayerProblem::Malformed)?;
        Ok(WeightMatrix {
            rows: v.rows,
            cols: v.cols,
            slices: v.slices,
            data,
        })
    }
}

/// A layer decoded a band of rows at a time, in its stored orientation (`Orientation::Any`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Streamed {
    /// Rows of the matrix.
    pub rows: usize,
    /// Columns of the matrix.
    pub cols: usize,
}

impl Extraction<'_> {
    /// Whether [`Extraction::stream_rows`] can decode `layer` in bands: a single-matrix layer
    /// whose weight is block-quantised along its rows (MatMulNBits, GatherBlockQuantized on its
    /// last axis), with no BatchNormalization to fold.
    pub fn streamable(&self, layer: &WeightLayer) -> Option<Streamed> {
        let r = self.recipe(layer)?;
        let Expr::Blocked(b) = stored_expr(&r.expr) else {
            return None;
        };
        let rank = layer.stored_shape.len() as i64;
        let last_axis = match b.form {
            nbits::Form::NBits { .. } => true,
            nbits::Form::Gather { axis, .. } => rank > 0 && (axis == -1 || axis == rank - 1),
        };
        let stored = if matches!(r.expr.as_ref(), Expr::SwapLast2(_)) {
            (layer.view.cols, layer.view.rows)
        } else {
            (layer.view.rows, layer.view.cols)
        };
        (last_axis && r.bn.is_none() && layer.view.slices == 1 && layer.view.kernel.is_empty())
            .then_some(Streamed {
                rows: stored.0,
                cols: stored.1,
            })
    }

    /// Decode a [`streamable`](Extraction::streamable) layer `band` rows at a time in its
    /// stored orientation, calling `f(first_row, values)` with each band's values (row-major,
    /// `cols` wide; the last band may be shorter) in order, from one reused buffer: a layer
    /// bigger than memory can still be analysed. NaN/∞ and all-zero weights are refused as by
    /// [`Extraction::matrix`] (after the bands have been seen).
    pub fn stream_rows(
        &self,
        layer: &WeightLayer,
        band: usize,
        mut f: impl FnMut(usize, &[f64]),
    ) -> std::result::Result<Streamed, LayerProblem> {
        let s = self
            .streamable(layer)
            .ok_or_else(|| LayerProblem::Malformed("layer cannot be decoded in bands".into()))?;
        let r = self
            .recipe(layer)
            .ok_or_else(|| LayerProblem::Malformed("no recipe for layer".into()))?;
        let Expr::Blocked(b) = stored_expr(&r.expr) else {
            return Err(LayerProblem::Malformed(
                "layer cannot be decoded in bands".into(),
            ));
        };
        let band = band.max(1);
        let mut ev = Eval::new(self.model);
        let (nan, inf, nonzero) = nbits::with_rows(&mut ev, b, |d| {
            let (rows, cols) = (d.rows(), d.cols());
            let mut buf = vec![0.0; band.min(rows) * cols];
            let (mut nan, mut inf, mut nonzero) = (0, 0, false);
            for r0 in (0..rows).step_by(band) {
                let n = band.min(rows - r0);
                let vals = buf.get_mut(..n * cols).unwrap_or_default();
                // The decoder vouches for finiteness from its lookup tables; the values are
                // counted only when it cannot. Zeros: until the first non-zero value.
                if !d.decode(r0, vals) {
                    nan += vals.iter().filter(|v| v.is_nan()).count();
                    inf += vals.iter().filter(|v| v.is_infinite()).count();
                }
                nonzero = nonzero || vals.iter().any(|&v| v != 0.0);
                f(r0, vals);
            }
            (nan, inf, nonzero)
        })
        .map_err(|e| LayerProblem::from(fold::in_node_of(e, &b.node)))?;
        if nan + inf > 0 {
            return Err(LayerProblem::InvalidValues { nan, inf });
        }
        if !nonzero {
            return Err(LayerProblem::Degenerate(format!(
                "all {} values are zero",
                s.rows * s.cols
            )));
        }
        Ok(s)
    }

    fn recipe(&self, layer: &WeightLayer) -> Option<&super::Recipe<'_>> {
        let idx = self
            .layers
            .iter()
            .position(|l| l.layer_id == layer.layer_id && l.name == layer.name)?;
        self.recipes.get(idx)
    }
}

/// The expression under a top transpose (the stored orientation).
fn stored_expr<'e, 'm>(e: &'e Expr<'m>) -> &'e Expr<'m> {
    match e {
        Expr::SwapLast2(x) => x,
        e => e,
    }
}

/// The per-layer memory budget covers the f64 copy of every slice plus one slice's Gram matrix
/// (min(rows, cols)² f64), checked before anything is decoded (onnx-weights.md §8.2).
fn layer_budget(v: &MatrixView, budget: u64) -> std::result::Result<(), LayerProblem> {
    let (r, c, s) = (v.rows as u64, v.cols as u64, v.slices as u64);
    let side = r.min(c);
    let bytes = r
        .checked_mul(c)
        .and_then(|x| x.checked_mul(s))
        .and_then(|x| x.checked_add(side.checked_mul(side)?))
        .and_then(|x| x.checked_mul(8))
        .unwrap_or(u64::MAX);
    if bytes > budget {
        return Err(LayerProblem::OverBudget { bytes, budget });
    }
    Ok(())
}

/// W′[o,…] = W[o,…]·γ_o/√(σ²_o + ε) (onnx-weights.md §6, `fold_bn`).
fn fold_bn(ev: &mut Eval<'_>, t: &mut Dense, bn: &Bn<'_>) -> std::result::Result<(), LayerProblem> {
    let g = ev.eval(&bn.gamma)?;
    let v = ev.eval(&bn.var)?;
    let out = *t.shape.first().unwrap_or(&0);
    if g.data.len() != out || v.data.len() != out || out == 0 {
        return Err(LayerProblem::Malformed(format!(
            "BatchNormalization {} has {} channels, the conv {out}",
            display_name(&bn.name),
            g.data.len()
        )));
    }
    let per = t.data.len() / out;
    for (o, chunk) in t.data.chunks_mut(per.max(1)).enumerate() {
        let s = g.data.get(o).copied().unwrap_or(f64::NAN)
            / (v.data.get(o).copied().unwrap_or(f64::NAN) + bn.eps).sqrt();
        chunk.iter_mut().for_each(|x| *x *= s);
    }
    Ok(())
}
