use super::*;
use crate::analysis::Timings;
use crate::metrics::summary::Summary;
use crate::onnx::ModelInfo;
use crate::options::AnalysisOptions;
use crate::weights::Skipped;

pub(crate) fn analysis(rows: Vec<Row>, skipped: Vec<Skipped>) -> ModelAnalysis {
    ModelAnalysis {
        model: ModelInfo {
            file: "m.onnx".into(),
            sha256: "ab".repeat(32),
            bytes: 10,
            ir_version: 8,
            producer_name: "test".into(),
            producer_version: "1".into(),
            domain: String::new(),
            model_version: 0,
            graph_name: "g".into(),
            opsets: Vec::new(),
        },
        options: AnalysisOptions::default(),
        rows,
        skipped,
        summary: Summary::default(),
        esd: Vec::new(),
        timings: Timings::default(),
    }
}

fn row(id: usize, name: &str, status: RowStatus) -> Row {
    let mut r = Row::default();
    r.set(Column::LayerId, id);
    r.set(Column::Name, name);
    r.set(Column::Status, status.as_str());
    if !status.is_analyzed() {
        // As the analysis writes them: a row that was not analyzed says why.
        r.set(Column::Problem, format!("{} weight", status.as_str()));
    }
    r
}

fn skipped(name: &str, reason: SkipReason, detail: &str) -> Skipped {
    Skipped {
        layer_id: None,
        name: name.into(),
        op: "Conv".into(),
        reason,
        detail: detail.into(),
    }
}

#[test]
fn every_kind_is_found_with_its_number() {
    let mut under = row(0, "fc0", RowStatus::Success);
    under.set(Column::Alpha, 7.25);
    under.set(Column::Warning, "under-trained");
    let mut collapsed = row(1, "fc1", RowStatus::Success);
    collapsed.set(Column::MatrixRank, 1usize);
    collapsed.set(Column::NumEvals, 64usize);
    collapsed.set(Column::Alpha, 1.5);
    collapsed.set(Column::Warning, "over-trained");
    let mut failed = row(2, "fc2", RowStatus::Failed);
    failed.set(Column::FitFailure, "too few eigenvalues above xmin");
    // WeightWatcher's alpha -1 and warning for a failed fit are not an over-trained finding.
    failed.set(Column::Alpha, -1.0);
    failed.set(Column::Warning, "over-trained");
    failed.set(Column::MpStatus, "failed");
    failed.set(Column::NumTraps, 2usize);
    let mut nan = row(3, "fc3", RowStatus::InvalidValues);
    nan.set(Column::Problem, "3 NaN values");
    let rows = vec![
        under,
        collapsed,
        failed,
        nan,
        row(4, "fc4", RowStatus::OverBudget),
    ];
    let a = analysis(
        rows,
        vec![
            skipped(
                "tiny",
                SkipReason::SizeFilter,
                "size filter: M = 3 < min_evals 8",
            ),
            skipped(
                "blob",
                SkipReason::Malformed,
                "B holds 10 bytes, 16 expected",
            ),
            skipped(
                "nf4",
                SkipReason::UnsupportedOp,
                "MatMulBnb4: FP4/NF4 codebooks",
            ),
        ],
    );
    let f = findings(&a);
    let kinds: Vec<Kind> = f.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::InvalidValues,
            Kind::NotAnalyzed,
            Kind::OverBudget,
            Kind::RankCollapse,
            Kind::Undecoded,
            Kind::FitFailed,
            Kind::MpFitFailed,
            Kind::CorrelationTrap,
            Kind::UnderTrained,
            Kind::OverTrained,
            Kind::Skipped,
        ]
    );
    let detail = |k: Kind| f.iter().find(|x| x.kind == k).unwrap().detail.clone();
    assert_eq!(detail(Kind::InvalidValues), "3 NaN values");
    assert_eq!(
        detail(Kind::RankCollapse),
        "rank 1 of 64 eigenvalues (rank_ratio 0.016)"
    );
    assert_eq!(detail(Kind::FitFailed), "too few eigenvalues above xmin");
    assert_eq!(detail(Kind::UnderTrained), "alpha 7.250");
    assert_eq!(
        detail(Kind::Skipped),
        "Conv: size filter: M = 3 < min_evals 8"
    );
    assert_eq!(
        detail(Kind::NotAnalyzed),
        "Conv: malformed: B holds 10 bytes, 16 expected"
    );
    assert_eq!(detail(Kind::OverBudget), "over_budget weight");
    let fc2 = f
        .iter()
        .filter(|x| x.layer.as_deref() == Some("fc2"))
        .count();
    assert_eq!(
        fc2, 3,
        "fit failed, MP fit failed, traps; no over-trained finding"
    );
    assert_eq!(f[0].layer.as_deref(), Some("fc3"));
    // Severities follow the kinds' order.
    assert!(
        f.windows(2)
            .all(|w| w[0].kind.severity() <= w[1].kind.severity())
    );
}

#[test]
fn a_model_without_analyzed_rows_says_why_first() {
    let a = analysis(
        vec![row(0, "w", RowStatus::Degenerate)],
        vec![
            skipped(
                "a",
                SkipReason::SizeFilter,
                "size filter: M = 3 < min_evals 8",
            ),
            skipped(
                "b",
                SkipReason::SizeFilter,
                "size filter: M = 4 < min_evals 8",
            ),
            skipped("c", SkipReason::NotAWeightSlot, "a Reshape's shape"),
        ],
    );
    let f = findings(&a);
    assert_eq!(f[0].kind, Kind::NothingAnalyzed);
    assert_eq!(
        f[0].detail,
        "none of the 3 weight layers found has a spectrum: 1 status degenerate, 2 size filter. \
         Layers left out by the size filter can be analyzed with a smaller min_evals \
         (--set min_evals=N)."
    );
    // Constants that no weight slot reads are not weight layers.
    let empty = analysis(
        Vec::new(),
        vec![skipped(
            "c",
            SkipReason::NotAWeightSlot,
            "a Reshape's shape",
        )],
    );
    assert!(
        findings(&empty)[0]
            .detail
            .starts_with("the graph has no Conv")
    );
}
