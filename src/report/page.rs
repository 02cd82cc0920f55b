//! The HTML page both reports share: one self-contained file with an inline style sheet, no
//! scripts and a Content-Security-Policy that forbids every remote or local load, so that a
//! report opened from a CI artefact or a mail attachment fetches nothing.

use super::escape::{Escape, escape};

/// The style sheet. Wide tables scroll inside `.scroll` boxes instead of widening the page, their
/// first column (the name) staying in view; cells do not wrap except prose cells (`td.p`);
/// chart grids fall back to one column on narrow screens.
const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{font-size:1.6rem;overflow-wrap:anywhere}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}h3{overflow-wrap:anywhere}
.scroll{overflow-x:auto;max-width:100%;margin:.6rem 0 1.2rem}
table{border-collapse:collapse;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;white-space:nowrap}th{background:#f4f4f4;position:sticky;top:0}
td:first-child,th:first-child,td.t,th.t{text-align:left}td.p{white-space:normal;min-width:14rem;max-width:32rem;overflow-wrap:anywhere}
.scroll td:first-child,.scroll th:first-child{position:sticky;left:0;background:#fff;z-index:1}.scroll th:first-child{background:#f4f4f4;z-index:2}
.note{color:#666;font-size:.85rem}
.warn{background:#fff3cd;border:1px solid #e0c36a;padding:.6rem;border-radius:4px}
.bad{background:#fde2e1;border:1px solid #e3a09c;padding:.6rem;border-radius:4px}
.ok{background:#e6f4e6;border:1px solid #9ccc9c;padding:.6rem;border-radius:4px}
ul.findings li{margin:.2rem 0}.sev{display:inline-block;min-width:4.5rem;font-size:.75rem;font-weight:bold;text-transform:uppercase}
.sev.problem{color:#b3261e}.sev.warning{color:#8a6100}.sev.info{color:#555}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(520px,100%),1fr));gap:1rem}.grid svg,figure svg{width:100%;height:auto}
figure.esd{margin:1.2rem 0}
figure.esd figcaption{font-weight:bold;overflow-wrap:anywhere}.panels{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(420px,100%),1fr));gap:.6rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.facts dt{color:#555}dl.facts dd{margin:0;overflow-wrap:anywhere}
code{overflow-wrap:anywhere}";

/// The page's opening: doctype, head (title, charset, viewport, security policy, style) and
/// `<body>` with the `<h1>` title. Close it with [`end`].
pub fn start(title: &str) -> String {
    let title = escape(title, Escape::Text);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    )
}

/// The page's closing tags.
pub fn end() -> &'static str {
    "</body></html>\n"
}
