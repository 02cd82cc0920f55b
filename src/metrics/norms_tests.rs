use super::*;

fn spec(evals: &[f64]) -> Spectrum {
    Spectrum {
        evals: evals.to_vec(),
        singular_values: vec![evals.iter().map(|l| l.sqrt()).collect()],
        from_gram: false,
    }
}

#[test]
fn norms_of_a_known_spectrum() {
    let s = spec(&[1.0, 4.0, 16.0]);
    let m = spectrum_metrics(&s, 3, &AnalysisOptions::default());
    assert_eq!(m.norm, 21.0);
    assert_eq!(m.lambda_max, 16.0);
    assert_eq!(m.sv_max, 4.0);
    assert_eq!(m.sv_min, 1.0);
    assert!((m.stable_rank.unwrap() - 21.0 / 16.0).abs() < 1e-15);
    assert!((m.log_spectral_norm.unwrap() - 16f64.log10()).abs() < 1e-15);
    assert_eq!(m.matrix_rank, 3);
    assert_eq!(m.rank_loss, 0);
    let a = alpha_metrics(&s.evals, Some(2.0));
    assert!((a.alpha_weighted.unwrap() - 2.0 * 16f64.log10()).abs() < 1e-15);
    assert!((a.log_alpha_norm.unwrap() - (1.0f64 + 16.0 + 256.0).log10()).abs() < 1e-15);
}

#[test]
fn rank_deficient_and_zero_spectra() {
    let s = spec(&[0.0, 0.0, 9.0]);
    let m = spectrum_metrics(&s, 3, &AnalysisOptions::default());
    assert_eq!((m.matrix_rank, m.rank_loss, m.weak_rank_loss), (1, 2, 2));
    assert_eq!(m.entropy, None);
    let mut compat = AnalysisOptions::default();
    compat.compat.0.insert(Quirk::EntropyRank1);
    // WW divides by ln(1 + 1e-10). The constant is WW's formula evaluated independently in
    // CPython 3 float64 (`math.log`, the same operation order: p = λ/Σλ + 1e-10, H = Σ −p·ln p,
    // then H / ln(1 + 1e-10)), so it is the f64 answer, compared at 1e-12 relative. (The exact
    // real-number value is 45.0517018620835; it differs by 8e-8 because 1 + 1e-10 rounds.)
    let e = spectrum_metrics(&s, 3, &compat).entropy.unwrap();
    let want = 45.051698051748915;
    assert!(((e - want) / want).abs() < 1e-12, "{e}");
    let z = spectrum_metrics(&spec(&[0.0; 4]), 4, &AnalysisOptions::default());
    assert_eq!(
        (z.log_norm, z.log_spectral_norm, z.stable_rank),
        (None, None, None)
    );
}

#[test]
fn sv_min_quirk_takes_max_of_minima() {
    let s = Spectrum {
        evals: vec![],
        singular_values: vec![vec![0.5, 2.0], vec![1.0, 3.0]],
        from_gram: false,
    };
    let native = spectrum_metrics(&s, 2, &AnalysisOptions::default());
    let mut o = AnalysisOptions::default();
    o.compat.0.insert(Quirk::SvMin);
    assert_eq!(native.sv_min, 0.5);
    assert_eq!(spectrum_metrics(&s, 2, &o).sv_min, 1.0);
    assert_eq!(native.sv_max, 3.0);
}

#[test]
fn frobenius_convention_takes_the_root() {
    let o = AnalysisOptions {
        norm_convention: NormConvention::Frobenius,
        ..Default::default()
    };
    let m = spectrum_metrics(&spec(&[9.0, 16.0]), 2, &o);
    assert_eq!(m.norm, 5.0);
}
