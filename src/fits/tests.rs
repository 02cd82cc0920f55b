use super::*;
use crate::options::{Compat, SmallNSelect};

fn all_configs() -> Vec<AnalysisOptions> {
    let base = AnalysisOptions::default();
    let mut v = vec![base.clone()];
    v.push(AnalysisOptions {
        fix_fingers: Some(FixFingers::ClipXmax),
        ..base.clone()
    });
    v.push(AnalysisOptions {
        pl_package: PlPackage::Powerlaw,
        ..base.clone()
    });
    v.push(AnalysisOptions {
        pl_package: PlPackage::Powerlaw,
        xmax: Xmax::Force,
        ..base.clone()
    });
    v.push(AnalysisOptions {
        pl_package: PlPackage::Powerlaw,
        fix_fingers: Some(FixFingers::XminPeak),
        ..base.clone()
    });
    v.push(AnalysisOptions {
        small_n_select: SmallNSelect::J,
        compat: Compat::ww077(),
        ..base.clone()
    });
    let compat: Vec<AnalysisOptions> = v
        .iter()
        .map(|o| AnalysisOptions {
            compat: Compat::ww077(),
            ..o.clone()
        })
        .collect();
    v.extend(compat);
    v
}

#[test]
fn degenerate_inputs_fail_without_panicking() {
    let cases: [&[f64]; 7] = [
        &[],
        &[3.0],
        &[2.0; 40],
        &[2.0; 9],
        &[1.0, f64::NAN, 3.0],
        &[1.0, f64::INFINITY],
        &[0.0, 1e-9, 1e-7],
    ];
    for opts in all_configs() {
        for evals in cases {
            let fit = fit_power_law(evals, &opts);
            if evals == [2.0; 9] && opts.quirk(Quirk::SmallNStaleSigma) {
                // WW's small-N fallback on a constant sample: alpha 0, D 1 (§5.3).
                continue;
            }
            assert_eq!(fit.status, FitStatus::Failed, "{evals:?} {opts:?}: {fit:?}");
            assert!(fit.failure.is_some() && fit.alpha.is_none());
            assert_eq!(fit.warning, Warning::FitFailed);
        }
    }
}

#[test]
fn pareto_tail_is_recovered_by_every_fitter() {
    // Deterministic Pareto(alpha = 3) sample by stratified inverse CDF, plus a small bulk.
    let mut evals: Vec<f64> = (0..100).map(|k| 0.1 + k as f64 * 1e-3).collect();
    evals.extend((0..2000).map(|k| {
        let u = (k as f64 + 0.5) / 2000.0;
        (1.0 - u).powf(-0.5)
    }));
    evals.sort_by(f64::total_cmp);
    for opts in all_configs() {
        let fit = fit_power_law(&evals, &opts);
        let alpha = fit.alpha.unwrap_or(f64::NAN);
        assert!((alpha - 3.0).abs() < 0.15, "{opts:?}: {fit:?}");
        assert_eq!(fit.warning, Warning::None);
    }
}

#[test]
fn int_xmax_drops_the_largest_values() {
    let evals: Vec<f64> = (1..=40).map(|k| k as f64).collect();
    let opts = AnalysisOptions {
        xmax: Xmax::Drop(5),
        ..AnalysisOptions::default()
    };
    let fit = fit_power_law(&evals, &opts);
    assert_eq!(fit.xmax, Some(35.0));
    let too_big = AnalysisOptions {
        xmax: Xmax::Drop(30),
        ..AnalysisOptions::default()
    };
    assert_eq!(
        fit_power_law(&evals, &too_big).failure.as_deref(),
        Some("invalid_xmax")
    );
}
