//! Matrix views of weight tensors (methods.md §2), the reported N/M (§2.5, quirk Q1) and the size
//! filters (§3).

use serde::Serialize;

use super::LayerKind;
use crate::onnx::tensor::Dense;
use crate::options::{AnalysisOptions, GroupedConv};

/// The matrix view: `slices` matrices of rows × cols. Conv: one per kernel position p, row-major
/// over the spatial axes as WW (p = i·k_w + j), S_p = K[:, :, p]. Dense: one slice as the effective
/// weight is oriented. Stacked MatMul [h, K, N]: h slices. With `grouped_conv: blocks` the g
/// diagonal blocks of every slice are separate slices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatrixView {
    /// Rows of each slice.
    pub rows: usize,
    /// Columns of each slice.
    pub cols: usize,
    /// Spatial kernel dims of a conv ([k_h, k_w] for conv2d); empty for other layers.
    pub kernel: Vec<usize>,
    /// Number of matrices.
    pub slices: usize,
}

/// Reported sizes (methods.md §2.5).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Dims {
    /// N, the larger side of a slice (see [`MatrixView::dims`] for `conv_nm_swap`).
    pub n: usize,
    /// M, the smaller side of a slice.
    pub m: usize,
    /// Q = N/M (NaN when M = 0).
    pub q: f64,
    /// rf, the receptive field: the number of slices.
    pub rf: usize,
}

impl MatrixView {
    /// Native: N = max, M = min per slice. With `conv_nm_swap` (quirk Q1) WW's bookkeeping: it
    /// starts from (C_out, C_in/g) and swaps the pair at every slice it transposes, so with
    /// rows < cols and an even slice count the pair stays unsorted; and when C_out + C_in/g <
    /// k_h + k_w its layout detector reports the unsorted pair. rf = slices.
    pub fn dims(&self, kind: LayerKind, conv_nm_swap: bool) -> Dims {
        let (r, c, rf) = (self.rows, self.cols, self.slices);
        let sorted = (r.max(c), r.min(c));
        let (n, m) = if conv_nm_swap && kind.is_conv() {
            let mismatch = matches!(self.kernel.as_slice(), [kh, kw] if r + c < kh + kw);
            if mismatch || (r < c && rf % 2 == 0) {
                (r, c)
            } else {
                sorted
            }
        } else {
            sorted
        };
        let q = if m == 0 {
            f64::NAN
        } else {
            n as f64 / m as f64
        };
        Dims { n, m, q, rf }
    }
}

impl Dims {
    /// `num_evals` as `describe` reports it: M·rf pooled, M sliced (methods.md §3).
    pub fn num_evals(&self, pool: bool) -> usize {
        if pool {
            self.m.saturating_mul(self.rf)
        } else {
            self.m
        }
    }
}

/// methods.md §3 on the reported dims; None = the layer passes.
pub fn size_filter(dims: &Dims, opts: &AnalysisOptions) -> Option<String> {
    let evals = dims.num_evals(opts.pool);
    let what = if opts.pool { "M·rf" } else { "M" };
    if evals < opts.min_evals {
        Some(format!(
            "size filter: {what} = {evals} < min_evals {}",
            opts.min_evals
        ))
    } else if evals > opts.max_evals {
        Some(format!(
            "size filter: {what} = {evals} > max_evals {}",
            opts.max_evals
        ))
    } else if dims.n > opts.max_n {
        Some(format!(
            "size filter: N = {} > max_N {}",
            dims.n, opts.max_n
        ))
    } else {
        None
    }
}

/// How an effective tensor maps to slices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    /// [A, B, k…]: S_p = T[:, :, p]; `group` for the blocks mode.
    Conv { group: usize },
    /// [s…, R, C] with slices over the leading axes; `rows` overrides R for RNN gate blocks
    /// ([dirs, G·H, X] is [dirs·G, H, X] in memory).
    Stacked { rows: Option<usize> },
}

/// The view of an effective tensor of `shape`, or why it has none.
pub fn view_for(
    layout: &Layout,
    shape: &[usize],
    grouped: GroupedConv,
) -> Result<MatrixView, String> {
    match layout {
        Layout::Conv { group } => {
            let [a, b, kernel @ ..] = shape else {
                return Err(format!("conv weight of rank {} (need ≥ 3)", shape.len()));
            };
            let p: usize = kernel.iter().product();
            let g = (*group).max(1);
            if grouped == GroupedConv::Blocks && g > 1 {
                if a % g != 0 {
                    return Err(format!("{a} rows do not split into {g} groups"));
                }
                return Ok(MatrixView {
                    rows: a / g,
                    cols: *b,
                    kernel: kernel.to_vec(),
                    slices: p * g,
                });
            }
            Ok(MatrixView {
                rows: *a,
                cols: *b,
                kernel: kernel.to_vec(),
                slices: p,
            })
        }
        Layout::Stacked { rows } => {
            let [lead @ .., r, c] = shape else {
                return Err(format!("rank {} is not a matrix", shape.len()));
            };
            let total: usize = lead.iter().product::<usize>() * r;
            let rows = rows.unwrap_or(*r);
            if rows == 0 || !total.is_multiple_of(rows) {
                return Err(format!("{r} rows do not split into blocks of {rows}"));
            }
            Ok(MatrixView {
                rows,
                cols: *c,
                kernel: vec![],
                slices: total / rows,
            })
        }
    }
}

/// Reorder an effective tensor into slice-major row-major matrices per `view`. The tensor is
/// consumed: a stacked layout is already in that order and its buffer is reused, so a big dense
/// layer is never held twice (memory target of the performance issue).
pub fn slices_of(layout: &Layout, view: &MatrixView, t: Dense) -> Result<Vec<f64>, String> {
    let (rows, cols, slices) = (view.rows, view.cols, view.slices);
    let need = rows
        .checked_mul(cols)
        .and_then(|x| x.checked_mul(slices))
        .ok_or("view size overflows")?;
    if t.data.len() != need {
        return Err(format!(
            "tensor has {} values, view needs {need}",
            t.data.len()
        ));
    }
    match layout {
        Layout::Stacked { .. } => Ok(t.data),
        Layout::Conv { .. } => {
            // Stored [A, B, P]; blocks mode splits A into g row blocks: slice p·g + j holds rows
            // j·rows .. (j+1)·rows of position p.
            let p_count = view.kernel.iter().product::<usize>().max(1);
            let g = slices / p_count;
            let a = rows * g;
            let mut out = Vec::with_capacity(need);
            for p in 0..p_count {
                for j in 0..g {
                    for r in 0..rows {
                        for c in 0..cols {
                            let i = ((j * rows + r) * cols + c) * p_count + p;
                            out.push(t.data.get(i).copied().unwrap_or(f64::NAN));
                        }
                    }
                }
            }
            debug_assert_eq!(a * cols * p_count, need);
            Ok(out)
        }
    }
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
