//! SVG charts: well-formed XML, self-contained, deterministic, labelled, and robust to empty or
//! degenerate input.

use quick_xml::Reader;
use quick_xml::events::Event;
use tailwatch::report::plots::{
    EsdChart, Series, TailFit, esd_loglog, fit_title, lines, scatter_with_fit,
};
use tailwatch::stats::correlate;

/// The log-log ESD chart of `evals` with a power-law tail and MP bulk edges.
fn esd(
    title: &str,
    evals: &[f64],
    xmin: Option<f64>,
    alpha: Option<f64>,
    bulk: Option<(f64, f64)>,
) -> String {
    let tail = xmin.zip(alpha).map(|(xmin, alpha)| TailFit {
        xmin,
        alpha,
        lambda: None,
    });
    esd_loglog(&EsdChart {
        tail,
        mp_bulk: bulk,
        ..EsdChart::new(title, evals)
    })
}

/// What a parsed chart contains.
#[derive(Debug, Default)]
struct Parsed {
    elements: Vec<String>,
    texts: Vec<String>,
}

impl Parsed {
    fn count(&self, name: &str) -> usize {
        self.elements.iter().filter(|e| *e == name).count()
    }

    fn has_text(&self, needle: &str) -> bool {
        self.texts.iter().any(|t| t.contains(needle))
    }
}

/// Parse with quick-xml (which checks that end tags match) and check the chart is one
/// self-contained `<svg>` root: no scripts, style sheets, links or ids.
fn parse(svg: &str) -> Parsed {
    for banned in [
        "<script",
        "<style",
        "href",
        " id=",
        "<image",
        "<foreignObject",
        "NaN",
        "inf",
    ] {
        assert!(!svg.contains(banned), "chart contains {banned:?}");
    }
    let mut reader = Reader::from_str(svg);
    let mut out = Parsed::default();
    let mut depth = 0usize;
    let mut roots = 0usize;
    let mut pending = String::new();
    loop {
        let event = reader.read_event().expect("well-formed XML");
        if !matches!(event, Event::Text(_) | Event::GeneralRef(_)) && !pending.is_empty() {
            out.texts.push(std::mem::take(&mut pending));
        }
        match event {
            Event::Start(e) => {
                if depth == 0 {
                    roots += 1;
                    assert_eq!(e.name().0, "svg");
                }
                depth += 1;
                out.elements.push(e.name().0.to_string());
            }
            Event::Empty(e) => {
                assert!(depth > 0, "element outside the root");
                out.elements.push(e.name().0.to_string());
            }
            Event::End(_) => depth -= 1,
            Event::Text(t) => pending.push_str(&t.into_inner()),
            Event::GeneralRef(r) => {
                let name = r.into_inner();
                let c = match name.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("unexpected entity {other}"),
                };
                // Entities split a text node into pieces; they are joined in `pending`.
                pending.push_str(c);
            }
            Event::Eof => break,
            Event::Comment(_) | Event::CData(_) | Event::Decl(_) | Event::PI(_) => {
                panic!("unexpected node in chart")
            }
            Event::DocType(_) => panic!("unexpected doctype"),
        }
    }
    assert_eq!((roots, depth), (1, 0));
    assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg""#));
    out
}

fn vgg_points() -> Vec<(String, f64, f64)> {
    // methods.md §16.2: α̂ and top-1 accuracy.
    [
        ("vgg11", 3.4186, 30.98),
        ("vgg11_bn", 3.2906, 29.62),
        ("vgg13", 3.3200, 30.07),
        ("vgg13_bn", 3.2044, 28.45),
        ("vgg16", 3.2379, 28.41),
        ("vgg16_bn", 3.0458, 26.63),
        ("vgg19", 3.0503, 27.62),
        ("vgg19_bn", 2.7739, 25.76),
    ]
    .iter()
    .map(|(n, a, e)| (n.to_string(), *a, 100.0 - e))
    .collect()
}

#[test]
fn scatter_is_labelled_and_deterministic() {
    let pts = vgg_points();
    let x: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let err: Vec<f64> = pts.iter().map(|p| 100.0 - p.2).collect();
    let c = correlate(&x, &err);
    let title = fit_title("alpha_weighted", &c);
    assert_eq!(title, "alpha_weighted: RMSE 0.48, R² 0.92, τ \u{2212}0.93");
    let line = c.slope.zip(c.intercept);
    let svg = scatter_with_fit(&title, "alpha_weighted", "top-1 accuracy (%)", &pts, line);
    assert_eq!(
        svg,
        scatter_with_fit(&title, "alpha_weighted", "top-1 accuracy (%)", &pts, line)
    );
    let p = parse(&svg);
    assert_eq!(p.count("circle"), 8);
    for (name, ..) in &pts {
        assert!(p.texts.iter().any(|t| t == name), "label {name} missing");
    }
    assert!(p.has_text("RMSE 0.48") && p.has_text("top-1 accuracy (%)"));
    // The fit line is drawn in the fit colour; without a line it is absent.
    assert!(svg.contains(r##"stroke="#d62728""##));
    let bare = scatter_with_fit("t", "x", "y", &pts, None);
    assert!(!bare.contains(r##"stroke="#d62728""##));
    // Axis ticks are readable numbers around the data (70 % and 3.0 are inside the ranges).
    assert!(p.texts.iter().any(|t| t == "70"));
    assert!(p.texts.iter().any(|t| t == "3.0"));
}

#[test]
fn hostile_labels_are_escaped() {
    let pts = vec![
        ("<script>alert(1)</script>&\u{1}\"'".to_string(), 1.0, 2.0),
        ("b".to_string(), 2.0, 3.0),
    ];
    let svg = scatter_with_fit("a < b & c", "x\u{7}", "y", &pts, Some((1.0, 1.0)));
    let p = parse(&svg);
    assert!(p.has_text("a < b & c"));
    assert!(p.has_text("<script>alert"));
    assert!(p.has_text("\u{FFFD}"));
    let long = vec![("n".repeat(500), 1.0, 1.0), ("m".to_string(), 2.0, 2.0)];
    let svg = scatter_with_fit("t", "x", "y", &long, None);
    assert!(!svg.contains(&"n".repeat(100)), "long labels are truncated");
    parse(&svg);
}

#[test]
fn scatter_degenerate_inputs() {
    let empty = scatter_with_fit("empty", "x", "y", &[], None);
    assert!(parse(&empty).has_text("no data"));
    let nan = vec![
        ("a".to_string(), f64::NAN, 1.0),
        ("b".to_string(), 1.0, f64::INFINITY),
    ];
    assert!(parse(&scatter_with_fit("nan", "x", "y", &nan, None)).has_text("no data"));
    let one = vec![("only".to_string(), 2.0, 70.0)];
    let p = parse(&scatter_with_fit(
        "one",
        "x",
        "y",
        &one,
        Some((f64::NAN, 1.0)),
    ));
    assert_eq!(p.count("circle"), 1);
    assert!(p.has_text("only") && !p.has_text("no data"));
    let constant = vec![("a".to_string(), 0.0, 5.0), ("b".to_string(), 0.0, 5.0)];
    let p = parse(&scatter_with_fit(
        "c",
        "x",
        "y",
        &constant,
        Some((0.0, 5.0)),
    ));
    assert_eq!(p.count("circle"), 2);
    // Huge magnitudes switch tick labels to scientific notation instead of overflowing margins.
    let huge = vec![("a".to_string(), 1e12, 1e-9), ("b".to_string(), 3e12, 2e-9)];
    let p = parse(&scatter_with_fit("h", "x", "y", &huge, None));
    assert!(p.texts.iter().any(|t| t.contains('e')));
    // Spans that overflow f64 still give a parseable chart, not a panic.
    let extreme = vec![
        ("a".to_string(), -1e308, -1e308),
        ("b".to_string(), 1e308, 1e308),
    ];
    parse(&scatter_with_fit("x", "x", "y", &extreme, Some((1.0, 0.0))));
    let e = [1e-300, 1e300];
    parse(&esd(
        "x",
        &e,
        Some(1e-300),
        Some(1.5),
        Some((1e-300, 1e300)),
    ));
}

fn series(label: &str, points: &[(f64, f64)]) -> Series {
    Series {
        label: label.to_string(),
        points: points.to_vec(),
        group: None,
    }
}

#[test]
fn lines_have_a_legend_and_break_at_gaps() {
    let s = vec![
        series("resnet18", &[(0.0, 2.0), (1.0, 2.5), (2.0, 3.0)]),
        series(
            "resnet34",
            &[(0.0, 2.2), (1.0, f64::NAN), (2.0, 3.1), (3.0, 3.3)],
        ),
    ];
    let svg = lines("alpha per layer", "layer id", "alpha", &s);
    assert_eq!(svg, lines("alpha per layer", "layer id", "alpha", &s));
    let p = parse(&svg);
    assert!(p.has_text("resnet18") && p.has_text("resnet34") && p.has_text("layer id"));
    // resnet18 is one polyline; resnet34 breaks at the NaN into a single point and a polyline.
    assert_eq!(p.count("polyline"), 2);
    assert_eq!(p.count("circle"), 3 + 3);
    // Shared group ⇒ shared colour.
    let grouped = vec![
        Series {
            group: Some(3),
            ..series("a", &[(0.0, 1.0), (1.0, 2.0)])
        },
        Series {
            group: Some(3),
            ..series("b", &[(0.0, 2.0), (1.0, 1.0)])
        },
    ];
    let svg = lines("g", "x", "y", &grouped);
    assert_eq!(svg.matches(r##"<polyline"##).count(), 2);
    assert_eq!(
        svg.matches(r##"stroke="#d62728" stroke-width="1.6""##)
            .count(),
        4
    );
}

#[test]
fn lines_degenerate_inputs() {
    assert!(parse(&lines("t", "x", "y", &[])).has_text("no data"));
    let nan = vec![series("a", &[(f64::NAN, f64::NAN)]), series("b", &[])];
    assert!(parse(&lines("t", "x", "y", &nan)).has_text("no data"));
    let one = vec![series("a", &[(3.0, 3.0)])];
    assert!(parse(&lines("t", "x", "y", &one)).has_text("a"));
    // More series than legend rows: the rest is summarised, not drawn off the chart.
    let many: Vec<Series> = (0..40)
        .map(|i| series(&format!("m{i}"), &[(0.0, i as f64), (1.0, i as f64 + 1.0)]))
        .collect();
    let p = parse(&lines("t", "x", "y", &many));
    assert!(
        p.texts
            .iter()
            .any(|t| t.starts_with('…') && t.ends_with("more"))
    );
}

/// Deterministic heavy-tailed eigenvalues: a spread-out bulk and a λ^−2.5 tail from 3.
fn evals() -> Vec<f64> {
    let mut v: Vec<f64> = (1..=200)
        .map(|i| 0.1 + 2.8 * f64::from(i) / 200.0)
        .collect();
    v.extend((1..=20).map(|i| 3.0 * (f64::from(i) / 21.0).powf(-1.0 / 1.5)));
    v
}

#[test]
fn esd_draws_histogram_fit_and_markers() {
    let e = evals();
    let svg = esd("layer 3", &e, Some(3.0), Some(2.5), Some((0.09, 2.9)));
    assert_eq!(
        svg,
        esd("layer 3", &e, Some(3.0), Some(2.5), Some((0.09, 2.9)))
    );
    let p = parse(&svg);
    assert!(p.has_text("layer 3") && p.has_text("eigenvalue λ") && p.has_text("density"));
    assert!(p.has_text("power law, α = 2.50"));
    assert!(p.has_text("xmin = 3.00"));
    assert!(p.has_text("MP density") && p.has_text("MP bulk edges"));
    // Log axes: decade ticks drawn as 10 with a raised exponent.
    assert!(p.count("tspan") >= 3);
    assert!(p.count("path") >= 1, "the histogram");
    // Without fit or MP, only the histogram and its legend entry.
    let bare = parse(&esd("bare", &e, None, None, None));
    assert!(!bare.has_text("power law") && !bare.has_text("MP density"));
}

#[test]
fn esd_degenerate_inputs() {
    assert!(parse(&esd("t", &[], Some(1.0), Some(2.0), None)).has_text("no data"));
    let bad = [0.0, -1.0, f64::NAN, f64::INFINITY];
    assert!(parse(&esd("t", &bad, None, None, None)).has_text("no data"));
    let single = parse(&esd("t", &[2.0], Some(2.0), Some(3.0), None));
    assert!(!single.has_text("no data"));
    let constant = parse(&esd(
        "t",
        &[1.5; 50],
        Some(1.5),
        Some(0.5),
        Some((1.0, 0.5)),
    ));
    assert!(!constant.has_text("no data"));
    // Nonsense fit values are ignored, not drawn.
    let p = parse(&esd(
        "t",
        &evals(),
        Some(-1.0),
        Some(f64::NAN),
        Some((f64::NAN, 1.0)),
    ));
    assert!(!p.has_text("power law") && !p.has_text("xmin") && !p.has_text("MP"));
    // λ− = 0 (Q = 1) is a valid bulk.
    assert!(parse(&esd("t", &evals(), None, None, Some((0.0, 4.0)))).has_text("MP density"));
}

/// Label boxes as drawn: (x, y, text) of every `<text>` whose font size is the point labels'.
fn label_boxes(svg: &str) -> Vec<(f64, f64, f64, f64)> {
    svg.split("<text ")
        .skip(1)
        .filter(|t| t.contains("font-size=\"11\""))
        .filter_map(|t| {
            let attr = |name: &str| -> Option<f64> {
                t.split(&format!("{name}=\""))
                    .nth(1)?
                    .split('"')
                    .next()?
                    .parse()
                    .ok()
            };
            let anchor = t.split("text-anchor=\"").nth(1)?.split('"').next()?;
            let text = t.split('>').nth(1)?.split('<').next()?;
            let w = text.chars().count() as f64 * 11.0 * 0.62;
            let (x, y) = (attr("x")?, attr("y")?);
            let left = match anchor {
                "start" => x,
                "middle" => x - w / 2.0,
                _ => x - w,
            };
            Some((left, y - 0.8 * 11.0, left + w, y + 0.25 * 11.0))
        })
        .collect()
}

#[test]
fn clustered_points_are_numbered_with_a_key_and_no_labels_overlap() {
    // Twelve models within a hair of each other, as a study's family of similar models: their
    // names cannot all sit beside their points.
    let pts: Vec<(String, f64, f64)> = (0..12)
        .map(|i| {
            let f = f64::from(i);
            (
                format!("vgg{}_bn_mini_ep{i:02}", 11 + i),
                1.0 + 0.01 * f,
                96.0 + 0.02 * (f % 3.0),
            )
        })
        .collect();
    let svg = scatter_with_fit("t", "x", "y", &pts, Some((1.0, 95.0)));
    let p = parse(&svg);
    for (i, (name, ..)) in pts.iter().enumerate() {
        assert!(
            p.has_text(&format!("{}  {name}", i + 1)),
            "key entry {i} missing"
        );
        assert!(
            p.texts.iter().any(|t| *t == (i + 1).to_string()),
            "number {i} missing"
        );
    }
    let boxes = label_boxes(&svg);
    assert_eq!(boxes.len(), 12);
    let overlapping = |a: &(f64, f64, f64, f64), b: &(f64, f64, f64, f64)| {
        a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
    };
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            assert!(!overlapping(a, b), "labels overlap: {a:?} {b:?}");
        }
    }
    // Spread-out points keep their names (the VGG table of the reference notebook).
    let spread = parse(&scatter_with_fit("t", "x", "y", &vgg_points(), None));
    assert!(spread.texts.iter().any(|t| t == "vgg11"));
    assert!(!spread.texts.iter().any(|t| t.starts_with("1  ")));
}
