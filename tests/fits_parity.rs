//! Parity of the fits with WeightWatcher 0.7.7 on the reference files (reference README §5):
//! every row of every covered config, fed the row's exact eigenvalues and N, M.

mod common;

use common::reference::{self, Errors, MODELS, Row};
use tailwatch::fits::{self, FitStatus, PowerLawFit, Warning};
use tailwatch::options::{
    AnalysisOptions, Compat, FixFingers, PlPackage, Preset, Quirk, SmallNSelect,
};

fn compat(mut o: AnalysisOptions) -> AnalysisOptions {
    o.compat = Compat::ww077();
    o
}

fn options(config: &str) -> AnalysisOptions {
    let mut o = match config {
        "seed_nb" => Preset::Ww2x.options(),
        "nature2021" => Preset::Nature2021.options(),
        _ => Preset::Ww.options(),
    };
    match config {
        "clip_xmax" => o.fix_fingers = Some(FixFingers::ClipXmax),
        "pl_powerlaw" => o.pl_package = PlPackage::Powerlaw,
        "xmin_peak" => {
            o.pl_package = PlPackage::Powerlaw;
            o.fix_fingers = Some(FixFingers::XminPeak);
        }
        _ => {}
    }
    compat(o)
}

fn ctx(model: &str, config: &str, row: &Row) -> String {
    format!("{model} {config} {}", row.key())
}

fn warning_text(w: Warning) -> &'static str {
    w.as_str()
}

/// Compare the fit columns of one row, as WW renders them.
fn check_pl(errs: &mut Errors, c: &str, row: &Row, fit: &PowerLawFit, clip: bool) {
    let ww = fit.as_ww(clip, false);
    let failed = row.text("status") == "failed";
    errs.exact(c, "status", fit.status == FitStatus::Failed, failed);
    errs.close(c, "alpha", Some(ww.alpha), row.num("alpha"));
    errs.close(c, "xmin", Some(ww.xmin), row.num("xmin"));
    errs.close(c, "xmax", ww.xmax, row.num("xmax"));
    errs.close(c, "D", Some(ww.d), row.num("D"));
    errs.close(c, "sigma", ww.sigma, row.num("sigma"));
    errs.exact(
        c,
        "num_pl_spikes",
        ww.num_pl_spikes,
        row.int("num_pl_spikes"),
    );
    errs.exact(c, "warning", warning_text(ww.warning), row.text("warning"));
    if clip {
        errs.exact(
            c,
            "num_fingers",
            ww.num_fingers.map(|n| n as i64),
            Some(row.int("num_fingers")),
        );
        errs.close(c, "raw_alpha", ww.raw_alpha, row.num("raw_alpha"));
    }
}

fn check_mp(errs: &mut Errors, c: &str, row: &Row) {
    let mp = fits::fit_mp(&row.evals, row.int("N") as usize, row.int("M") as usize);
    assert_eq!(mp.status, FitStatus::Success, "{c}");
    errs.close(c, "sigma_mp", mp.sigma_mp, row.num("sigma_mp"));
    errs.close(c, "bulk_max", mp.bulk_max, row.num("bulk_max"));
    errs.close(c, "bulk_min", mp.bulk_min, row.num("bulk_min"));
    errs.close(c, "mp_softrank", mp.mp_softrank, row.num("mp_softrank"));
    errs.close(c, "W_scale", mp.w_scale, row.num("W_scale"));
    errs.exact(
        c,
        "num_spikes",
        mp.num_spikes.map(|n| n as i64),
        Some(row.int("num_spikes")),
    );
}

fn check_detx(errs: &mut Errors, c: &str, row: &Row, fit: &PowerLawFit, plain: bool) {
    let d = fits::detx(&row.evals, plain);
    errs.exact(c, "detX_num", d.detx_num as i64, row.int("detX_num"));
    errs.exact(
        c,
        "num_ERG_spikes",
        d.detx_num as i64,
        row.int("num_ERG_spikes"),
    );
    errs.close(c, "detX_val", Some(d.detx_val), row.num("detX_val"));
    // Q8: WW's `detX_val_unrescaled` holds the rescaled value.
    errs.close(
        c,
        "detX_val_unrescaled",
        Some(d.detx_val_rescaled),
        row.num("detX_val_unrescaled"),
    );
    let gap = d.detx_num as i64 - fit.num_pl_spikes.map_or(-1, |n| n as i64);
    errs.exact(c, "ERG_gap", gap, row.int("ERG_gap"));
}

/// Run one config over all models that have it; returns the number of rows checked.
fn run_config(config: &str, mp: bool, detx: bool) -> usize {
    let opts = options(config);
    let clip = config == "clip_xmax";
    let mut errs = Errors::default();
    let mut rows_seen = 0;
    for model in MODELS.into_iter().filter(|m| reference::has(m, config)) {
        for row in &reference::load(model, config) {
            let c = ctx(model, config, row);
            let fit = fits::fit_power_law(&row.evals, &opts);
            check_pl(&mut errs, &c, row, &fit, clip);
            if mp {
                check_mp(&mut errs, &c, row);
            }
            if detx {
                check_detx(&mut errs, &c, row, &fit, false);
                check_detx(&mut errs, &c, row, &fit, true);
            }
            rows_seen += 1;
        }
    }
    errs.report(&format!("{config}: {rows_seen} rows"));
    rows_seen
}

#[test]
fn default_config() {
    assert_eq!(run_config("default", false, false), 3 + 3 + 5 + 4);
}

#[test]
fn mp_fit_config() {
    assert_eq!(run_config("mp_fit", true, false), 15);
}

#[test]
fn seed_nb_config() {
    assert_eq!(run_config("seed_nb", true, false), 2 + 2 + 10 + 6);
}

#[test]
fn full_config_deterministic_columns() {
    assert_eq!(run_config("full", true, true), 15);
}

#[test]
fn clip_xmax_config() {
    assert_eq!(run_config("clip_xmax", false, false), 15);
}

#[test]
fn pl_powerlaw_config() {
    assert_eq!(run_config("pl_powerlaw", false, false), 3);
}

#[test]
fn xmin_peak_config() {
    assert_eq!(run_config("xmin_peak", false, false), 3);
}

#[test]
fn nature2021_config() {
    assert_eq!(run_config("nature2021", false, false), 2 + 2 + 10 + 6);
}

fn row_of(model: &str, config: &str, key: &str) -> Row {
    reference::load(model, config)
        .into_iter()
        .find(|r| r.key() == key)
        .unwrap()
}

#[test]
fn native_small_n_select_j_on_mlp_fc3() {
    // Q6: argmin J picks the 8-point tail, alpha 3.64534 at xmin 1.94526.
    let row = row_of("mlp_gemm", "default", "4");
    let o = AnalysisOptions {
        small_n_select: SmallNSelect::J,
        ..AnalysisOptions::default()
    };
    let fit = fits::fit_power_law(&row.evals, &o);
    assert!((fit.alpha.unwrap() - 3.64534).abs() < 1e-5, "{fit:?}");
    assert!((fit.xmin.unwrap() - 1.94526).abs() < 1e-5);
    assert_eq!(fit.num_pl_spikes, Some(8));
    // Default D selection reproduces the reference even natively.
    let d = fits::fit_power_law(&row.evals, &AnalysisOptions::default());
    assert_eq!(d.alpha, row.num("alpha"));
}

#[test]
fn native_clip_xmax_keeps_the_first_fit_on_small_layers() {
    // Q4: WW fails mlp fc3 under clip_xmax; native stops clipping and keeps the first fit.
    let row = row_of("mlp_gemm", "clip_xmax", "4");
    assert_eq!(row.text("status"), "failed");
    let mut o = AnalysisOptions {
        fix_fingers: Some(FixFingers::ClipXmax),
        ..AnalysisOptions::default()
    };
    let fit = fits::fit_power_law(&row.evals, &o);
    assert_eq!(fit.status, FitStatus::Success);
    assert_eq!(fit.num_fingers, Some(0));
    let plain = row_of("mlp_gemm", "default", "4");
    assert_eq!(fit.alpha, plain.num("alpha"));
    assert_eq!(fit.raw_alpha, plain.num("alpha"));
    // Compat Q4 alone reproduces the failure, rendered as WW's −1 values (Q3/Q11).
    o.compat = Compat([Quirk::ClipXmaxSmallFail].into_iter().collect());
    let failed = fits::fit_power_law(&row.evals, &o);
    assert_eq!(failed.status, FitStatus::Failed);
    assert_eq!(failed.alpha, None);
    assert_eq!(failed.warning, Warning::FitFailed);
    let ww = failed.as_ww(true, false);
    assert_eq!((ww.alpha, ww.num_pl_spikes, ww.xmax), (-1.0, -1, None));
    assert_eq!(ww.warning, Warning::OverTrained);
}

#[test]
fn native_small_n_fallback_sigma() {
    // Q7: quirks dw under clip_xmax fits 7 points; WW reports sigma −1/√7, native (alpha−1)/√7.
    let row = row_of("quirks", "clip_xmax", "2");
    let o = AnalysisOptions {
        fix_fingers: Some(FixFingers::ClipXmax),
        ..AnalysisOptions::default()
    };
    let fit = fits::fit_power_law(&row.evals, &o);
    let alpha = fit.alpha.unwrap();
    assert!((alpha - row.num("alpha").unwrap()).abs() < 1e-12);
    assert_eq!(fit.sigma, Some((alpha - 1.0) / 7f64.sqrt()));
    assert_eq!(row.num("sigma"), Some(-1.0 / 7f64.sqrt()));
}
