//! The verdict as JUnit XML, the test-report format CI systems (GitLab, GitHub Actions
//! reporters, Jenkins) read: one `<testsuite>` with one `<testcase>` per rule; a failed rule
//! carries `<failure>`, a rule that could not be evaluated `<error>`. Problems outside any rule
//! (unreadable layers, baseline mismatch) add one `gate-evaluation` test case with `<error>`.

use super::verdict::{RuleOutcome, Status, Verdict, human};
use crate::report::escape::{Escape, escape};

// Every string is escaped in attribute mode, content too: valid in both, and it keeps the
// newlines of multi-line messages as `&#10;` wherever they go.

/// The XML document.
pub fn to_xml(v: &Verdict) -> String {
    let tests = v.rules.len() + usize::from(!v.errors.is_empty());
    let counted = |s: Status| {
        v.rules
            .iter()
            .filter(|r| r.blocking && r.status == s)
            .count()
    };
    let failures = counted(Status::Fail);
    let errors = counted(Status::Error) + usize::from(!v.errors.is_empty());
    let counts = format!(r#"tests="{tests}" failures="{failures}" errors="{errors}""#);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites name=\"tailwatch gate\" {counts} time=\"0\">\n"
    ));
    x.push_str(&format!(
        "  <testsuite name=\"{}\" {counts} skipped=\"0\" time=\"0\">\n",
        escape(
            &format!("gate {} on {}", v.gate, v.model.source),
            Escape::Attr
        )
    ));
    x.push_str("    <properties>\n");
    let mut props = vec![
        ("gate", v.gate.clone()),
        ("preset", v.preset.clone()),
        ("model", v.model.source.clone()),
        ("status", v.status.name().to_string()),
    ];
    if let Some(s) = &v.model.sha256 {
        props.push(("model_sha256", s.clone()));
    }
    if let Some(b) = &v.baseline {
        props.push(("baseline", b.source.clone()));
    }
    for (k, val) in props {
        x.push_str(&format!(
            "      <property name=\"{k}\" value=\"{}\"/>\n",
            escape(&val, Escape::Attr)
        ));
    }
    x.push_str("    </properties>\n");
    for r in &v.rules {
        x.push_str(&testcase(r));
    }
    if !v.errors.is_empty() {
        x.push_str(
            "    <testcase name=\"gate-evaluation\" classname=\"tailwatch.gate\" time=\"0\">\n",
        );
        x.push_str(&format!(
            "      <error message=\"{}\" type=\"evaluation\">{}</error>\n",
            escape(v.errors.first().map_or("", String::as_str), Escape::Attr),
            escape(&v.errors.join("\n"), Escape::Attr)
        ));
        x.push_str("    </testcase>\n");
    }
    x.push_str(&format!(
        "    <system-out>{}</system-out>\n",
        escape(&human(v), Escape::Attr)
    ));
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

fn testcase(r: &RuleOutcome) -> String {
    let mut x = format!(
        "    <testcase name=\"{}\" classname=\"tailwatch.gate.{}\" time=\"0\">\n",
        escape(&r.name, Escape::Attr),
        r.kind
    );
    let body_text = || {
        let mut lines = vec![format!("requirement: {}", r.requirement), r.message.clone()];
        lines.extend(r.failing.iter().map(|f| format!("{}: {}", f.layer, f.why)));
        lines.join("\n")
    };
    let body = || escape(&body_text(), Escape::Attr);
    let message = || {
        let layers: Vec<&str> = r
            .failing
            .iter()
            .map(|f| f.layer.as_str())
            .take(10)
            .collect();
        let more = r.failing.len().saturating_sub(layers.len());
        let mut m = r.message.clone();
        if !layers.is_empty() {
            m.push_str(&format!("; layers: {}", layers.join(", ")));
            if more > 0 {
                m.push_str(&format!(" (+{more} more)"));
            }
        }
        escape(&m, Escape::Attr)
    };
    match r.status {
        Status::Pass => {}
        // A finding: reported, never a CI failure.
        _ if !r.blocking => x.push_str(&format!(
            "      <system-out>{}</system-out>\n",
            escape(
                &format!("finding (non-blocking)\n{}", body_text()),
                Escape::Attr
            )
        )),
        Status::Fail => x.push_str(&format!(
            "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
            message(),
            r.kind,
            body()
        )),
        Status::Error => x.push_str(&format!(
            "      <error message=\"{}\" type=\"{}\">{}</error>\n",
            message(),
            r.kind,
            body()
        )),
    }
    x.push_str("    </testcase>\n");
    x
}

#[cfg(test)]
#[path = "junit_tests.rs"]
mod tests;
