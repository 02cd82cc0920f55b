use super::*;
use crate::compare::row_key;
use crate::schema::Column;

#[test]
fn catalogue_and_stage_checks() {
    let ww = AnalysisOptions::default();
    assert!(check_layer_metric("alpha", &ww).is_ok());
    assert!(check_layer_metric("rank_ratio", &ww).is_ok());
    assert!(check_layer_metric("warning", &ww).is_err());
    assert!(check_layer_metric("alpah", &ww).is_err());
    assert!(
        check_layer_metric("mp_softrank", &ww)
            .unwrap_err()
            .contains("mp_fit")
    );
    assert!(
        check_layer_metric("rand_distance", &ww)
            .unwrap_err()
            .contains("randomize")
    );
    assert!(check_summary_metric("alpha_weighted", &ww).is_ok());
    assert!(check_summary_metric("n_under_trained", &ww).is_ok());
    assert!(check_summary_metric("num_spikes_total", &ww).is_err());
    let mp = AnalysisOptions {
        mp_fit: true,
        ..Default::default()
    };
    assert!(check_summary_metric("num_spikes_total", &mp).is_ok());
    assert!(check_layer_metric("num_spikes", &mp).is_ok());
}

#[test]
fn rank_ratio_and_keys() {
    let mut r = Row::default();
    r.set(Column::Name, "fc1");
    r.set(Column::NumEvals, 64usize);
    r.set(Column::MatrixRank, 16usize);
    assert_eq!(layer_value(&r, "rank_ratio"), Some(0.25));
    assert_eq!(row_key(&r), "fc1");
    r.set(Column::SliceId, 3usize);
    assert_eq!(row_key(&r), "fc1:3");
    r.set(Column::Alpha, f64::NAN);
    assert_eq!(layer_value(&r, "alpha"), None);
}

#[test]
fn spike_counts_per_model() {
    let row = |spikes: Option<usize>| {
        let mut r = Row::default();
        r.set(Column::Name, "w");
        if let Some(s) = spikes {
            r.set(Column::NumSpikes, s);
        }
        r
    };
    let mut bad = row(Some(9));
    bad.set(Column::Problem, "all 4 values are zero");
    let ev = Evidence {
        source: "m".into(),
        sha256: String::new(),
        options: AnalysisOptions::default(),
        rows: vec![row(Some(3)), row(Some(0)), row(None), row(Some(1)), bad],
        summary: Default::default(),
        n_skipped: 0,
        file: None,
        esd: vec![],
    };
    // Four analyzed rows (the problem row is not), 4 spikes, 2 rows with a spike.
    assert_eq!(summary_value(&ev, "num_spikes_total"), Some(4.0));
    assert_eq!(summary_value(&ev, "spikes_per_row"), Some(1.0));
    assert_eq!(summary_value(&ev, "n_rows_with_spikes"), Some(2.0));
    assert_eq!(summary_value(&ev, "frac_rows_with_spikes"), Some(0.5));
}
