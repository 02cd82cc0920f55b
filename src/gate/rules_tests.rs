use super::*;

fn parse(text: &str) -> Result<Gate> {
    Gate::parse(Path::new("g.yaml"), text)
}

#[test]
fn the_issue_example_parses() {
    let g = parse(
        "preset: ww\nanalysis: { mp_fit: true }\nrules:\n\
         - { name: alpha-in-range, layer: alpha, min: 2, max: 6, max_failing_fraction: 0.25 }\n\
         - { name: mp-soft-rank, summary: mp_softrank, max: 0.98 }\n\
         - { name: no-regression, baseline: alpha_weighted, max_increase_relative: 0.05 }\n",
    )
    .unwrap();
    assert!(g.options.mp_fit);
    assert_eq!(g.rules.len(), 3);
    assert!(g.needs_baseline());
    assert_eq!(
        g.rules[0].kind,
        RuleKind::Layer {
            metric: "alpha".into(),
            bounds: Bounds {
                min: Some(2.0),
                max: Some(6.0)
            },
            allowance: Allowance {
                max_failing: None,
                max_failing_fraction: Some(0.25)
            },
            min_evals: None,
        }
    );
}

#[test]
fn bad_files_name_the_problem() {
    let err = |t: &str| parse(t).unwrap_err().to_string();
    assert!(
        err("rules:\n  - { name: a, layer: alpah, max: 6 }\n").contains("unknown layer metric")
    );
    assert!(err("rules:\n  - { name: a, summary: mp_softrank, max: 1 }\n").contains("mp_fit"));
    assert!(err("rules:\n  - { name: a, layer: alpha, max: 6, maxx: 1 }\n").contains("maxx"));
    assert!(
        err("rules:\n  - { name: a, layer: alpha, summary: alpha, max: 6 }\n")
            .contains("exactly one")
    );
    assert!(err("rules:\n  - { name: a, layer: alpha, min: 6, max: 2 }\n").contains("above max"));
    assert!(
        err("rules:\n  - { name: a, summary: alpha, max: 6, max_failing: 1 }\n")
            .contains("do not apply")
    );
    assert!(err("rules:\n  - { name: a, baseline: alpha }\n").contains("max_increase"));
    assert!(err("rules:\n  - { name: a, check: finite_weights }\n  - { name: a, check: finite_weights }\n").contains("duplicate"));
    assert!(err("rules: []\n").contains("no rules"));
    // serde-saphyr reports the line of a type error.
    let e = err("preset: ww\nrules:\n  - name: a\n    layer: alpha\n    max: [1]\n");
    assert!(e.contains("g.yaml") && e.contains('5'), "{e}");
}

#[test]
fn allowance_and_change_arithmetic() {
    let none = Allowance::default();
    assert!(none.allows(0, 10) && !none.allows(1, 10));
    let frac = Allowance {
        max_failing: None,
        max_failing_fraction: Some(0.25),
    };
    assert!(frac.allows(2, 8) && !frac.allows(3, 8));
    let both = Allowance {
        max_failing: Some(1),
        max_failing_fraction: Some(0.5),
    };
    assert!(both.allows(1, 2) && !both.allows(2, 4));
    let c = Change {
        max_increase_relative: Some(0.05),
        max_increase: Some(1.0),
        ..Default::default()
    };
    let b = c.bounds(-2.0);
    assert!((b.max.unwrap() + 1.9).abs() < 1e-12);
    assert_eq!(b.min, None);
    assert!(
        (Bounds {
            min: Some(2.0),
            max: Some(6.0)
        })
        .excess(7.5)
            == 1.5
    );
}

#[test]
fn compare_rules_findings_and_checks_parse_and_refuse_what_does_not_apply() {
    let g = parse(
        "rules:\n\
         - { name: kept, compare_layer: delta_w_rel, max: 0.3, max_failing: 1 }\n\
         - { name: close, compare: overlap_min, min: 0.5, blocking: false }\n\
         - { name: zeros, check: nonzero_weights }\n",
    )
    .unwrap();
    assert!(g.needs_baseline() && g.needs_weights());
    assert_eq!(
        g.rules[0].kind,
        RuleKind::CompareLayer {
            metric: LayerMetric::DeltaWRel,
            bounds: Bounds {
                min: None,
                max: Some(0.3)
            },
            allowance: Allowance {
                max_failing: Some(1),
                max_failing_fraction: None
            },
        }
    );
    assert!(g.rules[0].blocking && !g.rules[1].blocking);
    assert_eq!(g.checked_statuses(), vec![RowStatus::Degenerate]);
    let e = parse("rules:\n  - { name: r, compare_layer: delta, max: 1 }\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown compare_layer metric \"delta\"; compare_layer metrics: delta_w, "),
        "{e}"
    );
    let e = parse("rules:\n  - { name: r, compare: delta_w_rel_max, max_increase: 1 }\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("do not apply"), "{e}");
    let e = parse("rules:\n  - { name: r, compare: overlap_min }\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("give min, max or both"), "{e}");
}
