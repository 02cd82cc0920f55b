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
