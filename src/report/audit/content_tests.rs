use super::*;
use crate::analysis::analyze_file;
use crate::options::{AnalysisOptions, AnalysisOverrides, Preset};
use crate::report::audit::Audit;

fn model(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/ww-0.7.7")
        .join(name)
}

fn options(preset: Preset, pairs: &[&str]) -> AnalysisOptions {
    let pairs: Vec<String> = pairs.iter().map(|s| s.to_string()).collect();
    AnalysisOptions::resolve(preset, &AnalysisOverrides::from_pairs(&pairs).unwrap()).unwrap()
}

#[test]
fn changed_options_are_those_that_differ_from_the_preset() {
    let a = analyze_file(
        &model("mlp_gemm.onnx"),
        &options(Preset::Ww, &["mp_fit=true", "min_evals=4"]),
    )
    .unwrap();
    let changed = changed_options(&Audit::new(&a, Preset::Ww));
    let names: Vec<&str> = changed.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["min_evals", "mp_fit"]);
    assert_eq!(changed[1].value, "true");
    assert_eq!(changed[1].preset, "false");
    // The same options read against ww2x differ elsewhere (ww2x fits MP and slices convs).
    let against_ww2x = changed_options(&Audit::new(&a, Preset::Ww2x));
    assert!(against_ww2x.iter().any(|o| o.name == "pool"));
    assert!(!against_ww2x.iter().any(|o| o.name == "mp_fit"));
}

#[test]
fn content_has_a_figure_per_analyzed_row_and_the_ww_columns() {
    let a = analyze_file(
        &model("cnn_conv2d.onnx"),
        &options(Preset::Ww2x, &["randomize=true"]),
    )
    .unwrap();
    let c = Content::build(&Audit::new(&a, Preset::Ww2x));
    let analyzed: Vec<String> = a
        .rows
        .iter()
        .filter(|r| r.is_analyzed())
        .filter_map(crate::analysis::RowEsd::key_of)
        .collect();
    assert!(analyzed.len() > 3, "sliced rows expected");
    let keys: Vec<String> = c.figures.iter().map(|f| f.key.clone()).collect();
    assert_eq!(keys, analyzed);
    assert!(
        c.figures
            .iter()
            .all(|f| f.mp_panel && f.randomized.is_some())
    );
    assert_eq!(&c.layers.headers[..3], ["name", "layer_type", "dtype"]);
    assert!(c.layers.headers.iter().any(|h| h == "alpha"));
    assert!(c.layers.headers.iter().any(|h| h == "num_traps"));
    assert_eq!(c.layers.rows.len(), a.rows.len());
    // Slices of one layer are told apart by name:slice.
    let names: std::collections::BTreeSet<&String> = c.layers.rows.iter().map(|r| &r[0]).collect();
    assert_eq!(names.len(), a.rows.len());
    assert!(c.profiles.iter().any(|p| p.metric == Column::MpSoftrank));
    assert_eq!(c.max_bins, MAX_BINS);
    assert!(
        c.facts
            .iter()
            .any(|(k, v)| *k == "SHA-256" && *v == a.model.sha256)
    );
}

#[test]
fn many_rows_get_fewer_bins() {
    let bins = |n: usize| {
        ((FIGURE_BUDGET / n).saturating_sub(FIGURE_BASE_BYTES) / BYTES_PER_BIN)
            .clamp(MIN_BINS, MAX_BINS)
    };
    assert_eq!(bins(10), MAX_BINS);
    assert!(
        bins(400) < MAX_BINS && bins(400) > MIN_BINS,
        "{}",
        bins(400)
    );
    assert_eq!(bins(500), 23);
    assert_eq!(bins(100_000), MIN_BINS);
}
