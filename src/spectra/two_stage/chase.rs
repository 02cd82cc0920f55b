//! Stage two: symmetric band → symmetric tridiagonal by Householder bulge chasing.
//!
//! Sweep s annihilates column s below its subdiagonal with one reflector of length ≤ b, applies
//! it to the diagonal block from both sides, and chases the bulge this creates down the band:
//! each step applies the previous reflector from the right to the block below, annihilates the
//! first column of the bulge with a new reflector, and applies that one from the left and to the
//! next diagonal block. Only the first column of each bulge is removed; the rest is removed by
//! later sweeps, so the band never grows past 2b − 1 subdiagonals. This is the scheme of
//! LAPACK's dsytrd_sb2st (Haidar, Ltaief & Dongarra, SC'11), run sweep after sweep on one core.
//! Every block touched is at most b × b and the whole band (n·2b values) stays in cache.

use faer::MatRef;

use super::householder;

/// A symmetric band matrix in lower storage with room for the bulge: A[j + d, j] for d < 2b is
/// at `data[j·ld + d]`, ld = 2b. A block whose rows lie below its columns is then a dense
/// column-major view with column stride ld − 1.
pub struct Band {
    n: usize,
    b: usize,
    ld: usize,
    data: Vec<f64>,
}

impl Band {
    /// The lower band (0 ≤ i − j ≤ b) of `a`.
    pub fn from_lower(a: MatRef<'_, f64>, b: usize) -> Band {
        let n = a.nrows();
        let b = b.max(1);
        let ld = 2 * b;
        let mut data = vec![0.0; n * ld];
        for j in 0..n {
            for d in 0..=b.min(n - 1 - j) {
                data[j * ld + d] = a[(j + d, j)];
            }
        }
        Band { n, b, ld, data }
    }

    /// Offset of A[i, j], i ≥ j.
    #[inline]
    fn at(&self, i: usize, j: usize) -> usize {
        j * self.ld + (i - j)
    }

    /// Reduces to tridiagonal form; returns (diagonal, subdiagonal).
    pub fn tridiagonalize(mut self) -> (Vec<f64>, Vec<f64>) {
        let (n, b) = (self.n, self.b);
        let mut v = vec![0.0; b];
        let mut next = vec![0.0; b];
        let mut w = vec![0.0; b];
        for s in 0..n.saturating_sub(2) {
            if b < 2 {
                break;
            }
            let (mut st, mut len) = (s + 1, b.min(n - 1 - s));
            let mut tau = self.take_reflector(s, st, len, &mut v);
            self.two_sided(st, len, &v[..len], tau, &mut w);
            loop {
                let j1 = st + len;
                if j1 >= n {
                    break;
                }
                let rows = b.min(n - j1);
                self.right_apply(j1, rows, st, len, &v[..len], tau, &mut w);
                let tau2 = self.take_reflector(st, j1, rows, &mut next);
                self.left_apply(j1, rows, st + 1, len - 1, &next[..rows], tau2);
                self.two_sided(j1, rows, &next[..rows], tau2, &mut w);
                std::mem::swap(&mut v, &mut next);
                (st, len, tau) = (j1, rows, tau2);
            }
        }
        let diag = (0..n).map(|i| self.data[self.at(i, i)]).collect();
        let sub = (0..n.saturating_sub(1))
            .map(|i| self.data[self.at(i + 1, i)])
            .collect();
        (diag, sub)
    }

    /// Reflector annihilating A[r0+1 .. r0+len, col]; A[r0, col] becomes β, the rest zero.
    /// Writes v (v₀ = 1) into `v[..len]` and returns τ.
    fn take_reflector(&mut self, col: usize, r0: usize, len: usize, v: &mut [f64]) -> f64 {
        let start = self.at(r0, col);
        let x = &mut self.data[start..start + len];
        let tau = householder::generate(x);
        v[0] = 1.0;
        v[1..len].copy_from_slice(&x[1..]);
        x[1..].iter_mut().for_each(|e| *e = 0.0);
        tau
    }

    /// Rows r0.. of the dense view whose column `c` is column c0 + c of A.
    #[inline]
    fn col_range(&self, r0: usize, c0: usize, c: usize, rows: usize) -> std::ops::Range<usize> {
        let start = self.at(r0, c0 + c);
        start..start + rows
    }

    /// D ← H·D·H for the symmetric diagonal block D = A[st.., st..] of size len (lower part):
    /// w = τ·D·v, w ← w − ½τ(wᵀv)·v, D ← D − v·wᵀ − w·vᵀ (LAPACK dlarfy).
    fn two_sided(&mut self, st: usize, len: usize, v: &[f64], tau: f64, w: &mut [f64]) {
        if tau == 0.0 {
            return;
        }
        let w = &mut w[..len];
        w.iter_mut().for_each(|x| *x = 0.0);
        for j in 0..len {
            let col = &self.data[self.col_range(st + j, st, j, len - j)];
            let vj = v[j];
            w[j + 1..]
                .iter_mut()
                .zip(&col[1..])
                .for_each(|(x, a)| *x += a * vj);
            w[j] += col[0] * vj + householder::dot(&col[1..], &v[j + 1..]);
        }
        w.iter_mut().for_each(|x| *x *= tau);
        let alpha = -0.5 * tau * householder::dot(w, v);
        householder::axpy(w, -alpha, v);
        for j in 0..len {
            let range = self.col_range(st + j, st, j, len - j);
            let (vj, wj) = (v[j], w[j]);
            for ((a, &vi), &wi) in self.data[range].iter_mut().zip(&v[j..]).zip(&w[j..]) {
                *a -= vi * wj + wi * vj;
            }
        }
    }

    /// B ← B·H for the block B = A[r0 .. r0+rows, c0 .. c0+cols].
    #[allow(clippy::too_many_arguments)]
    fn right_apply(
        &mut self,
        r0: usize,
        rows: usize,
        c0: usize,
        cols: usize,
        v: &[f64],
        tau: f64,
        w: &mut [f64],
    ) {
        if tau == 0.0 {
            return;
        }
        let w = &mut w[..rows];
        w.iter_mut().for_each(|x| *x = 0.0);
        for (c, &vc) in v.iter().enumerate().take(cols) {
            let col = &self.data[self.col_range(r0, c0, c, rows)];
            w.iter_mut().zip(col).for_each(|(x, a)| *x += a * vc);
        }
        for (c, &vc) in v.iter().enumerate().take(cols) {
            let range = self.col_range(r0, c0, c, rows);
            householder::axpy(&mut self.data[range], tau * vc, w);
        }
    }

    /// B ← H·B for the block B = A[r0 .. r0+rows, c0 .. c0+cols].
    fn left_apply(&mut self, r0: usize, rows: usize, c0: usize, cols: usize, v: &[f64], tau: f64) {
        if tau == 0.0 {
            return;
        }
        for c in 0..cols {
            let range = self.col_range(r0, c0, c, rows);
            let col = &mut self.data[range];
            let s = householder::dot(v, col);
            householder::axpy(col, tau * s, v);
        }
    }
}
