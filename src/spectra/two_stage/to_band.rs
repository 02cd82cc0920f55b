//! Stage one: dense symmetric → symmetric band of half-bandwidth `b`.
//!
//! One panel of `b` columns at a time: a Householder QR of the panel below the band, then the
//! two-sided update of the trailing matrix as matrix–matrix products (a rank-2b update). All the
//! O(n³) work is GEMM. The one-stage tridiagonal reduction spends half its flops in matrix–vector
//! products that stream the trailing matrix once per column; here A·V streams it once per b
//! columns (≈ 48 GFLOP/s on one core of the reference machine at b = 32, a thin shape for faer's
//! GEMM, against ≈ 5 for the matrix–vector products)
//! (Bischof, Lang & Sun, "A framework for symmetric band reduction", ACM TOMS 26(4), 2000).
//! faer's GEMM splits output blocks, never a reduction, so the result does not depend on `par`.

use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef, Par};

use super::householder;
use crate::spectra::lower;

/// Reduces the symmetric `a` (lower triangle read) in place: afterwards its lower band
/// (0 ≤ i − j ≤ b) is a band matrix orthogonally similar to the input. Entries outside the
/// band are left unspecified.
///
/// Gathering the trailing updates of several panels into one deeper product (as LAPACK's
/// dsytrd does for its panel) made no measurable difference at n = 4096: the time is in the
/// A·V product each panel needs, which gathering cannot avoid.
pub fn reduce(mut a: MatMut<'_, f64>, b: usize, par: Par) {
    let n = a.nrows();
    let mut k = 0;
    while b > 0 && k + b < n {
        let m = n - k - b;
        let (left, mut right) = a.rb_mut().split_at_col_mut(k + b);
        let block = factor_panel(left.submatrix_mut(k + b, k, m, b));
        let trailing = right.rb_mut().submatrix_mut(k + b, 0, m, m);
        let y = update_terms(trailing.rb(), &block, par);
        // A ← A − V·Yᵀ − Y·Vᵀ as one product of depth 2k: [V | Y]·[Y | V]ᵀ.
        let lhs = concat(&block.v, &y);
        let rhs = concat(&y, &block.v);
        lower::matmul(
            trailing,
            Accum::Add,
            lhs.as_ref(),
            rhs.transpose(),
            -1.0,
            par,
        );
        k += b;
    }
}

/// [x | y], side by side.
fn concat(x: &Mat<f64>, y: &Mat<f64>) -> Mat<f64> {
    let (m, k) = (x.nrows(), x.ncols());
    let mut out = Mat::<f64>::zeros(m, 2 * k);
    out.as_mut().submatrix_mut(0, 0, m, k).copy_from(x);
    out.as_mut().submatrix_mut(0, k, m, k).copy_from(y);
    out
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
    let vtv = product(v.transpose(), v, 1.0, Par::Seq);
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

/// Y of the two-sided update A ← Qᵀ·A·Q = A − V·Yᵀ − Y·Vᵀ of the trailing matrix A, with
/// Q = I − V·T·Vᵀ: W = A·V·T, Y = W − ½·V·(Tᵀ·Vᵀ·W) (LAPACK dsytrd's blocked update, with
/// b-column panels).
fn update_terms(a: MatRef<'_, f64>, q: &BlockReflector, par: Par) -> Mat<f64> {
    let (m, k) = (q.v.nrows(), q.v.ncols());
    let mut av = Mat::<f64>::zeros(m, k);
    lower::symmetric_matmul(av.as_mut(), a, q.v.as_ref(), par);
    let mut w = product(av.as_ref(), q.t.as_ref(), 1.0, par);
    let vtw = product(q.v.transpose(), w.as_ref(), 1.0, par);
    let half_m = product(q.t.transpose(), vtw.as_ref(), 0.5, par);
    faer::linalg::matmul::matmul(
        w.as_mut(),
        Accum::Add,
        q.v.as_ref(),
        half_m.as_ref(),
        -1.0,
        par,
    );
    w
}

/// α·lhs·rhs in a new matrix.
fn product(lhs: MatRef<'_, f64>, rhs: MatRef<'_, f64>, alpha: f64, par: Par) -> Mat<f64> {
    let mut out = Mat::<f64>::zeros(lhs.nrows(), rhs.ncols());
    faer::linalg::matmul::matmul(out.as_mut(), Accum::Replace, lhs, rhs, alpha, par);
    out
}
