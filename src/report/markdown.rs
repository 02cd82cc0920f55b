//! report.md: the study's tables for a person to read.

use std::fmt::Write;

use super::study::ranking;
use crate::metrics::summary::SUMMARY_METRICS;
use crate::study::Study;
use crate::study::run::{CorrelationRow, StudyOutcome};

/// A number for a table: 4 significant decimals, or "–" when absent.
pub fn fmt_num(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() && x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e5) => {
            format!("{x:.3e}")
        }
        Some(x) if x.is_finite() => format!("{x:.4}"),
        _ => "–".to_string(),
    }
}

/// Markdown-safe cell text (pipes and newlines would break the table).
pub fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

pub fn summary_metrics(study: &Study) -> Vec<&'static str> {
    SUMMARY_METRICS
        .iter()
        .copied()
        .filter(|m| *m != "mp_softrank" || study.options.mp_fit)
        .collect()
}

pub fn study_markdown(study: &Study, o: &StudyOutcome) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Study: {}\n", cell(&study.spec.name));
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
    models_table(&mut s, study, o);
    correlation_tables(&mut s, o);
    failures(&mut s, o);
    s
}

fn models_table(s: &mut String, study: &Study, o: &StudyOutcome) {
    let metrics = summary_metrics(study);
    let _ = writeln!(s, "## Models\n");
    let _ = writeln!(
        s,
        "| model | group | top-1 err % | top-5 err % | rows | failed fits | {} |",
        metrics.join(" | ")
    );
    let _ = writeln!(
        s,
        "|---|---|---:|---:|---:|---:|{}",
        "---:|".repeat(metrics.len())
    );
    for m in &o.models {
        let summ = m.analysis.as_ref().map(|a| &a.summary);
        let vals: Vec<String> = metrics
            .iter()
            .map(|k| fmt_num(summ.and_then(|x| x.get(k))))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&m.name),
            cell(m.group.as_deref().unwrap_or("")),
            fmt_num(m.top1_error),
            fmt_num(m.top5_error),
            summ.map_or("–".into(), |x| x.n_rows.to_string()),
            summ.map_or("–".into(), |x| x.n_fit_failed.to_string()),
            vals.join(" | ")
        );
    }
    let _ = writeln!(s);
}

fn correlation_tables(s: &mut String, o: &StudyOutcome) {
    if o.correlations.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Correlations with accuracy (100 − error)\n");
    let _ = writeln!(
        s,
        "OLS of accuracy on the metric; RMSE with denominator n; Kendall τ-b, Spearman ρ and Pearson r with two-sided p-values. Metrics ranked by |τ|. A negative τ means a smaller metric goes with higher accuracy.\n"
    );
    let mut seen: Vec<(String, &str)> = Vec::new();
    for r in &o.correlations {
        let key = (r.group.clone(), r.target.name());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        one_table(s, &o.correlations, &r.group, r.target.name());
    }
}

fn one_table(s: &mut String, rows: &[CorrelationRow], group: &str, target: &str) {
    let _ = writeln!(s, "### {} · {}\n", cell(group), target);
    let _ = writeln!(
        s,
        "| metric | n | slope | intercept | RMSE | R² | τ | τ p | ρ | ρ p | r | r p | note |"
    );
    let _ = writeln!(
        s,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for (metric, _) in ranking(rows, group, target) {
        let Some(r) = rows
            .iter()
            .find(|r| r.group == group && r.target.name() == target && r.metric == metric)
        else {
            continue;
        };
        let c = &r.stats;
        let mut note = c.note.clone().unwrap_or_default();
        if !r.excluded.is_empty() {
            note = format!("{note} excluded: {}", r.excluded.join(", "))
                .trim()
                .to_string();
        }
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&r.metric),
            c.n,
            fmt_num(c.slope),
            fmt_num(c.intercept),
            fmt_num(c.rmse),
            fmt_num(c.r2),
            fmt_num(c.kendall_tau),
            fmt_num(c.kendall_p),
            fmt_num(c.spearman_rho),
            fmt_num(c.spearman_p),
            fmt_num(c.pearson_r),
            fmt_num(c.pearson_p),
            cell(&note)
        );
    }
    let _ = writeln!(s);
}

fn failures(s: &mut String, o: &StudyOutcome) {
    let failed: Vec<_> = o.models.iter().filter(|m| m.error.is_some()).collect();
    if failed.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Models that could not be analysed\n");
    for m in failed {
        let _ = writeln!(
            s,
            "- **{}**: {}",
            cell(&m.name),
            cell(m.error.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(s);
}
