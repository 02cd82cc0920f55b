//! The one-model audit report (`report.html`, `report.md`) as a person sees it: rendered by
//! headless Chromium (Debian's `chromium`, which `.ci/run` installs) for a conv net, an int4
//! transformer, a model with no analyzed layer and a gate run against a baseline. Each check
//! reads what the browser built: a screenshot is written, every analyzed row has its ESD
//! figure, every layer name is on the page, nothing is fetched from the network, and at a
//! laptop's width nothing widens the page.
//!
//! These tests need Chromium. Under CI (`CI` or `TAILWATCH_REQUIRE_CHROMIUM` set; `.ci/run`
//! sets the latter) a missing Chromium fails them; elsewhere they say on stderr, past the test
//! harness's capture, that they did not run.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

/// Where screenshots are kept for a person to look at (inside `target/`).
fn artefacts() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("audit-report");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Chromium's path, or None (with a message) outside CI; under CI its absence fails the test.
fn chromium(test: &str) -> Option<PathBuf> {
    let from_env = std::env::var_os("TAILWATCH_CHROMIUM").map(PathBuf::from);
    let found = from_env.or_else(|| {
        ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .filter_map(|name| {
                std::env::var_os("PATH").and_then(|paths| {
                    std::env::split_paths(&paths)
                        .map(|d| d.join(name))
                        .find(|p| p.is_file())
                })
            })
            .next()
    });
    match found {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some()
            || std::env::var_os("TAILWATCH_REQUIRE_CHROMIUM").is_some() =>
        {
            panic!(
                "{test}: Chromium is required under CI (.ci/run installs Debian's chromium); not found on PATH"
            )
        }
        None => {
            // Straight to the process's stderr: the harness captures eprintln!.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "NOT RUN {test}: Chromium not found (apt-get install chromium, or set TAILWATCH_CHROMIUM)"
            );
            None
        }
    }
}

/// What Chromium made of a page.
struct Rendered {
    /// The DOM after load (`--dump-dom`).
    dom: String,
    /// Every URL and host the browser's network stack saw (`--log-net-log`).
    net: Vec<String>,
    /// The screenshot.
    png: PathBuf,
}

/// Load `page` in headless Chromium at `width`×`height`, with the flags that keep Chromium's
/// own background services quiet.
fn render(chrome: &Path, page: &Path, png: &Path, (width, height): (u32, u32)) -> Rendered {
    let profile = tempfile::tempdir().unwrap();
    let netlog = profile.path().join("net.json");
    let out = Process::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.canonicalize().unwrap().display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed on {}: {}",
        page.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&netlog).expect("chromium wrote its net log"))
            .expect("net log is JSON");
    let mut net = Vec::new();
    for e in log["events"].as_array().into_iter().flatten() {
        for key in ["url", "host"] {
            if let Some(u) = e["params"][key].as_str() {
                net.push(u.to_string());
            }
        }
    }
    Rendered {
        dom: String::from_utf8(out.stdout).unwrap(),
        net,
        png: png.to_path_buf(),
    }
}

/// Requests that are not Chromium's own services (sign-in, time and update checks, which it
/// makes whatever the page).
fn page_requests(net: &[String]) -> Vec<&String> {
    let own = [
        "google.com",
        "googleapis.com",
        "gstatic.com",
        "chromium.org",
    ];
    net.iter()
        .filter(|u| {
            let host = u
                .split("://")
                .last()
                .unwrap_or(u)
                .split(['/', ':', '?'])
                .next()
                .unwrap_or("");
            !own.iter()
                .any(|o| host == *o || host.ends_with(&format!(".{o}")))
        })
        .collect()
}

fn html_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `details.csv` of an output directory: (name with `:slice`, status) per row.
fn rows(dir: &Path) -> Vec<(String, String)> {
    let mut r = csv::Reader::from_path(dir.join("details.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (name, status, slice) = (
        col("name"),
        col("status"),
        h.iter().position(|c| c == "slice_id"),
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let mut n = rec[name].to_string();
            if let Some(s) = slice.filter(|s| !rec[*s].is_empty()) {
                n = format!("{n}:{}", &rec[s]);
            }
            (n, rec[status].to_string())
        })
        .collect()
}

fn tailwatch(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("tailwatch")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// What every audit page must satisfy, read from the browser's DOM.
fn check_page(chrome: &Path, dir: &Path, name: &str) -> Rendered {
    let page = dir.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    // Nothing that could load: no scripts, links, sources, CSS urls; the one URL is SVG's
    // namespace, which is a name, not a load.
    for needle in [
        "<script", "<link", "src=", "url(", "@import", "<iframe", "<img",
    ] {
        assert!(
            !html.contains(needle),
            "{name}: report.html contains {needle}"
        );
    }
    let urls = html.matches("://").count();
    let ns = html.matches("http://www.w3.org/2000/svg").count();
    assert_eq!(urls, ns, "{name}: a URL other than the SVG namespace");
    assert!(html.contains("Content-Security-Policy"));

    let png = artefacts().join(format!("{name}.png"));
    let r = render(chrome, &page, &png, (1366, 2400));
    let meta = std::fs::metadata(&r.png).expect("screenshot written");
    assert!(
        meta.len() > 10_000,
        "{name}: screenshot of {} bytes",
        meta.len()
    );
    let bytes = std::fs::read(&r.png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(
        page_requests(&r.net),
        Vec::<&String>::new(),
        "{name}: the page made requests"
    );
    assert!(
        r.dom.contains("<h1>tailwatch"),
        "{name}: the page did not load"
    );
    r
}

/// Rows with a spectrum have one figure each (`data-key`), in row order; every layer name of
/// details.csv is on the page; findings come before the figures.
fn check_figures(name: &str, dir: &Path, dom: &str, panels: usize) {
    let rows = rows(dir);
    let analyzed = rows
        .iter()
        .filter(|(_, st)| st == "success" || st == "failed")
        .count();
    let figures = dom.matches("<figure class=\"esd\"").count();
    assert_eq!(figures, analyzed, "{name}: one ESD figure per analyzed row");
    for fig in dom.split("<figure class=\"esd\"").skip(1) {
        let body = fig.split("</figure>").next().unwrap();
        assert_eq!(
            body.matches("<svg").count(),
            panels,
            "{name}: panels per figure"
        );
        assert!(
            body.contains(">ESD</text>"),
            "{name}: figure without its histogram"
        );
    }
    for (layer, _) in &rows {
        assert!(
            dom.contains(&html_text(layer)),
            "{name}: layer {layer} not on the page"
        );
    }
    let findings = dom.find("id=\"findings\"").unwrap();
    let esd = dom.find("id=\"esd\"").unwrap();
    assert!(
        findings < esd,
        "{name}: findings must come before the spectra"
    );
}

/// At a laptop's width nothing widens the page: a copy of the report with a probe script (and
/// without the security policy that would block it) records the document's width.
fn check_width(chrome: &Path, dir: &Path, name: &str) {
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let csp_start = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    let csp_end = csp_start + html[csp_start..].find('>').unwrap() + 1;
    let probe = "<script>document.body.setAttribute('data-overflow', String(document.documentElement.scrollWidth - window.innerWidth));</script></body>";
    let copy = format!("{}{}", &html[..csp_start], &html[csp_end..]).replace("</body>", probe);
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("probe.html");
    std::fs::write(&page, copy).unwrap();
    let png = tmp.path().join("probe.png");
    let r = render(chrome, &page, &png, (1280, 800));
    let overflow = r
        .dom
        .split("data-overflow=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the probe ran");
    assert_eq!(
        overflow, "0",
        "{name}: the page is wider than a 1280 px window by {overflow} px"
    );
}

fn analyze(model: &Path, out: &Path, sets: &[&str]) {
    let mut args = vec!["analyze", s(model), "--out", s(out)];
    for kv in sets {
        args.extend(["--set", kv]);
    }
    let o = tailwatch(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn conv_net_report_shows_every_spectrum_with_mp_and_randomized_panels() {
    let Some(chrome) = chromium("conv_net_report") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let model = common::data::repo_file("fixtures/mnist-vgg-mini/vgg11_bn_mini.onnx");
    analyze(&model, out.path(), &["mp_fit=true", "randomize=true"]);
    let r = check_page(&chrome, out.path(), "conv-net");
    check_figures("conv-net", out.path(), &r.dom, 2);
    assert!(r.dom.contains(">randomized ESD</text>"));
    assert!(r.dom.contains(">MP density</text>"));
    assert!(r.dom.contains("alpha_weighted by layer"));
    check_width(&chrome, out.path(), "conv-net");
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(
        md.starts_with("# tailwatch audit: vgg11\\_bn\\_mini.onnx"),
        "{}",
        &md[..80]
    );
    assert!(md.contains("## Findings") && md.contains("## Layers"));
}

#[test]
fn int4_transformer_report_names_the_stored_form() {
    let Some(chrome) = chromium("int4_transformer_report") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let model = common::data::repo_file("tests/data/audit/tiny_llm_int4.onnx");
    analyze(&model, out.path(), &[]);
    let r = check_page(&chrome, out.path(), "int4-transformer");
    check_figures("int4-transformer", out.path(), &r.dom, 1);
    assert!(
        r.dom.contains("int4 (dequantized"),
        "the dtype column shows the stored form"
    );
    check_width(&chrome, out.path(), "int4-transformer");
}

#[test]
fn a_model_with_no_analyzed_layer_says_why_in_its_first_lines() {
    let Some(chrome) = chromium("no_analyzed_layer_report") else {
        return;
    };
    for (model, why) in [
        ("tests/data/audit/no_weights.onnx", "the graph has no Conv"),
        ("tests/data/audit/all_tiny.onnx", "size filter"),
    ] {
        let out = tempfile::tempdir().unwrap();
        analyze(&common::data::repo_file(model), out.path(), &[]);
        let name = Path::new(model)
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let r = check_page(&chrome, out.path(), &name);
        let body = r.dom.split("<body>").nth(1).unwrap();
        let first = &body[..body.len().min(1200)];
        assert!(
            first.contains("No layer of this model was analyzed"),
            "{name}: {first}"
        );
        assert!(first.contains(why), "{name}: {first}");
        assert_eq!(r.dom.matches("<figure class=\"esd\"").count(), 0);
        let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
        let head: String = md.lines().take(4).collect::<Vec<_>>().join("\n");
        assert!(
            head.contains("No layer of this model was analyzed"),
            "{name}: {head}"
        );
    }
}

#[test]
fn gate_report_with_a_baseline_shows_the_verdict_and_both_models() {
    let Some(chrome) = chromium("gate_report") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let zoo = |f: &str| common::data::repo_file(&format!("tests/data/zoo/{f}"));
    let gate = common::data::repo_file("configs/gates/release.yaml");
    let (model, base) = (
        zoo("ppocr-cls-v2.int8-dynamic.onnx"),
        zoo("ppocr-cls-v2.onnx"),
    );
    let o = tailwatch(&[
        "gate",
        s(&gate),
        s(&model),
        "--baseline",
        s(&base),
        "--report",
        s(out.path()),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r = check_page(&chrome, out.path(), "gate-baseline");
    // The gate writes no details.csv: the same analysis by `analyze` with the gate's options
    // (configs/gates/release.yaml) gives the rows each figure and name is checked against.
    let rows_dir = tempfile::tempdir().unwrap();
    analyze(
        &model,
        rows_dir.path(),
        &["mp_fit=true", "eigensolver=svd", "rnn=true"],
    );
    check_figures("gate-baseline", rows_dir.path(), &r.dom, 2);
    let dom = &r.dom;
    let body = dom.split("<body>").nth(1).unwrap();
    assert!(
        body[..body.len().min(2000)].contains("PASS"),
        "the verdict comes first"
    );
    assert!(dom.contains("id=\"verdict\""));
    assert!(dom.contains("Change against the baseline"));
    assert!(
        dom.contains(">baseline ESD</text>"),
        "ESDs overlay the baseline's"
    );
    assert!(
        dom.contains(">baseline</text>"),
        "profiles show the baseline"
    );
    check_width(&chrome, out.path(), "gate-baseline");
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(md.contains("## Gate verdict") && md.contains("Change against the baseline"));
}

#[test]
fn the_network_probe_sees_a_page_request() {
    // The control for `page_requests`: a page that loads a remote image is caught.
    let Some(chrome) = chromium("network_probe") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("remote.html");
    std::fs::write(&page, "<!DOCTYPE html><html><body><h1>x</h1><img src=\"http://tailwatch-probe.invalid/x.png\"></body></html>").unwrap();
    let r = render(&chrome, &page, &tmp.path().join("p.png"), (400, 300));
    assert!(
        page_requests(&r.net)
            .iter()
            .any(|u| u.contains("tailwatch-probe.invalid")),
        "{:?}",
        r.net
    );
}

/// A chain of `n` 7×7 convolutions, 32 channels in and out, with heavy-tailed entries: each
/// pooled row has 32·49 = 1568 eigenvalues, enough for every histogram to reach its most bins,
/// so that the size is the worst case per row.
fn deep_model(dir: &Path, n: usize) -> PathBuf {
    use tailwatch_testkit::{self as testkit, Graph, TestRng};
    let mut rng = TestRng::new(500);
    let mut g = Graph::new("deep").input("x0");
    for i in 0..n {
        let w: Vec<f32> = (0..32 * 32 * 49)
            .map(|_| rng.symmetric_pareto(3.0, 0.05) as f32)
            .collect();
        let name = format!("block{i}.weight");
        let (x, y) = (format!("x{i}"), format!("x{}", i + 1));
        g = g.init(testkit::f32_raw(&name, &[32, 32, 7, 7], &w)).node(
            "Conv",
            &format!("conv{i}"),
            &[&x, &name],
            &[&y],
        );
    }
    let g = g.output(&format!("x{n}"));
    testkit::write(dir, "deep.onnx", &g.model()).unwrap()
}

#[test]
fn a_500_layer_report_stays_under_8_mb_with_every_layer() {
    // Histograms are downsampled, not layers: every row keeps its figure.
    let tmp = tempfile::tempdir().unwrap();
    let model = deep_model(tmp.path(), 500);
    let out = tmp.path().join("out");
    analyze(&model, &out, &["mp_fit=true", "randomize=true"]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let size = html.len();
    eprintln!("500-layer report.html: {size} bytes");
    assert!(size < 8_000_000, "report.html is {size} bytes");
    assert_eq!(html.matches("<figure class=\"esd\"").count(), 500);
    assert_eq!(
        html.matches("<svg").count(),
        500 * 2 + 5,
        "two panels per row, five profiles"
    );
    for i in [0, 250, 499] {
        assert!(html.contains(&format!("block{i}.weight")));
    }
    // Byte-identical on a second run (the report is deterministic).
    let again = tmp.path().join("again");
    analyze(&model, &again, &["mp_fit=true", "randomize=true"]);
    assert_eq!(
        std::fs::read(again.join("report.html")).unwrap(),
        html.as_bytes()
    );
    assert_eq!(
        std::fs::read(again.join("report.md")).unwrap(),
        std::fs::read(out.join("report.md")).unwrap()
    );
}

#[test]
fn a_gate_that_cannot_evaluate_still_writes_a_report_and_no_report_skips_it() {
    let out = tempfile::tempdir().unwrap();
    let gate = common::data::repo_file("configs/gates/release.yaml");
    let model = common::data::repo_file("tests/data/zoo/ppocr-cls-v2.onnx");
    // The release gate compares with a baseline, and none is given.
    let o = tailwatch(&["gate", s(&gate), s(&model), "--report", s(out.path())]);
    assert_eq!(o.status.code(), Some(2));
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    let body = html.split("<body>").nth(1).unwrap();
    assert!(body[..400.min(body.len())].contains("ERROR: the gate could not be evaluated"));
    assert!(html.contains("--baseline"), "the reason is in the report");
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(md.contains("ERROR"), "{md}");

    let plain = tempfile::tempdir().unwrap();
    let o = tailwatch(&[
        "analyze",
        s(&model),
        "--out",
        s(plain.path()),
        "--no-report",
    ]);
    assert!(o.status.success());
    assert!(plain.path().join("details.csv").exists());
    assert!(!plain.path().join("report.html").exists());
    assert!(!plain.path().join("report.md").exists());
}
