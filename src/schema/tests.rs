use super::*;
use crate::fits::{FitStatus, Warning};

/// The `details` header of schema 1, as written before the columns were declared in one table:
/// the canonical order must not move, since users read these files by position too.
#[rustfmt::skip]
const SCHEMA_1_COLUMNS: &[&str] = &[
    "model", "layer_id", "name", "longname", "slice_id", "layer_type", "status", "warning",
    "N", "M", "Q", "rf", "num_evals", "has_esd",
    "alpha", "xmin", "xmax", "D", "sigma", "num_pl_spikes", "num_fingers", "raw_alpha", "Lambda",
    "lambda_max", "norm", "log_norm", "spectral_norm", "log_spectral_norm", "alpha_weighted",
    "log_alpha_norm", "stable_rank", "entropy", "matrix_rank", "rank_loss", "weak_rank_loss",
    "sv_max", "sv_min",
    "sigma_mp", "num_spikes", "mp_softrank", "bulk_max", "bulk_min", "W_scale", "mp_status",
    "max_rand_eval", "rand_distance", "ww_softrank", "ww_maxdist", "rand_num_spikes", "num_traps",
    "rand_sigma_mp", "rand_mp_softrank", "rand_W_scale", "rand_bulk_max", "rand_bulk_min",
    "detX_num", "detX_val", "detX_val_rescaled", "detX_val_unrescaled", "detX_reached",
    "num_ERG_spikes", "ERG_gap",
    "bulk_mean_vec_entropy", "bulk_var_vec_entropy", "bulk_mean_loc_ratio", "bulk_var_loc_ratio",
    "bulk_mean_part_ratio", "bulk_var_part_ratio", "tail_mean_vec_entropy",
    "tail_var_vec_entropy", "tail_mean_loc_ratio", "tail_var_loc_ratio", "tail_mean_part_ratio",
    "tail_var_part_ratio",
    "fit_failure", "problem", "near_threshold_evals", "flags",
];

/// Columns appended since schema 1, in order (schema 3: the stored form and origin of the weight).
const APPENDED: &[&str] = &["dtype", "origin"];

#[test]
fn columns_keep_their_names_and_order() {
    let names: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
    let want: Vec<&str> = SCHEMA_1_COLUMNS.iter().chain(APPENDED).copied().collect();
    assert_eq!(names, want);
    for (i, c) in Column::ALL.iter().enumerate() {
        assert_eq!(Column::from_name(c.name()), Some(*c));
        assert_eq!(*c as usize, i, "declaration order is the sort order");
    }
    assert_eq!(Column::from_name("alpah"), None);
}

#[test]
fn metrics_are_the_numeric_measurements() {
    // Schema 1 listed the columns a rule may not bound by hand; the table now derives them.
    let not_metrics: Vec<&str> = Column::ALL
        .iter()
        .filter(|c| !c.is_metric())
        .map(|c| c.name())
        .collect();
    assert_eq!(
        not_metrics,
        [
            "model",
            "layer_id",
            "name",
            "longname",
            "slice_id",
            "layer_type",
            "status",
            "warning",
            "has_esd",
            "mp_status",
            "detX_reached",
            "fit_failure",
            "problem",
            "flags",
            "dtype",
            "origin"
        ]
    );
}

#[test]
fn optional_stages_cover_the_column_ranges_they_compute() {
    let by_option = |option: &str| -> Vec<&str> {
        Column::ALL
            .iter()
            .filter(|c| c.stage().option() == Some(option) && c.is_metric())
            .map(|c| c.name())
            .collect()
    };
    let range = |first: &str, last: &str| -> Vec<&str> {
        let i = SCHEMA_1_COLUMNS.iter().position(|c| *c == first).unwrap();
        let j = SCHEMA_1_COLUMNS.iter().position(|c| *c == last).unwrap();
        SCHEMA_1_COLUMNS[i..=j].to_vec()
    };
    assert_eq!(by_option("mp_fit"), range("sigma_mp", "W_scale"));
    assert_eq!(
        by_option("randomize"),
        range("max_rand_eval", "rand_bulk_min")
    );
    let mut detx = range("detX_num", "ERG_gap");
    detx.retain(|c| *c != "detX_reached");
    assert_eq!(by_option("detX"), detx);
    assert_eq!(
        by_option("vectors"),
        range("bulk_mean_vec_entropy", "tail_var_part_ratio")
    );
    let opts = crate::options::AnalysisOptions::default();
    assert!(Column::Alpha.stage().enabled(&opts));
    assert!(!Column::SigmaMp.stage().enabled(&opts));
}

#[test]
fn status_texts_round_trip_and_unknown_ones_are_refused() {
    for s in RowStatus::ALL {
        assert_eq!(RowStatus::parse(s.as_str()), Some(*s));
        let json = serde_json::to_string(s).unwrap();
        assert_eq!(serde_json::from_str::<RowStatus>(&json).unwrap(), *s);
    }
    assert_eq!(Warning::OverTrained.as_str(), "over-trained");
    assert_eq!(Warning::None.as_str(), "");
    assert_eq!(FitStatus::Failed.as_str(), "failed");
    assert_eq!(SkipReason::SizeFilter.as_str(), "size filter");
    assert_eq!(ModelStatus::Analyzed.as_str(), "analyzed");
    let err = serde_json::from_str::<ModelStatus>("\"analysed\"").unwrap_err();
    assert!(
        err.to_string()
            .contains(r#"unknown ModelStatus "analysed""#)
    );
    assert!(
        err.to_string()
            .contains(r#""analyzed", "reused", "failed""#)
    );
}

#[test]
fn summary_means_and_counts_are_declared_once() {
    let names: Vec<&str> = SUMMARY_MEANS.iter().map(|m| m.name()).collect();
    assert_eq!(
        names,
        [
            "log_norm",
            "alpha",
            "alpha_weighted",
            "log_alpha_norm",
            "log_spectral_norm",
            "stable_rank",
            "mp_softrank"
        ]
    );
    let c = Counts {
        n_rows: 7,
        ..Default::default()
    };
    assert_eq!(c.get("n_rows"), Some(7));
    assert_eq!(c.get("n_cows"), None);
    let entries: Vec<&str> = c.entries().iter().map(|(n, _)| *n).collect();
    assert_eq!(entries, Counts::NAMES);
    let json = serde_json::to_value(c).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys, Counts::NAMES);
}
