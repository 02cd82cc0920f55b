//! Upper incomplete gamma function Γ(s, x) = ∫ₓ^∞ t^(s−1) e^(−t) dt for real s, including s ≤ 0.
//!
//! The truncated power law (methods.md §6.3) is normalised by Γ(1 − alpha, Λ·xmin) with
//! alpha > 1, i.e. a negative shape, where the textbook routines for s > 0 (series for γ, or
//! Γ(s) − γ) do not apply. `powerlaw` 1.5 evaluates it with mpmath in arbitrary precision and
//! rounds to a double; this module aims for a few ulps in double precision instead:
//!
//! - x ≥ max(1.5, s + 1): Legendre's continued fraction, evaluated by the modified Lentz method.
//! - otherwise: shift s by an integer m into a ∈ (−0.5, 0.5], evaluate Γ(a, x) by a series that
//!   stays accurate as a → 0 (no pole cancellation; a = 0 gives E₁(x)), then recur back to s.
//!
//! Both parts work with the scaled ratio R = Γ(s, x) / (x^s e^(−x)), so that the recurrences never
//! overflow and the result under/overflows only at the very end, as a double would.

/// Below this x the continued fraction converges slowly; the series branch takes over.
const CF_MIN_X: f64 = 1.5;
/// Relative precision of the continued fraction and of the series.
const EPS: f64 = 1e-17;
/// Lentz's guard against division by zero.
const TINY_DEN: f64 = 1e-300;
const MAX_TERMS: usize = 10_000;
/// Euler–Mascheroni constant.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// ζ(k) − 1 for k = 2…30, computed with mpmath 1.4.1 (`float(mpmath.zeta(k) - 1)`, 40 digits).
const ZETA_MINUS_ONE: [f64; 29] = [
    0.6449340668482264,
    0.2020569031595943,
    0.08232323371113819,
    0.03692775514336993,
    0.01734306198444914,
    0.008349277381922827,
    0.00407735619794434,
    0.0020083928260822143,
    0.0009945751278180853,
    0.0004941886041194645,
    0.0002460865533080483,
    0.00012271334757848915,
    6.124813505870483e-05,
    3.058823630702049e-05,
    1.528225940865187e-05,
    7.637197637899763e-06,
    3.81729326499984e-06,
    1.908212716553939e-06,
    9.539620338727962e-07,
    4.769329867878064e-07,
    2.38450502727733e-07,
    1.1921992596531106e-07,
    5.960818905125948e-08,
    2.980350351465228e-08,
    1.4901554828365043e-08,
    7.45071178983543e-09,
    3.725334024788457e-09,
    1.862659723513049e-09,
    9.313274324196682e-10,
];

/// Γ(s, x) for real s and x > 0, as a double (0 on underflow, +inf on overflow).
///
/// x = 0 gives +inf for s ≤ 0 (the integral diverges); x < 0 or NaN inputs give NaN. For
/// s > 0.5 and x < s + 1 the upward recurrence is exact but its scaled ratio overflows once
/// Γ(s)·x^(−s) exceeds the double range; the truncated power law never asks for s > 0.
pub fn upper_gamma(s: f64, x: f64) -> f64 {
    UpperGamma::new(s).at(x)
}

/// Γ(s, ·) for one shape s, with the x-independent part of the small-x branch computed once
/// (the KS distance of a TPL candidate evaluates Γ(s, Λx) at every tail value).
#[derive(Clone, Copy, Debug)]
pub struct UpperGamma {
    s: f64,
    /// Shift m and shifted shape a = s + m ∈ (−0.5, 0.5] of the small-x branch.
    m: f64,
    a: f64,
    /// (Γ(1+a) − 1)/a.
    g1: f64,
}

impl UpperGamma {
    pub fn new(s: f64) -> UpperGamma {
        let m = (0.5 - s).floor();
        let a = s + m;
        UpperGamma {
            s,
            m,
            a,
            g1: gamma1pm1_over(a),
        }
    }

    /// Γ(s, x); see `upper_gamma`.
    pub fn at(&self, x: f64) -> f64 {
        let s = self.s;
        if s.is_nan() || x.is_nan() || x < 0.0 || s.is_infinite() {
            return f64::NAN;
        }
        if x == 0.0 {
            return if s <= 0.0 { f64::INFINITY } else { f64::NAN };
        }
        if x.is_infinite() {
            return 0.0;
        }
        let ratio = if x >= CF_MIN_X.max(s + 1.0) {
            continued_fraction(s, x)
        } else {
            self.shifted_series(x)
        };
        scale(ratio, s, x)
    }

    /// R for x below the continued-fraction range: evaluate at a = s + m, then recur to s.
    fn shifted_series(&self, x: f64) -> f64 {
        let (m, a) = (self.m, self.a);
        // Rounding can leave a just outside (−0.5, 0.5]; both series ends stay accurate there.
        let mut r = small_shape(a, self.g1, x) * x.powf(-a) * x.exp();
        let mut b = a;
        if m >= 0.0 {
            // Down: Γ(b−1, x) = (Γ(b, x) − x^(b−1) e^(−x))/(b−1), i.e. R_(b−1) = (x·R_b − 1)/(b−1).
            for _ in 0..(m as u64) {
                r = (x * r - 1.0) / (b - 1.0);
                b -= 1.0;
            }
        } else {
            // Up: Γ(b+1, x) = b·Γ(b, x) + x^b e^(−x), i.e. R_(b+1) = (b·R_b + 1)/x.
            for _ in 0..((-m) as u64) {
                r = (b * r + 1.0) / x;
                b += 1.0;
            }
        }
        r
    }
}

/// x^s e^(−x) R, with the factors multiplied directly when that cannot under/overflow (a few
/// ulps), and through one exponential otherwise.
fn scale(ratio: f64, s: f64, x: f64) -> f64 {
    let p = x.powf(s);
    let e = (-x).exp();
    let direct = p * e * ratio;
    let normal = |v: f64| v.is_normal();
    if normal(p) && normal(e) && normal(direct) {
        return direct;
    }
    (s * x.ln() - x + ratio.ln()).exp()
}

/// R = Γ(s, x)/(x^s e^(−x)) = 1/(x+1−s− 1·(1−s)/(x+3−s− 2·(2−s)/(x+5−s− …))).
fn continued_fraction(s: f64, x: f64) -> f64 {
    let mut b = x + 1.0 - s;
    let mut c = 1.0 / TINY_DEN;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..MAX_TERMS {
        let fi = i as f64;
        let an = -fi * (fi - s);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY_DEN {
            d = TINY_DEN;
        }
        c = b + an / c;
        if c.abs() < TINY_DEN {
            c = TINY_DEN;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// Γ(a, x) for |a| ≤ 0.5 (slightly beyond is fine) and small x:
/// Γ(a, x) = (Γ(1+a) − 1)/a − (x^a − 1)/a − x^a Σ_(k≥1) (−x)^k / (k!·(a+k)),
/// with g1 = (Γ(1+a) − 1)/a, which is Γ(a) − γ(a, x) with the k = 0 term of γ folded into the first two quotients so that
/// nothing diverges at a = 0.
fn small_shape(a: f64, g1: f64, x: f64) -> f64 {
    let lnx = x.ln();
    let q = if a == 0.0 {
        lnx
    } else {
        (a * lnx).exp_m1() / a
    };
    let mut sum = 0.0;
    let mut term = 1.0; // (−x)^k / k!
    for k in 1..MAX_TERMS {
        let fk = k as f64;
        term *= -x / fk;
        let t = term / (a + fk);
        sum += t;
        if t.abs() <= EPS * sum.abs() {
            break;
        }
    }
    g1 - q - x.powf(a) * sum
}

/// (Γ(1+a) − 1)/a for |a| ≤ 0.5, −γ at a = 0, from
/// ln Γ(1+a) = −ln(1+a) + a(1−γ) + Σ_(k≥2) (−1)^k (ζ(k)−1) a^k / k (Abramowitz & Stegun 6.1.33).
fn gamma1pm1_over(a: f64) -> f64 {
    if a == 0.0 {
        return -EULER_GAMMA;
    }
    let mut series = 0.0;
    let mut power = -1.0; // (−1)^k a^(k−1), starting from k = 1
    for (i, z) in ZETA_MINUS_ONE.iter().enumerate() {
        let k = (i + 2) as f64;
        power *= -a;
        series += z * power / k;
    }
    let ln_gamma = a * ((1.0 - EULER_GAMMA) + series) - a.ln_1p();
    ln_gamma.exp_m1() / a
}

#[cfg(test)]
#[path = "gamma_tests.rs"]
mod tests;
