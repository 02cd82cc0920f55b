//! report.html: one self-contained page (inline CSS and SVG, no scripts, no external files).

use std::fmt::Write;

use super::escape::{Escape, escape};
use super::plots::{self, Series};
use super::tables::{self, fmt_num};
use crate::schema::Column;
use crate::study::Study;
use crate::study::run::{ModelResult, StudyOutcome};

pub fn study_html(study: &Study, o: &StudyOutcome) -> String {
    let mut h = String::new();
    let title = format!("tailwatch study: {}", study.spec.name);
    h.push_str(&super::page::start(&title));
    if let Some(d) = &study.spec.description {
        let _ = writeln!(h, "<p>{}</p>", escape(d.trim(), Escape::Text));
    }
    let _ = writeln!(
        h,
        "<p class=\"note\">tailwatch {} · preset <code>{}</code> · {} models</p>",
        env!("CARGO_PKG_VERSION"),
        study.spec.preset,
        o.models.len()
    );
    if !o.complete {
        let _ = writeln!(
            h,
            "<p class=\"warn\"><b>Incomplete study:</b> some models could not be analyzed; they are listed at the end and excluded from every statistic.</p>"
        );
    }
    models_table(&mut h, study, o);
    accuracy_plots(&mut h, o);
    correlation_tables(&mut h, o);
    flow_plots(&mut h, o);
    esd_plots(&mut h, study, o);
    failures(&mut h, o);
    h.push_str(super::page::end());
    h
}

fn models_table(h: &mut String, study: &Study, o: &StudyOutcome) {
    h.push_str("<h2>Models</h2>");
    h.push_str(&tables::models_table(study, o).to_html());
    let _ = writeln!(
        h,
        "<p class=\"note\">{}</p>",
        escape(&tables::batchnorm_note(o), Escape::Text)
    );
}

/// Accuracy vs metric, one chart per (group, metric) for top-1, with the OLS line and stats.
fn accuracy_plots(h: &mut String, o: &StudyOutcome) {
    if o.correlations.is_empty() {
        return;
    }
    h.push_str("<h2>Accuracy vs metric (top-1)</h2><div class=\"grid\">\n");
    for r in o.correlations.iter().filter(|r| r.target.name() == "top1") {
        let points: Vec<(String, f64, f64)> = o
            .models
            .iter()
            .filter(|m| r.group == "all" || m.group.as_deref() == Some(r.group.as_str()))
            .filter_map(|m| {
                let x = m
                    .analysis
                    .as_ref()?
                    .summary
                    .get(Column::from_name(&r.metric)?)?;
                Some((m.name.clone(), x, 100.0 - m.top1_error?))
            })
            .collect();
        let c = &r.stats;
        let title = format!(
            "{} [{}]: RMSE {}, R² {}, τ {}",
            r.metric,
            r.group,
            fmt_num(c.rmse),
            fmt_num(c.r2),
            fmt_num(c.kendall_tau)
        );
        let line = c.slope.zip(c.intercept);
        let svg = plots::scatter_with_fit(&title, &r.metric, "top-1 accuracy %", &points, line);
        let _ = writeln!(h, "<div>{svg}</div>");
    }
    h.push_str("</div>\n");
}

fn correlation_tables(h: &mut String, o: &StudyOutcome) {
    if o.correlations.is_empty() {
        return;
    }
    h.push_str("<h2>Correlations with accuracy</h2><p class=\"note\">OLS of accuracy (100 − error) on the metric; RMSE with denominator n; Kendall τ-b, Spearman ρ, Pearson r with two-sided p-values; ranked by |τ|.</p>\n");
    for (group, target) in tables::correlation_sections(&o.correlations) {
        let _ = writeln!(h, "<h3>{} · {target}</h3>", escape(&group, Escape::Text));
        h.push_str(&tables::correlation_table(&o.correlations, &group, target).to_html());
    }
}

/// "Correlation flow": alpha per layer id, one line per model, per group.
fn flow_plots(h: &mut String, o: &StudyOutcome) {
    h.push_str("<h2>Correlation flow</h2><p class=\"note\">Per-layer metric against layer id, one line per model (sliced rows are averaged per layer).</p><div class=\"grid\">\n");
    let mut groups: Vec<Option<&str>> = Vec::new();
    for m in &o.models {
        if !groups.contains(&m.group.as_deref()) {
            groups.push(m.group.as_deref());
        }
    }
    for metric in [
        Column::Alpha,
        Column::LogSpectralNorm,
        Column::AlphaWeighted,
    ] {
        for g in &groups {
            let series: Vec<Series> = o
                .models
                .iter()
                .filter(|m| m.group.as_deref() == *g)
                .filter_map(|m| flow_series(m, metric))
                .collect();
            let title = format!(
                "{metric} by layer{}",
                g.map(|g| format!(" [{g}]")).unwrap_or_default()
            );
            let _ = writeln!(
                h,
                "<div>{}</div>",
                plots::lines(&title, "layer id", metric.name(), &series)
            );
        }
    }
    h.push_str("</div>\n");
}

fn flow_series(m: &ModelResult, metric: Column) -> Option<Series> {
    let a = m.analysis.as_ref()?;
    Some(Series {
        label: m.name.clone(),
        group: None,
        points: super::profiles::per_layer(&a.rows, metric),
    })
}

/// ESD plots of selected rows: `report.esd_layers` names, else first/middle/last row of the
/// first model of each group.
fn esd_plots(h: &mut String, study: &Study, o: &StudyOutcome) {
    h.push_str("<h2>Empirical spectral densities</h2><p class=\"note\">Log-log histogram of the eigenvalues of WᵀW with the fitted power law from xmin and the Marchenko–Pastur bulk edges (when fitted).</p><div class=\"grid\">\n");
    let wanted = study
        .spec
        .report
        .as_ref()
        .and_then(|r| r.esd_layers.clone());
    let mut groups_done: Vec<Option<&str>> = Vec::new();
    for m in &o.models {
        let Some(a) = &m.analysis else { continue };
        let pick: Vec<usize> = match &wanted {
            Some(names) => (0..a.rows.len())
                .filter(|&i| {
                    names
                        .iter()
                        .any(|n| n == "all" || a.rows[i].text(Column::Name) == Some(n.as_str()))
                })
                .collect(),
            None => {
                if groups_done.contains(&m.group.as_deref()) {
                    continue;
                }
                groups_done.push(m.group.as_deref());
                let n = a.rows.len();
                let mut v = vec![0, n / 2, n.saturating_sub(1)];
                v.dedup();
                v.into_iter().filter(|&i| i < n).collect()
            }
        };
        for i in pick {
            let row = &a.rows[i];
            let Some(esd) = a
                .esd
                .iter()
                .find(|e| Some(&e.key) == crate::analysis::RowEsd::key_of(row).as_ref())
            else {
                continue;
            };
            let bulk = row.num(Column::BulkMin).zip(row.num(Column::BulkMax));
            let title = format!(
                "{} · {} (layer {}) α={}",
                m.name,
                row.text(Column::Name).unwrap_or(""),
                row.num(Column::LayerId).unwrap_or(f64::NAN),
                fmt_num(row.num(Column::Alpha))
            );
            let chart = plots::EsdChart {
                tail: super::profiles::tail_fit(row),
                mp_bulk: bulk,
                ..plots::EsdChart::new(&title, &esd.evals)
            };
            let svg = plots::esd_loglog(&chart);
            let _ = writeln!(h, "<div>{svg}</div>");
        }
    }
    h.push_str("</div>\n");
}

fn failures(h: &mut String, o: &StudyOutcome) {
    let failed: Vec<_> = o.models.iter().filter(|m| m.error.is_some()).collect();
    if failed.is_empty() {
        return;
    }
    h.push_str("<h2>Models that could not be analyzed</h2><ul>\n");
    for m in failed {
        let _ = writeln!(
            h,
            "<li><b>{}</b>: {}</li>",
            escape(&m.name, Escape::Text),
            escape(m.error.as_deref().unwrap_or(""), Escape::Text)
        );
    }
    h.push_str("</ul>\n");
}
