//! `tailwatch describe`: the weight layers of a model without spectra, as a table, JSON (one
//! object `{"model", "layers", "skipped"}`) or CSV (WeightWatcher's `describe()` columns first).

use std::io::Write;

use serde::Serialize;

use crate::onnx::ModelInfo;
use crate::options::{AnalysisOptions, Quirk};
use crate::weights::{Extraction, Skipped, WeightLayer, size_filter};

/// One described layer: the layer plus its reported sizes and size-filter verdict.
#[derive(Serialize)]
pub(crate) struct Row<'a> {
    #[serde(flatten)]
    pub layer: &'a WeightLayer,
    #[serde(rename = "N")]
    pub n: usize,
    #[serde(rename = "M")]
    pub m: usize,
    #[serde(rename = "Q")]
    pub q: f64,
    pub rf: usize,
    pub num_evals: usize,
    /// Why the analysis would skip it (methods.md §3), if it would.
    pub filtered: Option<String>,
}

pub(crate) fn rows<'a>(x: &'a Extraction<'_>, opts: &AnalysisOptions) -> Vec<Row<'a>> {
    let swap = opts.quirk(Quirk::ConvNmSwap);
    x.layers
        .iter()
        .map(|l| {
            let d = l.view.dims(l.kind, swap);
            Row {
                layer: l,
                n: d.n,
                m: d.m,
                q: d.q,
                rf: d.rf,
                num_evals: d.num_evals(opts.pool),
                filtered: size_filter(&d, opts),
            }
        })
        .collect()
}

#[derive(Serialize)]
struct Doc<'a> {
    model: &'a ModelInfo,
    options: &'a AnalysisOptions,
    layers: Vec<Row<'a>>,
    skipped: &'a [Skipped],
}

/// `describe --format json`: the model's provenance and every layer found, with skips.
pub fn write_json(
    w: &mut dyn Write,
    info: &ModelInfo,
    x: &Extraction<'_>,
    opts: &AnalysisOptions,
) -> std::io::Result<()> {
    let doc = Doc {
        model: info,
        options: opts,
        layers: rows(x, opts),
        skipped: &x.skipped,
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}

fn shape(s: &[usize]) -> String {
    let v: Vec<String> = s.iter().map(usize::to_string).collect();
    format!("[{}]", v.join(","))
}

/// Python-style float text (`2.0`, `10.666666666666666`), as WeightWatcher's CSVs.
fn pyfloat(q: f64) -> String {
    if q.is_nan() {
        String::new()
    } else {
        format!("{q:?}")
    }
}

/// `describe --format csv`: one line per layer, WeightWatcher `describe()` columns first.
pub fn write_csv(
    w: &mut dyn Write,
    x: &Extraction<'_>,
    opts: &AnalysisOptions,
) -> std::io::Result<()> {
    let mut c = csv::Writer::from_writer(w);
    c.write_record([
        "layer_id",
        "name",
        "M",
        "N",
        "Q",
        "layer_type",
        "longname",
        "num_evals",
        "rf",
        "op",
        "stored_shape",
        "dtype",
        "origin",
        "path",
        "source",
        "consumers",
        "flags",
        "filtered",
    ])?;
    for r in rows(x, opts) {
        let l = r.layer;
        let consumers: Vec<String> = l
            .consumers
            .iter()
            .map(|c| format!("{}:{}", c.op, c.node))
            .collect();
        c.write_record([
            l.layer_id.to_string(),
            l.name.clone(),
            r.m.to_string(),
            r.n.to_string(),
            pyfloat(r.q),
            l.kind.as_str().to_string(),
            l.name.clone(),
            r.num_evals.to_string(),
            r.rf.to_string(),
            l.op.clone(),
            shape(&l.stored_shape),
            l.dtype.clone(),
            l.origin.as_str().to_string(),
            l.path.clone(),
            l.source.clone(),
            consumers.join(";"),
            l.flags.join(";"),
            r.filtered.clone().unwrap_or_default(),
        ])?;
    }
    c.flush()
}

/// `describe --format table`: the layers as an aligned text table for a terminal.
pub fn write_table(
    w: &mut dyn Write,
    info: &ModelInfo,
    x: &Extraction<'_>,
    opts: &AnalysisOptions,
) -> std::io::Result<()> {
    let producer = format!("{} {}", info.producer_name, info.producer_version);
    writeln!(w, "model    {}", crate::error::display_name(&info.file))?;
    writeln!(w, "sha256   {}", info.sha256)?;
    writeln!(
        w,
        "producer {}  ir {}  graph {}",
        producer.trim(),
        info.ir_version,
        crate::error::display_name(&info.graph_name)
    )?;
    let head = [
        "id", "name", "type", "op", "shape", "dtype", "N", "M", "Q", "rf", "evals", "origin",
        "note",
    ];
    let mut table: Vec<Vec<String>> = vec![head.iter().map(|s| s.to_string()).collect()];
    for r in rows(x, opts) {
        let l = r.layer;
        let mut note: Vec<String> = l.flags.clone();
        if !l.path.is_empty() {
            note.push(format!("in {}", l.path));
        }
        if let Some(f) = &r.filtered {
            note.push(f.clone());
        }
        table.push(vec![
            l.layer_id.to_string(),
            crate::error::display_name(&l.name),
            l.kind.as_str().into(),
            l.op.clone(),
            shape(&l.stored_shape),
            l.dtype.clone(),
            r.n.to_string(),
            r.m.to_string(),
            format!("{:.3}", r.q),
            r.rf.to_string(),
            r.num_evals.to_string(),
            l.origin.as_str().into(),
            note.join(", "),
        ]);
    }
    let widths: Vec<usize> = (0..head.len())
        .map(|i| {
            table
                .iter()
                .map(|r| r.get(i).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in &table {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(s, &wd)| format!("{s:<wd$}"))
            .collect();
        writeln!(w, "{}", line.join("  ").trim_end())?;
    }
    writeln!(w, "{} weight layers", x.layers.len())?;
    for s in &x.skipped {
        let id = s
            .layer_id
            .map_or_else(|| "-".to_string(), |i| i.to_string());
        writeln!(
            w,
            "skipped {id} {} ({}): {}: {}",
            crate::error::display_name(&s.name),
            s.op,
            s.reason,
            crate::error::display_name(&s.detail)
        )?;
    }
    Ok(())
}
