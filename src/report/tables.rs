//! The study's tables, built once and rendered as Markdown (report.md) or HTML (report.html).

use super::escape::{Escape, escape, markdown};
use super::study::ranking;
use crate::schema::{Column, summary};
use crate::study::Study;
use crate::study::run::{CorrelationRow, StudyOutcome};

/// A table of already formatted cells; renderers only escape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Columns before this index are text (left-aligned), the rest numbers.
    pub text_columns: usize,
}

/// A number for a table: 4 decimals, scientific for very small or large values, "–" when absent.
pub fn fmt_num(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() && x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e5) => {
            format!("{x:.3e}")
        }
        Some(x) if x.is_finite() => format!("{x:.4}"),
        _ => "–".to_string(),
    }
}

/// The summary metrics a study reports (mp_softrank only with the MP fit).
pub fn summary_metrics(study: &Study) -> Vec<Column> {
    summary::means_for(&study.options)
        .into_iter()
        .map(|m| m.column)
        .collect()
}

pub fn models_table(study: &Study, o: &StudyOutcome) -> Table {
    let metrics = summary_metrics(study);
    let mut headers: Vec<String> = [
        "model",
        "group",
        "top-1 err %",
        "top-5 err %",
        "rows",
        "failed fits",
    ]
    .map(String::from)
    .to_vec();
    headers.extend(metrics.iter().map(|m| m.to_string()));
    let rows = o
        .models
        .iter()
        .map(|m| {
            let s = m.analysis.as_ref().map(|a| &a.summary);
            let mut r = vec![
                m.name.clone(),
                m.group.clone().unwrap_or_default(),
                fmt_num(m.top1_error),
                fmt_num(m.top5_error),
                s.map_or("–".into(), |x| x.counts.n_rows.to_string()),
                s.map_or("–".into(), |x| x.counts.n_fit_failed.to_string()),
            ];
            r.extend(metrics.iter().map(|k| fmt_num(s.and_then(|x| x.get(*k)))));
            r
        })
        .collect();
    Table {
        headers,
        rows,
        text_columns: 2,
    }
}

/// How the study's conv weights relate to BatchNorm (onnx-weights.md §6): models that keep
/// BatchNormalization nodes are analyzed as stored (as PyTorch-side WeightWatcher); for the others
/// a folded export cannot be told apart from a model without BatchNorm (`bn_folded: unknown`).
pub fn batchnorm_note(o: &StudyOutcome) -> String {
    let keeps_bn = |m: &&crate::study::run::ModelResult| {
        m.analysis.as_ref().is_some_and(|a| {
            a.rows.iter().any(|r| {
                r.text(Column::Flags)
                    .is_some_and(|f| f.contains("followed_by_bn"))
            })
        })
    };
    let n = o.models.iter().filter(keeps_bn).count();
    format!(
        "BatchNorm: {n} of {} models keep BatchNormalization nodes (their conv weights are analyzed \
         as stored, like PyTorch-side WeightWatcher); for the rest bn_folded is unknown — an \
         export that folded BatchNorm into the conv weights looks like a model without it, so \
         compare these numbers with other ONNX results, not with published PyTorch-side tables.",
        o.models.len()
    )
}

/// The (group, target) pairs that have correlations, in first-seen order.
pub fn correlation_sections(rows: &[CorrelationRow]) -> Vec<(String, &'static str)> {
    let mut seen: Vec<(String, &'static str)> = Vec::new();
    for r in rows {
        let key = (r.group.clone(), r.target.name());
        if !seen.contains(&key) {
            seen.push(key);
        }
    }
    seen
}

/// One group/target's correlations, metrics ranked by |τ|.
pub fn correlation_table(rows: &[CorrelationRow], group: &str, target: &str) -> Table {
    let headers = [
        "metric",
        "n",
        "slope",
        "intercept",
        "RMSE",
        "R²",
        "τ",
        "τ p",
        "ρ",
        "ρ p",
        "r",
        "r p",
        "note",
    ]
    .map(String::from)
    .to_vec();
    let body = ranking(rows, group, target)
        .into_iter()
        .filter_map(|(metric, _)| {
            rows.iter()
                .find(|r| r.group == group && r.target.name() == target && r.metric == metric)
        })
        .map(correlation_cells)
        .collect();
    Table {
        headers,
        rows: body,
        text_columns: 1,
    }
}

fn correlation_cells(r: &CorrelationRow) -> Vec<String> {
    let c = &r.stats;
    let mut note = c.note.clone().unwrap_or_default();
    if !r.excluded.is_empty() {
        note = format!("{note} excluded: {}", r.excluded.join(", "));
    }
    let mut cells = vec![r.metric.clone(), c.n.to_string()];
    let values = [
        c.slope,
        c.intercept,
        c.rmse,
        c.r2,
        c.kendall_tau,
        c.kendall_p,
        c.spearman_rho,
        c.spearman_p,
        c.pearson_r,
        c.pearson_p,
    ];
    cells.extend(values.into_iter().map(fmt_num));
    cells.push(note.trim().to_string());
    cells
}

impl Table {
    pub fn to_markdown(&self) -> String {
        let line = |cells: &[String]| {
            let v: Vec<String> = cells.iter().map(|c| markdown(c)).collect();
            format!("| {} |\n", v.join(" | "))
        };
        let align: Vec<String> = (0..self.headers.len())
            .map(|i| if i < self.text_columns { "---" } else { "---:" }.to_string())
            .collect();
        let mut s = line(&self.headers);
        s.push_str(&format!("|{}|\n", align.join("|")));
        for r in &self.rows {
            s.push_str(&line(r));
        }
        s
    }

    /// The table in a horizontally scrolling box (`.scroll` in the page style), so that a wide
    /// table never widens the page or cuts columns at a laptop's width; text columns carry the
    /// class `t` (left-aligned).
    pub fn to_html(&self) -> String {
        let class = |i: usize| {
            if i < self.text_columns {
                " class=\"t\""
            } else {
                ""
            }
        };
        let mut s = String::from("<div class=\"scroll\"><table><thead><tr>");
        for (i, h) in self.headers.iter().enumerate() {
            s.push_str(&format!("<th{}>{}</th>", class(i), escape(h, Escape::Text)));
        }
        s.push_str("</tr></thead><tbody>\n");
        for r in &self.rows {
            s.push_str("<tr>");
            for (i, c) in r.iter().enumerate() {
                s.push_str(&format!("<td{}>{}</td>", class(i), escape(c, Escape::Text)));
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody></table></div>\n");
        s
    }
}

#[cfg(test)]
#[path = "tables_tests.rs"]
mod tests;
