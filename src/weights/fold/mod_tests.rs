use super::shape::{for_each_index, strides, transpose};
use super::shape::{reshape_target, swap_last2, swaps_last_two};
use super::*;
use crate::onnx::dtype::id;

fn d(shape: &[usize], data: &[f64]) -> Dense {
    Dense {
        shape: shape.to_vec(),
        data: data.to_vec(),
        dtype: id::FLOAT,
    }
}

#[test]
fn reshape_rules() {
    assert_eq!(
        reshape_target(&[2, 3, 4], &[0, -1], false).unwrap(),
        vec![2, 12]
    );
    assert_eq!(reshape_target(&[2, 3], &[-1], false).unwrap(), vec![6]);
    assert!(reshape_target(&[2, 3], &[4, -1], false).is_err());
    assert!(reshape_target(&[2, 3], &[-1, -1], false).is_err());
    assert_eq!(reshape_target(&[0, 3], &[0, 3], true).unwrap(), vec![0, 3]);
}

fn pq(axis: i64, block: i64) -> DequantParams {
    DequantParams {
        axis,
        block,
        output: None,
    }
}

#[test]
fn dequant_granularities() {
    let x = d(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    // Per tensor.
    let (s, z) = (d(&[], &[2.0]), d(&[], &[1.0]));
    let y = dequant(x.clone(), Some(&s), Some(&z), &pq(1, 0)).unwrap();
    assert_eq!(y.data, vec![0.0, 2.0, 4.0, 6.0]);
    // Per axis 1 (columns), negative axis.
    let y = dequant(x.clone(), Some(&d(&[2], &[1.0, 10.0])), None, &pq(-1, 0)).unwrap();
    assert_eq!(y.data, vec![1.0, 20.0, 3.0, 40.0]);
    // Blocked along axis 1 with block 2: one scale per row.
    let y = dequant(x.clone(), Some(&d(&[2, 1], &[1.0, 0.5])), None, &pq(1, 2)).unwrap();
    assert_eq!(y.data, vec![1.0, 2.0, 1.5, 2.0]);
    assert!(dequant(x.clone(), Some(&d(&[3], &[1.0; 3])), None, &pq(1, 0)).is_err());
    // A blocked scale of the wrong shape is refused, and the message gives the shape needed.
    let e = dequant(x, Some(&d(&[1, 2], &[1.0, 0.5])), None, &pq(1, 2)).unwrap_err();
    assert!(e.to_string().contains("needs [2, 1]"), "{e}");
}

#[test]
fn dequant_blocked_with_a_padded_last_block_and_zero_points() {
    // 1×5 along axis 1 in blocks of 2: blocks [0,1], [2,3], [4] (the last one padded).
    let x = d(&[1, 5], &[10.0, 11.0, 12.0, 13.0, 14.0]);
    let s = d(&[1, 3], &[1.0, 2.0, 4.0]);
    let z = d(&[1, 3], &[10.0, 12.0, 14.0]);
    let y = dequant(x, Some(&s), Some(&z), &pq(1, 2)).unwrap();
    assert_eq!(y.data, vec![0.0, 1.0, 0.0, 2.0, 0.0]);
}

#[test]
fn dequantize_linear_rounds_as_onnxruntime_does() {
    // float(x − zp)·scale in float32, then to the output type: 3·(1/3 as f32) is not 1 in f64.
    let third = (1.0f32 / 3.0) as f64;
    let x = d(&[1], &[3.0]);
    let s = d(&[], &[third]);
    let exact = dequant(x.clone(), Some(&s), None, &pq(0, 0)).unwrap();
    assert_eq!(exact.data, vec![3.0 * third]);
    let p = DequantParams {
        output: Some(id::FLOAT),
        ..pq(0, 0)
    };
    let f32_rounded = dequant(x.clone(), Some(&s), None, &p).unwrap();
    assert_eq!(f32_rounded.data, vec![(3.0f32 * (1.0f32 / 3.0)) as f64]);
    let p = DequantParams {
        output: Some(id::FLOAT16),
        ..pq(0, 0)
    };
    let y = dequant(x, Some(&s), None, &p).unwrap();
    assert_eq!(y.dtype, id::FLOAT16);
    assert_eq!(y.data, vec![1.0]);
}

#[test]
fn index_walk_and_transpose() {
    let x = d(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(
        transpose(&x, &[1, 0]).data,
        vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
    );
    let mut n = 0;
    for_each_index(&[2, 0, 3], |_| n += 1);
    assert_eq!(n, 0);
    assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
}

#[test]
fn blocked_swap_of_the_last_two_axes_matches_the_index_walk() {
    // Sizes that are not multiples of any block, with a batch axis in front.
    let (b, r, c) = (2, 37, 45);
    let vals: Vec<f64> = (0..b * r * c).map(|i| i as f64).collect();
    let x = d(&[b, r, c], &vals);
    assert!(swaps_last_two(&[0, 2, 1]) && swaps_last_two(&[1, 0]));
    assert!(!swaps_last_two(&[2, 1, 0]) && !swaps_last_two(&[0]));
    let walk = transpose(&x, &[0, 2, 1]);
    let fast = swap_last2(x).unwrap();
    assert_eq!(fast.shape, vec![b, c, r]);
    assert_eq!(fast.shape, walk.shape);
    assert_eq!(fast.data, walk.data);
    assert_eq!(fast.data[1], vals[c]);
}

#[test]
fn one_table_lists_every_foldable_op_once() {
    // The ops of onnx-weights.md §3.3, as the table must list them.
    let mut expected = [
        "Identity",
        "Cast",
        "Transpose",
        "Reshape",
        "Flatten",
        "Squeeze",
        "Unsqueeze",
        "Slice",
        "Concat",
        "Split",
        "Gather",
        "Mul",
        "Div",
        "Add",
        "Sub",
        "DequantizeLinear",
        "DynamicQuantizeLinear",
        "ConstantOfShape",
    ];
    let mut listed: Vec<&str> = OPS.iter().flat_map(|f| f.iter()).map(|d| d.name).collect();
    listed.sort_unstable();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    assert!(expected.iter().all(|op| foldable(op)));
    for op in ["Relu", "MatMul", "Constant", "Conv", "identity", ""] {
        assert!(!foldable(op), "{op}");
    }
}

#[test]
fn axes_are_normalised_or_named_out_of_range() {
    assert_eq!(norm_axes(&[-1, 0], 3).unwrap(), vec![2, 0]);
    assert_eq!(
        norm_axes(&[-4], 3).unwrap_err(),
        "axis -4 is out of range for rank 3"
    );
    assert_eq!(
        norm_axes(&[i64::MIN], 2).unwrap_err(),
        format!("axis {} is out of range for rank 2", i64::MIN)
    );
}

#[test]
fn long_lists_are_cut_in_messages() {
    assert_eq!(show_ints(&[1, -1]), "[1, -1]");
    let long: Vec<i64> = (0..100).collect();
    assert_eq!(show_ints(&long), "[0, 1, 2, 3, 4, 5, 6, 7, … (100 values)]");
}
