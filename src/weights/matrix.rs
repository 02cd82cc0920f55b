//! Decoding one layer to its matrices: evaluate its recipe, fold a following BatchNormalization,
//! refuse NaN/Inf and all-zero weights, cut the result into the layer's matrix view.

use super::fold::{Eval, Expr};
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
