//! report.html: one self-contained page (inline CSS and SVG, no scripts, no external files).

use std::fmt::Write;

use super::escape::{Escape, escape};
use super::plots::{self, Series};
use super::tables::{self, fmt_num};
use crate::schema::{Column, RowStatus};
use crate::study::Study;
use crate::study::run::{ModelResult, StudyOutcome};

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}.note{color:#666;font-size:.85rem}
.warn{background:#fff3cd;border:1px solid #e0c36a;padding:.6rem;border-radius:4px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1rem}.grid svg{width:100%;height:auto}";

pub fn study_html(study: &Study, o: &StudyOutcome) -> String {
    let mut h = String::new();
    let title = format!(
        "tailwatch study: {}",
        escape(&study.spec.name, Escape::Text)
    );
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
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
    h.push_str("</body></html>\n");
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
    let mut pts: Vec<(f64, f64, usize)> = Vec::new();
    for r in &a.rows {
        let (Some(id), Some(v)) = (r.num(Column::LayerId), r.num(metric)) else {
            continue;
        };
        if r.status() == Some(RowStatus::Failed) || !v.is_finite() {
            continue;
        }
        match pts.iter_mut().find(|p| p.0 == id) {
            Some(p) => {
                p.1 += v;
                p.2 += 1;
            }
            None => pts.push((id, v, 1)),
        }
    }
    Some(Series {
        label: m.name.clone(),
        group: None,
        points: pts.into_iter().map(|(x, s, n)| (x, s / n as f64)).collect(),
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
            let Some(esd) = a.esd.iter().find(|e| e.key == row_key(row)) else {
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
            // The chart draws a pure power law; a truncated fit (Lambda) would be misdrawn by it.
            let alpha = row
                .num(Column::Alpha)
                .filter(|_| row.num(Column::Lambda).is_none());
            let svg = plots::esd_loglog(&title, &esd.evals, row.num(Column::Xmin), alpha, bulk);
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

/// The ESD key of a row: `layer_id`, or `layer_id:slice_id` for sliced rows.
fn row_key(row: &crate::metrics::row::Row) -> String {
    let id = row.num(Column::LayerId).unwrap_or(-1.0) as i64;
    match row.num(Column::SliceId) {
        Some(s) => format!("{id}:{}", s as i64),
        None => id.to_string(),
    }
}
