use super::*;
use crate::gate::verdict::Verdict;

#[test]
fn names_and_messages_are_escaped() {
    let v = Verdict::failed_to_evaluate(
        "g",
        "p",
        "a<b & \"c\"\u{1}.onnx",
        "line 1 <x>\nline 2 'y'".to_string(),
    );
    let xml = to_xml(&v);
    // The model name in the suite name and in the `model` property.
    assert!(xml.contains("a&lt;b &amp; &quot;c&quot;\u{FFFD}.onnx"));
    assert!(!xml.contains('\u{1}'));
    // The message attribute keeps its newline as a character reference, and so does the body.
    assert!(xml.contains(
        "<error message=\"line 1 &lt;x&gt;&#10;line 2 &apos;y&apos;\" type=\"evaluation\">"
    ));
    assert!(!xml.contains("line 1 <x>"));
}

#[test]
fn a_finding_is_a_passing_test_case_with_its_text() {
    use crate::gate::verdict::{RuleOutcome, Status};
    let rule = |name: &str, status, blocking| RuleOutcome {
        name: name.into(),
        kind: "warned",
        metric: None,
        status,
        blocking,
        requirement: "at most 0.25 warned".into(),
        message: "13 of 32 layer(s) warned over-trained".into(),
        value: None,
        baseline: None,
        judged: Some(32),
        failing: vec![],
    };
    let mut v = Verdict::failed_to_evaluate("g", "ww", "m.onnx", String::new());
    v.errors.clear();
    v.rules = vec![
        rule("few-over-trained", Status::Fail, false),
        rule("finite", Status::Pass, true),
    ];
    v.status = Verdict::conclude(&v.rules, &v.errors);
    assert_eq!(v.status, Status::Pass);
    let xml = to_xml(&v);
    assert!(
        xml.contains("tests=\"2\" failures=\"0\" errors=\"0\""),
        "{xml}"
    );
    assert!(!xml.contains("<failure"), "{xml}");
    assert!(
        xml.contains("<system-out>finding (non-blocking)&#10;requirement: at most 0.25 warned")
    );
    assert!(crate::gate::verdict::human(&v).contains("[finding] few-over-trained: 13 of 32"));
}
