use prost::Message;
use tract_onnx::pb::ModelProto;

use super::*;
use tailwatch_testkit::{Graph, encode, f32_raw, noise, seed_models};

/// Decode the skeleton and put the elided payloads back.
fn restore(src: &[u8], sk: &Skeleton) -> Result<ModelProto, prost::DecodeError> {
    let mut m = ModelProto::decode(sk.proto.as_slice())?;
    let inits = m
        .graph
        .as_mut()
        .map_or(&mut [][..], |g| &mut g.initializer[..]);
    assert_eq!(inits.len(), sk.raw.len(), "one range per initializer");
    for (t, r) in inits.iter_mut().zip(&sk.raw) {
        assert!(
            t.raw_data.is_empty(),
            "{}: raw_data left in the skeleton",
            t.name
        );
        if let Some(r) = r {
            t.raw_data = src[r.clone()].to_vec();
        }
    }
    Ok(m)
}

/// The property `load` relies on: when the skeleton decodes, the file decodes to the same model
/// once the payloads are put back.
fn check_equivalent(src: &[u8]) -> bool {
    let Some(sk) = elide(src) else {
        return false;
    };
    let Ok(restored) = restore(src, &sk) else {
        return false;
    };
    let original = ModelProto::decode(src).expect("the skeleton decoded, so must the file");
    // Compared through their encodings: NaN values make the structs unequal to themselves.
    assert_eq!(restored.encode_to_vec(), original.encode_to_vec());
    true
}

fn two_layer_model() -> ModelProto {
    Graph::new("g")
        .input("x")
        .init(f32_raw("w1", &[8, 4], &noise(32, 1)))
        .init(f32_raw("b1", &[4], &[0.5; 4]))
        .init(f32_raw("w2", &[4, 3], &noise(12, 2)))
        .node("MatMul", "mm1", &["x", "w1"], &["h"])
        .node("Add", "add", &["h", "b1"], &["a"])
        .node("MatMul", "mm2", &["a", "w2"], &["y"])
        .output("y")
        .model()
}

#[test]
fn payloads_are_left_out_and_located() {
    let m = two_layer_model();
    let src = encode(&m);
    let sk = elide(&src).unwrap();
    let payload: usize = m
        .graph
        .iter()
        .flat_map(|g| &g.initializer)
        .map(|t| t.raw_data.len())
        .sum();
    assert_eq!(payload, (32 + 4 + 12) * 4);
    // Each payload dropped, plus its key and one-byte length.
    assert!(sk.proto.len() <= src.len() - payload);
    for (t, r) in m.graph.as_ref().unwrap().initializer.iter().zip(&sk.raw) {
        assert_eq!(
            &src[r.clone().unwrap()],
            t.raw_data.as_slice(),
            "{}",
            t.name
        );
    }
    assert!(check_equivalent(&src));
}

#[test]
fn seed_models_decode_the_same() {
    for (name, m) in seed_models() {
        assert!(check_equivalent(&encode(&m)), "{name}");
    }
}

fn key(number: u64, wire: u64) -> Vec<u8> {
    let mut v = Vec::new();
    put_varint(&mut v, number << 3 | wire);
    v
}

/// A length-delimited field: key then body, for hand-built messages.
fn len_field(number: u64, body: &[u8]) -> Vec<u8> {
    let mut v = key(number, 2);
    put_varint(&mut v, body.len() as u64);
    v.extend_from_slice(body);
    v
}

#[test]
fn the_last_raw_data_wins_as_in_prost() {
    let t = f32_raw("w", &[2], &[1.0, 2.0]);
    let mut tensor = encode_msg(&t);
    // A second raw_data after the first: protobuf keeps the last one.
    tensor.extend(len_field(9, &3.0f32.to_le_bytes().repeat(2)));
    let graph = len_field(5, &tensor);
    let src = [vec![0x08, 0x08], len_field(7, &graph)].concat();
    assert!(check_equivalent(&src));
    // An empty last raw_data empties it.
    let mut tensor = encode_msg(&t);
    tensor.extend(len_field(9, &[]));
    let src = [vec![0x08, 0x08], len_field(7, &len_field(5, &tensor))].concat();
    let sk = elide(&src).unwrap();
    assert_eq!(sk.raw, vec![None]);
    assert!(check_equivalent(&src));
}

#[test]
fn repeated_graph_fields_merge_their_initializers_in_order() {
    let a = len_field(5, &encode_msg(&f32_raw("a", &[1], &[1.0])));
    let b = len_field(5, &encode_msg(&f32_raw("b", &[2], &[2.0, 3.0])));
    let src = [len_field(7, &a), vec![0x08, 0x08], len_field(7, &b)].concat();
    let sk = elide(&src).unwrap();
    assert_eq!(sk.raw.len(), 2);
    assert!(check_equivalent(&src));
}

#[test]
fn what_the_scan_does_not_understand_is_left_to_prost() {
    let g = len_field(5, &encode_msg(&f32_raw("a", &[1], &[1.0])));
    let good = [vec![0x08, 0x08], len_field(7, &g)].concat();
    // A group (wire types 3/4) among unknown fields of the model.
    let group = [vec![0x08, 0x08], key(99, 3), vec![0x08, 0x01], key(99, 4)].concat();
    assert!(elide(&[group, len_field(7, &g)].concat()).is_none());
    // The graph field as a varint.
    assert!(elide(&[0x08, 0x08, 7 << 3, 0x01]).is_none());
    // raw_data as a varint.
    let t = [vec![0x0a, 0x01, b'a'], vec![9 << 3, 0x05]].concat();
    assert!(elide(&len_field(7, &len_field(5, &t))).is_none());
    // Every truncation of a valid file either gives up or decodes as the file does.
    for cut in 0..good.len() {
        let _ = check_equivalent(&good[..cut]);
    }
    // Field number 0, an 11-byte varint, a length past the end.
    assert!(elide(&[0x00, 0x01]).is_none());
    assert!(
        elide(&[
            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
        ])
        .is_none()
    );
    assert!(elide(&[0x3a, 0x05, 0x00]).is_none());
    // Unknown fixed-width fields are copied through.
    let fixed = [
        vec![0x08, 0x08],
        key(50, 1),
        vec![7; 8],
        key(51, 5),
        vec![1; 4],
    ]
    .concat();
    assert!(check_equivalent(&[fixed, len_field(7, &g)].concat()));
}

fn encode_msg(t: &tract_onnx::pb::TensorProto) -> Vec<u8> {
    t.encode_to_vec()
}

#[test]
fn mutated_models_decode_the_same_or_are_left_to_prost() {
    let mut rng = tailwatch_testkit::TestRng::new(0x5eed_1e55);
    let mut decoded = 0;
    let models: Vec<Vec<u8>> = seed_models()
        .iter()
        .map(|(_, m)| encode(m))
        .chain([encode(&two_layer_model())])
        .collect();
    for src in &models {
        for _ in 0..400 {
            let mut b = src.clone();
            for _ in 0..=rng.below(3) {
                let i = rng.below(b.len());
                match rng.below(3) {
                    0 => b[i] ^= 1 << rng.below(8),
                    1 => b[i] = [0x00, 0x02, 0x7f, 0x80, 0xff][rng.below(5)],
                    _ => b.truncate(i),
                }
                if b.is_empty() {
                    break;
                }
            }
            decoded += usize::from(check_equivalent(&b));
        }
    }
    // Most mutants still decode (they hit names and values): the property was exercised.
    assert!(decoded > 1000, "only {decoded} mutants decoded");
}
