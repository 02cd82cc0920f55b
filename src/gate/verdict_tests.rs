use super::*;

fn outcome(status: Status) -> RuleOutcome {
    RuleOutcome {
        name: "r".into(),
        kind: "summary",
        metric: Some("alpha".into()),
        status,
        blocking: true,
        requirement: "≤ 6".into(),
        message: "alpha 7 > 6".into(),
        value: Some(7.0),
        baseline: None,
        judged: None,
        failing: vec![],
    }
}

#[test]
fn status_is_the_worst_outcome_and_errors_win() {
    let p = outcome(Status::Pass);
    let f = outcome(Status::Fail);
    assert_eq!(
        Verdict::conclude(std::slice::from_ref(&p), &[]),
        Status::Pass
    );
    assert_eq!(
        Verdict::conclude(&[p.clone(), f.clone()], &[]),
        Status::Fail
    );
    assert_eq!(Verdict::conclude(&[p, f], &["x".into()]), Status::Error);
    assert_eq!(Verdict::conclude(&[], &[]), Status::Error);
}

#[test]
fn numbers_for_people() {
    assert_eq!(show(Some(7.31)), "7.31");
    assert_eq!(show(Some(2.0)), "2");
    assert_eq!(show(Some(0.98765432)), "0.9877");
    assert_eq!(show(Some(1.5e-6)), "1.5000e-6");
    assert_eq!(show(None), "–");
}

#[test]
fn non_blocking_rules_are_findings_that_never_change_the_status() {
    let p = outcome(Status::Pass);
    let mut finding = outcome(Status::Fail);
    finding.blocking = false;
    let mut unjudged = outcome(Status::Error);
    unjudged.blocking = false;
    let rules = [p.clone(), finding.clone(), unjudged];
    assert_eq!(Verdict::conclude(&rules, &[]), Status::Pass);
    assert_eq!(finding.label(), "finding");
    assert_eq!(p.label(), "pass");
    let mut f = outcome(Status::Fail);
    f.blocking = true;
    assert_eq!(Verdict::conclude(&[finding.clone(), f], &[]), Status::Fail);
    // Findings alone are a pass; no rules at all is an error.
    assert_eq!(Verdict::conclude(&[finding], &[]), Status::Pass);
}
