//! Stage one: dense symmetric → symmetric band of half-bandwidth `b`.
//!
//! One panel of `b` columns at a time: a Householder QR of the panel below the band, then the
//! two-sided update of the trailing matrix as matrix–matrix products (a rank-2b update). All the
//! O(n³) work is GEMM, so this stage runs near the machine's GEMM rate, where the one-stage
//! tridiagonal reduction spends half its flops in memory-bound matrix–vector products
//! (Bischof, Lang & Sun, "A framework for symmetric band reduction", ACM TOMS 26(4), 2000).
//! faer's GEMM splits output blocks, never a reduction, so the result does not depend on `par`.

use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef, Par};

use super::householder;
use crate::spectra::lower;

/// Panels whose trailing updates are gathered into one: the update of a group is one product
/// of depth 2·b·PANELS over the trailing matrix instead of PANELS products of depth 2b, so the
/// trailing matrix (memory-bound traffic at b = 32) is swept PANELS times less often.
pub const PANELS: usize = 4;

/// Reduces the symmetric `a` (lower triangle read) in place: afterwards its lower band
/// (0 ≤ i − j ≤ b) is a band matrix orthogonally similar to the input. Entries outside the
/// band are left unspecified.
pub fn reduce(a: MatMut<'_, f64>, b: usize, par: Par) {
    reduce_in_groups(a, b, PANELS, par)
}

/// As `reduce`, gathering the trailing updates of `panels` panels (≥ 1) at a time (benches).
pub fn reduce_in_groups(mut a: MatMut<'_, f64>, b: usize, panels: usize, par: Par) {
    let n = a.nrows();
    let panels = panels.max(1);
    let mut k = 0;
    while b > 0 && k + b < n {
        // A group of panels: the trailing matrix below row `base` is stale by the updates in
        // `pending` until the group ends; each panel first brings its own columns up to date.
        let base = k + b;
        let mut pending = Pending::new(n - base, b * panels);
        for _ in 0..panels {
            if k + b >= n {
                break;
            }
            pending.apply_to_columns(
                a.rb_mut().submatrix_mut(k, k, n - k, b),
                k - base.min(k),
                par,
            );
            let m = n - k - b;
            let (left, right) = a.rb_mut().split_at_col_mut(k + b);
            let block = factor_panel(left.submatrix_mut(k + b, k, m, b));
            let stale = right.rb().submatrix(k + b, 0, m, m);
            let y = symmetric_update_terms(stale, &block, &pending, k + b - base, par);
            pending.push(k + b - base, &block.v, &y);
            k += b;
        }
        pending.apply_to_trailing(a.rb_mut().submatrix_mut(k, k, n - k, n - k), k - base, par);
    }
}

/// The updates A ← A − Σ (Vₚ·Yₚᵀ + Yₚ·Vₚᵀ) gathered over a group of panels, as
/// A ← A − L·Rᵀ with L = [V₀ Y₀ V₁ Y₁ …] and R = [Y₀ V₀ Y₁ V₁ …], rows relative to the
/// group's first trailing row.
struct Pending {
    l: Mat<f64>,
    r: Mat<f64>,
    used: usize,
}

impl Pending {
    fn new(rows: usize, panels_width: usize) -> Pending {
        Pending {
            l: Mat::zeros(rows, 2 * panels_width),
            r: Mat::zeros(rows, 2 * panels_width),
            used: 0,
        }
    }

    /// Appends one panel's V and Y, whose first row is `row` (relative).
    fn push(&mut self, row: usize, v: &Mat<f64>, y: &Mat<f64>) {
        let (m, kb) = (v.nrows(), v.ncols());
        let c = self.used;
        self.l.as_mut().submatrix_mut(row, c, m, kb).copy_from(v);
        self.l
            .as_mut()
            .submatrix_mut(row, c + kb, m, kb)
            .copy_from(y);
        self.r.as_mut().submatrix_mut(row, c, m, kb).copy_from(y);
        self.r
            .as_mut()
            .submatrix_mut(row, c + kb, m, kb)
            .copy_from(v);
        self.used += 2 * kb;
    }

    fn l(&self, row: usize) -> MatRef<'_, f64> {
        let rows = self.l.nrows() - row;
        self.l.as_ref().submatrix(row, 0, rows, self.used)
    }

    fn r(&self, row: usize) -> MatRef<'_, f64> {
        let rows = self.r.nrows() - row;
        self.r.as_ref().submatrix(row, 0, rows, self.used)
    }

    /// Brings the columns of the next panel (rows from the panel's diagonal down, first row
    /// `row` relative) up to date.
    fn apply_to_columns(&self, cols: MatMut<'_, f64>, row: usize, par: Par) {
        if self.used == 0 {
            return;
        }
        let b = cols.ncols();
        let r = self.r(row);
        faer::linalg::matmul::matmul(
            cols,
            Accum::Add,
            self.l(row),
            r.subrows(0, b).transpose(),
            -1.0,
            par,
        );
    }

    /// The gathered update of the trailing matrix (lower triangle), first row `row` relative.
    fn apply_to_trailing(&self, a: MatMut<'_, f64>, row: usize, par: Par) {
        if self.used == 0 {
            return;
        }
        lower::matmul(
            a,
            Accum::Add,
            self.l(row),
            self.r(row).transpose(),
            -1.0,
            par,
        );
    }
}

/// The compact WY form Q = H₀·H₁·…·H_{k−1} = I − V·T·Vᵀ of a panel's reflectors.
struct BlockReflector {
    /// Unit lower trapezoidal, m × k.
    v: Mat<f64>,
    /// Upper triangular, k × k.
    t: Mat<f64>,
}

/// QR of the m × b panel in place (R on and above the diagonal, zeros below): returns Q in
/// compact WY form. Level-2 work, m·b² flops per panel, small next to the update.
fn factor_panel(mut panel: MatMut<'_, f64>) -> BlockReflector {
    let (m, b) = (panel.nrows(), panel.ncols());
    let kb = m.min(b);
    let mut p: Vec<f64> = (0..b)
        .flat_map(|c| (0..m).map(move |r| (r, c)))
        .map(|(r, c)| panel[(r, c)])
        .collect();
    let mut tau = vec![0.0; kb];
    for c in 0..kb {
        let (done, rest) = p.split_at_mut((c + 1) * m);
        let v = &mut done[c * m + c..];
        tau[c] = householder::generate(v);
        if tau[c] == 0.0 {
            continue;
        }
        for col in rest.chunks_exact_mut(m) {
            let x = &mut col[c..];
            let s = x[0] + householder::dot(&v[1..], &x[1..]);
            x[0] -= tau[c] * s;
            householder::axpy(&mut x[1..], tau[c] * s, &v[1..]);
        }
    }
    for c in 0..b {
        for r in 0..m {
            panel[(r, c)] = if r <= c { p[c * m + r] } else { 0.0 };
        }
    }
    let v = Mat::from_fn(m, kb, |r, c| match r.cmp(&c) {
        std::cmp::Ordering::Equal => 1.0,
        std::cmp::Ordering::Greater => p[c * m + r],
        std::cmp::Ordering::Less => 0.0,
    });
    let t = triangular_factor(v.as_ref(), &tau);
    BlockReflector { v, t }
}

/// T of the compact WY form (LAPACK dlarft, forward, columnwise):
/// T[i,i] = τᵢ, T[0..i, i] = −τᵢ·T[0..i, 0..i]·V[:, 0..i]ᵀ·vᵢ.
fn triangular_factor(v: MatRef<'_, f64>, tau: &[f64]) -> Mat<f64> {
    let k = tau.len();
    let mut vtv = Mat::<f64>::zeros(k, k);
    faer::linalg::matmul::matmul(
        vtv.as_mut(),
        Accum::Replace,
        v.transpose(),
        v,
        1.0,
        Par::Seq,
    );
    let mut t = Mat::<f64>::zeros(k, k);
    for i in 0..k {
        t[(i, i)] = tau[i];
        for r in 0..i {
            let s: f64 = (r..i).map(|c| t[(r, c)] * vtv[(c, i)]).sum();
            t[(r, i)] = -tau[i] * s;
        }
    }
    t
}

/// Y of the two-sided update A ← Qᵀ·A·Q = A − V·Yᵀ − Y·Vᵀ of the current trailing matrix
/// A = stale − L·Rᵀ (`pending`, rows from `row` relative), with Q = I − V·T·Vᵀ:
/// W = A·V·T, Y = W − ½·V·(Tᵀ·Vᵀ·W) (LAPACK dsytrd's blocked update, with b-column panels).
fn symmetric_update_terms(
    stale: MatRef<'_, f64>,
    q: &BlockReflector,
    pending: &Pending,
    row: usize,
    par: Par,
) -> Mat<f64> {
    use faer::linalg::matmul::matmul;
    let (m, k) = (q.v.nrows(), q.v.ncols());
    // A·V from the lower triangle alone, then the pending part.
    let mut av = Mat::<f64>::zeros(m, k);
    lower::symmetric_matmul(av.as_mut(), stale, q.v.as_ref(), par);
    if pending.used > 0 {
        let mut rtv = Mat::<f64>::zeros(pending.used, k);
        matmul(
            rtv.as_mut(),
            Accum::Replace,
            pending.r(row).transpose(),
            q.v.as_ref(),
            1.0,
            par,
        );
        matmul(
            av.as_mut(),
            Accum::Add,
            pending.l(row),
            rtv.as_ref(),
            -1.0,
            par,
        );
    }
    let mut w = Mat::<f64>::zeros(m, k);
    matmul(
        w.as_mut(),
        Accum::Replace,
        av.as_ref(),
        q.t.as_ref(),
        1.0,
        par,
    );
    let mut vtw = Mat::<f64>::zeros(k, k);
    matmul(
        vtw.as_mut(),
        Accum::Replace,
        q.v.transpose(),
        w.as_ref(),
        1.0,
        par,
    );
    let mut half_m = Mat::<f64>::zeros(k, k);
    matmul(
        half_m.as_mut(),
        Accum::Replace,
        q.t.transpose(),
        vtw.as_ref(),
        0.5,
        par,
    );
    matmul(
        w.as_mut(),
        Accum::Add,
        q.v.as_ref(),
        half_m.as_ref(),
        -1.0,
        par,
    );
    w
}
