//! report.md: the study's tables for a person to read.

use std::fmt::Write;

use super::tables::{batchnorm_note, correlation_sections, correlation_table, models_table};
use crate::study::Study;
use crate::study::run::StudyOutcome;

pub fn study_markdown(study: &Study, o: &StudyOutcome) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Study: {}\n",
        study.spec.name.replace(['\n', '\r'], " ")
    );
    if let Some(d) = &study.spec.description {
        let _ = writeln!(s, "{}\n", d.trim());
    }
    let _ = writeln!(
        s,
        "tailwatch {} · preset `{}` · stages {} · {} models{}\n",
        env!("CARGO_PKG_VERSION"),
        study.spec.preset,
        study
            .spec
            .stages
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(", "),
        o.models.len(),
        if o.complete {
            ""
        } else {
            " · **INCOMPLETE: some models failed (see below)**"
        }
    );
    let _ = writeln!(s, "## Models\n\n{}", models_table(study, o).to_markdown());
    let _ = writeln!(s, "{}\n", batchnorm_note(o));
    if !o.correlations.is_empty() {
        let _ = writeln!(s, "## Correlations with accuracy (100 − error)\n");
        let _ = writeln!(
            s,
            "OLS of accuracy on the metric; RMSE with denominator n; Kendall τ-b, Spearman ρ and Pearson r with two-sided p-values. Metrics ranked by |τ|. A negative τ means a smaller metric goes with higher accuracy.\n"
        );
        for (group, target) in correlation_sections(&o.correlations) {
            let t = correlation_table(&o.correlations, &group, target);
            let _ = writeln!(s, "### {group} · {target}\n\n{}", t.to_markdown());
        }
    }
    let failed: Vec<_> = o.models.iter().filter(|m| m.error.is_some()).collect();
    if !failed.is_empty() {
        let _ = writeln!(s, "## Models that could not be analyzed\n");
        for m in failed {
            let _ = writeln!(
                s,
                "- **{}**: {}",
                m.name,
                m.error.as_deref().unwrap_or("").replace(['\n', '\r'], " ")
            );
        }
        let _ = writeln!(s);
    }
    s
}
