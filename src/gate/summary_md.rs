//! The verdict as Markdown, for a GitHub step summary (`$GITHUB_STEP_SUMMARY`) or a merge-request
//! comment: the status, the rules that did not pass with their failing layers, then errors,
//! warnings and the rules that passed. Always under [`MAX_BYTES`] (GitHub's step-summary limit is
//! 1 MiB); what does not fit is cut at a line, with a note that says where the rest is.
//!
//! Every name comes from a model file or a gate file, so each is escaped for Markdown and HTML
//! (`cell`): a layer called `<img src=x>` or `a|b` is shown as text and cannot break the table.

use super::verdict::{RuleOutcome, Status, Verdict, show};
use crate::report::escape::markdown;

/// The largest summary written, in bytes.
pub const MAX_BYTES: usize = 1 << 20;

/// Failing layers listed per rule (the JSON verdict has them all).
const SHOWN_LAYERS: usize = 25;

/// Text safe inside a Markdown table cell (`report::escape::markdown`).
fn cell(s: &str) -> String {
    markdown(s)
}

fn label(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Error => "ERROR",
    }
}

/// A rule's label: its status, or FINDING for a non-blocking rule that did not pass.
fn rule_label(r: &RuleOutcome) -> &'static str {
    if r.label() == "finding" {
        "FINDING"
    } else {
        label(r.status)
    }
}

fn rule_line(r: &RuleOutcome) -> String {
    format!(
        "| {} | {} | {} | {} |\n",
        rule_label(r),
        cell(&r.name),
        cell(&r.requirement),
        cell(&r.message)
    )
}

/// The verdict as Markdown, at most [`MAX_BYTES`] long.
pub fn to_markdown(v: &Verdict) -> String {
    let mut s = format!("### tailwatch gate: {}\n\n", label(v.status));
    let sha = |x: &Option<String>| {
        x.as_deref()
            .map(|h| {
                format!(
                    " (sha256 {})",
                    cell(&h.chars().take(12).collect::<String>())
                )
            })
            .unwrap_or_default()
    };
    s.push_str(&format!(
        "- model: {}{}\n",
        cell(&v.model.source),
        sha(&v.model.sha256)
    ));
    if let Some(b) = &v.baseline {
        s.push_str(&format!(
            "- baseline: {}{}\n",
            cell(&b.source),
            sha(&b.sha256)
        ));
    }
    s.push_str(&format!(
        "- gate: {} (preset {}); {} row(s) analyzed, {} layer(s) skipped; exit code {}\n\n",
        cell(&v.gate),
        cell(&v.preset),
        v.n_rows,
        v.n_skipped,
        v.exit_code()
    ));
    for e in &v.errors {
        s.push_str(&format!("- **error:** {}\n", cell(e)));
    }
    for w in &v.warnings {
        s.push_str(&format!("- **warning:** {}\n", cell(w)));
    }
    if !v.errors.is_empty() || !v.warnings.is_empty() {
        s.push('\n');
    }
    if !v.rules.is_empty() {
        s.push_str("| status | rule | requirement | result |\n|---|---|---|---|\n");
        // Failed and unevaluated blocking rules first, then findings, then the rest, each
        // group in the gate file's order.
        let rank = |r: &RuleOutcome| match (r.blocking, r.status) {
            (true, Status::Error) => 0,
            (true, Status::Fail) => 1,
            (false, Status::Error | Status::Fail) => 2,
            _ => 3,
        };
        let mut order: Vec<&RuleOutcome> = v.rules.iter().collect();
        order.sort_by_key(|r| rank(r));
        for r in &order {
            s.push_str(&rule_line(r));
        }
        s.push('\n');
    }
    for r in (v.failed_rules().chain(v.findings())).filter(|r| !r.failing.is_empty()) {
        s.push_str(&format!(
            "#### {} — {} of {} layer(s)\n\n| layer | value | baseline | why |\n|---|---|---|---|\n",
            cell(&r.name),
            r.failing.len(),
            r.judged.map_or("?".into(), |j| j.to_string())
        ));
        for f in r.failing.iter().take(SHOWN_LAYERS) {
            s.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                cell(&f.layer),
                show(f.value),
                show(f.baseline),
                cell(&f.why)
            ));
        }
        if r.failing.len() > SHOWN_LAYERS {
            s.push_str(&format!(
                "\n… and {} more layer(s); the JSON verdict lists them all.\n",
                r.failing.len() - SHOWN_LAYERS
            ));
        }
        s.push('\n');
    }
    if let Some(c) = &v.comparison {
        s.push_str(&format!(
            "Compared with the baseline: {} layer(s), matched by {}; largest delta_w_rel {}, \
             smallest overlap {}.\n",
            c.layers.len(),
            match c.matched_by {
                crate::compare::MatchedBy::Name => "name",
                crate::compare::MatchedBy::Stem => "name without quantizer suffixes",
                crate::compare::MatchedBy::Position => "position",
            },
            show(c.get(crate::compare::ModelMetric::DeltaWRelMax)),
            show(c.get(crate::compare::ModelMetric::OverlapMin)),
        ));
    }
    truncate(s)
}

/// Cut at the last line break that leaves room for the note.
fn truncate(s: String) -> String {
    let note = "\n\n… summary cut at 1 MiB; the JSON verdict (--json) has everything.\n";
    crate::report::output::cut_at_line(s, MAX_BYTES, note)
}

#[cfg(test)]
#[path = "summary_md_tests.rs"]
mod tests;
