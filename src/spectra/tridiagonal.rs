//! Eigenvalues of a symmetric tridiagonal matrix by the root-free QL/QR iteration of
//! Pal, Walker and Kahan, as in LAPACK's `dsterf` (the eigenvalue-only path of `dsyevd`, and so
//! of `scipy.linalg.eigvalsh`).
//!
//! Why not faer's tridiagonal QR: with eigenvalues only it still forms every Givens rotation
//! (a square root and two divisions per step), 0.48 s at n = 4096 on the reference machine;
//! the root-free iteration works on the squares of the off-diagonal and needs one division per
//! step. Same backward stability (absolute error ≈ ε·‖T‖).
//!
//! The code follows LAPACK 3.12 `dsterf` line by line, 0-based: `e[i]` couples `d[i]` and
//! `d[i + 1]`.

use faer::Par;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd;

/// Eigenvalues of the symmetric tridiagonal matrix (diag, sub), ascending: the root-free
/// iteration, or faer's QR if it ever fails to converge. Non-finite input is an error (faer's QR
/// does not report NaN as a failure, and NaN must not turn into a spectrum).
pub fn spectrum(diag: &[f64], sub: &[f64]) -> Result<Vec<f64>, evd::EvdError> {
    if !diag.iter().chain(sub).all(|x| x.is_finite()) {
        return Err(evd::EvdError::NoConvergence);
    }
    eigenvalues(diag, sub).or_else(|NoConvergence| eigenvalues_qr(diag, sub))
}

/// Eigenvalues of the symmetric tridiagonal matrix (diag, sub), ascending, by faer's implicit
/// QR algorithm (no eigenvectors).
fn eigenvalues_qr(diag: &[f64], sub: &[f64]) -> Result<Vec<f64>, evd::EvdError> {
    let n = diag.len();
    let d = faer::ColRef::from_slice(diag);
    let mut e = sub.to_vec();
    e.resize(n, 0.0);
    let e = faer::ColRef::from_slice(&e);
    let mut s = faer::diag::Diag::<f64>::zeros(n);
    let scratch = evd::self_adjoint_evd_scratch::<f64>(
        n,
        evd::ComputeEigenvectors::No,
        Par::Seq,
        Default::default(),
    );
    let mut buf = MemBuffer::new(scratch);
    evd::tridiagonal_self_adjoint_evd(
        d.as_diagonal(),
        e.as_diagonal(),
        s.as_mut(),
        None,
        Par::Seq,
        MemStack::new(&mut buf),
        Default::default(),
    )?;
    let mut out: Vec<f64> = s.column_vector().iter().copied().collect();
    out.sort_by(f64::total_cmp);
    Ok(out)
}

/// The iteration did not converge within 30·n QL/QR sweeps (LAPACK's MAXIT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoConvergence;

/// Sweeps allowed per eigenvalue (LAPACK `dsterf` MAXIT).
const MAX_SWEEPS: usize = 30;

/// All eigenvalues of the symmetric tridiagonal matrix with diagonal `diag` and off-diagonal
/// `sub` (`diag.len() − 1` values; extra ones are ignored), ascending. Inputs must be finite.
pub fn eigenvalues(diag: &[f64], sub: &[f64]) -> Result<Vec<f64>, NoConvergence> {
    let n = diag.len();
    let mut d = diag.to_vec();
    let mut e: Vec<f64> = sub.iter().copied().take(n.saturating_sub(1)).collect();
    e.resize(n.saturating_sub(1), 0.0);
    let mut sweeps = Sweeps {
        done: 0,
        limit: n * MAX_SWEEPS,
    };
    let mut l1 = 0;
    while l1 < n {
        if l1 > 0 {
            e[l1 - 1] = 0.0;
        }
        // The block l1..=m ends at the first negligible off-diagonal.
        let m = (l1..n - 1)
            .find(|&i| e[i].abs() <= d[i].abs().sqrt() * d[i + 1].abs().sqrt() * EPS)
            .unwrap_or(n - 1);
        if m < n - 1 {
            e[m] = 0.0;
        }
        let block = l1..m + 1;
        l1 = m + 1;
        if block.len() > 1 {
            solve_block(&mut d, &mut e, block, &mut sweeps)?;
        }
    }
    d.sort_by(f64::total_cmp);
    Ok(d)
}

/// LAPACK `dlamch('E')`: the unit roundoff 2⁻⁵³.
const EPS: f64 = f64::EPSILON / 2.0;

struct Sweeps {
    done: usize,
    limit: usize,
}

impl Sweeps {
    fn next(&mut self) -> Result<(), NoConvergence> {
        if self.done == self.limit {
            return Err(NoConvergence);
        }
        self.done += 1;
        Ok(())
    }
}

/// Eigenvalues of the unreduced block `d[block]`, in place: scaled into the safe range, the
/// off-diagonal squared, then QL if the top end is larger in magnitude, else QR.
fn solve_block(
    d: &mut [f64],
    e: &mut [f64],
    block: std::ops::Range<usize>,
    sweeps: &mut Sweeps,
) -> Result<(), NoConvergence> {
    let (l, lend) = (block.start, block.end - 1);
    let anorm = d[l..=lend]
        .iter()
        .chain(&e[l..lend])
        .fold(0.0f64, |a, x| a.max(x.abs()));
    if anorm == 0.0 {
        return Ok(());
    }
    let eps2 = EPS * EPS;
    let safmin = f64::MIN_POSITIVE;
    let ssfmax = (1.0 / safmin).sqrt() / 3.0;
    let ssfmin = safmin.sqrt() / eps2;
    let scale_to = if anorm > ssfmax {
        Some(ssfmax)
    } else if anorm < ssfmin {
        Some(ssfmin)
    } else {
        None
    };
    if let Some(to) = scale_to {
        let f = to / anorm;
        d[l..=lend].iter_mut().for_each(|x| *x *= f);
        e[l..lend].iter_mut().for_each(|x| *x *= f);
    }
    e[l..lend].iter_mut().for_each(|x| *x *= *x);
    let result = if d[lend].abs() < d[l].abs() {
        qr(d, e, l, lend, sweeps)
    } else {
        ql(d, e, l, lend, sweeps)
    };
    if let Some(to) = scale_to {
        let f = anorm / to;
        d[l..=lend].iter_mut().for_each(|x| *x *= f);
    }
    result
}

/// QL sweeps over the block top..=bottom, deflating from the top; `e` holds squared
/// off-diagonals.
fn ql(
    d: &mut [f64],
    e: &mut [f64],
    top: usize,
    bottom: usize,
    sweeps: &mut Sweeps,
) -> Result<(), NoConvergence> {
    let eps2 = EPS * EPS;
    let (mut l, lend) = (top, bottom);
    while l <= lend {
        let m = (l..lend)
            .find(|&i| e[i].abs() <= eps2 * (d[i] * d[i + 1]).abs())
            .unwrap_or(lend);
        if m < lend {
            e[m] = 0.0;
        }
        if m == l {
            l += 1;
            continue;
        }
        if m == l + 1 {
            (d[l], d[l + 1]) = eig2(d[l], e[l].sqrt(), d[l + 1]);
            e[l] = 0.0;
            l += 2;
            continue;
        }
        sweeps.next()?;
        let sigma = shift(d[l], d[l + 1], e[l].sqrt());
        let mut sw = Sweep::new(d[m], sigma);
        for i in (l..m).rev() {
            let (e_prev, d_new) = sw.step(e[i], d[i]);
            if i != m - 1 {
                e[i + 1] = e_prev;
            }
            d[i + 1] = d_new;
        }
        (e[l], d[l]) = sw.finish();
    }
    Ok(())
}

/// QR sweeps over the block top..=bottom, deflating from the bottom; `e` holds squared
/// off-diagonals.
fn qr(
    d: &mut [f64],
    e: &mut [f64],
    top: usize,
    bottom: usize,
    sweeps: &mut Sweeps,
) -> Result<(), NoConvergence> {
    let eps2 = EPS * EPS;
    let (lend, mut l) = (top, bottom);
    loop {
        let m = (lend + 1..=l)
            .rev()
            .find(|&i| e[i - 1].abs() <= eps2 * (d[i] * d[i - 1]).abs())
            .unwrap_or(lend);
        if m > lend {
            e[m - 1] = 0.0;
        }
        if m == l {
            if l == lend {
                return Ok(());
            }
            l -= 1;
            continue;
        }
        if m + 1 == l {
            (d[l], d[l - 1]) = eig2(d[l], e[l - 1].sqrt(), d[l - 1]);
            e[l - 1] = 0.0;
            if l < lend + 2 {
                return Ok(());
            }
            l -= 2;
            continue;
        }
        sweeps.next()?;
        let sigma = shift(d[l], d[l - 1], e[l - 1].sqrt());
        let mut sw = Sweep::new(d[m], sigma);
        for i in m..l {
            let (e_prev, d_new) = sw.step(e[i], d[i + 1]);
            if i != m {
                e[i - 1] = e_prev;
            }
            d[i] = d_new;
        }
        (e[l - 1], d[l]) = sw.finish();
    }
}

/// One implicit root-free QL or QR sweep (the inner loop of LAPACK `dsterf`): the last
/// rotation's c and s, γ and p, with the shift σ.
struct Sweep {
    c: f64,
    s: f64,
    gamma: f64,
    p: f64,
    sigma: f64,
}

impl Sweep {
    /// Starting at the far end of the unreduced part, whose diagonal value is `d_far`.
    fn new(d_far: f64, sigma: f64) -> Self {
        let gamma = d_far - sigma;
        Sweep {
            c: 1.0,
            s: 0.0,
            gamma,
            p: gamma * gamma,
            sigma,
        }
    }

    /// One rotation against the squared off-diagonal `bb` and the next diagonal value `alpha`.
    /// Returns the new value of the previous squared off-diagonal (s·r, unused on the first
    /// step) and the new diagonal value behind.
    #[inline]
    fn step(&mut self, bb: f64, alpha: f64) -> (f64, f64) {
        let r = self.p + bb;
        let e_prev = self.s * r;
        let oldc = self.c;
        self.c = self.p / r;
        self.s = bb / r;
        let oldgam = self.gamma;
        self.gamma = self.c * (alpha - self.sigma) - self.s * oldgam;
        let d_new = oldgam + (alpha - self.gamma);
        self.p = if self.c != 0.0 {
            self.gamma * self.gamma / self.c
        } else {
            oldc * bb
        };
        (e_prev, d_new)
    }

    /// The last squared off-diagonal and the diagonal value at the near end.
    fn finish(&self) -> (f64, f64) {
        (self.s * self.p, self.sigma + self.gamma)
    }
}

/// Wilkinson-type shift from the 2×2 end block [[p, rte], [rte, next]] (LAPACK `dsterf`).
fn shift(p: f64, next: f64, rte: f64) -> f64 {
    let sigma = (next - p) / (2.0 * rte);
    let r = sigma.hypot(1.0);
    p - rte / (sigma + if sigma >= 0.0 { r } else { -r })
}

/// Eigenvalues of [[a, b], [b, c]], larger in magnitude first (LAPACK `dlae2`).
fn eig2(a: f64, b: f64, c: f64) -> (f64, f64) {
    let sm = a + c;
    let adf = (a - c).abs();
    let ab = (b + b).abs();
    let (acmx, acmn) = if a.abs() > c.abs() { (a, c) } else { (c, a) };
    let rt = if adf > ab {
        adf * (1.0 + (ab / adf).powi(2)).sqrt()
    } else if adf < ab {
        ab * (1.0 + (adf / ab).powi(2)).sqrt()
    } else {
        ab * 2f64.sqrt()
    };
    if sm == 0.0 {
        return (0.5 * rt, -0.5 * rt);
    }
    let rt1 = if sm < 0.0 {
        0.5 * (sm - rt)
    } else {
        0.5 * (sm + rt)
    };
    (rt1, (acmx / rt1) * acmn - (b / rt1) * b)
}

#[cfg(test)]
#[path = "tridiagonal_tests.rs"]
mod tests;
