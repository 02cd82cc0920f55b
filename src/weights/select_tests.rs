use std::path::Path;

use crate::onnx::{Limits, load};
use crate::options::{AnalysisOptions, LayerRef};
use crate::weights::extract;

fn reference(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/ww-0.7.7")
        .join(name)
}

/// (layer_id, name) of the layers `extract` keeps under `layers`.
fn kept(model: &str, layers: Vec<LayerRef>) -> crate::Result<Vec<(usize, String)>> {
    let m = load(&reference(model), &Limits::default())?;
    let opts = AnalysisOptions {
        layers: Some(layers),
        ..Default::default()
    };
    opts.validate()?;
    let x = extract(&m, &opts)?;
    // Every kept layer still decodes: the recipes were kept in step with the layers.
    for l in &x.layers {
        x.matrix(l).expect("kept layer decodes");
    }
    Ok(x.layers
        .iter()
        .map(|l| (l.layer_id, l.name.clone()))
        .collect())
}

fn names(v: &[(usize, String)]) -> Vec<&str> {
    v.iter().map(|(_, n)| n.as_str()).collect()
}

#[test]
fn layers_select_by_id_and_name_keeping_the_ids() {
    let all = kept("cnn_conv2d.onnx", vec![]).unwrap();
    assert_eq!(all.len(), 5, "{all:?}");
    let by_id = kept("cnn_conv2d.onnx", vec![LayerRef::Id(3), LayerRef::Id(1)]).unwrap();
    assert_eq!(by_id, vec![all[1].clone(), all[3].clone()]);
    let mixed = kept(
        "cnn_conv2d.onnx",
        vec![LayerRef::Name("fc.weight".into()), LayerRef::Id(0)],
    )
    .unwrap();
    assert_eq!(names(&mixed), ["conv1.weight", "fc.weight"]);
    assert_eq!(mixed[1].0, all[4].0, "ids are not renumbered");
}

#[test]
fn negative_ids_leave_layers_out() {
    let all = kept("mlp_gemm.onnx", vec![]).unwrap();
    let rest = kept("mlp_gemm.onnx", vec![LayerRef::Id(-1)]).unwrap();
    assert_eq!(rest, vec![all[0].clone(), all[2].clone()]);
}

#[test]
fn an_entry_matching_no_layer_is_an_error_naming_it() {
    let e = kept(
        "mlp_gemm.onnx",
        vec![
            LayerRef::Name("fc9.weight".into()),
            LayerRef::Id(1),
            LayerRef::Id(17),
        ],
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("\"fc9.weight\", 17 match no layer"), "{msg}");
    assert!(msg.contains("mlp_gemm.onnx"), "{msg}");
    assert!(matches!(e, crate::Error::Options(_)), "{e:?}");
}
