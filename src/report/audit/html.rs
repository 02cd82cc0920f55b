//! `report.html` of one model: findings first, then the profiles, every row's ESD and the
//! tables. One self-contained page (`report::page`): inline SVG, no scripts, nothing loaded.

use std::fmt::Write;

use super::content::{Content, MAX_BINS, NO_ROW, NOTHING_TO_REPORT};
use super::findings::Finding;
use crate::gate::{Status, Verdict};
use crate::report::escape::{Escape, escape};
use crate::report::page;
use crate::report::plots::{self, EsdChart, Series};

/// The palette slot of the baseline's line in the profiles: grey, dashed (slots past the
/// palette are dashed, `plots::lines`).
const BASELINE_SLOT: usize = 17;

fn text(s: &str) -> String {
    escape(s, Escape::Text)
}

/// The HTML id of a row's ESD figure (keys are digits and `:`).
pub fn figure_id(key: &str) -> String {
    format!("esd-{}", key.replace(':', "-"))
}

pub fn render(c: &Content) -> String {
    let mut h = page::start(&c.title);
    if let Some(why) = &c.nothing_analyzed {
        let _ = writeln!(
            h,
            "<p class=\"bad\"><b>No layer of this model was analyzed:</b> {}</p>",
            text(why)
        );
    }
    if let Some(g) = c.audit.gate {
        verdict_banner(&mut h, g.verdict);
    }
    let _ = writeln!(h, "<p>{}</p>", text(&c.headline));
    nav(&mut h, c);
    model(&mut h, c);
    findings(&mut h, c);
    if let Some(g) = c.audit.gate {
        verdict(&mut h, g.verdict);
    }
    summary(&mut h, c);
    profiles(&mut h, c);
    figures(&mut h, c);
    tables(&mut h, c);
    h.push_str(page::end());
    h
}

fn nav(h: &mut String, c: &Content) {
    let mut links = vec![("model", "Model"), ("findings", "Findings")];
    if c.audit.gate.is_some() {
        links.push(("verdict", "Gate verdict"));
    }
    links.extend([
        ("summary", "Summary"),
        ("profiles", "Layer profiles"),
        ("esd", "Spectra"),
        ("layers", "Layers"),
    ]);
    let items: Vec<String> = links
        .iter()
        .map(|(id, label)| format!("<a href=\"#{id}\">{label}</a>"))
        .collect();
    let _ = writeln!(h, "<nav class=\"note\">{}</nav>", items.join(" · "));
}

fn verdict_banner(h: &mut String, v: &Verdict) {
    let (class, word) = match v.status {
        Status::Pass => ("ok", "PASS"),
        Status::Fail => ("bad", "FAIL"),
        Status::Error => ("bad", "ERROR: could not be evaluated"),
    };
    let failed: Vec<&str> = v.failed_rules().map(|r| r.name.as_str()).collect();
    let _ = writeln!(
        h,
        "<p class=\"{class}\"><b>Gate {}: {word}</b> (exit {}){}</p>",
        text(&v.gate),
        v.exit_code(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(" · failed: {}", text(&failed.join(", ")))
        }
    );
}

fn model(h: &mut String, c: &Content) {
    h.push_str("<h2 id=\"model\">Model</h2>\n<dl class=\"facts\">");
    for (k, v) in &c.facts {
        let _ = write!(h, "<dt>{k}</dt><dd><code>{}</code></dd>", text(v));
    }
    h.push_str("</dl>\n");
    let _ = write!(h, "<p>Preset <code>{}</code>", text(c.audit.preset.name()));
    if c.changed_options.is_empty() {
        h.push_str(", no option changed.</p>\n");
    } else {
        h.push_str("; options that differ from it:</p>\n<ul>");
        for o in &c.changed_options {
            let _ = write!(
                h,
                "<li><code>{}: {}</code> <span class=\"note\">(preset: {})</span></li>",
                text(&o.name),
                text(&o.value),
                text(&o.preset)
            );
        }
        h.push_str("</ul>\n");
    }
}

/// Findings listed in full per kind; more are folded into a `<details>` element (no script
/// needed), so that a long list does not push everything else down.
const SHOWN_PER_KIND: usize = 12;

fn findings(h: &mut String, c: &Content) {
    h.push_str("<h2 id=\"findings\">Findings</h2>\n");
    if c.findings.is_empty() {
        let _ = writeln!(h, "<p class=\"ok\">{NOTHING_TO_REPORT}</p>");
        return;
    }
    for (kind, group) in c.groups() {
        let sev = kind.severity().name();
        let _ = writeln!(
            h,
            "<h3><span class=\"sev {sev}\">{sev}</span> {} ({})</h3><p class=\"note\">{}</p><ul class=\"findings\">",
            kind.title(),
            group.len(),
            text(kind.explanation())
        );
        let item = |f: &Finding| -> String {
            let figure = c.figures.iter().find(|fig| {
                Some(fig.name.as_str()) == f.layer.as_deref() && Some(fig.layer_id) == f.layer_id
            });
            let layer = match (&f.layer, figure) {
                (Some(l), Some(fig)) => format!(
                    "<a href=\"#{}\"><code>{}</code></a>: ",
                    figure_id(&fig.key),
                    text(l)
                ),
                (Some(l), None) => format!("<code>{}</code>: ", text(l)),
                (None, _) => String::new(),
            };
            format!("<li>{layer}{}</li>", text(&f.detail))
        };
        for f in group.iter().take(SHOWN_PER_KIND) {
            let _ = writeln!(h, "{}", item(f));
        }
        h.push_str("</ul>\n");
        if group.len() > SHOWN_PER_KIND {
            let _ = writeln!(
                h,
                "<details><summary>{} more</summary><ul class=\"findings\">",
                group.len() - SHOWN_PER_KIND
            );
            for f in &group[SHOWN_PER_KIND..] {
                let _ = writeln!(h, "{}", item(f));
            }
            h.push_str("</ul></details>\n");
        }
    }
}

fn verdict(h: &mut String, v: &Verdict) {
    h.push_str("<h2 id=\"verdict\">Gate verdict</h2>\n");
    let _ = writeln!(
        h,
        "<p>Gate <code>{}</code> (preset <code>{}</code>) on <code>{}</code>{}: <b>{}</b></p>",
        text(&v.gate),
        text(&v.preset),
        text(&v.model.source),
        v.baseline.as_ref().map_or(String::new(), |b| format!(
            " against the baseline <code>{}</code>",
            text(&b.source)
        )),
        v.status.name().to_uppercase()
    );
    for e in &v.errors {
        let _ = writeln!(h, "<p class=\"bad\"><b>error:</b> {}</p>", text(e));
    }
    for w in &v.warnings {
        let _ = writeln!(h, "<p class=\"warn\"><b>warning:</b> {}</p>", text(w));
    }
    h.push_str("<div class=\"scroll\"><table><thead><tr><th class=\"t\">rule</th><th class=\"t\">outcome</th><th class=\"t\">requirement</th><th class=\"t\">message</th><th class=\"t\">failing layers</th></tr></thead><tbody>\n");
    for r in &v.rules {
        let failing: Vec<String> = r
            .failing
            .iter()
            .take(20)
            .map(|f| format!("<code>{}</code>: {}", text(&f.layer), text(&f.why)))
            .collect();
        let more = r.failing.len().saturating_sub(20);
        let _ = writeln!(
            h,
            "<tr><td class=\"t\">{}</td><td class=\"t\">{}</td><td class=\"t p\">{}</td><td class=\"t p\">{}</td><td class=\"t p\">{}{}</td></tr>",
            text(&r.name),
            r.label(),
            text(&r.requirement),
            text(&r.message),
            failing.join("<br>"),
            if more > 0 {
                format!("<br>… and {more} more (gate.json lists all)")
            } else {
                String::new()
            }
        );
    }
    h.push_str("</tbody></table></div>\n");
}

fn summary(h: &mut String, c: &Content) {
    h.push_str("<h2 id=\"summary\">Summary</h2>\n");
    for n in &c.baseline_notes {
        let _ = writeln!(h, "<p class=\"warn\">{}</p>", text(n));
    }
    h.push_str(&c.summary.to_html());
}

fn profiles(h: &mut String, c: &Content) {
    h.push_str("<h2 id=\"profiles\">Layer profiles</h2><p class=\"note\">Each metric against layer id (sliced rows averaged per layer; failed fits left out).</p>\n<div class=\"grid\">\n");
    if c.profiles.is_empty() {
        h.push_str("<p>No analyzed layer has a metric to draw.</p>");
    }
    for p in &c.profiles {
        // The baseline first, grey and dashed, so that the model is drawn over it.
        let mut series = Vec::new();
        if let Some(b) = &p.baseline {
            series.push(Series {
                label: "baseline".to_string(),
                points: b.clone(),
                group: Some(BASELINE_SLOT),
            });
        }
        series.push(Series {
            label: "model".to_string(),
            points: p.model.clone(),
            group: Some(0),
        });
        let title = format!("{} by layer", p.metric.name());
        let svg = plots::lines(&title, "layer id", p.metric.name(), &series);
        let _ = writeln!(h, "<div>{svg}</div>");
    }
    h.push_str("</div>\n");
}

fn figures(h: &mut String, c: &Content) {
    let _ = writeln!(
        h,
        "<h2 id=\"esd\">Spectra: one figure per analyzed row ({})</h2><p class=\"note\">Left: the log-log density histogram of the eigenvalues of WᵀW with the fitted {} from xmin{}{}{}.{}</p>",
        c.figures.len(),
        if c.audit.analysis.options.fit == crate::options::FitKind::PowerLaw {
            "power law"
        } else {
            "truncated power law"
        },
        if c.audit.analysis.options.mp_fit {
            " and the Marchenko–Pastur bulk; right: the same eigenvalues on linear axes with the MP density and its bulk edges"
        } else {
            ""
        },
        if c.audit.analysis.options.randomize {
            "; the orange outline is the ESD of the element-shuffled weight (randomize)"
        } else {
            ""
        },
        if c.figures.iter().any(|f| f.baseline.is_some()) {
            "; the purple dashed outline is the baseline's ESD of the same layer"
        } else {
            ""
        },
        if c.max_bins < MAX_BINS {
            format!(
                " Histograms have at most {} bins, so that the page stays small.",
                c.max_bins
            )
        } else {
            String::new()
        }
    );
    if c.figures.is_empty() {
        h.push_str("<p>No analyzed row: no spectrum to show.</p>\n");
    }
    for f in &c.figures {
        let title = format!("{} · layer {}", f.name, f.key);
        let chart = EsdChart {
            tail: f.tail,
            mp_bulk: f.mp_bulk,
            randomized: f.randomized,
            baseline: f.baseline,
            max_bins: c.max_bins,
            ..EsdChart::new(&title, f.evals)
        };
        let _ = write!(
            h,
            "<figure class=\"esd\" id=\"{}\" data-key=\"{}\"><figcaption>{} <span class=\"note\">{}</span></figcaption><div class=\"panels\"><div>{}</div>",
            figure_id(&f.key),
            escape(&f.key, Escape::Attr),
            text(&f.name),
            text(&f.caption),
            plots::esd_loglog(&chart)
        );
        if f.mp_panel {
            let _ = write!(h, "<div>{}</div>", plots::esd_linear(&chart));
        }
        h.push_str("</div></figure>\n");
    }
}

fn tables(h: &mut String, c: &Content) {
    h.push_str("<h2 id=\"layers\">Layers</h2><p class=\"note\">WeightWatcher's columns, one row per layer (or per slice); details.csv has every column at full precision.</p>\n");
    if c.layers.rows.is_empty() {
        let _ = writeln!(h, "<p>{NO_ROW}</p>");
    } else {
        h.push_str(&c.layers.to_html());
    }
    if let Some(t) = &c.comparison {
        h.push_str("<h3>Change against the baseline</h3>\n");
        h.push_str(&t.to_html());
    }
}
