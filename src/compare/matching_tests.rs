use super::*;

fn row(name: &str, ty: &str, n: usize, m: usize, rf: usize) -> Row {
    let mut r = Row::default();
    r.set(Column::Name, name);
    r.set(Column::LayerType, ty);
    r.set(Column::N, n);
    r.set(Column::M, m);
    r.set(Column::Rf, rf);
    r
}

fn model() -> Vec<Row> {
    vec![
        row("conv1.weight", "conv2d", 16, 3, 9),
        row("conv2.weight", "conv2d", 32, 16, 9),
        row("fc.weight", "dense", 100, 10, 1),
    ]
}

#[test]
fn same_names_match_by_name_in_any_order() {
    let m = model();
    let mut b = model();
    b.reverse();
    let got = match_rows(&m, &b).unwrap();
    assert_eq!(got.by, MatchedBy::Name);
    assert_eq!(got.pairs, vec![(0, 2), (1, 1), (2, 0)]);
    assert_eq!(got.warning, None);
}

#[test]
fn renamed_layers_match_by_position_with_a_warning() {
    let m = model();
    let b = vec![
        row("t1", "conv2d", 16, 3, 9),
        row("conv2.weight", "conv2d", 32, 16, 9),
        row("t3", "dense", 100, 10, 1),
    ];
    let got = match_rows(&m, &b).unwrap();
    assert_eq!(got.by, MatchedBy::Position);
    assert_eq!(got.pairs, vec![(0, 0), (1, 1), (2, 2)]);
    let w = got.warning.unwrap();
    assert!(w.starts_with("2 of 3 layer names differ"), "{w}");
    assert!(w.contains("conv1.weight") && w.contains("t1"), "{w}");
}

#[test]
fn same_names_other_shapes_is_another_architecture() {
    let m = model();
    let mut b = model();
    b[2] = row("fc.weight", "dense", 100, 20, 1);
    let e = match_rows(&m, &b).unwrap_err();
    assert!(e[0].contains("another architecture"), "{e:?}");
    assert!(e[1].contains("fc.weight is dense 100×10 rf 1 in the model but dense 100×20 rf 1"));
}

#[test]
fn renamed_and_reshaped_names_both_failures() {
    let m = model();
    let b = vec![
        row("t1", "conv2d", 16, 3, 9),
        row("t2", "conv2d", 64, 16, 9),
        row("t3", "dense", 100, 10, 1),
    ];
    let e = match_rows(&m, &b).unwrap_err();
    assert!(e[0].starts_with("3 layer(s) of the model are missing from the baseline"));
    assert!(e[1].starts_with("3 baseline layer(s) are missing from the model"));
    assert!(
        e[2].contains(
            "layer 1 is conv2.weight conv2d 32×16 rf 9 in the model but t2 conv2d 64×16 rf 9"
        ),
        "{e:?}"
    );
}

#[test]
fn a_missing_layer_is_named() {
    let m = model();
    let b = model()[..2].to_vec();
    let e = match_rows(&m, &b).unwrap_err();
    assert!(
        e[0].contains("missing from the baseline: fc.weight"),
        "{e:?}"
    );
    assert!(
        e.last()
            .unwrap()
            .contains("the model has 3 rows, the baseline 2")
    );
}

#[test]
fn a_name_read_twice_pairs_by_occurrence() {
    // One tensor read as two layers (an embedding tied to the output projection).
    let rows = |first: &str| {
        vec![
            row(first, "embedding", 384, 100, 1),
            row("h.weight", "dense", 384, 384, 1),
            row(first, "dense", 384, 100, 1),
        ]
    };
    let got = match_rows(&rows("tok"), &rows("tok")).unwrap();
    assert_eq!(
        (got.by, got.pairs),
        (MatchedBy::Name, vec![(0, 0), (1, 1), (2, 2)])
    );
    let got = match_rows(&rows("tok_quantized"), &rows("tok")).unwrap();
    assert_eq!(
        (got.by, got.pairs),
        (MatchedBy::Stem, vec![(0, 0), (1, 1), (2, 2)])
    );
}

#[test]
fn quantizer_suffixes_are_matched_by_stem_even_when_reordered() {
    // quantize_dynamic renames `w` to `w_quantized` (`w_Transposed_quantized` for a Gemm weight
    // it transposes) and may reorder same-shaped layers: position would pair them wrongly.
    let m = vec![
        row("conv1.weight_quantized", "conv2d", 16, 3, 9),
        row("fc.weight_Transposed_quantized", "dense", 100, 10, 1),
        row("conv2.weight_quantized", "conv2d", 16, 3, 9),
    ];
    let b = vec![
        row("conv1.weight", "conv2d", 16, 3, 9),
        row("conv2.weight", "conv2d", 16, 3, 9),
        row("fc.weight", "dense", 100, 10, 1),
    ];
    let got = match_rows(&m, &b).unwrap();
    assert_eq!(got.by, MatchedBy::Stem);
    assert_eq!(got.pairs, vec![(0, 0), (1, 2), (2, 1)]);
    let w = got.warning.unwrap();
    assert!(
        w.starts_with("3 of 3 layer names differ from the baseline's only by quantizer suffixes"),
        "{w}"
    );
    assert_eq!(stem("a_quantized:3"), "a:3");
    assert_eq!(stem("x_Transposed_quantized"), "x");
    assert_eq!(stem("plain"), "plain");
}

#[test]
fn a_layer_lost_in_quantization_is_named_not_every_renamed_one() {
    // quantize_dynamic renamed the convs and turned the LSTM into an op tailwatch does not
    // decode: what is missing is the LSTM weight, not the renamed convs.
    let m = vec![
        row("conv1.weight_quantized", "conv2d", 16, 3, 9),
        row("conv2.weight_quantized", "conv2d", 32, 16, 9),
    ];
    let b = vec![
        row("conv1.weight", "conv2d", 16, 3, 9),
        row("conv2.weight", "conv2d", 32, 16, 9),
        row("lstm.weight_ih", "rnn", 128, 32, 4),
    ];
    let e = match_rows(&m, &b).unwrap_err();
    assert_eq!(
        e[0], "1 baseline layer(s) are missing from the model: lstm.weight_ih",
        "{e:?}"
    );
}

#[test]
fn a_real_name_that_looks_like_a_repeat_key_is_not_taken_for_one() {
    // `a#2` is a legal ONNX name. The model reads `a` twice; the baseline also has a layer
    // really named `a#2`: the extra baseline layer must be reported, not paired away.
    let r = |n: &str| row(n, "dense", 8, 8, 1);
    let m = vec![r("a"), r("a")];
    let b = vec![r("a"), r("a"), r("a#2")];
    assert!(match_rows(&m, &b).is_err());
    let b2 = vec![r("a"), r("a#2_quantized"), r("a")];
    assert!(match_rows(&m, &b2).is_err());
    // Same names on both sides pair one to one.
    let same = vec![r("a"), r("a#2"), r("a")];
    let got = match_rows(&same, &same).unwrap();
    assert_eq!(got.pairs, vec![(0, 0), (1, 1), (2, 2)]);
}
