//! `report.md` of one model: the findings and tables of `report.html` without the figures, for
//! a terminal or a merge request. Every name from the model is escaped (`escape::markdown`).

use std::fmt::Write;

use super::content::{Content, NO_ROW, NOTHING_TO_REPORT};
use crate::gate::summary_md;
use crate::report::escape::markdown as md;
use crate::report::output::cut_at_line;

/// Findings listed per kind; the HTML report lists them all.
const SHOWN_PER_KIND: usize = 50;

/// The largest report.md, in bytes: GitHub's limit for a step summary (1 MiB). What does not
/// fit (the end of a very long layer table) is cut at a line, with a note.
pub const MAX_BYTES: usize = 1 << 20;

pub fn render(c: &Content) -> String {
    let mut s = format!("# {}\n\n", md(&c.title));
    if let Some(why) = &c.nothing_analyzed {
        let _ = writeln!(s, "**No layer of this model was analyzed:** {}\n", md(why));
    }
    if let Some(g) = c.audit.gate {
        let v = g.verdict;
        let _ = writeln!(
            s,
            "**Gate {}: {}** (exit {})\n",
            md(&v.gate),
            v.status.name().to_uppercase(),
            v.exit_code()
        );
    }
    let _ = writeln!(s, "{}\n", md(&c.headline));

    s.push_str("## Model\n\n| | |\n|---|---|\n");
    for (k, v) in &c.facts {
        let _ = writeln!(s, "| {k} | {} |", md(v));
    }
    let _ = write!(s, "\nPreset `{}`", c.audit.preset.name());
    if c.changed_options.is_empty() {
        s.push_str(", no option changed.\n\n");
    } else {
        s.push_str("; options that differ from it:\n\n");
        for o in &c.changed_options {
            let _ = writeln!(
                s,
                "- {}: {} (preset: {})",
                md(&o.name),
                md(&o.value),
                md(&o.preset)
            );
        }
        s.push('\n');
    }

    s.push_str("## Findings\n\n");
    if c.findings.is_empty() {
        let _ = writeln!(s, "{NOTHING_TO_REPORT}\n");
    }
    for (kind, group) in c.groups() {
        let _ = writeln!(
            s,
            "### {} {} ({})\n\n{}\n",
            kind.severity().name().to_uppercase(),
            kind.title(),
            group.len(),
            kind.explanation()
        );
        for f in group.iter().take(SHOWN_PER_KIND) {
            match &f.layer {
                Some(l) => {
                    let _ = writeln!(s, "- {}: {}", md(l), md(&f.detail));
                }
                None => {
                    let _ = writeln!(s, "- {}", md(&f.detail));
                }
            }
        }
        if group.len() > SHOWN_PER_KIND {
            let _ = writeln!(
                s,
                "- … and {} more (report.html lists all)",
                group.len() - SHOWN_PER_KIND
            );
        }
        s.push('\n');
    }

    if let Some(g) = c.audit.gate {
        s.push_str("## Gate verdict\n\n");
        // The verdict's own Markdown, one heading level down.
        for line in summary_md::to_markdown(g.verdict).lines() {
            if line.starts_with('#') {
                let _ = writeln!(s, "##{line}");
            } else {
                let _ = writeln!(s, "{line}");
            }
        }
        s.push('\n');
    }

    s.push_str("## Summary\n\n");
    for n in &c.baseline_notes {
        let _ = writeln!(s, "> {}\n", md(n));
    }
    s.push_str(&c.summary.to_markdown());
    let _ = writeln!(
        s,
        "\n## Layers\n\n{} ESD figures and the layer profiles are in report.html.\n",
        c.figures.len()
    );
    if c.layers.rows.is_empty() {
        let _ = writeln!(s, "{NO_ROW}");
    } else {
        s.push_str(&c.layers.to_markdown());
    }
    if let Some(t) = &c.comparison {
        s.push_str("\n### Change against the baseline\n\n");
        s.push_str(&t.to_markdown());
    }
    let note = "\n\n… report.md cut at 1 MiB; report.html and details.csv have every layer.\n";
    cut_at_line(s, MAX_BYTES, note)
}
