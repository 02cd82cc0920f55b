use prost::Message;
use sha2::{Digest, Sha256};

use super::*;
use crate::options::AnalysisOptions;
use crate::weights::extract;
use tailwatch_testkit::{Graph, a_int, encode, f32_raw, noise};

fn gemm_model() -> ModelProto {
    Graph::new("g")
        .input("x")
        .init(f32_raw("w", &[70, 130], &noise(70 * 130, 11)))
        .init(f32_raw("b", &[70], &[0.25; 70]))
        .init(f32_raw("m", &[130, 9], &noise(130 * 9, 12)))
        .node_with(
            "Gemm",
            "fc",
            &["x", "w", "b"],
            &["h"],
            vec![a_int("transB", 1)],
        )
        .node("MatMul", "mm", &["h", "m"], &["y"])
        .output("y")
        .model()
}

/// Matrices of every layer, in order.
fn matrices(m: &Model) -> Vec<crate::weights::WeightMatrix> {
    let x = extract(m, &AnalysisOptions::default()).unwrap();
    x.layers.iter().map(|l| x.matrix(l).unwrap()).collect()
}

#[test]
fn a_mapped_file_is_decoded_without_its_weights_and_reads_them_in_place() {
    let proto = gemm_model();
    let bytes = encode(&proto);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.onnx");
    std::fs::write(&path, &bytes).unwrap();
    let mapped = load(&path, &Limits::default()).unwrap();
    let canon = dir.path().canonicalize().unwrap();
    let copied = load_bytes(&bytes, &path, &canon, &Limits::default()).unwrap();
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for m in [&mapped, &copied] {
        assert_eq!(m.info().sha256, sha);
        assert_eq!(m.info().bytes, bytes.len() as u64);
        let inits = &m.graph().initializer;
        let want = &proto.graph.as_ref().unwrap().initializer;
        for (t, w) in inits.iter().zip(want) {
            assert!(
                t.raw_data.is_empty(),
                "{} kept its payload in the proto",
                t.name
            );
            assert_eq!(
                m.raw_data(t).as_slice(),
                w.raw_data.as_slice(),
                "{}",
                t.name
            );
        }
    }
    // The Gemm weight is transposed (transB), the MatMul one is not.
    let w = noise(70 * 130, 11);
    let got = matrices(&mapped);
    assert_eq!((got[0].rows, got[0].cols), (130, 70));
    for i in 0..70 {
        for j in 0..130 {
            assert_eq!(got[0].data[j * 70 + i], w[i * 130 + j] as f64);
        }
    }
    let m: Vec<f64> = noise(130 * 9, 12).iter().map(|&v| v as f64).collect();
    assert_eq!(got[1].data, m);
    assert_eq!(got, matrices(&copied));
}

#[test]
fn a_file_the_scan_leaves_to_prost_loads_as_before() {
    // An unknown group field (number 99: start key 795, end key 796) at the top level: prost
    // skips it, the scan gives up.
    let mut bytes = vec![0x9b, 0x06, 0x08, 0x01, 0x9c, 0x06];
    assert!(skeleton::elide(&bytes).is_none());
    assert!(
        ModelProto::decode(bytes.as_slice()).is_ok(),
        "prost skips groups"
    );
    bytes.extend(encode(&gemm_model()));
    let dir = tempfile::tempdir().unwrap();
    let canon = dir.path().canonicalize().unwrap();
    let m = load_bytes(&bytes, Path::new("m.onnx"), &canon, &Limits::default()).unwrap();
    // Nothing elided: the payloads are in the proto and read from there.
    let t = &m.graph().initializer[0];
    assert_eq!(t.raw_data.len(), 70 * 130 * 4);
    assert_eq!(m.raw_data(t).as_slice(), t.raw_data.as_slice());
    let plain = load_bytes(
        &encode(&gemm_model()),
        Path::new("m.onnx"),
        &canon,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(matrices(&m), matrices(&plain));
}

#[test]
fn loading_errors_keep_their_class() {
    let dir = tempfile::tempdir().unwrap();
    let canon = dir.path().canonicalize().unwrap();
    let bytes = encode(&gemm_model());
    let load = |b: &[u8]| load_bytes(b, Path::new("m.onnx"), &canon, &Limits::default());
    // Truncated inside the graph: the file's own decoding error, class truncated.
    let e = load(&bytes[..bytes.len() / 2]).unwrap_err();
    assert_eq!(e.model_kind(), Some(K::Truncated), "{e}");
    // A payload that does not fit its dims is refused on the elided bytes.
    let mut p = gemm_model();
    p.graph.as_mut().unwrap().initializer[0].raw_data.pop();
    let e = load(&encode(&p)).unwrap_err();
    assert_eq!(e.model_kind(), Some(K::LengthMismatch), "{e}");
    assert!(e.to_string().contains("raw_data has 36399 bytes"), "{e}");
    // raw_data beside external data: two payloads.
    let mut p = gemm_model();
    let t = &mut p.graph.as_mut().unwrap().initializer[1];
    t.data_location = Some(1);
    t.external_data = vec![tract_onnx::pb::StringStringEntryProto {
        key: "location".into(),
        value: "w.bin".into(),
    }];
    let e = load(&encode(&p)).unwrap_err();
    assert_eq!(e.model_kind(), Some(K::BadPayload), "{e}");
    assert!(e.to_string().contains("more than one payload"), "{e}");
}
