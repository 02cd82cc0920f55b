//! Study statistics against the methods.md §15 test vectors (computed from the §16.2 golden
//! summaries) and hand-checked small cases.

use tailwatch::stats::{
    Correlation, average_ranks, correlate, kendall_exact_p, kendall_tau_b, ols, pearson,
    rank_by_abs_tau, spearman,
};

/// Assert `actual` equals a value printed as `printed` to the printed precision: half a unit in
/// the last printed digit (plus a hair for the binary representation of the printed value).
fn assert_printed(what: &str, actual: Option<f64>, printed: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what}: missing, expected {printed}"));
    let expected: f64 = printed.replace('+', "").parse().unwrap();
    let (mantissa, exponent) = match printed.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap()),
        None => (printed, 0),
    };
    let decimals = mantissa.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    let tol = 0.5 * 10f64.powi(exponent - decimals) * (1.0 + 1e-9);
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: {actual} is not {printed} (±{tol:e})"
    );
}

fn assert_near(what: &str, actual: Option<f64>, expected: f64, rel: f64) {
    let actual = actual.unwrap_or_else(|| panic!("{what}: missing, expected {expected}"));
    assert!(
        (actual - expected).abs() <= rel * expected.abs().max(1e-300),
        "{what}: {actual} vs {expected}"
    );
}

/// The bound for Kendall p-values from the normal approximation against scipy's 16 digits.
/// Measured 4.3e-11 to 4.6e-11 relative on all three vectors below: tailwatch takes the normal
/// tail from statrs (`Normal::sf`), which is accurate to about that, where scipy (and CPython's
/// `math.erfc`, which agrees with scipy to 1e-15 here) are accurate to the last digits.
const NORMAL_TAIL_REL: f64 = 1e-10;

/// §16.2: per-model WW 0.2.7 summaries (⟨α⟩, α̂, ⟨log‖W‖_F⟩, ⟨log λ_max⟩, ⟨log‖X‖^α_α⟩) and
/// torchvision top-1 / top-5 errors.
const VGG: [[f64; 7]; 8] = [
    [2.5725, 3.4186, 1.2524, 1.3775, 3.8782, 30.98, 11.37],
    [2.7470, 3.2906, 1.1952, 1.2295, 3.7376, 29.62, 10.19],
    [2.6897, 3.3200, 1.1736, 1.2381, 3.7377, 30.07, 10.75],
    [2.9531, 3.2044, 1.1033, 1.1065, 3.5752, 28.45, 9.63],
    [2.8923, 3.2379, 1.1519, 1.1342, 3.6370, 28.41, 9.62],
    [3.0991, 3.0458, 1.0838, 0.9956, 3.4336, 26.63, 8.50],
    [2.9647, 3.0503, 1.1347, 1.0507, 3.4660, 27.62, 9.12],
    [3.0796, 2.7739, 1.0527, 0.9023, 3.2058, 25.76, 8.15],
];
const RESNET: [[f64; 7]; 5] = [
    [3.3533, 2.7204, 1.0036, 0.9898, 3.1075, 30.24, 10.92],
    [3.3295, 1.7457, 0.8964, 0.6600, 2.2318, 26.70, 8.58],
    [3.3983, 1.4083, 0.8394, 0.6433, 1.9178, 23.85, 7.13],
    [2.9661, 0.6664, 0.7064, 0.3604, 1.1856, 22.63, 6.44],
    [2.7246, 0.4314, 0.6491, 0.2506, 0.9479, 21.69, 5.94],
];
const ALPHA: usize = 0;
const ALPHA_HAT: usize = 1;
const LOG_NORM: usize = 2;
const LOG_SPECTRAL: usize = 3;
const LOG_ALPHA_NORM: usize = 4;
const TOP1: usize = 5;
const TOP5: usize = 6;

fn column<const K: usize>(rows: &[[f64; K]], c: usize) -> Vec<f64> {
    rows.iter().map(|r| r[c]).collect()
}

fn study<const K: usize>(rows: &[[f64; K]], metric: usize, error: usize) -> Correlation {
    correlate(&column(rows, metric), &column(rows, error))
}

#[test]
fn vgg_top1_table_every_column() {
    // §15 VGG table: slope, intercept, RMSE, R², τ, τ p, ρ, ρ p, r, r p.
    let table: [(usize, [&str; 10]); 5] = [
        (
            LOG_NORM,
            [
                "-25.6676", "100.9071", "0.561", "0.884", "-0.786", "0.005506", "-0.905",
                "0.002008", "-0.9400", "0.000517",
            ],
        ),
        (
            LOG_SPECTRAL,
            [
                "-11.5311",
                "84.5795",
                "0.227",
                "0.981",
                "-0.929",
                "0.0003968",
                "-0.976",
                "3.314e-05",
                "-0.9905",
                "2.15e-06",
            ],
        ),
        (
            ALPHA_HAT,
            [
                "-8.2443",
                "97.6727",
                "0.479",
                "0.915",
                "-0.929",
                "0.0003968",
                "-0.976",
                "3.314e-05",
                "-0.9566",
                "0.0001979",
            ],
        ),
        (
            LOG_ALPHA_NORM,
            [
                "-8.0950",
                "100.5691",
                "0.337",
                "0.958",
                "-0.929",
                "0.0003968",
                "-0.976",
                "3.314e-05",
                "-0.9787",
                "2.365e-05",
            ],
        ),
        (
            ALPHA,
            [
                "9.0398",
                "45.5705",
                "0.404",
                "0.940",
                "+0.857",
                "0.001736",
                "0.952",
                "0.0002604",
                "0.9694",
                "7.027e-05",
            ],
        ),
    ];
    for (metric, want) in table {
        let c = study(&VGG, metric, TOP1);
        assert_eq!((c.n, c.n_excluded, c.note.as_deref()), (8, 0, None));
        let got = [
            c.slope,
            c.intercept,
            c.rmse,
            c.r2,
            c.kendall_tau,
            c.kendall_p,
            c.spearman_rho,
            c.spearman_p,
            c.pearson_r,
            c.pearson_p,
        ];
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert_printed(&format!("VGG metric {metric} column {i}"), *g, w);
        }
    }
}

#[test]
fn vgg_exact_kendall_p_is_a_permutation_count() {
    // τ = −0.929 over 8 models is 27 concordant-with-error pairs of 28, i.e. one pair off the
    // extreme: p = 2·(1 + 7)/8! = 16/40320 = 3.968e-4 (Mahonian M(8,0) = 1, M(8,1) = 7).
    let c = study(&VGG, ALPHA_HAT, TOP1);
    assert_near("τ", c.kendall_tau, -26.0 / 28.0, 1e-14);
    assert_near("p", c.kendall_p, 16.0 / 40320.0, 1e-12);
    // ⟨log‖W‖_F⟩: τ = −22/28, 3 discordant pairs of 28; Mahonian row 8 starts 1, 7, 27, 76:
    // p = 2·(1 + 7 + 27 + 76)/8! = 222/40320 = 0.005506.
    let c = study(&VGG, LOG_NORM, TOP1);
    assert_near("τ", c.kendall_tau, -22.0 / 28.0, 1e-14);
    assert_near("p", c.kendall_p, 222.0 / 40320.0, 1e-12);
}

#[test]
fn resnet_top1_figures() {
    for (metric, rmse, r2) in [
        (LOG_NORM, "0.896", "0.917"),
        (LOG_SPECTRAL, "0.966", "0.903"),
        (ALPHA_HAT, "0.613", "0.961"),
        (LOG_ALPHA_NORM, "0.665", "0.954"),
    ] {
        let c = study(&RESNET, metric, TOP1);
        assert_printed("RMSE", c.rmse, rmse);
        assert_printed("R²", c.r2, r2);
        assert_eq!(c.kendall_tau, Some(-1.0));
        // Exact p for perfect order of 5: 2/5! = 1/60 = 0.01667.
        assert_near("τ p", c.kendall_p, 2.0 / 120.0, 1e-14);
        assert_printed("τ p", c.kendall_p, "0.01667");
        // |ρ| = 1 reports p = 0, not scipy's rounding noise.
        assert_eq!((c.spearman_rho, c.spearman_p), (Some(-1.0), Some(0.0)));
    }
    let c = study(&RESNET, ALPHA, TOP1);
    assert_printed("RMSE", c.rmse, "2.179");
    assert_printed("R²", c.r2, "0.508");
    assert_printed("τ", c.kendall_tau, "-0.600");
    assert_printed("τ p", c.kendall_p, "0.2333");
}

#[test]
fn top5_table() {
    // §15 top-5 table, RMSE / R² / τ.
    let table = [
        (
            LOG_NORM,
            ["0.366", "0.871", "-0.786"],
            ["0.560", "0.903", "-1"],
        ),
        (
            LOG_SPECTRAL,
            ["0.164", "0.974", "-0.929"],
            ["0.552", "0.905", "-1"],
        ),
        (
            ALPHA_HAT,
            ["0.360", "0.875", "-0.929"],
            ["0.360", "0.960", "-1"],
        ),
        (
            LOG_ALPHA_NORM,
            ["0.279", "0.925", "-0.929"],
            ["0.399", "0.951", "-1"],
        ),
    ];
    for (metric, vgg, resnet) in table {
        for (c, want) in [
            (study(&VGG, metric, TOP5), vgg),
            (study(&RESNET, metric, TOP5), resnet),
        ] {
            assert_printed("RMSE", c.rmse, want[0]);
            assert_printed("R²", c.r2, want[1]);
            assert_printed("τ", c.kendall_tau, want[2]);
        }
    }
}

#[test]
fn affine_change_of_metric_keeps_fit_quality() {
    // §16.2: halving every log-norm leaves RMSE, R² and τ unchanged.
    let x = column(&VGG, LOG_NORM);
    let half: Vec<f64> = x.iter().map(|v| 0.5 * v).collect();
    let e = column(&VGG, TOP1);
    let (a, b) = (correlate(&x, &e), correlate(&half, &e));
    assert_near("RMSE", b.rmse, a.rmse.unwrap(), 1e-12);
    assert_near("R²", b.r2, a.r2.unwrap(), 1e-12);
    assert_eq!(a.kendall_tau, b.kendall_tau);
    assert_near("slope doubles", b.slope, 2.0 * a.slope.unwrap(), 1e-12);
}

#[test]
fn r2_is_pearson_squared() {
    let c = study(&VGG, ALPHA_HAT, TOP1);
    let r = c.pearson_r.unwrap();
    assert_near("R² = r²", c.r2, r * r, 1e-12);
}

#[test]
fn exact_kendall_p_small_n() {
    // Perfect order of 5: 2/5! = 2/120.
    assert_eq!(kendall_exact_p(5, 10), Some(2.0 / 120.0));
    assert_eq!(kendall_exact_p(5, 0), Some(2.0 / 120.0));
    // n = 6, one discordant pair: 2·(1 + 5)/6! = 2/5! (closed form c = 1).
    assert_near("n6 c1", kendall_exact_p(6, 14), 12.0 / 720.0, 1e-15);
    // n = 6, two discordant: Mahonian row 6 starts 1, 5, 14 ⇒ 2·20/720 = 0.05556 (scipy 0.0555…).
    assert_near("n6 c2", kendall_exact_p(6, 13), 40.0 / 720.0, 1e-15);
    // n = 4, c = 3 is the centre (4c = n(n−1) = 12): p = 1.
    assert_eq!(kendall_exact_p(4, 3), Some(1.0));
    // n = 5, c = 4 (6 discordant ⇒ left tail c = 4): row 5 = 1, 4, 9, 15, 20 ⇒ 2·49/120.
    assert_near("n5 c4", kendall_exact_p(5, 4), 98.0 / 120.0, 1e-15);
    assert_eq!(kendall_exact_p(2, 1), None);
    assert_eq!(kendall_exact_p(5, 11), None);
}

#[test]
fn exact_kendall_p_at_the_u128_limit() {
    // n = 33, y = 7x mod 33 (no ties); scipy 1.17 kendalltau: τ = 0.14772727272727273,
    // p = 0.2348656206939674 (exact). 33! ≈ 8.7e36 must not overflow.
    let x: Vec<f64> = (0..33).map(f64::from).collect();
    let y: Vec<f64> = (0..33).map(|i| f64::from((i * 7) % 33)).collect();
    let (tau, p) = kendall_tau_b(&x, &y).unwrap();
    assert_near("τ", Some(tau), 0.14772727272727273, 1e-14);
    assert_near("p", p, 0.2348656206939674, 1e-12);
}

#[test]
fn kendall_large_n_uses_normal_approximation_unless_extreme() {
    // n = 40 without ties: asymptotic. scipy: τ = 0.14615384615384616, p = 0.1841061194960797.
    let x: Vec<f64> = (0..40).map(f64::from).collect();
    let y: Vec<f64> = (0..40)
        .map(|i| f64::from((i * 7) % 40) + 0.5 * f64::from(i).sin())
        .collect();
    let (tau, p) = kendall_tau_b(&x, &y).unwrap();
    assert_near("τ", Some(tau), 0.14615384615384616, 1e-14);
    assert_near("p", p, 0.1841061194960797, NORMAL_TAIL_REL);
    // Perfect order of 40 is extreme (n_d = 0): exact 2/40! = 2.451234878256772e-48.
    let (tau, p) = kendall_tau_b(&x, &x).unwrap();
    assert_eq!(tau, 1.0);
    assert_near("p", p, 2.451234878256772e-48, 1e-12);
}

#[test]
fn kendall_with_ties() {
    // x has one tied pair, y none; 10 pairs, n_c = 9, n_d = 0:
    // τ-b = 9/sqrt((10−1)(10−0)) = 9/√90 = 0.948683.
    // Variance (n(n−1)(2n+5) − Σt(t−1)(2t+5))/18 = (300 − 18)/18 = 15.667, z = 9/√15.667 = 2.2738,
    // p = 2·Φ(−2.2738) = 0.022977 (scipy 0.022977401503206065).
    let (tau, p) = kendall_tau_b(&[1.0, 2.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0, 5.0]).unwrap();
    assert_near("τ", Some(tau), 9.0 / 90f64.sqrt(), 1e-14);
    assert_near("p", p, 0.022977401503206065, NORMAL_TAIL_REL);
    // Ties in both, including a joint tie; scipy: τ = 0.7431605356175384, p = 0.03314326967154758.
    let a = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0];
    let b = [1.0, 2.0, 1.0, 3.0, 3.0, 3.0, 5.0];
    let (tau, p) = kendall_tau_b(&a, &b).unwrap();
    assert_near("τ", Some(tau), 0.7431605356175384, 1e-14);
    assert_near("p", p, 0.03314326967154758, NORMAL_TAIL_REL);
    // Spearman on the same data; scipy: ρ = 0.8270760267212819, p = 0.02170832636073618.
    let (rho, p) = spearman(&a, &b).unwrap();
    assert_near("ρ", Some(rho), 0.8270760267212819, 1e-13);
    // Measured 6.4e-16.
    assert_near("ρ p", p, 0.02170832636073618, 1e-13);
}

#[test]
fn three_points() {
    // x = 1,2,3; y = 1,3,2. τ = (2 − 1)/3; exact p: left tail c = 1 ⇒ 2/2! = 1.
    // ρ = r = 0.5; t = 0.5·sqrt(1/0.75) = 1/√3 with 1 dof: p = 1 − (2/π)·atan(1/√3) = 2/3.
    let (x, y) = ([1.0, 2.0, 3.0], [1.0, 3.0, 2.0]);
    let (tau, p) = kendall_tau_b(&x, &y).unwrap();
    assert_near("τ", Some(tau), 1.0 / 3.0, 1e-14);
    assert_eq!(p, Some(1.0));
    let (rho, p) = spearman(&x, &y).unwrap();
    assert_near("ρ", Some(rho), 0.5, 1e-14);
    assert_near("ρ p", p, 2.0 / 3.0, 1e-14);
    let (r, p) = pearson(&x, &y).unwrap();
    assert_near("r", Some(r), 0.5, 1e-14);
    assert_near("r p", p, 2.0 / 3.0, 1e-14);
    // OLS through (1,1), (2,3), (3,2): slope 0.5, intercept 1.
    let (slope, intercept) = ols(&x, &y).unwrap();
    assert_near("slope", Some(slope), 0.5, 1e-14);
    assert_near("intercept", Some(intercept), 1.0, 1e-14);
}

#[test]
fn average_ranks_with_ties() {
    assert_eq!(
        average_ranks(&[10.0, 20.0, 20.0, 30.0]),
        [1.0, 2.5, 2.5, 4.0]
    );
    assert_eq!(average_ranks(&[3.0, 1.0, 3.0, 3.0]), [3.0, 1.0, 3.0, 3.0]);
    assert_eq!(average_ranks(&[]), Vec::<f64>::new());
    // A NaN never loops or panics; it ranks last under total ordering.
    assert_eq!(average_ranks(&[f64::NAN, 1.0]), [2.0, 1.0]);
}

#[test]
fn two_models_give_statistics_without_p_values() {
    // y = 90, 95: slope 5, intercept 85, exact fit.
    let c = correlate(&[1.0, 2.0], &[10.0, 5.0]);
    assert_eq!(c.n, 2);
    assert_eq!((c.slope, c.intercept), (Some(5.0), Some(85.0)));
    assert_eq!((c.rmse, c.r2), (Some(0.0), Some(1.0)));
    assert_eq!((c.kendall_tau, c.kendall_p), (Some(1.0), None));
    assert_eq!((c.spearman_rho, c.spearman_p), (Some(1.0), None));
    assert_eq!(c.pearson_p, None);
    assert!(c.note.unwrap().contains("without p-values"));
}

#[test]
fn constant_metric_or_target_is_reported() {
    let c = correlate(&[2.0, 2.0, 2.0, 2.0], &[10.0, 20.0, 30.0, 40.0]);
    assert_eq!(c.n, 4);
    assert!(c.slope.is_none() && c.r2.is_none() && c.kendall_tau.is_none());
    assert!(c.spearman_rho.is_none() && c.pearson_r.is_none());
    assert!(c.note.unwrap().contains("metric is constant"));
    let c = correlate(&[1.0, 2.0, 3.0], &[25.0, 25.0, 25.0]);
    assert!(c.slope.is_none() && c.r2.is_none() && c.kendall_tau.is_none());
    assert!(c.note.unwrap().contains("accuracy is constant"));
    // Constant values whose mean is not exactly representable are still constant.
    let c = correlate(&[0.1, 0.1, 0.1], &[1.0, 2.0, 3.0]);
    assert!(c.slope.is_none());
}

#[test]
fn non_finite_inputs_are_excluded_and_counted() {
    let x = [1.0, f64::NAN, 2.0, 3.0, f64::INFINITY, 4.0];
    let e = [40.0, 30.0, 30.0, f64::NAN, 10.0, 10.0];
    let c = correlate(&x, &e);
    assert_eq!((c.n, c.n_excluded), (3, 3));
    // Remaining (1, 60), (2, 70), (4, 90): slope 10, intercept 50.
    assert_near("slope", c.slope, 10.0, 1e-14);
    assert_near("intercept", c.intercept, 50.0, 1e-13);
    assert!(c.note.unwrap().contains("3 model(s) excluded"));
    // Mismatched lengths: the unmatched tail counts as excluded.
    let c = correlate(&[1.0, 2.0, 3.0, 4.0], &[3.0, 2.0, 1.0]);
    assert_eq!((c.n, c.n_excluded), (3, 1));
    let c = correlate(&[], &[]);
    assert_eq!((c.n, c.n_excluded), (0, 0));
    assert!(c.slope.is_none() && c.note.is_some());
}

#[test]
fn serialises_missing_values_as_null() {
    let c = correlate(&[1.0, 2.0], &[10.0, 5.0]);
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["kendall_p"], serde_json::Value::Null);
    assert_eq!(json["slope"], serde_json::json!(5.0));
}

#[test]
fn ranking_by_abs_tau() {
    let e = column(&VGG, TOP1);
    let mut rows: Vec<(String, Correlation)> = [
        ("alpha", ALPHA),
        ("log_norm", LOG_NORM),
        ("log_spectral_norm", LOG_SPECTRAL),
        ("alpha_weighted", ALPHA_HAT),
    ]
    .iter()
    .map(|&(name, c)| (name.to_string(), correlate(&column(&VGG, c), &e)))
    .collect();
    rows.push(("constant".into(), correlate(&[1.0; 8], &e)));
    let ranked = rank_by_abs_tau(&rows);
    let names: Vec<&str> = ranked.iter().map(|(n, _)| n.as_str()).collect();
    // |τ| 0.929 (two, by name), 0.857, 0.786; the constant metric has no τ.
    assert_eq!(
        names,
        ["alpha_weighted", "log_spectral_norm", "alpha", "log_norm"]
    );
    assert!(ranked[0].1 < 0.0 && ranked[2].1 > 0.0);
}
