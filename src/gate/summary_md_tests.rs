use super::*;
use crate::gate::verdict::{Finding, Subject};

fn rule(name: &str, status: Status, failing: usize) -> RuleOutcome {
    RuleOutcome {
        name: name.into(),
        kind: "compare_layer",
        metric: Some("delta_w_rel".into()),
        status,
        blocking: true,
        requirement: "delta_w_rel ≤ 0.1".into(),
        message: format!("{failing} of 100 layer(s) outside ≤ 0.1"),
        value: None,
        baseline: None,
        judged: Some(100),
        failing: (0..failing)
            .map(|i| Finding {
                layer: format!("layer<{i}>|x"),
                value: Some(0.5),
                baseline: None,
                excess: Some(0.4),
                why: "delta_w_rel 0.5 > 0.1 by 0.4".into(),
            })
            .collect(),
    }
}

fn verdict(rules: Vec<RuleOutcome>) -> Verdict {
    let status = Verdict::conclude(&rules, &[]);
    Verdict {
        gate: "configs/gates/release.yaml".into(),
        preset: "ww".into(),
        model: Subject {
            source: "new.onnx".into(),
            sha256: Some("ab".repeat(32)),
        },
        baseline: Some(Subject {
            source: "prod.onnx".into(),
            sha256: Some("cd".repeat(32)),
        }),
        status,
        rules,
        errors: vec![],
        warnings: vec!["3 of 9 layer names differ".into()],
        comparison: None,
        n_rows: 100,
        n_skipped: 0,
    }
}

#[test]
fn failing_rules_and_layers_come_first_and_names_are_escaped() {
    let v = verdict(vec![
        rule("finite-weights", Status::Pass, 0),
        rule("weights-kept", Status::Fail, 30),
    ]);
    let md = to_markdown(&v);
    assert!(md.starts_with("### tailwatch gate: FAIL\n"), "{md}");
    assert!(md.contains("- baseline: prod.onnx (sha256 cdcdcdcdcdcd)"));
    assert!(md.contains("- **warning:** 3 of 9 layer names differ"));
    let fail = md.find("| FAIL | weights-kept |").unwrap();
    let pass = md.find("| PASS | finite-weights |").unwrap();
    assert!(fail < pass, "{md}");
    assert!(md.contains("#### weights-kept — 30 of 100 layer(s)"));
    assert!(md.contains("| layer&lt;0&gt;\\|x | 0.5 | – |"), "{md}");
    assert!(!md.contains("<0>"));
    assert!(md.contains("… and 5 more layer(s)"));
}

#[test]
fn a_huge_verdict_is_cut_under_one_mebibyte_at_a_line() {
    let mut rules: Vec<RuleOutcome> = (0..4000)
        .map(|i| {
            let mut r = rule(&format!("r{i}"), Status::Fail, 30);
            r.message = "x".repeat(300);
            r
        })
        .collect();
    rules.push(rule("last", Status::Pass, 0));
    let md = to_markdown(&verdict(rules));
    assert!(md.len() <= MAX_BYTES, "{}", md.len());
    assert!(md.ends_with("the JSON verdict (--json) has everything.\n"));
    assert!(md.starts_with("### tailwatch gate: FAIL"));
}
